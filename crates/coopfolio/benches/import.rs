//! Import throughput and peak memory, side by side with the baseline peer
//! (`bench/peers/iati_lxml_sqlite.py`: lxml iterparse into SQLite, storing far less), in one run.
//!
//!     cargo bench -p coopfolio --bench import
//!
//! It measures the 43 real files of the d-portal extract (as a user imports them, and joined
//! into one 49 MB document so the peer, which takes one file, reads the same bytes), and a
//! synthetic document of about 1 GB built from them with new identifiers. Each run starts from
//! an empty database; peak memory is the maximum resident set size that `/usr/bin/time -v`
//! reports for the whole process. Set `COOPFOLIO_BENCH_QUICK=1` to skip the 1 GB document.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Waits until a document just written is on the disk: otherwise the first run reads it while
/// the kernel still writes a gigabyte of it back, and measures that too (15.3 s instead of
/// 10.8 s for the 1 GB document on a new machine).
fn settle(path: &Path) {
    std::fs::File::open(path)
        .and_then(|file| file.sync_all())
        .unwrap();
}

struct Measure {
    seconds: f64,
    peak_rss_mb: f64,
}

fn main() {
    let folder = match coopfolio_testdata::covid_extract() {
        Ok(folder) => folder,
        Err(reason) => {
            println!("SKIPPED: the import benchmark needs the real files: {reason}");
            return;
        }
    };
    let root = coopfolio_testdata::workspace_root();
    let scratch = root.join("target/bench-data");
    std::fs::create_dir_all(&scratch).unwrap();
    let sources = coopfolio_testdata::xml_files(&folder).unwrap();
    let real_bytes: u64 = sources
        .iter()
        .map(|file| file.metadata().unwrap().len())
        .sum();
    let joined = scratch.join("covid-extract-joined.xml");
    let joined_bytes = coopfolio_testdata::write_synthetic_file(&sources, 1, &joined).unwrap();
    settle(&joined);
    let peer = peer_python(&scratch);
    let peer_script = root.join("bench/peers/iati_lxml_sqlite.py");
    let runs = 3;

    println!("machine: {}", machine());
    println!(
        "| document | MB | importer | best of | seconds | MB/s | peak RSS MB | ratio to peer |"
    );
    println!("|---|---|---|---|---|---|---|---|");

    let ours_files = best_of(runs, || {
        let database = scratch.join("ours-files.db");
        remove_database(&database);
        let mut command = coopfolio(&database);
        command.arg(folder.to_str().unwrap());
        timed(command)
    });
    row(
        "43 real files",
        real_bytes,
        "coopfolio (SQLite)",
        runs,
        &ours_files,
        None,
    );

    let ours_joined = best_of(runs, || {
        let database = scratch.join("ours-joined.db");
        remove_database(&database);
        let mut command = coopfolio(&database);
        command.arg(&joined);
        timed(command)
    });
    let peer_joined = peer.as_ref().map(|python| {
        best_of(runs, || {
            let database = scratch.join("peer-joined.sqlite");
            let _ = std::fs::remove_file(&database);
            let mut command = Command::new(python);
            command
                .arg(&peer_script)
                .arg("import")
                .arg(&joined)
                .arg(&database);
            timed(command)
        })
    });
    row(
        "43 real files joined",
        joined_bytes,
        "coopfolio (SQLite)",
        runs,
        &ours_joined,
        peer_joined.as_ref(),
    );
    if let Some(peer_joined) = &peer_joined {
        row(
            "43 real files joined",
            joined_bytes,
            "lxml peer",
            runs,
            peer_joined,
            None,
        );
    }

    if let Ok(server) = std::env::var("COOPFOLIO_TEST_POSTGRES_URL") {
        let ours_postgres = best_of(runs, || {
            let name = "coopfolio_bench_import";
            psql(
                &server,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
            psql(&server, &format!("CREATE DATABASE {name}"));
            let url = format!("{}/{name}", server.rsplit_once('/').unwrap().0);
            let mut command = Command::new("/usr/bin/time");
            command
                .args([
                    "-v",
                    env!("CARGO_BIN_EXE_coopfolio"),
                    "import",
                    "iati",
                    "--json",
                ])
                .arg(&joined)
                .env("COOPFOLIO_DATABASE_URL", url);
            run_measured(command)
        });
        row(
            "43 real files joined",
            joined_bytes,
            "coopfolio (PostgreSQL)",
            runs,
            &ours_postgres,
            peer_joined.as_ref(),
        );
    }

    if std::env::var_os("COOPFOLIO_BENCH_QUICK").is_some() {
        println!("(COOPFOLIO_BENCH_QUICK set: the 1 GB document was skipped)");
        return;
    }
    let synthetic = scratch.join("synthetic-1gb.xml");
    let copies = (1_000_000_000 / real_bytes + 1) as usize;
    let synthetic_bytes = match std::fs::metadata(&synthetic) {
        Ok(metadata) if metadata.len() > 1_000_000_000 => metadata.len(),
        _ => {
            let bytes =
                coopfolio_testdata::write_synthetic_file(&sources, copies, &synthetic).unwrap();
            settle(&synthetic);
            bytes
        }
    };
    let ours_synthetic = {
        let database = scratch.join("ours-synthetic.db");
        remove_database(&database);
        let mut command = coopfolio(&database);
        command.arg(&synthetic);
        let measure = timed(command);
        remove_database(&database);
        measure
    };
    let peer_synthetic = peer.as_ref().map(|python| {
        let database = scratch.join("peer-synthetic.sqlite");
        let _ = std::fs::remove_file(&database);
        let mut command = Command::new(python);
        command
            .arg(&peer_script)
            .arg("import")
            .arg(&synthetic)
            .arg(&database);
        let measure = timed(command);
        let _ = std::fs::remove_file(&database);
        measure
    });
    row(
        "synthetic",
        synthetic_bytes,
        "coopfolio (SQLite)",
        1,
        &ours_synthetic,
        peer_synthetic.as_ref(),
    );
    if let Some(peer_synthetic) = &peer_synthetic {
        row(
            "synthetic",
            synthetic_bytes,
            "lxml peer",
            1,
            peer_synthetic,
            None,
        );
    }
}

fn coopfolio(database: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_coopfolio"));
    command.args(["import", "iati", "--json"]).env(
        "COOPFOLIO_DATABASE_URL",
        format!("sqlite://{}", database.display()),
    );
    command
}

/// Runs a command under `/usr/bin/time -v` for its peak memory; the wall time is measured here.
fn timed(command: Command) -> Measure {
    let mut wrapped = Command::new("/usr/bin/time");
    wrapped
        .arg("-v")
        .arg(command.get_program())
        .args(command.get_args());
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            wrapped.env(key, value);
        }
    }
    run_measured(wrapped)
}

fn run_measured(mut command: Command) -> Measure {
    let started = Instant::now();
    let output = command
        .output()
        .expect("/usr/bin/time runs (Debian package time)");
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{command:?} failed: {}\n{stderr}",
        String::from_utf8_lossy(&output.stdout)
    );
    let peak_rss_kb: f64 = stderr
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|value| value.parse().ok())
        .expect("/usr/bin/time -v reports the peak RSS");
    Measure {
        seconds,
        peak_rss_mb: peak_rss_kb / 1024.0,
    }
}

fn best_of(runs: usize, mut measure: impl FnMut() -> Measure) -> Measure {
    let measures: Vec<Measure> = (0..runs).map(|_| measure()).collect();
    let fastest = measures
        .iter()
        .map(|measure| measure.seconds)
        .fold(f64::INFINITY, f64::min);
    let peak = measures
        .iter()
        .map(|measure| measure.peak_rss_mb)
        .fold(0.0, f64::max);
    Measure {
        seconds: fastest,
        peak_rss_mb: peak,
    }
}

fn row(
    document: &str,
    bytes: u64,
    importer: &str,
    runs: usize,
    measure: &Measure,
    peer: Option<&Measure>,
) {
    let megabytes = bytes as f64 / 1e6;
    let ratio = peer.map_or(String::from("-"), |peer| {
        let speedup = peer.seconds / measure.seconds;
        if speedup >= 1.0 {
            format!("{speedup:.1}x faster")
        } else {
            format!("{:.1}x slower", 1.0 / speedup)
        }
    });
    println!(
        "| {document} | {megabytes:.1} | {importer} | {runs} | {:.2} | {:.1} | {:.1} | {ratio} |",
        measure.seconds,
        megabytes / measure.seconds,
        measure.peak_rss_mb
    );
}

fn remove_database(database: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", database.display()));
    }
}

/// A Python with lxml for the peer: the system's if it has lxml, else a virtual environment in
/// the scratch folder with lxml installed from PyPI. `None` (said aloud) when neither works.
fn peer_python(scratch: &Path) -> Option<PathBuf> {
    let has_lxml = |python: &Path| {
        Command::new(python)
            .args(["-c", "import lxml.etree"])
            .output()
            .is_ok_and(|output| output.status.success())
    };
    let system = PathBuf::from("python3");
    if has_lxml(&system) {
        return Some(system);
    }
    let venv = scratch.join("peer-venv");
    let python = venv.join("bin/python");
    if !has_lxml(&python) {
        let created = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status();
        let installed = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "lxml"])
            .status();
        if !(created.is_ok_and(|status| status.success())
            && installed.is_ok_and(|status| status.success()))
        {
            println!(
                "SKIPPED: the lxml peer: could not install lxml into {}",
                venv.display()
            );
            return None;
        }
    }
    Some(python)
}

fn psql(url: &str, sql: &str) {
    let status = Command::new("psql")
        .arg(url)
        .args(["-qc", sql])
        .status()
        .expect("psql runs");
    assert!(status.success(), "psql failed: {sql}");
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|line| {
                line.strip_prefix("model name")
                    .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |cores| cores.get());
    let memory_gb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .and_then(|rest| rest.trim().trim_end_matches(" kB").parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    format!("{cpu}, {cores} cores, {memory_gb:.0} GiB")
}
