//! Importing one file: an [`ImportSession`] owns one database transaction from the first record
//! to the last, so a file goes in whole or not at all.
//!
//! The session buffers records in batches (a repeat of an identifier within a batch replaces
//! the earlier copy in place) and hands each full batch to one of two writers:
//!
//! - A SQLite database file is written by a thread of its own through rusqlite, one prepared
//!   statement execution per row (`sqlite_import.rs`), while the importer reads on.
//! - PostgreSQL, and SQLite databases in memory (which a second connection cannot see), are
//!   written through the pool's sqlx transaction. sqlx pays a round trip per statement, so
//!   there a batch of activities costs one SELECT (which identifiers exist already), at most
//!   one DELETE (replacing them, children going with them by ON DELETE CASCADE), one
//!   multi-row INSERT into `activity` returning the new ids, and one or two multi-row INSERTs
//!   per child table, each bound while the one before runs.
//!
//! The funding ledger's kind and direction of each transaction type are stated once, in
//! [`TRANSACTION_LEDGER`]. The SQLite writer thread inserts each ledger entry right after its
//! transaction or budget, with the values in hand; the sqlx path derives the entries at commit
//! by one INSERT ... SELECT whose CASEs are built from that table ([`ledger_sql`]). Both record
//! the run's counts with one UPDATE.
//! Both writers also work out what each activity adds to the portfolio rollup (`rollup.rs`),
//! keep it beside the activity, subtract what a replaced activity had added, and apply the
//! file's changes to the rollup just before the commit.
//! The `import_run` row is inserted when the session begins, inside its transaction, so that
//! activities and diagnostics can refer to it; it is invisible to everyone else until commit,
//! which fills in the counts. A process killed mid-file therefore leaves no trace of the file.

use std::collections::{BTreeMap, HashMap};

use coopfolio_iati::model::{Activity, Narrative, Organisation, OrganisationRef, Value};
use coopfolio_iati::{Diagnostic, Severity};

use crate::rollup::{ActivityFacts, BudgetDelta, BudgetFacts, PortfolioDelta};
use crate::runs::{signed, unsigned};
use crate::sql::{self, dispatch, Conn, Param, Rows, StatementCache, Tx};
use crate::sqlite_import::{CommitCounts, Message, SqliteWriter};
use crate::{clock, Backend, Pool, Store, StoreError};

/// Activities per batch. On the sqlx path a batch is about 15 statements whatever its size, so
/// batches must not be tiny; but a file's first batch is written while the reader is still
/// parsing the rest of the file, so they must not be large either: real files often hold only
/// about 100 activities. The SQLite writer thread takes the same batches, one channel hop each.
const ACTIVITY_BATCH: usize = 64;
/// The SQLite writer thread's first batch of a file, each later one twice the last up to
/// [`ACTIVITY_BATCH`]: the thread idled while the first 64 of a file's activities were parsed,
/// most of a typical real file, and the 43 real files imported one after another left it
/// idle two fifths of the time. The sqlx path keeps whole batches, a batch being some 15
/// statements whatever its size.
const FIRST_SQLITE_BATCH: usize = 8;
/// Organisation-file records per batch; they are few and large.
const ORGANISATION_BATCH: usize = 64;
const DIAGNOSTIC_BATCH: usize = 2048;

/// What one import wrote, as recorded in its `import_run` row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportRunSummary {
    pub import_run_id: i64,
    /// Activities of this file now stored (each identifier once).
    pub activities: u64,
    /// Organisation-file records stored.
    pub organisations: u64,
    pub transactions: u64,
    pub budgets: u64,
    pub diagnostics: u64,
    /// Activities that replaced one with the same identifier, stored before or earlier in
    /// this file.
    pub activities_replaced: u64,
}

/// The import of one file, holding its database transaction. Dropping a session without
/// [`commit`](ImportSession::commit) rolls the transaction back.
pub struct ImportSession {
    pool: Pool,
    writer: Writer,
    import_run_id: i64,
    file: String,
    bytes: u64,
    started_at: String,
    activities: Vec<Activity>,
    /// Activities buffered before they are handed to the writer.
    activity_batch: usize,
    /// Where each buffered identifier sits in `activities`, so a repeat replaces it in place.
    activity_positions: HashMap<String, usize>,
    organisations: Vec<Organisation>,
    organisation_positions: HashMap<String, usize>,
    diagnostics: Vec<Diagnostic>,
    /// Repeats replaced within a batch, plus (on the sqlx path) stored activities replaced;
    /// the SQLite writer thread counts the latter itself.
    activities_replaced: u64,
    diagnostics_added: u64,
}

/// Where a session's rows go.
enum Writer {
    /// The session's own sqlx transaction: PostgreSQL, and SQLite in memory.
    Sqlx {
        tx: Tx,
        statements: StatementCache,
        /// What the file's activities change in the portfolio rollup, applied at commit.
        portfolio: PortfolioDelta,
        /// What the activities the file replaced took out of the budget rollup; the rest is
        /// settled at commit ([`BudgetDelta::settle_and_apply`]).
        budget: BudgetDelta,
    },
    /// The rusqlite thread writing a SQLite database file. Dropping it closes its channel,
    /// and the thread rolls back.
    Sqlite(SqliteWriter),
}

/// Inserts a file's run, not yet visible to anyone else; `$1` file, `$2` started at, `$3` bytes.
pub(crate) const BEGIN_RUN_SQL: &str = "INSERT INTO import_run (file, started_at, status, bytes) \
     VALUES ($1, $2, 'ok', $3) RETURNING id";

/// Records a run's counts, of what it left in the database after replacements within the file,
/// and returns them: `$1` the run, `$2` finished at, `$3` activities skipped, `$4` activities
/// replaced, `$5` diagnostics.
pub(crate) const FINISH_RUN_SQL: &str = "UPDATE import_run SET finished_at = $2, status = 'ok', \
     activities = (SELECT COUNT(*) FROM activity WHERE import_run_id = $1), \
     transactions = (SELECT COUNT(*) FROM \"transaction\" t \
      JOIN activity a ON a.id = t.activity_id WHERE a.import_run_id = $1), \
     budgets = (SELECT COUNT(*) FROM budget b \
      JOIN activity a ON a.id = b.activity_id WHERE a.import_run_id = $1), \
     organisations = (SELECT COUNT(*) FROM organisation WHERE import_run_id = $1), \
     activities_skipped = $3, activities_replaced = $4, diagnostics = $5 \
     WHERE id = $1 RETURNING activities, transactions, budgets, organisations";

/// How an organisation-file record meets a stored organisation, returning its id and ref.
/// The record is the organisation's own word, so it overwrites what activity refs said, except
/// where it says nothing.
pub(crate) const ORGANISATION_UPSERT: &str = "ON CONFLICT (ref) DO UPDATE SET \
     type = COALESCE(excluded.type, organisation.type), \
     name = COALESCE(excluded.name, organisation.name), \
     default_currency = excluded.default_currency, default_lang = excluded.default_lang, \
     last_updated = excluded.last_updated, faults = excluded.faults, \
     flagged = excluded.flagged, raw_xml = excluded.raw_xml, \
     import_run_id = excluded.import_run_id RETURNING id, ref";

impl Store {
    /// Starts importing a file: opens its transaction and its (not yet visible) import run.
    pub async fn begin_import(&self, file: &str, bytes: u64) -> Result<ImportSession, StoreError> {
        let operation = "starting an import";
        let started_at = clock::utc_now();
        let (writer, import_run_id) = if let Some(database) = &self.sqlite_file {
            let writer =
                SqliteWriter::begin(&self.import_writer, database, file, bytes, &started_at)
                    .await?;
            let import_run_id = writer.import_run_id();
            (Writer::Sqlite(writer), import_run_id)
        } else {
            let mut tx = match &self.pool {
                Pool::Sqlite(pool) => {
                    Tx::Sqlite(pool.begin().await.map_err(StoreError::query(operation))?)
                }
                Pool::Postgres(pool) => {
                    Tx::Postgres(pool.begin().await.map_err(StoreError::query(operation))?)
                }
            };
            // Being a write, this also takes SQLite's write lock at once, so that a concurrent
            // writer cannot invalidate this transaction's snapshot halfway through the file.
            let import_run_id: i64 = dispatch!(tx.conn(), Conn, connection => {
                sqlx::query_scalar(BEGIN_RUN_SQL)
                    .bind(file)
                    .bind(&started_at)
                    .bind(signed(bytes))
                    .fetch_one(&mut *connection)
                    .await
            })
            .map_err(StoreError::query(operation))?;
            let statements = StatementCache::default();
            (
                Writer::Sqlx {
                    tx,
                    statements,
                    portfolio: PortfolioDelta::default(),
                    budget: BudgetDelta::default(),
                },
                import_run_id,
            )
        };
        let activity_batch = match writer {
            Writer::Sqlite(_) => FIRST_SQLITE_BATCH,
            Writer::Sqlx { .. } => ACTIVITY_BATCH,
        };
        Ok(ImportSession {
            pool: self.pool.clone(),
            writer,
            activity_batch,
            import_run_id,
            file: file.to_owned(),
            bytes,
            started_at,
            activities: Vec::with_capacity(ACTIVITY_BATCH),
            activity_positions: HashMap::with_capacity(ACTIVITY_BATCH),
            organisations: Vec::new(),
            organisation_positions: HashMap::new(),
            diagnostics: Vec::new(),
            activities_replaced: 0,
            diagnostics_added: 0,
        })
    }
}

impl ImportSession {
    pub fn import_run_id(&self) -> i64 {
        self.import_run_id
    }

    /// Adds an activity to the file's import. An activity with the identifier of one added
    /// before (in this file or any earlier) replaces it.
    pub async fn add_activity(&mut self, mut activity: Activity) -> Result<(), StoreError> {
        // Compressed on the importer's side of the batch channel (here, unless the importer's
        // reader did it): the writer is the slower of the two, and the kept XML is most of
        // the pages it writes.
        activity.raw_xml = pack_raw_xml(std::mem::take(&mut activity.raw_xml));
        match self.activity_positions.get(&activity.identifier) {
            Some(&position) => {
                self.activities[position] = activity;
                self.activities_replaced += 1;
            }
            None => {
                self.activity_positions
                    .insert(activity.identifier.clone(), self.activities.len());
                self.activities.push(activity);
            }
        }
        if self.activities.len() >= self.activity_batch {
            self.activity_batch = (self.activity_batch * 2).min(ACTIVITY_BATCH);
            self.flush_activities().await?;
        }
        Ok(())
    }

    /// Adds a record of an organisation file; a later record with the same identifier
    /// replaces the earlier one's names, budgets and XML.
    pub async fn add_organisation(&mut self, organisation: Organisation) -> Result<(), StoreError> {
        match self.organisation_positions.get(&organisation.identifier) {
            Some(&position) => self.organisations[position] = organisation,
            None => {
                self.organisation_positions
                    .insert(organisation.identifier.clone(), self.organisations.len());
                self.organisations.push(organisation);
            }
        }
        if self.organisations.len() >= ORGANISATION_BATCH {
            self.flush_organisations().await?;
        }
        Ok(())
    }

    pub async fn add_diagnostics(&mut self, diagnostics: &[Diagnostic]) -> Result<(), StoreError> {
        self.diagnostics.extend_from_slice(diagnostics);
        self.diagnostics_added += diagnostics.len() as u64;
        if self.diagnostics.len() >= DIAGNOSTIC_BATCH {
            self.flush_diagnostics().await?;
        }
        Ok(())
    }

    /// Writes what is buffered, writes the ledger (sqlx path), records the run and commits the file.
    pub async fn commit(mut self, activities_skipped: u64) -> Result<ImportRunSummary, StoreError> {
        self.flush_activities().await?;
        self.flush_organisations().await?;
        self.flush_diagnostics().await?;
        let import_run_id = self.import_run_id;
        let (mut tx, portfolio, budget) = match self.writer {
            Writer::Sqlite(writer) => {
                let counts = CommitCounts {
                    activities_skipped,
                    activities_replaced: self.activities_replaced,
                    diagnostics: self.diagnostics_added,
                };
                let summary = writer.commit(counts).await?;
                tracing::debug!(?summary, file = %self.file, "import committed");
                return Ok(summary);
            }
            Writer::Sqlx {
                tx,
                portfolio,
                budget,
                ..
            } => (tx, portfolio, budget),
        };
        let mut conn = tx.conn();
        portfolio.apply(conn.reborrow()).await?;
        write_ledger(conn.reborrow(), import_run_id).await?;
        if let Conn::Sqlite(connection) = conn.reborrow() {
            // PostgreSQL maintains its search index itself; SQLite's is filled per file.
            sqlx::query(crate::search::INDEX_IMPORT_RUN_SQL)
                .bind(import_run_id)
                .execute(&mut *connection)
                .await
                .map_err(StoreError::query(
                    "indexing titles and descriptions for search",
                ))?;
        }

        // The one statement both records and returns the counts.
        let operation = "recording an import run";
        let counts: (i64, i64, i64, i64) = dispatch!(conn.reborrow(), Conn, connection => {
            sqlx::query_as(FINISH_RUN_SQL)
                .bind(import_run_id)
                .bind(clock::utc_now())
                .bind(signed(activities_skipped))
                .bind(signed(self.activities_replaced))
                .bind(signed(self.diagnostics_added))
                .fetch_one(&mut *connection)
                .await
        })
        .map_err(StoreError::query(operation))?;
        // Last before the commit, as it takes the budget rollup's lock on PostgreSQL.
        budget
            .settle_and_apply(conn.reborrow(), import_run_id)
            .await?;
        let summary = ImportRunSummary {
            import_run_id,
            activities: unsigned(counts.0),
            transactions: unsigned(counts.1),
            budgets: unsigned(counts.2),
            organisations: unsigned(counts.3),
            diagnostics: self.diagnostics_added,
            activities_replaced: self.activities_replaced,
        };

        let operation = "committing an import";
        match tx {
            Tx::Sqlite(transaction) => transaction.commit().await,
            Tx::Postgres(transaction) => transaction.commit().await,
        }
        .map_err(StoreError::query(operation))?;
        tracing::debug!(?summary, file = %self.file, "import committed");
        Ok(summary)
    }

    /// Rolls back everything of this file, then records the failed run with its fatal
    /// diagnostic in a short transaction of its own.
    pub async fn fail(self, fatal: &Diagnostic) -> Result<ImportRunSummary, StoreError> {
        let operation = "rolling back a failed import";
        match self.writer {
            Writer::Sqlite(writer) => writer.rollback().await?,
            Writer::Sqlx { tx, .. } => match tx {
                Tx::Sqlite(transaction) => transaction.rollback().await,
                Tx::Postgres(transaction) => transaction.rollback().await,
            }
            .map_err(StoreError::query(operation))?,
        }

        let operation = "recording a failed import run";
        let message = fatal.to_string();
        let mut tx = match &self.pool {
            Pool::Sqlite(pool) => {
                Tx::Sqlite(pool.begin().await.map_err(StoreError::query(operation))?)
            }
            Pool::Postgres(pool) => {
                Tx::Postgres(pool.begin().await.map_err(StoreError::query(operation))?)
            }
        };
        let import_run_id: i64 = dispatch!(tx.conn(), Conn, connection => {
            sqlx::query_scalar(
                "INSERT INTO import_run (file, started_at, finished_at, status, bytes, diagnostics, \
                 message) VALUES ($1, $2, $3, 'failed', $4, 1, $5) RETURNING id",
            )
            .bind(&self.file)
            .bind(&self.started_at)
            .bind(clock::utc_now())
            .bind(signed(self.bytes))
            .bind(&message)
            .fetch_one(&mut *connection)
            .await
        })
        .map_err(StoreError::query(operation))?;
        let mut rows = diagnostic_rows();
        push_diagnostic(&mut rows, import_run_id, fatal.clone());
        let mut statements = StatementCache::default();
        sql::insert(tx.conn(), &mut statements, rows, operation).await?;
        match tx {
            Tx::Sqlite(transaction) => transaction.commit().await,
            Tx::Postgres(transaction) => transaction.commit().await,
        }
        .map_err(StoreError::query(operation))?;
        Ok(ImportRunSummary {
            import_run_id,
            activities: 0,
            organisations: 0,
            transactions: 0,
            budgets: 0,
            diagnostics: 1,
            activities_replaced: 0,
        })
    }

    async fn flush_activities(&mut self) -> Result<(), StoreError> {
        if self.activities.is_empty() {
            return Ok(());
        }
        let activities = std::mem::take(&mut self.activities);
        self.activity_positions.clear();
        match &mut self.writer {
            Writer::Sqlite(writer) => writer.send(Message::Activities(activities)).await,
            Writer::Sqlx {
                tx,
                statements,
                portfolio,
                budget,
            } => {
                self.activities_replaced += write_activities(
                    tx.conn(),
                    statements,
                    (portfolio, budget),
                    self.import_run_id,
                    activities,
                )
                .await?;
                Ok(())
            }
        }
    }

    async fn flush_organisations(&mut self) -> Result<(), StoreError> {
        if self.organisations.is_empty() {
            return Ok(());
        }
        let organisations = std::mem::take(&mut self.organisations);
        self.organisation_positions.clear();
        match &mut self.writer {
            Writer::Sqlite(writer) => writer.send(Message::Organisations(organisations)).await,
            Writer::Sqlx { tx, statements, .. } => {
                write_organisations(tx.conn(), statements, self.import_run_id, organisations).await
            }
        }
    }

    async fn flush_diagnostics(&mut self) -> Result<(), StoreError> {
        if self.diagnostics.is_empty() {
            return Ok(());
        }
        let diagnostics = std::mem::take(&mut self.diagnostics);
        match &mut self.writer {
            Writer::Sqlite(writer) => writer.send(Message::Diagnostics(diagnostics)).await,
            Writer::Sqlx { tx, statements, .. } => {
                let mut rows = diagnostic_rows();
                for diagnostic in diagnostics {
                    push_diagnostic(&mut rows, self.import_run_id, diagnostic);
                }
                sql::insert(tx.conn(), statements, rows, "storing diagnostics").await?;
                Ok(())
            }
        }
    }
}

/// Writes a batch of activities through a sqlx transaction and returns how many stored ones
/// it replaced.
pub(crate) async fn write_activities(
    mut conn: Conn<'_>,
    statements: &mut StatementCache,
    (portfolio, budget): (&mut PortfolioDelta, &mut BudgetDelta),
    import_run_id: i64,
    mut activities: Vec<Activity>,
) -> Result<u64, StoreError> {
    let backend = conn.backend();
    // Whether an activity's budgets count depends on other activities (its parents), which a
    // concurrent import may be writing. That is settled at commit, under the budget rollup's
    // lock (`BudgetDelta::settle_and_apply`), not here: imports write their activities side by
    // side and take turns only for the last statements before their commits.

    let identifiers: Vec<String> = activities
        .iter()
        .map(|activity| activity.identifier.clone())
        .collect();
    let (replaced, replaced_facts) =
        delete_existing_activities(conn.reborrow(), &identifiers).await?;
    for (facts, budget_facts, budget_counted) in &replaced_facts {
        if let Some(facts) = facts {
            portfolio.subtract(&ActivityFacts::from_json(facts, "replacing activities")?);
        }
        if *budget_counted {
            budget.stored(budget_facts.as_deref(), -1, "replacing activities")?;
        }
    }
    let mut hand_set = hand_set_areas(conn.reborrow(), &identifiers).await?;

    // The activity rows take the scalar fields; the rest stays behind for the children.
    let mut activity_rows = Rows::new("activity", ACTIVITY_COLUMNS);
    let mut organisation_refs = OrganisationRefs::default();
    for activity in &mut activities {
        let start_date = first_date(activity, &["2", "1"]).map(str::to_owned);
        let end_date = first_date(activity, &["4", "3"]).map(str::to_owned);
        let facts = ActivityFacts::of(
            activity,
            start_date.as_deref(),
            end_date.as_deref(),
            hand_set.remove(&activity.identifier).unwrap_or_default(),
        );
        portfolio.add(&facts);
        // The budgets join the rollup at commit, once the parent rule is settled.
        let budget_facts = BudgetFacts::of_activity(activity);
        let (reporting_org_ref, reporting_org_type, reporting_org_name) =
            organisation_ref_params(activity.reporting_org.take(), &mut organisation_refs);
        activity_rows.push_row([
            Param::text(activity.identifier.clone()),
            reporting_org_ref,
            reporting_org_type,
            reporting_org_name,
            Param::Text(activity.default_currency.take()),
            Param::Text(activity.default_lang.take()),
            Param::Integer(activity.hierarchy),
            Param::Text(activity.status.take()),
            Param::Text(start_date),
            Param::Text(end_date),
            Param::Text(activity.collaboration_type.take()),
            Param::Text(activity.default_flow_type.take()),
            Param::Text(activity.default_finance_type.take()),
            Param::Text(activity.default_tied_status.take()),
            Param::Boolean(activity.humanitarian),
            Param::Text(activity.last_updated.take()),
            Param::Integer(Some(i64::from(activity.faults))),
            Param::Boolean(Some(activity.faults > 0)),
            Param::Integer(Some(import_run_id)),
            Param::text(facts.to_json()),
            Param::Text(budget_facts.as_ref().map(BudgetFacts::to_json)),
        ]);
    }
    let activity_statements = sql::plan(
        backend,
        statements,
        activity_rows,
        "RETURNING id, iati_identifier",
    );

    // The children are built while the database inserts the activities, each with its
    // activity's place in the batch standing in for the id it is about to get.
    let inserting = sql::run_returning(
        conn.reborrow(),
        statements,
        activity_statements,
        "inserting activities",
    );
    let building = async {
        let mut children = ActivityChildren::default();
        for (index, activity) in activities.into_iter().enumerate() {
            children.push(index as i64, activity, &mut organisation_refs);
        }
        children
    };
    let (returned, children) = tokio::join!(inserting, building);
    // RETURNING promises no order, so ids are matched by identifier.
    let returned: HashMap<String, i64> = returned?
        .into_iter()
        .map(|(id, identifier)| (identifier, id))
        .collect();
    let mut ids = Vec::with_capacity(identifiers.len());
    for identifier in &identifiers {
        let Some(&id) = returned.get(identifier) else {
            return Err(StoreError::InvalidStoredValue {
                operation: "inserting activities",
                detail: format!("no id returned for activity {identifier}"),
            });
        };
        ids.push(id);
    }

    let mut child_statements = Vec::new();
    for mut rows in children.into_rows() {
        rows.map_first_column(|index| match index {
            Param::Integer(Some(index)) => Param::Integer(Some(ids[index as usize])),
            other => other,
        });
        child_statements.extend(sql::plan(backend, statements, rows, ""));
    }
    child_statements.extend(organisation_refs.plan(backend, statements));
    sql::run(
        conn,
        statements,
        child_statements,
        "inserting activity details",
    )
    .await?;
    Ok(replaced)
}

/// Writes a batch of organisation-file records through a sqlx transaction.
async fn write_organisations(
    mut conn: Conn<'_>,
    statements: &mut StatementCache,
    import_run_id: i64,
    organisations: Vec<Organisation>,
) -> Result<(), StoreError> {
    let mut organisation_rows = Rows::new("organisation", ORGANISATION_COLUMNS);
    let mut organisations = organisations;
    for organisation in &mut organisations {
        // The record's type is the one its reporting-org gives itself.
        let kind = organisation
            .reporting_org
            .as_ref()
            .filter(|reporting| {
                reporting.reference.as_deref() == Some(organisation.identifier.as_str())
            })
            .and_then(|reporting| reporting.kind.clone());
        organisation_rows.push_row([
            Param::text(organisation.identifier.clone()),
            Param::Text(kind),
            Param::Text(organisation.names.first().map(|name| name.text.clone())),
            Param::Text(organisation.default_currency.take()),
            Param::Text(organisation.default_lang.take()),
            Param::Text(organisation.last_updated.take()),
            Param::Integer(Some(i64::from(organisation.faults))),
            Param::Boolean(Some(organisation.faults > 0)),
            Param::Blob(Some(std::mem::take(&mut organisation.raw_xml))),
            Param::Integer(Some(import_run_id)),
        ]);
    }
    let returned = sql::insert_returning(
        conn.reborrow(),
        statements,
        organisation_rows,
        ORGANISATION_UPSERT,
        "storing organisations",
    )
    .await?;
    let ids: HashMap<String, i64> = returned
        .into_iter()
        .map(|(id, reference)| (reference, id))
        .collect();

    // A record seen before brings its names and budgets anew.
    let id_list: Vec<i64> = ids.values().copied().collect();
    for table in ["organisation_name", "organisation_budget"] {
        let sql = format!(
            "DELETE FROM {table} WHERE organisation_id IN ({})",
            sql::placeholders(conn.backend(), id_list.len())
        );
        dispatch!(conn.reborrow(), Conn, connection => {
            let mut query = sqlx::query(&sql);
            for id in &id_list {
                query = query.bind(*id);
            }
            query.execute(&mut *connection).await.map(|done| done.rows_affected())
        })
        .map_err(StoreError::query("replacing organisation details"))?;
    }

    let mut names = Rows::new("organisation_name", &["organisation_id", "lang", "text"]);
    let mut budgets = Rows::new("organisation_budget", ORGANISATION_BUDGET_COLUMNS);
    for organisation in organisations {
        let Some(&organisation_id) = ids.get(&organisation.identifier) else {
            continue;
        };
        for name in organisation.names {
            names.push_row([
                Param::Integer(Some(organisation_id)),
                Param::Text(name.lang),
                Param::text(name.text),
            ]);
        }
        for line in organisation
            .budgets
            .into_iter()
            .chain(organisation.expenditures)
        {
            let [value, currency, value_date] = value_params(line.value);
            budgets.push_row([
                Param::Integer(Some(organisation_id)),
                Param::text(line.element),
                Param::Text(line.status),
                Param::Text(line.period_start),
                Param::Text(line.period_end),
                value,
                currency,
                value_date,
                Param::Text(line.recipient),
            ]);
        }
    }
    for rows in [names, budgets] {
        if !rows.is_empty() {
            sql::insert(
                conn.reborrow(),
                statements,
                rows,
                "storing organisation details",
            )
            .await?;
        }
    }
    Ok(())
}

/// The policy areas set by hand for the batch's identifiers.
async fn hand_set_areas(
    mut conn: Conn<'_>,
    identifiers: &[String],
) -> Result<HashMap<String, Vec<String>>, StoreError> {
    let sql = format!(
        "SELECT activity_identifier, policy_area FROM activity_policy_area \
         WHERE activity_identifier IN ({})",
        sql::placeholders(conn.backend(), identifiers.len())
    );
    let rows: Vec<(String, String)> = dispatch!(conn.reborrow(), Conn, connection => {
        let mut query = sqlx::query_as(&sql);
        for identifier in identifiers {
            query = query.bind(identifier.as_str());
        }
        query.fetch_all(&mut *connection).await
    })
    .map_err(StoreError::query("reading policy areas set by hand"))?;
    let mut areas: HashMap<String, Vec<String>> = HashMap::new();
    for (identifier, area) in rows {
        areas.entry(identifier).or_default().push(area);
    }
    Ok(areas)
}

/// What a replaced activity had added to the rollups: its portfolio facts, its budget facts and
/// whether those counted.
type ReplacedFacts = (Option<String>, Option<String>, bool);

/// Deletes the stored activities that the batch replaces, with all their children and ledger
/// entries, and returns how many there were and what each had added to the portfolio rollup and
/// to the budget rollup (its budget facts, and whether they counted).
/// Most batches replace nothing, which the SELECT finds out cheaply through the unique index.
async fn delete_existing_activities(
    mut conn: Conn<'_>,
    identifiers: &[String],
) -> Result<(u64, Vec<ReplacedFacts>), StoreError> {
    let operation = "replacing activities imported before";
    let sql = format!(
        "SELECT id, rollup_facts, budget_facts, budget_counted FROM activity \
         WHERE iati_identifier IN ({})",
        sql::placeholders(conn.backend(), identifiers.len())
    );
    let existing: Vec<(i64, Option<String>, Option<String>, bool)> =
        dispatch!(conn.reborrow(), Conn, connection => {
            let mut query = sqlx::query_as(&sql);
            for identifier in identifiers {
                query = query.bind(identifier.as_str());
            }
            query.fetch_all(&mut *connection).await
        })
        .map_err(StoreError::query(operation))?;
    if existing.is_empty() {
        return Ok((0, Vec::new()));
    }
    let sql = format!(
        "DELETE FROM activity WHERE id IN ({})",
        sql::placeholders(conn.backend(), existing.len())
    );
    dispatch!(conn, Conn, connection => {
        let mut query = sqlx::query(&sql);
        for (id, ..) in &existing {
            query = query.bind(*id);
        }
        query.execute(&mut *connection).await.map(|done| done.rows_affected())
    })
    .map_err(StoreError::query(operation))?;
    Ok((
        existing.len() as u64,
        existing
            .into_iter()
            .map(|(_, facts, budget_facts, budget_counted)| (facts, budget_facts, budget_counted))
            .collect(),
    ))
}

/// What the funding ledger makes of each IATI transaction type: `(code, kind, direction)`.
/// This table is the only statement of the mapping: the SQLite writer thread reads it through
/// [`ledger_kind`] row by row, and [`ledger_sql`] turns it into the CASEs of the sqlx path.
///
/// Types 1, 11 and 13 (receipt, incoming commitment, incoming pledge) and the repayments,
/// reimbursements and sales of 5, 6, 7 and 9 bring money in; the rest send it out.
const TRANSACTION_LEDGER: [(&str, &str, &str); 13] = [
    ("1", "receipt", "incoming"),
    ("2", "commitment", "outgoing"),
    ("3", "disbursement", "outgoing"),
    ("4", "expenditure", "outgoing"),
    ("5", "other", "incoming"),
    ("6", "other", "incoming"),
    ("7", "other", "incoming"),
    ("8", "other", "outgoing"),
    ("9", "other", "incoming"),
    ("10", "other", "outgoing"),
    ("11", "commitment", "incoming"),
    ("12", "pledge", "outgoing"),
    ("13", "pledge", "incoming"),
];

/// The ledger kind and direction of a transaction type; a type the table does not know is
/// `other`, with no direction.
pub(crate) fn ledger_kind(transaction_type: Option<&str>) -> (&'static str, Option<&'static str>) {
    TRANSACTION_LEDGER
        .iter()
        .find(|(code, _, _)| Some(*code) == transaction_type)
        .map_or(("other", None), |(_, kind, direction)| {
            (*kind, Some(*direction))
        })
}

/// The ledger entry of one amount, as the SQLite writer thread inserts it: a transaction's or a
/// budget's value, currency and date. USD amounts convert at the identity rate; every other
/// currency waits for a rate (`no_rate`), never counted as zero. Returns the USD amount, rate,
/// rate date, rate source and conversion status.
pub(crate) fn ledger_conversion<'a>(
    amount: &'a str,
    currency: Option<&str>,
    date: Option<&'a str>,
) -> (
    Option<&'a str>,
    Option<&'static str>,
    Option<&'a str>,
    Option<&'static str>,
    &'static str,
) {
    match currency {
        Some("USD") => (Some(amount), Some("1"), date, Some("identity"), "converted"),
        Some(_) => (None, None, None, None, "no_rate"),
        None => (None, None, None, None, "no_currency"),
    }
}

/// The columns of a ledger entry, in the order both writers bind them.
pub(crate) const LEDGER_COLUMNS: &[&str] = &[
    "activity_id",
    "source_table",
    "source_id",
    "kind",
    "direction",
    "partner_ref",
    "date",
    "amount",
    "currency",
    "usd_amount",
    "usd_rate",
    "rate_date",
    "rate_source",
    "conversion_status",
];

/// Derives the funding ledger from run `$1`'s transactions and budgets in one INSERT ... SELECT,
/// for the sqlx path: the same entries the SQLite writer thread inserts row by row (see
/// [`ledger_kind`] and [`ledger_conversion`]), with the CASEs built from [`TRANSACTION_LEDGER`].
/// Simple CASEs rather than IN lists, which SQLite evaluates more slowly row by row.
pub(crate) fn ledger_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        let mut kind = String::from("CASE t.type");
        let mut direction = String::from("CASE t.type");
        let mut partner = String::from("CASE t.type");
        for (code, entry_kind, entry_direction) in TRANSACTION_LEDGER {
            kind.push_str(&format!(" WHEN '{code}' THEN '{entry_kind}'"));
            direction.push_str(&format!(" WHEN '{code}' THEN '{entry_direction}'"));
            if entry_direction == "incoming" {
                partner.push_str(&format!(" WHEN '{code}' THEN t.provider_org_ref"));
            }
        }
        kind.push_str(" ELSE 'other' END");
        direction.push_str(" END");
        partner.push_str(" ELSE t.receiver_org_ref END");
        let conversion = |value: &str, currency: &str, date: &str| {
            format!(
                "CASE WHEN {currency} = 'USD' THEN {value} END, \
                 CASE WHEN {currency} = 'USD' THEN 1 END, \
                 CASE WHEN {currency} = 'USD' THEN {date} END, \
                 CASE WHEN {currency} = 'USD' THEN 'identity' END, \
                 CASE WHEN {currency} = 'USD' THEN 'converted' \
                 WHEN {currency} IS NULL THEN 'no_currency' ELSE 'no_rate' END"
            )
        };
        format!(
            "INSERT INTO ledger_entry ({columns}) \
             SELECT t.activity_id, 'transaction', t.id, {kind}, {direction}, {partner}, \
             COALESCE(t.date, t.value_date), t.value, t.currency, {transaction_conversion} \
             FROM \"transaction\" t JOIN activity a ON a.id = t.activity_id \
             WHERE a.import_run_id = $1 AND t.value IS NOT NULL \
             UNION ALL \
             SELECT b.activity_id, 'budget', b.id, 'budget', 'outgoing', NULL, b.period_start, \
             b.value, b.currency, {budget_conversion} \
             FROM budget b JOIN activity a ON a.id = b.activity_id \
             WHERE a.import_run_id = $1 AND b.value IS NOT NULL",
            columns = LEDGER_COLUMNS.join(", "),
            transaction_conversion =
                conversion("t.value", "t.currency", "COALESCE(t.date, t.value_date)"),
            budget_conversion = conversion("b.value", "b.currency", "b.period_start"),
        )
    })
}

pub(crate) async fn write_ledger(mut conn: Conn<'_>, import_run_id: i64) -> Result<(), StoreError> {
    let operation = "writing the funding ledger";
    dispatch!(conn.reborrow(), Conn, connection => {
        sqlx::query(ledger_sql())
            .bind(import_run_id)
            .execute(&mut *connection)
            .await
            .map(|done| done.rows_affected())
    })
    .map_err(StoreError::query(operation))?;
    Ok(())
}

pub(crate) const ACTIVITY_COLUMNS: &[&str] = &[
    "iati_identifier",
    "reporting_org_ref",
    "reporting_org_type",
    "reporting_org_name",
    "default_currency",
    "default_lang",
    "hierarchy",
    "status",
    "start_date",
    "end_date",
    "collaboration_type",
    "default_flow_type",
    "default_finance_type",
    "default_tied_status",
    "humanitarian",
    "last_updated",
    "faults",
    "flagged",
    "import_run_id",
    "rollup_facts",
    "budget_facts",
];

pub(crate) const ORGANISATION_COLUMNS: &[&str] = &[
    "ref",
    "type",
    "name",
    "default_currency",
    "default_lang",
    "last_updated",
    "faults",
    "flagged",
    "raw_xml",
    "import_run_id",
];

pub(crate) const ORGANISATION_BUDGET_COLUMNS: &[&str] = &[
    "organisation_id",
    "element",
    "status",
    "period_start",
    "period_end",
    "value",
    "currency",
    "value_date",
    "recipient",
];

pub(crate) const TRANSACTION_COLUMNS: &[&str] = &[
    "activity_id",
    "ref",
    "type",
    "type_as_written",
    "date",
    "value",
    "currency",
    "value_date",
    "provider_org_ref",
    "provider_org_type",
    "provider_org_name",
    "provider_activity_identifier",
    "receiver_org_ref",
    "receiver_org_type",
    "receiver_org_name",
    "receiver_activity_identifier",
    "description",
    "flow_type",
    "finance_type",
    "tied_status",
    "aid_type",
    "aid_type_vocabulary",
    "humanitarian",
];

pub(crate) const DIAGNOSTIC_COLUMNS: &[&str] = &[
    "import_run_id",
    "severity",
    "code",
    "message",
    "file",
    "line",
    "\"column\"",
    "path",
    "record",
];

/// The columns of the tables both import paths write, named once so that the batched sqlx
/// path and the SQLite writer thread cannot drift apart.
pub(crate) const ACTIVITY_XML_COLUMNS: &[&str] = &["activity_id", "raw_xml"];

/// The first bytes of an activity's XML stored compressed: LZ4 (a block with its length in
/// front) after this mark. A NUL byte never starts well-formed XML, so XML stored as published
/// (by versions before the compression, or an empty document) reads back unchanged.
const PACKED_XML_MARK: &[u8] = b"\0lz4";

/// An activity's XML as it is stored: compressed, a third of its size or less for IATI XML,
/// which halves the pages an import writes and checkpoints. XML packed already is returned as
/// it is, so that an importer can pack on a thread of its own before the session sees it.
pub fn pack_raw_xml(xml: Vec<u8>) -> Vec<u8> {
    if xml.is_empty() || xml.starts_with(PACKED_XML_MARK) {
        return xml;
    }
    // The mark, the length as LZ4's size-prepended format has it, then the block, compressed
    // straight into its place.
    let header = PACKED_XML_MARK.len() + 4;
    let mut packed = vec![0; header + lz4_flex::block::get_maximum_output_size(xml.len())];
    packed[..PACKED_XML_MARK.len()].copy_from_slice(PACKED_XML_MARK);
    packed[PACKED_XML_MARK.len()..header].copy_from_slice(&(xml.len() as u32).to_le_bytes());
    let written = lz4_flex::block::compress_into(&xml, &mut packed[header..])
        .expect("the buffer holds LZ4's largest output for this input");
    packed.truncate(header + written);
    // Records wait in channels by the hundred: each keeps only what it holds (shrinking a
    // block in place, the allocator copies nothing).
    packed.shrink_to_fit();
    packed
}

/// The XML of an activity exactly as published, from the bytes stored in
/// `activity_xml.raw_xml`: every reader of that column goes through here.
pub fn unpack_raw_xml(stored: Vec<u8>) -> Result<Vec<u8>, StoreError> {
    match stored.strip_prefix(PACKED_XML_MARK) {
        None => Ok(stored),
        Some(block) => {
            lz4_flex::decompress_size_prepended(block).map_err(|error| StoreError::Invalid {
                field: "activity_xml.raw_xml",
                message: format!("the stored XML cannot be decompressed: {error}"),
            })
        }
    }
}

pub(crate) const ACTIVITY_NARRATIVE_COLUMNS: &[&str] = &[
    "activity_id",
    "position",
    "element",
    "element_index",
    "description_type",
    "lang",
    "text",
];
pub(crate) const ACTIVITY_DEFAULT_AID_TYPE_COLUMNS: &[&str] =
    &["activity_id", "position", "code", "vocabulary"];
pub(crate) const PARTICIPATING_ORG_COLUMNS: &[&str] = &[
    "activity_id",
    "position",
    "role",
    "type",
    "ref",
    "activity_identifier",
    "crs_channel_code",
    "name",
];
pub(crate) const ACTIVITY_DATE_COLUMNS: &[&str] = &["activity_id", "position", "type", "date"];
pub(crate) const RECIPIENT_COUNTRY_COLUMNS: &[&str] =
    &["activity_id", "position", "code", "percentage"];
pub(crate) const RECIPIENT_REGION_COLUMNS: &[&str] = &[
    "activity_id",
    "position",
    "code",
    "vocabulary",
    "percentage",
];
pub(crate) const SECTOR_COLUMNS: &[&str] = &[
    "activity_id",
    "position",
    "code",
    "vocabulary",
    "percentage",
];
pub(crate) const RELATED_ACTIVITY_COLUMNS: &[&str] =
    &["activity_id", "position", "type", "iati_identifier"];
pub(crate) const BUDGET_COLUMNS: &[&str] = &[
    "activity_id",
    "type",
    "status",
    "period_start",
    "period_end",
    "value",
    "currency",
    "value_date",
];
pub(crate) const ORGANISATION_REF_COLUMNS: &[&str] = &["ref", "type", "name"];

/// The rows of every child table for one batch of activities.
struct ActivityChildren {
    xml: Rows,
    narratives: Rows,
    default_aid_types: Rows,
    participating_orgs: Rows,
    dates: Rows,
    recipient_countries: Rows,
    recipient_regions: Rows,
    sectors: Rows,
    related_activities: Rows,
    budgets: Rows,
    transactions: Rows,
}

impl Default for ActivityChildren {
    fn default() -> Self {
        ActivityChildren {
            xml: Rows::new("activity_xml", ACTIVITY_XML_COLUMNS),
            narratives: Rows::new("activity_narrative", ACTIVITY_NARRATIVE_COLUMNS),
            default_aid_types: Rows::new(
                "activity_default_aid_type",
                ACTIVITY_DEFAULT_AID_TYPE_COLUMNS,
            ),
            participating_orgs: Rows::new("participating_org", PARTICIPATING_ORG_COLUMNS),
            dates: Rows::new("activity_date", ACTIVITY_DATE_COLUMNS),
            recipient_countries: Rows::new("recipient_country", RECIPIENT_COUNTRY_COLUMNS),
            recipient_regions: Rows::new("recipient_region", RECIPIENT_REGION_COLUMNS),
            sectors: Rows::new("sector", SECTOR_COLUMNS),
            related_activities: Rows::new("related_activity", RELATED_ACTIVITY_COLUMNS),
            budgets: Rows::new("budget", BUDGET_COLUMNS),
            transactions: Rows::new("\"transaction\"", TRANSACTION_COLUMNS),
        }
    }
}

impl ActivityChildren {
    fn push(&mut self, activity_id: i64, activity: Activity, refs: &mut OrganisationRefs) {
        let id = || Param::Integer(Some(activity_id));
        self.xml
            .push_row([id(), Param::Blob(Some(activity.raw_xml))]);
        let mut narrative_position = 0_i64;
        let mut next_narrative = || {
            narrative_position += 1;
            Param::Integer(Some(narrative_position - 1))
        };
        for narrative in activity.titles {
            self.narratives.push_row([
                id(),
                next_narrative(),
                Param::text("title"),
                Param::Integer(Some(0)),
                Param::Text(None),
                Param::Text(narrative.lang),
                Param::text(narrative.text),
            ]);
        }
        for (index, description) in activity.descriptions.into_iter().enumerate() {
            for narrative in description.narratives {
                self.narratives.push_row([
                    id(),
                    next_narrative(),
                    Param::text("description"),
                    Param::Integer(Some(index as i64)),
                    Param::Text(description.kind.clone()),
                    Param::Text(narrative.lang),
                    Param::text(narrative.text),
                ]);
            }
        }
        for (position, aid_type) in activity.default_aid_types.into_iter().enumerate() {
            self.default_aid_types.push_row([
                id(),
                position_param(position),
                Param::text(aid_type.code),
                Param::Text(aid_type.vocabulary),
            ]);
        }
        for (position, participating_org) in activity.participating_orgs.into_iter().enumerate() {
            let name = first_text(participating_org.names);
            if let Some(reference) = &participating_org.reference {
                refs.add(
                    reference,
                    participating_org.kind.as_deref(),
                    name.as_deref(),
                );
            }
            self.participating_orgs.push_row([
                id(),
                position_param(position),
                Param::Text(participating_org.role),
                Param::Text(participating_org.kind),
                Param::Text(participating_org.reference),
                Param::Text(participating_org.activity_identifier),
                Param::Text(participating_org.crs_channel_code),
                Param::Text(name),
            ]);
        }
        for (position, date) in activity.dates.into_iter().enumerate() {
            self.dates.push_row([
                id(),
                position_param(position),
                Param::text(date.kind),
                Param::text(date.date),
            ]);
        }
        for (position, country) in activity.recipient_countries.into_iter().enumerate() {
            self.recipient_countries.push_row([
                id(),
                position_param(position),
                Param::text(country.code),
                Param::decimal(country.percentage),
            ]);
        }
        for (position, region) in activity.recipient_regions.into_iter().enumerate() {
            self.recipient_regions.push_row([
                id(),
                position_param(position),
                Param::text(region.code),
                Param::Text(region.vocabulary),
                Param::decimal(region.percentage),
            ]);
        }
        for (position, sector) in activity.sectors.into_iter().enumerate() {
            self.sectors.push_row([
                id(),
                position_param(position),
                Param::text(sector.code),
                Param::Text(sector.vocabulary),
                Param::decimal(sector.percentage),
            ]);
        }
        for (position, related) in activity.related_activities.into_iter().enumerate() {
            self.related_activities.push_row([
                id(),
                position_param(position),
                Param::Text(related.kind),
                Param::text(related.identifier),
            ]);
        }
        for budget in activity.budgets {
            let [value, currency, value_date] = value_params(budget.value);
            self.budgets.push_row([
                id(),
                Param::Text(budget.kind),
                Param::Text(budget.status),
                Param::Text(budget.period_start),
                Param::Text(budget.period_end),
                value,
                currency,
                value_date,
            ]);
        }
        for transaction in activity.transactions {
            let [value, currency, value_date] = value_params(transaction.value);
            let [provider_ref, provider_type, provider_name, provider_activity] =
                transaction_org_params(transaction.provider_org);
            let [receiver_ref, receiver_type, receiver_name, receiver_activity] =
                transaction_org_params(transaction.receiver_org);
            // The first aid type stands for the transaction; the XML keeps any others.
            let (aid_type, aid_type_vocabulary) = transaction
                .aid_types
                .into_iter()
                .next()
                .map_or((None, None), |aid_type| {
                    (Some(aid_type.code), aid_type.vocabulary)
                });
            self.transactions.push_row([
                id(),
                Param::Text(transaction.reference),
                Param::Text(transaction.kind),
                Param::Text(transaction.kind_as_written),
                Param::Text(transaction.date),
                value,
                currency,
                value_date,
                provider_ref,
                provider_type,
                provider_name,
                provider_activity,
                receiver_ref,
                receiver_type,
                receiver_name,
                receiver_activity,
                Param::Text(first_text(transaction.description)),
                Param::Text(transaction.flow_type),
                Param::Text(transaction.finance_type),
                Param::Text(transaction.tied_status),
                Param::Text(aid_type),
                Param::Text(aid_type_vocabulary),
                Param::Boolean(transaction.humanitarian),
            ]);
        }
    }

    fn into_rows(self) -> [Rows; 11] {
        [
            self.xml,
            self.narratives,
            self.default_aid_types,
            self.participating_orgs,
            self.dates,
            self.recipient_countries,
            self.recipient_regions,
            self.sectors,
            self.related_activities,
            self.budgets,
            self.transactions,
        ]
    }
}

/// Organisations met as refs in a batch (reporting and participating orgs), by ref, with the
/// first type and name seen for each. Sorted, so that concurrent PostgreSQL imports inserting
/// the same new organisations do so in one order and cannot deadlock.
#[derive(Default)]
pub(crate) struct OrganisationRefs {
    pub(crate) refs: BTreeMap<String, (Option<String>, Option<String>)>,
}

impl OrganisationRefs {
    pub(crate) fn add(&mut self, reference: &str, kind: Option<&str>, name: Option<&str>) {
        if let Some((known_kind, known_name)) = self.refs.get_mut(reference) {
            if known_kind.is_none() {
                *known_kind = kind.map(str::to_owned);
            }
            if known_name.is_none() {
                *known_name = name.map(str::to_owned);
            }
        } else {
            self.refs.insert(
                reference.to_owned(),
                (kind.map(str::to_owned), name.map(str::to_owned)),
            );
        }
    }

    /// Statements that insert the organisations not yet known.
    ///
    /// Known ones are left as they are, even when this batch knows a type or name they lack:
    /// updating them would lock their rows until the file commits, and on PostgreSQL every
    /// other import naming the same (usually very common) organisations would wait for it.
    /// The organisation's own record, from an organisation file, fills them in.
    fn plan(self, backend: Backend, statements: &mut StatementCache) -> Vec<sql::Statement> {
        let mut rows = Rows::new("organisation", ORGANISATION_REF_COLUMNS);
        for (reference, (kind, name)) in self.refs {
            rows.push_row([Param::text(reference), Param::Text(kind), Param::Text(name)]);
        }
        sql::plan(backend, statements, rows, "ON CONFLICT (ref) DO NOTHING")
    }
}

/// The reporting org's ref, type and name as activity columns, noting the ref as an
/// organisation.
fn organisation_ref_params(
    organisation: Option<OrganisationRef>,
    refs: &mut OrganisationRefs,
) -> (Param, Param, Param) {
    let Some(organisation) = organisation else {
        return (Param::Text(None), Param::Text(None), Param::Text(None));
    };
    let name = first_text(organisation.names);
    if let Some(reference) = &organisation.reference {
        refs.add(reference, organisation.kind.as_deref(), name.as_deref());
    }
    (
        Param::Text(organisation.reference),
        Param::Text(organisation.kind),
        Param::Text(name),
    )
}

/// A provider or receiver org as ref, type, name and activity identifier.
fn transaction_org_params(organisation: Option<OrganisationRef>) -> [Param; 4] {
    match organisation {
        Some(organisation) => [
            Param::Text(organisation.reference),
            Param::Text(organisation.kind),
            Param::Text(first_text(organisation.names)),
            Param::Text(organisation.activity_identifier),
        ],
        None => [
            Param::Text(None),
            Param::Text(None),
            Param::Text(None),
            Param::Text(None),
        ],
    }
}

/// Amount, currency and value date; the amount keeps the scale it was given with.
fn value_params(value: Option<Value>) -> [Param; 3] {
    match value {
        Some(value) => [
            Param::decimal(Some(value.amount)),
            Param::Text(value.currency),
            Param::Text(value.value_date),
        ],
        None => [Param::Decimal(None), Param::Text(None), Param::Text(None)],
    }
}

/// The text of the first narrative: the one shown where a single name fits. Every language
/// stays in the stored XML.
fn first_text(narratives: Vec<Narrative>) -> Option<String> {
    narratives
        .into_iter()
        .next()
        .map(|narrative| narrative.text)
}

/// The date of the first of `kinds` (in order of preference) that the activity gives.
pub(crate) fn first_date<'a>(activity: &'a Activity, kinds: &[&str]) -> Option<&'a str> {
    kinds.iter().find_map(|kind| {
        activity
            .dates
            .iter()
            .find(|date| date.kind == *kind)
            .map(|date| date.date.as_str())
    })
}

fn position_param(position: usize) -> Param {
    Param::Integer(Some(position as i64))
}

fn diagnostic_rows() -> Rows {
    Rows::new("diagnostic", DIAGNOSTIC_COLUMNS)
}

fn push_diagnostic(rows: &mut Rows, import_run_id: i64, diagnostic: Diagnostic) {
    rows.push_row([
        Param::Integer(Some(import_run_id)),
        Param::text(severity_text(diagnostic.severity)),
        Param::text(diagnostic.code),
        Param::text(diagnostic.message),
        Param::text(diagnostic.file),
        Param::Integer(Some(signed(diagnostic.line))),
        Param::Integer(Some(signed(diagnostic.column))),
        Param::text(diagnostic.path),
        Param::Text(diagnostic.record),
    ]);
}

/// A severity as the `diagnostic` table spells it.
pub(crate) fn severity_text(severity: Severity) -> &'static str {
    match severity {
        Severity::Fatal => "fatal",
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

#[cfg(test)]
mod tests {
    use super::{pack_raw_xml, unpack_raw_xml, PACKED_XML_MARK};
    use crate::StoreError;

    #[test]
    fn kept_xml_reads_back_byte_for_byte_and_smaller() {
        let xml = "<iati-activity><iati-identifier>XM-1</iati-identifier>\
                   <title><narrative xml:lang=\"fr\">Été</narrative></title></iati-activity>"
            .repeat(20)
            .into_bytes();
        let packed = pack_raw_xml(xml.clone());
        assert!(
            packed.len() < xml.len() / 4,
            "{} of {}",
            packed.len(),
            xml.len()
        );
        // It keeps no room for the XML it replaced: records wait in channels by the hundred.
        assert!(packed.capacity() < xml.len() / 4, "{}", packed.capacity());
        // Packing what is packed changes nothing: the session packs what a reader has not.
        assert_eq!(pack_raw_xml(packed.clone()), packed);
        // The block is LZ4's size-prepended format after the mark.
        assert_eq!(
            lz4_flex::decompress_size_prepended(&packed[PACKED_XML_MARK.len()..]).unwrap(),
            xml
        );
        assert_eq!(unpack_raw_xml(packed).unwrap(), xml);
        assert!(pack_raw_xml(Vec::new()).is_empty());
        assert!(unpack_raw_xml(Vec::new()).unwrap().is_empty());
    }

    #[test]
    fn xml_stored_before_compression_reads_as_it_was() {
        let xml = b"<iati-activity>stored as published</iati-activity>".to_vec();
        assert_eq!(unpack_raw_xml(xml.clone()).unwrap(), xml);
    }

    #[test]
    fn damaged_compressed_xml_is_an_error_naming_the_column() {
        let mut packed = pack_raw_xml(b"<iati-activity>x</iati-activity>".repeat(10));
        packed.truncate(packed.len() - 5);
        match unpack_raw_xml(packed) {
            Err(StoreError::Invalid { field, .. }) => assert_eq!(field, "activity_xml.raw_xml"),
            other => panic!("expected an error naming the column, got {other:?}"),
        }
    }
}
