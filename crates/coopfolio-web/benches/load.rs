//! Throughput and latency of the public pages under load, on loopback:
//!
//!     cargo bench -p coopfolio-web --bench load
//!     COOPFOLIO_BENCH_SCALE=10 COOPFOLIO_BENCH_SECONDS=20 cargo bench -p coopfolio-web --bench load
//!
//! The demo workspace is loaded once into `target/bench-data/portal-scale-N.db` and reused. The
//! portal is served from this process exactly as `coopfolio serve` serves it (the same router,
//! a multi-threaded runtime with one worker per core) on a port of 127.0.0.1, and `wrk` (Debian:
//! `apt-get install wrk`) drives each page with many keep-alive connections. For each page the
//! bench prints requests per second, p50 and p99 latency, and errors (socket errors and any
//! status other than 200). The target of the design: >= 5,000 requests/s on 2 cores for the
//! home page, p99 < 50 ms, zero errors. `COOPFOLIO_BENCH_CONNECTIONS` (default 64) and
//! `COOPFOLIO_BENCH_SECONDS` (default 10) change the load; `COOPFOLIO_BENCH_PAGES` (a comma
//! list of paths) runs some pages only; `COOPFOLIO_BENCH_NO_CACHE=1` turns the page cache off,
//! so that every request renders its page from the database.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use coopfolio_core::codelists::Codelists;
use coopfolio_demo::DemoOptions;
use coopfolio_store::Store;

/// The pages measured, home first.
const PAGES: [&str; 7] = [
    "/",
    "/projects",
    "/projects?country=KE&area=employment",
    "/projects/XI-DEMO-COOPFOLIO-1",
    "/funding",
    "/countries/KE",
    "/assets/style.css",
];

fn main() {
    let setting = |name: &str, default: u64| -> u64 {
        std::env::var(name)
            .ok()
            .and_then(|value| value.parse().ok())
            .unwrap_or(default)
    };
    let scale = setting("COOPFOLIO_BENCH_SCALE", 1) as u32;
    let connections = setting("COOPFOLIO_BENCH_CONNECTIONS", 64);
    let seconds = setting("COOPFOLIO_BENCH_SECONDS", 10);
    if Command::new("wrk").arg("--version").output().is_err() {
        println!("SKIPPED: the load benchmark needs wrk (apt-get install wrk)");
        return;
    }
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data");
    std::fs::create_dir_all(&folder).unwrap();
    let database = folder.join(format!("portal-scale-{scale}.db"));
    let url = format!("sqlite://{}", database.display());
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .enable_all()
        .build()
        .unwrap();
    let store = runtime.block_on(async {
        let store = Store::connect(&url).await.expect("opening the database");
        if !store.has_synthetic_workspace().await.unwrap() {
            let started = Instant::now();
            coopfolio::demo::load_demo(
                &store,
                &DemoOptions {
                    scale,
                    ..DemoOptions::default()
                },
                Codelists::bundled(),
            )
            .await
            .expect("loading the demo");
            println!(
                "loaded the demo at scale {scale} in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        store
    });
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let address: SocketAddr = listener.local_addr().unwrap();
    let cached = std::env::var("COOPFOLIO_BENCH_NO_CACHE").is_err();
    let mut state = coopfolio_web::AppState::new(store);
    if !cached {
        state = state.without_page_cache();
    }
    runtime.spawn(coopfolio_web::serve(
        listener,
        state,
        std::future::pending::<()>(),
    ));

    let pages: Vec<String> = match std::env::var("COOPFOLIO_BENCH_PAGES") {
        Ok(list) => list.split(',').map(str::to_owned).collect(),
        Err(_) => PAGES.iter().map(|page| (*page).to_owned()).collect(),
    };
    println!(
        "scale {scale}, {cores} cores, {connections} connections, {seconds} s a page, page cache {}, load average {}",
        if cached { "on" } else { "off" },
        load_average()
    );
    println!("| page | requests/s | p50 ms | p99 ms | errors |");
    println!("|---|---|---|---|---|");
    for page in pages {
        let target = format!("http://{address}{page}");
        // A short warm-up fills the caches and the connection pool before the measured run.
        wrk(&target, connections, 2);
        let run = wrk(&target, connections, seconds);
        println!(
            "| `{page}` | {:.0} | {:.2} | {:.2} | {} |",
            run.requests_per_second, run.p50_ms, run.p99_ms, run.errors
        );
    }
    println!("load average after: {}", load_average());
}

/// What one wrk run measured.
struct Run {
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

/// Runs wrk on one URL with two threads and reads its report.
fn wrk(url: &str, connections: u64, seconds: u64) -> Run {
    let output = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            url,
        ])
        .output()
        .expect("running wrk");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "wrk failed: {report}");
    let field = |prefix: &str| -> Option<&str> {
        report
            .lines()
            .map(str::trim)
            .find(|line| line.starts_with(prefix))
            .and_then(|line| line[prefix.len()..].split_whitespace().next())
    };
    let socket_errors: u64 = report
        .lines()
        .find(|line| line.trim().starts_with("Socket errors:"))
        .map(|line| {
            line.split(|c: char| !c.is_ascii_digit())
                .filter_map(|number| number.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    let bad_status: u64 = field("Non-2xx or 3xx responses:")
        .and_then(|count| count.parse().ok())
        .unwrap_or(0);
    Run {
        requests_per_second: field("Requests/sec:")
            .and_then(|value| value.parse().ok())
            .unwrap_or(0.0),
        p50_ms: field("50%").map_or(f64::NAN, milliseconds),
        p99_ms: field("99%").map_or(f64::NAN, milliseconds),
        errors: socket_errors + bad_status,
    }
}

/// wrk's `1.23ms`, `850.00us` or `1.02s` in milliseconds.
fn milliseconds(text: &str) -> f64 {
    let (number, factor) = if let Some(number) = text.strip_suffix("us") {
        (number, 0.001)
    } else if let Some(number) = text.strip_suffix("ms") {
        (number, 1.0)
    } else if let Some(number) = text.strip_suffix('s') {
        (number, 1000.0)
    } else {
        (text, 1.0)
    };
    number
        .parse::<f64>()
        .map_or(f64::NAN, |value| value * factor)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_owned())
}
