//! The time of each headline figure, on a demo workspace of a given scale:
//!
//!     cargo bench -p coopfolio --bench figures               # scale 1000 (about 770,000 projects)
//!     COOPFOLIO_BENCH_SCALE=100 cargo bench -p coopfolio --bench figures
//!
//! The database is built once with `coopfolio demo --load-only --scale N` into
//! `target/bench-data/figures-scale-N.db` and reused by later runs; or, with
//! `COOPFOLIO_BENCH_DATABASE_URL` (a SQLite file or PostgreSQL, loaded beforehand with the same
//! command), that database is measured as it is, so that large ones can live outside the
//! worktree. `COOPFOLIO_BENCH_SCAN=1` also times the reference scan of the portfolio budget
//! (`portfolio_budget_by_scan`), which reads every budget entry of the period. Each figure is asked for
//! repeatedly through the store, as the portal and `report` ask for it, and the p50, p95 and
//! worst times are printed; so is the wall time of a whole `coopfolio report --json`. The
//! target of the design is p95 <= 20 ms per figure at scale 1000.

use std::process::Command;
use std::time::{Duration, Instant};

use coopfolio_core::period::Period;
use coopfolio_store::figures::Basis;
use coopfolio_store::Store;

const RUNS: usize = 20;

fn main() {
    let scale: u32 = std::env::var("COOPFOLIO_BENCH_SCALE")
        .ok()
        .and_then(|scale| scale.parse().ok())
        .unwrap_or(1000);
    let given = std::env::var("COOPFOLIO_BENCH_DATABASE_URL").ok();
    let folder = coopfolio_testdata::workspace_root().join("target/bench-data");
    let database = folder.join(format!("figures-scale-{scale}.db"));
    let url = given
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", database.display()));
    if given.is_none() && !database.exists() {
        std::fs::create_dir_all(&folder).unwrap();
        let started = Instant::now();
        let status = Command::new(env!("CARGO_BIN_EXE_coopfolio"))
            .args(["demo", "--load-only", "--scale", &scale.to_string()])
            .env("COOPFOLIO_DATABASE_URL", &url)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "loading the demo at scale {scale} failed");
        println!(
            "loaded the demo at scale {scale} in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // Opening a database made before a rollup builds it, once: timed apart.
        let started = Instant::now();
        let store = Store::connect(&url).await.unwrap();
        println!("opened in {:.1} s", started.elapsed().as_secs_f64());
        let period = Period::Biennium(2022);
        let stats = store.stats().await.unwrap();
        println!(
            "{url}: {} activities, {} transactions, {} budgets",
            stats.activities, stats.transactions, stats.budgets
        );
        println!("| figure | runs | p50 ms | p95 ms | worst ms |");
        println!("|---|---|---|---|---|");
        let mut times = Vec::new();
        for _ in 0..RUNS {
            let started = Instant::now();
            store.contributions(period, Basis::Approved).await.unwrap();
            times.push(started.elapsed());
        }
        row(
            "contributions 2022-23, approved (total, modality, group, ranking)",
            &mut times,
        );
        for _ in 0..RUNS {
            let started = Instant::now();
            store.contributions(period, Basis::Received).await.unwrap();
            times.push(started.elapsed());
        }
        row("contributions 2022-23, received", &mut times);
        for _ in 0..RUNS {
            let started = Instant::now();
            store.portfolio(period).await.unwrap();
            times.push(started.elapsed());
        }
        row(
            "portfolio 2022-23 (active, countries, regions, policy areas)",
            &mut times,
        );
        for _ in 0..RUNS {
            let started = Instant::now();
            store.portfolio_budget(period).await.unwrap();
            times.push(started.elapsed());
        }
        row("portfolio budget 2022-23", &mut times);
        if std::env::var("COOPFOLIO_BENCH_SCAN").is_ok_and(|scan| scan == "1") {
            let rollup = store.portfolio_budget(period).await.unwrap();
            for _ in 0..3 {
                let started = Instant::now();
                let scan = store.portfolio_budget_by_scan(period).await.unwrap();
                times.push(started.elapsed());
                assert_eq!(scan, rollup, "the rollup gives the scan's figure");
            }
            row("portfolio budget 2022-23, reference scan", &mut times);
        }
        store.close().await;
    });

    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let output = Command::new(env!("CARGO_BIN_EXE_coopfolio"))
            .args(["report", "--period", "2022-23", "--json"])
            .env("COOPFOLIO_DATABASE_URL", &url)
            .output()
            .unwrap();
        assert!(output.status.success());
        times.push(started.elapsed());
    }
    row(
        "`coopfolio report --period 2022-23 --json`, whole process",
        &mut times,
    );
}

fn row(figure: &str, times: &mut Vec<Duration>) {
    times.sort();
    let at = |quantile: f64| {
        let index = ((times.len() as f64 * quantile).ceil() as usize).clamp(1, times.len()) - 1;
        times[index].as_secs_f64() * 1000.0
    };
    println!(
        "| {figure} | {} | {:.1} | {:.1} | {:.1} |",
        times.len(),
        at(0.5),
        at(0.95),
        at(1.0)
    );
    times.clear();
}
