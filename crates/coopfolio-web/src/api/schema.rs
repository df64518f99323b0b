//! The documented shape of every API answer, for the OpenAPI document: one type per JSON
//! object the API writes, derived into a schema by utoipa. Most answers serialise the store's
//! own types, which carry no schema derive (the store knows nothing of HTTP or OpenAPI), so
//! their shape is written here; the test `every_read_answer_has_the_documented_shape` reads
//! a real answer of every read endpoint against the document, so a field added to a store
//! type and not here fails it. These types are never built.
//!
//! Money is exact decimal text (`"1250000.00"`), never a JSON number; an absent value is null.

#![allow(dead_code)]

use std::collections::BTreeMap;

use utoipa::ToSchema;

/// A text in the organisation's three languages.
#[derive(ToSchema)]
pub struct NamesDoc {
    en: String,
    fr: String,
    es: String,
}

/// A list page: the items, how many the list holds over all pages, the page size, the next
/// page's URL (also in `Link`; null on the last page) and what the list needs said of it.
macro_rules! page {
    ($name:ident, $item:ty, $meta:ty) => {
        #[derive(ToSchema)]
        pub struct $name {
            data: Vec<$item>,
            total: u64,
            limit: u32,
            next: Option<String>,
            meta: $meta,
        }
    };
}

/// Nothing more to say of the list.
#[derive(ToSchema)]
pub struct NoMeta {}

/// What the API holds: every endpoint with who may use it.
#[derive(ToSchema)]
pub struct IndexDoc {
    name: String,
    /// Where the OpenAPI document is.
    openapi: String,
    endpoints: Vec<IndexEntryDoc>,
}

#[derive(ToSchema)]
pub struct IndexEntryDoc {
    method: String,
    path: String,
    /// "public", or the role a token's user needs.
    access: String,
}

/// An OpenAPI 3.1 document.
#[derive(ToSchema)]
pub struct OpenApiDoc {
    openapi: String,
    info: BTreeMap<String, serde_json::Value>,
    paths: BTreeMap<String, serde_json::Value>,
    components: BTreeMap<String, serde_json::Value>,
    tags: Vec<serde_json::Value>,
}

/// A line of the project list.
#[derive(ToSchema)]
pub struct ProjectItemDoc {
    /// IATI identifier.
    identifier: String,
    title: Option<String>,
    /// IATI ActivityStatus code.
    status: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    /// Recipient country codes, upper case.
    countries: Vec<String>,
    /// This record in the API.
    url: String,
}

#[derive(ToSchema)]
pub struct ProjectsMetaDoc {
    /// The order the list is in.
    sort: String,
}

page!(ProjectPageDoc, ProjectItemDoc, ProjectsMetaDoc);

/// A programme or project with everything it records.
#[derive(ToSchema)]
pub struct ProjectDoc {
    identifier: String,
    reporting_org: Option<String>,
    status: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    titles: Vec<NarrativeDoc>,
    descriptions: Vec<NarrativeDoc>,
    /// Every date the activity gives: [IATI ActivityDateType code, date].
    dates: Vec<Vec<String>>,
    countries: Vec<ShareDoc>,
    regions: Vec<ShareDoc>,
    sectors: Vec<ShareDoc>,
    /// Policy area codes, set by hand or mapped from the sectors.
    policy_areas: Vec<String>,
    participating_orgs: Vec<ParticipatingOrgDoc>,
    budgets: Vec<BudgetLineDoc>,
    transactions: Vec<TransactionLineDoc>,
    /// A record of the synthetic demo workspace.
    synthetic: bool,
}

#[derive(ToSchema)]
pub struct NarrativeDoc {
    lang: Option<String>,
    text: String,
}

/// A code with its vocabulary and percentage, as given.
#[derive(ToSchema)]
pub struct ShareDoc {
    code: String,
    vocabulary: Option<String>,
    percentage: Option<String>,
}

#[derive(ToSchema)]
pub struct ParticipatingOrgDoc {
    /// IATI OrganisationRole: 1 funding, 2 accountable, 3 extending, 4 implementing.
    role: Option<String>,
    organisation_type: Option<String>,
    reference: Option<String>,
    name: Option<String>,
}

/// A budget as given, exact decimal text in its own currency.
#[derive(ToSchema)]
pub struct BudgetLineDoc {
    budget_type: Option<String>,
    status: Option<String>,
    period_start: Option<String>,
    period_end: Option<String>,
    value: Option<String>,
    currency: Option<String>,
}

#[derive(ToSchema)]
pub struct TransactionLineDoc {
    transaction_type: Option<String>,
    date: Option<String>,
    value: Option<String>,
    currency: Option<String>,
    provider: Option<String>,
    receiver: Option<String>,
    description: Option<String>,
}

/// How many programmes and projects a value counts.
#[derive(ToSchema)]
pub struct CountDoc {
    code: String,
    count: u64,
}

#[derive(ToSchema)]
pub struct PartnerCountDoc {
    key: String,
    names: NamesDoc,
    count: u64,
}

/// The explorer's facet counts.
#[derive(ToSchema)]
pub struct FacetsDoc {
    countries: Vec<CountDoc>,
    regions: Vec<CountDoc>,
    policy_areas: Vec<CountDoc>,
    statuses: Vec<CountDoc>,
    years: Vec<CountDoc>,
    partners: Vec<PartnerCountDoc>,
    partner_groups: Vec<CountDoc>,
    modalities: Vec<CountDoc>,
    markers: Vec<CountDoc>,
}

#[derive(ToSchema)]
pub struct PartnerMatchDoc {
    key: String,
    names: NamesDoc,
    url: String,
}

#[derive(ToSchema)]
pub struct SearchMetaDoc {
    q: String,
    /// Partners whose name, in any language, holds every word.
    partners: Vec<PartnerMatchDoc>,
}

page!(SearchPageDoc, ProjectItemDoc, SearchMetaDoc);

/// How a figure was computed.
#[derive(ToSchema)]
pub struct MethodNoteDoc {
    basis: String,
    period: String,
    first_day: String,
    last_day: String,
    modalities: Vec<String>,
    partner_groups: Vec<String>,
    hierarchy_rule: String,
    revised_budget_rule: String,
    conversion: ConversionNoteDoc,
    withheld: WithheldDoc,
}

#[derive(ToSchema)]
pub struct ConversionNoteDoc {
    rule: String,
    sources: Vec<String>,
    entries_converted: u64,
    entries_without_rate: u64,
}

#[derive(ToSchema)]
pub struct WithheldDoc {
    without_rate: Vec<WithheldEntryDoc>,
    confidential_agreements: u64,
    note: String,
}

#[derive(ToSchema)]
pub struct WithheldEntryDoc {
    agreement: Option<String>,
    partner: Option<String>,
    date: Option<String>,
    amount: String,
    currency: Option<String>,
}

/// A partner in the list, with its contributions over the period asked for.
#[derive(ToSchema)]
pub struct PartnerSummaryDoc {
    key: String,
    names: NamesDoc,
    /// The partner group code in force.
    group: String,
    country: Option<String>,
    rollup_code: Option<String>,
    total_usd: String,
    synthetic: bool,
}

#[derive(ToSchema)]
pub struct MethodMetaDoc {
    method: MethodNoteDoc,
}

page!(PartnerPageDoc, PartnerSummaryDoc, MethodMetaDoc);

/// A partner with its group and the rule behind it, contributions, public agreements,
/// earmarked projects and partnerships.
#[derive(ToSchema)]
pub struct PartnerDoc {
    key: String,
    names: NamesDoc,
    iati_ref: Option<String>,
    organisation_type: Option<String>,
    country: Option<String>,
    group: String,
    group_rule: String,
    group_set_by_hand: bool,
    /// [roll-up code, its names], when the partner counts as another contributor.
    rollup: Option<Vec<serde_json::Value>>,
    contributions: PeriodContributionsDoc,
    agreements: Vec<PublicAgreementDoc>,
    earmarked_projects: Vec<ProjectLinkDoc>,
    partnerships: Vec<MembershipDoc>,
    synthetic: bool,
}

#[derive(ToSchema)]
pub struct PeriodContributionsDoc {
    value: Vec<PeriodAmountDoc>,
    method: MethodNoteDoc,
}

#[derive(ToSchema)]
pub struct PeriodAmountDoc {
    period: String,
    modality: String,
    usd: String,
}

#[derive(ToSchema)]
pub struct PublicAgreementDoc {
    key: String,
    title: NamesDoc,
    modality: String,
    status: String,
    signature_date: Option<String>,
    /// The partner's share in the agreement's currency.
    share: String,
    currency: String,
    share_usd: Option<String>,
}

#[derive(ToSchema)]
pub struct ProjectLinkDoc {
    identifier: String,
    title: Option<String>,
    stored: bool,
}

/// A partner's place in a partnership.
#[derive(ToSchema)]
pub struct MembershipDoc {
    partnership_key: String,
    partnership_names: NamesDoc,
    partner_key: String,
    partner_names: NamesDoc,
    partner_group: String,
    role: String,
}

/// An agreement in the list; amounts are exact text in its currency.
#[derive(ToSchema)]
pub struct AgreementRecordDoc {
    key: String,
    title: NamesDoc,
    modality: String,
    status: String,
    signature_date: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    currency: String,
    amount: String,
    /// Only ever true in a staff answer.
    confidential: bool,
    partners: Vec<AgreementShareDoc>,
    earmarks: Vec<AgreementEarmarkDoc>,
    synthetic: bool,
}

#[derive(ToSchema)]
pub struct AgreementShareDoc {
    partner: String,
    amount: String,
}

#[derive(ToSchema)]
pub struct AgreementEarmarkDoc {
    /// project, country or policy_area.
    kind: String,
    target: String,
    amount: String,
}

#[derive(ToSchema)]
pub struct AgreementsMetaDoc {
    /// Confidential agreements left out of this list; zero for a staff token.
    confidential_withheld: u64,
}

page!(AgreementPageDoc, AgreementRecordDoc, AgreementsMetaDoc);

/// One agreement; to a staff token also its instalments, document links and inquiry.
#[derive(ToSchema)]
pub struct AgreementDoc {
    key: String,
    title: NamesDoc,
    modality: String,
    status: String,
    signature_date: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    currency: String,
    amount: String,
    confidential: bool,
    partners: Vec<AgreementShareDoc>,
    earmarks: Vec<AgreementEarmarkDoc>,
    synthetic: bool,
    /// Staff tokens only.
    instalments: Option<Vec<InstalmentDoc>>,
    /// Staff tokens only.
    documents: Option<Vec<DocumentDoc>>,
    /// Staff tokens only: the inquiry the agreement came from.
    inquiry: Option<String>,
}

#[derive(ToSchema)]
pub struct InstalmentDoc {
    due_date: String,
    amount: String,
    received_date: Option<String>,
    received_amount: Option<String>,
}

#[derive(ToSchema)]
pub struct DocumentDoc {
    url: String,
    label: String,
}

/// A multi-stakeholder partnership in the list.
#[derive(ToSchema)]
pub struct PartnershipSummaryDoc {
    key: String,
    names: NamesDoc,
    /// global, regional or national.
    level: String,
    policy_areas: Vec<String>,
    /// How many members.
    members: u64,
    synthetic: bool,
}

page!(PartnershipPageDoc, PartnershipSummaryDoc, NoMeta);

/// A partnership with its members.
#[derive(ToSchema)]
pub struct PartnershipDoc {
    summary: PartnershipSummaryDoc,
    members: Vec<MembershipDoc>,
}

#[derive(ToSchema)]
pub struct CountryItemDoc {
    alpha2: String,
    alpha3: String,
    names: NamesDoc,
    /// ILO region code.
    region: String,
    global_south: bool,
    url: String,
}

page!(CountryPageDoc, CountryItemDoc, NoMeta);

#[derive(ToSchema)]
pub struct PartnerLinkDoc {
    key: String,
    names: NamesDoc,
    group: String,
}

#[derive(ToSchema)]
pub struct YearBudgetDoc {
    value: Vec<YearAmountDoc>,
    method: MethodNoteDoc,
}

#[derive(ToSchema)]
pub struct YearAmountDoc {
    year: i32,
    usd: String,
}

/// A country: its programmes and projects (count and list), partners, budgets by year.
#[derive(ToSchema)]
pub struct CountryDoc {
    alpha2: String,
    alpha3: String,
    names: NamesDoc,
    region: String,
    global_south: bool,
    url: String,
    projects: u64,
    projects_url: String,
    partners: Vec<PartnerLinkDoc>,
    /// [country code, how many programmes and projects].
    countries: Vec<Vec<serde_json::Value>>,
    budget: YearBudgetDoc,
}

#[derive(ToSchema)]
pub struct PolicyAreaItemDoc {
    code: String,
    names: NamesDoc,
    url: String,
}

page!(PolicyAreaPageDoc, PolicyAreaItemDoc, NoMeta);

/// A policy area: its programmes and projects, their countries and partners, and the
/// partnerships working on it.
#[derive(ToSchema)]
pub struct PolicyAreaDoc {
    code: String,
    names: NamesDoc,
    url: String,
    projects: u64,
    projects_url: String,
    partners: Vec<PartnerLinkDoc>,
    /// [country code, how many programmes and projects].
    countries: Vec<Vec<serde_json::Value>>,
    partnerships: Vec<PartnershipSummaryDoc>,
}

/// Voluntary contributions of a period and their method note.
#[derive(ToSchema)]
pub struct ContributionsDoc {
    value: ContributionsValueDoc,
    method: MethodNoteDoc,
}

#[derive(ToSchema)]
pub struct ContributionsValueDoc {
    total_usd: String,
    by_modality: Vec<AmountDoc>,
    by_partner_group: Vec<AmountDoc>,
    /// Codes as "modality/partner_group".
    by_modality_and_partner_group: Vec<AmountDoc>,
    ranking: Vec<RankedContributorDoc>,
}

#[derive(ToSchema)]
pub struct AmountDoc {
    code: String,
    usd: String,
}

#[derive(ToSchema)]
pub struct RankedContributorDoc {
    rank: u32,
    /// The roll-up code or the partner's key.
    code: String,
    names: NamesDoc,
    usd: String,
}

/// The portfolio of a period and its method note.
#[derive(ToSchema)]
pub struct PortfolioDoc {
    value: PortfolioValueDoc,
    method: MethodNoteDoc,
}

#[derive(ToSchema)]
pub struct PortfolioValueDoc {
    programmes_active: u64,
    countries: u64,
    countries_by_region: Vec<CountDoc>,
    programmes_by_region: Vec<CountDoc>,
    programmes_by_policy_area: Vec<CountDoc>,
}

/// The portfolio's budget over a period and its method note.
#[derive(ToSchema)]
pub struct BudgetDoc {
    value: BudgetValueDoc,
    method: MethodNoteDoc,
}

#[derive(ToSchema)]
pub struct BudgetValueDoc {
    /// US dollars, exact to the cent.
    usd: String,
}

/// An inquiry as a card of the board.
#[derive(ToSchema)]
pub struct InquiryCardDoc {
    key: String,
    kind: String,
    name: String,
    organisation: String,
    stage: String,
    received_at: String,
    assigned_to: Option<String>,
    synthetic: bool,
}

/// An inquiry with its history.
#[derive(ToSchema)]
pub struct InquiryDoc {
    key: String,
    kind: String,
    name: String,
    email: String,
    organisation: String,
    partner_group: Option<String>,
    country: Option<String>,
    message: String,
    consent: bool,
    received_at: String,
    stage: String,
    first_response_at: Option<String>,
    assigned_to: Option<String>,
    /// [the linked partner's key, its English name].
    partner: Option<Vec<String>>,
    agreement_key: Option<String>,
    policy_areas: Vec<String>,
    events: Vec<InquiryEventDoc>,
    synthetic: bool,
}

/// A move or an annotation.
#[derive(ToSchema)]
pub struct InquiryEventDoc {
    at: String,
    by_user: String,
    from_stage: String,
    to_stage: String,
    note: String,
}
