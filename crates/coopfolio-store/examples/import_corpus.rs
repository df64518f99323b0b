//! Imports a folder of real IATI files end to end, as the importer does: the reader parses on
//! its own thread and hands records over a bounded channel to the store, one import session
//! per file. Prints MB/s of XML, timed up to and including the closing checkpoint.
//!
//!     cargo run --release -p coopfolio-store --example import_corpus -- [FOLDER] [--url URL]
//!         [--store-only]
//!
//! FOLDER defaults to the d-portal COVID-19 extract of the shared data (43 files, 49 MB).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use coopfolio_core::codelists::Codelists;
use coopfolio_iati::reader::{IatiReader, Record};
use coopfolio_iati::Diagnostic;
use coopfolio_store::Store;

/// What the reading thread sends for one file.
enum Message {
    /// Records go in batches, so that the channel costs little per record.
    Records(Vec<Record>, Vec<Diagnostic>),
    End(Vec<Diagnostic>, Option<Diagnostic>),
}

const RECORDS_PER_MESSAGE: usize = 64;

#[tokio::main]
async fn main() {
    let mut folder = PathBuf::from("/work/shared/data/iati/activities/dportal-covid-extract-2021");
    let mut url = None;
    let mut store_only = false;
    let mut arguments = std::env::args().skip(1);
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--url" => url = arguments.next(),
            "--store-only" => store_only = true,
            other => folder = PathBuf::from(other),
        }
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .expect("reading the folder")
        .map(|entry| entry.expect("a folder entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "xml"))
        .collect();
    files.sort();
    let temporary = tempfile::tempdir().expect("a temporary folder");
    let url =
        url.unwrap_or_else(|| format!("sqlite://{}", temporary.path().join("corpus.db").display()));
    let store = Store::connect(&url).await.expect("connecting");
    let codelists = Codelists::bundled();
    let total_bytes: u64 = files
        .iter()
        .map(|file| std::fs::metadata(file).expect("file size").len())
        .sum();

    if std::env::var("PARSE_ONLY").is_ok() {
        let started = Instant::now();
        let mut records = 0;
        for file in &files {
            let source =
                std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(file).unwrap());
            let mut reader =
                IatiReader::new(source, file.display().to_string(), Arc::clone(&codelists));
            let mut diagnostics = Vec::new();
            while let Ok(Some(_)) = reader.next_record(&mut diagnostics) {
                records += 1;
            }
        }
        println!(
            "parse only: {records} records in {:.3}s",
            started.elapsed().as_secs_f64()
        );
        return;
    }
    // With --store-only every file is parsed into memory first and only the store is timed.
    let mut started = Instant::now();
    let capacity = if store_only { 1 << 20 } else { 4 };
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<(usize, Message)>(capacity);
    let reading_files = files.clone();
    let reader_thread = std::thread::Builder::new()
        .name("iati-reader".into())
        .spawn(move || {
            for (index, file) in reading_files.iter().enumerate() {
                let source = std::io::BufReader::with_capacity(
                    1 << 16,
                    std::fs::File::open(file).expect("opening a file"),
                );
                let mut reader =
                    IatiReader::new(source, file.display().to_string(), Arc::clone(&codelists));
                let mut diagnostics = Vec::new();
                let mut records = Vec::with_capacity(RECORDS_PER_MESSAGE);
                let fatal = loop {
                    match reader.next_record(&mut diagnostics) {
                        Ok(Some(record)) => {
                            records.push(record);
                            if records.len() == RECORDS_PER_MESSAGE {
                                let batch = std::mem::take(&mut records);
                                let found = std::mem::take(&mut diagnostics);
                                if sender
                                    .blocking_send((index, Message::Records(batch, found)))
                                    .is_err()
                                {
                                    return;
                                }
                            }
                        }
                        Ok(None) => break None,
                        Err(fatal) => break Some(fatal),
                    }
                };
                if !records.is_empty()
                    && sender
                        .blocking_send((index, Message::Records(records, Vec::new())))
                        .is_err()
                {
                    return;
                }
                if sender
                    .blocking_send((index, Message::End(diagnostics, fatal)))
                    .is_err()
                {
                    return;
                }
            }
        })
        .expect("starting the reader thread");

    let mut reader_thread = Some(reader_thread);
    if store_only {
        if let Some(thread) = reader_thread.take() {
            thread.join().expect("the reading thread");
        }
        started = Instant::now();
    }
    let mut activities = 0_u64;
    let mut session = None;
    let mut waiting = std::time::Duration::ZERO;
    loop {
        let wait_started = Instant::now();
        let Some((index, message)) = receiver.recv().await else {
            break;
        };
        waiting += wait_started.elapsed();
        if session.is_none() {
            let bytes = std::fs::metadata(&files[index]).expect("file size").len();
            let label = files[index].display().to_string();
            session = Some(store.begin_import(&label, bytes).await.expect("begin"));
        }
        let current = session.as_mut().expect("a session");
        match message {
            Message::Records(records, diagnostics) => {
                current
                    .add_diagnostics(&diagnostics)
                    .await
                    .expect("diagnostics");
                for record in records {
                    match record {
                        Record::Activity(activity) => {
                            current.add_activity(activity).await.expect("activity")
                        }
                        Record::Organisation(organisation) => current
                            .add_organisation(organisation)
                            .await
                            .expect("organisation"),
                    }
                }
            }
            Message::End(diagnostics, fatal) => {
                let current = session.take().expect("a session");
                let summary = match fatal {
                    Some(fatal) => current.fail(&fatal).await.expect("fail"),
                    None => {
                        let mut current = current;
                        current
                            .add_diagnostics(&diagnostics)
                            .await
                            .expect("diagnostics");
                        current.commit(0).await.expect("commit")
                    }
                };
                activities += summary.activities;
            }
        }
    }
    if let Some(thread) = reader_thread {
        thread.join().expect("the reading thread");
    }
    store.close().await;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("waiting for the reader: {:.3} s", waiting.as_secs_f64());

    let store = Store::connect(&url).await.expect("reconnecting");
    let stats = store.stats().await.expect("stats");
    println!(
        "{:?}: {} files, {:.1} MB, {activities} activities ({} transactions, {} budgets) in {seconds:.3} s: {:.1} MB/s",
        store.backend(),
        files.len(),
        total_bytes as f64 / 1e6,
        stats.transactions,
        stats.budgets,
        total_bytes as f64 / seconds / 1e6
    );
    store.close().await;
}
