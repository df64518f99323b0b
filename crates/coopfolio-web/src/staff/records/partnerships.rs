//! Multi-stakeholder partnerships: the list, and the form that makes or edits one (names, level,
//! policy areas, and its members with their roles as repeated rows).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{Html, Response};
use coopfolio_core::partnership::{Partnership, PartnershipLevel, PartnershipMember};
use coopfolio_core::policy_area::PolicyArea;
use coopfolio_core::reference::Names;
use coopfolio_store::records::SaveMode;
use coopfolio_store::staff::Role;
use serde::Serialize;

use super::{
    field_error_of, form_response, path_segment, row_count, saved, Checker, Choice, FieldError,
    Form, FormView, MAX_NAME_CHARS, MAX_TEXT_CHARS,
};
use crate::error::WebError;
use crate::staff::{StaffFrame, StaffUser};
use crate::text::{catalog, Catalog, Lang};
use crate::{render, AppState};

#[derive(Serialize)]
struct ListPage {
    staff: StaffFrame,
    partnerships: Vec<ListRow>,
}

#[derive(Serialize)]
struct ListRow {
    key: String,
    name: String,
    level: &'static str,
    policy_areas: String,
    members: usize,
    synthetic: bool,
}

pub async fn list(
    State(state): State<AppState>,
    user: StaffUser,
    lang: Lang,
) -> Result<Html<String>, WebError> {
    let code = lang.code();
    let partnerships = state
        .store
        .staff_partnerships()
        .await?
        .into_iter()
        .map(|partnership| ListRow {
            name: partnership.name.get(code).to_owned(),
            level: partnership.level.label(code),
            policy_areas: partnership
                .policy_areas
                .iter()
                .map(|area| area.label(code))
                .collect::<Vec<_>>()
                .join(", "),
            members: partnership.members.len(),
            synthetic: partnership.synthetic,
            key: partnership.key,
        })
        .collect();
    let page = ListPage {
        staff: user.frame(),
        partnerships,
    };
    Ok(Html(render::page(
        "staff_partnerships.html",
        catalog(lang),
        page,
    )?))
}

#[derive(Serialize)]
struct FormPage {
    staff: StaffFrame,
    key: Option<String>,
    form: FormView,
    member_rows: usize,
    chosen_areas: Vec<String>,
    levels: Vec<Choice>,
    policy_areas: Vec<Choice>,
    partners: Vec<Choice>,
    synthetic: bool,
}

pub async fn new_form(
    State(state): State<AppState>,
    user: StaffUser,
    lang: Lang,
) -> Result<Response, WebError> {
    render_form(
        &state,
        &user,
        lang,
        None,
        FormView::default(),
        Vec::new(),
        2,
        false,
    )
    .await
}

pub async fn create(
    State(state): State<AppState>,
    user: StaffUser,
    lang: Lang,
    body: Bytes,
) -> Result<Response, WebError> {
    save(state, user, lang, None, body).await
}

pub async fn show(
    State(state): State<AppState>,
    user: StaffUser,
    lang: Lang,
    Path(key): Path<String>,
) -> Result<Response, WebError> {
    let stored = stored(&state, &key).await?;
    let mut values = BTreeMap::new();
    values.insert("key".to_owned(), stored.key.clone());
    values.insert("name_en".to_owned(), stored.name.en.clone());
    values.insert("name_fr".to_owned(), stored.name.fr.clone());
    values.insert("name_es".to_owned(), stored.name.es.clone());
    values.insert("level".to_owned(), stored.level.code().to_owned());
    for (index, member) in stored.members.iter().enumerate() {
        values.insert(
            format!("member_{index}_partner"),
            member.partner_key.clone(),
        );
        values.insert(format!("member_{index}_role"), member.role.clone());
    }
    let areas = stored
        .policy_areas
        .iter()
        .map(|area| area.code().to_owned())
        .collect();
    render_form(
        &state,
        &user,
        lang,
        Some(&key),
        FormView::from_values(values),
        areas,
        stored.members.len() + 1,
        stored.synthetic,
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
    save(state, user, lang, Some(key), body).await
}

async fn stored(state: &AppState, key: &str) -> Result<Partnership, WebError> {
    state
        .store
        .staff_partnership(key)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("No partnership has the key '{key}'.")))
}

async fn save(
    state: AppState,
    user: StaffUser,
    lang: Lang,
    key: Option<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    user.require(Role::Officer)?;
    let stored = match &key {
        Some(key) => Some(stored(&state, key).await?),
        None => None,
    };
    let synthetic = stored.as_ref().is_some_and(|s| s.synthetic);
    let form = Form::parse(&body)?;
    let rows = row_count(form.rows("member"), form.added_row() == Some("member"), 1);
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
            key.as_deref(),
            view,
            chosen,
            rows,
            synthetic,
        )
        .await;
    }
    let partners: Vec<String> = state
        .store
        .partner_choices()
        .await?
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    let errors = match check(
        &form,
        catalog(lang),
        key.as_deref(),
        rows,
        &partners,
        synthetic,
    ) {
        Err(errors) => errors,
        Ok(partnership) => {
            let mode = if key.is_some() {
                SaveMode::Edit
            } else {
                SaveMode::Create
            };
            match state
                .store
                .save_staff_partnership(&partnership, mode, user.email())
                .await
            {
                Ok(()) => {
                    return Ok(saved(&format!(
                        "/staff/partnerships/{}",
                        path_segment(&partnership.key)
                    )))
                }
                Err(error) => vec![field_error_of(error)?],
            }
        }
    };
    let view = FormView::from_form(&form, errors);
    render_form(
        &state,
        &user,
        lang,
        key.as_deref(),
        view,
        chosen,
        rows,
        synthetic,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn render_form(
    state: &AppState,
    user: &StaffUser,
    lang: Lang,
    key: Option<&str>,
    form: FormView,
    chosen_areas: Vec<String>,
    member_rows: usize,
    synthetic: bool,
) -> Result<Response, WebError> {
    let code = lang.code();
    let has_errors = !form.errors.is_empty();
    let page = FormPage {
        staff: user.frame(),
        key: key.map(str::to_owned),
        form,
        member_rows,
        chosen_areas,
        levels: PartnershipLevel::ALL
            .iter()
            .map(|level| Choice::new(level.code(), level.label(code)))
            .collect(),
        policy_areas: PolicyArea::ALL
            .iter()
            .map(|area| Choice::new(area.code(), area.label(code)))
            .collect(),
        partners: state
            .store
            .partner_choices()
            .await?
            .into_iter()
            .map(|(key, name)| Choice::new(key, name))
            .collect(),
        synthetic,
    };
    let html = render::page("staff_partnership.html", catalog(lang), page)?;
    Ok(form_response(html, has_errors))
}

/// Checks every field of a partnership's form: the partnership to save, or each field that is
/// wrong. `key` is the stored partnership's on an edit; `rows` how many member rows to read;
/// `partners` the keys of the stored partners a member may be.
pub fn check(
    form: &Form,
    text: &Catalog,
    key: Option<&str>,
    rows: usize,
    partners: &[String],
    synthetic: bool,
) -> Result<Partnership, Vec<FieldError>> {
    let mut checker = Checker::new(form, text);
    let partnership_key = match key {
        Some(key) => key.to_owned(),
        None => checker.key("key"),
    };
    let name_en = checker.text("name_en", true, MAX_NAME_CHARS);
    let name_fr = checker.text("name_fr", false, MAX_NAME_CHARS);
    let name_es = checker.text("name_es", false, MAX_NAME_CHARS);
    let level: Option<PartnershipLevel> = checker.code("level", true);
    let mut policy_areas = Vec::new();
    for code in form.all("policy_area") {
        match code.parse::<PolicyArea>() {
            Ok(area) => policy_areas.push(area),
            Err(_) => checker.fail("policy_area", "records_error_choice"),
        }
    }
    let mut members = Vec::new();
    for index in 0..rows {
        let partner_field = format!("member_{index}_partner");
        let role_field = format!("member_{index}_role");
        let partner = form.get(&partner_field).trim();
        let role = checker.text(&role_field, false, MAX_TEXT_CHARS);
        if partner.is_empty() {
            if !role.is_empty() {
                checker.fail(&partner_field, "records_error_required");
            }
            continue;
        }
        if !partners.iter().any(|key| key == partner) {
            checker.fail(&partner_field, "records_error_choice");
            continue;
        }
        if members
            .iter()
            .any(|member: &PartnershipMember| member.partner_key == partner)
        {
            checker.fail(&partner_field, "records_error_member_twice");
            continue;
        }
        members.push(PartnershipMember {
            partner_key: partner.to_owned(),
            role,
        });
    }
    match level {
        Some(level) if checker.is_valid() => Ok(Partnership {
            key: partnership_key,
            name: Names {
                fr: if name_fr.is_empty() {
                    name_en.clone()
                } else {
                    name_fr
                },
                es: if name_es.is_empty() {
                    name_en.clone()
                } else {
                    name_es
                },
                en: name_en,
            },
            level,
            policy_areas,
            members,
            synthetic,
        }),
        _ => Err(checker.errors),
    }
}
