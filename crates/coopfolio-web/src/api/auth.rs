//! Who is calling the API: the public, or a staff user through an API token in
//! `Authorization: Bearer`. The token is checked once per request, by the middleware in front
//! of every API route, and a token that opens nothing is a 401 even on a public route: a
//! client whose token was revoked should hear so, not quietly get the public's answer.
//!
//! Routes that need a role are behind [`require`], built from `API_ROUTES`, which answers 401
//! to the public and 403 to a role below the one needed before the handler runs, so nothing
//! changes.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use coopfolio_store::api::Visibility;
use coopfolio_store::staff::{Role, StaffAccount};

use super::problem::{ApiError, Unauthorized};
use crate::AppState;

/// The caller of an API request.
#[derive(Debug, Clone)]
pub enum Caller {
    Public,
    Staff(StaffAccount),
}

impl Caller {
    /// What the caller may see of confidential records.
    pub fn visibility(&self) -> Visibility {
        match self {
            Caller::Public => Visibility::Public,
            Caller::Staff(_) => Visibility::Staff,
        }
    }

    /// Whether answers to this caller may be kept by shared caches.
    pub fn audience(&self) -> super::paging::Audience {
        match self {
            Caller::Public => super::paging::Audience::Public,
            Caller::Staff(_) => super::paging::Audience::Private,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Caller, ApiError> {
        Ok(parts
            .extensions
            .get::<Caller>()
            .cloned()
            .unwrap_or(Caller::Public))
    }
}

/// Finds the caller from the `Authorization` header and hands it to the route.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = match request.headers().get(header::AUTHORIZATION) {
        None => Caller::Public,
        Some(value) => {
            let secret = value
                .to_str()
                .ok()
                .and_then(|value| value.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, secret)| secret.trim().to_owned());
            let Some(secret) = secret else {
                return ApiError::Unauthorized(Unauthorized::NotBearer).into_response();
            };
            match state.store.api_token_account(&secret).await {
                Ok(Some(account)) => Caller::Staff(account),
                Ok(None) => {
                    return ApiError::Unauthorized(Unauthorized::UnknownToken).into_response()
                }
                Err(error) => return ApiError::from(error).into_response(),
            }
        }
    };
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// Lets the request through only for a staff caller whose role includes `required`.
pub async fn require(required: Role, request: Request, next: Next) -> Response {
    match request.extensions().get::<Caller>() {
        Some(Caller::Staff(account)) if account.role.includes(required) => next.run(request).await,
        Some(Caller::Staff(account)) => ApiError::Forbidden {
            required,
            email: account.email.clone(),
            role: account.role,
        }
        .into_response(),
        _ => ApiError::Unauthorized(Unauthorized::Needs(required)).into_response(),
    }
}
