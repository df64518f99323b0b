//! Programmes and projects: the list (the explorer's own query, so its filters mean the same
//! here), and one project's page with what the organisation adds to it, the policy areas set
//! by hand and the markers, which an officer edits. What IATI data says of an imported activity
//! (titles, dates, countries, budgets) comes from its publisher's file and is shown, not edited
//! here: a new import would replace it. A programme or project made in the workspace is edited
//! whole through `project_form.rs`, linked from its page.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use coopfolio_core::partnership::ProjectExtras;
use coopfolio_core::policy_area::PolicyArea;
use coopfolio_store::portal::{ProjectDetail, ProjectQuery};
use coopfolio_store::records::StaffProjectExtras;
use coopfolio_store::staff::Role;
use serde::{Deserialize, Serialize};

use super::project_form::{self, marker_choices, status_choices};
use super::{
    country_choices, field_error_of, form_response, path_segment, saved, Checker, Choice,
    FieldError, Form, FormView,
};
use crate::error::WebError;
use crate::staff::{StaffFrame, StaffUser};
use crate::text::{catalog, Catalog, Lang};
use crate::{format, render, AppState};

const PAGE_SIZE: u32 = 100;

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    page: String,
}

#[derive(Serialize)]
struct ListPage {
    staff: StaffFrame,
    q: String,
    country: String,
    status: String,
    countries: Vec<Choice>,
    statuses: Vec<Choice>,
    total: u64,
    page: u32,
    next_page: Option<u32>,
    projects: Vec<ListRow>,
}

#[derive(Serialize)]
struct ListRow {
    identifier: String,
    title: String,
    status: String,
    start_date: Option<String>,
    end_date: Option<String>,
    countries: String,
}

pub async fn list(
    State(state): State<AppState>,
    user: StaffUser,
    lang: Lang,
    Query(params): Query<ListParams>,
) -> Result<Html<String>, WebError> {
    let code = lang.code();
    let page_number = params
        .page
        .trim()
        .parse::<u32>()
        .unwrap_or(1)
        .clamp(1, 10_000);
    let query = ProjectQuery {
        text: Some(params.q.trim().to_owned()).filter(|q| !q.is_empty()),
        country: Some(params.country.trim().to_ascii_uppercase()).filter(|c| !c.is_empty()),
        status: Some(params.status.trim().to_owned()).filter(|s| !s.is_empty()),
        page: page_number,
        page_size: PAGE_SIZE,
        ..ProjectQuery::default()
    };
    let list = state.store.projects(&query).await?;
    let shown = u64::from(page_number) * u64::from(PAGE_SIZE);
    let page = ListPage {
        staff: user.frame(),
        countries: country_choices(code),
        statuses: status_choices(code),
        total: list.total,
        page: page_number,
        next_page: (shown < list.total).then_some(page_number + 1),
        projects: list
            .projects
            .into_iter()
            .map(|project| ListRow {
                title: project.title.unwrap_or_else(|| project.identifier.clone()),
                status: project
                    .status
                    .as_deref()
                    .map(|s| format::codelist("ActivityStatus", s, code))
                    .unwrap_or_default(),
                start_date: project.start_date,
                end_date: project.end_date,
                countries: project.countries.join(", "),
                identifier: project.identifier,
            })
            .collect(),
        q: params.q,
        country: params.country,
        status: params.status,
    };
    Ok(Html(render::page(
        "staff_projects.html",
        catalog(lang),
        page,
    )?))
}

#[derive(Serialize)]
struct ProjectPage {
    staff: StaffFrame,
    identifier: String,
    title: String,
    detail: ProjectDetail,
    extras: StaffProjectExtras,
    /// Policy areas mapped from the sectors, shown while none is set by hand.
    form: FormView,
    chosen_areas: Vec<String>,
    policy_areas: Vec<Choice>,
    markers: Vec<Choice>,
    /// Made in the workspace (no publisher's file): the whole record is edited here.
    editable: bool,
}

pub async fn show(
    State(state): State<AppState>,
    user: StaffUser,
    lang: Lang,
    Path(identifier): Path<String>,
) -> Result<Response, WebError> {
    let extras = state.store.staff_project_extras(&identifier).await?;
    let mut form = FormView::default();
    let markers = extras.markers;
    for (name, set) in [
        ("south_south", markers.south_south),
        ("triangular", markers.triangular),
        ("joint_un", markers.joint_un),
        ("mptf", markers.mptf),
    ] {
        if set {
            form.set(name, "1");
        }
    }
    let chosen = extras.policy_areas.clone();
    render(&state, &user, lang, &identifier, form, chosen, extras).await
}

pub async fn update(
    State(state): State<AppState>,
    user: StaffUser,
    lang: Lang,
    Path(identifier): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    user.require(Role::Officer)?;
    let extras = state.store.staff_project_extras(&identifier).await?;
    // The project must be stored: extras for an identifier nobody imported would be invisible.
    if state.store.project(&identifier).await?.is_none() {
        return Err(not_found(&identifier));
    }
    let form = Form::parse(&body)?;
    let chosen: Vec<String> = form
        .all("policy_area")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let errors = match check(&form, catalog(lang), &identifier, extras.synthetic) {
        Err(errors) => errors,
        Ok(record) => match state
            .store
            .save_staff_project_extras(&record, user.email())
            .await
        {
            Ok(()) => {
                return Ok(saved(&format!(
                    "/staff/projects/{}",
                    path_segment(&identifier)
                )))
            }
            Err(error) => vec![field_error_of(error)?],
        },
    };
    let view = FormView::from_form(&form, errors);
    render(&state, &user, lang, &identifier, view, chosen, extras).await
}

async fn render(
    state: &AppState,
    user: &StaffUser,
    lang: Lang,
    identifier: &str,
    form: FormView,
    chosen_areas: Vec<String>,
    extras: StaffProjectExtras,
) -> Result<Response, WebError> {
    let code = lang.code();
    let text = catalog(lang);
    let detail = state
        .store
        .project(identifier)
        .await?
        .ok_or_else(|| not_found(identifier))?;
    let title = detail
        .titles
        .iter()
        .find(|title| title.lang.as_deref() == Some(code))
        .or(detail.titles.first())
        .map(|title| title.text.clone())
        .unwrap_or_else(|| identifier.to_owned());
    let has_errors = !form.errors.is_empty();
    let editable = state
        .store
        .staff_project(identifier)
        .await?
        .is_some_and(|stored| !stored.imported);
    let page = ProjectPage {
        staff: user.frame(),
        identifier: identifier.to_owned(),
        title,
        detail,
        extras,
        form,
        chosen_areas,
        policy_areas: PolicyArea::ALL
            .iter()
            .map(|area| Choice::new(area.code(), area.label(code)))
            .collect(),
        markers: marker_choices(text),
        editable,
    };
    let html = render::page("staff_project.html", text, page)?;
    Ok(form_response(html, has_errors))
}

/// Checks the form of a project's extras: what to save, or each field that is wrong. A marker
/// is set when its field is sent with any value (a checkbox).
pub fn check(
    form: &Form,
    text: &Catalog,
    identifier: &str,
    synthetic: bool,
) -> Result<ProjectExtras, Vec<FieldError>> {
    let mut checker = Checker::new(form, text);
    let (areas, markers) = project_form::extras(&mut checker);
    if !checker.is_valid() {
        return Err(checker.errors);
    }
    Ok(ProjectExtras {
        activity_identifier: identifier.to_owned(),
        policy_areas: areas,
        markers,
        synthetic,
    })
}

fn not_found(identifier: &str) -> WebError {
    WebError::NotFound(format!(
        "No programme or project has the identifier '{identifier}'."
    ))
}
