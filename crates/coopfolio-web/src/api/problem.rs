//! The API's one error type and its one rendering: `application/problem+json` (RFC 9457) with
//! `type`, `title`, `status` and `detail`, plus `parameter` when a query parameter is wrong and
//! `errors` (each with its `field`) when a body is. `instance`, the request's path, is added by
//! the API router's middleware, which alone knows the request. The API never answers with the
//! portal's HTML error pages.
//!
//! `title` and `detail` are in the request's language (`Accept-Language`, as the portal
//! chooses it), from the `apiw_` entries of the text files; a variant keeps the values its
//! sentence needs rather than a sentence, so that the words are picked only when the answer is
//! written. Field messages come from the same catalogs, written by the checks that found them.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use coopfolio_store::staff::Role;
use coopfolio_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::text::catalog;

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
    /// Nothing of kind `what` (a [`Missing`]) under `key`.
    #[error("not found: {what:?} {key}")]
    NotFound { what: Missing, key: String },
    /// No credentials, or credentials that open nothing.
    #[error("unauthorized: {0:?}")]
    Unauthorized(Unauthorized),
    /// Credentials whose role does not reach what was asked.
    #[error("forbidden: {email} is {role}, {required} needed")]
    Forbidden {
        required: Role,
        email: String,
        role: Role,
    },
    /// `If-Match` named another version of the record than the one stored.
    #[error("precondition failed")]
    PreconditionFailed,
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

/// What a 404 did not find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// A path under the API with no endpoint; the key is the path.
    Endpoint,
    Project,
    Partner,
    Agreement,
    Partnership,
    Country,
    PolicyArea,
    Inquiry,
    /// A store record of another kind, named by the store.
    Record,
}

impl Missing {
    fn text_key(self) -> &'static str {
        match self {
            Missing::Endpoint => "apiw_missing_endpoint",
            Missing::Project => "apiw_missing_project",
            Missing::Partner => "apiw_missing_partner",
            Missing::Agreement => "apiw_missing_agreement",
            Missing::Partnership => "apiw_missing_partnership",
            Missing::Country => "apiw_missing_country",
            Missing::PolicyArea => "apiw_missing_policy_area",
            Missing::Inquiry => "apiw_missing_inquiry",
            Missing::Record => "apiw_missing_record",
        }
    }

    /// The kind the store names in its `NotFound`.
    fn of_store(what: &str) -> Missing {
        match what {
            "partner" => Missing::Partner,
            "agreement" => Missing::Agreement,
            "partnership" => Missing::Partnership,
            "inquiry" => Missing::Inquiry,
            "project" | "activity" => Missing::Project,
            _ => Missing::Record,
        }
    }
}

/// Why a request's credentials open nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unauthorized {
    /// `Authorization` is not `Bearer` and a token.
    NotBearer,
    /// The token is unknown or revoked.
    UnknownToken,
    /// No token, where a user with this role is needed.
    Needs(Role),
}

/// One field of a body and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field, as a JSON pointer into the body (`/instalments/1/amount`) on the record
    /// writes, or by name on the inquiry endpoints.
    pub field: String,
    /// What is wrong with it, in the request's language.
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
            StoreError::NotFound { what, key } => ApiError::NotFound {
                what: Missing::of_store(what),
                key,
            },
            StoreError::UnknownKey { what, key, .. } => ApiError::Invalid(vec![FieldProblem {
                field: what.to_owned(),
                message: format!("no {what} '{key}' is stored"),
            }]),
            other => ApiError::Store(other),
        }
    }
}

impl ApiError {
    pub fn not_found(what: Missing, key: impl Into<String>) -> ApiError {
        ApiError::NotFound {
            what,
            key: key.into(),
        }
    }

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
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem document of this error, in the language of the request being answered.
    pub fn problem(&self) -> Problem {
        let text = catalog(crate::language::current());
        let say = |key: &'static str, values: &[(&str, &str)]| {
            values
                .iter()
                .fold(text.get(key).to_owned(), |sentence, (name, value)| {
                    sentence.replace(&format!("{{{name}}}"), value)
                })
        };
        let (kind, detail) = match self {
            ApiError::BadParameter { parameter, detail } => {
                ("bad-parameter", format!("{parameter}: {detail}"))
            }
            ApiError::BadBody(detail) => (
                "unreadable-body",
                say("apiw_detail_unreadable_body", &[("error", detail.as_str())]),
            ),
            ApiError::Invalid(errors) => (
                "invalid-body",
                errors
                    .iter()
                    .map(|error| format!("{}: {}", error.field, error.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            ApiError::NotFound { what, key } => {
                ("not-found", say(what.text_key(), &[("key", key.as_str())]))
            }
            ApiError::Unauthorized(why) => (
                "unauthorized",
                match why {
                    Unauthorized::NotBearer => say("apiw_detail_not_bearer", &[]),
                    Unauthorized::UnknownToken => say("apiw_detail_unknown_token", &[]),
                    Unauthorized::Needs(role) => {
                        say("apiw_detail_token_needed", &[("role", role.code())])
                    }
                },
            ),
            ApiError::Forbidden {
                required,
                email,
                role,
            } => (
                "forbidden",
                say(
                    "apiw_detail_forbidden",
                    &[
                        ("required", required.code()),
                        ("email", email.as_str()),
                        ("role", role.code()),
                    ],
                ),
            ),
            ApiError::PreconditionFailed => (
                "precondition-failed",
                say("apiw_detail_precondition_failed", &[]),
            ),
            ApiError::UnsupportedMediaType => (
                "unsupported-media-type",
                say("apiw_detail_unsupported_media_type", &[]),
            ),
            ApiError::TooLarge => (
                "too-large",
                say(
                    "apiw_detail_too_large",
                    &[("limit", crate::BODY_LIMIT_BYTES.to_string().as_str())],
                ),
            ),
            ApiError::TooManyRequests { retry_after } => (
                "too-many-requests",
                say(
                    "apiw_detail_too_many_requests",
                    &[("seconds", retry_after.as_secs().max(1).to_string().as_str())],
                ),
            ),
            ApiError::MethodNotAllowed => (
                "method-not-allowed",
                say("apiw_detail_method_not_allowed", &[]),
            ),
            ApiError::Store(_) => ("server-error", say("apiw_detail_server_error", &[])),
        };
        Problem {
            problem_type: format!("urn:coopfolio:problem:{kind}"),
            title: text.get(title_key(kind)).to_owned(),
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

/// The text key of a problem type's title.
fn title_key(kind: &str) -> &'static str {
    match kind {
        "bad-parameter" => "apiw_title_bad_parameter",
        "unreadable-body" => "apiw_title_unreadable_body",
        "invalid-body" => "apiw_title_invalid_body",
        "not-found" => "apiw_title_not_found",
        "unauthorized" => "apiw_title_unauthorized",
        "forbidden" => "apiw_title_forbidden",
        "precondition-failed" => "apiw_title_precondition_failed",
        "unsupported-media-type" => "apiw_title_unsupported_media_type",
        "too-large" => "apiw_title_too_large",
        "too-many-requests" => "apiw_title_too_many_requests",
        "method-not-allowed" => "apiw_title_method_not_allowed",
        _ => "apiw_title_server_error",
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
