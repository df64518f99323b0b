//! The web crate's one error type, and the one place that turns it into a status and a page:
//! a 4xx page says what the visitor asked for that cannot be given; a 5xx logs the cause and
//! shows a plain message, never the internals.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use coopfolio_store::StoreError;

use crate::text::catalog;
use crate::{language, render};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The page asked for does not exist; the text names what was looked for.
    #[error("not found: {0}")]
    NotFound(String),
    /// A query parameter the page cannot use; the text says which and why.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A staff page was asked for without an open session: the visitor is sent to log in.
    #[error("login required")]
    LoginRequired,
    /// A staff request that changes something came without an open session.
    #[error("not logged in")]
    Unauthorized,
    /// The user may not do this, or the request is not from the workspace's own forms; the text
    /// says which.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A request body beyond the limit every route keeps to.
    #[error("request body too large")]
    TooLarge,
    /// Too many login failures from one address; the text says when to try again.
    #[error("too many requests: {0}")]
    TooManyRequests(String),
    #[error("reading the database")]
    Store(#[from] StoreError),
    #[error("rendering a page")]
    Template(#[from] minijinja::Error),
    /// Writing a download (CSV, JSON or XLSX) failed; the text is the writer's error.
    #[error("writing a download: {0}")]
    Download(String),
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        // The request is not at hand here; its language is, for as long as its handler runs.
        let text = catalog(language::current());
        let (status, title, message) = match &self {
            WebError::NotFound(what) => (
                StatusCode::NOT_FOUND,
                text.get("not_found_title"),
                what.clone(),
            ),
            WebError::BadRequest(what) => (
                StatusCode::BAD_REQUEST,
                text.get("bad_request_title"),
                what.clone(),
            ),
            WebError::LoginRequired => {
                return (
                    StatusCode::SEE_OTHER,
                    [(axum::http::header::LOCATION, "/staff/login")],
                )
                    .into_response();
            }
            WebError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                text.get("staff_unauthorized_title"),
                text.get("staff_unauthorized_message").to_owned(),
            ),
            WebError::Forbidden(what) => (
                StatusCode::FORBIDDEN,
                text.get("staff_forbidden_title"),
                what.clone(),
            ),
            WebError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                text.get("bad_request_title"),
                text.get("staff_too_large_message").to_owned(),
            ),
            WebError::TooManyRequests(what) => (
                StatusCode::TOO_MANY_REQUESTS,
                text.get("staff_too_many_title"),
                what.clone(),
            ),
            WebError::Store(_) | WebError::Template(_) | WebError::Download(_) => {
                tracing::error!(error = ?self, "a page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    text.get("server_error_title"),
                    text.get("server_error_message").to_owned(),
                )
            }
        };
        let page =
            render::error_page(text, status.as_u16(), title, &message).unwrap_or_else(|error| {
                // The error page itself failed: plain text, escaped by being text.
                tracing::error!(?error, "the error page failed");
                format!("{} {title}", status.as_u16())
            });
        (status, Html(page)).into_response()
    }
}
