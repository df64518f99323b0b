//! The request handlers: each reads what its page needs from the store, shapes it into a view
//! (labels in the visitor's language, amounts formatted) and renders a template. The explorer
//! has a file of its own (`explorer.rs`), and so have its downloads (`downloads.rs`).

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse};
use coopfolio_core::period::Period;
use coopfolio_store::figures::{Basis, MethodNote};
use coopfolio_store::portal::ProjectDetail;
use serde::Serialize;

use crate::error::WebError;
use crate::text::{catalog, Lang};
use crate::{chart, entity_pages, format, language, map, render, AppState};

/// How many bienniums the trend chart shows, ending with the current one.
const TREND_BIENNIUMS: i32 = 5;

pub async fn home(State(state): State<AppState>, lang: Lang) -> Result<Html<String>, WebError> {
    let store = &state.store;
    let text = catalog(lang);
    let lang = text.lang().code();
    let current = store
        .latest_biennium_with_contributions()
        .await?
        .unwrap_or(Period::Biennium(2022));
    let first_year = current.first_year();
    let previous = Period::Biennium(first_year - 2);
    let mut bienniums = Vec::new();
    for period in [current, previous] {
        bienniums.push(biennium_view(&state, period, lang).await?);
    }
    let mut trend = Vec::new();
    for step in (0..TREND_BIENNIUMS).rev() {
        let period = Period::Biennium(first_year - 2 * step);
        let contributions = store.contributions(period, Basis::Approved).await?;
        trend.push((period.to_string(), contributions.value.total_usd));
    }
    // Bienniums before the first contribution would only be empty bars.
    while trend.len() > 1 && trend[0].1.is_zero() {
        trend.remove(0);
    }
    let by_country = store.programmes_by_country(current).await?;
    let page = HomePage {
        synthetic: store.has_synthetic_workspace().await?,
        bienniums,
        trend: chart::bars(&trend),
        map: map::view(&by_country.value, text),
        map_method: method_view(&by_country.method, lang),
    };
    Ok(Html(render::page("home.html", text, page)?))
}

pub async fn project(
    State(state): State<AppState>,
    lang: Lang,
    Path(identifier): Path<String>,
) -> Result<Html<String>, WebError> {
    let text = catalog(lang);
    let project = state.store.project(&identifier).await?.ok_or_else(|| {
        WebError::NotFound(format!("{} {identifier}", text.get("no_such_project")))
    })?;
    // Participating organisations that are stored partners link to their partner pages.
    let references: Vec<String> = project
        .participating_orgs
        .iter()
        .filter_map(|org| org.reference.clone())
        .collect();
    let partners = state.store.partner_keys_for_refs(&references).await?;
    Ok(Html(render::page(
        "project.html",
        text,
        project_view(project, text.lang().code(), &partners),
    )?))
}

pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/style.css"),
    )
}

pub async fn not_found(lang: Lang, uri: axum::http::Uri) -> WebError {
    WebError::NotFound(format!(
        "{} {}",
        catalog(lang).get("no_such_page"),
        uri.path()
    ))
}

#[derive(Serialize)]
struct HomePage {
    synthetic: bool,
    bienniums: Vec<BienniumView>,
    trend: chart::BarChart,
    /// The world map of the current biennium.
    map: map::MapView,
    map_method: MethodView,
}

#[derive(Serialize)]
struct BienniumView {
    period: String,
    total: String,
    by_modality: Vec<Labelled>,
    ranking: Vec<RankedView>,
    contributions_method: MethodView,
    programmes_active: u64,
    countries: u64,
    portfolio_method: MethodView,
}

#[derive(Serialize)]
pub(crate) struct Labelled {
    pub(crate) label: String,
    pub(crate) value: String,
}

#[derive(Serialize)]
struct RankedView {
    rank: u32,
    name: String,
    value: String,
    href: String,
}

/// A method note as the "How is this computed?" disclosure shows it.
#[derive(Serialize)]
pub(crate) struct MethodView {
    basis: String,
    period: String,
    modalities: String,
    hierarchy_rule: String,
    revised_budget_rule: String,
    conversion: String,
    sources: String,
    withheld: String,
}

async fn biennium_view(
    state: &AppState,
    period: Period,
    lang: &str,
) -> Result<BienniumView, WebError> {
    let contributions = state.store.contributions(period, Basis::Approved).await?;
    let portfolio = state.store.portfolio(period).await?;
    Ok(BienniumView {
        period: period.to_string(),
        total: format::millions(contributions.value.total_usd),
        by_modality: contributions
            .value
            .by_modality
            .iter()
            .map(|amount| Labelled {
                label: format::modality(&amount.code, lang),
                value: format::millions(amount.usd),
            })
            .collect(),
        ranking: contributions
            .value
            .ranking
            .iter()
            .take(10)
            .map(|contributor| RankedView {
                rank: contributor.rank,
                href: entity_pages::contributor_href(&contributor.code, period),
                name: contributor.names.get(lang).to_owned(),
                value: format::millions(contributor.usd),
            })
            .collect(),
        contributions_method: method_view(&contributions.method, lang),
        programmes_active: portfolio.value.programmes_active,
        countries: portfolio.value.countries,
        portfolio_method: method_view(&portfolio.method, lang),
    })
}

pub(crate) fn method_view(method: &MethodNote, lang: &str) -> MethodView {
    let text = catalog(language::from_code(lang));
    let mut withheld = format::method_sentence(&method.withheld.note, text);
    if !method.withheld.without_rate.is_empty() {
        withheld.push_str(&format!(
            " ({} {})",
            format::count_in(method.withheld.without_rate.len() as u64, text.lang()),
            text.get("method_entries_without_rate")
        ));
    }
    MethodView {
        basis: format::method_sentence(&method.basis, text),
        period: format!(
            "{} ({} {} {})",
            format::method_sentence(&method.period, text),
            method.first_day,
            text.get("method_period_to"),
            method.last_day
        ),
        modalities: method
            .modalities
            .iter()
            .map(|code| format::modality(code, lang))
            .collect::<Vec<_>>()
            .join(", "),
        hierarchy_rule: format::method_sentence(&method.hierarchy_rule, text),
        revised_budget_rule: format::method_sentence(&method.revised_budget_rule, text),
        conversion: format::method_sentence(&method.conversion.rule, text),
        sources: method.conversion.sources.join("; "),
        withheld,
    }
}

/// One option of a filter.
#[derive(Serialize)]
pub(crate) struct Choice {
    pub(crate) code: String,
    pub(crate) label: String,
}

#[derive(Serialize)]
struct ProjectView {
    identifier: String,
    /// This activity alone as an IATI 2.03 file.
    iati_href: String,
    title: Option<String>,
    other_titles: Vec<String>,
    descriptions: Vec<String>,
    reporting_org: Option<String>,
    status: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    dates: Vec<Labelled>,
    countries: Vec<ShareView>,
    regions: Vec<ShareView>,
    sectors: Vec<ShareView>,
    policy_areas: Vec<entity_pages::Link>,
    participating_orgs: Vec<OrgView>,
    budgets: Vec<BudgetView>,
    transactions: Vec<TransactionView>,
    synthetic: bool,
}

#[derive(Serialize)]
struct ShareView {
    label: String,
    percentage: Option<String>,
    /// The country's page, for a recipient country the reference table knows.
    href: Option<String>,
}

#[derive(Serialize)]
struct OrgView {
    role: Option<String>,
    name: Option<String>,
    /// The partner page, when the organisation is a stored partner.
    href: Option<String>,
}

#[derive(Serialize)]
struct BudgetView {
    budget_type: Option<String>,
    period: String,
    value: Option<String>,
    currency: Option<String>,
}

#[derive(Serialize)]
struct TransactionView {
    transaction_type: Option<String>,
    date: Option<String>,
    value: Option<String>,
    currency: Option<String>,
    provider: Option<String>,
    receiver: Option<String>,
}

fn project_view(
    project: ProjectDetail,
    lang: &str,
    partners: &std::collections::BTreeMap<String, String>,
) -> ProjectView {
    // The title in the visitor's language (or without one) leads; the others follow.
    let preferred = project
        .titles
        .iter()
        .position(|title| title.lang.as_deref().is_none_or(|l| l == lang))
        .unwrap_or(0);
    let mut titles: Vec<String> = project.titles.into_iter().map(|n| n.text).collect();
    let title = (!titles.is_empty()).then(|| titles.remove(preferred));
    let codelist =
        |list: &str, code: Option<String>| code.map(|code| format::codelist(list, &code, lang));
    ProjectView {
        iati_href: format!(
            "/projects/{}/iati.xml",
            entity_pages::url_segment(&project.identifier)
        ),
        identifier: project.identifier,
        title,
        other_titles: titles,
        descriptions: project.descriptions.into_iter().map(|n| n.text).collect(),
        reporting_org: project.reporting_org,
        status: codelist("ActivityStatus", project.status),
        start_date: project.start_date,
        end_date: project.end_date,
        dates: project
            .dates
            .into_iter()
            .map(|(kind, date)| Labelled {
                label: format::codelist("ActivityDateType", &kind, lang),
                value: date,
            })
            .collect(),
        countries: project
            .countries
            .into_iter()
            .map(|share| ShareView {
                label: format::country(&share.code, lang),
                href: entity_pages::country_link(&share.code, lang).href,
                percentage: share.percentage,
            })
            .collect(),
        regions: project
            .regions
            .into_iter()
            .map(|share| ShareView {
                label: match share.vocabulary.as_deref() {
                    None | Some("1") => format::codelist("Region", &share.code, lang),
                    Some(_) => share.code,
                },
                percentage: share.percentage,
                href: None,
            })
            .collect(),
        sectors: project
            .sectors
            .into_iter()
            .map(|share| ShareView {
                label: match share.vocabulary.as_deref() {
                    None | Some("1") => format!(
                        "{} ({})",
                        format::codelist("Sector", &share.code, lang),
                        share.code
                    ),
                    Some(_) => share.code,
                },
                percentage: share.percentage,
                href: None,
            })
            .collect(),
        policy_areas: project
            .policy_areas
            .iter()
            .map(|code| entity_pages::policy_area_link(code, lang))
            .collect(),
        participating_orgs: project
            .participating_orgs
            .into_iter()
            .map(|org| OrgView {
                href: org
                    .reference
                    .as_ref()
                    .and_then(|reference| partners.get(reference))
                    .map(|key| entity_pages::partner_href(key)),
                role: codelist("OrganisationRole", org.role),
                name: org.name.or(org.reference),
            })
            .collect(),
        budgets: project
            .budgets
            .into_iter()
            .map(|budget| BudgetView {
                budget_type: codelist("BudgetType", budget.budget_type),
                period: format!(
                    "{} – {}",
                    budget.period_start.unwrap_or_default(),
                    budget.period_end.unwrap_or_default()
                ),
                value: budget.value,
                currency: budget.currency,
            })
            .collect(),
        transactions: project
            .transactions
            .into_iter()
            .map(|transaction| TransactionView {
                transaction_type: codelist("TransactionType", transaction.transaction_type),
                date: transaction.date,
                value: transaction.value,
                currency: transaction.currency,
                provider: transaction.provider,
                receiver: transaction.receiver,
            })
            .collect(),
        synthetic: project.synthetic,
    }
}
