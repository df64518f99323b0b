//! The portal's integration tests: the router driven with `oneshot` (no socket) over a SQLite
//! database loaded with the demo workspace exactly as `coopfolio demo --load-only` loads it.
//! The database is built once per test binary and each test opens its own store on it, since
//! a connection pool cannot outlive the runtime of the test that made it. Tests that write
//! (the inquiry form, the browser) work on a copy of it or on an empty database of their own.
//!
//! `browser` drives real headless Chromium against the real server; `crawl` follows every link
//! of the portal.

mod api;
mod api_schema;
mod api_writes;
mod browser;
mod browser_staff;
mod browser_staff_ops;
mod browser_staff_settings;
mod crawl;
mod downloads;
mod entity_pages;
mod explorer;
mod filters;
mod home;
mod iati_downloads;
mod inquiry;
mod languages;
mod map;
mod page_cache;
mod security;
mod staff;
mod staff_ops;
mod staff_projects;
mod staff_records;
mod staff_settings;

use std::path::PathBuf;
use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use coopfolio_core::codelists::Codelists;
use coopfolio_demo::DemoOptions;
use coopfolio_store::Store;
use http_body_util::BodyExt;
use tower::ServiceExt;

/// A response, read whole.
pub struct Page {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

/// The URL of the demo database, loaded on first use.
fn demo_database_url() -> String {
    static DATABASE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = DATABASE.get_or_init(|| {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let path = folder.path().join("demo.db");
        let url = format!("sqlite://{}", path.display());
        // A runtime of its own, finished before any test uses the file.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                let store = Store::connect(&url).await.expect("opening the database");
                coopfolio::demo::load_demo(&store, &DemoOptions::default(), Codelists::bundled())
                    .await
                    .expect("loading the demo");
                store.close().await;
            });
        })
        .join()
        .expect("the demo loads");
        (folder, path)
    });
    format!("sqlite://{}", path.display())
}

/// A copy of the demo database of its own, for a test that writes: its URL and the folder
/// that must outlive it. The loader closed its store, which leaves the whole database in the
/// main file; a write-ahead log, if some reader left one, is copied beside it.
pub fn demo_database_copy() -> (String, tempfile::TempDir) {
    let source = demo_database_url();
    let source = PathBuf::from(source.trim_start_matches("sqlite://"));
    let folder = tempfile::tempdir().expect("a temporary folder");
    let copy = folder.path().join("demo.db");
    std::fs::copy(&source, &copy).expect("copying the demo database");
    let log = source.with_extension("db-wal");
    if log.exists() {
        std::fs::copy(&log, copy.with_extension("db-wal")).expect("copying its log");
    }
    (format!("sqlite://{}", copy.display()), folder)
}

/// A store on a new, empty database (the schema and nothing else), with the folder that must
/// outlive it.
pub async fn empty_store() -> (Store, tempfile::TempDir) {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", folder.path().join("empty.db").display());
    let store = Store::connect(&url)
        .await
        .expect("opening an empty database");
    (store, folder)
}

/// A store on the demo database.
pub async fn demo_store() -> Store {
    Store::connect(&demo_database_url())
        .await
        .expect("opening the demo database")
}

/// GETs `uri` from a fresh router over `store`.
pub async fn get(store: &Store, uri: &str) -> Page {
    get_with_headers(store, uri, &[]).await
}

/// GETs `uri` with request headers, such as `Cookie` or `Accept-Language`.
pub async fn get_with_headers(store: &Store, uri: &str, headers: &[(&str, &str)]) -> Page {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Body::empty()).expect("a request");
    send(coopfolio_web::AppState::new(store.clone()), request).await
}

/// Sends `request` to a fresh router over `state` and reads the whole response.
pub async fn send(state: coopfolio_web::AppState, request: Request<Body>) -> Page {
    let response = coopfolio_web::app(state)
        .oneshot(request)
        .await
        .expect("the router always answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    Page {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).expect("UTF-8"),
    }
}

/// Text as the templates write it: HTML-escaped.
pub fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}
