//! Logging in and out, and changing one's password. The session cookie is `HttpOnly` (no
//! script reads it), `SameSite=Lax` (other sites' forms do not send it), scoped to `/staff`,
//! and `Secure` when the request came over TLS or the `staff_secure_cookies` setting is "true"
//! (for a server behind a proxy that ends TLS without saying so).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use coopfolio_store::staff::{LoginOutcome, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};
use coopfolio_store::StoreError;
use serde::{Deserialize, Serialize};

use super::{login_policy, parse_form, same_origin, StaffFrame, StaffUser, SESSION_COOKIE};
use crate::error::WebError;
use crate::text::{catalog, Catalog, Lang};
use crate::{render, AppState};

/// The setting that marks the session cookie `Secure` whatever the request says.
pub const SECURE_COOKIE_SETTING: &str = "staff_secure_cookies";

#[derive(Serialize)]
struct LoginPage {
    email: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
}

pub async fn login_page(lang: Lang) -> Result<Html<String>, WebError> {
    let page = LoginPage {
        email: String::new(),
        error: None,
    };
    Ok(Html(render::page("staff_login.html", catalog(lang), page)?))
}

pub async fn login(
    lang: Lang,
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, WebError> {
    let text = catalog(lang);
    let (parts, body) = request.into_parts();
    // The login form has no session to hold a CSRF token yet; the Origin check and the
    // SameSite cookie keep other sites from logging a visitor in to an account of theirs.
    if !same_origin(&parts.headers) {
        return Err(WebError::Forbidden(
            "This request came from another site and was refused.".to_owned(),
        ));
    }
    let address = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned());
    let body = axum::body::to_bytes(body, crate::BODY_LIMIT_BYTES)
        .await
        .map_err(|_| WebError::TooLarge)?;
    let form: LoginForm = parse_form(&body)?;
    let outcome = state
        .store
        .log_in(&form.email, &form.password, &address, &login_policy())
        .await?;
    let (status, message) = match outcome {
        LoginOutcome::Opened(session) => {
            let cookie = login_cookie(&state, &parts.headers, &parts.uri, &session.token).await?;
            return Ok((
                StatusCode::SEE_OTHER,
                [
                    (header::SET_COOKIE, cookie),
                    (header::LOCATION, "/staff/inquiries".to_owned()),
                ],
            )
                .into_response());
        }
        LoginOutcome::Refused => (StatusCode::UNAUTHORIZED, text.get("staff_login_refused")),
        LoginOutcome::Locked { .. } => (StatusCode::FORBIDDEN, text.get("staff_login_locked")),
        LoginOutcome::TooManyAttempts => (
            StatusCode::TOO_MANY_REQUESTS,
            text.get("staff_login_too_many"),
        ),
    };
    let page = LoginPage {
        email: form.email.chars().take(254).collect(),
        error: Some(message.to_owned()),
    };
    Ok((status, Html(render::page("staff_login.html", text, page)?)).into_response())
}

pub async fn logout(State(state): State<AppState>, user: StaffUser) -> Result<Response, WebError> {
    state.store.log_out(&user.token).await?;
    Ok((
        StatusCode::SEE_OTHER,
        [
            (
                header::SET_COOKIE,
                format!("{SESSION_COOKIE}=; Path=/staff; HttpOnly; SameSite=Lax; Max-Age=0"),
            ),
            (header::LOCATION, "/staff/login".to_owned()),
        ],
    )
        .into_response())
}

#[derive(Serialize)]
struct PasswordPage {
    staff: StaffFrame,
    error: Option<String>,
    done: bool,
    min_chars: usize,
}

#[derive(Deserialize)]
struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

pub async fn password_page(lang: Lang, user: StaffUser) -> Result<Html<String>, WebError> {
    let page = PasswordPage {
        staff: user.frame(),
        error: None,
        done: false,
        min_chars: MIN_PASSWORD_CHARS,
    };
    Ok(Html(render::page(
        "staff_password.html",
        catalog(lang),
        page,
    )?))
}

pub async fn change_password(
    lang: Lang,
    State(state): State<AppState>,
    user: StaffUser,
    body: Bytes,
) -> Result<Response, WebError> {
    let text = catalog(lang);
    let form: PasswordForm = parse_form(&body)?;
    let error = match password_problem(&form.new_password, &form.confirm_password, text) {
        Some(problem) => Some(problem),
        None => {
            match state
                .store
                .change_staff_password(
                    user.session.account.id,
                    &form.current_password,
                    &form.new_password,
                    &user.token,
                )
                .await
            {
                Ok(true) => None,
                Ok(false) => Some(text.get("staff_password_wrong").to_owned()),
                Err(StoreError::Invalid { message, .. }) => Some(message),
                Err(other) => return Err(other.into()),
            }
        }
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = PasswordPage {
        staff: user.frame(),
        done: error.is_none(),
        error,
        min_chars: MIN_PASSWORD_CHARS,
    };
    Ok((
        status,
        Html(render::page("staff_password.html", text, page)?),
    )
        .into_response())
}

/// What is wrong with a new password and its confirmation, if anything, as the password
/// page and the welcome page say it.
pub(super) fn password_problem(new: &str, confirm: &str, text: &Catalog) -> Option<String> {
    if new != confirm {
        return Some(text.get("staff_password_mismatch").to_owned());
    }
    let length = new.chars().count();
    (!(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&length))
        .then(|| text.get("staff_password_length").to_owned())
}

/// The cookie of a session just opened: `Secure` when the request came over TLS or the
/// setting asks for it.
pub(super) async fn login_cookie(
    state: &AppState,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    token: &str,
) -> Result<String, WebError> {
    let secure = came_over_tls(headers, uri)
        || state.store.setting(SECURE_COOKIE_SETTING).await?.as_deref() == Some("true");
    Ok(session_cookie(
        token,
        login_policy().session_lifetime.as_secs(),
        secure,
    ))
}

/// "https" when the workspace is reached over TLS (as the request or the setting says), else
/// "http": the scheme of a link the workspace hands out.
pub(super) async fn scheme(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<&'static str, WebError> {
    let secure = came_over_tls(headers, &axum::http::Uri::default())
        || state.store.setting(SECURE_COOKIE_SETTING).await?.as_deref() == Some("true");
    Ok(if secure { "https" } else { "http" })
}

/// Whether the request reached us over TLS: directly, or through a proxy that says so.
fn came_over_tls(headers: &HeaderMap, uri: &axum::http::Uri) -> bool {
    uri.scheme_str() == Some("https")
        || headers
            .get("x-forwarded-proto")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

fn session_cookie(token: &str, max_age_seconds: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={token}; Path=/staff; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}{secure}"
    )
}
