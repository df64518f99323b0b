//! Coopfolio's public transparency portal, the only crate that speaks HTTP: server-rendered
//! pages over the store (headline figures with their method notes, the programmes and projects
//! explorer, project pages) that work without JavaScript.
//!
//! [`app`] builds the router from a state and nothing else, so tests drive it with `oneshot`
//! and no socket; [`serve`] runs it on a listener the caller bound until a shutdown future
//! completes. Every response, error pages included, carries the same security headers.

#![forbid(unsafe_code)]

mod chart;
mod error;
mod format;
mod pages;
mod query;
mod render;
mod staff;
mod text;

use std::future::Future;

use axum::http::header::{self, HeaderValue};
use axum::routing::get;
use axum::Router;
use coopfolio_store::Store;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;

pub use error::WebError;
pub use staff::{Access, RouteInfo, STAFF_ROUTES};

/// The script and style rules every page obeys: nothing inline, nothing from elsewhere; SVG
/// charts are markup, not images, so they need no exception.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'";

/// The public pages take no uploads yet; forms to come (the inquiry) fit well within this.
pub(crate) const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// What every request handler can reach. Cheap to clone; holds no state of its own beyond the
/// store's connection pool, so any number of servers can share one database.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
}

impl AppState {
    pub fn new(store: Store) -> AppState {
        AppState { store }
    }
}

/// Every public route of the router below, beside it so that a new one is listed here too (a
/// test reads this file's `.route(` calls and checks them against the list). The staff
/// workspace's routes are in [`STAFF_ROUTES`], from which its router is built.
pub const PUBLIC_ROUTES: &[RouteInfo] = &[
    RouteInfo::public("GET", "/"),
    RouteInfo::public("GET", "/projects"),
    RouteInfo::public("GET", "/projects/{identifier}"),
    RouteInfo::public("GET", "/assets/style.css"),
];

/// Every route of the application, public and staff, with who may use it.
pub fn routes() -> Vec<RouteInfo> {
    PUBLIC_ROUTES.iter().chain(STAFF_ROUTES).copied().collect()
}

/// The portal's router.
pub fn app(state: AppState) -> Router {
    let staff_router = staff::router(&state);
    Router::new()
        .route("/", get(pages::home))
        .route("/projects", get(pages::projects))
        .route("/projects/{identifier}", get(pages::project))
        .route("/assets/style.css", get(pages::stylesheet))
        .merge(staff_router)
        .fallback(pages::not_found)
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
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
/// flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer's address reaches the handlers, for the login rate limit.
    let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await
}
