//! The settings page, for administrators: the period rule, the organisation's IATI identifier,
//! the inquiry limit per address and the staff session's idle expiry, each one a setting the
//! code reads (store `settings.rs`). A value that breaks its rule comes back beside its field
//! with everything else as sent; a saved change is audited by the store with its value before
//! and after.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use coopfolio_store::settings::{Settings, INQUIRY_SENDS_RANGE, SESSION_IDLE_RANGE};
use coopfolio_store::StoreError;
use serde::{Deserialize, Serialize};

use super::{parse_form, StaffFrame, StaffUser};
use crate::error::WebError;
use crate::inquiry::SEND_LIMIT;
use crate::text::catalog;
use crate::{language, render, AppState};

/// The form as sent: every value as text, so that a wrong one is shown back as typed.
#[derive(Debug, Default, Deserialize, Serialize)]
struct SettingsForm {
    #[serde(default)]
    biennium_starts_even: String,
    #[serde(default)]
    organisation_ref: String,
    #[serde(default)]
    inquiry_sends_per_hour: String,
    #[serde(default)]
    session_idle_minutes: String,
}

#[derive(Serialize)]
struct SettingsPage {
    staff: StaffFrame,
    form: SettingsForm,
    /// The field whose value was refused, and why.
    error_field: Option<&'static str>,
    error: Option<String>,
    saved: bool,
    default_sends: u32,
    default_idle_minutes: u64,
    sends_range: (u32, u32),
    idle_range: (u32, u32),
}

#[derive(Debug, Default, Deserialize)]
pub struct SettingsParams {
    #[serde(default)]
    saved: String,
}

pub async fn settings_page(
    State(state): State<AppState>,
    user: StaffUser,
    Query(params): Query<SettingsParams>,
) -> Result<Response, WebError> {
    let settings = state.store.settings().await?;
    let form = SettingsForm {
        biennium_starts_even: settings.biennium_starts_even.to_string(),
        organisation_ref: settings.organisation_ref.unwrap_or_default(),
        inquiry_sends_per_hour: number_text(settings.inquiry_sends_per_hour),
        session_idle_minutes: number_text(settings.session_idle_minutes),
    };
    render_page(&user, form, None, params.saved == "1", StatusCode::OK)
}

pub async fn save_settings(
    State(state): State<AppState>,
    user: StaffUser,
    body: Bytes,
) -> Result<Response, WebError> {
    let form: SettingsForm = parse_form(&body)?;
    let settings = match read_form(&form) {
        Ok(settings) => settings,
        Err(refused) => {
            return render_page(&user, form, Some(refused), false, StatusCode::BAD_REQUEST)
        }
    };
    match state.store.save_settings(&settings, user.email()).await {
        Ok(_) => Ok(Redirect::to("/staff/settings?saved=1").into_response()),
        Err(StoreError::Invalid { field, message }) => render_page(
            &user,
            form,
            Some((field, format!("{message}."))),
            false,
            StatusCode::BAD_REQUEST,
        ),
        Err(other) => Err(other.into()),
    }
}

/// The settings a form asks for, or the first field that is not a value of its kind. An
/// empty number means the default; the ranges are the store's to check.
fn read_form(form: &SettingsForm) -> Result<Settings, (&'static str, String)> {
    let biennium_starts_even = match form.biennium_starts_even.as_str() {
        "true" => true,
        "false" => false,
        _ => {
            return Err((
                "biennium_starts_even",
                "Choose whether a biennium's first year is even or odd.".to_owned(),
            ))
        }
    };
    let number = |field: &'static str, text: &str| -> Result<Option<u32>, (&'static str, String)> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse().map(Some).map_err(|_| {
            (
                field,
                format!("'{text}' is not a whole number; leave it empty for the default."),
            )
        })
    };
    let organisation_ref = form.organisation_ref.trim();
    Ok(Settings {
        biennium_starts_even,
        organisation_ref: (!organisation_ref.is_empty()).then(|| organisation_ref.to_owned()),
        inquiry_sends_per_hour: number("inquiry_sends_per_hour", &form.inquiry_sends_per_hour)?,
        session_idle_minutes: number("session_idle_minutes", &form.session_idle_minutes)?,
    })
}

fn render_page(
    user: &StaffUser,
    form: SettingsForm,
    error: Option<(&'static str, String)>,
    saved: bool,
    status: StatusCode,
) -> Result<Response, WebError> {
    let (error_field, error) = match error {
        Some((field, message)) => (Some(field), Some(message)),
        None => (None, None),
    };
    let page = SettingsPage {
        staff: user.frame(),
        form,
        error_field,
        error,
        saved,
        default_sends: SEND_LIMIT.sends,
        default_idle_minutes: super::login_policy().idle_timeout.as_secs() / 60,
        sends_range: INQUIRY_SENDS_RANGE,
        idle_range: SESSION_IDLE_RANGE,
    };
    let html = render::page("staff_settings.html", catalog(language::current()), page)?;
    Ok((status, Html(html)).into_response())
}

fn number_text(value: Option<u32>) -> String {
    value.map(|number| number.to_string()).unwrap_or_default()
}
