//! The floor under the reader's speed: quick-xml alone pulling events from the same files.
//!
//! `cargo run --release -p coopfolio-iati --example baseline [FOLDER]`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use quick_xml::events::Event;

fn main() {
    let folder = match std::env::args_os().nth(1) {
        Some(folder) => PathBuf::from(folder),
        None => coopfolio_testdata::covid_extract().expect("test data"),
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&folder).expect("folder") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|extension| extension == "xml") {
            files.push(std::fs::read(&path).expect("file"));
        }
    }
    let total: usize = files.iter().map(Vec::len).sum();
    let mut best = Duration::MAX;
    let mut events = 0u64;
    for _ in 0..std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5)
    {
        events = 0;
        let started = Instant::now();
        for bytes in &files {
            let mut reader = quick_xml::Reader::from_reader(&bytes[..]);
            reader.config_mut().trim_text_start = true;
            let mut buffer = Vec::new();
            loop {
                buffer.clear();
                match reader.read_event_into(&mut buffer) {
                    Ok(Event::Eof) | Err(_) => break,
                    Ok(_) => events += 1,
                }
            }
        }
        best = best.min(started.elapsed());
    }
    println!(
        "{events} events, {:.0} MB/s",
        total as f64 / 1e6 / best.as_secs_f64()
    );
}
