//! The API's read endpoints. Each asks the store the same question as the portal's page of
//! the same thing, and gives the answer as JSON: the explorer's filters are parsed by the
//! explorer's own code (`query.rs`), so a query string means the same on `/projects` and on
//! `/api/v1/projects`; figures come with their method notes as structured JSON; a
//! confidential agreement is counted and never itemised, except to a staff token.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use coopfolio_core::country::{Countries, IloRegion};
use coopfolio_core::modality::Modality;
use coopfolio_core::partner_group::PartnerGroup;
use coopfolio_core::period::Period;
use coopfolio_core::policy_area::PolicyArea;
use coopfolio_core::reference::Names;
use coopfolio_store::api::AgreementRecord;
use coopfolio_store::entities::{PartnerDetail, PartnershipDetail, Scope};
use coopfolio_store::figures::{Basis, MethodNote};
use coopfolio_store::portal::{ProjectDetail, ProjectQuery, ProjectSummary};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::auth::Caller;
use super::paging::{json, Listing, Paging};
use super::problem::{ApiError, Missing, Problem};
use super::{query_params, API_PREFIX};
use crate::query::ExplorerParams;
use crate::text::Lang;
use crate::AppState;

type ApiResult = Result<Response, ApiError>;

/// The explorer's store query for these filters, or the first bad one named. The explorer's
/// parser says what is wrong; trying each filter alone finds which parameter it was.
pub fn explorer_query(params: &ExplorerParams) -> Result<ProjectQuery, ApiError> {
    params.to_query().map_err(|error| {
        let parameter = EXPLORER_FIELDS
            .iter()
            .find(|(_, field)| {
                let mut alone = ExplorerParams::default();
                *field(&mut alone) = field(&mut params.clone()).clone();
                alone.to_query().is_err()
            })
            .map_or("query", |(name, _)| *name);
        let detail = match error {
            crate::WebError::BadRequest(detail) => detail,
            other => other.to_string(),
        };
        ApiError::bad_parameter(parameter, detail)
    })
}

type FieldOf = fn(&mut ExplorerParams) -> &mut String;

/// Each explorer parameter's name and field.
const EXPLORER_FIELDS: [(&str, FieldOf); 14] = [
    ("q", |p| &mut p.q),
    ("country", |p| &mut p.country),
    ("region", |p| &mut p.region),
    ("area", |p| &mut p.area),
    ("status", |p| &mut p.status),
    ("year", |p| &mut p.year),
    ("partner", |p| &mut p.partner),
    ("group", |p| &mut p.group),
    ("modality", |p| &mut p.modality),
    ("south_south", |p| &mut p.south_south),
    ("triangular", |p| &mut p.triangular),
    ("joint_un", |p| &mut p.joint_un),
    ("mptf", |p| &mut p.mptf),
    ("sort", |p| &mut p.sort),
];

/// A line of the project list, with where its record is.
#[derive(Debug, Serialize)]
pub struct ProjectItem {
    #[serde(flatten)]
    pub summary: ProjectSummary,
    pub url: String,
}

fn project_url(identifier: &str) -> String {
    format!("{API_PREFIX}/projects/{}", segment(identifier))
}

/// A path segment with everything but unreserved characters percent-encoded.
pub(super) fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The filters a list was read with, so that a client can tell what it got.
#[derive(Debug, Serialize)]
struct ProjectsMeta {
    sort: &'static str,
}

/// Programmes and projects, filtered as the explorer filters them.
#[utoipa::path(get, path = "/api/v1/projects", tag = "portfolio", params(ExplorerFilters, PageParams),
    responses((status = 200, description = "A page of programmes and projects", body = super::schema::ProjectPageDoc),
        (status = 304, description = "Not modified"),
        (status = 400, description = "A bad filter, named in `parameter`", body = Problem, content_type = "application/problem+json")))]
pub async fn projects(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
) -> ApiResult {
    let filters = ExplorerFilters::from_uri(&uri)?;
    let paging = Paging::from_uri(&uri)?;
    let mut query = explorer_query(&filters.explorer())?;
    query.page_size = paging.limit;
    query.page = (paging.offset / u64::from(paging.limit)) as u32 + 1;
    let list = state.store.projects(&query).await?;
    let sort = crate::query::SORTS
        .iter()
        .find(|(_, sort)| *sort == query.sort)
        .map_or("title", |(code, _)| *code);
    let listing = Listing::new(
        list.projects
            .into_iter()
            .map(|summary| ProjectItem {
                url: project_url(&summary.identifier),
                summary,
            })
            .collect(),
        list.total,
        &paging,
        ProjectsMeta { sort },
    );
    respond(&headers, &caller, &listing, listing.next.as_deref())
}

/// One programme or project with everything it records.
#[utoipa::path(get, path = "/api/v1/projects/{identifier}", tag = "portfolio",
    params(("identifier" = String, Path, description = "IATI identifier")),
    responses((status = 200, description = "The programme or project", body = super::schema::ProjectDoc),
        (status = 404, description = "Not stored", body = Problem, content_type = "application/problem+json")))]
pub async fn project(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(identifier): Path<String>,
) -> ApiResult {
    let project = project_answer(&state, &identifier).await?;
    respond(&headers, &caller, &project, None)
}

/// A programme or project as `GET /api/v1/projects/{identifier}` gives it.
pub(super) async fn project_answer(
    state: &AppState,
    identifier: &str,
) -> Result<ProjectDetail, ApiError> {
    state
        .store
        .project(identifier)
        .await?
        .ok_or_else(|| ApiError::not_found(Missing::Project, identifier))
}

/// The explorer's filters, as `/projects` takes them in its URL. An empty value means "any".
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExplorerFilters {
    /// Words looked for in every title and description in every language (each the start of
    /// a word, accents and case ignored), or a part of an identifier.
    q: Option<String>,
    /// Recipient country, ISO 3166-1 alpha-2 or alpha-3 (`KE`, `KEN`).
    country: Option<String>,
    /// ILO region: africa, americas, arab_states, asia_pacific, europe_central_asia.
    region: Option<String>,
    /// Policy area code (see `/api/v1/policy-areas`).
    area: Option<String>,
    /// IATI ActivityStatus code (2 is implementation).
    status: Option<String>,
    /// Active in this year (four digits).
    year: Option<String>,
    /// A partner's key: projects its agreements earmark or that name it as a participant.
    partner: Option<String>,
    /// A partner group code.
    group: Option<String>,
    /// A funding modality code of an agreement that earmarks the project.
    modality: Option<String>,
    /// `1`: South-South cooperation only.
    south_south: Option<String>,
    /// `1`: triangular cooperation only.
    triangular: Option<String>,
    /// `1`: joint UN programmes only.
    joint_un: Option<String>,
    /// `1`: MPTF-funded only.
    mptf: Option<String>,
    /// title (default), start_desc, start_asc or end_desc; facets take it, and check it, so
    /// that the explorer's query string works there as it is.
    sort: Option<String>,
}

impl ExplorerFilters {
    /// The filters of a request's query string; `limit` and `cursor` are paging's, read by
    /// [`Paging`].
    fn from_uri(uri: &Uri) -> Result<ExplorerFilters, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or(""))
            .map_err(|error| ApiError::bad_parameter("query", error.to_string()))?;
        let filters: Vec<&(String, String)> = pairs
            .iter()
            .filter(|(name, _)| name != "limit" && name != "cursor")
            .collect();
        let query = serde_urlencoded::to_string(&filters).unwrap_or_default();
        query_params(&format!("/?{query}").parse().unwrap_or_default())
    }

    /// The same filters as the explorer's URL state.
    fn explorer(&self) -> ExplorerParams {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        ExplorerParams {
            q: text(&self.q),
            country: text(&self.country),
            region: text(&self.region),
            area: text(&self.area),
            status: text(&self.status),
            year: text(&self.year),
            partner: text(&self.partner),
            group: text(&self.group),
            modality: text(&self.modality),
            south_south: text(&self.south_south),
            triangular: text(&self.triangular),
            joint_un: text(&self.joint_un),
            mptf: text(&self.mptf),
            sort: text(&self.sort),
            page: String::new(),
        }
    }
}

/// The explorer's facet counts: for each value of each filter, how many programmes and
/// projects picking it would give, every other filter kept.
#[utoipa::path(get, path = "/api/v1/facets", tag = "portfolio", params(ExplorerFilters),
    responses((status = 200, description = "Facet counts", body = super::schema::FacetsDoc),
        (status = 400, description = "A bad filter", body = Problem, content_type = "application/problem+json")))]
pub async fn facets(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
) -> ApiResult {
    let filters: ExplorerFilters = query_params(&uri)?;
    let query = explorer_query(&filters.explorer())?;
    let facets = state.store.project_facets(&query).await?;
    respond(&headers, &caller, &facets, None)
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The words to look for (required).
    q: Option<String>,
    /// Page size of the programmes and projects, 1 to 500.
    /// Page size, 1 to 500 (default 50).
    #[allow(dead_code)] // Read by `Paging`; listed so that the document shows it.
    limit: Option<String>,
    /// The `next` cursor of the previous page.
    #[allow(dead_code)] // Read by `Paging`; listed so that the document shows it.
    cursor: Option<String>,
}

#[derive(Debug, Serialize)]
struct SearchMeta {
    q: String,
    /// Partners whose name, in any language, holds the words.
    partners: Vec<PartnerMatch>,
}

#[derive(Debug, Serialize)]
struct PartnerMatch {
    key: String,
    names: Names,
    url: String,
}

/// Full-text search: programmes and projects as the explorer's search finds them (in `data`,
/// paged), and the partners whose name holds every word (in `meta.partners`).
#[utoipa::path(get, path = "/api/v1/search", tag = "portfolio", params(SearchParams),
    responses((status = 200, description = "Matches", body = super::schema::SearchPageDoc),
        (status = 400, description = "No `q`", body = Problem, content_type = "application/problem+json")))]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
) -> ApiResult {
    let params: SearchParams = query_params(&uri)?;
    let q = params.q.unwrap_or_default().trim().to_owned();
    if q.is_empty() {
        return Err(ApiError::bad_parameter("q", "give the words to look for"));
    }
    let paging = Paging::from_uri(&uri)?;
    let explorer = ExplorerParams {
        q: q.clone(),
        ..ExplorerParams::default()
    };
    let mut query = explorer_query(&explorer)?;
    query.page_size = paging.limit;
    query.page = (paging.offset / u64::from(paging.limit)) as u32 + 1;
    let list = state.store.projects(&query).await?;
    let words = coopfolio_store::search::search_words(&q);
    let partners = state.store.partners(None, None).await?.value;
    let partners = partners
        .into_iter()
        .filter(|partner| {
            let names = [&partner.names.en, &partner.names.fr, &partner.names.es]
                .map(|name| coopfolio_store::search::search_words(name).join(" "));
            !words.is_empty()
                && words
                    .iter()
                    .all(|word| names.iter().any(|name| name.contains(word.as_str())))
        })
        .map(|partner| PartnerMatch {
            url: format!("{API_PREFIX}/partners/{}", segment(&partner.key)),
            key: partner.key,
            names: partner.names,
        })
        .collect();
    let listing = Listing::new(
        list.projects
            .into_iter()
            .map(|summary| ProjectItem {
                url: project_url(&summary.identifier),
                summary,
            })
            .collect(),
        list.total,
        &paging,
        SearchMeta { q, partners },
    );
    respond(&headers, &caller, &listing, listing.next.as_deref())
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PartnerParams {
    /// Only the partners of this group.
    group: Option<String>,
    /// Totals over this period (`2022-23` or `2023`); all periods when absent.
    period: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[allow(dead_code)] // Read by `Paging`; listed so that the document shows it.
    limit: Option<String>,
    /// The `next` cursor of the previous page.
    #[allow(dead_code)] // Read by `Paging`; listed so that the document shows it.
    cursor: Option<String>,
}

#[derive(Debug, Serialize)]
struct MethodMeta<'a> {
    /// How the partners' totals are computed.
    method: &'a MethodNote,
}

/// Partners by English name, each with its contributions over the period, with the method
/// note of those totals. Confidential agreements count in the totals.
#[utoipa::path(get, path = "/api/v1/partners", tag = "partners", params(PartnerParams),
    responses((status = 200, description = "A page of partners", body = super::schema::PartnerPageDoc),
        (status = 400, description = "A bad filter", body = Problem, content_type = "application/problem+json")))]
pub async fn partners(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
) -> ApiResult {
    let params: PartnerParams = query_params(&uri)?;
    let paging = Paging::from_uri(&uri)?;
    let group = given(&params.group)
        .map(|code| {
            PartnerGroup::from_code(code).ok_or_else(|| {
                ApiError::bad_parameter("group", format!("'{code}' is not a partner group code"))
            })
        })
        .transpose()?;
    let period = match given(&params.period) {
        Some(text) => Some(parse_period(&state, text).await?),
        None => None,
    };
    let partners = state.store.partners(group, period).await?;
    let listing = Listing::page_of(
        partners.value,
        &paging,
        MethodMeta {
            method: &partners.method,
        },
    );
    respond(&headers, &caller, &listing, listing.next.as_deref())
}

/// One partner: group and the rule behind it, roll-up, contributions by biennium and
/// modality with their method note, public agreements, earmarked projects, partnerships.
#[utoipa::path(get, path = "/api/v1/partners/{key}", tag = "partners",
    params(("key" = String, Path, description = "The partner's key")),
    responses((status = 200, description = "The partner", body = super::schema::PartnerDoc),
        (status = 404, description = "Not stored", body = Problem, content_type = "application/problem+json")))]
pub async fn partner(
    State(state): State<AppState>,
    caller: Caller,
    lang: Lang,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> ApiResult {
    let partner = partner_answer(&state, &key, lang).await?;
    respond(&headers, &caller, &partner, None)
}

/// A partner as `GET /api/v1/partners/{key}` gives it in `lang`.
pub(super) async fn partner_answer(
    state: &AppState,
    key: &str,
    lang: Lang,
) -> Result<PartnerDetail, ApiError> {
    state
        .store
        .partner(key, lang.code())
        .await?
        .ok_or_else(|| ApiError::not_found(Missing::Partner, key))
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AgreementParams {
    /// Only the agreements this partner (by key) has a share of.
    partner: Option<String>,
    /// Only agreements of this funding modality.
    modality: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[allow(dead_code)] // Read by `Paging`; listed so that the document shows it.
    limit: Option<String>,
    /// The `next` cursor of the previous page.
    #[allow(dead_code)] // Read by `Paging`; listed so that the document shows it.
    cursor: Option<String>,
}

#[derive(Debug, Serialize)]
struct AgreementsMeta {
    /// Confidential agreements left out of this list (they count in every figure). Zero for
    /// a staff token, which sees them.
    confidential_withheld: u64,
}

/// Agreements, newest signature first. The public sees the agreements that are not
/// confidential; a staff token of any role sees all of them, each flagged.
#[utoipa::path(get, path = "/api/v1/agreements", tag = "partners", params(AgreementParams),
    responses((status = 200, description = "A page of agreements", body = super::schema::AgreementPageDoc),
        (status = 400, description = "A bad filter", body = Problem, content_type = "application/problem+json")),
    security((), ("bearer" = [])))]
pub async fn agreements(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
) -> ApiResult {
    let params: AgreementParams = query_params(&uri)?;
    let paging = Paging::from_uri(&uri)?;
    let modality = given(&params.modality)
        .map(|code| {
            Modality::from_code(code).ok_or_else(|| {
                ApiError::bad_parameter("modality", format!("'{code}' is not a modality code"))
            })
        })
        .transpose()?;
    let list = state.store.api_agreements(caller.visibility()).await?;
    let partner = given(&params.partner);
    let agreements: Vec<_> = list
        .agreements
        .into_iter()
        .filter(|agreement| modality.is_none_or(|m| agreement.modality == m.code()))
        .filter(|agreement| {
            partner.is_none_or(|key| agreement.partners.iter().any(|s| s.partner == key))
        })
        .collect();
    let listing = Listing::page_of(
        agreements,
        &paging,
        AgreementsMeta {
            confidential_withheld: list.confidential_withheld,
        },
    );
    respond(&headers, &caller, &listing, listing.next.as_deref())
}

/// One agreement. To the public, a confidential agreement is not found.
#[utoipa::path(get, path = "/api/v1/agreements/{key}", tag = "partners",
    params(("key" = String, Path, description = "The agreement's key")),
    responses((status = 200, description = "The agreement", body = super::schema::AgreementDoc),
        (status = 404, description = "Not stored, or confidential", body = Problem, content_type = "application/problem+json")),
    security((), ("bearer" = [])))]
pub async fn agreement(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> ApiResult {
    let agreement = agreement_answer(&state, &key, &caller).await?;
    respond(&headers, &caller, &agreement, None)
}

/// An agreement as `GET /api/v1/agreements/{key}` gives it to `caller`: to a staff token, with
/// what only the workspace keeps (instalments, document links, the inquiry), so that a client
/// can read the whole record it may write back.
#[derive(Debug, Serialize)]
pub(super) struct AgreementAnswer {
    #[serde(flatten)]
    record: AgreementRecord,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    staff: Option<AgreementStaffPart>,
}

#[derive(Debug, Serialize)]
struct AgreementStaffPart {
    instalments: Vec<coopfolio_core::partnership::Instalment>,
    documents: Vec<coopfolio_store::records::AgreementDocument>,
    inquiry: Option<String>,
}

impl AgreementAnswer {
    /// Whether the agreement is a record of the synthetic demo workspace.
    pub(super) fn synthetic(&self) -> bool {
        self.record.synthetic
    }
}

pub(super) async fn agreement_answer(
    state: &AppState,
    key: &str,
    caller: &Caller,
) -> Result<AgreementAnswer, ApiError> {
    let record = state
        .store
        .api_agreement(key, caller.visibility())
        .await?
        .ok_or_else(|| ApiError::not_found(Missing::Agreement, key))?;
    let staff = match caller {
        Caller::Public => None,
        Caller::Staff(_) => {
            state
                .store
                .staff_agreement(key)
                .await?
                .map(|stored| AgreementStaffPart {
                    instalments: stored.agreement.instalments,
                    documents: stored.documents,
                    inquiry: stored.agreement.inquiry_key,
                })
        }
    };
    Ok(AgreementAnswer { record, staff })
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1 to 500 (default 50).
    #[allow(dead_code)] // Read by `Paging`; listed so that the document shows it.
    limit: Option<String>,
    /// The `next` cursor of the previous page.
    #[allow(dead_code)] // Read by `Paging`; listed so that the document shows it.
    cursor: Option<String>,
}

/// Multi-stakeholder partnerships by English name.
#[utoipa::path(get, path = "/api/v1/partnerships", tag = "partners", params(PageParams),
    responses((status = 200, description = "A page of partnerships", body = super::schema::PartnershipPageDoc)))]
pub async fn partnerships(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
) -> ApiResult {
    let _: PageParams = query_params(&uri)?;
    let paging = Paging::from_uri(&uri)?;
    let partnerships = state.store.partnerships().await?;
    let listing = Listing::page_of(partnerships, &paging, serde_json::Map::new());
    respond(&headers, &caller, &listing, listing.next.as_deref())
}

/// One partnership with its members.
#[utoipa::path(get, path = "/api/v1/partnerships/{key}", tag = "partners",
    params(("key" = String, Path, description = "The partnership's key")),
    responses((status = 200, description = "The partnership", body = super::schema::PartnershipDoc),
        (status = 404, description = "Not stored", body = Problem, content_type = "application/problem+json")))]
pub async fn partnership(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> ApiResult {
    let partnership = partnership_answer(&state, &key).await?;
    respond(&headers, &caller, &partnership, None)
}

/// A partnership as `GET /api/v1/partnerships/{key}` gives it.
pub(super) async fn partnership_answer(
    state: &AppState,
    key: &str,
) -> Result<PartnershipDetail, ApiError> {
    state
        .store
        .partnership(key)
        .await?
        .ok_or_else(|| ApiError::not_found(Missing::Partnership, key))
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CountryParams {
    /// Only the countries of this ILO region.
    region: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[allow(dead_code)] // Read by `Paging`; listed so that the document shows it.
    limit: Option<String>,
    /// The `next` cursor of the previous page.
    #[allow(dead_code)] // Read by `Paging`; listed so that the document shows it.
    cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
struct CountryItem {
    alpha2: String,
    alpha3: String,
    names: Names,
    region: &'static str,
    global_south: bool,
    url: String,
}

fn country_item(country: &coopfolio_core::country::Country) -> CountryItem {
    CountryItem {
        alpha2: country.alpha2.clone(),
        alpha3: country.alpha3.clone(),
        names: country.names.clone(),
        region: country.region.code(),
        global_south: country.global_south,
        url: format!("{API_PREFIX}/countries/{}", country.alpha2),
    }
}

/// Countries (ISO 3166-1) with their ILO region and whether they are of the Global South.
#[utoipa::path(get, path = "/api/v1/countries", tag = "places", params(CountryParams),
    responses((status = 200, description = "A page of countries", body = super::schema::CountryPageDoc),
        (status = 400, description = "A bad region", body = Problem, content_type = "application/problem+json")))]
pub async fn countries(caller: Caller, headers: HeaderMap, uri: Uri) -> ApiResult {
    let params: CountryParams = query_params(&uri)?;
    let paging = Paging::from_uri(&uri)?;
    let region = given(&params.region)
        .map(|code| code.parse::<IloRegion>())
        .transpose()
        .map_err(|detail| ApiError::bad_parameter("region", detail))?;
    let countries: Vec<CountryItem> = Countries::bundled()
        .all()
        .iter()
        .filter(|country| region.is_none_or(|region| country.region == region))
        .map(country_item)
        .collect();
    let listing = Listing::page_of(countries, &paging, serde_json::Map::new());
    respond(&headers, &caller, &listing, listing.next.as_deref())
}

/// What the API tells of a country or policy area beyond its own fields.
#[derive(Debug, Serialize)]
struct PlaceAnswer<T: Serialize> {
    #[serde(flatten)]
    place: T,
    /// How many programmes and projects are there, and the list's URL.
    projects: u64,
    projects_url: String,
    /// Partners funding work there (public agreements and IATI funding organisations).
    partners: Vec<coopfolio_store::entities::PartnerLink>,
    /// Recipient countries of the programmes and projects there, with their counts.
    countries: Vec<(String, u64)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    budget: Option<FigureAnswer<Vec<coopfolio_store::entities::YearAmount>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    partnerships: Option<Vec<coopfolio_store::entities::PartnershipSummary>>,
}

/// A figure and its method note.
#[derive(Debug, Serialize)]
struct FigureAnswer<T: Serialize> {
    value: T,
    method: MethodNote,
}

/// One country: its programmes and projects (count and link), budgets by year with the
/// method note, the partners funding work there.
#[utoipa::path(get, path = "/api/v1/countries/{alpha2}", tag = "places",
    params(("alpha2" = String, Path, description = "ISO 3166-1 alpha-2 or alpha-3")),
    responses((status = 200, description = "The country", body = super::schema::CountryDoc),
        (status = 404, description = "Not a country code", body = Problem, content_type = "application/problem+json")))]
pub async fn country(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(alpha2): Path<String>,
) -> ApiResult {
    let country = Countries::bundled()
        .get(&alpha2)
        .ok_or_else(|| ApiError::not_found(Missing::Country, &alpha2))?;
    let store = &state.store;
    let total = project_total(
        &state,
        ProjectQuery {
            country: Some(country.alpha2.clone()),
            ..ProjectQuery::default()
        },
    )
    .await?;
    let budget = store.country_budget(&country.alpha2).await?;
    let place = store.place(Scope::Country(&country.alpha2)).await?;
    let answer = PlaceAnswer {
        place: country_item(country),
        projects: total,
        projects_url: format!("{API_PREFIX}/projects?country={}", country.alpha2),
        partners: place.partners,
        countries: place.countries,
        budget: Some(FigureAnswer {
            value: budget.value,
            method: budget.method,
        }),
        partnerships: None,
    };
    respond(&headers, &caller, &answer, None)
}

#[derive(Debug, Clone, Serialize)]
struct PolicyAreaItem {
    code: &'static str,
    names: Names,
    url: String,
}

fn policy_area_item(area: PolicyArea) -> PolicyAreaItem {
    PolicyAreaItem {
        code: area.code(),
        names: Names {
            en: area.label("en").to_owned(),
            fr: area.label("fr").to_owned(),
            es: area.label("es").to_owned(),
        },
        url: format!("{API_PREFIX}/policy-areas/{}", area.code()),
    }
}

/// The organisation's policy areas.
#[utoipa::path(get, path = "/api/v1/policy-areas", tag = "places", params(PageParams),
    responses((status = 200, description = "The policy areas", body = super::schema::PolicyAreaPageDoc)))]
pub async fn policy_areas(caller: Caller, headers: HeaderMap, uri: Uri) -> ApiResult {
    let _: PageParams = query_params(&uri)?;
    let paging = Paging::from_uri(&uri)?;
    let areas: Vec<PolicyAreaItem> = PolicyArea::ALL
        .iter()
        .copied()
        .map(policy_area_item)
        .collect();
    let listing = Listing::page_of(areas, &paging, serde_json::Map::new());
    respond(&headers, &caller, &listing, listing.next.as_deref())
}

/// One policy area: its programmes and projects (count and link), the countries and
/// partners of that work, the partnerships working on it.
#[utoipa::path(get, path = "/api/v1/policy-areas/{code}", tag = "places",
    params(("code" = String, Path, description = "The policy area's code")),
    responses((status = 200, description = "The policy area", body = super::schema::PolicyAreaDoc),
        (status = 404, description = "Not a policy area", body = Problem, content_type = "application/problem+json")))]
pub async fn policy_area(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> ApiResult {
    let area = PolicyArea::from_code(&code)
        .ok_or_else(|| ApiError::not_found(Missing::PolicyArea, &code))?;
    let total = project_total(
        &state,
        ProjectQuery {
            policy_area: Some(area),
            ..ProjectQuery::default()
        },
    )
    .await?;
    let place = state.store.place(Scope::PolicyArea(area)).await?;
    let partnerships = state
        .store
        .partnerships()
        .await?
        .into_iter()
        .filter(|partnership| partnership.policy_areas.iter().any(|a| a == area.code()))
        .collect();
    let answer = PlaceAnswer {
        place: policy_area_item(area),
        projects: total,
        projects_url: format!("{API_PREFIX}/projects?area={}", area.code()),
        partners: place.partners,
        countries: place.countries,
        budget: None,
        partnerships: Some(partnerships),
    };
    respond(&headers, &caller, &answer, None)
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FigureParams {
    /// A biennium (`2022-23`) or a year (`2023`); the latest biennium with contributions
    /// when absent.
    period: Option<String>,
    /// For contributions: `approved` (agreements signed, the default) or `received`
    /// (instalments received).
    basis: Option<String>,
}

/// Voluntary contributions of a period: total, by modality, by partner group, by both, and
/// the contributor ranking, with the method note.
#[utoipa::path(get, path = "/api/v1/figures/contributions", tag = "figures", params(FigureParams),
    responses((status = 200, description = "The figure and its method note", body = super::schema::ContributionsDoc),
        (status = 400, description = "A bad period or basis", body = Problem, content_type = "application/problem+json")))]
pub async fn contributions(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
) -> ApiResult {
    let params: FigureParams = query_params(&uri)?;
    let period = figure_period(&state, &params).await?;
    let basis = match given(&params.basis) {
        None | Some("approved") => Basis::Approved,
        Some("received") => Basis::Received,
        Some(other) => {
            return Err(ApiError::bad_parameter(
                "basis",
                format!("'{other}' is not a basis: expected approved or received"),
            ))
        }
    };
    let figure = state.store.contributions(period, basis).await?;
    respond(&headers, &caller, &figure, None)
}

/// The portfolio of a period: programmes and projects active, countries reached, by ILO
/// region and policy area, with the method note.
#[utoipa::path(get, path = "/api/v1/figures/portfolio", tag = "figures", params(FigureParams),
    responses((status = 200, description = "The figure and its method note", body = super::schema::PortfolioDoc),
        (status = 400, description = "A bad period", body = Problem, content_type = "application/problem+json")))]
pub async fn portfolio(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
) -> ApiResult {
    let params: FigureParams = query_params(&uri)?;
    no_basis(&params)?;
    let period = figure_period(&state, &params).await?;
    let figure = state.store.portfolio(period).await?;
    respond(&headers, &caller, &figure, None)
}

#[derive(Debug, Serialize)]
struct BudgetValue {
    /// US dollars, exact to the cent, as text.
    usd: String,
}

/// The portfolio's budget over a period in US dollars, with the method note.
#[utoipa::path(get, path = "/api/v1/figures/budget", tag = "figures", params(FigureParams),
    responses((status = 200, description = "The figure and its method note", body = super::schema::BudgetDoc),
        (status = 400, description = "A bad period", body = Problem, content_type = "application/problem+json")))]
pub async fn budget(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
) -> ApiResult {
    let params: FigureParams = query_params(&uri)?;
    no_basis(&params)?;
    let period = figure_period(&state, &params).await?;
    let figure = state.store.portfolio_budget(period).await?;
    let answer = FigureAnswer {
        value: BudgetValue {
            usd: cents(figure.value),
        },
        method: figure.method,
    };
    respond(&headers, &caller, &answer, None)
}

fn cents(usd: Decimal) -> String {
    format!("{:.2}", usd.round_dp(2))
}

fn no_basis(params: &FigureParams) -> Result<(), ApiError> {
    match given(&params.basis) {
        Some(_) => Err(ApiError::bad_parameter(
            "basis",
            "only contributions have a basis",
        )),
        None => Ok(()),
    }
}

async fn figure_period(state: &AppState, params: &FigureParams) -> Result<Period, ApiError> {
    match given(&params.period) {
        Some(text) => parse_period(state, text).await,
        None => Ok(state
            .store
            .latest_biennium_with_contributions()
            .await?
            .unwrap_or(Period::Biennium(2022))),
    }
}

async fn parse_period(state: &AppState, text: &str) -> Result<Period, ApiError> {
    let rule = state.store.period_rule().await?;
    rule.parse_period(text).map_err(|error| {
        ApiError::bad_parameter(
            "period",
            format!("'{text}' is not a period: {error} (a biennium such as 2022-23, or a year)"),
        )
    })
}

/// How many programmes and projects a query finds.
async fn project_total(state: &AppState, mut query: ProjectQuery) -> Result<u64, ApiError> {
    query.page = 1;
    query.page_size = 1;
    Ok(state.store.projects(&query).await?.total)
}

/// A parameter's value, when given and not blank.
fn given(value: &Option<String>) -> Option<&str> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
}

fn respond<T: Serialize>(
    headers: &HeaderMap,
    caller: &Caller,
    body: &T,
    next: Option<&str>,
) -> ApiResult {
    json(headers, StatusCode::OK, body, caller.audience(), next)
}
