//! Measures how fast the reader turns IATI files into records, in MB/s of XML.
//!
//! Run it in release mode: `cargo run --release -p coopfolio-iati --example throughput [FOLDER]`.
//! Without a folder it reads the d-portal extract of the test data (see `coopfolio-testdata`).
//! Each file is read from memory, so the figure is the reader's own speed, not the disk's.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use coopfolio_core::codelists::Codelists;
use coopfolio_iati::{IatiReader, Record};

fn main() {
    let folder = match std::env::args_os().nth(1) {
        Some(folder) => PathBuf::from(folder),
        None => match coopfolio_testdata::covid_extract() {
            Ok(folder) => folder,
            Err(reason) => {
                eprintln!("no data to read: {reason}");
                std::process::exit(2);
            }
        },
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap_or_else(|error| panic!("reading {}: {error}", folder.display()))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|extension| extension == "xml"))
        .collect();
    paths.sort();
    let files: Vec<(String, Vec<u8>)> = paths
        .iter()
        .map(|path| {
            let bytes =
                std::fs::read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            (path.display().to_string(), bytes)
        })
        .collect();
    let total_bytes: usize = files.iter().map(|(_, bytes)| bytes.len()).sum();
    let codelists = Codelists::bundled();

    let rounds: u32 = std::env::var("ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(10);
    let mut best = Duration::MAX;
    let (mut activities, mut transactions, mut budgets, mut diagnostics_seen) = (0, 0, 0, 0);
    for _ in 0..rounds {
        (activities, transactions, budgets, diagnostics_seen) = (0, 0, 0, 0);
        let started = Instant::now();
        for (label, bytes) in &files {
            let mut reader = IatiReader::new(&bytes[..], label.as_str(), codelists.clone());
            let mut diagnostics = Vec::new();
            loop {
                match reader.next_record(&mut diagnostics) {
                    Ok(Some(Record::Activity(activity))) => {
                        activities += 1;
                        transactions += activity.transactions.len();
                        budgets += activity.budgets.len();
                    }
                    Ok(Some(Record::Organisation(_))) => {}
                    Ok(None) => break,
                    Err(fatal) => {
                        eprintln!("{fatal}");
                        break;
                    }
                }
            }
            diagnostics_seen += diagnostics.len();
        }
        best = best.min(started.elapsed());
    }
    let megabytes = total_bytes as f64 / 1e6;
    println!(
        "{} files, {megabytes:.1} MB, {activities} activities, {transactions} transactions, \
         {budgets} budgets, {diagnostics_seen} diagnostics",
        files.len()
    );
    println!(
        "best of {rounds}: {:.3} s, {:.0} MB/s",
        best.as_secs_f64(),
        megabytes / best.as_secs_f64()
    );
}
