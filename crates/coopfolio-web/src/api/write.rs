//! The API's write endpoints: an inquiry sent by anyone (the contact form's checks and its
//! per-address limit), and the inquiry pipeline for staff tokens (move, annotate, assign, link
//! a partner), each through the store function the staff workspace uses, which writes the
//! audit event in the same transaction. Reading the board and an inquiry needs a viewer.
//!
//! Bodies are JSON and must say so (`Content-Type: application/json`): a browser cannot send
//! that from another site without asking first, which stands in for the CSRF token the
//! workspace's forms carry. A wrong field is named in the problem's `errors`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Extensions, StatusCode};
use axum::response::Response;
use coopfolio_core::partnership::InquiryStage;
use coopfolio_store::inquiry::Admission;
use coopfolio_store::staff::Role;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Caller;
use super::paging::{json, Audience};
use super::problem::{ApiError, FieldProblem, Missing, Problem, Unauthorized};
use super::API_PREFIX;
use crate::client::client_address;
use crate::inquiry::{InquiryForm, SEND_LIMIT};
use crate::text::{catalog, Lang};
use crate::AppState;

type ApiResult = Result<Response, ApiError>;

/// An inquiry, as the contact form takes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInquiryBody {
    /// What the message is about: an InquiryKind code such as `funding_question`.
    kind: String,
    name: String,
    email: String,
    organisation: String,
    /// A partner group code, if the sender says.
    #[serde(default)]
    partner_group: Option<String>,
    /// ISO 3166-1 alpha-2 or alpha-3.
    #[serde(default)]
    country: Option<String>,
    /// Policy area codes.
    #[serde(default)]
    policy_areas: Vec<String>,
    /// At most 4,000 characters.
    message: String,
    /// The sender agrees that the organisation keeps and uses what they sent; must be true.
    consent: bool,
}

/// The reference of an inquiry just stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct InquiryReceived {
    reference: String,
    stage: &'static str,
}

/// Sends an inquiry, as the contact form does: the same checks, the same limit per address.
#[utoipa::path(post, path = "/api/v1/inquiries", tag = "inquiries", request_body = NewInquiryBody,
    responses((status = 201, description = "Stored at the received stage", body = InquiryReceived),
        (status = 400, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not sent as application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fields named in `errors`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many from this address; see Retry-After", body = Problem, content_type = "application/problem+json")))]
pub async fn send_inquiry(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    extensions: Extensions,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let body: NewInquiryBody = json_body(&headers, body)?;
    let form = InquiryForm {
        kind: body.kind,
        name: body.name,
        email: body.email,
        organisation: body.organisation,
        partner_group: body.partner_group.unwrap_or_default(),
        country: body.country.unwrap_or_default(),
        areas: body.policy_areas,
        message: body.message,
        consent: body.consent,
        trap: String::new(),
    };
    let inquiry = form.check(catalog(lang)).map_err(|errors| {
        ApiError::Invalid(
            errors
                .into_iter()
                .map(|error| FieldProblem {
                    // The form's field of policy areas is the body's `policy_areas`.
                    field: match error.field {
                        "areas" => "policy_areas".to_owned(),
                        field => field.to_owned(),
                    },
                    message: error.message,
                })
                .collect(),
        )
    })?;
    let client = client_address(&headers, &extensions, state.behind_proxy);
    // The administrators' setting, else the default.
    let limit = state.store.inquiry_send_limit(SEND_LIMIT).await?;
    if let Admission::Refused { retry_after } =
        state.store.admit_inquiry_send(&client, limit).await?
    {
        return Err(ApiError::TooManyRequests { retry_after });
    }
    let reference = state.store.receive_inquiry(&inquiry).await?;
    let mut response = json(
        &headers,
        StatusCode::CREATED,
        &InquiryReceived {
            reference: reference.clone(),
            stage: InquiryStage::Received.code(),
        },
        Audience::Private,
        None,
    )?;
    if let Ok(location) = HeaderValue::from_str(&format!("{API_PREFIX}/inquiries/{reference}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Every inquiry, newest first, as cards of the board.
#[utoipa::path(get, path = "/api/v1/inquiries", tag = "inquiries",
    responses((status = 200, description = "The board", body = Vec<super::schema::InquiryCardDoc>),
        (status = 401, description = "No token", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn board(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    let cards = state.store.inquiry_board().await?;
    json(&headers, StatusCode::OK, &cards, Audience::Private, None)
}

/// One inquiry with its history.
#[utoipa::path(get, path = "/api/v1/inquiries/{key}", tag = "inquiries",
    params(("key" = String, Path, description = "The inquiry's reference")),
    responses((status = 200, description = "The inquiry", body = super::schema::InquiryDoc),
        (status = 401, description = "No token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not stored", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn inquiry(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> ApiResult {
    inquiry_answer(&state, &headers, &key, StatusCode::OK).await
}

/// A move to another stage.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    /// An InquiryStage code: received, triaged, in_dialogue, concept_note, appraisal,
    /// agreement, won, declined, closed.
    stage: String,
    #[serde(default)]
    note: String,
}

/// Moves an inquiry to a stage, with an optional note; the inquiry as it now is.
#[utoipa::path(post, path = "/api/v1/inquiries/{key}/stage", tag = "inquiries", request_body = MoveBody,
    params(("key" = String, Path, description = "The inquiry's reference")),
    responses((status = 200, description = "The inquiry", body = super::schema::InquiryDoc),
        (status = 401, description = "No token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Below officer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad stage or note", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn move_stage(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let body: MoveBody = json_body(&headers, body)?;
    let stage: InquiryStage = body.stage.trim().parse().map_err(|detail: String| {
        ApiError::Invalid(vec![FieldProblem {
            field: "stage".to_owned(),
            message: detail,
        }])
    })?;
    state
        .store
        .move_inquiry(&key, stage, &body.note, actor(&caller)?)
        .await?;
    inquiry_answer(&state, &headers, &key, StatusCode::OK).await
}

/// A note.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    note: String,
}

/// Adds a note to an inquiry's history without moving it.
#[utoipa::path(post, path = "/api/v1/inquiries/{key}/notes", tag = "inquiries", request_body = NoteBody,
    params(("key" = String, Path, description = "The inquiry's reference")),
    responses((status = 201, description = "The inquiry", body = super::schema::InquiryDoc),
        (status = 401, description = "No token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Below officer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An empty note", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn annotate(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let body: NoteBody = json_body(&headers, body)?;
    state
        .store
        .annotate_inquiry(&key, &body.note, actor(&caller)?)
        .await?;
    inquiry_answer(&state, &headers, &key, StatusCode::CREATED).await
}

/// Who follows the inquiry up.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// A staff user's e-mail address, or null for no one.
    assignee: Option<String>,
}

/// Assigns an inquiry to a staff user, or to no one.
#[utoipa::path(put, path = "/api/v1/inquiries/{key}/assignee", tag = "inquiries", request_body = AssignBody,
    params(("key" = String, Path, description = "The inquiry's reference")),
    responses((status = 200, description = "The inquiry", body = super::schema::InquiryDoc),
        (status = 401, description = "No token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Below officer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such staff user", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn assign(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let body: AssignBody = json_body(&headers, body)?;
    let assignee = body
        .assignee
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    state
        .store
        .assign_inquiry(&key, assignee, actor(&caller)?)
        .await?;
    inquiry_answer(&state, &headers, &key, StatusCode::OK).await
}

/// The partner an inquiry is linked to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerBody {
    /// A stored partner's key.
    partner: String,
}

/// Links an inquiry to a stored partner.
#[utoipa::path(put, path = "/api/v1/inquiries/{key}/partner", tag = "inquiries", request_body = PartnerBody,
    params(("key" = String, Path, description = "The inquiry's reference")),
    responses((status = 200, description = "The inquiry", body = super::schema::InquiryDoc),
        (status = 401, description = "No token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Below officer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such partner", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn link_partner(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let body: PartnerBody = json_body(&headers, body)?;
    state
        .store
        .link_inquiry_partner(&key, body.partner.trim(), actor(&caller)?)
        .await?;
    inquiry_answer(&state, &headers, &key, StatusCode::OK).await
}

/// The staff user a change is made for, as the audit log names them. The route's guard has
/// already refused anyone else; this is its second line.
pub(super) fn actor(caller: &Caller) -> Result<&str, ApiError> {
    match caller {
        Caller::Staff(account) => Ok(&account.email),
        Caller::Public => Err(ApiError::Unauthorized(Unauthorized::Needs(Role::Officer))),
    }
}

async fn inquiry_answer(
    state: &AppState,
    headers: &HeaderMap,
    key: &str,
    status: StatusCode,
) -> ApiResult {
    let inquiry = state
        .store
        .staff_inquiry(key)
        .await?
        .ok_or_else(|| ApiError::not_found(Missing::Inquiry, key))?;
    json(headers, status, &inquiry, Audience::Private, None)
}

/// The body as JSON of type `T`, after checking that it says it is JSON.
fn json_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let body = json_bytes(headers, body)?;
    serde_json::from_slice(&body).map_err(|error| {
        // serde names the field it could not read in its message ("missing field `email`").
        let field = error
            .to_string()
            .split('`')
            .nth(1)
            .map(str::to_owned)
            .filter(|_| error.is_data());
        match field {
            Some(field) => ApiError::Invalid(vec![FieldProblem {
                field,
                message: error.to_string(),
            }]),
            None => ApiError::BadBody(error.to_string()),
        }
    })
}

/// The bytes of a body that says it is JSON (`application/json` or `application/...+json`);
/// one over the API's limit is a 413.
pub(super) fn json_bytes(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Bytes, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|value| {
            let value = value.trim();
            value.eq_ignore_ascii_case("application/json")
                || (value.starts_with("application/") && value.ends_with("+json"))
        });
    if !is_json {
        return Err(ApiError::UnsupportedMediaType);
    }
    body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
        _ => ApiError::BadBody(rejection.body_text()),
    })
}
