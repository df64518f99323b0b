//! Partners: the list with its filters (group, text), the form to make one and the page that
//! shows one with the group in force, the rule that gave it and the roll-up, and edits it.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use coopfolio_core::codelists::Codelists;
use coopfolio_core::partner_group::PartnerGroup;
use coopfolio_core::partnership::Partner;
use coopfolio_core::reference::Names;
use coopfolio_core::rollup::Rollups;
use coopfolio_store::records::{PartnerFilter, RollupChoice, SaveMode, StaffPartner};
use coopfolio_store::staff::Role;
use serde::{Deserialize, Serialize};

use super::{
    country_choices, field_error_of, form_response, path_segment, saved, Checker, Choice,
    FieldError, Form, FormView, MAX_NAME_CHARS,
};
use crate::error::WebError;
use crate::staff::{StaffFrame, StaffUser};
use crate::text::{catalog, Catalog, Lang};
use crate::{render, AppState};

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(default)]
    group: String,
    #[serde(default)]
    q: String,
}

#[derive(Serialize)]
struct ListPage {
    staff: StaffFrame,
    group: String,
    q: String,
    groups: Vec<Choice>,
    partners: Vec<ListRow>,
}

#[derive(Serialize)]
struct ListRow {
    key: String,
    name: String,
    iati_ref: Option<String>,
    country: Option<String>,
    group: &'static str,
    overridden: bool,
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
    let filter = PartnerFilter {
        group: Some(params.group.clone()).filter(|group| !group.is_empty()),
        text: Some(params.q.clone()).filter(|q| !q.trim().is_empty()),
    };
    let partners = state
        .store
        .staff_partners(&filter)
        .await?
        .into_iter()
        .map(|row| ListRow {
            group: group_label(&row.partner_group, code),
            overridden: row.partner.group_override.is_some(),
            name: row.partner.names.get(code).to_owned(),
            country: row
                .partner
                .country
                .as_deref()
                .map(|c| crate::format::country(c, code)),
            key: row.partner.key,
            iati_ref: row.partner.iati_ref,
            synthetic: row.partner.synthetic,
        })
        .collect();
    let page = ListPage {
        staff: user.frame(),
        group: params.group,
        q: params.q,
        groups: group_choices(code),
        partners,
    };
    Ok(Html(render::page("staff_partners.html", text, page)?))
}

#[derive(Serialize)]
struct FormPage {
    staff: StaffFrame,
    /// The stored partner's key; None on the form that makes one.
    key: Option<String>,
    form: FormView,
    groups: Vec<Choice>,
    countries: Vec<Choice>,
    organisation_types: Vec<Choice>,
    /// The contributors a partner may be counted as, for the roll-up set by hand.
    rollups: Vec<Choice>,
    derived: Option<Derived>,
}

/// The group in force, the rule that gave it and the contributor it rolls up into.
#[derive(Serialize)]
struct Derived {
    group: &'static str,
    rule: String,
    rollup: Option<String>,
    rollup_by_hand: bool,
    synthetic: bool,
}

/// The roll-up field's value for "counts as itself"; the empty value leaves it to the rules.
const ROLLUP_ITSELF: &str = "self";

pub async fn new_form(user: StaffUser, lang: Lang) -> Result<Response, WebError> {
    render_form(&user, lang, None, FormView::default(), None)
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
    let mut form = FormView::from_values(values_of(&stored.partner));
    form.set(
        "rollup_override",
        match stored.rollup_override.as_deref() {
            None => "",
            Some("") => ROLLUP_ITSELF,
            Some(code) => code,
        },
    );
    render_form(&user, lang, Some(&key), form, Some(&stored))
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

async fn stored(state: &AppState, key: &str) -> Result<StaffPartner, WebError> {
    state
        .store
        .staff_partner(key)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("No partner has the key '{key}'.")))
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
    let form = Form::parse(&body)?;
    let synthetic = stored.as_ref().is_some_and(|s| s.partner.synthetic);
    let text = catalog(lang);
    let checked = check(&form, text, key.as_deref(), synthetic);
    let errors = match (checked, rollup_choice(&form, text)) {
        (Ok(partner), Ok(rollup)) => {
            let mode = if key.is_some() {
                SaveMode::Edit
            } else {
                SaveMode::Create
            };
            match state
                .store
                .save_staff_partner_with_rollup(&partner, &rollup, mode, user.email())
                .await
            {
                Ok(()) => {
                    return Ok(saved(&format!(
                        "/staff/partners/{}",
                        path_segment(&partner.key)
                    )))
                }
                Err(error) => vec![field_error_of(error)?],
            }
        }
        (checked, rollup) => {
            let mut errors = checked.err().unwrap_or_default();
            errors.extend(rollup.err().unwrap_or_default());
            errors
        }
    };
    let view = FormView::from_form(&form, errors);
    render_form(&user, lang, key.as_deref(), view, stored.as_ref())
}

/// The roll-up chosen in the form: by the rules (empty), the partner itself, or one of the
/// bundled contributors. A partner written through the API keeps the roll-up it has.
fn rollup_choice(form: &Form, text: &Catalog) -> Result<RollupChoice, Vec<FieldError>> {
    let mut checker = Checker::new(form, text);
    let choice = match form.get("rollup_override").trim() {
        "" => RollupChoice::ByRule,
        ROLLUP_ITSELF => RollupChoice::Itself,
        code if Rollups::bundled().target(code).is_some() => RollupChoice::Into(code.to_owned()),
        _ => {
            checker.fail("rollup_override", "records_error_choice");
            RollupChoice::Keep
        }
    };
    if checker.is_valid() {
        Ok(choice)
    } else {
        Err(checker.errors)
    }
}

/// Checks every field of a partner's form: the partner to save, or each field that is wrong.
/// `key` is the stored partner's when it is an edit (the form's `key` field is read only for a
/// new one); `synthetic` is kept from the stored record.
pub fn check(
    form: &Form,
    text: &Catalog,
    key: Option<&str>,
    synthetic: bool,
) -> Result<Partner, Vec<FieldError>> {
    let mut checker = Checker::new(form, text);
    let partner_key = match key {
        Some(key) => key.to_owned(),
        None => checker.key("key"),
    };
    let names = Names {
        en: checker.text("name_en", true, MAX_NAME_CHARS),
        fr: checker.text("name_fr", false, MAX_NAME_CHARS),
        es: checker.text("name_es", false, MAX_NAME_CHARS),
    };
    let iati_ref = checker.optional_text("iati_ref", 100);
    if iati_ref
        .as_deref()
        .is_some_and(|r| r.chars().any(char::is_whitespace))
    {
        checker.fail("iati_ref", "records_error_iati_ref");
    }
    let organisation_type = checker.optional_text("organisation_type", 10);
    if let Some(code) = &organisation_type {
        let known = Codelists::bundled()
            .contains("OrganisationType", code)
            .unwrap_or(false);
        if !known {
            checker.fail("organisation_type", "records_error_choice");
        }
    }
    let country = checker.country("country");
    let group_override: Option<PartnerGroup> = checker.code("group_override", false);
    if !checker.is_valid() {
        return Err(checker.errors);
    }
    // A name not yet translated is shown in English rather than left blank.
    Ok(Partner {
        key: partner_key,
        names: Names {
            fr: if names.fr.is_empty() {
                names.en.clone()
            } else {
                names.fr
            },
            es: if names.es.is_empty() {
                names.en.clone()
            } else {
                names.es
            },
            en: names.en,
        },
        iati_ref,
        organisation_type,
        country,
        group_override,
        synthetic,
    })
}

fn render_form(
    user: &StaffUser,
    lang: Lang,
    key: Option<&str>,
    form: FormView,
    stored: Option<&StaffPartner>,
) -> Result<Response, WebError> {
    let code = lang.code();
    let has_errors = !form.errors.is_empty();
    let organisation_types = Codelists::bundled()
        .get("OrganisationType")
        .map(|list| {
            list.items
                .iter()
                .filter(|item| !item.withdrawn)
                .map(|item| {
                    Choice::new(
                        item.code.clone(),
                        format!("{} {}", item.code, item.name(code).unwrap_or_default()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let page = FormPage {
        staff: user.frame(),
        key: key.map(str::to_owned),
        form,
        groups: group_choices(code),
        countries: country_choices(code),
        organisation_types,
        rollups: std::iter::once(Choice::new(
            ROLLUP_ITSELF,
            catalog(lang).get("records_rollup_none"),
        ))
        .chain(
            Rollups::bundled()
                .targets()
                .iter()
                .map(|target| Choice::new(target.code.clone(), target.name(code))),
        )
        .collect(),
        derived: stored.map(|stored| Derived {
            group: group_label(&stored.partner_group, code),
            rule: stored.group_rule.clone(),
            rollup: stored.rollup_code.as_deref().map(|rollup| {
                Rollups::bundled()
                    .target(rollup)
                    .map_or(rollup, |target| target.name(code))
                    .to_owned()
            }),
            rollup_by_hand: stored.rollup_override.is_some(),
            synthetic: stored.partner.synthetic,
        }),
    };
    let html = render::page("staff_partner.html", catalog(lang), page)?;
    Ok(form_response(html, has_errors))
}

fn values_of(partner: &Partner) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    let mut set = |field: &str, value: &str| {
        values.insert(field.to_owned(), value.to_owned());
    };
    set("key", &partner.key);
    set("name_en", &partner.names.en);
    set("name_fr", &partner.names.fr);
    set("name_es", &partner.names.es);
    set("iati_ref", partner.iati_ref.as_deref().unwrap_or(""));
    set(
        "organisation_type",
        partner.organisation_type.as_deref().unwrap_or(""),
    );
    set("country", partner.country.as_deref().unwrap_or(""));
    set(
        "group_override",
        partner.group_override.map(|g| g.code()).unwrap_or(""),
    );
    values
}

fn group_choices(lang: &str) -> Vec<Choice> {
    PartnerGroup::ALL
        .iter()
        .map(|group| Choice::new(group.code(), group.label(lang)))
        .collect()
}

fn group_label(code: &str, lang: &str) -> &'static str {
    code.parse::<PartnerGroup>()
        .map(|group| group.label(lang))
        .unwrap_or("?")
}
