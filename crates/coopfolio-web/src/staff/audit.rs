//! The audit log, filtered by user, kind of record and dates and shown fifty events a page
//! with the filters held in the URL; and the list of staff users, where an administrator
//! changes roles (accounts themselves are made with `coopfolio user add`).

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{Html, Redirect};
use coopfolio_store::staff::{AuditFilter, Role, StaffAccount};
use serde::{Deserialize, Serialize};

use super::{change_error, parse_form, StaffFrame, StaffUser};
use crate::error::WebError;
use crate::text::{catalog, Lang};
use crate::{render, AppState};

const PAGE_SIZE: u32 = 50;

/// The audit log's query string; every value is text here and checked below, so that a bad
/// one gets this crate's 400 page rather than the framework's.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct AuditParams {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    page: String,
}

#[derive(Serialize)]
struct AuditLogPage {
    staff: StaffFrame,
    params: AuditParams,
    actors: Vec<String>,
    kinds: Vec<String>,
    events: Vec<coopfolio_store::staff::AuditEvent>,
    total: u64,
    page: u32,
    pages: u32,
    previous_url: Option<String>,
    next_url: Option<String>,
}

pub async fn audit_log(
    lang: Lang,
    State(state): State<AppState>,
    user: StaffUser,
    Query(params): Query<AuditParams>,
) -> Result<Html<String>, WebError> {
    let filled = |value: &str| Some(value.trim().to_owned()).filter(|value| !value.is_empty());
    let date = |value: &str, name: &str| -> Result<Option<String>, WebError> {
        match filled(value) {
            None => Ok(None),
            Some(date) if is_date(&date) => Ok(Some(date)),
            Some(_) => Err(WebError::BadRequest(format!(
                "The {name} date must be written YYYY-MM-DD."
            ))),
        }
    };
    let page = match filled(&params.page) {
        None => 1,
        Some(page) => page
            .parse::<u32>()
            .ok()
            .filter(|page| (1..=1_000_000).contains(page))
            .ok_or_else(|| WebError::BadRequest("The page must be a number from 1.".to_owned()))?,
    };
    let filter = AuditFilter {
        actor: filled(&params.actor),
        entity_kind: filled(&params.kind),
        from_date: date(&params.from, "first")?,
        to_date: date(&params.to, "last")?,
        page,
        page_size: PAGE_SIZE,
    };
    let found = state.store.audit_events(&filter).await?;
    let (actors, kinds) = state.store.audit_choices().await?;
    let pages = (found.total.div_ceil(u64::from(PAGE_SIZE)).max(1)) as u32;
    let url_for = |page: u32| {
        let query = serde_urlencoded::to_string([
            ("actor", params.actor.as_str()),
            ("kind", params.kind.as_str()),
            ("from", params.from.as_str()),
            ("to", params.to.as_str()),
            ("page", page.to_string().as_str()),
        ])
        .unwrap_or_default();
        format!("/staff/audit?{query}")
    };
    let view = AuditLogPage {
        staff: user.frame(),
        actors,
        kinds,
        events: found.events,
        total: found.total,
        page,
        pages,
        previous_url: (page > 1).then(|| url_for(page - 1)),
        next_url: (page < pages).then(|| url_for(page + 1)),
        params,
    };
    Ok(Html(render::page("staff_audit.html", catalog(lang), view)?))
}

#[derive(Serialize)]
struct UsersPage {
    staff: StaffFrame,
    users: Vec<StaffAccount>,
    roles: Vec<&'static str>,
}

pub async fn users(
    lang: Lang,
    State(state): State<AppState>,
    user: StaffUser,
) -> Result<Html<String>, WebError> {
    let page = UsersPage {
        staff: user.frame(),
        users: state.store.staff_users().await?,
        roles: Role::ALL.iter().map(|role| role.code()).collect(),
    };
    Ok(Html(render::page("staff_users.html", catalog(lang), page)?))
}

#[derive(Deserialize)]
struct RoleForm {
    email: String,
    role: String,
}

pub async fn set_role(
    State(state): State<AppState>,
    user: StaffUser,
    body: Bytes,
) -> Result<Redirect, WebError> {
    let form: RoleForm = parse_form(&body)?;
    let role = super::users::parse_role(&form.role)?;
    state
        .store
        .set_staff_role(&form.email, role, user.email())
        .await
        .map_err(change_error)?;
    Ok(Redirect::to("/staff/users"))
}

fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(index, byte)| {
            matches!(index, 4 | 7) == (*byte == b'-')
                && (matches!(index, 4 | 7) || byte.is_ascii_digit())
        })
}
