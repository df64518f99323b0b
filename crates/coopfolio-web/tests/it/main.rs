//! The portal's integration tests: the router driven with `oneshot` (no socket) over a SQLite
//! database loaded with the demo workspace exactly as `coopfolio demo --load-only` loads it.
//! The database is built once per test binary and each test opens its own store on it, since
//! a connection pool cannot outlive the runtime of the test that made it.

mod explorer;
mod home;
mod security;
mod staff;

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

/// A store on the demo database.
pub async fn demo_store() -> Store {
    Store::connect(&demo_database_url())
        .await
        .expect("opening the demo database")
}

/// GETs `uri` from a fresh router over `store`.
pub async fn get(store: &Store, uri: &str) -> Page {
    let app = coopfolio_web::app(coopfolio_web::AppState::new(store.clone()));
    let response = app
        .oneshot(Request::get(uri).body(Body::empty()).expect("a request"))
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
