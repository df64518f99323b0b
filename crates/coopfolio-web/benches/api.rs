//! "The API answers the explorer's queries as fast as the pages do": the same explorer queries
//! asked as the HTML page (`/projects?...`) and as JSON (`/api/v1/projects?...&limit=50`),
//! through the router with `oneshot` as the tests drive it (no socket), on the demo workspace:
//!
//!     cargo bench -p coopfolio-web --bench api                  # scale 1 (770 activities)
//!     COOPFOLIO_BENCH_SCALE=10 cargo bench -p coopfolio-web --bench api
//!
//! The database is built once into `target/bench-data/api-scale-N.db` and reused. Each query
//! is asked `COOPFOLIO_BENCH_RUNS` times (200 by default) on each side, the two sides taking
//! turns so that the machine's noise falls on both; the p50 and p95 of each are printed with
//! the ratio API / page (below 1: the API is faster). Both answer 50 rows; the page also counts
//! its facets, which the API leaves to `/api/v1/facets`, so the list and the facets asked of
//! the API one after the other are timed too: what a client that needs all the page shows
//! pays.
//!
//! Then a write: an officer token creates `COOPFOLIO_BENCH_RUNS` partners one after the other
//! (`POST /api/v1/partners`: the body checked by the staff form's checks, the partner and its
//! audit event saved in one transaction, the stored partner read back as the answer), on a
//! copy of the database so that the next run's reads find it as the demo left it.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use coopfolio_core::codelists::Codelists;
use coopfolio_demo::DemoOptions;
use coopfolio_store::staff::Role;
use coopfolio_store::Store;
use http_body_util::BodyExt;
use tower::ServiceExt;

/// The explorer queries timed: no filter, one filter, several, search, a marker, a sort.
const QUERIES: &[&str] = &[
    "",
    "country=KE",
    "region=africa&status=2",
    "area=social_protection&sort=start_desc",
    "q=employment",
    "south_south=1&year=2016",
    "group=government&modality=earmarked",
];

fn main() {
    let scale: u32 = env_number("COOPFOLIO_BENCH_SCALE", 1);
    let runs: usize = env_number("COOPFOLIO_BENCH_RUNS", 200);
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data");
    std::fs::create_dir_all(&folder).unwrap();
    let database = folder.join(format!("api-scale-{scale}.db"));
    let url = format!("sqlite://{}", database.display());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        if !database.exists() {
            let started = Instant::now();
            let store = Store::connect(&url).await.unwrap();
            let options = DemoOptions {
                scale,
                ..DemoOptions::default()
            };
            coopfolio::demo::load_demo(&store, &options, Codelists::bundled())
                .await
                .unwrap();
            store.close().await;
            println!(
                "loaded the demo at scale {scale} in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        let store = Store::connect(&url).await.unwrap();
        let stats = store.stats().await.unwrap();
        println!("scale {scale}: {} activities; {runs} runs of each query on each side", stats.activities);
        println!(
            "| query | page p50 ms | page p95 ms | API p50 ms | API p95 ms | API / page (p50) | API + facets p50 ms | (API + facets) / page (p50) |"
        );
        println!("|---|---|---|---|---|---|---|---|");
        let (mut all_pages, mut all_api, mut all_both) = (Vec::new(), Vec::new(), Vec::new());
        for query in QUERIES {
            let page_uri = format!("/projects?{query}");
            let api_uri = format!("/api/v1/projects?{query}&limit=50");
            let facets_uri = format!("/api/v1/facets?{query}");
            // One of each first, so that caches are warm on both sides alike.
            ask(&store, &page_uri).await;
            ask(&store, &api_uri).await;
            ask(&store, &facets_uri).await;
            let mut page = Vec::with_capacity(runs);
            let mut api = Vec::with_capacity(runs);
            let mut both = Vec::with_capacity(runs);
            for _ in 0..runs {
                page.push(ask(&store, &page_uri).await);
                let list = ask(&store, &api_uri).await;
                api.push(list);
                both.push(list + ask(&store, &facets_uri).await);
            }
            all_pages.extend_from_slice(&page);
            all_api.extend_from_slice(&api);
            all_both.extend_from_slice(&both);
            let label = if query.is_empty() { "(none)" } else { query };
            print_row(&format!("`{label}`"), &mut page, &mut api, &mut both);
        }
        print_row("all queries", &mut all_pages, &mut all_api, &mut all_both);
        store.close().await;
        time_writes(&database, runs).await;
    });
}

/// Times creating partners through the API on a copy of `database`.
async fn time_writes(database: &std::path::Path, runs: usize) {
    let copy = database.with_extension("writes.db");
    std::fs::copy(database, &copy).unwrap();
    let store = Store::connect(&format!("sqlite://{}", copy.display()))
        .await
        .unwrap();
    let email = "bench-officer@example.org";
    store
        .add_staff_user(email, Role::Officer, "a long enough passphrase", "bench")
        .await
        .unwrap();
    let token = store
        .create_api_token(email, Some("bench"), "bench")
        .await
        .unwrap()
        .secret;
    let mut times = Vec::with_capacity(runs);
    for run in 0..runs {
        let body = serde_json::json!({
            "key": format!("bench-partner-{run}"),
            "names": { "en": format!("Bench partner {run}") },
            "organisation_type": "60",
            "country": "KE"
        });
        let request = Request::post("/api/v1/partners")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let started = Instant::now();
        let response = coopfolio_web::app(coopfolio_web::AppState::new(store.clone()))
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status();
        let answer = response.into_body().collect().await.unwrap().to_bytes();
        times.push(started.elapsed());
        assert_eq!(
            status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&answer)
        );
    }
    store.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", copy.display()));
    }
    let (p50, p95) = percentiles(&mut times);
    println!();
    println!("| write | runs | p50 ms | p95 ms |");
    println!("|---|---|---|---|");
    println!("| create a partner (`POST /api/v1/partners`, officer token) | {runs} | {p50:.2} | {p95:.2} |");
}

fn print_row(label: &str, page: &mut [Duration], api: &mut [Duration], both: &mut [Duration]) {
    let (page_p50, page_p95) = percentiles(page);
    let (api_p50, api_p95) = percentiles(api);
    let (both_p50, _) = percentiles(both);
    println!(
        "| {label} | {page_p50:.2} | {page_p95:.2} | {api_p50:.2} | {api_p95:.2} | {:.2} | {both_p50:.2} | {:.2} |",
        api_p50 / page_p50,
        both_p50 / page_p50
    );
}

/// The time of one request through a fresh router, the body read whole.
async fn ask(store: &Store, uri: &str) -> Duration {
    let started = Instant::now();
    let response = coopfolio_web::app(coopfolio_web::AppState::new(store.clone()))
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let elapsed = started.elapsed();
    assert_eq!(
        status,
        StatusCode::OK,
        "{uri}: {}",
        String::from_utf8_lossy(&body)
    );
    elapsed
}

/// p50 and p95 in milliseconds.
fn percentiles(times: &mut [Duration]) -> (f64, f64) {
    times.sort_unstable();
    let at = |share: f64| {
        let index = ((times.len() as f64 * share).ceil() as usize).clamp(1, times.len()) - 1;
        times[index].as_secs_f64() * 1000.0
    };
    (at(0.50), at(0.95))
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}
