//! Reading back the record of imports: runs, newest first, and the diagnostics of one run.

use crate::sql::dispatch;
use crate::{Pool, Store, StoreError};

/// One import of one file, as recorded when it finished (successfully or not).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportRun {
    pub id: i64,
    pub file: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// `ok` or `failed`.
    pub status: String,
    pub bytes: u64,
    pub activities: u64,
    pub activities_skipped: u64,
    pub activities_replaced: u64,
    pub organisations: u64,
    pub transactions: u64,
    pub budgets: u64,
    pub diagnostics: u64,
    /// Why a failed run failed.
    pub message: Option<String>,
}

/// A diagnostic as stored with its import run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredDiagnostic {
    pub id: i64,
    pub import_run_id: i64,
    /// `fatal`, `error` or `warning`.
    pub severity: String,
    pub code: String,
    pub message: String,
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub path: String,
    pub record: Option<String>,
}

/// The row as both drivers decode it; counts are BIGINT, made unsigned after.
#[derive(sqlx::FromRow)]
struct ImportRunRow {
    id: i64,
    file: String,
    started_at: String,
    finished_at: Option<String>,
    status: String,
    bytes: i64,
    activities: i64,
    activities_skipped: i64,
    activities_replaced: i64,
    organisations: i64,
    transactions: i64,
    budgets: i64,
    diagnostics: i64,
    message: Option<String>,
}

#[derive(sqlx::FromRow)]
struct DiagnosticRow {
    id: i64,
    import_run_id: i64,
    severity: String,
    code: String,
    message: String,
    file: String,
    line: i64,
    column: i64,
    path: String,
    record: Option<String>,
}

impl Store {
    /// The latest `limit` import runs, newest first.
    pub async fn import_runs(&self, limit: i64) -> Result<Vec<ImportRun>, StoreError> {
        let rows: Vec<ImportRunRow> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(
                "SELECT id, file, started_at, finished_at, status, bytes, activities, \
                 activities_skipped, activities_replaced, organisations, transactions, budgets, \
                 diagnostics, message FROM import_run ORDER BY id DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await
        })
        .map_err(StoreError::query("listing import runs"))?;
        Ok(rows
            .into_iter()
            .map(|row| ImportRun {
                id: row.id,
                file: row.file,
                started_at: row.started_at,
                finished_at: row.finished_at,
                status: row.status,
                bytes: unsigned(row.bytes),
                activities: unsigned(row.activities),
                activities_skipped: unsigned(row.activities_skipped),
                activities_replaced: unsigned(row.activities_replaced),
                organisations: unsigned(row.organisations),
                transactions: unsigned(row.transactions),
                budgets: unsigned(row.budgets),
                diagnostics: unsigned(row.diagnostics),
                message: row.message,
            })
            .collect())
    }

    /// Every diagnostic recorded for an import run, in the order they were reported.
    pub async fn diagnostics(
        &self,
        import_run_id: i64,
    ) -> Result<Vec<StoredDiagnostic>, StoreError> {
        self.diagnostics_up_to(import_run_id, i64::MAX).await
    }

    /// The diagnostics of an import run whose id is at most `last_id`, in order.
    pub(crate) async fn diagnostics_up_to(
        &self,
        import_run_id: i64,
        last_id: i64,
    ) -> Result<Vec<StoredDiagnostic>, StoreError> {
        let rows: Vec<DiagnosticRow> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(
                "SELECT id, import_run_id, severity, code, message, file, line, \"column\", path, \
                 record FROM diagnostic WHERE import_run_id = $1 AND id <= $2 ORDER BY id",
            )
            .bind(import_run_id)
            .bind(last_id)
            .fetch_all(pool)
            .await
        })
        .map_err(StoreError::query("reading diagnostics"))?;
        Ok(rows
            .into_iter()
            .map(|row| StoredDiagnostic {
                id: row.id,
                import_run_id: row.import_run_id,
                severity: row.severity,
                code: row.code,
                message: row.message,
                file: row.file,
                line: unsigned(row.line),
                column: unsigned(row.column),
                path: row.path,
                record: row.record,
            })
            .collect())
    }
}

/// Counts are written from `u64`s, so a negative one can only come from a hand edit; it reads
/// as zero rather than as a huge number.
pub(crate) fn unsigned(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// The other way: a count too large for BIGINT is stored as the largest BIGINT.
pub(crate) fn signed(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
