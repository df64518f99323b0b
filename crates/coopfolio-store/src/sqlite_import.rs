//! The SQLite import writer: each file's records written through rusqlite, on a thread of its
//! own, one prepared statement execution per row.
//!
//! sqlx's SQLite driver runs every statement as a round trip to its worker thread and copies
//! the arguments into owned buffers on the way; a file of 180,000 rows spent more time in
//! those hops than in SQLite. Here a writer thread owns a rusqlite connection to the same
//! database file and its statements, prepared once. The [`Store`](crate::Store) keeps the
//! thread between files ([`IdleWriter`]), so the files of one command share its connection,
//! page cache and statements; `Store::close` ends it. For each file a [`SqliteWriter`] hands
//! the thread a job; the thread takes SQLite's write lock with `BEGIN IMMEDIATE`, inserts the
//! file's `import_run` row and then receives batches of owned records over a bounded channel.
//! Each row is one `execute`, binding borrowed text and bytes straight from the records; an
//! activity's id is `last_insert_rowid()`. A transaction's or budget's ledger entry is
//! inserted right after it, its kind and direction from `import.rs`'s one table of
//! transaction types, instead of one INSERT ... SELECT at commit that would read back every
//! row just written. The rows are those of the sqlx path in `import.rs` (which PostgreSQL and
//! in-memory SQLite databases still take), so the two write the same database.
//!
//! The thread ends each transaction in one of three ways: a commit message records the run's
//! counts and commits; a rollback message (from `fail`) rolls back; and a channel closed
//! without either (the session was dropped, taking the thread with it) rolls back too. On an
//! error it rolls back at once, reports the error and stops reading, so that the session's next
//! call, or its commit, returns that error. A killed process leaves an uncommitted WAL tail
//! that SQLite ignores, so the database is as it was before the file.

use std::path::PathBuf;
use std::sync::mpsc::{RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use coopfolio_iati::model::{Activity, Narrative, Organisation, Value};
use coopfolio_iati::Diagnostic;
use rusqlite::{named_params, params, Connection, OpenFlags, OptionalExtension, Statement};
use tokio::sync::{mpsc, oneshot};

use crate::import::{
    first_date, ledger_conversion, ledger_kind, severity_text, ImportRunSummary, OrganisationRefs,
    ACTIVITY_COLUMNS, ACTIVITY_DATE_COLUMNS, ACTIVITY_DEFAULT_AID_TYPE_COLUMNS,
    ACTIVITY_NARRATIVE_COLUMNS, ACTIVITY_XML_COLUMNS, BEGIN_RUN_SQL, BUDGET_COLUMNS,
    DIAGNOSTIC_COLUMNS, LEDGER_COLUMNS, ORGANISATION_BUDGET_COLUMNS, ORGANISATION_COLUMNS,
    ORGANISATION_REF_COLUMNS, ORGANISATION_UPSERT, PARTICIPATING_ORG_COLUMNS,
    RECIPIENT_COUNTRY_COLUMNS, RECIPIENT_REGION_COLUMNS, RELATED_ACTIVITY_COLUMNS, SECTOR_COLUMNS,
    TRANSACTION_COLUMNS,
};
use crate::rollup::{
    ActivityFacts, BudgetDelta, BudgetFacts, PortfolioDelta, BUDGET_FLAGS_TO_TURN_SQL, BUDGET_SUMS,
    PARENT, PORTFOLIO_UPSERT,
};
use crate::runs::{signed, unsigned};
use crate::sqlite_statement::{binds, set_lookaside, BorrowingStatement};
use crate::writeback::Writeback;
use crate::StoreError;

/// Batches waiting for the writer thread. One keeps it busy while the session fills the next
/// (the reader's own channel holds more), and a second saved no time measurably but held
/// another 64 activities, about 3 MB, against a memory target of 64 MB.
const BATCHES_IN_FLIGHT: usize = 1;

/// Page cache of the import connection, in KiB (a negative `cache_size`). A file's new pages
/// spill to the WAL whatever the size; the cache need only hold the pages inserts come back to
/// (the identifier index, the ledger's (kind, date) index, the right-most leaf of each table).
/// 8 MB took the same CPU time as the pool's 16 MB on the 49 MB benchmark file and 9 MB less
/// peak memory, which has a target of 64 MB; the cache stays with the thread between files.
const CACHE_KIB: i64 = 8 * 1024;

/// Lookaside slots of the import connection ([`set_lookaside`]): 200 of SQLite's default
/// 1,200 bytes, 240 KB, where the default 40 left each row's cursors to malloc. The writer
/// thread ran 6% fewer instructions on the 49 MB benchmark file (callgrind), as with 500.
/// Only this connection has them: the pool's connections keep SQLite's default, which the
/// 64 MB memory target leaves no room to multiply.
const LOOKASIDE_SLOT_BYTES: i32 = 1200;
const LOOKASIDE_SLOTS: i32 = 200;

/// WAL pages before a commit checkpoints, the pool's (see `Store::connect`): the automatic
/// checkpoint runs on the connection that commits, which is this one, and at SQLite's default
/// of 1,000 pages it copied a folder's shared index pages into the database once per file or
/// two.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 4096;

/// Records the run's end and its counts: those of the rows the writer wrote, but for the
/// organisations, which an activity may only have named.
const FINISH_RUN_SQL: &str = "UPDATE import_run SET finished_at = $2, status = 'ok', \
     activities = $6, transactions = $7, budgets = $8, \
     organisations = (SELECT COUNT(*) FROM organisation WHERE import_run_id = $1), \
     activities_skipped = $3, activities_replaced = $4, diagnostics = $5 \
     WHERE id = $1 RETURNING activities, transactions, budgets, organisations";

/// The rows of a file in the database so far: those it wrote, less those of its activities
/// that a later batch of the same file replaced.
#[derive(Default)]
struct WrittenRows {
    activities: i64,
    transactions: i64,
    budgets: i64,
}

/// What the session sends the writer thread.
pub(crate) enum Message {
    Activities(Vec<Activity>),
    Organisations(Vec<Organisation>),
    Diagnostics(Vec<Diagnostic>),
    Commit(CommitCounts),
    Rollback,
}

/// The counts that only the session knows, for the run's row.
pub(crate) struct CommitCounts {
    pub(crate) activities_skipped: u64,
    /// Activities replaced by a repeat within one batch, which never reached the thread.
    pub(crate) activities_replaced: u64,
    pub(crate) diagnostics: u64,
}

/// How the writer thread ended: the committed run's summary, or `None` after a rollback.
type Outcome = Result<Option<ImportRunSummary>, StoreError>;

/// The writer thread a [`Store`](crate::Store) keeps between imports, so that the files of one
/// command share one thread, one connection (with its page cache) and one set of prepared
/// statements. A session takes it out for its file and puts it back after commit or rollback;
/// a session that finds it out (another import is running) starts a thread of its own, so two
/// imports at once wait for SQLite's write lock as before, never for each other's thread.
#[derive(Clone, Default)]
pub(crate) struct IdleWriter(Arc<Mutex<Option<WriterThread>>>);

impl std::fmt::Debug for IdleWriter {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("IdleWriter")
    }
}

impl IdleWriter {
    fn take(&self) -> Option<WriterThread> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    }

    /// Keeps the thread for the next import; a second one (of concurrent imports) ends.
    fn put_back(&self, thread: WriterThread) {
        let mut slot = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if slot.is_none() {
            *slot = Some(thread);
        }
    }

    /// Ends the idle thread and waits until its connection is closed, so that the pool's last
    /// connection, closing after it, checkpoints the write-ahead log into the database.
    pub(crate) async fn shut_down(&self) {
        if let Some(thread) = self.take() {
            drop(thread.jobs);
            let _ = tokio::task::spawn_blocking(move || thread.handle.join()).await;
        }
    }
}

/// A running writer thread: where to send it files, and its handle.
struct WriterThread {
    jobs: std::sync::mpsc::Sender<Job>,
    handle: std::thread::JoinHandle<()>,
}

impl WriterThread {
    fn spawn(database: PathBuf) -> Result<WriterThread, StoreError> {
        let (jobs, receiver) = std::sync::mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("sqlite-import".into())
            .spawn(move || serve(&database, receiver))
            .map_err(|error| StoreError::Query {
                operation: "starting an import",
                source: sqlx::Error::Io(error),
            })?;
        Ok(WriterThread { jobs, handle })
    }
}

/// One file for the writer thread: its run, and the channels of its session.
struct Job {
    run: RunRow,
    started: oneshot::Sender<i64>,
    receiver: mpsc::Receiver<Message>,
    /// The file's outcome, and whether the thread can take another file.
    outcome: oneshot::Sender<(Outcome, bool)>,
}

/// The session's end of a writer thread.
pub(crate) struct SqliteWriter {
    sender: mpsc::Sender<Message>,
    outcome: oneshot::Receiver<(Outcome, bool)>,
    import_run_id: i64,
    /// The thread, while this session has it; dropping it with the session ends the thread.
    thread: Option<WriterThread>,
    idle: IdleWriter,
}

impl SqliteWriter {
    /// Hands the file to the store's idle writer thread (or a new one), which begins the file's
    /// transaction and inserts its import run, and waits until it has.
    pub(crate) async fn begin(
        idle: &IdleWriter,
        database: &std::path::Path,
        file: &str,
        bytes: u64,
        started_at: &str,
    ) -> Result<SqliteWriter, StoreError> {
        let operation = "starting an import";
        let (sender, receiver) = mpsc::channel(BATCHES_IN_FLIGHT);
        let (started_sender, started) = oneshot::channel();
        let (outcome_sender, mut outcome) = oneshot::channel();
        let mut job = Job {
            run: RunRow {
                file: file.to_owned(),
                started_at: started_at.to_owned(),
                bytes: signed(bytes),
            },
            started: started_sender,
            receiver,
            outcome: outcome_sender,
        };
        // An idle thread that has ended (its connection failed) gives the job back.
        let mut thread = idle.take();
        let thread = loop {
            let candidate = match thread.take() {
                Some(candidate) => candidate,
                None => WriterThread::spawn(database.to_path_buf())?,
            };
            match candidate.jobs.send(job) {
                Ok(()) => break candidate,
                Err(std::sync::mpsc::SendError(returned)) => job = returned,
            }
        };
        let import_run_id = match started.await {
            Ok(import_run_id) => import_run_id,
            // The thread stopped before starting: its outcome says why.
            Err(_) => {
                return Err(match (&mut outcome).await {
                    Ok((Err(error), reusable)) => {
                        if reusable {
                            idle.put_back(thread);
                        }
                        error
                    }
                    _ => crashed(operation),
                })
            }
        };
        Ok(SqliteWriter {
            sender,
            outcome,
            import_run_id,
            thread: Some(thread),
            idle: idle.clone(),
        })
    }

    /// Waits for the file's outcome and gives the thread back to the store if it can take
    /// another file.
    async fn finish(&mut self) -> Option<Outcome> {
        let (outcome, reusable) = (&mut self.outcome).await.ok()?;
        if let (true, Some(thread)) = (reusable, self.thread.take()) {
            self.idle.put_back(thread);
        }
        Some(outcome)
    }

    pub(crate) fn import_run_id(&self) -> i64 {
        self.import_run_id
    }

    /// Hands records to the thread. A thread that stopped on an error has closed its channel,
    /// and its error is returned instead.
    pub(crate) async fn send(&mut self, message: Message) -> Result<(), StoreError> {
        if self.sender.send(message).await.is_ok() {
            return Ok(());
        }
        Err(match self.finish().await {
            Some(Err(error)) => error,
            _ => crashed("writing an import"),
        })
    }

    /// Records the run and commits; returns the run's summary.
    pub(crate) async fn commit(
        mut self,
        counts: CommitCounts,
    ) -> Result<ImportRunSummary, StoreError> {
        self.send(Message::Commit(counts)).await?;
        match self.finish().await {
            Some(Ok(Some(summary))) => Ok(summary),
            Some(Err(error)) => Err(error),
            Some(Ok(None)) | None => Err(crashed("committing an import")),
        }
    }

    /// Rolls the file's transaction back and waits until it is.
    pub(crate) async fn rollback(mut self) -> Result<(), StoreError> {
        self.send(Message::Rollback).await?;
        match self.finish().await {
            Some(Ok(_)) => Ok(()),
            Some(Err(error)) => Err(error),
            None => Err(crashed("rolling back a failed import")),
        }
    }
}

/// The thread died without saying why (it panicked).
fn crashed(operation: &'static str) -> StoreError {
    StoreError::Query {
        operation,
        source: sqlx::Error::WorkerCrashed,
    }
}

/// The `import_run` row inserted when the file's transaction begins.
struct RunRow {
    file: String,
    started_at: String,
    bytes: i64,
}

/// The writer thread's body: opens the connection and prepares the statements once, then
/// writes the files it is sent, one transaction each, until the store lets it go.
fn serve(database: &std::path::Path, jobs: std::sync::mpsc::Receiver<Job>) {
    let Ok(mut job) = jobs.recv() else {
        return;
    };
    let connection = match open(database) {
        Ok(connection) => connection,
        Err(error) => {
            let _ = job
                .outcome
                .send((Err(StoreError::sqlite("starting an import")(error)), false));
            return;
        }
    };
    let mut writer = match Writer::prepare(&connection, database) {
        Ok(writer) => writer,
        Err(error) => {
            let _ = job
                .outcome
                .send((Err(StoreError::sqlite("starting an import")(error)), false));
            return;
        }
    };
    loop {
        let outcome = write_file(&connection, &mut writer, job.run, job.started, job.receiver);
        // A transaction left open (a failed ROLLBACK) would make the next BEGIN fail; this
        // connection then ends with the thread, which rolls the transaction back.
        let reusable = connection.is_autocommit();
        // The session may be gone already; then nobody needs to know.
        let _ = job.outcome.send((outcome, reusable));
        if !reusable {
            return;
        }
        job = match jobs.recv() {
            Ok(next) => next,
            Err(_) => {
                writer.finish(&connection);
                return;
            }
        };
    }
}

/// One file's transaction, from `BEGIN IMMEDIATE` to its end.
fn write_file(
    connection: &Connection,
    writer: &mut Writer<'_>,
    run: RunRow,
    started: oneshot::Sender<i64>,
    mut receiver: mpsc::Receiver<Message>,
) -> Outcome {
    // Being a write lock taken at once, IMMEDIATE makes a concurrent writer wait for this
    // file instead of invalidating its snapshot halfway through.
    let import_run_id = connection.execute_batch("BEGIN IMMEDIATE").and_then(|()| {
        connection.query_row(
            BEGIN_RUN_SQL,
            named_params! {"$1": run.file, "$2": run.started_at, "$3": run.bytes},
            |row| row.get(0),
        )
    });
    let import_run_id = match import_run_id {
        Ok(import_run_id) => import_run_id,
        Err(error) => {
            if !connection.is_autocommit() {
                let _ = connection.execute_batch("ROLLBACK");
            }
            return Err(StoreError::sqlite("starting an import")(error));
        }
    };
    writer.import_run_id = import_run_id;
    writer.activities_replaced = 0;
    writer.portfolio = PortfolioDelta::default();
    writer.budget_rollup = BudgetDelta::default();
    writer.written = WrittenRows::default();
    // Policy areas set by hand are looked up per activity only when any are stored; most
    // databases are imported into before staff set any.
    writer.hand_set_areas_stored = match connection.query_row(
        "SELECT EXISTS (SELECT 1 FROM activity_policy_area)",
        [],
        |row| row.get(0),
    ) {
        Ok(stored) => stored,
        Err(error) => {
            let _ = connection.execute_batch("ROLLBACK");
            return Err(StoreError::sqlite("starting an import")(error));
        }
    };
    if started.send(import_run_id).is_err() {
        // The session was dropped while it waited.
        let _ = connection.execute_batch("ROLLBACK");
        return Ok(None);
    }

    writer.writing(true);
    let outcome = receive(connection, writer, &mut receiver);
    if !matches!(outcome, Ok(Some(_))) {
        // A failed ROLLBACK leaves the transaction open, and the thread ends (see `serve`).
        let _ = connection.execute_batch("ROLLBACK");
    }
    writer.writing(false);
    outcome
}

/// Writes what arrives until a commit or rollback message, or until the session is dropped.
fn receive(
    connection: &Connection,
    writer: &mut Writer<'_>,
    receiver: &mut mpsc::Receiver<Message>,
) -> Outcome {
    while let Some(message) = receiver.blocking_recv() {
        match message {
            Message::Commit(counts) => return writer.commit(connection, counts).map(Some),
            Message::Rollback => return Ok(None),
            // A dropped session leaves batches behind in the channel; none is worth writing.
            _ if receiver.is_closed() => return Ok(None),
            Message::Activities(activities) => {
                writer
                    .activities(connection, &activities)
                    .map_err(StoreError::sqlite("inserting activities"))?;
                writer.retire(activities);
            }
            Message::Organisations(organisations) => writer
                .organisations(connection, &organisations)
                .map_err(StoreError::sqlite("storing organisations"))?,
            Message::Diagnostics(diagnostics) => writer
                .diagnostics(&diagnostics)
                .map_err(StoreError::sqlite("storing diagnostics"))?,
        }
    }
    Ok(None)
}

/// Opens the import's own connection with the pool's settings (see `Store::connect`), but for
/// foreign keys. The journal mode is the database's: WAL, or the rollback journal of a new
/// database being loaded (see `Store::connect_to_load`).
///
/// Foreign keys are not enforced on this connection: with them on, every one of the 190,000
/// rows of the 49 MB benchmark file looked its parent up, a tenth of this thread's
/// instructions, for parents the writer itself has just inserted. What enforcement did for the
/// import beyond that, deleting a replaced activity's rows by ON DELETE CASCADE, the writer does
/// itself with the deletes of [`ActivityDeletes`], which reads them from the schema.
fn open(database: &std::path::Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open_with_flags(
        database,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    set_lookaside(&connection, LOOKASIDE_SLOT_BYTES, LOOKASIDE_SLOTS)?;
    connection.busy_timeout(Duration::from_secs(30))?;
    connection.execute_batch(&format!(
        "PRAGMA foreign_keys = OFF; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY; \
         PRAGMA cache_size = -{CACHE_KIB}; PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES};"
    ))?;
    // A rollback journal deleted at each commit is created again by the next file's, and a
    // new journal costs a sync of its folder. PERSIST keeps the file and zeroes its header
    // at commit: over a folder of 43 files loaded into a new database, its syncs took
    // 207-219 ms against 277-332 ms for TRUNCATE's syncs and truncations (alternating runs;
    // each truncation is a discard on a disk mounted with it). This connection puts DELETE back
    // before it closes ([`Writer::finish`]), which removes the file.
    if journal_mode(&connection)? == "delete" {
        connection.query_row("PRAGMA journal_mode = PERSIST", [], |_| Ok(()))?;
    }
    Ok(connection)
}

/// The connection's journal mode, as SQLite names it ("wal", "delete", "persist"...).
fn journal_mode(connection: &Connection) -> rusqlite::Result<String> {
    connection.query_row("PRAGMA journal_mode", [], |row| row.get(0))
}

/// What the writer thread hands its helper thread, work it takes off the import's slowest
/// thread.
enum Chore {
    /// A written batch, to be freed.
    Free(Vec<Activity>),
    /// Whether the writer is writing (a file's transaction, or a checkpoint): while it is, the
    /// helper starts the writeback of the database's files every [`WRITEBACK_INTERVAL`].
    Writing(bool),
}

/// How often the helper starts the writeback while the writer writes: a 40 MB log is written
/// in about half a second, so each call hands the disk a few hundred kilobytes.
const WRITEBACK_INTERVAL: Duration = Duration::from_millis(4);

/// Starts the writer's helper thread, which frees written batches and starts the writeback of
/// the database's files ([`Writeback`]) while the writer writes; it ends when the writer, and
/// with it the sending end, is dropped.
fn helper_thread(database: &std::path::Path) -> Option<SyncSender<Chore>> {
    let (sender, chores) = std::sync::mpsc::sync_channel::<Chore>(1);
    let mut writeback = Writeback::new(database);
    std::thread::Builder::new()
        .name("sqlite-import-help".into())
        .spawn(move || {
            let mut writing = false;
            loop {
                let chore = if writing {
                    match chores.recv_timeout(WRITEBACK_INTERVAL) {
                        Ok(chore) => Some(chore),
                        Err(RecvTimeoutError::Timeout) => None,
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                } else {
                    match chores.recv() {
                        Ok(chore) => Some(chore),
                        Err(_) => return,
                    }
                };
                match chore {
                    Some(Chore::Free(activities)) => drop(activities),
                    Some(Chore::Writing(now)) => {
                        if now && !writing {
                            writeback.reopen();
                        }
                        writing = now;
                    }
                    None => {}
                }
                if writing {
                    writeback.start();
                }
            }
        })
        .ok()
        .map(|_| sender)
}

/// The statements of one file, prepared once when its thread starts.
struct Writer<'c> {
    import_run_id: i64,
    /// Activities that replaced one stored before this batch.
    activities_replaced: u64,
    /// What the file's activities change in the portfolio rollup, applied at commit.
    portfolio: PortfolioDelta,
    /// What the activities the file replaced took out of the budget rollup; the rest is
    /// settled at commit.
    budget_rollup: BudgetDelta,
    /// Whether any policy area set by hand is stored, read when the file begins.
    hand_set_areas_stored: bool,
    /// The file's rows in the database so far, for its run's counts.
    written: WrittenRows,
    /// An activity's titles and descriptions joined, the document of the search index; kept
    /// between activities for its allocation.
    search_text: String,
    hand_set_areas: Statement<'c>,
    portfolio_upsert: Statement<'c>,
    stored_activity: Statement<'c>,
    parent_stored: Statement<'c>,
    delete_activity: ActivityDeletes<'c>,
    activity: BorrowingStatement<'c>,
    activity_xml: BorrowingStatement<'c>,
    narrative: BorrowingStatement<'c>,
    search_document: BorrowingStatement<'c>,
    default_aid_type: BorrowingStatement<'c>,
    participating_org: BorrowingStatement<'c>,
    date: BorrowingStatement<'c>,
    recipient_country: BorrowingStatement<'c>,
    recipient_region: BorrowingStatement<'c>,
    sector: BorrowingStatement<'c>,
    related_activity: BorrowingStatement<'c>,
    budget: BorrowingStatement<'c>,
    transaction: BorrowingStatement<'c>,
    ledger: BorrowingStatement<'c>,
    organisation_ref: BorrowingStatement<'c>,
    diagnostic: BorrowingStatement<'c>,
    /// The helper thread; `None` if it could not start.
    helper: Option<SyncSender<Chore>>,
}

impl<'c> Writer<'c> {
    fn prepare(
        connection: &'c Connection,
        database: &std::path::Path,
    ) -> rusqlite::Result<Writer<'c>> {
        let insert = |table: &str, columns: &[&str], suffix: &str| {
            BorrowingStatement::prepare(connection, &insert_sql(table, columns, suffix))
        };
        Ok(Writer {
            import_run_id: 0,
            activities_replaced: 0,
            portfolio: PortfolioDelta::default(),
            budget_rollup: BudgetDelta::default(),
            hand_set_areas_stored: false,
            written: WrittenRows::default(),
            search_text: String::new(),
            hand_set_areas: connection.prepare(
                "SELECT policy_area FROM activity_policy_area WHERE activity_identifier = ?1",
            )?,
            portfolio_upsert: connection.prepare(PORTFOLIO_UPSERT)?,
            // What a stored activity added to the portfolio and budget rollups, to be
            // subtracted when a file replaces it. Looked up before deleting, because a DELETE
            // ... RETURNING opens a temporary table on every run, found or not (about 1% of
            // this thread's instructions in a file of new activities).
            stored_activity: connection.prepare(
                "SELECT id, rollup_facts, budget_facts, budget_counted, import_run_id \
                 FROM activity WHERE iati_identifier = ?1",
            )?,
            parent_stored: connection
                .prepare("SELECT 1 FROM activity WHERE iati_identifier = ?1")?,
            delete_activity: ActivityDeletes::prepare(connection)?,
            activity: insert(
                "activity",
                &[ACTIVITY_COLUMNS, &["budget_counted"]].concat(),
                "",
            )?,
            activity_xml: insert("activity_xml", ACTIVITY_XML_COLUMNS, "")?,
            narrative: insert("activity_narrative", ACTIVITY_NARRATIVE_COLUMNS, "")?,
            search_document: insert("activity_search", &["rowid", "text"], "")?,
            default_aid_type: insert(
                "activity_default_aid_type",
                ACTIVITY_DEFAULT_AID_TYPE_COLUMNS,
                "",
            )?,
            participating_org: insert("participating_org", PARTICIPATING_ORG_COLUMNS, "")?,
            date: insert("activity_date", ACTIVITY_DATE_COLUMNS, "")?,
            recipient_country: insert("recipient_country", RECIPIENT_COUNTRY_COLUMNS, "")?,
            recipient_region: insert("recipient_region", RECIPIENT_REGION_COLUMNS, "")?,
            sector: insert("sector", SECTOR_COLUMNS, "")?,
            related_activity: insert("related_activity", RELATED_ACTIVITY_COLUMNS, "")?,
            budget: insert("budget", BUDGET_COLUMNS, "")?,
            transaction: insert("\"transaction\"", TRANSACTION_COLUMNS, "")?,
            ledger: insert("ledger_entry", LEDGER_COLUMNS, "")?,
            organisation_ref: insert(
                "organisation",
                ORGANISATION_REF_COLUMNS,
                "ON CONFLICT (ref) DO NOTHING",
            )?,
            diagnostic: insert("diagnostic", DIAGNOSTIC_COLUMNS, "")?,
            helper: helper_thread(database),
        })
    }

    /// Frees a written batch on the helper thread, or here if that thread is gone. A batch is
    /// some 30,000 allocations made by the reader thread; freeing them took about a tenth of
    /// this thread's time, which is the import's bottleneck, while the other core had time.
    fn retire(&self, activities: Vec<Activity>) {
        // The channel holds one chore: freeing a batch takes far less time than writing the
        // next, so this rarely waits, and at most two batches wait to be freed.
        self.chore(Chore::Free(activities));
    }

    /// Tells the helper thread whether the writer is writing.
    fn writing(&self, writing: bool) {
        self.chore(Chore::Writing(writing));
    }

    fn chore(&self, chore: Chore) {
        if let Some(helper) = &self.helper {
            let _ = helper.send(chore);
        }
    }

    /// Leaves the database's files tidy when the store lets the thread go. In WAL mode it
    /// copies the write-ahead log into the database, with the writeback running: the pool's
    /// last connection checkpoints as it closes, but on a thread of its own with nobody to start
    /// the writeback; after this it finds nothing to copy. PASSIVE: a reader still reading
    /// keeps its pages for the pool's checkpoint. In rollback mode it deletes the emptied
    /// journal ([`open`]).
    fn finish(&self, connection: &Connection) {
        match journal_mode(connection).as_deref() {
            Ok("persist") => {
                let _ = connection.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()));
            }
            _ => {
                self.writing(true);
                let _ = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                self.writing(false);
            }
        }
    }

    /// Writes a batch of activities, none with the identifier of another in the batch.
    fn activities(
        &mut self,
        connection: &Connection,
        activities: &[Activity],
    ) -> rusqlite::Result<()> {
        // Organisation refs are gathered in the sqlx path's order, reporting orgs first, so
        // that the type and name kept for a new organisation are the same on both paths.
        let mut organisation_refs = OrganisationRefs::default();
        for activity in activities {
            if let Some(organisation) = &activity.reporting_org {
                if let Some(reference) = &organisation.reference {
                    organisation_refs.add(
                        reference,
                        organisation.kind.as_deref(),
                        first_text(&organisation.names),
                    );
                }
            }
        }
        for activity in activities {
            let stored = self
                .stored_activity
                .query_row([&activity.identifier], |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, Option<String>>(1)?,
                        row.get::<_, Option<String>>(2)?,
                        row.get::<_, bool>(3)?,
                        row.get::<_, i64>(4)?,
                    ))
                })
                .optional()?;
            if let Some((stored_id, rollup_facts, budget_facts, budget_counted, stored_run)) =
                stored
            {
                let deleted = self.delete_activity.execute(stored_id)?;
                // An activity this file wrote in an earlier batch no longer counts for its run.
                if stored_run == self.import_run_id {
                    self.written.activities -= 1;
                    self.written.transactions -= deleted.transactions;
                    self.written.budgets -= deleted.budgets;
                }
                self.activities_replaced += 1;
                if let Some(facts) = rollup_facts {
                    let facts = ActivityFacts::from_json(&facts, "replacing an activity").map_err(
                        |error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)),
                    )?;
                    self.portfolio.subtract(&facts);
                }
                if budget_counted {
                    self.budget_rollup
                        .stored(budget_facts.as_deref(), -1, "replacing an activity")
                        .map_err(|error| {
                            rusqlite::Error::ToSqlConversionFailure(Box::new(error))
                        })?;
                }
            }
            let hand_set = if self.hand_set_areas_stored {
                self.hand_set_areas
                    .query_map([&activity.identifier], |row| row.get::<_, String>(0))?
                    .collect::<rusqlite::Result<Vec<String>>>()?
            } else {
                Vec::new()
            };
            let start_date = first_date(activity, &["2", "1"]);
            let end_date = first_date(activity, &["4", "3"]);
            let facts = ActivityFacts::of(activity, start_date, end_date, hand_set);
            self.portfolio.add(&facts);
            let budget_facts = BudgetFacts::of_activity(activity);
            // An activity counts when no parent programme of it is stored: written so, with
            // its budgets in the rollup at once, the commit's settling turns only the flags of
            // parents written later in the file or of children stored before (see
            // `settle_budgets`). Written uncounted, every activity was updated again at commit,
            // a second write of every page of the table.
            let mut counted = true;
            for related in &activity.related_activities {
                if related.kind.as_deref() == Some(PARENT)
                    && self.parent_stored.exists([&related.identifier])?
                {
                    counted = false;
                    break;
                }
            }
            if let (true, Some(facts)) = (counted, &budget_facts) {
                self.budget_rollup
                    .add(facts)
                    .map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))?;
            }
            let reporting_org = activity.reporting_org.as_ref();
            self.activity.execute(&binds![
                activity.identifier,
                reporting_org.and_then(|organisation| organisation.reference.as_deref()),
                reporting_org.and_then(|organisation| organisation.kind.as_deref()),
                reporting_org.and_then(|organisation| first_text(&organisation.names)),
                activity.default_currency,
                activity.default_lang,
                activity.hierarchy,
                activity.status,
                start_date,
                end_date,
                activity.collaboration_type,
                activity.default_flow_type,
                activity.default_finance_type,
                activity.default_tied_status,
                activity.humanitarian,
                activity.last_updated,
                i64::from(activity.faults),
                activity.faults > 0,
                self.import_run_id,
                facts.to_json(),
                budget_facts.as_ref().map(BudgetFacts::to_json),
                counted,
            ])?;
            let activity_id = connection.last_insert_rowid();
            self.written.activities += 1;
            self.children(connection, activity_id, activity, &mut organisation_refs)?;
        }
        for (reference, (kind, name)) in &organisation_refs.refs {
            self.organisation_ref
                .execute(&binds![reference, kind, name])?;
        }
        Ok(())
    }

    /// The rows of an activity's repeated elements, as `ActivityChildren::push` builds them.
    fn children(
        &mut self,
        connection: &Connection,
        activity_id: i64,
        activity: &Activity,
        organisation_refs: &mut OrganisationRefs,
    ) -> rusqlite::Result<()> {
        self.activity_xml
            .execute(&binds![activity_id, activity.raw_xml])?;
        // The search document is built from the narratives as they are written, joined as the
        // sqlx path's INSERT ... SELECT joins them at commit (`search::INDEX_IMPORT_RUN_SQL`):
        // written here, the tokenizing happens while the reader still reads, not in the commit
        // at the end.
        self.search_text.clear();
        let mut position = 0_i64;
        for narrative in &activity.titles {
            separate_words(&mut self.search_text, position);
            self.search_text.push_str(&narrative.text);
            self.narrative.execute(&binds![
                activity_id,
                position,
                "title",
                0_i64,
                None::<&str>,
                narrative.lang,
                narrative.text,
            ])?;
            position += 1;
        }
        for (index, description) in activity.descriptions.iter().enumerate() {
            for narrative in &description.narratives {
                separate_words(&mut self.search_text, position);
                self.search_text.push_str(&narrative.text);
                self.narrative.execute(&binds![
                    activity_id,
                    position,
                    "description",
                    index as i64,
                    description.kind,
                    narrative.lang,
                    narrative.text,
                ])?;
                position += 1;
            }
        }
        if position > 0 {
            self.search_document
                .execute(&binds![activity_id, self.search_text.as_str()])?;
        }
        for (position, aid_type) in activity.default_aid_types.iter().enumerate() {
            self.default_aid_type.execute(&binds![
                activity_id,
                position as i64,
                aid_type.code,
                aid_type.vocabulary,
            ])?;
        }
        for (position, organisation) in activity.participating_orgs.iter().enumerate() {
            let name = first_text(&organisation.names);
            if let Some(reference) = &organisation.reference {
                organisation_refs.add(reference, organisation.kind.as_deref(), name);
            }
            self.participating_org.execute(&binds![
                activity_id,
                position as i64,
                organisation.role,
                organisation.kind,
                organisation.reference,
                organisation.activity_identifier,
                organisation.crs_channel_code,
                name,
            ])?;
        }
        for (position, date) in activity.dates.iter().enumerate() {
            self.date
                .execute(&binds![activity_id, position as i64, date.kind, date.date])?;
        }
        for (position, country) in activity.recipient_countries.iter().enumerate() {
            self.recipient_country.execute(&binds![
                activity_id,
                position as i64,
                country.code,
                country.percentage.map(|percentage| percentage.to_string()),
            ])?;
        }
        for (position, region) in activity.recipient_regions.iter().enumerate() {
            self.recipient_region.execute(&binds![
                activity_id,
                position as i64,
                region.code,
                region.vocabulary,
                region.percentage.map(|percentage| percentage.to_string()),
            ])?;
        }
        for (position, sector) in activity.sectors.iter().enumerate() {
            self.sector.execute(&binds![
                activity_id,
                position as i64,
                sector.code,
                sector.vocabulary,
                sector.percentage.map(|percentage| percentage.to_string()),
            ])?;
        }
        for (position, related) in activity.related_activities.iter().enumerate() {
            self.related_activity.execute(&binds![
                activity_id,
                position as i64,
                related.kind,
                related.identifier,
            ])?;
        }
        self.written.budgets += signed(activity.budgets.len() as u64);
        self.written.transactions += signed(activity.transactions.len() as u64);
        for budget in &activity.budgets {
            let (amount, currency, value_date) = value_columns(budget.value.as_ref());
            self.budget.execute(&binds![
                activity_id,
                budget.kind,
                budget.status,
                budget.period_start,
                budget.period_end,
                amount,
                currency,
                value_date,
            ])?;
            if let Some(amount) = &amount {
                let budget_id = connection.last_insert_rowid();
                self.ledger_entry(
                    activity_id,
                    ("budget", budget_id),
                    ("budget", Some("outgoing"), None),
                    budget.period_start.as_deref(),
                    amount,
                    currency,
                )?;
            }
        }
        for transaction in &activity.transactions {
            let (amount, currency, value_date) = value_columns(transaction.value.as_ref());
            let provider = transaction.provider_org.as_ref();
            let receiver = transaction.receiver_org.as_ref();
            // The first aid type stands for the transaction; the XML keeps any others.
            let aid_type = transaction.aid_types.first();
            self.transaction.execute(&binds![
                activity_id,
                transaction.reference,
                transaction.kind,
                transaction.kind_as_written,
                transaction.date,
                amount,
                currency,
                value_date,
                provider.and_then(|organisation| organisation.reference.as_deref()),
                provider.and_then(|organisation| organisation.kind.as_deref()),
                provider.and_then(|organisation| first_text(&organisation.names)),
                provider.and_then(|organisation| organisation.activity_identifier.as_deref()),
                receiver.and_then(|organisation| organisation.reference.as_deref()),
                receiver.and_then(|organisation| organisation.kind.as_deref()),
                receiver.and_then(|organisation| first_text(&organisation.names)),
                receiver.and_then(|organisation| organisation.activity_identifier.as_deref()),
                first_text(&transaction.description),
                transaction.flow_type,
                transaction.finance_type,
                transaction.tied_status,
                aid_type.map(|aid_type| aid_type.code.as_str()),
                aid_type.and_then(|aid_type| aid_type.vocabulary.as_deref()),
                transaction.humanitarian,
            ])?;
            if let Some(amount) = &amount {
                let transaction_id = connection.last_insert_rowid();
                let (kind, direction) = ledger_kind(transaction.kind.as_deref());
                // Money coming in is from its provider; money going out, to its receiver.
                let partner = if direction == Some("incoming") {
                    provider
                } else {
                    receiver
                };
                self.ledger_entry(
                    activity_id,
                    ("transaction", transaction_id),
                    (
                        kind,
                        direction,
                        partner.and_then(|organisation| organisation.reference.as_deref()),
                    ),
                    transaction.date.as_deref().or(value_date),
                    amount,
                    currency,
                )?;
            }
        }
        Ok(())
    }

    /// The ledger entry of a transaction's or budget's amount, written with its source row:
    /// `source` is the source table and row id, `entry` the kind, direction and partner.
    fn ledger_entry(
        &mut self,
        activity_id: i64,
        source: (&str, i64),
        entry: (&str, Option<&str>, Option<&str>),
        date: Option<&str>,
        amount: &str,
        currency: Option<&str>,
    ) -> rusqlite::Result<()> {
        let (usd_amount, usd_rate, rate_date, rate_source, conversion_status) =
            ledger_conversion(amount, currency, date);
        self.ledger.execute(&binds![
            activity_id,
            source.0,
            source.1,
            entry.0,
            entry.1,
            entry.2,
            date,
            amount,
            currency,
            usd_amount,
            usd_rate,
            rate_date,
            rate_source,
            conversion_status,
        ])?;
        Ok(())
    }

    /// Writes a batch of organisation-file records, none with the identifier of another in
    /// the batch. Few files are organisation files, so these statements are prepared per batch
    /// from the connection's cache rather than for every file.
    fn organisations(
        &mut self,
        connection: &Connection,
        organisations: &[Organisation],
    ) -> rusqlite::Result<()> {
        let mut upsert = connection.prepare_cached(&insert_sql(
            "organisation",
            ORGANISATION_COLUMNS,
            ORGANISATION_UPSERT,
        ))?;
        let mut delete_names = connection
            .prepare_cached("DELETE FROM organisation_name WHERE organisation_id = ?1")?;
        let mut delete_budgets = connection
            .prepare_cached("DELETE FROM organisation_budget WHERE organisation_id = ?1")?;
        let mut insert_name = connection.prepare_cached(&insert_sql(
            "organisation_name",
            &["organisation_id", "lang", "text"],
            "",
        ))?;
        let mut insert_budget = connection.prepare_cached(&insert_sql(
            "organisation_budget",
            ORGANISATION_BUDGET_COLUMNS,
            "",
        ))?;
        for organisation in organisations {
            // The record's type is the one its reporting-org gives itself.
            let kind = organisation
                .reporting_org
                .as_ref()
                .filter(|reporting| {
                    reporting.reference.as_deref() == Some(organisation.identifier.as_str())
                })
                .and_then(|reporting| reporting.kind.as_deref());
            let organisation_id: i64 = upsert.query_row(
                params![
                    organisation.identifier,
                    kind,
                    first_text(&organisation.names),
                    organisation.default_currency,
                    organisation.default_lang,
                    organisation.last_updated,
                    i64::from(organisation.faults),
                    organisation.faults > 0,
                    organisation.raw_xml,
                    self.import_run_id,
                ],
                |row| row.get(0),
            )?;
            // A record seen before brings its names and budgets anew.
            delete_names.execute([organisation_id])?;
            delete_budgets.execute([organisation_id])?;
            for name in &organisation.names {
                insert_name.execute(params![organisation_id, name.lang, name.text])?;
            }
            for line in organisation
                .budgets
                .iter()
                .chain(&organisation.expenditures)
            {
                let (amount, currency, value_date) = value_columns(line.value.as_ref());
                insert_budget.execute(params![
                    organisation_id,
                    line.element,
                    line.status,
                    line.period_start,
                    line.period_end,
                    amount,
                    currency,
                    value_date,
                    line.recipient,
                ])?;
            }
        }
        Ok(())
    }

    fn diagnostics(&mut self, diagnostics: &[Diagnostic]) -> rusqlite::Result<()> {
        for diagnostic in diagnostics {
            self.diagnostic.execute(&binds![
                self.import_run_id,
                severity_text(diagnostic.severity),
                diagnostic.code,
                diagnostic.message,
                diagnostic.file,
                signed(diagnostic.line),
                signed(diagnostic.column),
                diagnostic.path,
                diagnostic.record,
            ])?;
        }
        Ok(())
    }

    /// Records the run's counts and commits. The ledger entries and search documents went in
    /// with their activities, and the counts are the writer's own, where the sqlx path counts
    /// the rows at commit, which here read back every page of the file's transactions.
    fn commit(
        &mut self,
        connection: &Connection,
        counts: CommitCounts,
    ) -> Result<ImportRunSummary, StoreError> {
        let activities_replaced = counts.activities_replaced + self.activities_replaced;
        for (key, change) in self.portfolio.take() {
            self.portfolio_upsert
                .execute(params![
                    key.dimension,
                    key.code,
                    key.start_year,
                    key.end_year,
                    key.organisation,
                    change
                ])
                .map_err(StoreError::sqlite("updating the portfolio rollup"))?;
        }
        self.settle_budgets(connection)?;
        let recorded: (i64, i64, i64, i64) = connection
            .query_row(
                FINISH_RUN_SQL,
                named_params! {
                    "$1": self.import_run_id,
                    "$2": crate::clock::utc_now(),
                    "$3": signed(counts.activities_skipped),
                    "$4": signed(activities_replaced),
                    "$5": signed(counts.diagnostics),
                    "$6": self.written.activities,
                    "$7": self.written.transactions,
                    "$8": self.written.budgets,
                },
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .map_err(StoreError::sqlite("recording an import run"))?;
        connection
            .execute_batch("COMMIT")
            .map_err(StoreError::sqlite("committing an import"))?;
        Ok(ImportRunSummary {
            import_run_id: self.import_run_id,
            activities: unsigned(recorded.0),
            transactions: unsigned(recorded.1),
            budgets: unsigned(recorded.2),
            organisations: unsigned(recorded.3),
            diagnostics: counts.diagnostics,
            activities_replaced,
        })
    }
}

impl Writer<'_> {
    /// Settles the parent rule for the file's activities and applies the budget rollup's
    /// changes, as `BudgetDelta::settle_and_apply` does on the sqlx path; SQLite's sums are
    /// read and added in Rust under the write lock this transaction holds.
    fn settle_budgets(&mut self, connection: &Connection) -> Result<(), StoreError> {
        let operation = "counting the budgets of imported activities";
        // Read first, then turned by id: an UPDATE ... RETURNING would hold every row it
        // returns in memory (see BUDGET_FLAGS_TO_TURN_SQL); the ids take 8 bytes each.
        let mut to_turn = Vec::new();
        let mut read = connection
            .prepare_cached(BUDGET_FLAGS_TO_TURN_SQL)
            .map_err(StoreError::sqlite(operation))?;
        let mut rows = read
            .query(named_params! {"$1": self.import_run_id})
            .map_err(StoreError::sqlite(operation))?;
        while let Some(row) = rows.next().map_err(StoreError::sqlite(operation))? {
            let facts: Option<String> = row.get(1).map_err(StoreError::sqlite(operation))?;
            let counted: bool = row.get(2).map_err(StoreError::sqlite(operation))?;
            self.budget_rollup
                .stored(facts.as_deref(), if counted { 1 } else { -1 }, operation)?;
            to_turn.push(
                row.get::<_, i64>(0)
                    .map_err(StoreError::sqlite(operation))?,
            );
        }
        drop(rows);
        let mut turn = connection
            .prepare_cached("UPDATE activity SET budget_counted = NOT budget_counted WHERE id = ?1")
            .map_err(StoreError::sqlite(operation))?;
        for id in to_turn {
            turn.execute([id]).map_err(StoreError::sqlite(operation))?;
        }
        let operation = "updating the budget rollup";
        let mut read = connection
            .prepare_cached(&BUDGET_SUMS.read_sql())
            .map_err(StoreError::sqlite(operation))?;
        let mut upsert = connection
            .prepare_cached(&BUDGET_SUMS.upsert_sql(crate::Backend::Sqlite))
            .map_err(StoreError::sqlite(operation))?;
        for (key, usd, entries) in self.budget_rollup.take() {
            let row = named_params! {
                "$1": key.year,
                "$2": key.organisation,
                "$3": key.conversion_status,
                "$4": key.rate_source,
                "$5": key.usd_scale,
            };
            let stored: Option<(String, i64)> = read
                .query_row(row, |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()
                .map_err(StoreError::sqlite(operation))?;
            let (usd, entries) = match stored {
                Some((stored, count)) => (
                    crate::stats::parse_decimal(&stored, operation)? + usd,
                    count + entries,
                ),
                None => (usd, entries),
            };
            upsert
                .execute(named_params! {
                    "$1": key.year,
                    "$2": key.organisation,
                    "$3": key.conversion_status,
                    "$4": key.rate_source,
                    "$5": key.usd_scale,
                    "$6": usd.to_string(),
                    "$7": entries,
                })
                .map_err(StoreError::sqlite(operation))?;
        }
        Ok(())
    }
}

/// The deletes that take a stored activity out with every row that belongs to it: the rows of
/// each table whose foreign key names `activity` with ON DELETE CASCADE, then the activity.
///
/// The import's connection does not enforce foreign keys (see [`open`]), so the cascade is
/// done here. The tables are read from the schema when the thread starts, so a table a later
/// migration adds is deleted from without a change here; a table that refers to one of those
/// (a grandchild of the activity) would need a delete this does not make, so the thread
/// refuses to start instead.
struct ActivityDeletes<'c> {
    /// Each table's name and its delete.
    children: Vec<(String, Statement<'c>)>,
    activity: Statement<'c>,
}

impl<'c> ActivityDeletes<'c> {
    fn prepare(connection: &'c Connection) -> rusqlite::Result<ActivityDeletes<'c>> {
        let referring = |table: &str| -> rusqlite::Result<Vec<(String, String, String)>> {
            connection
                .prepare(
                    "SELECT m.name, f.\"from\", f.on_delete \
                     FROM sqlite_schema AS m, pragma_foreign_key_list(m.name) AS f \
                     WHERE m.type = 'table' AND f.\"table\" = ?1 ORDER BY m.name",
                )?
                .query_map([table], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
                .collect()
        };
        let mut children = Vec::new();
        for (table, column, on_delete) in referring("activity")? {
            if on_delete != "CASCADE" {
                return Err(schema_error(format!(
                    "{table}.{column} refers to activity without ON DELETE CASCADE"
                )));
            }
            if let Some((grandchild, _, _)) = referring(&table)?.into_iter().next() {
                return Err(schema_error(format!(
                    "{grandchild} refers to {table}, whose rows go with their activity"
                )));
            }
            let delete =
                connection.prepare(&format!("DELETE FROM \"{table}\" WHERE \"{column}\" = ?1"))?;
            children.push((table, delete));
        }
        Ok(ActivityDeletes {
            children,
            activity: connection.prepare("DELETE FROM activity WHERE id = ?1")?,
        })
    }

    /// Deletes the activity and its rows; returns how many transactions and budgets went.
    fn execute(&mut self, activity_id: i64) -> rusqlite::Result<DeletedRows> {
        let mut deleted = DeletedRows::default();
        for (table, delete) in &mut self.children {
            let rows = signed(delete.execute([activity_id])? as u64);
            match table.as_str() {
                "transaction" => deleted.transactions = rows,
                "budget" => deleted.budgets = rows,
                _ => {}
            }
        }
        self.activity.execute([activity_id])?;
        Ok(deleted)
    }
}

/// The transactions and budgets of a deleted activity, for the run's counts.
#[derive(Default)]
struct DeletedRows {
    transactions: i64,
    budgets: i64,
}

/// A schema the import writer cannot keep whole, as an error that names what it found.
fn schema_error(message: String) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(
        format!("the import cannot delete a replaced activity: {message}").into(),
    )
}

/// `INSERT INTO table (a, b) VALUES (?1, ?2) suffix`.
fn insert_sql(table: &str, columns: &[&str], suffix: &str) -> String {
    let placeholders: Vec<String> = (1..=columns.len())
        .map(|index| format!("?{index}"))
        .collect();
    format!(
        "INSERT INTO {table} ({}) VALUES ({}) {suffix}",
        columns.join(", "),
        placeholders.join(", ")
    )
}

/// The space between two narratives of a search document, before every one but the first.
fn separate_words(document: &mut String, position: i64) {
    if position > 0 {
        document.push(' ');
    }
}

/// The text of the first narrative, the one shown where a single name fits.
fn first_text(narratives: &[Narrative]) -> Option<&str> {
    narratives.first().map(|narrative| narrative.text.as_str())
}

/// Amount, currency and value date; the amount keeps the scale it was given with.
fn value_columns(value: Option<&Value>) -> (Option<String>, Option<&str>, Option<&str>) {
    match value {
        Some(value) => (
            Some(value.amount.to_string()),
            value.currency.as_deref(),
            value.value_date.as_deref(),
        ),
        None => (None, None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(sql: &str) -> Connection {
        let connection = Connection::open_in_memory().unwrap();
        connection
            .execute_batch(
                "CREATE TABLE activity (id INTEGER PRIMARY KEY); \
                 CREATE TABLE note (activity_id INTEGER REFERENCES activity (id) ON DELETE CASCADE, \
                 text TEXT);",
            )
            .unwrap();
        connection.execute_batch(sql).unwrap();
        connection
    }

    #[test]
    fn a_replaced_activity_goes_with_the_rows_of_every_table_that_cascades_from_it() {
        let connection = schema(
            "CREATE TABLE link (activity_id INTEGER REFERENCES activity (id) ON DELETE CASCADE); \
             INSERT INTO activity VALUES (1), (2); \
             INSERT INTO note VALUES (1, 'a'), (2, 'b'), (1, 'c'); \
             INSERT INTO link VALUES (1), (2);",
        );
        let mut deletes = ActivityDeletes::prepare(&connection).unwrap();
        assert_eq!(deletes.children.len(), 2);
        deletes.execute(1).unwrap();
        let left: String = connection
            .query_row(
                "SELECT (SELECT group_concat(id) FROM activity) || '|' || \
                 (SELECT group_concat(text) FROM note) || '|' || \
                 (SELECT group_concat(activity_id) FROM link)",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(left, "2|b|2");
    }

    #[test]
    fn a_schema_the_deletes_cannot_keep_whole_is_refused_by_name() {
        let grandchild = schema(
            "CREATE TABLE remark (note_id INTEGER REFERENCES note (rowid) ON DELETE CASCADE);",
        );
        let error = ActivityDeletes::prepare(&grandchild).err().unwrap();
        assert!(
            error.to_string().contains("remark refers to note"),
            "{error}"
        );
        let no_cascade =
            schema("CREATE TABLE mention (activity_id INTEGER REFERENCES activity (id));");
        let error = ActivityDeletes::prepare(&no_cascade).err().unwrap();
        assert!(
            error
                .to_string()
                .contains("mention.activity_id refers to activity without ON DELETE CASCADE"),
            "{error}"
        );
    }
}
