//! The API's writes of the records behind every figure: partners, agreements (partners'
//! shares, instalments, earmarks, confidentiality, document links), multi-stakeholder
//! partnerships and a programme's or project's extras (policy areas, markers), for officer
//! tokens. A body is put in the staff form's field names and checked by the form's own checks
//! (`staff/records/*.rs`), then saved through the same store function as the form, which
//! writes the audit event in its transaction with the token's user as who; so the API and the
//! workspace cannot disagree on what a valid record is. A wrong field comes back named by a
//! JSON pointer into the body (`/instalments/1/amount`).
//!
//! POST to a collection creates (201, `Location`, the record as its GET gives it); PUT to an
//! item replaces it whole (200, the same). A write with `If-Match` must name the ETag the
//! item's GET gives now, else 412 and nothing changes; the check is made just before the save
//! rather than in its transaction, so two writers holding the same ETag at the same instant
//! may both pass it (the audit log then shows both saves, each with its "before").

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::StatusCode;
use axum::response::Response;
use coopfolio_store::records::SaveMode;
use coopfolio_store::StoreError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoResponses, ToSchema};

use super::auth::Caller;
use super::paging::{check_if_match, etag, json, Audience};
use super::problem::{ApiError, FieldProblem, Problem};
use super::read::{self, segment};
use super::write::{actor, json_bytes};
use super::API_PREFIX;
use crate::staff::records::agreements::{self, Rows, Target};
use crate::staff::records::{partners, partnerships, projects, Choice, FieldError, Form, MAX_ROWS};
use crate::text::{catalog, Lang};
use crate::AppState;

type ApiResult = Result<Response, ApiError>;

/// A name or title in the organisation's three languages; French and Spanish, when left out
/// or empty, take the English.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NamesBody {
    en: String,
    #[serde(default)]
    fr: String,
    #[serde(default)]
    es: String,
}

/// A partner, as written. On PUT the key is the path's (it may be left out).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerBody {
    /// Lower-case letters, digits, `-`, `_` and `.`, starting with a letter or digit.
    #[serde(default)]
    key: Option<String>,
    names: NamesBody,
    /// The IATI organisation identifier (`GB-GOV-1`), when known.
    #[serde(default)]
    iati_ref: Option<String>,
    /// An IATI OrganisationType code (`10`).
    #[serde(default)]
    organisation_type: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[serde(default)]
    country: Option<String>,
    /// A partner group code that overrides the one the rules derive.
    #[serde(default)]
    group_override: Option<String>,
}

/// An agreement, as written: what the staff form holds. Amounts are exact decimal text in the
/// agreement's currency (`"1250000.50"`), never JSON numbers, which would lose cents.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementBody {
    #[serde(default)]
    key: Option<String>,
    title: NamesBody,
    /// A funding modality code: earmarked, core_voluntary, domestic, regular_budget.
    modality: String,
    /// pledged, negotiating, signed, active, closed or cancelled.
    status: String,
    /// "YYYY-MM-DD"; needed when the status is signed, active or closed.
    #[serde(default)]
    signature_date: Option<String>,
    #[serde(default)]
    start_date: Option<String>,
    #[serde(default)]
    end_date: Option<String>,
    /// ISO 4217 (`USD`).
    currency: String,
    amount: String,
    /// The partners and their shares; one partner may leave its share out (it gives the
    /// whole amount), else the shares add up to the amount.
    partners: Vec<ShareBody>,
    #[serde(default)]
    instalments: Vec<InstalmentBody>,
    #[serde(default)]
    earmarks: Vec<EarmarkBody>,
    /// Counted in every figure, never itemised to the public.
    #[serde(default)]
    confidential: bool,
    #[serde(default)]
    documents: Vec<DocumentBody>,
    /// The reference of the inquiry the agreement came from.
    #[serde(default)]
    inquiry: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareBody {
    /// A stored partner's key.
    partner: String,
    #[serde(default)]
    amount: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstalmentBody {
    due_date: String,
    amount: String,
    /// Given together with `received_amount`, or neither.
    #[serde(default)]
    received_date: Option<String>,
    #[serde(default)]
    received_amount: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EarmarkBody {
    /// project, country or policy_area.
    kind: String,
    /// An IATI identifier, an ISO alpha-2 code or a policy area code.
    target: String,
    /// The part of the amount set aside; zero when left out.
    #[serde(default)]
    amount: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentBody {
    /// An https:// or http:// link.
    url: String,
    /// The text shown for the link; the URL when left out.
    #[serde(default)]
    label: String,
}

/// A multi-stakeholder partnership, as written.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnershipBody {
    #[serde(default)]
    key: Option<String>,
    names: NamesBody,
    /// global, regional or national.
    level: String,
    /// Policy area codes.
    #[serde(default)]
    policy_areas: Vec<String>,
    #[serde(default)]
    members: Vec<MemberBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberBody {
    /// A stored partner's key, once per partnership.
    partner: String,
    #[serde(default)]
    role: String,
}

/// What the organisation adds to a programme or project: policy areas set by hand (replacing
/// those mapped from its sectors) and the markers.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtrasBody {
    #[serde(default)]
    policy_areas: Vec<String>,
    markers: MarkersBody,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkersBody {
    #[serde(default)]
    south_south: bool,
    #[serde(default)]
    triangular: bool,
    #[serde(default)]
    joint_un: bool,
    #[serde(default)]
    mptf: bool,
}

/// The problems a record's creation may answer with.
#[derive(IntoResponses)]
#[allow(dead_code)] // Documentation only.
enum CreateProblems {
    #[response(
        status = 401,
        description = "No token",
        content_type = "application/problem+json"
    )]
    NoToken(Problem),
    #[response(
        status = 403,
        description = "Below officer",
        content_type = "application/problem+json"
    )]
    BelowOfficer(Problem),
    #[response(
        status = 413,
        description = "Body over 64 KiB",
        content_type = "application/problem+json"
    )]
    TooLarge(Problem),
    #[response(
        status = 415,
        description = "Not application/json",
        content_type = "application/problem+json"
    )]
    NotJson(Problem),
    #[response(
        status = 422,
        description = "Fields named by JSON pointer in `errors`, a taken key among them",
        content_type = "application/problem+json"
    )]
    Invalid(Problem),
}

/// The problems a record's replacement may answer with.
#[derive(IntoResponses)]
#[allow(dead_code)] // Documentation only.
enum ReplaceProblems {
    #[response(
        status = 401,
        description = "No token",
        content_type = "application/problem+json"
    )]
    NoToken(Problem),
    #[response(
        status = 403,
        description = "Below officer",
        content_type = "application/problem+json"
    )]
    BelowOfficer(Problem),
    #[response(
        status = 404,
        description = "Not stored",
        content_type = "application/problem+json"
    )]
    NotFound(Problem),
    #[response(
        status = 412,
        description = "If-Match names an older version",
        content_type = "application/problem+json"
    )]
    Changed(Problem),
    #[response(
        status = 413,
        description = "Body over 64 KiB",
        content_type = "application/problem+json"
    )]
    TooLarge(Problem),
    #[response(
        status = 415,
        description = "Not application/json",
        content_type = "application/problem+json"
    )]
    NotJson(Problem),
    #[response(
        status = 422,
        description = "Fields named by JSON pointer in `errors`",
        content_type = "application/problem+json"
    )]
    Invalid(Problem),
}

/// Creates a partner; its group is derived by the rules unless `group_override` sets it.
#[utoipa::path(post, path = "/api/v1/partners", tag = "partners", request_body = PartnerBody,
    responses((status = 201, description = "Stored; the partner as its GET gives it, at Location", body = super::schema::PartnerDoc),
        CreateProblems),
    security(("bearer" = [])))]
pub async fn create_partner(
    State(state): State<AppState>,
    caller: Caller,
    lang: Lang,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let body: PartnerBody = pointer_body(&headers, body, lang)?;
    let form = Form::from_pairs(body.pairs());
    let partner = partners::check(&form, catalog(lang), None, false).map_err(invalid)?;
    state
        .store
        .save_staff_partner(&partner, SaveMode::Create, actor(&caller)?)
        .await
        .map_err(store_error)?;
    let answer = read::partner_answer(&state, &partner.key, lang).await?;
    created(&headers, "partners", &partner.key, &answer)
}

/// Replaces a partner.
#[utoipa::path(put, path = "/api/v1/partners/{key}", tag = "partners", request_body = PartnerBody,
    params(("key" = String, Path, description = "The partner's key"),
        ("If-Match" = Option<String>, Header, description = "The ETag of the partner as last read; 412 when it has changed since")),
    responses((status = 200, description = "Replaced; the partner as its GET gives it", body = super::schema::PartnerDoc),
        ReplaceProblems),
    security(("bearer" = [])))]
pub async fn replace_partner(
    State(state): State<AppState>,
    caller: Caller,
    lang: Lang,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let body: PartnerBody = pointer_body(&headers, body, lang)?;
    let current = read::partner_answer(&state, &key, lang).await?;
    check_if_match(&headers, Some(&etag(&current)?))?;
    same_key(&key, body.key.as_deref(), lang)?;
    let synthetic = current.synthetic;
    let form = Form::from_pairs(body.pairs());
    let partner = partners::check(&form, catalog(lang), Some(&key), synthetic).map_err(invalid)?;
    state
        .store
        .save_staff_partner(&partner, SaveMode::Edit, actor(&caller)?)
        .await
        .map_err(store_error)?;
    let answer = read::partner_answer(&state, &key, lang).await?;
    json(&headers, StatusCode::OK, &answer, Audience::Private, None)
}

/// Creates an agreement with its shares, instalments, earmarks and document links; its
/// ledger entries and the figures follow in the same transaction.
#[utoipa::path(post, path = "/api/v1/agreements", tag = "partners", request_body = AgreementBody,
    responses((status = 201, description = "Stored; the agreement as its GET gives a staff token, at Location", body = super::schema::AgreementDoc),
        CreateProblems),
    security(("bearer" = [])))]
pub async fn create_agreement(
    State(state): State<AppState>,
    caller: Caller,
    lang: Lang,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let body: AgreementBody = pointer_body(&headers, body, lang)?;
    let key = save_agreement(&state, &caller, lang, &body, Target::New, false).await?;
    let answer = read::agreement_answer(&state, &key, &caller).await?;
    created(&headers, "agreements", &key, &answer)
}

/// Replaces an agreement; what it had added to the ledger and the figures is taken back first.
#[utoipa::path(put, path = "/api/v1/agreements/{key}", tag = "partners", request_body = AgreementBody,
    params(("key" = String, Path, description = "The agreement's key"),
        ("If-Match" = Option<String>, Header, description = "The ETag of the agreement as last read; 412 when it has changed since")),
    responses((status = 200, description = "Replaced; the agreement as its GET gives a staff token", body = super::schema::AgreementDoc),
        ReplaceProblems),
    security(("bearer" = [])))]
pub async fn replace_agreement(
    State(state): State<AppState>,
    caller: Caller,
    lang: Lang,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let body: AgreementBody = pointer_body(&headers, body, lang)?;
    let current = read::agreement_answer(&state, &key, &caller).await?;
    check_if_match(&headers, Some(&etag(&current)?))?;
    same_key(&key, body.key.as_deref(), lang)?;
    let synthetic = current.synthetic();
    save_agreement(
        &state,
        &caller,
        lang,
        &body,
        Target::Stored(key.clone()),
        synthetic,
    )
    .await?;
    let answer = read::agreement_answer(&state, &key, &caller).await?;
    json(&headers, StatusCode::OK, &answer, Audience::Private, None)
}

/// Checks an agreement's body with the form's checks and saves it; its key.
async fn save_agreement(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    body: &AgreementBody,
    target: Target,
    synthetic: bool,
) -> Result<String, ApiError> {
    let rows = Rows {
        shares: body.partners.len(),
        instalments: body.instalments.len(),
        earmarks: body.earmarks.len(),
        documents: body.documents.len(),
    };
    too_many_rows(
        &[
            ("/partners", rows.shares),
            ("/instalments", rows.instalments),
            ("/earmarks", rows.earmarks),
            ("/documents", rows.documents),
        ],
        lang,
    )?;
    let partners: Vec<Choice> = state
        .store
        .partner_choices()
        .await?
        .into_iter()
        .map(|(key, name)| Choice::new(key, name))
        .collect();
    let form = Form::from_pairs(body.pairs());
    let (checked, mut errors) = agreements::check(&form, catalog(lang), &target, &partners, rows);
    // With no partner at all, the form names its first row; the body has none to name.
    if body.partners.is_empty() {
        for error in &mut errors {
            if error.field == "share_0_partner" {
                error.field = "partners".to_owned();
            }
        }
    }
    let (agreement, documents) = match checked {
        Some(checked) if errors.is_empty() => checked,
        _ => return Err(invalid(errors)),
    };
    let agreement = coopfolio_core::partnership::Agreement {
        synthetic,
        ..agreement
    };
    let mode = match target {
        Target::Stored(_) => SaveMode::Edit,
        _ => SaveMode::Create,
    };
    state
        .store
        .save_staff_agreement(&agreement, &documents, mode, actor(caller)?)
        .await
        .map_err(store_error)?;
    Ok(agreement.key)
}

/// Creates a multi-stakeholder partnership with its members.
#[utoipa::path(post, path = "/api/v1/partnerships", tag = "partners", request_body = PartnershipBody,
    responses((status = 201, description = "Stored; the partnership as its GET gives it, at Location", body = super::schema::PartnershipDoc),
        CreateProblems),
    security(("bearer" = [])))]
pub async fn create_partnership(
    State(state): State<AppState>,
    caller: Caller,
    lang: Lang,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let body: PartnershipBody = pointer_body(&headers, body, lang)?;
    let key = save_partnership(&state, &caller, lang, &body, None, false).await?;
    let answer = read::partnership_answer(&state, &key).await?;
    created(&headers, "partnerships", &key, &answer)
}

/// Replaces a multi-stakeholder partnership and its members.
#[utoipa::path(put, path = "/api/v1/partnerships/{key}", tag = "partners", request_body = PartnershipBody,
    params(("key" = String, Path, description = "The partnership's key"),
        ("If-Match" = Option<String>, Header, description = "The ETag of the partnership as last read; 412 when it has changed since")),
    responses((status = 200, description = "Replaced; the partnership as its GET gives it", body = super::schema::PartnershipDoc),
        ReplaceProblems),
    security(("bearer" = [])))]
pub async fn replace_partnership(
    State(state): State<AppState>,
    caller: Caller,
    lang: Lang,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let body: PartnershipBody = pointer_body(&headers, body, lang)?;
    let current = read::partnership_answer(&state, &key).await?;
    check_if_match(&headers, Some(&etag(&current)?))?;
    same_key(&key, body.key.as_deref(), lang)?;
    let synthetic = current.summary.synthetic;
    save_partnership(&state, &caller, lang, &body, Some(&key), synthetic).await?;
    let answer = read::partnership_answer(&state, &key).await?;
    json(&headers, StatusCode::OK, &answer, Audience::Private, None)
}

async fn save_partnership(
    state: &AppState,
    caller: &Caller,
    lang: Lang,
    body: &PartnershipBody,
    key: Option<&str>,
    synthetic: bool,
) -> Result<String, ApiError> {
    too_many_rows(&[("/members", body.members.len())], lang)?;
    let partners: Vec<String> = state
        .store
        .partner_choices()
        .await?
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    let form = Form::from_pairs(body.pairs());
    let partnership = partnerships::check(
        &form,
        catalog(lang),
        key,
        body.members.len(),
        &partners,
        synthetic,
    )
    .map_err(invalid)?;
    let mode = match key {
        Some(_) => SaveMode::Edit,
        None => SaveMode::Create,
    };
    state
        .store
        .save_staff_partnership(&partnership, mode, actor(caller)?)
        .await
        .map_err(store_error)?;
    Ok(partnership.key)
}

/// Replaces what the organisation adds to a programme or project: its policy areas set by
/// hand and its markers; the portfolio figures follow in the same transaction.
#[utoipa::path(put, path = "/api/v1/projects/{identifier}/extras", tag = "portfolio", request_body = ExtrasBody,
    params(("identifier" = String, Path, description = "IATI identifier"),
        ("If-Match" = Option<String>, Header, description = "The ETag of the programme or project (its GET) as last read; 412 when it has changed since")),
    responses((status = 200, description = "Saved; the programme or project as its GET gives it", body = super::schema::ProjectDoc),
        ReplaceProblems),
    security(("bearer" = [])))]
pub async fn replace_extras(
    State(state): State<AppState>,
    caller: Caller,
    lang: Lang,
    headers: HeaderMap,
    Path(identifier): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let body: ExtrasBody = pointer_body(&headers, body, lang)?;
    // The project must be stored: extras for an identifier nobody imported would be invisible.
    let current = read::project_answer(&state, &identifier).await?;
    check_if_match(&headers, Some(&etag(&current)?))?;
    let stored = state.store.staff_project_extras(&identifier).await?;
    let form = Form::from_pairs(body.pairs());
    let extras =
        projects::check(&form, catalog(lang), &identifier, stored.synthetic).map_err(invalid)?;
    state
        .store
        .save_staff_project_extras(&extras, actor(&caller)?)
        .await
        .map_err(store_error)?;
    let answer = read::project_answer(&state, &identifier).await?;
    json(&headers, StatusCode::OK, &answer, Audience::Private, None)
}

/// The form's name-value pairs of a body, so that the form's checks read it.
trait FormPairs {
    fn pairs(&self) -> Vec<(String, String)>;
}

fn names_pairs(prefix: &str, names: &NamesBody, pairs: &mut Vec<(String, String)>) {
    for (lang, text) in [("en", &names.en), ("fr", &names.fr), ("es", &names.es)] {
        pairs.push((format!("{prefix}_{lang}"), text.clone()));
    }
}

fn optional(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

/// A checkbox's value: sent when set, absent when not.
fn flag(pairs: &mut Vec<(String, String)>, name: &str, set: bool) {
    if set {
        pairs.push((name.to_owned(), "1".to_owned()));
    }
}

impl FormPairs for PartnerBody {
    fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs = vec![("key".to_owned(), optional(&self.key))];
        names_pairs("name", &self.names, &mut pairs);
        for (name, value) in [
            ("iati_ref", &self.iati_ref),
            ("organisation_type", &self.organisation_type),
            ("country", &self.country),
            ("group_override", &self.group_override),
        ] {
            pairs.push((name.to_owned(), optional(value)));
        }
        pairs
    }
}

impl FormPairs for AgreementBody {
    fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs = vec![("key".to_owned(), optional(&self.key))];
        names_pairs("title", &self.title, &mut pairs);
        let mut push = |name: String, value: String| pairs.push((name, value));
        push("modality".into(), self.modality.clone());
        push("status".into(), self.status.clone());
        push("signature_date".into(), optional(&self.signature_date));
        push("start_date".into(), optional(&self.start_date));
        push("end_date".into(), optional(&self.end_date));
        push("currency".into(), self.currency.clone());
        push("amount".into(), self.amount.clone());
        push("inquiry_key".into(), optional(&self.inquiry));
        for (index, share) in self.partners.iter().enumerate() {
            push(format!("share_{index}_partner"), share.partner.clone());
            push(format!("share_{index}_amount"), optional(&share.amount));
        }
        for (index, instalment) in self.instalments.iter().enumerate() {
            push(
                format!("instalment_{index}_due"),
                instalment.due_date.clone(),
            );
            push(
                format!("instalment_{index}_amount"),
                instalment.amount.clone(),
            );
            push(
                format!("instalment_{index}_received_date"),
                optional(&instalment.received_date),
            );
            push(
                format!("instalment_{index}_received_amount"),
                optional(&instalment.received_amount),
            );
        }
        for (index, earmark) in self.earmarks.iter().enumerate() {
            push(format!("earmark_{index}_kind"), earmark.kind.clone());
            push(format!("earmark_{index}_target"), earmark.target.clone());
            push(format!("earmark_{index}_amount"), optional(&earmark.amount));
        }
        for (index, document) in self.documents.iter().enumerate() {
            push(format!("document_{index}_url"), document.url.clone());
            push(format!("document_{index}_label"), document.label.clone());
        }
        flag(&mut pairs, "confidential", self.confidential);
        pairs
    }
}

impl FormPairs for PartnershipBody {
    fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs = vec![
            ("key".to_owned(), optional(&self.key)),
            ("level".to_owned(), self.level.clone()),
        ];
        names_pairs("name", &self.names, &mut pairs);
        for area in &self.policy_areas {
            pairs.push(("policy_area".to_owned(), area.clone()));
        }
        for (index, member) in self.members.iter().enumerate() {
            pairs.push((format!("member_{index}_partner"), member.partner.clone()));
            pairs.push((format!("member_{index}_role"), member.role.clone()));
        }
        pairs
    }
}

impl FormPairs for ExtrasBody {
    fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = self
            .policy_areas
            .iter()
            .map(|area| ("policy_area".to_owned(), area.clone()))
            .collect();
        let markers = self.markers;
        flag(&mut pairs, "south_south", markers.south_south);
        flag(&mut pairs, "triangular", markers.triangular);
        flag(&mut pairs, "joint_un", markers.joint_un);
        flag(&mut pairs, "mptf", markers.mptf);
        pairs
    }
}

/// The JSON pointer into a body of a form's field: `instalment_1_amount` is
/// `/instalments/1/amount`, `name_en` is `/names/en`.
fn pointer(field: &str) -> String {
    /// A form's row prefix and the body's array.
    const ROWS: [(&str, &str); 5] = [
        ("share", "partners"),
        ("instalment", "instalments"),
        ("earmark", "earmarks"),
        ("document", "documents"),
        ("member", "members"),
    ];
    if let Some((prefix, rest)) = field.split_once('_') {
        let array = ROWS.iter().find(|(row, _)| *row == prefix);
        if let (Some((_, array)), Some((index, part))) = (array, rest.split_once('_')) {
            if index.parse::<usize>().is_ok() {
                let part = if part == "due" { "due_date" } else { part };
                return format!("/{array}/{index}/{part}");
            }
        }
    }
    match field {
        "name_en" | "name_fr" | "name_es" => format!("/names/{}", &field[5..]),
        "title_en" | "title_fr" | "title_es" => format!("/title/{}", &field[6..]),
        "policy_area" => "/policy_areas".to_owned(),
        "inquiry_key" => "/inquiry".to_owned(),
        "south_south" | "triangular" | "joint_un" | "mptf" => format!("/markers/{field}"),
        other => format!("/{other}"),
    }
}

/// The form's errors as the problem's, each field a JSON pointer.
fn invalid(errors: Vec<FieldError>) -> ApiError {
    ApiError::Invalid(
        errors
            .into_iter()
            .map(|error| FieldProblem {
                field: pointer(&error.field),
                message: error.message,
            })
            .collect(),
    )
}

/// A store refusal of one field (a taken key) named by its pointer; anything else as usual.
fn store_error(error: StoreError) -> ApiError {
    match error {
        StoreError::Invalid { field, message } => ApiError::Invalid(vec![FieldProblem {
            field: pointer(field),
            message,
        }]),
        other => ApiError::from(other),
    }
}

/// A key in the body of a PUT is the path's or none: a record's key is its address.
fn same_key(path_key: &str, body_key: Option<&str>, lang: Lang) -> Result<(), ApiError> {
    match body_key.map(str::trim) {
        Some(key) if !key.is_empty() && key != path_key => {
            Err(ApiError::Invalid(vec![FieldProblem {
                field: "/key".to_owned(),
                message: catalog(lang).get("apiw_error_key_change").to_owned(),
            }]))
        }
        _ => Ok(()),
    }
}

/// Refuses arrays longer than the form takes, rather than reading only their start.
fn too_many_rows(arrays: &[(&str, usize)], lang: Lang) -> Result<(), ApiError> {
    let errors: Vec<FieldProblem> = arrays
        .iter()
        .filter(|(_, len)| *len > MAX_ROWS)
        .map(|(field, _)| FieldProblem {
            field: (*field).to_owned(),
            message: catalog(lang)
                .get("apiw_error_too_many_rows")
                .replace("{max}", &MAX_ROWS.to_string()),
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Invalid(errors))
    }
}

/// A 201 with the record's address in `Location` and the record as its GET gives it.
fn created<T: Serialize>(
    headers: &HeaderMap,
    collection: &str,
    key: &str,
    answer: &T,
) -> ApiResult {
    let mut response = json(
        headers,
        StatusCode::CREATED,
        answer,
        Audience::Private,
        None,
    )?;
    let location = format!("{API_PREFIX}/{collection}/{}", segment(key));
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// The body as JSON of type `T`; a value serde refuses is named by its JSON pointer, with a
/// message in the request's language.
fn pointer_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    lang: Lang,
) -> Result<T, ApiError> {
    let bytes = json_bytes(headers, body)?;
    let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
    let error = match serde_path_to_error::deserialize(&mut deserializer) {
        Ok(value) => {
            // Whatever follows the value is refused too ("trailing characters").
            return deserializer
                .end()
                .map(|()| value)
                .map_err(|error| ApiError::BadBody(error.to_string()));
        }
        Err(error) => error,
    };
    let inner = error.inner();
    if !inner.is_data() {
        return Err(ApiError::BadBody(inner.to_string()));
    }
    let mut field = String::new();
    for segment in error.path().iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => field.push_str(&format!("/{index}")),
            serde_path_to_error::Segment::Map { key } => {
                field.push('/');
                field.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            serde_path_to_error::Segment::Enum { variant } => {
                field.push('/');
                field.push_str(variant);
            }
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    // serde's message: "missing field `en` at line 1 column 9"; the position says nothing a
    // pointer does not.
    let message = inner.to_string();
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_owned();
    let named = message.split('`').nth(1).unwrap_or("").to_owned();
    let text = catalog(lang);
    let message = if message.starts_with("missing field") {
        field = format!("{field}/{named}");
        text.get("records_error_required").to_owned()
    } else if message.starts_with("unknown field") {
        if !field.ends_with(&format!("/{named}")) {
            field = format!("{field}/{named}");
        }
        text.get("apiw_error_unknown_field").to_owned()
    } else {
        text.get("apiw_error_type").replace("{error}", &message)
    };
    Err(ApiError::Invalid(vec![FieldProblem {
        field: if field.is_empty() {
            "/".to_owned()
        } else {
            field
        },
        message,
    }]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_are_named_by_their_pointer_in_the_body() {
        for (field, expected) in [
            ("instalment_1_amount", "/instalments/1/amount"),
            ("instalment_0_due", "/instalments/0/due_date"),
            ("instalment_2_received_date", "/instalments/2/received_date"),
            ("share_0_partner", "/partners/0/partner"),
            ("earmark_3_target", "/earmarks/3/target"),
            ("document_0_url", "/documents/0/url"),
            ("member_1_role", "/members/1/role"),
            ("name_fr", "/names/fr"),
            ("title_en", "/title/en"),
            ("policy_area", "/policy_areas"),
            ("inquiry_key", "/inquiry"),
            ("mptf", "/markers/mptf"),
            ("key", "/key"),
            ("signature_date", "/signature_date"),
            ("partners", "/partners"),
        ] {
            assert_eq!(pointer(field), expected, "{field}");
        }
    }
}
