//! The form that makes a new programme or project, or edits one made in the workspace: its
//! identifier (the organisation's IATI identifier, a hyphen and a suffix typed here), titles
//! and descriptions in three languages, status, planned dates, parent programme, recipient
//! countries and DAC sectors with their shares, funding partners, budgets, policy areas and
//! markers. The store keeps it as it keeps an imported activity, so every figure, page,
//! download and export has it at once. An activity read from a publisher's IATI file is not
//! edited here: its page says so and offers only its policy areas and markers.
//!
//! The same checks serve the won inquiry's "turn into an agreement" form, which can make the
//! agreement's project in the same step ([`check_inquiry_project`]).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use coopfolio_core::codelists::Codelists;
use coopfolio_core::partnership::ProjectMarkers;
use coopfolio_core::policy_area::PolicyArea;
use coopfolio_core::reference::Names;
use coopfolio_core::value::CurrencyCode;
use coopfolio_store::records::SaveMode;
use coopfolio_store::staff::Role;
use coopfolio_store::staff_projects::{ProjectBudget, Share, StaffProject, StoredProject};
use rust_decimal::Decimal;
use serde::Serialize;

use super::agreements::partner_choices;
use super::{
    country_choices, field_error_of, form_response, path_segment, row_count, saved, Checker,
    Choice, FieldError, Form, FormView, MAX_NAME_CHARS,
};
use crate::error::WebError;
use crate::staff::{StaffFrame, StaffUser};
use crate::text::{catalog, Catalog, Lang};
use crate::{format, render, AppState};

/// The longest description kept, in characters.
const MAX_DESCRIPTION_CHARS: usize = 4000;
/// The longest identifier suffix, in characters.
const MAX_SUFFIX_CHARS: usize = 100;

#[derive(Serialize)]
struct FormPage {
    staff: StaffFrame,
    /// The stored project's identifier; None on the form that makes one.
    identifier: Option<String>,
    /// The organisation's identifier every new identifier starts with.
    prefix: String,
    action: String,
    form: FormView,
    country_rows: usize,
    sector_rows: usize,
    funder_rows: usize,
    budget_rows: usize,
    statuses: Vec<Choice>,
    countries: Vec<Choice>,
    partners: Vec<Choice>,
    budget_types: Vec<Choice>,
    policy_areas: Vec<Choice>,
    chosen_areas: Vec<String>,
    markers: Vec<Choice>,
    synthetic: bool,
}

/// How many rows of each kind the form shows.
#[derive(Clone, Copy)]
struct Rows {
    countries: usize,
    sectors: usize,
    funders: usize,
    budgets: usize,
}

impl Rows {
    fn of_form(form: &Form) -> Rows {
        let added = form.added_row();
        Rows {
            countries: row_count(form.rows("country"), added == Some("country"), 1),
            sectors: row_count(form.rows("sector"), added == Some("sector"), 1),
            funders: row_count(form.rows("funder"), added == Some("funder"), 1),
            budgets: row_count(form.rows("budget"), added == Some("budget"), 1),
        }
    }
}

pub async fn new_form(
    State(state): State<AppState>,
    user: StaffUser,
    lang: Lang,
) -> Result<Response, WebError> {
    let mut form = FormView::default();
    form.set("status", "1");
    form.set("budget_0_currency", "USD");
    form.set("budget_0_type", "original");
    let rows = Rows {
        countries: 1,
        sectors: 1,
        funders: 1,
        budgets: 1,
    };
    render_form(&state, &user, lang, None, form, rows, Vec::new(), false).await
}

pub async fn create(
    State(state): State<AppState>,
    user: StaffUser,
    lang: Lang,
    body: Bytes,
) -> Result<Response, WebError> {
    save(state, user, lang, None, body).await
}

pub async fn edit_form(
    State(state): State<AppState>,
    user: StaffUser,
    lang: Lang,
    Path(identifier): Path<String>,
) -> Result<Response, WebError> {
    user.require(Role::Officer)?;
    let stored = stored(&state, &identifier).await?;
    // An imported activity's page shows what can be changed of it.
    if stored.imported {
        return Ok(saved(&format!(
            "/staff/projects/{}",
            path_segment(&identifier)
        )));
    }
    let (values, rows) = values_of(&stored.project);
    let chosen = stored
        .project
        .policy_areas
        .iter()
        .map(|area| area.code().to_owned())
        .collect();
    render_form(
        &state,
        &user,
        lang,
        Some(&identifier),
        FormView::from_values(values),
        rows,
        chosen,
        stored.synthetic,
    )
    .await
}

pub async fn edit(
    State(state): State<AppState>,
    user: StaffUser,
    lang: Lang,
    Path(identifier): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    save(state, user, lang, Some(identifier), body).await
}

async fn stored(state: &AppState, identifier: &str) -> Result<StoredProject, WebError> {
    state.store.staff_project(identifier).await?.ok_or_else(|| {
        WebError::NotFound(format!(
            "No programme or project has the identifier '{identifier}'."
        ))
    })
}

async fn save(
    state: AppState,
    user: StaffUser,
    lang: Lang,
    identifier: Option<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    user.require(Role::Officer)?;
    let synthetic = match &identifier {
        Some(identifier) => stored(&state, identifier).await?.synthetic,
        None => false,
    };
    let form = Form::parse(&body)?;
    let rows = Rows::of_form(&form);
    let chosen: Vec<String> = form
        .all("policy_area")
        .into_iter()
        .map(str::to_owned)
        .collect();
    if form.added_row().is_some() {
        let view = FormView::from_form(&form, Vec::new());
        return render_form(
            &state,
            &user,
            lang,
            identifier.as_deref(),
            view,
            rows,
            chosen,
            synthetic,
        )
        .await;
    }
    let prefix = state.store.project_identifier_prefix().await?;
    let partners = partner_choices(&state).await?;
    let (project, mut errors) = check(
        &form,
        catalog(lang),
        &prefix,
        identifier.as_deref(),
        &partners,
        rows,
    );
    if let (Some(project), true) = (project, errors.is_empty()) {
        let mode = if identifier.is_some() {
            SaveMode::Edit
        } else {
            SaveMode::Create
        };
        match state
            .store
            .save_staff_project(&project, mode, user.email())
            .await
        {
            Ok(()) => {
                return Ok(saved(&format!(
                    "/staff/projects/{}",
                    path_segment(&project.identifier)
                )))
            }
            Err(error) => errors.push(field_error_of(error)?),
        }
    }
    let view = FormView::from_form(&form, errors);
    render_form(
        &state,
        &user,
        lang,
        identifier.as_deref(),
        view,
        rows,
        chosen,
        synthetic,
    )
    .await
}

/// Checks every field; the project when each part could be read (the errors may still hold
/// rules across fields).
fn check(
    form: &Form,
    text: &Catalog,
    prefix: &str,
    stored: Option<&str>,
    partners: &[Choice],
    rows: Rows,
) -> (Option<StaffProject>, Vec<FieldError>) {
    let mut checker = Checker::new(form, text);
    let identifier = match stored {
        Some(identifier) => identifier.to_owned(),
        None => {
            let suffix = identifier_suffix(&mut checker, "identifier_suffix");
            format!("{prefix}-{suffix}")
        }
    };
    let title = names(&mut checker, "title", MAX_NAME_CHARS);
    let description = names(&mut checker, "description", MAX_DESCRIPTION_CHARS);
    let status = activity_status(&mut checker, "status");
    let (planned_start, planned_end) = planned_dates(&mut checker, "start_date", "end_date");
    let parent = checker.optional_text("parent", 200);
    if parent
        .as_deref()
        .is_some_and(|parent| parent.chars().any(char::is_whitespace))
    {
        checker.fail("parent", "sp_error_identifier");
    }

    let mut countries = Vec::new();
    for index in 0..rows.countries {
        let code_field = format!("country_{index}_code");
        let percentage_field = format!("country_{index}_percentage");
        let percentage = percentage(&mut checker, &percentage_field);
        let Some(code) = checker.country(&code_field) else {
            if percentage.is_some() {
                checker.fail(&code_field, "records_error_required");
            }
            continue;
        };
        if countries.iter().any(|share: &Share| share.code == code) {
            checker.fail(&code_field, "sp_error_twice");
            continue;
        }
        countries.push(Share { code, percentage });
    }
    shares_total(&mut checker, &countries, "country");

    let mut sectors = Vec::new();
    for index in 0..rows.sectors {
        let code_field = format!("sector_{index}_code");
        let percentage_field = format!("sector_{index}_percentage");
        let percentage = percentage(&mut checker, &percentage_field);
        let code = form.get(&code_field).trim().to_owned();
        if code.is_empty() {
            if percentage.is_some() {
                checker.fail(&code_field, "records_error_required");
            }
            continue;
        }
        let known = code.len() == 5
            && Codelists::bundled()
                .contains("Sector", &code)
                .unwrap_or(false);
        if !known {
            checker.fail(&code_field, "sp_error_sector");
            continue;
        }
        if sectors.iter().any(|share: &Share| share.code == code) {
            checker.fail(&code_field, "sp_error_twice");
            continue;
        }
        sectors.push(Share { code, percentage });
    }
    shares_total(&mut checker, &sectors, "sector");

    let mut funders: Vec<String> = Vec::new();
    for index in 0..rows.funders {
        let field = format!("funder_{index}_partner");
        let partner = form.get(&field).trim();
        if partner.is_empty() {
            continue;
        }
        if !partners.iter().any(|choice| choice.code == partner) {
            checker.fail(&field, "records_error_choice");
        } else if funders.iter().any(|key| key == partner) {
            checker.fail(&field, "sp_error_twice");
        } else {
            funders.push(partner.to_owned());
        }
    }

    let mut budgets = Vec::new();
    for index in 0..rows.budgets {
        let field = |part: &str| format!("budget_{index}_{part}");
        // A row with only its defaults (currency, type) is a blank row.
        let filled = ["start", "end", "amount"]
            .iter()
            .any(|part| !form.get(&field(part)).trim().is_empty());
        if !filled {
            continue;
        }
        let start = checker.date(&field("start"), true);
        let end = checker.date(&field("end"), true);
        let amount = checker.amount(&field("amount"), true);
        let currency = currency(&mut checker, &field("currency"));
        let revised = match form.get(&field("type")).trim() {
            "" | "original" => false,
            "revised" => true,
            _ => {
                checker.fail(&field("type"), "records_error_choice");
                false
            }
        };
        if let (Some(start), Some(end)) = (&start, &end) {
            if end < start {
                checker.fail(&field("end"), "records_error_end_before_start");
            } else if !within_a_year(start, end) {
                // The IATI Standard's rule: a budget covers a year at most.
                checker.fail(&field("end"), "sp_error_budget_year");
            }
        }
        if let (Some(period_start), Some(period_end), Some(amount), Some(currency)) =
            (start, end, amount, currency)
        {
            budgets.push(ProjectBudget {
                period_start,
                period_end,
                amount,
                currency,
                revised,
            });
        }
    }

    let (policy_areas, markers) = extras(&mut checker);
    let project = match (status, planned_start) {
        (Some(status), Some(planned_start)) => Some(StaffProject {
            identifier,
            title,
            description,
            status,
            planned_start,
            planned_end,
            parent,
            countries,
            sectors,
            funders,
            budgets,
            policy_areas,
            markers,
        }),
        _ => None,
    };
    (project, checker.errors)
}

/// The project part of the won inquiry's agreement form (fields `project_*`), when its box is
/// ticked: a new project in the inquiry's country and policy areas, funded by the agreement's
/// partners. None when the box is not ticked or a field is wrong (the errors say which).
pub fn check_inquiry_project(
    checker: &mut Checker<'_>,
    prefix: &str,
    country: Option<String>,
    policy_areas: &[String],
    funders: Vec<String>,
) -> Option<StaffProject> {
    if checker.form.get("project_create").is_empty() {
        return None;
    }
    let suffix = identifier_suffix(checker, "project_suffix");
    let title_en = checker.text("project_title_en", true, MAX_NAME_CHARS);
    let status = activity_status(checker, "project_status");
    let (planned_start, planned_end) = planned_dates(checker, "project_start", "project_end");
    Some(StaffProject {
        identifier: format!("{prefix}-{suffix}"),
        title: Names {
            en: title_en,
            fr: String::new(),
            es: String::new(),
        },
        description: Names {
            en: String::new(),
            fr: String::new(),
            es: String::new(),
        },
        status: status?,
        planned_start: planned_start?,
        planned_end,
        parent: None,
        countries: country
            .map(|code| Share {
                code,
                percentage: None,
            })
            .into_iter()
            .collect(),
        sectors: Vec::new(),
        funders,
        budgets: Vec::new(),
        policy_areas: policy_areas
            .iter()
            .filter_map(|area| area.parse().ok())
            .collect(),
        markers: ProjectMarkers::default(),
    })
}

/// The policy areas ticked (`policy_area`, each once) and the markers ticked, as every
/// project form sends them.
pub fn extras(checker: &mut Checker<'_>) -> (Vec<PolicyArea>, ProjectMarkers) {
    let mut policy_areas = Vec::new();
    for code in checker.form.all("policy_area") {
        match code.parse::<PolicyArea>() {
            Ok(area) if !policy_areas.contains(&area) => policy_areas.push(area),
            Ok(_) => {}
            Err(_) => checker.fail("policy_area", "records_error_choice"),
        }
    }
    let flag = |name: &str| !checker.form.get(name).is_empty();
    let markers = ProjectMarkers {
        south_south: flag("south_south"),
        triangular: flag("triangular"),
        joint_un: flag("joint_un"),
        mptf: flag("mptf"),
    };
    (policy_areas, markers)
}

/// The suffix an officer types after the organisation's identifier: letters, digits, '-', '_'
/// and '.', starting with a letter or digit, so that the whole is a well-formed IATI
/// identifier (no spaces, no '/', '&', '|' or '?').
fn identifier_suffix(checker: &mut Checker<'_>, field: &str) -> String {
    let suffix = checker.text(field, true, MAX_SUFFIX_CHARS);
    let well_formed = suffix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && suffix
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if !suffix.is_empty() && !well_formed {
        checker.fail(field, "sp_error_suffix");
    }
    suffix
}

/// A text in three languages, English required: fields `PREFIX_en`, `PREFIX_fr`, `PREFIX_es`.
fn names(checker: &mut Checker<'_>, prefix: &str, max: usize) -> Names {
    Names {
        en: checker.text(&format!("{prefix}_en"), prefix == "title", max),
        fr: checker.text(&format!("{prefix}_fr"), false, max),
        es: checker.text(&format!("{prefix}_es"), false, max),
    }
}

fn activity_status(checker: &mut Checker<'_>, field: &str) -> Option<String> {
    let status = checker.form.get(field).trim();
    if status.is_empty() {
        checker.fail(field, "records_error_required");
        return None;
    }
    let known = Codelists::bundled()
        .contains("ActivityStatus", status)
        .unwrap_or(false);
    if !known {
        checker.fail(field, "records_error_choice");
        return None;
    }
    Some(status.to_owned())
}

/// The planned start (required) and end (not before the start).
fn planned_dates(
    checker: &mut Checker<'_>,
    start_field: &str,
    end_field: &str,
) -> (Option<String>, Option<String>) {
    let start = checker.date(start_field, true);
    let end = checker.date(end_field, false);
    if let (Some(start), Some(end)) = (&start, &end) {
        if end < start {
            checker.fail(end_field, "records_error_end_before_start");
        }
    }
    (start, end)
}

fn percentage(checker: &mut Checker<'_>, field: &str) -> Option<Decimal> {
    let value = checker.amount(field, false)?;
    if value > Decimal::from(100) {
        checker.fail(field, "sp_error_percentage");
        return None;
    }
    Some(value)
}

/// Shares given for some rows must be given for all and add up to 100.
fn shares_total(checker: &mut Checker<'_>, shares: &[Share], kind: &str) {
    if shares.iter().all(|share| share.percentage.is_none()) {
        return;
    }
    let total: Decimal = shares.iter().filter_map(|share| share.percentage).sum();
    let all_given = shares.iter().all(|share| share.percentage.is_some());
    if !all_given || total != Decimal::from(100) {
        checker.fail(&format!("{kind}_0_percentage"), "sp_error_percent_total");
    }
}

fn currency(checker: &mut Checker<'_>, field: &str) -> Option<CurrencyCode> {
    let text = checker.form.get(field).trim().to_ascii_uppercase();
    let known = Codelists::bundled()
        .contains("Currency", &text)
        .unwrap_or(false);
    match CurrencyCode::parse(&text) {
        Ok(code) if known => Some(code),
        _ => {
            checker.fail(field, "records_error_currency");
            None
        }
    }
}

/// Whether `end` falls within a year of `start` (both "YYYY-MM-DD", end not before start).
fn within_a_year(start: &str, end: &str) -> bool {
    let Some(year) = start.get(..4).and_then(|y| y.parse::<i32>().ok()) else {
        return false;
    };
    // The same day a year on, as text: "2024-03-01" allows up to "2025-02-28" or so.
    let year_on = format!("{:04}{}", year + 1, &start[4..]);
    end < year_on.as_str()
}

#[allow(clippy::too_many_arguments)]
async fn render_form(
    state: &AppState,
    user: &StaffUser,
    lang: Lang,
    identifier: Option<&str>,
    form: FormView,
    rows: Rows,
    chosen_areas: Vec<String>,
    synthetic: bool,
) -> Result<Response, WebError> {
    let code = lang.code();
    let text = catalog(lang);
    let has_errors = !form.errors.is_empty();
    let page = FormPage {
        staff: user.frame(),
        identifier: identifier.map(str::to_owned),
        prefix: state.store.project_identifier_prefix().await?,
        action: match identifier {
            Some(identifier) => format!("/staff/projects/{}/edit", path_segment(identifier)),
            None => "/staff/projects/new".to_owned(),
        },
        form,
        country_rows: rows.countries,
        sector_rows: rows.sectors,
        funder_rows: rows.funders,
        budget_rows: rows.budgets,
        statuses: status_choices(code),
        countries: country_choices(code),
        partners: partner_choices(state).await?,
        budget_types: vec![
            Choice::new("original", text.get("sp_budget_original")),
            Choice::new("revised", text.get("sp_budget_revised")),
        ],
        policy_areas: PolicyArea::ALL
            .iter()
            .map(|area| Choice::new(area.code(), area.label(code)))
            .collect(),
        chosen_areas,
        markers: marker_choices(text),
        synthetic,
    };
    let html = render::page("staff_project_form.html", text, page)?;
    Ok(form_response(html, has_errors))
}

/// The form's values from a stored project, with one blank row of each kind to add to.
fn values_of(project: &StaffProject) -> (BTreeMap<String, String>, Rows) {
    let mut values = BTreeMap::new();
    let mut set = |field: String, value: String| {
        values.insert(field, value);
    };
    for (prefix, names) in [
        ("title", &project.title),
        ("description", &project.description),
    ] {
        set(format!("{prefix}_en"), names.en.clone());
        set(format!("{prefix}_fr"), names.fr.clone());
        set(format!("{prefix}_es"), names.es.clone());
    }
    set("status".into(), project.status.clone());
    set("start_date".into(), project.planned_start.clone());
    set(
        "end_date".into(),
        project.planned_end.clone().unwrap_or_default(),
    );
    set("parent".into(), project.parent.clone().unwrap_or_default());
    let percentage = |share: &Share| share.percentage.map(|p| p.to_string()).unwrap_or_default();
    for (index, share) in project.countries.iter().enumerate() {
        set(format!("country_{index}_code"), share.code.clone());
        set(format!("country_{index}_percentage"), percentage(share));
    }
    for (index, share) in project.sectors.iter().enumerate() {
        set(format!("sector_{index}_code"), share.code.clone());
        set(format!("sector_{index}_percentage"), percentage(share));
    }
    for (index, funder) in project.funders.iter().enumerate() {
        set(format!("funder_{index}_partner"), funder.clone());
    }
    for (index, budget) in project.budgets.iter().enumerate() {
        set(format!("budget_{index}_start"), budget.period_start.clone());
        set(format!("budget_{index}_end"), budget.period_end.clone());
        set(format!("budget_{index}_amount"), budget.amount.to_string());
        set(
            format!("budget_{index}_currency"),
            budget.currency.as_str().to_owned(),
        );
        set(
            format!("budget_{index}_type"),
            if budget.revised {
                "revised"
            } else {
                "original"
            }
            .to_owned(),
        );
    }
    let markers = project.markers;
    for (name, on) in [
        ("south_south", markers.south_south),
        ("triangular", markers.triangular),
        ("joint_un", markers.joint_un),
        ("mptf", markers.mptf),
    ] {
        if on {
            set(name.to_owned(), "1".to_owned());
        }
    }
    let rows = Rows {
        countries: project.countries.len() + 1,
        sectors: project.sectors.len() + 1,
        funders: project.funders.len() + 1,
        budgets: project.budgets.len() + 1,
    };
    (values, rows)
}

/// The IATI ActivityStatus codes, labelled in `lang`.
pub fn status_choices(lang: &str) -> Vec<Choice> {
    ["1", "2", "3", "4", "5", "6"]
        .iter()
        .map(|code| Choice::new(*code, format::codelist("ActivityStatus", code, lang)))
        .collect()
}

/// The markers an officer sets on a project.
pub fn marker_choices(text: &Catalog) -> Vec<Choice> {
    vec![
        Choice::new("south_south", text.get("records_marker_south_south")),
        Choice::new("triangular", text.get("records_marker_triangular")),
        Choice::new("joint_un", text.get("records_marker_joint_un")),
        Choice::new("mptf", text.get("records_marker_mptf")),
    ]
}

#[cfg(test)]
mod tests {
    use super::within_a_year;

    #[test]
    fn a_budget_covers_a_year_at_most() {
        assert!(within_a_year("2024-01-01", "2024-12-31"));
        assert!(within_a_year("2024-03-01", "2025-02-28"));
        assert!(!within_a_year("2024-01-01", "2025-01-01"));
        assert!(!within_a_year("2024-01-01", "2026-06-30"));
    }
}
