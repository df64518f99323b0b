//! Coopfolio's public transparency portal, the only crate that speaks HTTP: server-rendered
//! pages over the store (headline figures with their method notes, the programmes and projects
//! explorer, project pages, the inquiry form) that work without JavaScript.
//!
//! [`app`] builds the router from a state and nothing else, so tests drive it with `oneshot`
//! and no socket; [`serve`] runs it on a listener the caller bound until a shutdown future
//! completes. Every response, error pages included, carries the same security headers.

#![forbid(unsafe_code)]

mod api;
mod cache;
mod chart;
mod client;
mod downloads;
mod entity_pages;
mod error;
mod explorer;
mod format;
mod inquiry;
mod language;
mod mail;
mod map;
mod pages;
mod query;
mod render;
mod staff;
mod text;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::header::{self, HeaderValue};
use axum::routing::get;
use axum::Router;
use coopfolio_store::Store;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;

pub use api::{openapi_document, API_ROUTES};
pub use error::WebError;
pub use inquiry::{MESSAGE_MAX_CHARS, SEND_LIMIT};
pub use mail::{deliver_outbox, run_background, Delivery, MailSettingError, Mailer, SmtpSettings};
pub use staff::imports::{IatiImporter, ImportedFile, UPLOAD_LIMIT_BYTES};
pub use staff::{Access, RouteInfo, STAFF_ROUTES};

/// The script and style rules every page obeys: nothing inline, nothing from elsewhere; SVG
/// charts are markup, not images, so they need no exception.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'";

/// The public pages take no uploads; the largest body is an inquiry, whose longest message
/// fits well within this even percent-encoded.
pub(crate) const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// What every request handler can reach. Cheap to clone; holds no state of its own beyond the
/// store's connection pool, so any number of servers can share one database.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    /// The server sits behind a reverse proxy that sets `X-Forwarded-For` and
    /// `X-Forwarded-Host`, so those name the client and the public host (see `client.rs`).
    pub behind_proxy: bool,
    /// The mail server new inquiries' notices go to; without one they wait in the outbox.
    pub mailer: Option<Arc<Mailer>>,
    /// What imports uploaded IATI files; without it the imports page only lists past runs.
    pub importer: Option<Arc<dyn IatiImporter>>,
    /// The largest upload the imports page takes, all files together.
    pub upload_limit_bytes: u64,
    /// Rendered public pages, kept a few seconds (see `cache.rs`); shared by the clones.
    pub(crate) pages: cache::PageCache,
}

impl AppState {
    pub fn new(store: Store) -> AppState {
        AppState {
            store,
            behind_proxy: false,
            mailer: None,
            importer: None,
            upload_limit_bytes: UPLOAD_LIMIT_BYTES,
            pages: cache::PageCache::default(),
        }
    }

    /// The same state without the page cache: every page rendered from the database, as the
    /// load benchmark's comparison run measures.
    pub fn without_page_cache(self) -> AppState {
        AppState {
            pages: cache::PageCache::disabled(),
            ..self
        }
    }

    /// The same state, delivering notices through `mailer`.
    pub fn with_mailer(self, mailer: Mailer) -> AppState {
        AppState {
            mailer: Some(Arc::new(mailer)),
            ..self
        }
    }

    /// The same state, importing uploaded files with `importer`.
    pub fn with_importer(self, importer: Arc<dyn IatiImporter>) -> AppState {
        AppState {
            importer: Some(importer),
            ..self
        }
    }

    /// The same state, taking uploads up to `bytes` in all.
    pub fn with_upload_limit(self, bytes: u64) -> AppState {
        AppState {
            upload_limit_bytes: bytes,
            ..self
        }
    }

    /// The same state, told whether the server is behind a reverse proxy.
    pub fn behind_proxy(self, behind_proxy: bool) -> AppState {
        AppState {
            behind_proxy,
            ..self
        }
    }
}

/// Every public route of the router below, beside it so that a new one is listed here too (a
/// test reads this file's `.route(` calls and checks them against the list). The staff
/// workspace's routes are in [`STAFF_ROUTES`], from which its router is built.
pub const PUBLIC_ROUTES: &[RouteInfo] = &[
    RouteInfo::public("GET", "/"),
    RouteInfo::public("GET", "/projects"),
    RouteInfo::public("GET", "/projects.csv"),
    RouteInfo::public("GET", "/projects.json"),
    RouteInfo::public("GET", "/projects.xlsx"),
    RouteInfo::public("GET", "/projects.xml"),
    RouteInfo::public("GET", "/projects/{identifier}"),
    RouteInfo::public("GET", "/projects/{identifier}/iati.xml"),
    RouteInfo::public("GET", "/partners"),
    RouteInfo::public("GET", "/partners/{key}"),
    RouteInfo::public("GET", "/countries/{alpha2}"),
    RouteInfo::public("GET", "/policy-areas/{code}"),
    RouteInfo::public("GET", "/partnerships"),
    RouteInfo::public("GET", "/partnerships/{key}"),
    RouteInfo::public("GET", "/funding"),
    RouteInfo::public("GET", "/contact"),
    RouteInfo::public("POST", "/contact"),
    RouteInfo::public("GET", "/contact/thanks"),
    RouteInfo::public("GET", "/assets/style.css"),
];

/// Every route of the application, public, staff and API, with who may use it. For an API
/// route, `Access::Staff(role)` asks for an API token of a user with that role.
pub fn routes() -> Vec<RouteInfo> {
    PUBLIC_ROUTES
        .iter()
        .chain(STAFF_ROUTES)
        .chain(API_ROUTES)
        .copied()
        .collect()
}

/// The portal's router.
pub fn app(state: AppState) -> Router {
    let staff_router = staff::router(&state);
    let upload_router = staff::upload_router(&state);
    let pages = state.clone();
    // The API's router holds whole paths under `/api/v1` and answers its own errors as
    // problem documents, unknown paths under it included, so the portal's fallback never
    // gives it an HTML page.
    let api_router = api::router(&state);
    Router::new()
        .route("/", get(pages::home))
        .route("/projects", get(explorer::projects))
        .route("/projects.csv", get(downloads::csv))
        .route("/projects.json", get(downloads::json))
        .route("/projects.xlsx", get(downloads::xlsx))
        .route("/projects.xml", get(downloads::xml))
        .route("/projects/{identifier}", get(pages::project))
        .route(
            "/projects/{identifier}/iati.xml",
            get(downloads::project_xml),
        )
        .route("/partners", get(entity_pages::partners))
        .route("/partners/{key}", get(entity_pages::partner))
        .route("/countries/{alpha2}", get(entity_pages::country))
        .route("/policy-areas/{code}", get(entity_pages::policy_area))
        .route("/partnerships", get(entity_pages::partnerships))
        .route("/partnerships/{key}", get(entity_pages::partnership))
        .route("/funding", get(entity_pages::funding))
        .route("/contact", get(inquiry::form).post(inquiry::send))
        .route("/contact/thanks", get(inquiry::thanks))
        .route("/assets/style.css", get(pages::stylesheet))
        .merge(staff_router)
        // The body limit wraps the routes above; the upload route, merged below it, streams
        // its body to disk and keeps a limit of its own; the API's router keeps the same limit
        // and says so in a problem document.
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
        .merge(api_router)
        .merge(upload_router)
        .fallback(pages::not_found)
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(
            pages,
            cache::middleware,
        ))
        // Inside the header layers, so that error pages too come in the request's language.
        .layer(axum::middleware::from_fn(language::middleware))
        // The header layers come last so that they wrap everything above, the body limit's
        // own refusals and the fallback included.
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
}

/// Serves the portal on `listener` until `shutdown` completes, then finishes the requests in
/// flight. Each connection's peer address reaches the handlers, for the inquiry form's limit
/// per client.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
