//! The inquiry pipeline: the board by stage with its figures (median time to first response,
//! conversion from stage to stage, each with its method note), one inquiry's page, and the
//! changes an officer makes from it. Each change answers with a redirect back to the inquiry,
//! so that reloading the page does not send the form again.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{Html, Redirect};
use coopfolio_core::partnership::{InquiryKind, InquiryStage};
use coopfolio_store::pipeline::StoredInquiryEvent;
use coopfolio_store::staff::Role;
use serde::{Deserialize, Serialize};

use super::{change_error, parse_form, StaffFrame, StaffUser};
use crate::error::WebError;
use crate::text::{catalog, Lang};
use crate::{format, render, AppState};

#[derive(Serialize)]
struct BoardPage {
    staff: StaffFrame,
    columns: Vec<Column>,
    figures: FiguresView,
}

#[derive(Serialize)]
struct Column {
    stage: &'static str,
    label: &'static str,
    cards: Vec<Card>,
}

#[derive(Serialize)]
struct Card {
    key: String,
    name: String,
    organisation: String,
    kind: &'static str,
    received_at: String,
    assigned_to: Option<String>,
    synthetic: bool,
}

#[derive(Serialize)]
struct FiguresView {
    inquiries: u64,
    responded: u64,
    awaiting_response: u64,
    median_hours: Option<String>,
    conversions: Vec<ConversionView>,
    synthetic: u64,
}

#[derive(Serialize)]
struct ConversionView {
    from: &'static str,
    to: &'static str,
    reached_from: u64,
    reached_to: u64,
    percent: Option<String>,
}

pub async fn board(
    lang: Lang,
    State(state): State<AppState>,
    user: StaffUser,
) -> Result<Html<String>, WebError> {
    let text = catalog(lang);
    let lang = text.lang().code();
    let cards = state.store.inquiry_board().await?;
    let figures = state.store.pipeline_figures().await?;
    let columns = InquiryStage::ALL
        .iter()
        .map(|stage| Column {
            stage: stage.code(),
            label: stage.label(lang),
            cards: cards
                .iter()
                .filter(|card| card.stage == stage.code())
                .map(|card| Card {
                    key: card.key.clone(),
                    name: card.name.clone(),
                    organisation: card.organisation.clone(),
                    kind: kind_label(&card.kind, lang),
                    received_at: card.received_at.clone(),
                    assigned_to: card.assigned_to.clone(),
                    synthetic: card.synthetic,
                })
                .collect(),
        })
        .collect();
    let page = BoardPage {
        staff: user.frame(),
        columns,
        figures: FiguresView {
            inquiries: figures.inquiries,
            responded: figures.responded,
            awaiting_response: figures.awaiting_response,
            median_hours: figures
                .median_first_response_hours
                .map(|hours| hours.to_string()),
            conversions: figures
                .conversions
                .iter()
                .map(|conversion| ConversionView {
                    from: conversion.from_stage.label(lang),
                    to: conversion.to_stage.label(lang),
                    reached_from: conversion.reached_from,
                    reached_to: conversion.reached_to,
                    percent: conversion.percent.map(|percent| percent.to_string()),
                })
                .collect(),
            synthetic: figures.synthetic,
        },
    };
    Ok(Html(render::page("staff_inquiries.html", text, page)?))
}

#[derive(Serialize)]
struct InquiryPage {
    staff: StaffFrame,
    key: String,
    kind: &'static str,
    name: String,
    email: String,
    organisation: String,
    country: Option<String>,
    message: String,
    consent: bool,
    received_at: String,
    stage: String,
    stage_label: &'static str,
    first_response_at: Option<String>,
    assigned_to: Option<String>,
    partner: Option<(String, String)>,
    agreement_key: Option<String>,
    policy_areas: Vec<String>,
    events: Vec<EventView>,
    synthetic: bool,
    stages: Vec<Choice>,
    users: Vec<String>,
    partners: Vec<Choice>,
}

#[derive(Serialize)]
struct EventView {
    at: String,
    by_user: String,
    from: &'static str,
    to: &'static str,
    moved: bool,
    note: String,
}

#[derive(Serialize)]
struct Choice {
    code: String,
    label: String,
}

pub async fn inquiry(
    lang: Lang,
    State(state): State<AppState>,
    user: StaffUser,
    Path(key): Path<String>,
) -> Result<Html<String>, WebError> {
    let text = catalog(lang);
    let lang = text.lang().code();
    let inquiry = state
        .store
        .staff_inquiry(&key)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("No inquiry has the key '{key}'.")))?;
    // Only those who may change the inquiry need the lists its forms choose from.
    let (users, partners) = if user.session.account.role.includes(Role::Officer) {
        let users = state
            .store
            .staff_users()
            .await?
            .into_iter()
            .map(|account| account.email)
            .collect();
        let partners = state
            .store
            .partner_choices()
            .await?
            .into_iter()
            .map(|(code, label)| Choice { code, label })
            .collect();
        (users, partners)
    } else {
        (Vec::new(), Vec::new())
    };
    let page = InquiryPage {
        staff: user.frame(),
        kind: kind_label(&inquiry.kind, lang),
        stage_label: stage_label(&inquiry.stage, lang),
        country: inquiry
            .country
            .as_deref()
            .map(|code| format::country(code, lang)),
        events: inquiry
            .events
            .iter()
            .map(|event| event_view(event, lang))
            .collect(),
        stages: InquiryStage::ALL
            .iter()
            .filter(|stage| stage.code() != inquiry.stage)
            .map(|stage| Choice {
                code: stage.code().to_owned(),
                label: stage.label(lang).to_owned(),
            })
            .collect(),
        users,
        partners,
        key: inquiry.key,
        name: inquiry.name,
        email: inquiry.email,
        organisation: inquiry.organisation,
        message: inquiry.message,
        consent: inquiry.consent,
        received_at: inquiry.received_at,
        stage: inquiry.stage,
        first_response_at: inquiry.first_response_at,
        assigned_to: inquiry.assigned_to,
        partner: inquiry.partner,
        agreement_key: inquiry.agreement_key,
        policy_areas: inquiry.policy_areas,
        synthetic: inquiry.synthetic,
    };
    Ok(Html(render::page("staff_inquiry.html", text, page)?))
}

#[derive(Deserialize)]
struct MoveForm {
    stage: String,
    #[serde(default)]
    note: String,
}

pub async fn move_stage(
    State(state): State<AppState>,
    user: StaffUser,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Redirect, WebError> {
    let form: MoveForm = parse_form(&body)?;
    let stage: InquiryStage = form
        .stage
        .parse()
        .map_err(|_| WebError::BadRequest("That is not a stage of the pipeline.".to_owned()))?;
    state
        .store
        .move_inquiry(&key, stage, &form.note, user.email())
        .await
        .map_err(change_error)?;
    Ok(back_to(&key))
}

#[derive(Deserialize)]
struct NoteForm {
    note: String,
}

pub async fn annotate(
    State(state): State<AppState>,
    user: StaffUser,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Redirect, WebError> {
    let form: NoteForm = parse_form(&body)?;
    state
        .store
        .annotate_inquiry(&key, &form.note, user.email())
        .await
        .map_err(change_error)?;
    Ok(back_to(&key))
}

#[derive(Deserialize)]
struct AssignForm {
    /// An e-mail address, or empty for no one.
    assignee: String,
}

pub async fn assign(
    State(state): State<AppState>,
    user: StaffUser,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Redirect, WebError> {
    let form: AssignForm = parse_form(&body)?;
    let assignee = Some(form.assignee.trim()).filter(|email| !email.is_empty());
    state
        .store
        .assign_inquiry(&key, assignee, user.email())
        .await
        .map_err(change_error)?;
    Ok(back_to(&key))
}

#[derive(Deserialize)]
struct PartnerForm {
    /// A partner's key, or empty together with `create` to make one from the inquiry.
    #[serde(default)]
    partner: String,
    #[serde(default)]
    create: Option<String>,
}

pub async fn partner(
    State(state): State<AppState>,
    user: StaffUser,
    Path(key): Path<String>,
    body: Bytes,
) -> Result<Redirect, WebError> {
    let form: PartnerForm = parse_form(&body)?;
    if form.create.is_some() {
        state
            .store
            .create_partner_from_inquiry(&key, user.email())
            .await
            .map_err(change_error)?;
    } else {
        state
            .store
            .link_inquiry_partner(&key, form.partner.trim(), user.email())
            .await
            .map_err(change_error)?;
    }
    Ok(back_to(&key))
}

fn back_to(key: &str) -> Redirect {
    Redirect::to(&format!("/staff/inquiries/{}", url_path_segment(key)))
}

/// A key as one URL path segment: everything but unreserved characters percent-encoded.
fn url_path_segment(key: &str) -> String {
    let mut segment = String::new();
    for byte in key.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            segment.push(byte as char);
        } else {
            segment.push_str(&format!("%{byte:02X}"));
        }
    }
    segment
}

fn kind_label(code: &str, lang: &str) -> &'static str {
    code.parse::<InquiryKind>()
        .map(|kind| kind.label(lang))
        .unwrap_or("?")
}

fn stage_label(code: &str, lang: &str) -> &'static str {
    code.parse::<InquiryStage>()
        .map(|stage| stage.label(lang))
        .unwrap_or("?")
}

fn event_view(event: &StoredInquiryEvent, lang: &str) -> EventView {
    EventView {
        at: event.at.clone(),
        by_user: event.by_user.clone(),
        from: stage_label(&event.from_stage, lang),
        to: stage_label(&event.to_stage, lang),
        moved: event.from_stage != event.to_stage,
        note: event.note.clone(),
    }
}
