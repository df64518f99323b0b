//! One-time password links. An administrator adds an account without choosing its password
//! (an invitation) or issues a reset link for an existing one; the link is shown once, on the
//! page that answers the form, and never again (the store keeps only its hash). Its recipient
//! opens `/staff/welcome/{token}`, chooses a password under the same rules as a password
//! change, and is logged in. A link that is forged, used, replaced, expired or whose account
//! was disabled gets a page that says it no longer works and changes nothing.
//!
//! The pages with a token in their address or body are sent with `Cache-Control: no-store`, so
//! no cache keeps the token; the site's `Referrer-Policy: same-origin` keeps it out of other
//! sites' logs.

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use coopfolio_store::staff_links::{IssuedLink, LinkPurpose, LinkRefusal, LINK_LIFETIME};
use coopfolio_store::StoreError;
use serde::{Deserialize, Serialize};

use super::account::{login_cookie, password_problem, scheme};
use super::users::parse_role;
use super::{change_error, login_policy, parse_form, same_origin, StaffFrame, StaffUser};
use crate::error::WebError;
use crate::text::catalog;
use crate::{language, render, AppState};

#[derive(Deserialize)]
struct InviteForm {
    email: String,
    role: String,
}

#[derive(Deserialize)]
struct ResetForm {
    email: String,
}

#[derive(Serialize)]
struct LinkPage {
    staff: StaffFrame,
    email: String,
    reset: bool,
    url: String,
    expires_at: String,
    hours: u64,
}

/// Adds an account without a password and shows its welcome link.
pub async fn invite(
    State(state): State<AppState>,
    user: StaffUser,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let form: InviteForm = parse_form(&body)?;
    let role = parse_role(&form.role)?;
    let (_, link) = state
        .store
        .invite_staff_user(&form.email, role, user.email())
        .await
        .map_err(change_error)?;
    link_page(&state, &user, &headers, link).await
}

/// Issues a reset link for an account and shows it.
pub async fn reset(
    State(state): State<AppState>,
    user: StaffUser,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let form: ResetForm = parse_form(&body)?;
    let link = state
        .store
        .issue_password_reset(&form.email, user.email())
        .await
        .map_err(change_error)?;
    link_page(&state, &user, &headers, link).await
}

/// The page that shows a link, the one time it is shown. It answers the POST itself rather
/// than redirecting, so that the token is never in an address the browser keeps.
async fn link_page(
    state: &AppState,
    user: &StaffUser,
    headers: &HeaderMap,
    link: IssuedLink,
) -> Result<Response, WebError> {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("localhost");
    let page = LinkPage {
        staff: user.frame(),
        reset: link.purpose == LinkPurpose::Reset,
        url: format!("{}://{host}{}", scheme(state, headers).await?, link.path()),
        email: link.email,
        expires_at: link.expires_at,
        hours: LINK_LIFETIME.as_secs() / 3600,
    };
    let html = render::page("staff_link.html", catalog(language::current()), page)?;
    Ok(private(StatusCode::OK, html))
}

#[derive(Serialize)]
struct WelcomePage {
    /// The account's address while the link works; `None` with `refused` set when it does not.
    email: Option<String>,
    reset: bool,
    /// A key of the text catalogs saying why the link does not work.
    refused: Option<&'static str>,
    error: Option<String>,
    min_chars: usize,
    action: String,
}

#[derive(Deserialize)]
struct WelcomeForm {
    new_password: String,
    confirm_password: String,
}

/// The form that sets the password, or the page that says the link does not work.
pub async fn welcome_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    Ok(match state.store.staff_link(&token).await? {
        Ok(link) => welcome(
            StatusCode::OK,
            &token,
            Some(link.email),
            link.purpose == LinkPurpose::Reset,
            None,
        )?,
        Err(refusal) => refused(&token, refusal)?,
    })
}

/// Sets the password from the link and logs its owner in.
pub async fn use_link(
    State(state): State<AppState>,
    Path(token): Path<String>,
    request: Request,
) -> Result<Response, WebError> {
    let (parts, body) = request.into_parts();
    // No session yet, so no CSRF token: the Origin check keeps other sites' forms out, and
    // the token in the address is itself a secret no other site knows.
    if !same_origin(&parts.headers) {
        return Err(WebError::Forbidden(
            "This request came from another site and was refused.".to_owned(),
        ));
    }
    let body = axum::body::to_bytes(body, crate::BODY_LIMIT_BYTES)
        .await
        .map_err(|_| WebError::TooLarge)?;
    let form: WelcomeForm = parse_form(&body)?;
    let link = match state.store.staff_link(&token).await? {
        Ok(link) => link,
        Err(refusal) => return refused(&token, refusal),
    };
    let reset = link.purpose == LinkPurpose::Reset;
    let text = catalog(language::current());
    let again = |message: String| {
        welcome(
            StatusCode::BAD_REQUEST,
            &token,
            Some(link.email.clone()),
            reset,
            Some(message),
        )
    };
    if let Some(problem) = password_problem(&form.new_password, &form.confirm_password, text) {
        return again(problem);
    }
    match state
        .store
        .use_staff_link(&token, &form.new_password, &login_policy())
        .await
    {
        Ok(Ok(session)) => {
            let cookie = login_cookie(&state, &parts.headers, &parts.uri, &session.token).await?;
            Ok((
                StatusCode::SEE_OTHER,
                [
                    (header::SET_COOKIE, cookie),
                    (header::LOCATION, "/staff/inquiries".to_owned()),
                ],
            )
                .into_response())
        }
        Ok(Err(refusal)) => refused(&token, refusal),
        Err(StoreError::Invalid { message, .. }) => again(message),
        Err(other) => Err(other.into()),
    }
}

fn refused(token: &str, refusal: LinkRefusal) -> Result<Response, WebError> {
    let (status, key) = match refusal {
        LinkRefusal::Unknown => (StatusCode::NOT_FOUND, "ss_link_unknown"),
        LinkRefusal::Expired => (StatusCode::GONE, "ss_link_expired"),
        LinkRefusal::Used => (StatusCode::GONE, "ss_link_used"),
    };
    let page = WelcomePage {
        email: None,
        reset: false,
        refused: Some(key),
        error: None,
        min_chars: coopfolio_store::staff::MIN_PASSWORD_CHARS,
        action: welcome_path(token),
    };
    let html = render::page("staff_welcome.html", catalog(language::current()), page)?;
    Ok(private(status, html))
}

fn welcome(
    status: StatusCode,
    token: &str,
    email: Option<String>,
    reset: bool,
    error: Option<String>,
) -> Result<Response, WebError> {
    let page = WelcomePage {
        email,
        reset,
        refused: None,
        error,
        min_chars: coopfolio_store::staff::MIN_PASSWORD_CHARS,
        action: welcome_path(token),
    };
    let html = render::page("staff_welcome.html", catalog(language::current()), page)?;
    Ok(private(status, html))
}

/// The link's own address, for the form to post back to; a token that is not hexadecimal
/// (it opens nothing anyway) is not written back into the page.
fn welcome_path(token: &str) -> String {
    let token = if token.chars().all(|c| c.is_ascii_hexdigit()) {
        token
    } else {
        ""
    };
    format!("/staff/welcome/{token}")
}

/// A page whose address or body holds a secret: kept out of caches.
fn private(status: StatusCode, html: String) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}
