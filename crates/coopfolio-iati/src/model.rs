//! What the reader makes of an IATI document: activities and organisations as plain data.
//!
//! These types are the contract between the reader and the store. They hold what the importer
//! models; everything else survives in `raw_xml`, the exact bytes of the element as published.
//! Codes are kept as the publisher wrote them (trimmed) except where a field says otherwise;
//! whether a code is known is the reader's business, reported as a diagnostic, never a reason
//! to drop the value.

use rust_decimal::Decimal;

/// One `<iati-activity>` as read, with what could be read even when parts were faulty.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Activity {
    /// The trimmed text of `<iati-identifier>`; never empty (an activity without one is skipped).
    pub identifier: String,
    /// `@default-currency`, upper-cased.
    pub default_currency: Option<String>,
    /// `@xml:lang` of the activity, the language of narratives that carry none.
    pub default_lang: Option<String>,
    /// `@last-updated-datetime` as written.
    pub last_updated: Option<String>,
    /// `@hierarchy` (1 = programme, 2 = project, ...).
    pub hierarchy: Option<i64>,
    /// `@humanitarian` ("1"/"true").
    pub humanitarian: Option<bool>,
    pub reporting_org: Option<OrganisationRef>,
    pub titles: Vec<Narrative>,
    pub descriptions: Vec<Description>,
    pub participating_orgs: Vec<ParticipatingOrg>,
    /// `<activity-status @code>`.
    pub status: Option<String>,
    pub dates: Vec<ActivityDate>,
    pub recipient_countries: Vec<RecipientCountry>,
    pub recipient_regions: Vec<RecipientRegion>,
    pub sectors: Vec<Sector>,
    /// `<collaboration-type @code>`.
    pub collaboration_type: Option<String>,
    pub default_flow_type: Option<String>,
    pub default_finance_type: Option<String>,
    pub default_tied_status: Option<String>,
    pub default_aid_types: Vec<AidType>,
    pub budgets: Vec<Budget>,
    pub transactions: Vec<Transaction>,
    pub related_activities: Vec<RelatedActivity>,
    /// The exact bytes of the element, from `<iati-activity` to `</iati-activity>`.
    pub raw_xml: Vec<u8>,
    /// Where the element starts in its file (1-based).
    pub line: u64,
    pub column: u64,
    /// How many diagnostics (lesser faults) were reported while reading this activity.
    pub faults: u32,
}

/// One `<iati-organisation>` of an organisation file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Organisation {
    /// The trimmed text of `<organisation-identifier>`; never empty.
    pub identifier: String,
    pub default_currency: Option<String>,
    pub default_lang: Option<String>,
    pub last_updated: Option<String>,
    pub names: Vec<Narrative>,
    pub reporting_org: Option<OrganisationRef>,
    /// total-budget, recipient-org-budget, recipient-country-budget, recipient-region-budget.
    pub budgets: Vec<OrganisationBudget>,
    pub expenditures: Vec<OrganisationBudget>,
    pub raw_xml: Vec<u8>,
    pub line: u64,
    pub column: u64,
    pub faults: u32,
}

/// Text in one language. `lang` is the narrative's own `xml:lang`, else the activity's default,
/// else `None` (unknown).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Narrative {
    pub lang: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Description {
    /// `@type` (DescriptionType codelist), `None` when absent (means 1, general).
    pub kind: Option<String>,
    pub narratives: Vec<Narrative>,
}

/// An organisation as referred to: `reporting-org`, `provider-org`, `receiver-org`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganisationRef {
    /// `@ref`, trimmed, `None` when absent or empty.
    pub reference: Option<String>,
    /// `@type` (OrganisationType codelist).
    pub kind: Option<String>,
    pub names: Vec<Narrative>,
    /// `@provider-activity-id` / `@receiver-activity-id` where given.
    pub activity_identifier: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParticipatingOrg {
    pub reference: Option<String>,
    pub kind: Option<String>,
    /// `@role` (OrganisationRole codelist: 1 funding, 2 accountable, 3 extending, 4 implementing).
    pub role: Option<String>,
    pub activity_identifier: Option<String>,
    /// `@crs-channel-code`.
    pub crs_channel_code: Option<String>,
    pub names: Vec<Narrative>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityDate {
    /// `@type` (ActivityDateType: 1 planned start, 2 actual start, 3 planned end, 4 actual end).
    pub kind: String,
    /// `@iso-date`, a valid `YYYY-MM-DD` (an invalid one is reported and the date dropped).
    pub date: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecipientCountry {
    /// ISO 3166-1 alpha-2, upper-cased.
    pub code: String,
    pub percentage: Option<Decimal>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecipientRegion {
    pub code: String,
    /// `@vocabulary` (RegionVocabulary), `None` when absent (means 1, OECD DAC).
    pub vocabulary: Option<String>,
    pub percentage: Option<Decimal>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sector {
    pub code: String,
    /// `@vocabulary` (SectorVocabulary), `None` when absent (means 1, DAC 5-digit).
    pub vocabulary: Option<String>,
    pub percentage: Option<Decimal>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AidType {
    pub code: String,
    /// `@vocabulary` (AidTypeVocabulary), `None` when absent (means 1, OECD DAC).
    pub vocabulary: Option<String>,
}

/// An amount of money exactly as given, with its currency resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub amount: Decimal,
    /// `@currency` of the value, else the activity's `@default-currency`, upper-cased;
    /// `None` when neither is given (reported).
    pub currency: Option<String>,
    /// `@value-date`, a valid `YYYY-MM-DD`, when given.
    pub value_date: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Budget {
    /// `@type` (BudgetType: 1 original, 2 revised).
    pub kind: Option<String>,
    /// `@status` (BudgetStatus: 1 indicative, 2 committed).
    pub status: Option<String>,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    /// `None` when the value was missing or not a number (reported).
    pub value: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transaction {
    /// `@ref`.
    pub reference: Option<String>,
    /// The IATI 2.0x TransactionType code ("1".."13"); legacy letters are mapped
    /// (C→2, D→3, E→4, IF→1, IR→5, LR→6, R→7, QP→8, QS→9, CG→10). `None` when missing or unknown.
    pub kind: Option<String>,
    /// The code exactly as written, when it differs from `kind` (a legacy letter, say).
    pub kind_as_written: Option<String>,
    pub date: Option<String>,
    pub value: Option<Value>,
    pub description: Vec<Narrative>,
    pub provider_org: Option<OrganisationRef>,
    pub receiver_org: Option<OrganisationRef>,
    pub humanitarian: Option<bool>,
    pub flow_type: Option<String>,
    pub finance_type: Option<String>,
    pub tied_status: Option<String>,
    pub aid_types: Vec<AidType>,
    /// `<recipient-country>` / `<sector>` at transaction level, when given.
    pub recipient_countries: Vec<String>,
    pub sectors: Vec<Sector>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelatedActivity {
    pub identifier: String,
    /// `@type` (RelatedActivityType: 1 parent, 2 child, 3 sibling, 4 co-funded, 5 third party).
    pub kind: Option<String>,
}

/// A budget or expenditure line of an organisation file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrganisationBudget {
    /// total-budget, total-expenditure, recipient-org-budget, recipient-country-budget,
    /// recipient-region-budget.
    pub element: String,
    pub status: Option<String>,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub value: Option<Value>,
    /// The recipient organisation's ref, country code or region code, by element.
    pub recipient: Option<String>,
}
