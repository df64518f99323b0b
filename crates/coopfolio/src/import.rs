//! Importing IATI files: for each file, a reader thread parses records and hands them in batches
//! to the store's import session, which owns one database transaction for the whole file.
//!
//! Parsing and storing overlap (the reader runs on its own thread while the store writes), and
//! the channel between them is bounded, so memory stays bounded whatever the file size. A file
//! that turns out not to be well-formed is rolled back whole: nothing of it is stored.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use coopfolio_core::codelists::Codelists;
use coopfolio_iati::reader::{IatiReader, Record};
use coopfolio_iati::{Diagnostic, Severity};
use coopfolio_store::{pack_raw_xml, ImportRunSummary, Store};
use serde::Serialize;

/// What happened to one file.
#[derive(Debug)]
pub struct FileReport {
    pub label: String,
    pub bytes: u64,
    /// `None` when the file went in; the fatal diagnostic when nothing of it was stored.
    pub fatal: Option<Diagnostic>,
    /// Activities and organisations reported and skipped (no identifier).
    pub records_skipped: u64,
    /// The first errors and warnings, in document order, for showing; all of them are stored
    /// in the database with the import run.
    pub diagnostics: Vec<Diagnostic>,
    /// How many warnings the file gave, including those not kept in `diagnostics`.
    pub warnings: u64,
    pub summary: ImportRunSummary,
}

/// The totals of one `import` command, printed by `--json`.
#[derive(Debug, Default, Serialize)]
pub struct ImportTotals {
    pub files: u64,
    pub files_failed: u64,
    pub activities: u64,
    pub activities_skipped: u64,
    pub organisations: u64,
    pub transactions: u64,
    pub budgets: u64,
    pub diagnostics: u64,
    pub bytes: u64,
    pub seconds: f64,
}

impl ImportTotals {
    pub fn add(&mut self, report: &FileReport) {
        self.files += 1;
        self.bytes += report.bytes;
        self.diagnostics +=
            report.warnings + report.records_skipped + u64::from(report.fatal.is_some());
        self.activities_skipped += report.records_skipped;
        if report.fatal.is_some() {
            self.files_failed += 1;
            return;
        }
        self.activities += report.summary.activities;
        self.organisations += report.summary.organisations;
        self.transactions += report.summary.transactions;
        self.budgets += report.summary.budgets;
    }

    /// True when every file went in and no record was skipped.
    pub fn all_went_in(&self) -> bool {
        self.files_failed == 0 && self.activities_skipped == 0
    }
}

/// Records handed from the reader thread to the store in one go. Sending batches rather than
/// single records keeps the channel's overhead out of the per-record cost.
#[derive(Default)]
struct Batch {
    records: Vec<Record>,
    diagnostics: Vec<Diagnostic>,
    fatal: Option<Diagnostic>,
    bytes_read: u64,
}

const RECORDS_PER_BATCH: usize = 64;
/// A file's first batch, each later one twice the last up to [`RECORDS_PER_BATCH`], so that the
/// store starts writing a file soon after its reading begins (see the store's
/// `FIRST_SQLITE_BATCH`).
const FIRST_BATCH_RECORDS: usize = 8;
/// Diagnostics kept in memory per file for the report. A hostile or badly broken file can carry
/// millions; they all go to the database, and memory stays bounded whatever the file holds.
pub const DIAGNOSTICS_KEPT: usize = 1000;
/// Batches in flight between reader and store: enough to keep both busy, few enough that memory
/// stays small when records are large. With three, the next file's reader holds 8 + 16 + 32
/// records in the channel and 64 in hand, the whole of a typical 100-activity file, so the
/// writer no longer waits for the end of each file: the 43 real files took 0.433 s against
/// 0.476 s with two (medians of 9 alternating runs), and the 1 GB document peaked at 58 MB
/// against 55 MB (the target is 64 MB). Four took longer than three.
const BATCHES_IN_FLIGHT: usize = 3;

/// The files of one `import` command and their size.
#[derive(Debug)]
pub struct FileList {
    pub files: Vec<PathBuf>,
    /// Their bytes on disk; a file that cannot be read counts as empty (it fails when stored).
    pub bytes: u64,
}

impl FileList {
    /// Lists the files the paths stand for (see [`expand_paths`]) and adds up their sizes.
    pub fn list(paths: &[PathBuf]) -> anyhow::Result<FileList> {
        let files = expand_paths(paths)?;
        let bytes = files
            .iter()
            .filter_map(|file| std::fs::metadata(file).ok())
            .map(|metadata| metadata.len())
            .sum();
        Ok(FileList { files, bytes })
    }

    /// Bytes per file, 0 for no file.
    pub fn average_bytes(&self) -> u64 {
        self.bytes
            .checked_div(self.files.len() as u64)
            .unwrap_or_default()
    }
}

/// Expands the paths given on the command line into files: a folder stands for every `.xml`
/// file below it, in name order so that runs are repeatable.
fn expand_paths(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let metadata =
            std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
        if metadata.is_dir() {
            collect_xml_files(path, &mut files)?;
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn collect_xml_files(folder: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let mut entries = std::fs::read_dir(folder)
        .with_context(|| format!("listing {}", folder.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("listing {}", folder.display()))?;
    entries.sort_by_key(|entry| entry.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            collect_xml_files(&path, files)?;
        } else if path
            .extension()
            .is_some_and(|extension| extension.eq_ignore_ascii_case("xml"))
        {
            files.push(path);
        }
    }
    Ok(())
}

/// The bundled codelists, with any that `codelists update` stored in the database in their place.
pub async fn codelists_in_use(store: &Store) -> anyhow::Result<Arc<Codelists>> {
    let overrides = store
        .codelist_overrides()
        .await
        .context("reading updated codelists")?;
    if overrides.is_empty() {
        return Ok(Codelists::bundled());
    }
    let codelists = Codelists::with_overrides(&overrides).context("reading updated codelists")?;
    Ok(Arc::new(codelists))
}

/// Imports one file from disk. An unreadable file is reported as a failed file, like one that
/// is not well-formed; only a failure of the database itself is an `Err`.
pub async fn import_path(
    store: &Store,
    path: &Path,
    codelists: Arc<Codelists>,
    progress: impl FnMut(u64),
) -> anyhow::Result<FileReport> {
    FileReading::start(path, codelists)?
        .store(store, progress)
        .await
}

/// Imports one document from any byte source, in one database transaction.
pub async fn import_source(
    store: &Store,
    label: &str,
    source: impl BufRead + Send + 'static,
    bytes: u64,
    codelists: Arc<Codelists>,
    progress: impl FnMut(u64),
) -> anyhow::Result<FileReport> {
    FileReading::from_source(label, source, bytes, codelists)?
        .store(store, progress)
        .await
}

/// A file whose reading has begun: its reader thread parses the first batches into the
/// channel, then waits for the store to take them. A command with many files starts the next
/// file's reading before it stores the current one ([`FileReading::start_after`]), so that the
/// next file's first records are ready when the current one has committed, instead of the
/// writer waiting for them.
pub struct FileReading {
    label: String,
    bytes: u64,
    /// The reader, or why the file could not be opened.
    reader: Result<ReaderThread, Diagnostic>,
    /// Disconnected once this file's reader has read its last record (or never started).
    finished: Option<std::sync::mpsc::Receiver<()>>,
}

struct ReaderThread {
    batches: tokio::sync::mpsc::Receiver<Batch>,
    handle: std::thread::JoinHandle<()>,
}

impl FileReading {
    /// Opens a file and starts reading it. A file that cannot be opened is no error here: it
    /// is stored as a failed file.
    pub fn start(path: &Path, codelists: Arc<Codelists>) -> anyhow::Result<FileReading> {
        FileReading::open(path, codelists, None)
    }

    /// Opens a file whose reader begins once `previous`'s reader has read its last record.
    ///
    /// Two readers parsing at once leave no core for the store's writer on a machine of two,
    /// and the writer is the slower end: in a folder of 1 MB files the writer sat waiting at
    /// each file's start while the next file's reader and the rest of the current one shared
    /// the cores. One reader at a time keeps a core for the writer.
    pub fn start_after(
        path: &Path,
        codelists: Arc<Codelists>,
        previous: &mut FileReading,
    ) -> anyhow::Result<FileReading> {
        FileReading::open(path, codelists, previous.finished.take())
    }

    fn open(
        path: &Path,
        codelists: Arc<Codelists>,
        after: Option<std::sync::mpsc::Receiver<()>>,
    ) -> anyhow::Result<FileReading> {
        let label = path.display().to_string();
        let opened = std::fs::File::open(path).and_then(|file| {
            let bytes = file.metadata()?.len();
            Ok((file, bytes))
        });
        match opened {
            Ok((file, bytes)) => {
                let source = std::io::BufReader::with_capacity(256 * 1024, file);
                FileReading::spawn(&label, source, bytes, codelists, after)
            }
            Err(error) => Ok(FileReading {
                finished: None,
                reader: Err(Diagnostic {
                    severity: Severity::Fatal,
                    code: "unreadable-file",
                    message: format!("cannot read the file: {error}"),
                    file: label.clone(),
                    line: 0,
                    column: 0,
                    path: String::new(),
                    record: None,
                }),
                label,
                bytes: 0,
            }),
        }
    }

    /// Starts reading a document from any byte source.
    pub fn from_source(
        label: &str,
        source: impl BufRead + Send + 'static,
        bytes: u64,
        codelists: Arc<Codelists>,
    ) -> anyhow::Result<FileReading> {
        FileReading::spawn(label, source, bytes, codelists, None)
    }

    fn spawn(
        label: &str,
        source: impl BufRead + Send + 'static,
        bytes: u64,
        codelists: Arc<Codelists>,
        after: Option<std::sync::mpsc::Receiver<()>>,
    ) -> anyhow::Result<FileReading> {
        let (sender, batches) = tokio::sync::mpsc::channel::<Batch>(BATCHES_IN_FLIGHT);
        let (finished_sender, finished) = std::sync::mpsc::channel::<()>();
        let reader_label = label.to_owned();
        let handle = std::thread::Builder::new()
            .name("iati-reader".into())
            .spawn(move || {
                // Nothing is ever sent: the previous reader's end disconnects the channel.
                if let Some(after) = after {
                    let _ = after.recv();
                }
                read_batches(source, reader_label, codelists, sender);
                drop(finished_sender);
            })
            .context("starting the reader thread")?;
        Ok(FileReading {
            label: label.to_owned(),
            bytes,
            reader: Ok(ReaderThread { batches, handle }),
            finished: Some(finished),
        })
    }

    /// The file's name as reports show it.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Stores what the reader reads, in one database transaction.
    pub async fn store(
        self,
        store: &Store,
        mut progress: impl FnMut(u64),
    ) -> anyhow::Result<FileReport> {
        let FileReading {
            label,
            bytes,
            reader,
            ..
        } = self;
        let ReaderThread {
            mut batches,
            handle,
        } = match reader {
            Ok(reader) => reader,
            Err(fatal) => {
                let session = store.begin_import(&label, 0).await?;
                let summary = session.fail(&fatal).await?;
                return Ok(FileReport {
                    label,
                    bytes: 0,
                    fatal: Some(fatal),
                    records_skipped: 0,
                    diagnostics: Vec::new(),
                    warnings: 0,
                    summary,
                });
            }
        };
        let mut session = store.begin_import(&label, bytes).await?;
        let mut diagnostics = Vec::new();
        let (mut warnings, mut records_skipped) = (0, 0);
        let mut fatal = None;
        let mut last_position = 0;
        while let Some(batch) = batches.recv().await {
            for record in batch.records {
                match record {
                    Record::Activity(activity) => session.add_activity(activity).await?,
                    Record::Organisation(organisation) => {
                        session.add_organisation(organisation).await?
                    }
                }
            }
            session.add_diagnostics(&batch.diagnostics).await?;
            for diagnostic in batch.diagnostics {
                match diagnostic.severity {
                    Severity::Warning => warnings += 1,
                    // By the reader's contract an error means the record was skipped.
                    Severity::Error => records_skipped += 1,
                    Severity::Fatal => {}
                }
                if diagnostics.len() < DIAGNOSTICS_KEPT {
                    diagnostics.push(diagnostic);
                }
            }
            progress(batch.bytes_read - last_position);
            last_position = batch.bytes_read;
            if batch.fatal.is_some() {
                fatal = batch.fatal;
                break;
            }
        }
        // The reader stops by itself after a fatal error or at the end of the document;
        // dropping the receiver first makes sure it never waits on a full channel.
        drop(batches);
        handle
            .join()
            .map_err(|_| anyhow::anyhow!("the reader thread for {label} panicked"))?;
        progress(bytes.saturating_sub(last_position));

        let summary = match &fatal {
            Some(fatal) => session.fail(fatal).await?,
            None => session.commit(records_skipped).await?,
        };
        Ok(FileReport {
            label,
            bytes,
            fatal,
            records_skipped,
            diagnostics,
            warnings,
            summary,
        })
    }
}

fn read_batches(
    source: impl BufRead,
    label: String,
    codelists: Arc<Codelists>,
    sender: tokio::sync::mpsc::Sender<Batch>,
) {
    let mut reader = IatiReader::new(source, label, codelists);
    let mut batch = Batch::default();
    let mut batch_records = FIRST_BATCH_RECORDS;
    loop {
        let finished = match reader.next_record(&mut batch.diagnostics) {
            Ok(Some(mut record)) => {
                // Compressed here, on a core the store's writer does not need, rather than on
                // the way to it.
                if let Record::Activity(activity) = &mut record {
                    activity.raw_xml = pack_raw_xml(std::mem::take(&mut activity.raw_xml));
                }
                batch.records.push(record);
                false
            }
            Ok(None) => true,
            Err(fatal) => {
                batch.fatal = Some(fatal);
                true
            }
        };
        if finished || batch.records.len() >= batch_records {
            batch_records = (batch_records * 2).min(RECORDS_PER_BATCH);
            batch.bytes_read = reader.bytes_read();
            // A closed channel means the store side gave up; there is nobody left to read for.
            if sender.blocking_send(std::mem::take(&mut batch)).is_err() || finished {
                return;
            }
        }
    }
}

/// This pipeline as the staff workspace's imports from the browser use it: the web crate cannot
/// depend on this one (this one serves it), so the server hands this in through its state.
#[derive(Debug, Default, Clone, Copy)]
pub struct PipelineImporter;

impl coopfolio_web::IatiImporter for PipelineImporter {
    fn import_file<'a>(
        &'a self,
        store: &'a Store,
        label: &'a str,
        path: &'a Path,
        progress: Box<dyn FnMut(u64) + Send + 'a>,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<coopfolio_web::ImportedFile, String>>
                + Send
                + 'a,
        >,
    > {
        Box::pin(async move {
            let codelists = codelists_in_use(store)
                .await
                .map_err(|error| format!("{error:#}"))?;
            let file = std::fs::File::open(path)
                .map_err(|error| format!("reading the uploaded {label}: {error}"))?;
            let bytes = file
                .metadata()
                .map_err(|error| format!("reading the uploaded {label}: {error}"))?
                .len();
            let source = std::io::BufReader::with_capacity(256 * 1024, file);
            let report = import_source(store, label, source, bytes, codelists, progress)
                .await
                .map_err(|error| format!("{error:#}"))?;
            Ok(coopfolio_web::ImportedFile {
                summary: report.summary,
                failed: report.fatal.is_some(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufReader, Cursor, Read};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use super::*;

    const DOCUMENT: &[u8] = b"<iati-activities version=\"2.03\"><iati-activity>\
        <iati-identifier>XM-DAC-41302-1</iati-identifier></iati-activity></iati-activities>";

    /// A document whose first read waits until the test lets it go.
    struct Held {
        release: std::sync::mpsc::Receiver<()>,
        document: Cursor<&'static [u8]>,
    }

    impl Read for Held {
        fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
            let _ = self.release.recv();
            self.document.read(buffer)
        }
    }

    /// A document that notes when it is first read.
    struct Watched {
        read: Arc<AtomicBool>,
        document: Cursor<&'static [u8]>,
    }

    impl Read for Watched {
        fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
            self.read.store(true, Ordering::SeqCst);
            self.document.read(buffer)
        }
    }

    #[test]
    fn the_next_files_reader_waits_until_the_previous_one_has_read_its_last_record() {
        let codelists = Codelists::bundled();
        let bytes = DOCUMENT.len() as u64;
        let (release, held) = std::sync::mpsc::channel();
        let held = Held {
            release: held,
            document: Cursor::new(DOCUMENT),
        };
        let mut first = FileReading::spawn(
            "first.xml",
            BufReader::new(held),
            bytes,
            codelists.clone(),
            None,
        )
        .unwrap();
        let read = Arc::new(AtomicBool::new(false));
        let watched = Watched {
            read: read.clone(),
            document: Cursor::new(DOCUMENT),
        };
        let after = first.finished.take();
        let second = FileReading::spawn(
            "second.xml",
            BufReader::new(watched),
            bytes,
            codelists,
            after,
        )
        .unwrap();

        std::thread::sleep(Duration::from_millis(100));
        assert!(
            !read.load(Ordering::SeqCst),
            "the second reader began while the first was still reading"
        );
        drop(release);
        let started = Instant::now();
        while !read.load(Ordering::SeqCst) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the second reader never began after the first had finished"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        drop((first, second));
    }
}
