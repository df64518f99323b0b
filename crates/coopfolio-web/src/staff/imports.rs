//! Imports from the browser: an administrator uploads IATI files, the server that took them
//! imports them in the background through the same pipeline as `coopfolio import iati`, and
//! every server shows the job's progress and, once done, its counts and the diagnostics the
//! command line would print (file, line, column, element path, message).
//!
//! The upload is streamed to temporary files a chunk at a time and never held in memory whole;
//! its route has a body limit of its own, larger than the rest of the site's, and going past
//! it deletes what was written and says what the limit is. The pipeline lives in the
//! `coopfolio` crate, which depends on this one, so the server hands it in as an
//! [`IatiImporter`] in the state.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Multipart, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Redirect, Response};
use coopfolio_store::import_job::{ImportJob, ImportJobFile, ImportJobState};
use coopfolio_store::{ImportRun, ImportRunSummary, Store, StoredDiagnostic};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use super::{StaffFrame, StaffUser};
use crate::error::WebError;
use crate::text::catalog;
use crate::{language, render, AppState};

/// The default limit of one upload, all files together.
pub const UPLOAD_LIMIT_BYTES: u64 = 256 * 1024 * 1024;
/// Files in one upload.
const MAX_FILES: usize = 50;
/// Diagnostics shown per file on the job's page; all of them stay in the database.
const DIAGNOSTICS_SHOWN: i64 = 200;
/// How often a running job writes its progress.
const PROGRESS_PERIOD: Duration = Duration::from_millis(500);
/// The page of a running job reloads itself this often, in seconds.
pub const REFRESH_SECONDS: u32 = 2;

/// Imports one IATI file into the store as `coopfolio import iati` does: one transaction, the
/// diagnostics recorded with the import run. `progress` is told of each stretch of bytes read.
pub trait IatiImporter: Send + Sync + std::fmt::Debug {
    fn import_file<'a>(
        &'a self,
        store: &'a Store,
        label: &'a str,
        path: &'a Path,
        progress: Box<dyn FnMut(u64) + Send + 'a>,
    ) -> Pin<Box<dyn Future<Output = Result<ImportedFile, String>> + Send + 'a>>;
}

/// What importing one file came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedFile {
    pub summary: ImportRunSummary,
    /// The file was not well-formed (or not readable) and nothing of it was stored.
    pub failed: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct ImportsParams {
    #[serde(default)]
    error: String,
}

#[derive(Serialize)]
struct ImportsPage {
    staff: StaffFrame,
    available: bool,
    limit_mb: u64,
    /// A key of the text catalogs, after an upload that was turned back.
    error: Option<&'static str>,
    jobs: Vec<ImportJob>,
    runs: Vec<ImportRun>,
}

pub async fn imports(
    State(state): State<AppState>,
    user: StaffUser,
    Query(params): Query<ImportsParams>,
) -> Result<Html<String>, WebError> {
    let page = ImportsPage {
        staff: user.frame(),
        available: state.importer.is_some(),
        limit_mb: state.upload_limit_bytes / (1024 * 1024),
        // Only known keys are shown; anything else in the query string is ignored.
        error: (params.error == "no_file").then_some("ops_no_file"),
        jobs: state.store.import_jobs(20).await?,
        runs: state.store.import_runs(50).await?,
    };
    Ok(Html(render::page(
        "staff_imports.html",
        catalog(language::current()),
        page,
    )?))
}

#[derive(Debug, Default, Deserialize)]
pub struct JobParams {
    #[serde(default)]
    job: String,
}

#[derive(Serialize)]
struct JobPage {
    staff: StaffFrame,
    job: ImportJob,
    files: Vec<JobFileView>,
    refresh_seconds: Option<u32>,
    percent: u64,
}

#[derive(Serialize)]
struct JobFileView {
    file: ImportJobFile,
    run: Option<ImportRun>,
    diagnostics: Vec<StoredDiagnostic>,
    diagnostics_total: u64,
}

/// One job: its progress while it runs (the page reloads itself through a `<meta refresh>`,
/// which the content security policy allows, as it is no script), then its counts and each
/// file's diagnostics.
pub async fn import_job(
    State(state): State<AppState>,
    user: StaffUser,
    Query(params): Query<JobParams>,
) -> Result<Response, WebError> {
    if params.job.trim().is_empty() {
        return Ok(Redirect::to("/staff/imports").into_response());
    }
    let id: i64 = params
        .job
        .trim()
        .parse()
        .map_err(|_| WebError::BadRequest("The import job must be a number.".to_owned()))?;
    let Some((job, files)) = state.store.import_job(id).await? else {
        return Err(WebError::NotFound(format!(
            "No import job has the number {id}."
        )));
    };
    let runs = state.store.import_runs(1000).await?;
    let mut views = Vec::new();
    for file in files {
        let run = file
            .import_run_id
            .and_then(|run_id| runs.iter().find(|run| run.id == run_id).cloned());
        let (diagnostics, diagnostics_total) = match file.import_run_id {
            Some(run_id) => {
                state
                    .store
                    .first_diagnostics(run_id, DIAGNOSTICS_SHOWN)
                    .await?
            }
            None => (Vec::new(), 0),
        };
        views.push(JobFileView {
            file,
            run,
            diagnostics,
            diagnostics_total,
        });
    }
    // An empty upload has nothing left to read: 100 %.
    let percent = (job.bytes_done.min(job.bytes_total) * 100)
        .checked_div(job.bytes_total)
        .unwrap_or(100);
    let page = JobPage {
        staff: user.frame(),
        refresh_seconds: job.state.is_active().then_some(REFRESH_SECONDS),
        percent,
        job,
        files: views,
    };
    Ok(Html(render::page(
        "staff_import.html",
        catalog(language::current()),
        page,
    )?)
    .into_response())
}

/// An uploaded file waiting for its turn, deleted when dropped.
struct Upload {
    name: String,
    bytes: u64,
    file: tempfile::NamedTempFile,
}

/// Takes the upload (a `multipart/form-data` form with one or more `files` fields), writes each
/// file to a temporary file as it arrives, records the job, and starts it in the background.
pub async fn upload(
    State(state): State<AppState>,
    user: StaffUser,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, WebError> {
    let limit = state.upload_limit_bytes;
    let too_large = || {
        WebError::BadRequest(format!(
            "The upload is larger than the limit of {} MB; nothing was imported. \
             Send fewer or smaller files, or import them with `coopfolio import iati`.",
            limit / (1024 * 1024)
        ))
    };
    // A declared length past the limit is refused before anything is read.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit.saturating_add(64 * 1024)) {
        return Err(too_large());
    }
    // A form with no file at all (or not a file form) goes back to the page with a word.
    let Ok(mut multipart) = multipart else {
        return Ok(Redirect::to("/staff/imports?error=no_file").into_response());
    };
    let Some(importer) = state.importer.clone() else {
        return Err(WebError::BadRequest(
            "This server does not import files from the browser; use `coopfolio import iati`."
                .to_owned(),
        ));
    };
    let mut uploads: Vec<Upload> = Vec::new();
    let mut received: u64 = 0;
    let unreadable = |error: axum::extract::multipart::MultipartError| -> WebError {
        if error.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            WebError::BadRequest(format!(
                "The upload could not be read: {}.",
                error.body_text()
            ))
        }
    };
    while let Some(mut field) = multipart.next_field().await.map_err(unreadable)? {
        if field.name() != Some("files") {
            continue;
        }
        let name = clean_file_name(field.file_name().unwrap_or_default());
        if name.is_empty() {
            // The browser sends an empty part when no file was chosen.
            continue;
        }
        if uploads.len() >= MAX_FILES {
            return Err(WebError::BadRequest(format!(
                "At most {MAX_FILES} files can be uploaded at once."
            )));
        }
        let temporary = tempfile::NamedTempFile::new()
            .map_err(|error| WebError::Download(format!("a temporary file: {error}")))?;
        let mut writer = tokio::fs::File::from_std(
            temporary
                .reopen()
                .map_err(|error| WebError::Download(format!("a temporary file: {error}")))?,
        );
        let mut bytes = 0u64;
        while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
            bytes += chunk.len() as u64;
            received += chunk.len() as u64;
            if received > limit {
                // The temporary files written so far are deleted as `uploads` is dropped.
                return Err(too_large());
            }
            writer
                .write_all(&chunk)
                .await
                .map_err(|error| WebError::Download(format!("writing the upload: {error}")))?;
        }
        writer
            .flush()
            .await
            .map_err(|error| WebError::Download(format!("writing the upload: {error}")))?;
        uploads.push(Upload {
            name,
            bytes,
            file: temporary,
        });
    }
    if uploads.is_empty() {
        return Ok(Redirect::to("/staff/imports?error=no_file").into_response());
    }
    let listed: Vec<(String, u64)> = uploads
        .iter()
        .map(|upload| (upload.name.clone(), upload.bytes))
        .collect();
    let job_id = state.store.create_import_job(user.email(), &listed).await?;
    let store = state.store.clone();
    tokio::spawn(async move {
        if let Err(error) = run_job(&store, importer.as_ref(), job_id, uploads).await {
            tracing::error!(?error, job_id, "an import job failed");
            let message = format!("The import stopped: {error}");
            if let Err(error) = store
                .finish_import_job(job_id, ImportJobState::Failed, Some(&message))
                .await
            {
                tracing::error!(?error, job_id, "recording a failed import job failed");
            }
        }
    });
    Ok(Redirect::to(&format!("/staff/import?job={job_id}")).into_response())
}

/// Imports the files of a job one after the other, writing progress as it goes.
async fn run_job(
    store: &Store,
    importer: &dyn IatiImporter,
    job_id: i64,
    uploads: Vec<Upload>,
) -> Result<(), String> {
    let done = Arc::new(AtomicU64::new(0));
    store
        .record_import_job_progress(job_id, ImportJobState::Running, 0)
        .await
        .map_err(|error| error.to_string())?;
    // The progress writer runs beside the import and stops when the import does.
    let writer_done = Arc::clone(&done);
    let writer_store = store.clone();
    let progress_writer = tokio::spawn(async move {
        let mut ticker = tokio::time::interval(PROGRESS_PERIOD);
        // A write held up (on SQLite, by the file's transaction, which has the write lock
        // until it commits) is followed by the next one a period later, not by a burst.
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let bytes = writer_done.load(Ordering::Relaxed);
            if let Err(error) = writer_store
                .record_import_job_progress(job_id, ImportJobState::Running, bytes)
                .await
            {
                tracing::warn!(?error, job_id, "recording an import's progress failed");
            }
        }
    });
    let mut outcome = Ok(());
    for (position, upload) in uploads.iter().enumerate() {
        let counter = Arc::clone(&done);
        let progress = Box::new(move |bytes: u64| {
            counter.fetch_add(bytes, Ordering::Relaxed);
        });
        let imported = importer
            .import_file(store, &upload.name, upload.file.path(), progress)
            .await;
        match imported {
            Ok(imported) => {
                if let Err(error) = store
                    .record_import_job_file(
                        job_id,
                        position as i64,
                        &imported.summary,
                        imported.failed,
                    )
                    .await
                {
                    outcome = Err(error.to_string());
                    break;
                }
            }
            Err(error) => {
                outcome = Err(error);
                break;
            }
        }
    }
    // A progress write already sent may still land after this; the store ignores progress on
    // a finished job, so it cannot undo the final state.
    progress_writer.abort();
    outcome?;
    store
        .finish_import_job(job_id, ImportJobState::Finished, None)
        .await
        .map_err(|error| error.to_string())
}

/// The name a file is shown and recorded under: the last part of what the browser sent (some
/// send a whole path), without control characters, at most 200 characters.
fn clean_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    last.chars()
        .filter(|character| !character.is_control())
        .take(200)
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::clean_file_name;

    #[test]
    fn file_names_lose_their_folders_and_control_characters() {
        assert_eq!(clean_file_name("C:\\Users\\amina\\ilo.xml"), "ilo.xml");
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("a\u{0}b\nc.xml"), "abc.xml");
        assert_eq!(clean_file_name(""), "");
        assert_eq!(clean_file_name(&"x".repeat(500)).len(), 200);
    }
}
