//! Coopfolio's database, the only crate that speaks SQL.
//!
//! One [`Store`] over two backends, picked by the URL's scheme: SQLite (`sqlite://path`,
//! `sqlite::memory:`) for a zero set-up install and PostgreSQL (`postgres://`) when one machine
//! is not enough. Each backend owns its migrations, run at connect. Query texts are shared
//! between backends wherever the two dialects agree, which is nearly everywhere: the store
//! writes `$n` placeholders (sqlx's SQLite driver reads them too), keeps dates as text and
//! money as exact decimals (TEXT in SQLite, NUMERIC in PostgreSQL), never as floats. Only the
//! bulk INSERTs of an import differ, in `sql.rs`: SQLite takes padded multi-row VALUES with `?`
//! placeholders, PostgreSQL one array per column.
//!
//! Importing goes through an [`ImportSession`], one database transaction per file, so that a
//! file either goes in whole or leaves no trace. On a SQLite file the session writes through a
//! rusqlite connection on a thread of its own (`sqlite_import.rs`), one prepared statement per
//! row, because sqlx's driver pays a thread round trip per statement; everything else,
//! PostgreSQL's imports included, goes through sqlx.

// Unsafe code is denied everywhere but in `sqlite_statement`, which binds borrowed values to
// SQLite statements without a copy, and `writeback`, which makes one Linux system call (see
// ARCHITECTURE.md).
#![deny(unsafe_code)]

pub mod api;
pub mod api_token;
mod clock;
pub mod download;
pub mod entities;
mod error;
pub mod export;
pub mod facets;
pub mod figures;
mod import;
pub mod import_job;
pub mod inquiry;
mod map;
pub mod method_text;
pub mod outbox;
pub mod partnership;
pub mod pipeline;
pub mod portal;
pub mod rates;
pub mod records;
mod rollup;
mod runs;
pub mod search;
pub mod settings;
mod sql;
mod sqlite_import;
#[allow(unsafe_code)]
mod sqlite_statement;
pub mod staff;
pub mod staff_links;
pub mod staff_projects;
mod stats;
#[allow(unsafe_code)]
mod writeback;

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::Connection;

pub use error::StoreError;
pub use import::{pack_raw_xml, unpack_raw_xml, ImportRunSummary, ImportSession};
pub use partnership::{PartnershipRecords, PartnershipSummary};
pub use rates::{parse_rates_csv, Converter, RatesFileError, StoredRate};
pub use runs::{ImportRun, StoredDiagnostic};
pub use stats::{Stats, TransactionSum};

use sql::dispatch;

/// The database behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// A handle on the database; cheap to clone, every clone shares one connection pool.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    /// The SQLite database file, which imports write through a connection of their own;
    /// `None` for PostgreSQL and for an in-memory database, which a second connection could
    /// not see.
    sqlite_file: Option<PathBuf>,
    /// The thread that writes imports into `sqlite_file`, kept between files.
    import_writer: sqlite_import::IdleWriter,
    /// Whether the SQLite database is in rollback-journal mode for a load, to be put into WAL
    /// mode when the store closes (see [`Store::connect_to_load`]).
    wal_at_close: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Store {
    /// Opens the database the URL names and brings its schema up to date.
    ///
    /// A SQLite file is created if missing and runs in WAL mode with `synchronous=NORMAL`
    /// (durable at every checkpoint, and a crash never corrupts it), foreign keys enforced and a
    /// busy timeout, so that a second writer waits instead of failing.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Store::open(url, Journal::Wal).await
    }

    /// Opens the database for a command that loads much into it, such as an import.
    ///
    /// A SQLite file that does not exist yet is created in rollback-journal mode, and
    /// [`Store::close`] puts it into WAL mode. In WAL mode every page a transaction writes goes
    /// to the log and is copied into the database file by a checkpoint: on a new database,
    /// where nearly every page is new, that is each page written twice, and a 1 GB import
    /// spent a sixth of its time in the copy. A rollback journal keeps only the pages that
    /// existed before the transaction, so a new page is written once, straight into the
    /// database file; a killed import leaves a journal that the next connection plays back, so
    /// the database is as it was before the file, as in WAL mode. Readers wait while an import
    /// commits, which on a database that did not exist when the command began harms nobody.
    /// An existing database is opened as by [`Store::connect`], in WAL mode: another process
    /// may be reading it. The journal syncs the disk at every commit where WAL mode does not,
    /// so the `import` command opens a new database so only for files of a few MB or more.
    pub async fn connect_to_load(url: &str) -> Result<Store, StoreError> {
        Store::open(url, Journal::RollbackIfNew).await
    }

    async fn open(url: &str, journal: Journal) -> Result<Store, StoreError> {
        let connect_error = |source| StoreError::Connect {
            url: error::redact_url(url),
            source,
        };
        let mut sqlite_file = None;
        let mut wal_at_close = false;
        let pool = if url.starts_with("sqlite:") {
            let mut options = SqliteConnectOptions::from_str(url)
                .map_err(connect_error)?
                .create_if_missing(true)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                // 16 KB pages (for a new database) hold a whole activity's XML without overflow
                // pages and write a quarter as many WAL frames as 4 KB ones. A 16 MB page cache
                // (the default is 2 MB) keeps the indexes an import appends to in memory, and a
                // 64 MB write-ahead log before each automatic checkpoint lets a checkpoint write
                // a page once for many files instead of once for every two. Temporary storage in
                // memory keeps the statement journals of multi-row INSERTs out of temp files.
                .page_size(16_384)
                .pragma("cache_size", "-16384")
                .pragma("wal_autocheckpoint", "4096")
                .pragma("temp_store", "memory");
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            // A new database may be asked for in a folder that does not exist yet, such as
            // `sqlite://data/coopfolio.db` in a fresh checkout.
            let mut folder_lock = None;
            if !in_memory {
                sqlite_file = Some(options.get_filename().to_path_buf());
                let folder = match options.get_filename().parent() {
                    Some(folder) if !folder.as_os_str().is_empty() => folder.to_path_buf(),
                    _ => PathBuf::from("."),
                };
                std::fs::create_dir_all(&folder)
                    .map_err(|error| connect_error(sqlx::Error::Io(error)))?;
                folder_lock = lock_folder(folder).await;
            }
            wal_at_close =
                journal == Journal::RollbackIfNew && !in_memory && !options.get_filename().exists();
            let wal_options = options.clone().journal_mode(SqliteJournalMode::Wal);
            if wal_at_close {
                // The schema goes in through one connection in WAL mode, where the migrations'
                // many small transactions cost no sync each (in rollback mode they took 90
                // syncs), and that connection then leaves WAL mode, which only the one
                // connection to a database may do. The pool, with its journal mode left unset,
                // keeps the file's.
                let mut connection = SqliteConnection::connect_with(&wal_options)
                    .await
                    .map_err(connect_error)?;
                migrate_sqlite(&mut connection).await?;
                sqlx::query("PRAGMA journal_mode = DELETE")
                    .execute(&mut connection)
                    .await
                    .map_err(connect_error)?;
                connection.close().await.map_err(connect_error)?;
            } else {
                options = wal_options;
            }
            let mut pool_options = SqlitePoolOptions::new().max_connections(8);
            // An in-memory database lives only while a connection to it is open, so the pool
            // must never close its last one.
            if in_memory {
                pool_options = pool_options
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None);
            }
            let pool = connect_sqlite_pool(pool_options, options)
                .await
                .map_err(connect_error)?;
            migrate_sqlite(&pool).await?;
            drop(folder_lock);
            Pool::Sqlite(pool)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).map_err(connect_error)?;
            // The pool retries a refused connection until its acquire timeout (30 s); one
            // direct connection first makes a wrong URL or a server that is down fail at once.
            let probe = PgConnection::connect_with(&options)
                .await
                .map_err(connect_error)?;
            probe.close().await.ok();
            let pool = PgPoolOptions::new()
                .max_connections(10)
                .connect_with(options)
                .await
                .map_err(connect_error)?;
            sqlx::migrate!("./migrations/postgres")
                .run(&pool)
                .await
                .map_err(|source| StoreError::Migrate {
                    backend: Backend::Postgres.name(),
                    source,
                })?;
            Pool::Postgres(pool)
        } else {
            return Err(StoreError::UnsupportedUrl {
                url: error::redact_url(url),
            });
        };
        let store = Store {
            pool,
            sqlite_file,
            import_writer: sqlite_import::IdleWriter::default(),
            wal_at_close,
        };
        store.ensure_rollups().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Codelists saved by an earlier refresh, by name, to be used instead of the bundled ones.
    pub async fn codelist_overrides(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as("SELECT name, xml FROM codelist ORDER BY name")
                .fetch_all(pool)
                .await
        })
        .map_err(StoreError::query("reading codelist overrides"))
    }

    /// Saves codelists by name, replacing any saved before, all in one transaction.
    pub async fn save_codelists(&self, lists: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        let operation = "saving codelists";
        let updated_at = clock::utc_now();
        dispatch!(&self.pool, Pool, pool => {
            let mut transaction = pool.begin().await.map_err(StoreError::query(operation))?;
            for (name, xml) in lists {
                sqlx::query(
                    "INSERT INTO codelist (name, xml, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO UPDATE SET xml = excluded.xml, updated_at = excluded.updated_at",
                )
                .bind(name)
                .bind(xml)
                .bind(&updated_at)
                .execute(&mut *transaction)
                .await
                .map_err(StoreError::query(operation))?;
            }
            transaction.commit().await.map_err(StoreError::query(operation))
        })
    }

    /// The XML of an activity exactly as it was published, if the activity is stored.
    pub async fn activity_raw_xml(
        &self,
        iati_identifier: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        dispatch!(&self.pool, Pool, pool => {
            sqlx::query_scalar(
                "SELECT x.raw_xml FROM activity_xml x JOIN activity a ON a.id = x.activity_id \
                 WHERE a.iati_identifier = $1",
            )
                .bind(iati_identifier)
                .fetch_optional(pool)
                .await
        })
        .map_err(StoreError::query("reading an activity's XML"))?
        .map(import::unpack_raw_xml)
        .transpose()
    }

    /// Closes every connection, waiting for those in use to be returned. A database created
    /// by [`Store::connect_to_load`] is put into WAL mode first.
    pub async fn close(&self) {
        self.import_writer.shut_down().await;
        if let (true, Pool::Sqlite(pool)) = (self.wal_at_close, &self.pool) {
            // Should another process hold the database past the busy timeout, the mode stays
            // as it is, and the next store opened by `connect` sets WAL mode.
            let mode = sqlx::query_scalar::<_, String>("PRAGMA journal_mode = WAL")
                .fetch_one(pool)
                .await;
            if !matches!(&mode, Ok(mode) if mode == "wal") {
                tracing::warn!(?mode, "the loaded database could not be put into WAL mode");
            }
        }
        dispatch!(&self.pool, Pool, pool => pool.close().await)
    }
}

/// How long a store waits to open a SQLite database that another process holds locked.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Connects the pool, waiting while another process holds the database locked in a way SQLite's
/// busy timeout does not wait for: a connection that would put the file into WAL mode while
/// another process loads it with a rollback journal (`connect_to_load`) is refused at once,
/// SQLite's way of avoiding a deadlock. It is tried again until the loader lets go, or
/// [`SQLITE_BUSY_TIMEOUT`] has passed.
async fn connect_sqlite_pool(
    pool_options: SqlitePoolOptions,
    options: SqliteConnectOptions,
) -> Result<SqlitePool, sqlx::Error> {
    let started = std::time::Instant::now();
    loop {
        match pool_options.clone().connect_with(options.clone()).await {
            Err(error) if is_busy(&error) && started.elapsed() < SQLITE_BUSY_TIMEOUT => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            connected => return connected,
        }
    }
}

/// SQLITE_BUSY, or one of its extended codes.
fn is_busy(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|error| error.code())
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| code & 0xff == 5)
}

/// Locks the folder of a SQLite database file for as long as the returned file is open, so that
/// processes opening the same new database one moment apart create its schema one after the
/// other: each migration runs in a transaction, but two processes both found the migrations
/// missing, and the second failed on a table the first had just created ("table import_run
/// already exists"). The lock (`flock`) is on the folder, not the database file: closing any
/// descriptor of that file would drop the locks SQLite holds on it in this process. `None`
/// where the folder cannot be locked; the stores then open as before.
async fn lock_folder(folder: PathBuf) -> Option<std::fs::File> {
    let locked = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&folder)?;
        file.lock()?;
        Ok::<_, std::io::Error>(file)
    })
    .await;
    match locked {
        Ok(Ok(file)) => Some(file),
        Ok(Err(error)) => {
            tracing::debug!(%error, "opening a SQLite database without its folder locked");
            None
        }
        Err(_) => None,
    }
}

/// Brings a SQLite database's schema up to date.
async fn migrate_sqlite<'c>(
    connection: impl sqlx::Acquire<'c, Database = sqlx::Sqlite>,
) -> Result<(), StoreError> {
    sqlx::migrate!("./migrations/sqlite")
        .run(connection)
        .await
        .map_err(|source| StoreError::Migrate {
            backend: Backend::Sqlite.name(),
            source,
        })
}

/// The journal a store's SQLite database runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Journal {
    /// WAL mode, which lets readers read while a writer writes.
    Wal,
    /// A new database in rollback-journal mode until the store closes; an existing one as it is.
    RollbackIfNew,
}
