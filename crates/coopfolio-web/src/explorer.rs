//! The programmes and projects explorer (`/projects`): the filters, each value with its facet
//! count (how many results picking it would give, every other filter kept), full-text search,
//! sorting, paging, and links to download the same view. The whole state is in the URL
//! (`query.rs`), so a view can be bookmarked, shared or downloaded as it is.

use axum::extract::{Query, State};
use axum::response::Html;
use coopfolio_core::codelists::Codelists;
use coopfolio_core::country::IloRegion;
use coopfolio_core::modality::Modality;
use coopfolio_core::partner_group::PartnerGroup;
use coopfolio_core::policy_area::PolicyArea;
use coopfolio_store::figures::Count;
use coopfolio_store::portal::Marker;
use serde::Serialize;

use crate::error::WebError;
use crate::query::{ExplorerParams, SORTS};
use crate::text::{catalog, Catalog, Lang};
use crate::{entity_pages, format, render, AppState};

pub async fn projects(
    State(state): State<AppState>,
    lang: Lang,
    Query(params): Query<ExplorerParams>,
) -> Result<Html<String>, WebError> {
    let text = catalog(lang);
    let lang = text.lang().code();
    let query = params.to_query()?;
    let list = state.store.projects(&query).await?;
    // The explorer's query gives each title in English; the visitor's language, where an
    // activity has a title in it, replaces it here.
    let identifiers: Vec<String> = list.projects.iter().map(|p| p.identifier.clone()).collect();
    let titles = state.store.project_links(&identifiers, lang).await?;
    let facets = state.store.project_facets(&query).await?;
    let pages = list.total.div_ceil(u64::from(query.page_size)).max(1) as u32;

    let statuses = Codelists::bundled()
        .get("ActivityStatus")
        .map(|list| {
            list.items
                .iter()
                .map(|item| {
                    let label = item.name(lang).unwrap_or(&item.code).to_owned();
                    choice(&item.code, label, &facets.statuses)
                })
                .collect()
        })
        .unwrap_or_default();
    // Countries and partners are many: only those with a result are offered, and the one
    // chosen, so that a choice never disappears from under the visitor.
    let mut countries: Vec<FilterChoice> = facets
        .countries
        .iter()
        .map(|count| {
            choice(
                &count.code,
                format::country(&count.code, lang),
                &facets.countries,
            )
        })
        .collect();
    if !params.country.trim().is_empty()
        && !countries
            .iter()
            .any(|c| c.code.eq_ignore_ascii_case(params.country.trim()))
    {
        let code = query.country.clone().unwrap_or_default();
        countries.push(choice(&code, format::country(&code, lang), &[]));
    }
    countries.sort_by(|a, b| a.label.cmp(&b.label));
    let mut partners: Vec<FilterChoice> = facets
        .partners
        .iter()
        .map(|partner| FilterChoice {
            code: partner.key.clone(),
            label: partner.names.get(lang).to_owned(),
            count: Some(partner.count),
        })
        .collect();
    if let Some(key) = &query.partner {
        if !partners.iter().any(|partner| &partner.code == key) {
            partners.push(FilterChoice {
                code: key.clone(),
                label: key.clone(),
                count: Some(0),
            });
        }
    }
    let mut years: Vec<FilterChoice> = facets
        .years
        .iter()
        .map(|count| choice(&count.code, count.code.clone(), &facets.years))
        .collect();
    if let Some(year) = query.year {
        let code = year.to_string();
        if !years.iter().any(|choice| choice.code == code) {
            years.insert(0, choice(&code, code.clone(), &[]));
        }
    }

    let page = ExplorerPage {
        total: list.total,
        page: query.page,
        pages,
        previous_url: (query.page > 1).then(|| params.url_for_page(query.page - 1)),
        next_url: (query.page < pages).then(|| params.url_for_page(query.page + 1)),
        downloads: ["csv", "xlsx", "json", "xml"]
            .iter()
            .map(|extension| Download {
                format: match *extension {
                    "xml" => "IATI XML".to_owned(),
                    other => other.to_uppercase(),
                },
                url: params.download_url(extension),
            })
            .collect(),
        projects: list
            .projects
            .into_iter()
            .zip(titles)
            .map(|(project, link)| ProjectRow {
                countries: project
                    .countries
                    .iter()
                    .map(|code| entity_pages::country_link(code, lang))
                    .collect(),
                status: project
                    .status
                    .as_deref()
                    .map(|code| format::codelist("ActivityStatus", code, lang)),
                identifier: project.identifier,
                title: link.title.or(project.title),
                start_date: project.start_date,
                end_date: project.end_date,
            })
            .collect(),
        countries,
        regions: IloRegion::ALL
            .iter()
            .map(|region| {
                choice(
                    region.code(),
                    region.label(lang).to_owned(),
                    &facets.regions,
                )
            })
            .collect(),
        areas: PolicyArea::ALL
            .iter()
            .map(|area| {
                choice(
                    area.code(),
                    area.label(lang).to_owned(),
                    &facets.policy_areas,
                )
            })
            .collect(),
        statuses,
        years,
        partners,
        groups: PartnerGroup::ALL
            .iter()
            .map(|group| {
                choice(
                    group.code(),
                    group.label(lang).to_owned(),
                    &facets.partner_groups,
                )
            })
            .collect(),
        modalities: Modality::ALL
            .iter()
            .map(|modality| {
                choice(
                    modality.code(),
                    modality.label(lang).to_owned(),
                    &facets.modalities,
                )
            })
            .collect(),
        markers: Marker::ALL
            .iter()
            .map(|marker| MarkerChoice {
                code: marker.code(),
                label: marker_label(text, *marker),
                checked: query.markers.contains(marker),
                count: facets
                    .markers
                    .iter()
                    .find(|count| count.code == marker.code())
                    .map_or(0, |count| count.count),
            })
            .collect(),
        sorts: SORTS
            .iter()
            .zip([
                text.get("sort_title"),
                text.get("sort_start_newest"),
                text.get("sort_start_oldest"),
                text.get("sort_end_latest"),
            ])
            .map(|((code, _), label)| FilterChoice {
                code: (*code).to_owned(),
                label: label.to_owned(),
                count: None,
            })
            .collect(),
        params,
    };
    Ok(Html(render::page("projects.html", text, page)?))
}

/// A marker's name in the interface's language.
pub fn marker_label(text: &Catalog, marker: Marker) -> String {
    text.get(match marker {
        Marker::SouthSouth => "marker_south_south",
        Marker::Triangular => "marker_triangular",
        Marker::JointUn => "marker_joint_un",
        Marker::Mptf => "marker_mptf",
    })
    .to_owned()
}

/// An option with its facet count (zero when the facet did not count it).
fn choice(code: &str, label: String, counts: &[Count]) -> FilterChoice {
    FilterChoice {
        code: code.to_owned(),
        label,
        count: Some(
            counts
                .iter()
                .find(|count| count.code == code)
                .map_or(0, |count| count.count),
        ),
    }
}

#[derive(Serialize)]
struct ExplorerPage {
    params: ExplorerParams,
    total: u64,
    page: u32,
    pages: u32,
    previous_url: Option<String>,
    next_url: Option<String>,
    downloads: Vec<Download>,
    projects: Vec<ProjectRow>,
    countries: Vec<FilterChoice>,
    regions: Vec<FilterChoice>,
    areas: Vec<FilterChoice>,
    statuses: Vec<FilterChoice>,
    years: Vec<FilterChoice>,
    partners: Vec<FilterChoice>,
    groups: Vec<FilterChoice>,
    modalities: Vec<FilterChoice>,
    markers: Vec<MarkerChoice>,
    sorts: Vec<FilterChoice>,
}

#[derive(Serialize)]
struct ProjectRow {
    identifier: String,
    title: Option<String>,
    status: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    countries: Vec<entity_pages::Link>,
}

/// One option of a filter, with the number of results it would give.
#[derive(Serialize)]
struct FilterChoice {
    code: String,
    label: String,
    count: Option<u64>,
}

#[derive(Serialize)]
struct MarkerChoice {
    code: &'static str,
    label: String,
    checked: bool,
    count: u64,
}

#[derive(Serialize)]
struct Download {
    format: String,
    url: String,
}
