//! The staff workspace under `/staff/`: accounts and sessions, the inquiry pipeline, the audit
//! log, the records (partners, agreements, partnerships, projects). The public reaches only the login page.
//!
//! [`STAFF_ROUTES`] is the one place that decides who may do what: every staff route is listed
//! there with the role it needs, and the router is built from the list, so a route cannot exist
//! without a rule. The guard in front of each route finds the session from its cookie, checks
//! the role, and for a request that changes something (any method but GET and HEAD) checks that
//! it comes from the workspace's own pages: the `Origin` (or `Referer`) must be this host, and
//! the form must carry the session's CSRF token. Only then does the handler run, with the
//! [`StaffUser`] the guard found.

mod account;
mod audit;
pub mod imports;
mod inquiries;
mod links;
mod outbox;
pub(crate) mod records;
mod settings;
mod users;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use coopfolio_store::staff::{ActiveSession, LoginPolicy, Role};
use coopfolio_store::StoreError;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::WebError;
use crate::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "coopfolio_session";
/// The form field (or `X-CSRF-Token` header) that carries the session's CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, logged in or not.
    Public,
    /// A logged-in staff user whose role includes this one.
    Staff(Role),
}

/// One route of the application: method, path (with `{parameters}`), and who may use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteInfo {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

impl RouteInfo {
    /// A route anyone may use.
    pub const fn public(method: &'static str, path: &'static str) -> RouteInfo {
        RouteInfo {
            method,
            path,
            access: Access::Public,
        }
    }
}

const fn staff(method: &'static str, path: &'static str, role: Role) -> RouteInfo {
    RouteInfo {
        method,
        path,
        access: Access::Staff(role),
    }
}

/// Every route of the staff workspace and the role it needs.
pub const STAFF_ROUTES: &[RouteInfo] = &[
    RouteInfo::public("GET", "/staff/login"),
    RouteInfo::public("POST", "/staff/login"),
    staff("POST", "/staff/logout", Role::Viewer),
    staff("GET", "/staff", Role::Viewer),
    staff("GET", "/staff/password", Role::Viewer),
    staff("POST", "/staff/password", Role::Viewer),
    staff("GET", "/staff/inquiries", Role::Viewer),
    staff("GET", "/staff/inquiries/{key}", Role::Viewer),
    staff("POST", "/staff/inquiries/{key}/stage", Role::Officer),
    staff("POST", "/staff/inquiries/{key}/note", Role::Officer),
    staff("POST", "/staff/inquiries/{key}/assign", Role::Officer),
    staff("POST", "/staff/inquiries/{key}/partner", Role::Officer),
    staff("GET", "/staff/audit", Role::Viewer),
    staff("GET", "/staff/users", Role::Admin),
    staff("POST", "/staff/users/role", Role::Admin),
    staff("POST", "/staff/users/add", Role::Admin),
    staff("POST", "/staff/users/disable", Role::Admin),
    staff("POST", "/staff/users/enable", Role::Admin),
    staff("GET", "/staff/outbox", Role::Admin),
    staff("GET", "/staff/imports", Role::Admin),
    staff("POST", UPLOAD_PATH, Role::Admin),
    staff("GET", "/staff/import", Role::Admin),
    staff("GET", "/staff/partners", Role::Viewer),
    staff("GET", "/staff/partners/new", Role::Officer),
    staff("POST", "/staff/partners/new", Role::Officer),
    staff("GET", "/staff/partners/{partner}", Role::Viewer),
    staff("POST", "/staff/partners/{partner}", Role::Officer),
    staff("GET", "/staff/agreements", Role::Viewer),
    staff("GET", "/staff/agreements/new", Role::Officer),
    staff("POST", "/staff/agreements/new", Role::Officer),
    staff("GET", "/staff/agreements/{agreement}", Role::Viewer),
    staff("POST", "/staff/agreements/{agreement}", Role::Officer),
    staff("GET", "/staff/inquiries/{key}/agreement", Role::Officer),
    staff("POST", "/staff/inquiries/{key}/agreement", Role::Officer),
    staff("GET", "/staff/partnerships", Role::Viewer),
    staff("GET", "/staff/partnerships/new", Role::Officer),
    staff("POST", "/staff/partnerships/new", Role::Officer),
    staff("GET", "/staff/partnerships/{partnership}", Role::Viewer),
    staff("POST", "/staff/partnerships/{partnership}", Role::Officer),
    staff("GET", "/staff/projects", Role::Viewer),
    staff("GET", "/staff/projects/new", Role::Officer),
    staff("POST", "/staff/projects/new", Role::Officer),
    staff("GET", "/staff/projects/{project}/edit", Role::Officer),
    staff("POST", "/staff/projects/{project}/edit", Role::Officer),
    staff("GET", "/staff/projects/{project}", Role::Viewer),
    staff("POST", "/staff/projects/{project}", Role::Officer),
    // One-time password links and the settings page.
    staff("POST", "/staff/users/invite", Role::Admin),
    staff("POST", "/staff/users/reset", Role::Admin),
    RouteInfo::public("GET", "/staff/welcome/{token}"),
    RouteInfo::public("POST", "/staff/welcome/{token}"),
    staff("GET", "/staff/settings", Role::Admin),
    staff("POST", "/staff/settings", Role::Admin),
];

/// The one route that takes a file upload: it streams its body to disk under a limit of its
/// own instead of the site's small one, and its form carries the CSRF token in the query
/// string, since the guard does not read a multipart body.
pub const UPLOAD_PATH: &str = "/staff/imports/upload";

/// The handler of each route in [`STAFF_ROUTES`], by method and path.
fn handler(method: &str, path: &str) -> MethodRouter<AppState> {
    match (method, path) {
        ("GET", "/staff/login") => get(account::login_page),
        ("POST", "/staff/login") => post(account::login),
        ("POST", "/staff/logout") => post(account::logout),
        ("GET", "/staff") => get(|| async { Redirect::to("/staff/inquiries") }),
        ("GET", "/staff/password") => get(account::password_page),
        ("POST", "/staff/password") => post(account::change_password),
        ("GET", "/staff/inquiries") => get(inquiries::board),
        ("GET", "/staff/inquiries/{key}") => get(inquiries::inquiry),
        ("POST", "/staff/inquiries/{key}/stage") => post(inquiries::move_stage),
        ("POST", "/staff/inquiries/{key}/note") => post(inquiries::annotate),
        ("POST", "/staff/inquiries/{key}/assign") => post(inquiries::assign),
        ("POST", "/staff/inquiries/{key}/partner") => post(inquiries::partner),
        ("GET", "/staff/audit") => get(audit::audit_log),
        ("GET", "/staff/users") => get(audit::users),
        ("POST", "/staff/users/role") => post(audit::set_role),
        ("POST", "/staff/users/add") => post(users::add_user),
        ("POST", "/staff/users/disable") => post(users::disable_user),
        ("POST", "/staff/users/enable") => post(users::enable_user),
        ("GET", "/staff/outbox") => get(outbox::outbox),
        ("GET", "/staff/imports") => get(imports::imports),
        ("POST", UPLOAD_PATH) => post(imports::upload),
        ("GET", "/staff/import") => get(imports::import_job),
        ("GET", "/staff/partners") => get(records::partners::list),
        ("GET", "/staff/partners/new") => get(records::partners::new_form),
        ("POST", "/staff/partners/new") => post(records::partners::create),
        ("GET", "/staff/partners/{partner}") => get(records::partners::show),
        ("POST", "/staff/partners/{partner}") => post(records::partners::update),
        ("GET", "/staff/agreements") => get(records::agreements::list),
        ("GET", "/staff/agreements/new") => get(records::agreements::new_form),
        ("POST", "/staff/agreements/new") => post(records::agreements::create),
        ("GET", "/staff/agreements/{agreement}") => get(records::agreements::show),
        ("POST", "/staff/agreements/{agreement}") => post(records::agreements::update),
        ("GET", "/staff/inquiries/{key}/agreement") => get(records::agreements::inquiry_form),
        ("POST", "/staff/inquiries/{key}/agreement") => post(records::agreements::from_inquiry),
        ("GET", "/staff/partnerships") => get(records::partnerships::list),
        ("GET", "/staff/partnerships/new") => get(records::partnerships::new_form),
        ("POST", "/staff/partnerships/new") => post(records::partnerships::create),
        ("GET", "/staff/partnerships/{partnership}") => get(records::partnerships::show),
        ("POST", "/staff/partnerships/{partnership}") => post(records::partnerships::update),
        ("GET", "/staff/projects") => get(records::projects::list),
        ("GET", "/staff/projects/new") => get(records::project_form::new_form),
        ("POST", "/staff/projects/new") => post(records::project_form::create),
        ("GET", "/staff/projects/{project}/edit") => get(records::project_form::edit_form),
        ("POST", "/staff/projects/{project}/edit") => post(records::project_form::edit),
        ("GET", "/staff/projects/{project}") => get(records::projects::show),
        ("POST", "/staff/projects/{project}") => post(records::projects::update),
        ("POST", "/staff/users/invite") => post(links::invite),
        ("POST", "/staff/users/reset") => post(links::reset),
        ("GET", "/staff/welcome/{token}") => get(links::welcome_page),
        ("POST", "/staff/welcome/{token}") => post(links::use_link),
        ("GET", "/staff/settings") => get(settings::settings_page),
        ("POST", "/staff/settings") => post(settings::save_settings),
        // The table and this match are side by side; a route in one and not the other is a
        // bug the first test that builds the router finds.
        _ => panic!("no handler for {method} {path}"),
    }
}

/// The staff workspace's routes, each behind the guard its access needs, all but the upload
/// route (see [`upload_router`]).
pub fn router(state: &AppState) -> Router<AppState> {
    routes_where(state, |route| route.path != UPLOAD_PATH)
}

/// The upload route alone, behind its guard, with the body limit of uploads: the caller merges
/// it outside the site's small limit.
pub fn upload_router(state: &AppState) -> Router<AppState> {
    let limit = usize::try_from(state.upload_limit_bytes).unwrap_or(usize::MAX);
    routes_where(state, |route| route.path == UPLOAD_PATH)
        .layer(axum::extract::DefaultBodyLimit::max(limit))
}

fn routes_where(state: &AppState, wanted: impl Fn(&RouteInfo) -> bool) -> Router<AppState> {
    let mut router = Router::new();
    for route in STAFF_ROUTES.iter().filter(|route| wanted(route)) {
        let mut method_router = handler(route.method, route.path);
        if let Access::Staff(role) = route.access {
            method_router = method_router.route_layer(from_fn_with_state(
                state.clone(),
                move |State(state): State<AppState>, request: Request, next: Next| {
                    guard(state, role, request, next)
                },
            ));
        }
        router = router.route(route.path, method_router);
    }
    router
}

/// The logged-in user a staff handler runs for, put in place by the guard.
#[derive(Debug, Clone)]
pub struct StaffUser {
    pub session: ActiveSession,
    /// The session's token, as the cookie holds it.
    pub token: String,
}

impl StaffUser {
    /// Refuses with 403 unless the user's role includes `required`. The route table already
    /// asks this of every route; handlers ask it again for parts of a page (an edit form
    /// shown or not).
    pub fn require(&self, required: Role) -> Result<(), WebError> {
        if self.session.account.role.includes(required) {
            Ok(())
        } else {
            Err(WebError::Forbidden(format!(
                "This needs the {required} role; your role is {}.",
                self.session.account.role
            )))
        }
    }

    pub fn email(&self) -> &str {
        &self.session.account.email
    }

    /// What every staff page shows of its user: the header, and the CSRF token its forms carry.
    pub fn frame(&self) -> StaffFrame {
        let role = self.session.account.role;
        StaffFrame {
            email: self.session.account.email.clone(),
            role: role.code(),
            csrf_token: self.session.csrf_token.clone(),
            can_edit: role.includes(Role::Officer),
            is_admin: role.includes(Role::Admin),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for StaffUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<StaffUser, WebError> {
        parts
            .extensions
            .get::<StaffUser>()
            .cloned()
            .ok_or(WebError::Unauthorized)
    }
}

/// The part of every staff page's view that the layout uses.
#[derive(Debug, Clone, Serialize)]
pub struct StaffFrame {
    pub email: String,
    pub role: &'static str,
    pub csrf_token: String,
    pub can_edit: bool,
    pub is_admin: bool,
}

/// The session limits the workspace runs with.
pub fn login_policy() -> LoginPolicy {
    LoginPolicy::default()
}

async fn guard(state: AppState, required: Role, request: Request, next: Next) -> Response {
    match authorize(&state, required, request).await {
        Ok(request) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

async fn authorize(
    state: &AppState,
    required: Role,
    request: Request,
) -> Result<Request, WebError> {
    let (mut parts, body) = request.into_parts();
    let changes_something = !matches!(parts.method, Method::GET | Method::HEAD);
    let token = session_token(&parts.headers);
    let session = match &token {
        Some(token) => state.store.staff_session(token, &login_policy()).await?,
        None => None,
    };
    let (Some(token), Some(session)) = (token, session) else {
        return Err(if changes_something {
            WebError::Unauthorized
        } else {
            WebError::LoginRequired
        });
    };
    let user = StaffUser { session, token };
    user.require(required)?;
    let body = if changes_something {
        if !same_origin(&parts.headers) {
            return Err(WebError::Forbidden(
                "This request came from another site and was refused.".to_owned(),
            ));
        }
        // An upload is not read here: its body may be hundreds of megabytes, streamed to disk
        // by the handler. Its token comes in the header or the query string instead.
        let multipart = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("multipart/form-data"));
        if parts.uri.path() == UPLOAD_PATH && multipart {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
                .or_else(|| {
                    let query = Bytes::from(parts.uri.query().unwrap_or_default().to_owned());
                    form_field(&query, CSRF_FIELD)
                });
            check_csrf(sent, &user.session.csrf_token)?;
            parts.extensions.insert(user);
            return Ok(Request::from_parts(parts, body));
        }
        let bytes = axum::body::to_bytes(body, crate::BODY_LIMIT_BYTES)
            .await
            .map_err(|_| WebError::TooLarge)?;
        let sent = parts
            .headers
            .get("x-csrf-token")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
            .or_else(|| form_field(&bytes, CSRF_FIELD));
        check_csrf(sent, &user.session.csrf_token)?;
        Body::from(bytes)
    } else {
        body
    };
    parts.extensions.insert(user);
    Ok(Request::from_parts(parts, body))
}

/// Refuses a request whose CSRF token is missing or not the session's.
fn check_csrf(sent: Option<String>, expected: &str) -> Result<(), WebError> {
    if sent.is_some_and(|sent| constant_time_equal(sent.as_bytes(), expected.as_bytes())) {
        Ok(())
    } else {
        Err(WebError::Forbidden(
            "The form had expired or did not come from this workspace; nothing was changed. \
             Go back, reload the page and try again."
                .to_owned(),
        ))
    }
}

/// The session token from the request's cookies, if it has one.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|cookie| cookie.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
}

/// Whether a request that changes something comes from a page of this host. Browsers send
/// `Origin` with every cross-site POST; when it is absent, `Referer` stands in; a client that
/// sends neither is no browser carrying someone's cookies, and still needs the CSRF token.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
    else {
        // Without a Host there is nothing to compare with; the CSRF token decides.
        return true;
    };
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|value| value.to_str().ok());
    match source {
        None => true,
        Some(source) => {
            let Some((_, rest)) = source.split_once("://") else {
                // "null", sent by sandboxed frames and some redirects, is never this host.
                return false;
            };
            let authority = rest.split('/').next().unwrap_or_default();
            authority.eq_ignore_ascii_case(host)
        }
    }
}

/// Compares two secrets in a time that depends only on their lengths.
fn constant_time_equal(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len()
        && left
            .iter()
            .zip(right)
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

/// The first value of a field in a URL-encoded form.
fn form_field(body: &Bytes, name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

/// A URL-encoded form read into `T`. A form that is not URL-encoded text, holds a value that is
/// not valid UTF-8 once decoded, or does not fit `T` (a missing field, a word where a number
/// goes) is refused with 400, never stored.
pub fn parse_form<T: DeserializeOwned>(body: &Bytes) -> Result<T, WebError> {
    let bad = |what: &str| WebError::BadRequest(format!("The form could not be read: {what}."));
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(body).map_err(|_| bad("it is not a web form"))?;
    // Decoding replaces bytes that are not UTF-8 with U+FFFD; a value holding one was not
    // text, and is refused rather than stored altered.
    if pairs
        .iter()
        .any(|(key, value)| key.contains('\u{FFFD}') || value.contains('\u{FFFD}'))
    {
        return Err(bad("a value is not valid UTF-8 text"));
    }
    serde_urlencoded::from_bytes(body).map_err(|error| bad(&error.to_string()))
}

/// A store error met while making a change, as the user should see it: a rule the input broke
/// (400), a record that is not there (404), or a failure of the server (500).
pub fn change_error(error: StoreError) -> WebError {
    match error {
        StoreError::Invalid { message, .. } => WebError::BadRequest(format!("{message}.")),
        StoreError::NotFound { what, key } => {
            WebError::NotFound(format!("No {what} has the key '{key}'."))
        }
        other => WebError::Store(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn every_route_in_the_table_has_a_handler() {
        for route in STAFF_ROUTES {
            let _ = handler(route.method, route.path);
        }
    }

    #[test]
    fn origins_must_name_this_host() {
        let headers = |pairs: &[(header::HeaderName, &str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
            }
            map
        };
        assert!(same_origin(&headers(&[
            (header::HOST, "coop.example:8080"),
            (header::ORIGIN, "https://coop.example:8080")
        ])));
        assert!(!same_origin(&headers(&[
            (header::HOST, "coop.example:8080"),
            (header::ORIGIN, "https://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            (header::HOST, "coop.example"),
            (header::ORIGIN, "null")
        ])));
        assert!(!same_origin(&headers(&[
            (header::HOST, "coop.example"),
            (header::REFERER, "https://coop.example.evil.example/staff")
        ])));
        assert!(same_origin(&headers(&[(header::HOST, "coop.example")])));
    }

    #[test]
    fn session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; coopfolio_session=abc123; other=1"),
        );
        assert_eq!(session_token(&headers).as_deref(), Some("abc123"));
        assert!(constant_time_equal(b"abc", b"abc"));
        assert!(!constant_time_equal(b"abc", b"abd"));
        assert!(!constant_time_equal(b"abc", b"abcd"));
    }
}
