//! Agreements: the list with its filters (partner, modality, status, year), and the one form
//! that makes or edits an agreement with its partners' shares, instalments, earmarking and
//! document links as repeated rows. Saving writes the ledger entries and moves the rollups
//! through the store's one path for agreements. The same form, filled from a won inquiry, turns
//! the inquiry into an agreement (`from_inquiry`).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use coopfolio_core::modality::Modality;
use coopfolio_core::partnership::{
    Agreement, AgreementPartner, AgreementStatus, Earmark, EarmarkTarget, Instalment, ProjectExtras,
};
use coopfolio_core::policy_area::PolicyArea;
use coopfolio_core::reference::Names;
use coopfolio_core::value::CurrencyCode;
use coopfolio_store::records::{AgreementDocument, AgreementFilter, SaveMode, StaffAgreement};
use coopfolio_store::staff::Role;
use coopfolio_store::staff_projects::StaffProject;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::project_form::{check_inquiry_project, status_choices as project_statuses};
use super::{
    country_choices, field_error_of, form_response, path_segment, row_count, saved, Checker,
    Choice, FieldError, Form, FormView, MAX_NAME_CHARS, MAX_TEXT_CHARS,
};
use crate::error::WebError;
use crate::staff::{StaffFrame, StaffUser};
use crate::text::{catalog, Lang};
use crate::{render, AppState};

/// The most rows the list shows; the filters narrow it.
const LIST_LIMIT: usize = 500;

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(default)]
    partner: String,
    #[serde(default)]
    modality: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    year: String,
}

#[derive(Serialize)]
struct ListPage {
    staff: StaffFrame,
    partner: String,
    modality: String,
    status: String,
    year: String,
    partners: Vec<Choice>,
    modalities: Vec<Choice>,
    statuses: Vec<Choice>,
    total: usize,
    agreements: Vec<ListRow>,
}

#[derive(Serialize)]
struct ListRow {
    key: String,
    title: String,
    partners: String,
    modality: &'static str,
    status: &'static str,
    start_date: Option<String>,
    end_date: Option<String>,
    amount: String,
    currency: String,
    confidential: bool,
    inquiry_key: Option<String>,
    synthetic: bool,
}

pub async fn list(
    State(state): State<AppState>,
    user: StaffUser,
    lang: Lang,
    Query(params): Query<ListParams>,
) -> Result<Html<String>, WebError> {
    let text = catalog(lang);
    let code = lang.code();
    let filter = AgreementFilter {
        partner: Some(params.partner.clone()).filter(|p| !p.is_empty()),
        modality: Some(params.modality.clone()).filter(|m| !m.is_empty()),
        status: Some(params.status.clone()).filter(|s| !s.is_empty()),
        year: params.year.trim().parse().ok(),
    };
    let rows = state.store.staff_agreements(&filter).await?;
    let total = rows.len();
    let agreements = rows
        .into_iter()
        .take(LIST_LIMIT)
        .map(|row| ListRow {
            partners: row
                .partners
                .iter()
                .map(|(_, name)| name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            modality: row
                .modality
                .parse::<Modality>()
                .map(|m| m.label(code))
                .unwrap_or("?"),
            status: row
                .status
                .parse::<AgreementStatus>()
                .map(|s| s.label(code))
                .unwrap_or("?"),
            key: row.key,
            title: row.title,
            start_date: row.start_date,
            end_date: row.end_date,
            amount: row.amount,
            currency: row.currency,
            confidential: row.confidential,
            inquiry_key: row.inquiry_key,
            synthetic: row.synthetic,
        })
        .collect();
    let page = ListPage {
        staff: user.frame(),
        partners: partner_choices(&state).await?,
        modalities: modality_choices(code),
        statuses: status_choices(code),
        partner: params.partner,
        modality: params.modality,
        status: params.status,
        year: params.year,
        total,
        agreements,
    };
    Ok(Html(render::page("staff_agreements.html", text, page)?))
}

#[derive(Serialize)]
struct FormPage {
    staff: StaffFrame,
    /// The stored agreement's key; None on the form that makes one.
    key: Option<String>,
    /// Where the form is sent.
    action: String,
    /// The inquiry the agreement is made from, on that form.
    from_inquiry: Option<String>,
    form: FormView,
    share_rows: usize,
    instalment_rows: usize,
    earmark_rows: usize,
    document_rows: usize,
    partners: Vec<Choice>,
    modalities: Vec<Choice>,
    statuses: Vec<Choice>,
    earmark_kinds: Vec<Choice>,
    policy_areas: Vec<Choice>,
    /// Stored documents, as links (a viewer sees these; an officer sees the form).
    documents: Vec<AgreementDocument>,
    inquiries: Vec<String>,
    synthetic: bool,
    /// On a won inquiry's form: the organisation's identifier a new project's starts with, and
    /// the choices of its part of the form.
    project_prefix: Option<String>,
    project_statuses: Vec<Choice>,
    countries: Vec<Choice>,
}

/// What a form is for: a new agreement, a stored one, or a won inquiry's.
#[derive(Clone)]
pub enum Target {
    New,
    Stored(String),
    Inquiry(String),
}

impl Target {
    fn action(&self) -> String {
        match self {
            Target::New => "/staff/agreements/new".to_owned(),
            Target::Stored(key) => format!("/staff/agreements/{}", path_segment(key)),
            Target::Inquiry(key) => format!("/staff/inquiries/{}/agreement", path_segment(key)),
        }
    }
}

pub async fn new_form(
    State(state): State<AppState>,
    user: StaffUser,
    lang: Lang,
) -> Result<Response, WebError> {
    let mut form = FormView::default();
    form.set("currency", "USD");
    form.set("status", "signed");
    form.set("modality", "earmarked");
    render_form(&state, &user, lang, Target::New, form, Rows::blank(), None).await
}

pub async fn create(
    State(state): State<AppState>,
    user: StaffUser,
    lang: Lang,
    body: Bytes,
) -> Result<Response, WebError> {
    save(state, user, lang, Target::New, body).await
}

pub async fn show(
    State(state): State<AppState>,
    user: StaffUser,
    lang: Lang,
    Path(key): Path<String>,
) -> Result<Response, WebError> {
    let stored = stored(&state, &key).await?;
    let (values, rows) = values_of(&stored);
    render_form(
        &state,
        &user,
        lang,
        Target::Stored(key),
        FormView::from_values(values),
        rows,
        Some(&stored),
    )
    .await
}

pub async fn update(
    State(state): State<AppState>,
    user: StaffUser,
    lang: Lang,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    save(state, user, lang, Target::Stored(key), body).await
}

/// The form that turns a won inquiry into an agreement, filled from the inquiry: its partner,
/// policy areas and country as earmarking, its reference.
pub async fn inquiry_form(
    State(state): State<AppState>,
    user: StaffUser,
    lang: Lang,
    Path(key): Path<String>,
) -> Result<Response, WebError> {
    let inquiry = state
        .store
        .staff_inquiry(&key)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("No inquiry has the key '{key}'.")))?;
    if let Some(agreement) = &inquiry.agreement_key {
        return Ok(saved(&format!(
            "/staff/agreements/{}",
            path_segment(agreement)
        )));
    }
    let mut form = FormView::default();
    form.set("key", format!("agr-{}", key.to_lowercase()));
    form.set("title_en", inquiry.organisation.clone());
    form.set("currency", "USD");
    form.set("status", "signed");
    form.set("modality", "earmarked");
    if let Some((partner, _)) = &inquiry.partner {
        form.set("share_0_partner", partner.clone());
    }
    let mut earmarks = 0;
    for area in &inquiry.policy_areas {
        form.set(&format!("earmark_{earmarks}_kind"), "policy_area");
        form.set(&format!("earmark_{earmarks}_target"), area.clone());
        earmarks += 1;
    }
    if let Some(country) = &inquiry.country {
        form.set(&format!("earmark_{earmarks}_kind"), "country");
        form.set(&format!("earmark_{earmarks}_target"), country.clone());
        earmarks += 1;
    }
    // The project the agreement pays for, made in the same step unless the officer unticks it:
    // named after the organisation and what it asked about, in its country and policy areas.
    let kind = inquiry
        .kind
        .parse::<coopfolio_core::partnership::InquiryKind>()
        .map_or(inquiry.kind.as_str(), |kind| kind.label(lang.code()));
    form.set("project_create", "1");
    form.set("project_suffix", key.clone());
    form.set(
        "project_title_en",
        format!("{}: {kind}", inquiry.organisation),
    );
    form.set("project_status", "1");
    if let Some(country) = &inquiry.country {
        form.set("project_country", country.clone());
    }
    form.set(
        "project_start",
        inquiry.received_at.get(..10).unwrap_or_default().to_owned(),
    );
    let rows = Rows {
        earmarks: earmarks + 1,
        ..Rows::blank()
    };
    render_form(&state, &user, lang, Target::Inquiry(key), form, rows, None).await
}

pub async fn from_inquiry(
    State(state): State<AppState>,
    user: StaffUser,
    lang: Lang,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    let inquiry = state
        .store
        .staff_inquiry(&key)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("No inquiry has the key '{key}'.")))?;
    // A form sent again (the back button, a second click) finds the agreement the first one
    // made and shows it; an inquiry leads to one agreement.
    if let Some(agreement) = &inquiry.agreement_key {
        user.require(Role::Officer)?;
        return Ok(saved(&format!(
            "/staff/agreements/{}",
            path_segment(agreement)
        )));
    }
    save(state, user, lang, Target::Inquiry(key), body).await
}

async fn stored(state: &AppState, key: &str) -> Result<StaffAgreement, WebError> {
    state
        .store
        .staff_agreement(key)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("No agreement has the key '{key}'.")))
}

/// How many rows of each kind the form shows (and the checks read).
#[derive(Clone, Copy)]
pub struct Rows {
    pub shares: usize,
    pub instalments: usize,
    pub earmarks: usize,
    pub documents: usize,
}

impl Rows {
    /// A new agreement: one partner, two instalments, one earmark, one document.
    fn blank() -> Rows {
        Rows {
            shares: 1,
            instalments: 2,
            earmarks: 1,
            documents: 1,
        }
    }

    fn of_form(form: &Form) -> Rows {
        let added = form.added_row();
        Rows {
            shares: row_count(form.rows("share"), added == Some("share"), 1),
            instalments: row_count(form.rows("instalment"), added == Some("instalment"), 1),
            earmarks: row_count(form.rows("earmark"), added == Some("earmark"), 1),
            documents: row_count(form.rows("document"), added == Some("document"), 1),
        }
    }
}

async fn save(
    state: AppState,
    user: StaffUser,
    lang: Lang,
    target: Target,
    body: Bytes,
) -> Result<Response, WebError> {
    user.require(Role::Officer)?;
    let stored = match &target {
        Target::Stored(key) => Some(stored(&state, key).await?),
        _ => None,
    };
    let form = Form::parse(&body)?;
    let rows = Rows::of_form(&form);
    // "Add a row" shows the form again with one more blank row and saves nothing.
    if form.added_row().is_some() {
        let view = FormView::from_form(&form, Vec::new());
        return render_form(&state, &user, lang, target, view, rows, stored.as_ref()).await;
    }
    let partners = partner_choices(&state).await?;
    let (checked, mut errors) = check(&form, catalog(lang), &target, &partners, rows);
    let (checked, new_project) = match (&target, checked) {
        (Target::Inquiry(inquiry_key), Some((agreement, documents))) => {
            let (agreement, project) =
                inquiry_project(&state, &form, lang, inquiry_key, agreement, &mut errors).await?;
            (Some((agreement, documents)), project)
        }
        (_, checked) => (checked, None),
    };
    if let (Some((agreement, documents)), true) = (checked, errors.is_empty()) {
        let result = match &target {
            Target::New => {
                state
                    .store
                    .save_staff_agreement(&agreement, &documents, SaveMode::Create, user.email())
                    .await
            }
            Target::Stored(_) => {
                let agreement = Agreement {
                    synthetic: stored.as_ref().is_some_and(|s| s.agreement.synthetic),
                    ..agreement.clone()
                };
                state
                    .store
                    .save_staff_agreement(&agreement, &documents, SaveMode::Edit, user.email())
                    .await
            }
            Target::Inquiry(inquiry_key) => {
                save_from_inquiry(
                    &state,
                    &user,
                    inquiry_key,
                    &agreement,
                    &documents,
                    new_project.as_ref(),
                )
                .await
                .map_err(|error| match error {
                    // The project's identifier is typed beside the agreement's fields.
                    coopfolio_store::StoreError::Invalid {
                        field: "identifier_suffix",
                        message,
                    } => coopfolio_store::StoreError::Invalid {
                        field: "project_suffix",
                        message,
                    },
                    other => other,
                })
            }
        };
        match result {
            Ok(()) => {
                return Ok(saved(&format!(
                    "/staff/agreements/{}",
                    path_segment(&agreement.key)
                )))
            }
            Err(error) => errors.push(field_error_of(error)?),
        }
    }
    let view = FormView::from_form(&form, errors);
    render_form(&state, &user, lang, target, view, rows, stored.as_ref()).await
}

/// Reads the form's project part (a won inquiry's form): the new project, and the agreement
/// earmarking it (the whole amount), so that inquiry, agreement and project link up.
async fn inquiry_project(
    state: &AppState,
    form: &Form,
    lang: Lang,
    inquiry_key: &str,
    mut agreement: Agreement,
    errors: &mut Vec<FieldError>,
) -> Result<(Agreement, Option<StaffProject>), WebError> {
    let inquiry = state
        .store
        .staff_inquiry(inquiry_key)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("No inquiry has the key '{inquiry_key}'.")))?;
    let prefix = state.store.project_identifier_prefix().await?;
    let mut checker = Checker::new(form, catalog(lang));
    let country = checker.country("project_country");
    let funders = agreement
        .partners
        .iter()
        .map(|share| share.partner_key.clone())
        .collect();
    let project = check_inquiry_project(
        &mut checker,
        &prefix,
        country,
        &inquiry.policy_areas,
        funders,
    );
    errors.extend(checker.errors);
    if let Some(project) = &project {
        agreement.earmarking.push(Earmark {
            target: EarmarkTarget::Project(project.identifier.clone()),
            amount: agreement.amount,
        });
    }
    Ok((agreement, project))
}

/// Moves the inquiry to won when it is not there yet (the form says so), then makes the
/// agreement, the new project when one is asked for and, when the agreement earmarks a stored
/// project, records the inquiry's policy areas on it.
async fn save_from_inquiry(
    state: &AppState,
    user: &StaffUser,
    inquiry_key: &str,
    agreement: &Agreement,
    documents: &[AgreementDocument],
    new_project: Option<&StaffProject>,
) -> Result<(), coopfolio_store::StoreError> {
    let inquiry = state.store.staff_inquiry(inquiry_key).await?;
    let Some(inquiry) = inquiry else {
        return Err(coopfolio_store::StoreError::NotFound {
            what: "inquiry",
            key: inquiry_key.to_owned(),
        });
    };
    if inquiry.agreement_key.is_none() && inquiry.stage != "won" {
        state
            .store
            .move_inquiry(
                inquiry_key,
                coopfolio_core::partnership::InquiryStage::Won,
                "Turned into an agreement.",
                user.email(),
            )
            .await?;
    }
    let new_identifier = new_project.map(|project| project.identifier.as_str());
    let project = agreement
        .earmarking
        .iter()
        .find_map(|earmark| match &earmark.target {
            EarmarkTarget::Project(identifier) if Some(identifier.as_str()) != new_identifier => {
                Some(identifier.clone())
            }
            _ => None,
        });
    let extras = match project {
        Some(identifier) if !inquiry.policy_areas.is_empty() => {
            let stored = state.store.staff_project_extras(&identifier).await?;
            let mut areas: Vec<PolicyArea> = stored
                .policy_areas
                .iter()
                .chain(&inquiry.policy_areas)
                .filter_map(|area| area.parse().ok())
                .collect();
            areas.sort_by_key(|area| area.code());
            areas.dedup();
            Some(ProjectExtras {
                activity_identifier: identifier,
                policy_areas: areas,
                markers: stored.markers,
                synthetic: stored.synthetic,
            })
        }
        _ => None,
    };
    state
        .store
        .agreement_from_inquiry(
            agreement,
            documents,
            extras.as_ref(),
            new_project,
            user.email(),
        )
        .await
}

/// Checks every field of the form; the agreement and its documents when each part could be
/// read (the errors may still hold rules across fields).
pub fn check(
    form: &Form,
    text: &crate::text::Catalog,
    target: &Target,
    partners: &[Choice],
    rows: Rows,
) -> (Option<(Agreement, Vec<AgreementDocument>)>, Vec<FieldError>) {
    let mut checker = Checker::new(form, text);
    let key = match target {
        Target::Stored(key) => key.clone(),
        _ => checker.key("key"),
    };
    let title_en = checker.text("title_en", true, MAX_NAME_CHARS);
    let title_fr = checker.text("title_fr", false, MAX_NAME_CHARS);
    let title_es = checker.text("title_es", false, MAX_NAME_CHARS);
    let modality: Option<Modality> = checker.code("modality", true);
    let status: Option<AgreementStatus> = checker.code("status", true);
    let signature_date = checker.date("signature_date", false);
    let start_date = checker.date("start_date", false);
    let end_date = checker.date("end_date", false);
    if let (Some(start), Some(end)) = (&start_date, &end_date) {
        if end < start {
            checker.fail("end_date", "records_error_end_before_start");
        }
    }
    if status.is_some_and(|s| s.counts_as_approved()) && signature_date.is_none() {
        checker.fail("signature_date", "records_error_signature_needed");
    }
    let currency_text = form.get("currency").trim();
    let currency = match CurrencyCode::parse(currency_text) {
        Ok(code) => Some(code),
        Err(_) => {
            checker.fail("currency", "records_error_currency");
            None
        }
    };
    let amount = checker.amount("amount", true);
    let confidential = !form.get("confidential").is_empty();
    let inquiry_key = match target {
        Target::Inquiry(key) => Some(key.clone()),
        _ => checker.optional_text("inquiry_key", 100),
    };

    let mut shares = Vec::new();
    for index in 0..rows.shares {
        let partner_field = format!("share_{index}_partner");
        let amount_field = format!("share_{index}_amount");
        let partner = form.get(&partner_field).trim();
        let share_amount = checker.amount(&amount_field, false);
        if partner.is_empty() {
            if share_amount.is_some() {
                checker.fail(&partner_field, "records_error_required");
            }
            continue;
        }
        if !partners.iter().any(|choice| choice.code == partner) {
            checker.fail(&partner_field, "records_error_choice");
            continue;
        }
        shares.push((partner.to_owned(), share_amount, amount_field));
    }
    if shares.is_empty() {
        checker.fail("share_0_partner", "records_error_partner_needed");
    }
    // One partner may leave its share blank: it gives the whole amount. Otherwise the shares
    // must add up to the amount, so that the ledger and the agreement agree.
    let partners_shares: Vec<AgreementPartner> = match (amount, shares.as_slice()) {
        (Some(amount), [(partner, None, _)]) => vec![AgreementPartner {
            partner_key: partner.clone(),
            amount,
        }],
        (Some(amount), _) => {
            let mut total = Decimal::ZERO;
            let mut list = Vec::new();
            for (partner, share, field) in &shares {
                match share {
                    Some(share) => {
                        total += share;
                        list.push(AgreementPartner {
                            partner_key: partner.clone(),
                            amount: *share,
                        });
                    }
                    None => checker.fail(field, "records_error_required"),
                }
            }
            if checker.is_valid() && total != amount {
                checker.fail("amount", "records_error_shares_total");
            }
            list
        }
        (None, _) => Vec::new(),
    };

    let mut instalments = Vec::new();
    for index in 0..rows.instalments {
        let field = |part: &str| format!("instalment_{index}_{part}");
        let filled = ["due", "amount", "received_date", "received_amount"]
            .iter()
            .any(|part| !form.get(&field(part)).trim().is_empty());
        if !filled {
            continue;
        }
        let due = checker.date(&field("due"), true);
        let due_amount = checker.amount(&field("amount"), true);
        let received_date = checker.date(&field("received_date"), false);
        let received_amount = checker.amount(&field("received_amount"), false);
        // What arrived is a date and an amount together; one without the other is half a fact.
        let date_sent = !form.get(&field("received_date")).trim().is_empty();
        let amount_sent = !form.get(&field("received_amount")).trim().is_empty();
        if date_sent && !amount_sent {
            checker.fail(&field("received_amount"), "records_error_received_pair");
        } else if amount_sent && !date_sent {
            checker.fail(&field("received_date"), "records_error_received_pair");
        }
        if let (Some(due_date), Some(amount)) = (due, due_amount) {
            instalments.push(Instalment {
                due_date,
                amount,
                received_date,
                received_amount,
            });
        }
    }

    let mut earmarking = Vec::new();
    for index in 0..rows.earmarks {
        let field = |part: &str| format!("earmark_{index}_{part}");
        let kind = form.get(&field("kind")).trim();
        let target_text = form.get(&field("target")).trim();
        let filled = !kind.is_empty()
            || !target_text.is_empty()
            || !form.get(&field("amount")).trim().is_empty();
        if !filled {
            continue;
        }
        let earmark_amount = checker.amount(&field("amount"), false);
        let target = match kind {
            "project" if !target_text.is_empty() => {
                let identifier = checker.text(&field("target"), true, 200);
                Some(EarmarkTarget::Project(identifier))
            }
            "country" => checker
                .country(&field("target"))
                .map(EarmarkTarget::Country)
                .or_else(|| {
                    checker.fail(&field("target"), "records_error_country");
                    None
                }),
            "policy_area" => checker
                .code::<PolicyArea>(&field("target"), true)
                .map(EarmarkTarget::PolicyArea),
            "" => {
                checker.fail(&field("kind"), "records_error_required");
                None
            }
            "project" => {
                checker.fail(&field("target"), "records_error_required");
                None
            }
            _ => {
                checker.fail(&field("kind"), "records_error_choice");
                None
            }
        };
        if let Some(target) = target {
            // An earmark without an amount takes none of the money in particular: zero.
            earmarking.push(Earmark {
                target,
                amount: earmark_amount.unwrap_or(Decimal::ZERO),
            });
        }
    }

    let mut documents = Vec::new();
    for index in 0..rows.documents {
        let url_field = format!("document_{index}_url");
        let label_field = format!("document_{index}_label");
        let url = checker.text(&url_field, false, 2000);
        let label = checker.text(&label_field, false, MAX_TEXT_CHARS);
        if url.is_empty() {
            if !label.is_empty() {
                checker.fail(&url_field, "records_error_required");
            }
            continue;
        }
        // Only web links: a `javascript:` or `data:` URL in a link would run in the page of
        // whoever clicks it.
        let lower = url.to_ascii_lowercase();
        let web = (lower.starts_with("https://") || lower.starts_with("http://"))
            && !url
                .chars()
                .any(|c| c.is_whitespace() || c == '"' || c == '<' || c == '>');
        if !web {
            checker.fail(&url_field, "records_error_url");
            continue;
        }
        documents.push(AgreementDocument {
            label: if label.is_empty() { url.clone() } else { label },
            url,
        });
    }

    let agreement = match (modality, status, currency, amount) {
        (Some(modality), Some(status), Some(currency), Some(amount)) => Some(Agreement {
            key,
            title: Names {
                fr: if title_fr.is_empty() {
                    title_en.clone()
                } else {
                    title_fr
                },
                es: if title_es.is_empty() {
                    title_en.clone()
                } else {
                    title_es
                },
                en: title_en,
            },
            modality,
            status,
            partners: partners_shares,
            signature_date,
            start_date,
            end_date,
            currency,
            amount,
            instalments,
            earmarking,
            confidential,
            inquiry_key,
            synthetic: false,
        }),
        _ => None,
    };
    (agreement.map(|a| (a, documents)), checker.errors)
}

async fn render_form(
    state: &AppState,
    user: &StaffUser,
    lang: Lang,
    target: Target,
    form: FormView,
    rows: Rows,
    stored: Option<&StaffAgreement>,
) -> Result<Response, WebError> {
    let code = lang.code();
    let has_errors = !form.errors.is_empty();
    let page = FormPage {
        staff: user.frame(),
        key: match &target {
            Target::Stored(key) => Some(key.clone()),
            _ => None,
        },
        action: target.action(),
        from_inquiry: match &target {
            Target::Inquiry(key) => Some(key.clone()),
            _ => None,
        },
        form,
        share_rows: rows.shares,
        instalment_rows: rows.instalments,
        earmark_rows: rows.earmarks,
        document_rows: rows.documents,
        partners: partner_choices(state).await?,
        modalities: modality_choices(code),
        statuses: status_choices(code),
        earmark_kinds: vec![
            Choice::new("project", catalog(lang).get("records_earmark_project")),
            Choice::new("country", catalog(lang).get("records_country")),
            Choice::new("policy_area", catalog(lang).get("records_policy_area")),
        ],
        policy_areas: PolicyArea::ALL
            .iter()
            .map(|area| Choice::new(area.code(), area.label(code)))
            .collect(),
        documents: stored.map(|s| s.documents.clone()).unwrap_or_default(),
        inquiries: stored.map(|s| s.inquiries.clone()).unwrap_or_default(),
        synthetic: stored.is_some_and(|s| s.agreement.synthetic),
        project_prefix: match &target {
            Target::Inquiry(_) => Some(state.store.project_identifier_prefix().await?),
            _ => None,
        },
        project_statuses: project_statuses(code),
        countries: match &target {
            Target::Inquiry(_) => country_choices(code),
            _ => Vec::new(),
        },
    };
    let html = render::page("staff_agreement.html", catalog(lang), page)?;
    Ok(form_response(html, has_errors))
}

/// The form's values from a stored agreement, with one blank row of each kind to add to.
fn values_of(stored: &StaffAgreement) -> (BTreeMap<String, String>, Rows) {
    let agreement = &stored.agreement;
    let mut values = BTreeMap::new();
    let mut set = |field: String, value: String| {
        values.insert(field, value);
    };
    set("key".into(), agreement.key.clone());
    set("title_en".into(), agreement.title.en.clone());
    set("title_fr".into(), agreement.title.fr.clone());
    set("title_es".into(), agreement.title.es.clone());
    set("modality".into(), agreement.modality.code().into());
    set("status".into(), agreement.status.code().into());
    let date = |date: &Option<String>| date.clone().unwrap_or_default();
    set("signature_date".into(), date(&agreement.signature_date));
    set("start_date".into(), date(&agreement.start_date));
    set("end_date".into(), date(&agreement.end_date));
    set("currency".into(), agreement.currency.as_str().into());
    set("amount".into(), agreement.amount.to_string());
    if agreement.confidential {
        set("confidential".into(), "1".into());
    }
    set("inquiry_key".into(), date(&agreement.inquiry_key));
    for (index, share) in agreement.partners.iter().enumerate() {
        set(format!("share_{index}_partner"), share.partner_key.clone());
        set(format!("share_{index}_amount"), share.amount.to_string());
    }
    for (index, instalment) in agreement.instalments.iter().enumerate() {
        set(
            format!("instalment_{index}_due"),
            instalment.due_date.clone(),
        );
        set(
            format!("instalment_{index}_amount"),
            instalment.amount.to_string(),
        );
        set(
            format!("instalment_{index}_received_date"),
            date(&instalment.received_date),
        );
        set(
            format!("instalment_{index}_received_amount"),
            instalment
                .received_amount
                .map(|a| a.to_string())
                .unwrap_or_default(),
        );
    }
    for (index, earmark) in agreement.earmarking.iter().enumerate() {
        let (kind, target) = match &earmark.target {
            EarmarkTarget::Project(identifier) => ("project", identifier.clone()),
            EarmarkTarget::Country(country) => ("country", country.clone()),
            EarmarkTarget::PolicyArea(area) => ("policy_area", area.code().to_owned()),
        };
        set(format!("earmark_{index}_kind"), kind.into());
        set(format!("earmark_{index}_target"), target);
        set(
            format!("earmark_{index}_amount"),
            earmark.amount.to_string(),
        );
    }
    for (index, document) in stored.documents.iter().enumerate() {
        set(format!("document_{index}_url"), document.url.clone());
        set(format!("document_{index}_label"), document.label.clone());
    }
    let rows = Rows {
        shares: agreement.partners.len() + 1,
        instalments: agreement.instalments.len() + 1,
        earmarks: agreement.earmarking.len() + 1,
        documents: stored.documents.len() + 1,
    };
    (values, rows)
}

/// Every partner, by English name, for a select.
pub(super) async fn partner_choices(state: &AppState) -> Result<Vec<Choice>, WebError> {
    Ok(state
        .store
        .partner_choices()
        .await?
        .into_iter()
        .map(|(key, name)| Choice::new(key, name))
        .collect())
}

fn modality_choices(lang: &str) -> Vec<Choice> {
    Modality::ALL
        .iter()
        .map(|m| Choice::new(m.code(), m.label(lang)))
        .collect()
}

fn status_choices(lang: &str) -> Vec<Choice> {
    AgreementStatus::ALL
        .iter()
        .map(|s| Choice::new(s.code(), s.label(lang)))
        .collect()
}
