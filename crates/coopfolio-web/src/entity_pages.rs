//! The pages of the things the portal names: partners, countries, policy areas, multi-stakeholder
//! partnerships, and the funding page (contributions by period, modality and partner group, and
//! the contributor ranking with its roll-ups). Each handler reads what its page needs from the
//! store, names codes in the visitor's language and renders a template; an unknown key or code
//! is a 404 in that language.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::Html;
use coopfolio_core::country::Countries;
use coopfolio_core::modality::Modality;
use coopfolio_core::partner_group::PartnerGroup;
use coopfolio_core::partnership::{AgreementStatus, PartnershipLevel};
use coopfolio_core::period::Period;
use coopfolio_core::policy_area::PolicyArea;
use coopfolio_core::rollup::Rollups;
use coopfolio_store::entities::{Membership, PartnerLink, Scope};
use coopfolio_store::figures::Basis;
use coopfolio_store::portal::{ProjectQuery, ProjectSort};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::WebError;
use crate::pages::{method_view, Choice, Labelled, MethodView};
use crate::text::{catalog, Lang};
use crate::{format, render, AppState};

/// How many programmes and projects a country or policy-area page lists before pointing to the
/// explorer for the rest.
const PROJECTS_LISTED: u32 = 50;

/// How many bienniums the funding page offers, ending with the latest.
const FUNDING_BIENNIUMS: i32 = 5;

/// A name that links to its page when it has one.
#[derive(Debug, Serialize)]
pub(crate) struct Link {
    pub(crate) label: String,
    pub(crate) href: Option<String>,
}

/// A country named in the visitor's language, linked to its page when the reference table
/// knows it.
pub(crate) fn country_link(code: &str, lang: &str) -> Link {
    let country = Countries::bundled().get(code);
    Link {
        label: format::country(code, lang),
        href: country.map(|country| format!("/countries/{}", country.alpha2)),
    }
}

pub(crate) fn policy_area_link(code: &str, lang: &str) -> Link {
    Link {
        label: format::policy_area(code, lang),
        href: PolicyArea::from_code(code).map(|area| format!("/policy-areas/{}", area.code())),
    }
}

/// Where a line of a contributor ranking leads: a roll-up to the funding page of its period,
/// where its members are listed; a partner counting as itself to its own page.
pub(crate) fn contributor_href(code: &str, period: Period) -> String {
    if Rollups::bundled().target(code).is_some() {
        format!("/funding?period={period}#contributor-{code}")
    } else {
        partner_href(code)
    }
}

pub(crate) fn partner_href(key: &str) -> String {
    format!("/partners/{}", url_segment(key))
}

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct PartnersParams {
    #[serde(default)]
    group: String,
}

pub async fn partners(
    State(state): State<AppState>,
    lang: Lang,
    Query(params): Query<PartnersParams>,
) -> Result<Html<String>, WebError> {
    let text = catalog(lang);
    let code = lang.code();
    let group = match params.group.trim() {
        "" => None,
        given => Some(PartnerGroup::from_code(given).ok_or_else(|| {
            WebError::BadRequest(format!("{} {given}", text.get("unknown_partner_group")))
        })?),
    };
    let partners = state.store.partners(group, None).await?;
    let page = PartnersPage {
        group: group
            .map(|group| group.code().to_owned())
            .unwrap_or_default(),
        groups: PartnerGroup::ALL
            .iter()
            .map(|group| Choice {
                code: group.code().to_owned(),
                label: group.label(code).to_owned(),
            })
            .collect(),
        partners: partners
            .value
            .iter()
            .map(|partner| PartnerRow {
                href: partner_href(&partner.key),
                name: partner.names.get(code).to_owned(),
                group: group_label(&partner.group, code),
                country: partner.country.as_deref().map(|c| country_link(c, code)),
                total: format::millions(partner.total_usd),
                synthetic: partner.synthetic,
            })
            .collect(),
        method: method_view(&partners.method, code),
    };
    Ok(Html(render::page("partners.html", text, page)?))
}

pub async fn partner(
    State(state): State<AppState>,
    lang: Lang,
    Path(key): Path<String>,
) -> Result<Html<String>, WebError> {
    let text = catalog(lang);
    let code = lang.code();
    let partner = state
        .store
        .partner(&key, code)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("{} {key}", text.get("no_such_partner"))))?;
    let voluntary: Vec<&Modality> = Modality::ALL.iter().filter(|m| m.is_voluntary()).collect();
    // One row per biennium, one column per voluntary modality.
    let mut periods: BTreeMap<String, BTreeMap<String, Decimal>> = BTreeMap::new();
    for amount in &partner.contributions.value {
        *periods
            .entry(amount.period.clone())
            .or_default()
            .entry(amount.modality.clone())
            .or_default() += amount.usd;
    }
    let page = PartnerPage {
        name: partner.names.get(code).to_owned(),
        other_names: other_names(&partner.names, code),
        group: group_label(&partner.group, code),
        group_rule: if partner.group_set_by_hand {
            text.get("group_set_by_hand").to_owned()
        } else {
            partner.group_rule.clone()
        },
        rollup: partner
            .rollup
            .as_ref()
            .map(|(_, names)| names.get(code).to_owned()),
        country: partner.country.as_deref().map(|c| country_link(c, code)),
        iati_ref: partner.iati_ref.clone(),
        organisation_type: partner
            .organisation_type
            .as_deref()
            .map(|kind| format::codelist("OrganisationType", kind, code)),
        modalities: voluntary.iter().map(|m| m.label(code).to_owned()).collect(),
        periods: periods
            .iter()
            .rev()
            .map(|(period, amounts)| PeriodRow {
                period: period.clone(),
                href: format!("/funding?period={period}"),
                amounts: voluntary
                    .iter()
                    .map(|m| {
                        amounts
                            .get(m.code())
                            .map(|usd| format::millions(*usd))
                            .unwrap_or_else(|| "—".to_owned())
                    })
                    .collect(),
                total: format::millions(amounts.values().copied().sum()),
            })
            .collect(),
        total: format::millions(partner.contributions.value.iter().map(|a| a.usd).sum()),
        method: method_view(&partner.contributions.method, code),
        confidential: partner
            .contributions
            .method
            .withheld
            .confidential_agreements,
        agreements: partner
            .agreements
            .iter()
            .map(|agreement| AgreementRow {
                title: agreement.title.get(code).to_owned(),
                modality: format::modality(&agreement.modality, code),
                status: AgreementStatus::from_code(&agreement.status)
                    .map_or_else(|| agreement.status.clone(), |s| s.label(code).to_owned()),
                signed: agreement.signature_date.clone(),
                share: format!("{} {}", agreement.share.normalize(), agreement.currency),
                share_usd: agreement.share_usd.map(format::millions),
            })
            .collect(),
        projects: partner
            .earmarked_projects
            .iter()
            .map(|project| ProjectItem {
                href: project
                    .stored
                    .then(|| format!("/projects/{}", url_segment(&project.identifier))),
                title: project.title.clone(),
                identifier: project.identifier.clone(),
            })
            .collect(),
        partnerships: partner
            .partnerships
            .iter()
            .map(|membership| membership_row(membership, code))
            .collect(),
        synthetic: partner.synthetic,
    };
    Ok(Html(render::page("partner.html", text, page)?))
}

pub async fn country(
    State(state): State<AppState>,
    lang: Lang,
    Path(alpha2): Path<String>,
) -> Result<Html<String>, WebError> {
    let text = catalog(lang);
    let code = lang.code();
    let country = Countries::bundled()
        .get(&alpha2)
        .ok_or_else(|| WebError::NotFound(format!("{} {alpha2}", text.get("no_such_country"))))?;
    let store = &state.store;
    let query = ProjectQuery {
        country: Some(country.alpha2.clone()),
        sort: ProjectSort::StartNewest,
        page: 1,
        page_size: PROJECTS_LISTED,
        ..ProjectQuery::default()
    };
    let projects = project_items(&state, &query, code).await?;
    let budget = store.country_budget(&country.alpha2).await?;
    let place = store.place(Scope::Country(&country.alpha2)).await?;
    let page = CountryPage {
        name: country.names.get(code).to_owned(),
        alpha2: country.alpha2.clone(),
        region: country.region.label(code).to_owned(),
        region_href: format!("/projects?region={}", country.region.code()),
        global_south: country.global_south,
        projects,
        explorer_href: format!("/projects?country={}", country.alpha2),
        budget: budget
            .value
            .iter()
            .map(|year| Labelled {
                label: year.year.to_string(),
                value: format::millions(year.usd),
            })
            .collect(),
        budget_method: method_view(&budget.method, code),
        partners: partner_items(&place.partners, code),
    };
    Ok(Html(render::page("country.html", text, page)?))
}

pub async fn policy_area(
    State(state): State<AppState>,
    lang: Lang,
    Path(area): Path<String>,
) -> Result<Html<String>, WebError> {
    let text = catalog(lang);
    let code = lang.code();
    let area = PolicyArea::from_code(&area)
        .ok_or_else(|| WebError::NotFound(format!("{} {area}", text.get("no_such_policy_area"))))?;
    let query = ProjectQuery {
        policy_area: Some(area),
        sort: ProjectSort::StartNewest,
        page: 1,
        page_size: PROJECTS_LISTED,
        ..ProjectQuery::default()
    };
    let projects = project_items(&state, &query, code).await?;
    let place = state.store.place(Scope::PolicyArea(area)).await?;
    let partnerships = state
        .store
        .partnerships()
        .await?
        .into_iter()
        .filter(|partnership| partnership.policy_areas.iter().any(|a| a == area.code()))
        .map(|partnership| Link {
            label: partnership.names.get(code).to_owned(),
            href: Some(format!("/partnerships/{}", url_segment(&partnership.key))),
        })
        .collect();
    let page = PolicyAreaPage {
        name: area.label(code).to_owned(),
        projects,
        explorer_href: format!("/projects?area={}", area.code()),
        countries: place
            .countries
            .iter()
            .map(|(country, count)| CountedLink {
                link: country_link(country, code),
                count: *count,
            })
            .collect(),
        partners: partner_items(&place.partners, code),
        partnerships,
    };
    Ok(Html(render::page("policy_area.html", text, page)?))
}

pub async fn partnerships(
    State(state): State<AppState>,
    lang: Lang,
) -> Result<Html<String>, WebError> {
    let text = catalog(lang);
    let code = lang.code();
    let partnerships = state.store.partnerships().await?;
    let page = PartnershipsPage {
        partnerships: partnerships
            .iter()
            .map(|partnership| PartnershipRow {
                href: format!("/partnerships/{}", url_segment(&partnership.key)),
                name: partnership.names.get(code).to_owned(),
                level: level_label(&partnership.level, code),
                policy_areas: partnership
                    .policy_areas
                    .iter()
                    .map(|area| policy_area_link(area, code))
                    .collect(),
                members: partnership.members,
                synthetic: partnership.synthetic,
            })
            .collect(),
    };
    Ok(Html(render::page("partnerships.html", text, page)?))
}

pub async fn partnership(
    State(state): State<AppState>,
    lang: Lang,
    Path(key): Path<String>,
) -> Result<Html<String>, WebError> {
    let text = catalog(lang);
    let code = lang.code();
    let partnership =
        state.store.partnership(&key).await?.ok_or_else(|| {
            WebError::NotFound(format!("{} {key}", text.get("no_such_partnership")))
        })?;
    let summary = &partnership.summary;
    let page = PartnershipPage {
        name: summary.names.get(code).to_owned(),
        other_names: other_names(&summary.names, code),
        level: level_label(&summary.level, code),
        policy_areas: summary
            .policy_areas
            .iter()
            .map(|area| policy_area_link(area, code))
            .collect(),
        members: partnership
            .members
            .iter()
            .map(|member| membership_row(member, code))
            .collect(),
        synthetic: summary.synthetic,
    };
    Ok(Html(render::page("partnership.html", text, page)?))
}

#[derive(Debug, Default, Deserialize)]
pub struct FundingParams {
    #[serde(default)]
    period: String,
    /// `approved` (the default) or `received`.
    #[serde(default)]
    basis: String,
}

pub async fn funding(
    State(state): State<AppState>,
    lang: Lang,
    Query(params): Query<FundingParams>,
) -> Result<Html<String>, WebError> {
    let text = catalog(lang);
    let code = lang.code();
    let store = &state.store;
    let rule = store.period_rule().await?;
    let latest = store
        .latest_biennium_with_contributions()
        .await?
        .unwrap_or(Period::Biennium(2022));
    let period = match params.period.trim() {
        "" => latest,
        given => rule.parse_period(given).map_err(|error| {
            WebError::BadRequest(format!("{} {given} ({error})", text.get("bad_period")))
        })?,
    };
    let basis = match params.basis.trim() {
        "" | "approved" => Basis::Approved,
        "received" => Basis::Received,
        given => {
            return Err(WebError::BadRequest(format!(
                "{} {given}",
                text.get("funding_bad_basis")
            )))
        }
    };
    // The period links keep the basis; the basis links keep the period.
    let basis_query = match basis {
        Basis::Approved => "",
        Basis::Received => "&basis=received",
    };
    let contributions = store.contributions(period, basis).await?;
    let partners = store.partners(None, Some(period)).await?;
    let voluntary: Vec<&Modality> = Modality::ALL.iter().filter(|m| m.is_voluntary()).collect();
    let cell = |key: &str| {
        contributions
            .value
            .by_modality_and_partner_group
            .iter()
            .find(|amount| amount.code == key)
            .map(|amount| format::millions(amount.usd))
            .unwrap_or_else(|| "—".to_owned())
    };
    let groups = PartnerGroup::ALL
        .iter()
        .filter_map(|group| {
            let total = contributions
                .value
                .by_partner_group
                .iter()
                .find(|amount| amount.code == group.code())?;
            Some(GroupRow {
                label: group.label(code).to_owned(),
                href: format!("/partners?group={}", group.code()),
                amounts: voluntary
                    .iter()
                    .map(|m| cell(&format!("{}/{}", m.code(), group.code())))
                    .collect(),
                total: format::millions(total.usd),
            })
        })
        .collect();
    let ranking = contributions
        .value
        .ranking
        .iter()
        .map(|contributor| {
            let rollup = Rollups::bundled().target(&contributor.code).is_some();
            RankingRow {
                rank: contributor.rank,
                anchor: format!("contributor-{}", contributor.code),
                name: contributor.names.get(code).to_owned(),
                href: (!rollup).then(|| partner_href(&contributor.code)),
                value: format::millions(contributor.usd),
                members: if rollup {
                    partners
                        .value
                        .iter()
                        .filter(|partner| {
                            partner.rollup_code.as_deref() == Some(contributor.code.as_str())
                                && !partner.total_usd.is_zero()
                        })
                        .map(|partner| Labelled {
                            label: partner.names.get(code).to_owned(),
                            value: partner_href(&partner.key),
                        })
                        .collect()
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    let first_year = latest.first_year();
    let periods = (0..FUNDING_BIENNIUMS)
        .map(|step| {
            let each = Period::Biennium(first_year - 2 * step);
            FundingPeriod {
                label: each.to_string(),
                href: format!("/funding?period={each}{basis_query}"),
                current: each == period,
            }
        })
        .collect();
    let bases = [
        (Basis::Approved, "funding_basis_approved", ""),
        (Basis::Received, "funding_basis_received", "&basis=received"),
    ]
    .into_iter()
    .map(|(each, key, query)| FundingPeriod {
        label: text.get(key).to_owned(),
        href: format!("/funding?period={period}{query}"),
        current: each == basis,
    })
    .collect();
    let page = FundingPage {
        period: period.to_string(),
        periods,
        bases,
        received: basis == Basis::Received,
        total: format::millions(contributions.value.total_usd),
        modalities: voluntary.iter().map(|m| m.label(code).to_owned()).collect(),
        modality_totals: voluntary
            .iter()
            .map(|m| {
                contributions
                    .value
                    .by_modality
                    .iter()
                    .find(|amount| amount.code == m.code())
                    .map(|amount| format::millions(amount.usd))
                    .unwrap_or_else(|| "—".to_owned())
            })
            .collect(),
        groups,
        ranking,
        method: method_view(&contributions.method, code),
    };
    Ok(Html(render::page("funding.html", text, page)?))
}

#[derive(Serialize)]
struct PartnersPage {
    group: String,
    groups: Vec<Choice>,
    partners: Vec<PartnerRow>,
    method: MethodView,
}

#[derive(Serialize)]
struct PartnerRow {
    href: String,
    name: String,
    group: String,
    country: Option<Link>,
    total: String,
    synthetic: bool,
}

#[derive(Serialize)]
struct PartnerPage {
    name: String,
    other_names: Vec<String>,
    group: String,
    group_rule: String,
    rollup: Option<String>,
    country: Option<Link>,
    iati_ref: Option<String>,
    organisation_type: Option<String>,
    modalities: Vec<String>,
    periods: Vec<PeriodRow>,
    total: String,
    method: MethodView,
    confidential: u64,
    agreements: Vec<AgreementRow>,
    projects: Vec<ProjectItem>,
    partnerships: Vec<MembershipRow>,
    synthetic: bool,
}

#[derive(Serialize)]
struct PeriodRow {
    period: String,
    href: String,
    amounts: Vec<String>,
    total: String,
}

#[derive(Serialize)]
struct AgreementRow {
    title: String,
    modality: String,
    status: String,
    signed: Option<String>,
    share: String,
    share_usd: Option<String>,
}

#[derive(Serialize)]
struct ProjectItem {
    identifier: String,
    title: Option<String>,
    href: Option<String>,
}

#[derive(Serialize)]
struct MembershipRow {
    partnership: Link,
    partner: Link,
    group: String,
    role: String,
}

#[derive(Serialize)]
struct CountryPage {
    name: String,
    alpha2: String,
    region: String,
    region_href: String,
    global_south: bool,
    projects: ProjectList,
    explorer_href: String,
    budget: Vec<Labelled>,
    budget_method: MethodView,
    partners: Vec<PartnerItem>,
}

#[derive(Serialize)]
struct ProjectList {
    total: u64,
    items: Vec<ProjectItem>,
}

#[derive(Serialize)]
struct PartnerItem {
    link: Link,
    group: String,
}

#[derive(Serialize)]
struct CountedLink {
    link: Link,
    count: u64,
}

#[derive(Serialize)]
struct PolicyAreaPage {
    name: String,
    projects: ProjectList,
    explorer_href: String,
    countries: Vec<CountedLink>,
    partners: Vec<PartnerItem>,
    partnerships: Vec<Link>,
}

#[derive(Serialize)]
struct PartnershipsPage {
    partnerships: Vec<PartnershipRow>,
}

#[derive(Serialize)]
struct PartnershipRow {
    href: String,
    name: String,
    level: String,
    policy_areas: Vec<Link>,
    members: u64,
    synthetic: bool,
}

#[derive(Serialize)]
struct PartnershipPage {
    name: String,
    other_names: Vec<String>,
    level: String,
    policy_areas: Vec<Link>,
    members: Vec<MembershipRow>,
    synthetic: bool,
}

#[derive(Serialize)]
struct FundingPage {
    period: String,
    periods: Vec<FundingPeriod>,
    /// The two bases, approved and received, as links that keep the period.
    bases: Vec<FundingPeriod>,
    received: bool,
    total: String,
    modalities: Vec<String>,
    modality_totals: Vec<String>,
    groups: Vec<GroupRow>,
    ranking: Vec<RankingRow>,
    method: MethodView,
}

#[derive(Serialize)]
struct FundingPeriod {
    label: String,
    href: String,
    current: bool,
}

#[derive(Serialize)]
struct GroupRow {
    label: String,
    href: String,
    amounts: Vec<String>,
    total: String,
}

#[derive(Serialize)]
struct RankingRow {
    rank: u32,
    anchor: String,
    name: String,
    href: Option<String>,
    value: String,
    /// For a roll-up, its member partners that contributed in the period: name and page.
    members: Vec<Labelled>,
}

/// The first page of the programmes and projects a query finds, titles in the visitor's
/// language.
async fn project_items(
    state: &AppState,
    query: &ProjectQuery,
    lang: &str,
) -> Result<ProjectList, WebError> {
    let list = state.store.projects(query).await?;
    let identifiers: Vec<String> = list.projects.iter().map(|p| p.identifier.clone()).collect();
    let titles = state.store.project_links(&identifiers, lang).await?;
    Ok(ProjectList {
        total: list.total,
        items: list
            .projects
            .into_iter()
            .zip(titles)
            .map(|(project, link)| ProjectItem {
                href: Some(format!("/projects/{}", url_segment(&project.identifier))),
                title: link.title.or(project.title),
                identifier: project.identifier,
            })
            .collect(),
    })
}

fn partner_items(partners: &[PartnerLink], lang: &str) -> Vec<PartnerItem> {
    partners
        .iter()
        .map(|partner| PartnerItem {
            link: Link {
                label: partner.names.get(lang).to_owned(),
                href: Some(partner_href(&partner.key)),
            },
            group: group_label(&partner.group, lang),
        })
        .collect()
}

fn membership_row(membership: &Membership, lang: &str) -> MembershipRow {
    MembershipRow {
        partnership: Link {
            label: membership.partnership_names.get(lang).to_owned(),
            href: Some(format!(
                "/partnerships/{}",
                url_segment(&membership.partnership_key)
            )),
        },
        partner: Link {
            label: membership.partner_names.get(lang).to_owned(),
            href: Some(format!(
                "/partners/{}",
                url_segment(&membership.partner_key)
            )),
        },
        group: group_label(&membership.partner_group, lang),
        role: membership.role.clone(),
    }
}

fn group_label(code: &str, lang: &str) -> String {
    PartnerGroup::from_code(code).map_or_else(|| code.to_owned(), |g| g.label(lang).to_owned())
}

fn level_label(code: &str, lang: &str) -> String {
    PartnershipLevel::from_code(code)
        .map_or_else(|| code.to_owned(), |level| level.label(lang).to_owned())
}

/// The names in the other languages, when they differ from the one shown.
fn other_names(names: &coopfolio_core::reference::Names, lang: &str) -> Vec<String> {
    let shown = names.get(lang);
    let mut others: Vec<String> = Vec::new();
    for each in Lang::ALL {
        let name = names.get(each.code());
        if name != shown && !others.iter().any(|other| other == name) {
            others.push(name.to_owned());
        }
    }
    others
}

/// A key as one path segment: keys are slugs, but one from elsewhere may hold anything.
pub(crate) fn url_segment(key: &str) -> String {
    let mut encoded = String::with_capacity(key.len());
    for byte in key.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}
