//! The JSON API under `/api/v1`: the portal's data for partners, aggregators and the
//! organisation's own systems, and the inquiry pipeline for staff through API tokens.
//!
//! [`API_ROUTES`] is the one place that says who may use each route, and the router is built
//! from it, so a route cannot exist without its rule: a route that needs a role sits behind
//! the guard of `auth.rs`, which refuses before the handler runs. Every error is
//! `application/problem+json` (`problem.rs`), never one of the portal's HTML pages; lists page
//! with opaque cursors and every answer carries a strong ETag (`paging.rs`). The OpenAPI 3.1
//! document is generated from the handlers' annotations by utoipa and served at
//! `/api/v1/openapi.json`; a test checks it against this table both ways, and every read
//! answer against its documented schema (`schema.rs`). Officer tokens write partners,
//! agreements, partnerships and projects' extras through the staff forms' checks
//! (`records.rs`). Bodies over the site's limit are refused here as problem documents too.

mod auth;
mod paging;
mod problem;
mod read;
mod records;
mod schema;
mod write;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, MethodRouter};
use axum::Router;
use coopfolio_store::staff::Role;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tower_http::limit::RequestBodyLimitLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::staff::{Access, RouteInfo};
use crate::AppState;

pub use problem::{ApiError, Problem};

/// Where the API lives.
pub const API_PREFIX: &str = "/api/v1";

const fn api(method: &'static str, path: &'static str, access: Access) -> RouteInfo {
    RouteInfo {
        method,
        path,
        access,
    }
}

const PUBLIC: Access = Access::Public;
/// For API routes, `Access::Staff(role)` means an API token of a user with that role.
const VIEWER: Access = Access::Staff(Role::Viewer);
const OFFICER: Access = Access::Staff(Role::Officer);

/// Every route of the API with who may use it. Reading is public (a staff token also sees
/// confidential agreements); the pipeline needs a token, and changing it or any record an
/// officer's.
pub const API_ROUTES: &[RouteInfo] = &[
    api("GET", "/api/v1", PUBLIC),
    api("GET", "/api/v1/openapi.json", PUBLIC),
    api("GET", "/api/v1/projects", PUBLIC),
    api("GET", "/api/v1/projects/{identifier}", PUBLIC),
    api("GET", "/api/v1/facets", PUBLIC),
    api("GET", "/api/v1/search", PUBLIC),
    api("GET", "/api/v1/partners", PUBLIC),
    api("GET", "/api/v1/partners/{key}", PUBLIC),
    api("GET", "/api/v1/agreements", PUBLIC),
    api("GET", "/api/v1/agreements/{key}", PUBLIC),
    api("GET", "/api/v1/partnerships", PUBLIC),
    api("GET", "/api/v1/partnerships/{key}", PUBLIC),
    api("GET", "/api/v1/countries", PUBLIC),
    api("GET", "/api/v1/countries/{alpha2}", PUBLIC),
    api("GET", "/api/v1/policy-areas", PUBLIC),
    api("GET", "/api/v1/policy-areas/{code}", PUBLIC),
    api("GET", "/api/v1/figures/contributions", PUBLIC),
    api("GET", "/api/v1/figures/portfolio", PUBLIC),
    api("GET", "/api/v1/figures/budget", PUBLIC),
    api("POST", "/api/v1/inquiries", PUBLIC),
    api("GET", "/api/v1/inquiries", VIEWER),
    api("GET", "/api/v1/inquiries/{key}", VIEWER),
    api("POST", "/api/v1/inquiries/{key}/stage", OFFICER),
    api("POST", "/api/v1/inquiries/{key}/notes", OFFICER),
    api("PUT", "/api/v1/inquiries/{key}/assignee", OFFICER),
    api("PUT", "/api/v1/inquiries/{key}/partner", OFFICER),
    api("POST", "/api/v1/partners", OFFICER),
    api("PUT", "/api/v1/partners/{key}", OFFICER),
    api("POST", "/api/v1/agreements", OFFICER),
    api("PUT", "/api/v1/agreements/{key}", OFFICER),
    api("POST", "/api/v1/partnerships", OFFICER),
    api("PUT", "/api/v1/partnerships/{key}", OFFICER),
    api("PUT", "/api/v1/projects/{identifier}/extras", OFFICER),
];

/// The handler of each route in [`API_ROUTES`], by method and path.
fn handler(method: &str, path: &str) -> MethodRouter<AppState> {
    use axum::routing::{get, post, put};
    match (method, path) {
        ("GET", "/api/v1") => get(index),
        ("GET", "/api/v1/openapi.json") => get(openapi),
        ("GET", "/api/v1/projects") => get(read::projects),
        ("GET", "/api/v1/projects/{identifier}") => get(read::project),
        ("GET", "/api/v1/facets") => get(read::facets),
        ("GET", "/api/v1/search") => get(read::search),
        ("GET", "/api/v1/partners") => get(read::partners),
        ("GET", "/api/v1/partners/{key}") => get(read::partner),
        ("GET", "/api/v1/agreements") => get(read::agreements),
        ("GET", "/api/v1/agreements/{key}") => get(read::agreement),
        ("GET", "/api/v1/partnerships") => get(read::partnerships),
        ("GET", "/api/v1/partnerships/{key}") => get(read::partnership),
        ("GET", "/api/v1/countries") => get(read::countries),
        ("GET", "/api/v1/countries/{alpha2}") => get(read::country),
        ("GET", "/api/v1/policy-areas") => get(read::policy_areas),
        ("GET", "/api/v1/policy-areas/{code}") => get(read::policy_area),
        ("GET", "/api/v1/figures/contributions") => get(read::contributions),
        ("GET", "/api/v1/figures/portfolio") => get(read::portfolio),
        ("GET", "/api/v1/figures/budget") => get(read::budget),
        ("POST", "/api/v1/inquiries") => post(write::send_inquiry),
        ("GET", "/api/v1/inquiries") => get(write::board),
        ("GET", "/api/v1/inquiries/{key}") => get(write::inquiry),
        ("POST", "/api/v1/inquiries/{key}/stage") => post(write::move_stage),
        ("POST", "/api/v1/inquiries/{key}/notes") => post(write::annotate),
        ("PUT", "/api/v1/inquiries/{key}/assignee") => put(write::assign),
        ("PUT", "/api/v1/inquiries/{key}/partner") => put(write::link_partner),
        ("POST", "/api/v1/partners") => post(records::create_partner),
        ("PUT", "/api/v1/partners/{key}") => put(records::replace_partner),
        ("POST", "/api/v1/agreements") => post(records::create_agreement),
        ("PUT", "/api/v1/agreements/{key}") => put(records::replace_agreement),
        ("POST", "/api/v1/partnerships") => post(records::create_partnership),
        ("PUT", "/api/v1/partnerships/{key}") => put(records::replace_partnership),
        ("PUT", "/api/v1/projects/{identifier}/extras") => put(records::replace_extras),
        // The table and this match are side by side; a route in one and not the other is a
        // bug the first test that builds the router finds.
        _ => panic!("no API handler for {method} {path}"),
    }
}

/// The API's router, to be merged at the root (its paths are whole): every route of
/// [`API_ROUTES`] behind its guard, the token check in front of them all, problem documents
/// for unknown paths and methods, and CORS for reading from other sites.
pub fn router(state: &AppState) -> Router<AppState> {
    let mut router = Router::new();
    for route in API_ROUTES {
        let mut method_router = handler(route.method, route.path);
        if let Access::Staff(role) = route.access {
            method_router =
                method_router.route_layer(from_fn(move |request: Request, next: Next| {
                    auth::require(role, request, next)
                }));
        }
        router = router.route(route.path, method_router);
    }
    // A path under the API with no route, and any method a path does not answer to, get a
    // problem document rather than the portal's page or an empty 405. HEAD follows GET.
    router
        .route("/api/v1/{*rest}", any(not_found))
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        // A body sent without a length is cut at the limit as it is read, and the read fails
        // as a 413 the handler turns into a problem; a declared length over it is refused
        // before anything runs.
        .layer(RequestBodyLimitLayer::new(crate::BODY_LIMIT_BYTES))
        .layer(from_fn(refuse_declared_too_large))
        .layer(from_fn_with_state(state.clone(), auth::authenticate))
        .layer(from_fn(api_headers))
}

/// A `Content-Length` over the API's limit, refused as a problem document.
async fn refuse_declared_too_large(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > crate::BODY_LIMIT_BYTES as u64) {
        return ApiError::TooLarge.into_response();
    }
    next.run(request).await
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(problem::Missing::Endpoint, uri.path())
}

/// What every API answer carries beyond its handler's: the request's path as the `instance`
/// of a problem document, and the CORS headers that let any site read the public data (the
/// API takes no cookies, so this exposes nothing of anyone's session).
async fn api_headers(request: Request, next: Next) -> Response {
    if request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        return preflight();
    }
    let instance = request.uri().path().to_owned();
    let response = next.run(request).await;
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value == problem::PROBLEM_JSON);
    let mut response = if is_problem {
        with_instance(response, instance).await
    } else {
        response
    };
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("ETag, Link, Location, Retry-After"),
    );
    response
}

/// The answer to a browser's CORS preflight: any site may send the API's methods with a token,
/// a JSON body and the conditional headers. The API takes no cookies, so a page on another
/// site can do nothing with it that its own token does not allow.
fn preflight() -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            (header::ACCESS_CONTROL_ALLOW_METHODS, "GET, HEAD, POST, PUT"),
            (
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                "Authorization, Content-Type, If-Match, If-None-Match, Accept-Language",
            ),
            (header::ACCESS_CONTROL_MAX_AGE, "600"),
        ],
    )
        .into_response()
}

/// The problem document with its `instance` set.
async fn with_instance(response: Response, instance: String) -> Response {
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, crate::BODY_LIMIT_BYTES).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let mut parts = parts;
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut object)) => {
            object.insert("instance".to_owned(), serde_json::Value::String(instance));
            parts.headers.remove(header::CONTENT_LENGTH);
            serde_json::to_vec(&object).unwrap_or_else(|_| bytes.to_vec())
        }
        _ => bytes.to_vec(),
    };
    Response::from_parts(parts, Body::from(body))
}

/// A query string read into `T`; an unknown parameter is refused by name, since a filter
/// misspelt and ignored would answer a different question without saying so.
pub(crate) fn query_params<T: DeserializeOwned>(uri: &Uri) -> Result<T, ApiError> {
    serde_urlencoded::from_str(uri.query().unwrap_or("")).map_err(|error| {
        let message = error.to_string();
        // serde's message names the parameter between backticks ("unknown field `contry`").
        let parameter = message.split('`').nth(1).unwrap_or("query").to_owned();
        ApiError::BadParameter {
            parameter: leak_name(parameter),
            detail: message,
        }
    })
}

/// A parameter name as the `'static` text problems carry: one of the names the API knows,
/// else "query", so that nothing a client sends is kept beyond the request.
fn leak_name(name: String) -> &'static str {
    const KNOWN: &[&str] = &[
        "q",
        "country",
        "region",
        "area",
        "status",
        "year",
        "partner",
        "group",
        "modality",
        "south_south",
        "triangular",
        "joint_un",
        "mptf",
        "sort",
        "limit",
        "cursor",
        "period",
        "basis",
    ];
    KNOWN
        .iter()
        .find(|known| **known == name)
        .copied()
        .unwrap_or("query")
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Coopfolio API",
        version = "1",
        description = "Partnerships, agreements, the portfolio of programmes and projects and \
            the figures behind them, each with its method note. Reading is public; a staff \
            API token (`Authorization: Bearer`) also reads confidential agreements and works \
            the inquiry pipeline; an officer's also creates (POST, 201 and Location) and \
            replaces (PUT) partners, agreements, partnerships and projects' extras, with \
            `If-Match` for optimistic concurrency (412 when the record changed). Errors are \
            application/problem+json (RFC 9457) in the language of Accept-Language, a wrong \
            body field named by its JSON pointer; bodies are at most 64 KiB. Lists page with \
            opaque cursors (`next`, `Link`); every answer has a strong ETag."
    ),
    paths(
        index, openapi,
        read::projects, read::project, read::facets, read::search,
        read::partners, read::partner, read::agreements, read::agreement,
        read::partnerships, read::partnership, read::countries, read::country,
        read::policy_areas, read::policy_area,
        read::contributions, read::portfolio, read::budget,
        write::send_inquiry, write::board, write::inquiry, write::move_stage,
        write::annotate, write::assign, write::link_partner,
        records::create_partner, records::replace_partner,
        records::create_agreement, records::replace_agreement,
        records::create_partnership, records::replace_partnership,
        records::replace_extras,
    ),
    components(schemas(Problem, problem::FieldProblem)),
    modifiers(&BearerScheme),
    tags(
        (name = "portfolio", description = "Programmes and projects, as the explorer finds them"),
        (name = "partners", description = "Partners, agreements and partnerships"),
        (name = "places", description = "Countries and policy areas"),
        (name = "figures", description = "Headline figures with their method notes"),
        (name = "inquiries", description = "The inquiry pipeline"),
    )
)]
pub struct ApiDoc;

/// Declares the bearer token scheme the secured operations name.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token from `coopfolio token create --email E`; it acts with \
                         its user's role.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI 3.1 document of this API.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The OpenAPI 3.1 document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "portfolio",
    responses((status = 200, description = "This document", body = schema::OpenApiDoc)))]
async fn openapi(headers: HeaderMap) -> Result<Response, ApiError> {
    paging::json(
        &headers,
        StatusCode::OK,
        &openapi_document(),
        paging::Audience::Public,
        None,
    )
}

#[derive(Serialize)]
struct Index {
    name: &'static str,
    openapi: &'static str,
    endpoints: Vec<IndexEntry>,
}

#[derive(Serialize)]
struct IndexEntry {
    method: &'static str,
    path: &'static str,
    /// "public", or the role a token's user needs.
    access: &'static str,
}

/// What the API holds: every endpoint with who may use it, and where the OpenAPI document is.
#[utoipa::path(get, path = "/api/v1", tag = "portfolio",
    responses((status = 200, description = "The endpoints", body = schema::IndexDoc)))]
async fn index(headers: HeaderMap) -> Result<Response, ApiError> {
    let index = Index {
        name: "Coopfolio API v1",
        openapi: "/api/v1/openapi.json",
        endpoints: API_ROUTES
            .iter()
            .map(|route| IndexEntry {
                method: route.method,
                path: route.path,
                access: match route.access {
                    Access::Public => "public",
                    Access::Staff(role) => role.code(),
                },
            })
            .collect(),
    };
    paging::json(
        &headers,
        StatusCode::OK,
        &index,
        paging::Audience::Public,
        None,
    )
}
