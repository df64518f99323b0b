//! Import jobs: IATI files uploaded through the staff workspace and imported in the background.
//!
//! A job row holds what a page needs to show it from any server: its state, the bytes and files
//! done out of the total, and the counts so far; each file of the job points at the import run
//! that recorded it, whose diagnostics are the same the command line prints. The server that
//! took the upload runs the job and writes its progress here as it goes (`updated_at` is its
//! heartbeat); the files themselves go through the same import sessions as `coopfolio import
//! iati`, one transaction per file.

use serde::Serialize;
use serde_json::json;

use crate::clock;
use crate::runs::{signed, unsigned};
use crate::sql::dispatch;
use crate::staff::{write_audit, AuditRecord};
use crate::{ImportRunSummary, Pool, Store, StoreError, StoredDiagnostic};

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportJobState {
    Queued,
    Running,
    /// Every file was read; some may have failed, as their import runs tell.
    Finished,
    /// The job itself could not go on (the database failed, or the upload was unusable).
    Failed,
}

impl ImportJobState {
    pub fn code(self) -> &'static str {
        match self {
            ImportJobState::Queued => "queued",
            ImportJobState::Running => "running",
            ImportJobState::Finished => "finished",
            ImportJobState::Failed => "failed",
        }
    }

    fn from_code(code: &str) -> Option<ImportJobState> {
        [
            ImportJobState::Queued,
            ImportJobState::Running,
            ImportJobState::Finished,
            ImportJobState::Failed,
        ]
        .into_iter()
        .find(|state| state.code() == code)
    }

    /// Whether the job may still change.
    pub fn is_active(self) -> bool {
        matches!(self, ImportJobState::Queued | ImportJobState::Running)
    }
}

/// An import job as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportJob {
    pub id: i64,
    pub created_at: String,
    pub created_by: String,
    pub state: ImportJobState,
    pub bytes_total: u64,
    pub bytes_done: u64,
    pub files_total: u64,
    pub files_done: u64,
    pub files_failed: u64,
    pub activities: u64,
    pub organisations: u64,
    pub transactions: u64,
    pub budgets: u64,
    pub diagnostics: u64,
    /// The last time the running server wrote progress.
    pub updated_at: String,
    pub finished_at: Option<String>,
    /// Why a failed job failed.
    pub message: Option<String>,
}

/// One file of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportJobFile {
    pub position: i64,
    pub file_name: String,
    pub bytes: u64,
    /// The import run that recorded the file, once it has been read.
    pub import_run_id: Option<i64>,
}

impl Store {
    /// Records a new job for files uploaded by `actor` (name and size of each, in order), with
    /// its audit event.
    pub async fn create_import_job(
        &self,
        actor: &str,
        files: &[(String, u64)],
    ) -> Result<i64, StoreError> {
        let operation = "recording an import job";
        let now = clock::utc_now();
        let bytes_total: u64 = files.iter().map(|(_, bytes)| bytes).sum();
        dispatch!(&self.pool, Pool, pool => {
            let mut transaction = pool.begin().await.map_err(StoreError::query(operation))?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO import_job (created_at, created_by, state, bytes_total, files_total, \
                 updated_at) VALUES ($1, $2, 'queued', $3, $4, $1) RETURNING id",
            )
            .bind(&now)
            .bind(actor)
            .bind(signed(bytes_total))
            .bind(files.len() as i64)
            .fetch_one(&mut *transaction)
            .await
            .map_err(StoreError::query(operation))?;
            for (position, (file_name, bytes)) in files.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO import_job_file (job_id, position, file_name, bytes) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(id)
                .bind(position as i64)
                .bind(file_name)
                .bind(signed(*bytes))
                .execute(&mut *transaction)
                .await
                .map_err(StoreError::query(operation))?;
            }
            let key = id.to_string();
            write_audit!(transaction, &AuditRecord {
                actor,
                entity_kind: "import",
                entity_key: &key,
                action: "upload",
                before: None,
                after: Some(json!({
                    "files": files.iter().map(|(name, bytes)| json!({ "file": name, "bytes": bytes })).collect::<Vec<_>>(),
                })),
            }, operation)?;
            transaction.commit().await.map_err(StoreError::query(operation))?;
            Ok(id)
        })
    }

    /// Writes how far a job has come: its state, and the bytes read so far. A job already
    /// finished is left as it is: a progress write that was on its way when the job ended
    /// (a statement cannot be called back once sent) must not make it look running again.
    pub async fn record_import_job_progress(
        &self,
        id: i64,
        state: ImportJobState,
        bytes_done: u64,
    ) -> Result<(), StoreError> {
        let now = clock::utc_now();
        dispatch!(&self.pool, Pool, pool => {
            sqlx::query(
                "UPDATE import_job SET state = $1, bytes_done = $2, updated_at = $3 \
                 WHERE id = $4 AND finished_at IS NULL",
            )
            .bind(state.code())
            .bind(signed(bytes_done))
            .bind(&now)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .map_err(StoreError::query("recording an import job's progress"))
    }

    /// Records that the file at `position` has been read, into the import run `summary`
    /// describes, and adds its counts to the job's.
    pub async fn record_import_job_file(
        &self,
        id: i64,
        position: i64,
        summary: &ImportRunSummary,
        failed: bool,
    ) -> Result<(), StoreError> {
        let operation = "recording an imported file";
        let now = clock::utc_now();
        dispatch!(&self.pool, Pool, pool => {
            let mut transaction = pool.begin().await.map_err(StoreError::query(operation))?;
            sqlx::query("UPDATE import_job_file SET import_run_id = $1 WHERE job_id = $2 AND position = $3")
                .bind(summary.import_run_id)
                .bind(id)
                .bind(position)
                .execute(&mut *transaction)
                .await
                .map_err(StoreError::query(operation))?;
            sqlx::query(
                "UPDATE import_job SET files_done = files_done + 1, files_failed = files_failed + $1, \
                 activities = activities + $2, organisations = organisations + $3, \
                 transactions = transactions + $4, budgets = budgets + $5, \
                 diagnostics = diagnostics + $6, updated_at = $7 WHERE id = $8",
            )
            .bind(i64::from(failed))
            .bind(signed(summary.activities))
            .bind(signed(summary.organisations))
            .bind(signed(summary.transactions))
            .bind(signed(summary.budgets))
            .bind(signed(summary.diagnostics))
            .bind(&now)
            .bind(id)
            .execute(&mut *transaction)
            .await
            .map_err(StoreError::query(operation))?;
            transaction.commit().await.map_err(StoreError::query(operation))
        })
    }

    /// Ends a job as finished or failed (with the reason), with its audit event.
    pub async fn finish_import_job(
        &self,
        id: i64,
        state: ImportJobState,
        message: Option<&str>,
    ) -> Result<(), StoreError> {
        let operation = "finishing an import job";
        let now = clock::utc_now();
        dispatch!(&self.pool, Pool, pool => {
            let mut transaction = pool.begin().await.map_err(StoreError::query(operation))?;
            let row: (String, i64, i64, i64) = sqlx::query_as(
                "UPDATE import_job SET state = $1, finished_at = $2, updated_at = $2, message = $3, \
                 bytes_done = CASE WHEN $1 = 'finished' THEN bytes_total ELSE bytes_done END \
                 WHERE id = $4 RETURNING created_by, files_done, files_failed, activities",
            )
            .bind(state.code())
            .bind(&now)
            .bind(message)
            .bind(id)
            .fetch_one(&mut *transaction)
            .await
            .map_err(StoreError::query(operation))?;
            let key = id.to_string();
            write_audit!(transaction, &AuditRecord {
                actor: &row.0,
                entity_kind: "import",
                entity_key: &key,
                action: "finish",
                before: None,
                after: Some(json!({
                    "state": state.code(),
                    "files": row.1,
                    "files_failed": row.2,
                    "activities": row.3,
                    "message": message,
                })),
            }, operation)?;
            transaction.commit().await.map_err(StoreError::query(operation))
        })
    }

    /// Marks failed every job still queued or running whose `updated_at` is older than
    /// `silent_for`: the server that ran it stopped, since a running job writes its progress
    /// every second or so and after each file. Any server may do this, at start-up and in its
    /// background rounds, as it needs nothing but the rows; the condition sits in the UPDATE
    /// itself, so a job that wrote a heartbeat in the meantime is left alone. Each job marked
    /// gets its audit event; returns their ids.
    pub async fn fail_stale_import_jobs(
        &self,
        silent_for: std::time::Duration,
    ) -> Result<Vec<i64>, StoreError> {
        let operation = "failing import jobs whose server stopped";
        let now_millis = clock::now_millis();
        let now = clock::format_utc(now_millis);
        let cutoff = clock::format_utc(now_millis - silent_for.as_millis() as i64);
        dispatch!(&self.pool, Pool, pool => {
            let mut transaction = pool.begin().await.map_err(StoreError::query(operation))?;
            let failed: Vec<(i64, String)> = sqlx::query_as(
                "UPDATE import_job SET state = 'failed', finished_at = $1, message = $2 \
                 WHERE (state = 'queued' OR state = 'running') AND finished_at IS NULL \
                 AND updated_at < $3 RETURNING id, updated_at",
            )
            .bind(&now)
            .bind(SERVER_STOPPED)
            .bind(&cutoff)
            .fetch_all(&mut *transaction)
            .await
            .map_err(StoreError::query(operation))?;
            for (id, updated_at) in &failed {
                let key = id.to_string();
                write_audit!(transaction, &AuditRecord {
                    actor: "system",
                    entity_kind: "import",
                    entity_key: &key,
                    action: "fail_stale",
                    before: Some(json!({ "updated_at": updated_at })),
                    after: Some(json!({ "state": "failed", "message": SERVER_STOPPED })),
                }, operation)?;
            }
            transaction.commit().await.map_err(StoreError::query(operation))?;
            Ok(failed.into_iter().map(|(id, _)| id).collect())
        })
    }

    /// The latest `limit` jobs, newest first.
    pub async fn import_jobs(&self, limit: i64) -> Result<Vec<ImportJob>, StoreError> {
        let rows: Vec<JobRow> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(&format!("SELECT {JOB_COLUMNS} FROM import_job ORDER BY id DESC LIMIT $1"))
                .bind(limit)
                .fetch_all(pool)
                .await
        })
        .map_err(StoreError::query("listing import jobs"))?;
        rows.into_iter().map(JobRow::into_job).collect()
    }

    /// One job and its files, if it exists.
    pub async fn import_job(
        &self,
        id: i64,
    ) -> Result<Option<(ImportJob, Vec<ImportJobFile>)>, StoreError> {
        let operation = "reading an import job";
        let (row, files): (Option<JobRow>, Vec<JobFileRow>) = dispatch!(&self.pool, Pool, pool => {
            let row: Option<JobRow> =
                sqlx::query_as(&format!("SELECT {JOB_COLUMNS} FROM import_job WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(pool)
                    .await
                    .map_err(StoreError::query(operation))?;
            let files = sqlx::query_as(
                "SELECT position, file_name, bytes, import_run_id FROM import_job_file \
                 WHERE job_id = $1 ORDER BY position",
            )
            .bind(id)
            .fetch_all(pool)
            .await
            .map_err(StoreError::query(operation))?;
            Ok::<_, StoreError>((row, files))
        })?;
        let Some(row) = row else {
            return Ok(None);
        };
        let files = files
            .into_iter()
            .map(
                |(position, file_name, bytes, import_run_id)| ImportJobFile {
                    position,
                    file_name,
                    bytes: unsigned(bytes),
                    import_run_id,
                },
            )
            .collect();
        Ok(Some((row.into_job()?, files)))
    }

    /// The first `limit` diagnostics of an import run, in the order they were reported, and how
    /// many it has in all. A broken file can carry millions; a page shows the first ones.
    pub async fn first_diagnostics(
        &self,
        import_run_id: i64,
        limit: i64,
    ) -> Result<(Vec<StoredDiagnostic>, u64), StoreError> {
        let operation = "reading diagnostics";
        let (ids, total): (Vec<i64>, i64) = dispatch!(&self.pool, Pool, pool => {
            let ids: Vec<i64> = sqlx::query_scalar(
                "SELECT id FROM diagnostic WHERE import_run_id = $1 ORDER BY id LIMIT $2",
            )
            .bind(import_run_id)
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(StoreError::query(operation))?;
            let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM diagnostic WHERE import_run_id = $1")
                .bind(import_run_id)
                .fetch_one(pool)
                .await
                .map_err(StoreError::query(operation))?;
            Ok::<_, StoreError>((ids, total))
        })?;
        let Some(last) = ids.last().copied() else {
            return Ok((Vec::new(), unsigned(total)));
        };
        // The rows themselves come through the one reader of diagnostics, bounded by the
        // last id of the first page so that only that page is read.
        let diagnostics = self.diagnostics_up_to(import_run_id, last).await?;
        Ok((diagnostics, unsigned(total)))
    }
}

/// What a job cut off with its server says.
pub const SERVER_STOPPED: &str =
    "The server stopped during the import; nothing more of it will run. Files already imported stay; upload the rest again.";

/// How long a queued or running job may go without writing progress before it is taken for
/// cut off with its server. A running job writes every second or so (on SQLite, where an
/// import's transaction holds the write lock, at least after each file, and an upload is
/// small enough that one file takes seconds), so minutes of silence mean its server is gone.
pub const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// position, file_name, bytes, import_run_id
type JobFileRow = (i64, String, i64, Option<i64>);

const JOB_COLUMNS: &str = "id, created_at, created_by, state, bytes_total, bytes_done, \
    files_total, files_done, files_failed, activities, organisations, transactions, budgets, \
    diagnostics, updated_at, finished_at, message";

#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    created_at: String,
    created_by: String,
    state: String,
    bytes_total: i64,
    bytes_done: i64,
    files_total: i64,
    files_done: i64,
    files_failed: i64,
    activities: i64,
    organisations: i64,
    transactions: i64,
    budgets: i64,
    diagnostics: i64,
    updated_at: String,
    finished_at: Option<String>,
    message: Option<String>,
}

impl JobRow {
    fn into_job(self) -> Result<ImportJob, StoreError> {
        let state = ImportJobState::from_code(&self.state).ok_or_else(|| {
            StoreError::InvalidStoredValue {
                operation: "reading an import job",
                detail: format!("unknown state '{}' for job {}", self.state, self.id),
            }
        })?;
        Ok(ImportJob {
            id: self.id,
            created_at: self.created_at,
            created_by: self.created_by,
            state,
            bytes_total: unsigned(self.bytes_total),
            bytes_done: unsigned(self.bytes_done),
            files_total: unsigned(self.files_total),
            files_done: unsigned(self.files_done),
            files_failed: unsigned(self.files_failed),
            activities: unsigned(self.activities),
            organisations: unsigned(self.organisations),
            transactions: unsigned(self.transactions),
            budgets: unsigned(self.budgets),
            diagnostics: unsigned(self.diagnostics),
            updated_at: self.updated_at,
            finished_at: self.finished_at,
            message: self.message,
        })
    }
}
