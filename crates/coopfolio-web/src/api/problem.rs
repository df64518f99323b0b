//! The API's one error type and its one rendering: `application/problem+json` (RFC 9457) with
//! `type`, `title`, `status` and `detail`, plus `parameter` when a query parameter is wrong and
//! `errors` (each with its `field`) when a body is. `instance`, the request's path, is added by
//! the API router's middleware, which alone knows the request. The API never answers with the
//! portal's HTML error pages.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use coopfolio_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// What went wrong with an API request; each variant is one problem type.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A query parameter (or path segment) the endpoint cannot use.
    #[error("{parameter}: {detail}")]
    BadParameter {
        parameter: &'static str,
        detail: String,
    },
    /// A body that is not the JSON the endpoint takes.
    #[error("unreadable body: {0}")]
    BadBody(String),
    /// The body was read, and fields of it are wrong.
    #[error("invalid fields")]
    Invalid(Vec<FieldProblem>),
    #[error("not found: {0}")]
    NotFound(String),
    /// No credentials, or credentials that open nothing.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// Credentials whose role does not reach what was asked.
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("request body too large")]
    TooLarge,
    #[error("too many requests")]
    TooManyRequests { retry_after: Duration },
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("reading the database")]
    Store(#[source] StoreError),
}

/// One field of a body and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

/// An error answer, as RFC 9457 describes it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, such as `urn:coopfolio:problem:bad-parameter`.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The path of the request that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The query parameter that is wrong, for `bad-parameter`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// The fields of the body that are wrong, for `invalid-body`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

impl From<StoreError> for ApiError {
    /// A store refusal the caller can act on keeps its meaning; anything else is a 500.
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::Invalid { field, message } => ApiError::Invalid(vec![FieldProblem {
                field: field.to_owned(),
                message,
            }]),
            StoreError::NotFound { what, key } => {
                ApiError::NotFound(format!("No {what} '{key}' is stored."))
            }
            StoreError::UnknownKey { what, key, .. } => ApiError::Invalid(vec![FieldProblem {
                field: what.to_owned(),
                message: format!("no {what} '{key}' is stored"),
            }]),
            other => ApiError::Store(other),
        }
    }
}

impl ApiError {
    pub fn bad_parameter(parameter: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::BadParameter {
            parameter,
            detail: detail.into(),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadParameter { .. } | ApiError::BadBody(_) => StatusCode::BAD_REQUEST,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem document of this error.
    pub fn problem(&self) -> Problem {
        let (kind, title, detail) = match self {
            ApiError::BadParameter { parameter, detail } => (
                "bad-parameter",
                "A query parameter is not valid",
                format!("{parameter}: {detail}"),
            ),
            ApiError::BadBody(detail) => (
                "unreadable-body",
                "The body is not the JSON this endpoint takes",
                detail.clone(),
            ),
            ApiError::Invalid(errors) => (
                "invalid-body",
                "Fields of the body are not valid",
                errors
                    .iter()
                    .map(|error| format!("{}: {}", error.field, error.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            ApiError::NotFound(detail) => ("not-found", "Not found", detail.clone()),
            ApiError::Unauthorized(detail) => {
                ("unauthorized", "Authentication required", detail.clone())
            }
            ApiError::Forbidden(detail) => ("forbidden", "Not allowed", detail.clone()),
            ApiError::UnsupportedMediaType => (
                "unsupported-media-type",
                "Unsupported media type",
                "The body must be sent as Content-Type: application/json.".to_owned(),
            ),
            ApiError::TooLarge => (
                "too-large",
                "Request body too large",
                format!(
                    "A request body may hold at most {} bytes.",
                    crate::BODY_LIMIT_BYTES
                ),
            ),
            ApiError::TooManyRequests { retry_after } => (
                "too-many-requests",
                "Too many requests",
                format!(
                    "This address has sent as many inquiries as it may for now; try again in {} seconds.",
                    retry_after.as_secs().max(1)
                ),
            ),
            ApiError::MethodNotAllowed => (
                "method-not-allowed",
                "Method not allowed",
                "This path does not answer to this method; the OpenAPI document at \
                 /api/v1/openapi.json lists what it does answer to."
                    .to_owned(),
            ),
            ApiError::Store(_) => (
                "server-error",
                "Server error",
                "The server could not answer; the error is logged.".to_owned(),
            ),
        };
        Problem {
            problem_type: format!("urn:coopfolio:problem:{kind}"),
            title: title.to_owned(),
            status: self.status().as_u16(),
            detail,
            instance: None,
            parameter: match self {
                ApiError::BadParameter { parameter, .. } => Some((*parameter).to_owned()),
                _ => None,
            },
            errors: match self {
                ApiError::Invalid(errors) => errors.clone(),
                _ => Vec::new(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Store(source) = &self {
            tracing::error!(error = ?source, "an API request failed");
        }
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (
            self.status(),
            [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))],
            body,
        )
            .into_response();
        let headers = response.headers_mut();
        match &self {
            ApiError::Unauthorized(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"coopfolio\""),
                );
            }
            ApiError::TooManyRequests { retry_after } => {
                if let Ok(value) = HeaderValue::from_str(&retry_after.as_secs().max(1).to_string())
                {
                    headers.insert(header::RETRY_AFTER, value);
                }
            }
            _ => {}
        }
        response
    }
}
