//! Read-only queries behind the public portal: the programmes and projects explorer (filters,
//! full-text search over titles and descriptions, sorting, paging) and one project with
//! everything it records. The explorer's facet counts are in `facets.rs`, its downloads in
//! `download.rs`; both write their SQL with the one [`FilterContext`] here.
//!
//! The explorer shows the same portfolio the figures count: when the `organisation_ref` setting
//! names the organisation, only its own activities are listed or shown. Filters that depend on
//! reference data (ILO region, policy area) are resolved in Rust into plain code lists first, so
//! that the SQL stays the same on both backends and never scans the whole table in Rust.

use std::collections::{BTreeSet, HashMap};

use coopfolio_core::country::{Countries, IloRegion};
use coopfolio_core::modality::Modality;
use coopfolio_core::partner_group::PartnerGroup;
use coopfolio_core::policy_area::{PolicyArea, PolicyAreaMap};
use serde::Serialize;

use crate::figures::ORGANISATION_REF;
use crate::sql::dispatch;
use crate::{search, Backend, Pool, Store, StoreError};

/// What the explorer lists: every field is optional, and all that are set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectQuery {
    /// ISO 3166-1 alpha-2 recipient country.
    pub country: Option<String>,
    pub region: Option<IloRegion>,
    pub policy_area: Option<PolicyArea>,
    /// IATI ActivityStatus code ("2" is implementation).
    pub status: Option<String>,
    /// Active in this year: started by its last day, not ended before its first.
    pub year: Option<i32>,
    /// Words looked for in every title and description, in every language (each word a
    /// prefix, all required), or a part of the identifier.
    pub text: Option<String>,
    /// A partner's key: the projects its agreements earmark, and those where it takes part as
    /// a participating organisation (by its IATI identifier).
    pub partner: Option<String>,
    /// The same, for any partner of the group.
    pub partner_group: Option<PartnerGroup>,
    /// The modality of an agreement that earmarks the project.
    pub modality: Option<Modality>,
    /// Markers the project must all carry.
    pub markers: Vec<Marker>,
    pub sort: ProjectSort,
    /// 1-based.
    pub page: u32,
    pub page_size: u32,
}

/// What the organisation records about a project beyond IATI (`activity_extra`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Marker {
    SouthSouth,
    Triangular,
    JointUn,
    Mptf,
}

impl Marker {
    pub const ALL: [Marker; 4] = [
        Marker::SouthSouth,
        Marker::Triangular,
        Marker::JointUn,
        Marker::Mptf,
    ];

    /// The code the URL and the downloads use, which is also the column's name.
    pub fn code(self) -> &'static str {
        match self {
            Marker::SouthSouth => "south_south",
            Marker::Triangular => "triangular",
            Marker::JointUn => "joint_un",
            Marker::Mptf => "mptf",
        }
    }
}

/// A filter of the explorer, whose facet counts are taken with every other filter applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Facet {
    Country,
    Region,
    PolicyArea,
    Status,
    Year,
    Partner,
    PartnerGroup,
    Modality,
    Marker(Marker),
}

/// The explorer's orderings; the identifier breaks ties so that paging is stable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProjectSort {
    #[default]
    Title,
    StartNewest,
    StartOldest,
    EndLatest,
}

/// One page of the explorer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectList {
    /// How many programmes and projects match, over all pages.
    pub total: u64,
    pub projects: Vec<ProjectSummary>,
}

/// One line of the explorer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectSummary {
    pub identifier: String,
    pub title: Option<String>,
    pub status: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    /// Recipient country codes, upper case.
    pub countries: Vec<String>,
}

/// Everything the project page shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectDetail {
    pub identifier: String,
    pub reporting_org: Option<String>,
    pub status: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub titles: Vec<Narrative>,
    pub descriptions: Vec<Narrative>,
    /// Every date the activity gives: IATI ActivityDateType code and date.
    pub dates: Vec<(String, String)>,
    pub countries: Vec<Share>,
    pub regions: Vec<Share>,
    /// DAC sectors (vocabulary 1 or none) and others, with their vocabulary.
    pub sectors: Vec<Share>,
    pub policy_areas: Vec<String>,
    pub participating_orgs: Vec<ParticipatingOrg>,
    pub budgets: Vec<BudgetLine>,
    pub transactions: Vec<TransactionLine>,
    /// A record of the synthetic demo workspace.
    pub synthetic: bool,
}

/// A text in one language.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Narrative {
    pub lang: Option<String>,
    pub text: String,
}

/// A code with its vocabulary and percentage, as given.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Share {
    pub code: String,
    pub vocabulary: Option<String>,
    pub percentage: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParticipatingOrg {
    /// IATI OrganisationRole code: 1 funding, 2 accountable, 3 extending, 4 implementing.
    pub role: Option<String>,
    pub organisation_type: Option<String>,
    pub reference: Option<String>,
    pub name: Option<String>,
}

/// A budget as given: amounts are exact decimal text in their own currency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BudgetLine {
    pub budget_type: Option<String>,
    pub status: Option<String>,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub value: Option<String>,
    pub currency: Option<String>,
}

/// A transaction as given.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransactionLine {
    pub transaction_type: Option<String>,
    pub date: Option<String>,
    pub value: Option<String>,
    pub currency: Option<String>,
    pub provider: Option<String>,
    pub receiver: Option<String>,
    pub description: Option<String>,
}

/// The first English (or language-less) title, else the first title.
pub(crate) const TITLE: &str =
    "(SELECT n.text FROM activity_narrative n WHERE n.activity_id = a.id \
    AND n.element = 'title' ORDER BY CASE WHEN n.lang = 'en' OR n.lang IS NULL THEN 0 ELSE 1 END, \
    n.position LIMIT 1)";

impl Store {
    /// One page of the programmes and projects that match `query`, and how many match in all.
    pub async fn projects(&self, query: &ProjectQuery) -> Result<ProjectList, StoreError> {
        let operation = "listing programmes and projects";
        let context = self.filter_context(query).await?;
        let filter = context.filter(query, None);
        let page_size = query.page_size.clamp(1, 500);
        let offset = u64::from(query.page.max(1) - 1) * u64::from(page_size);
        let count_sql = format!("SELECT COUNT(*) FROM activity a {}", filter.where_clause());
        let list_sql = format!(
            "SELECT a.id, a.iati_identifier, {TITLE} AS title, a.status, a.start_date, a.end_date \
             FROM activity a {} ORDER BY {} LIMIT {page_size} OFFSET {offset}",
            filter.where_clause(),
            order_by(query.sort)
        );
        type Row = (
            i64,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let (total, rows): (i64, Vec<Row>) = dispatch!(&self.pool, Pool, pool => async {
            let mut count = sqlx::query_scalar(&count_sql);
            let mut list = sqlx::query_as(&list_sql);
            for value in &filter.binds {
                count = count.bind(value);
                list = list.bind(value);
            }
            Ok::<_, sqlx::Error>((count.fetch_one(pool).await?, list.fetch_all(pool).await?))
        }.await)
        .map_err(StoreError::query(operation))?;

        let ids: Vec<i64> = rows.iter().map(|row| row.0).collect();
        let mut countries = self.countries_of(&ids).await?;
        let projects = rows
            .into_iter()
            .map(|row| ProjectSummary {
                countries: countries.remove(&row.0).unwrap_or_default(),
                identifier: row.1,
                title: row.2,
                status: row.3,
                start_date: row.4,
                end_date: row.5,
            })
            .collect();
        Ok(ProjectList {
            total: total as u64,
            projects,
        })
    }

    /// The ids of every programme and project that matches `query`, in the explorer's order,
    /// over all pages: a download reads its rows by these, a page at a time.
    pub(crate) async fn matching_ids(&self, query: &ProjectQuery) -> Result<Vec<i64>, StoreError> {
        let context = self.filter_context(query).await?;
        let filter = context.filter(query, None);
        let sql = format!(
            "SELECT a.id FROM activity a {} ORDER BY {}",
            filter.where_clause(),
            order_by(query.sort)
        );
        dispatch!(&self.pool, Pool, pool => {
            let mut list = sqlx::query_scalar(&sql);
            for value in &filter.binds {
                list = list.bind(value);
            }
            list.fetch_all(pool).await
        })
        .map_err(StoreError::query("listing programmes and projects"))
    }

    /// The recipient countries of each activity, upper case, in the published order.
    pub(crate) async fn countries_of(
        &self,
        ids: &[i64],
    ) -> Result<HashMap<i64, Vec<String>>, StoreError> {
        let mut countries: HashMap<i64, Vec<String>> = HashMap::new();
        if ids.is_empty() {
            return Ok(countries);
        }
        // The ids come from the database as integers, so they are safe to write inline.
        let sql = format!(
            "SELECT activity_id, code FROM recipient_country WHERE activity_id IN ({}) \
             ORDER BY activity_id, position",
            id_list(ids)
        );
        let rows: Vec<(i64, String)> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(&sql).fetch_all(pool).await
        })
        .map_err(StoreError::query("reading recipient countries"))?;
        for (activity, code) in rows {
            countries
                .entry(activity)
                .or_default()
                .push(code.trim().to_ascii_uppercase());
        }
        Ok(countries)
    }

    /// What every filter of `query` needs from the database before its SQL can be written:
    /// the organisation whose portfolio is shown, and the sector codes of the policy area.
    pub(crate) async fn filter_context(
        &self,
        query: &ProjectQuery,
    ) -> Result<FilterContext, StoreError> {
        let area_sectors = match query.policy_area {
            Some(area) => self.sector_codes_for(area).await?,
            None => Vec::new(),
        };
        Ok(FilterContext {
            backend: self.backend(),
            organisation: self.setting(ORGANISATION_REF).await?,
            area_sectors,
        })
    }

    /// One programme or project by its IATI identifier, if stored (and, when the
    /// `organisation_ref` setting is set, reported by the organisation).
    pub async fn project(&self, identifier: &str) -> Result<Option<ProjectDetail>, StoreError> {
        let operation = "reading a programme or project";
        let organisation = self.setting(ORGANISATION_REF).await?;
        type Head = (
            i64,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let head: Option<Head> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(
                "SELECT id, reporting_org_name, status, start_date, end_date, reporting_org_ref \
                 FROM activity WHERE iati_identifier = $1",
            )
            .bind(identifier)
            .fetch_optional(pool)
            .await
        })
        .map_err(StoreError::query(operation))?;
        let Some((id, reporting_org, status, start_date, end_date, reporting_ref)) = head else {
            return Ok(None);
        };
        if organisation.is_some() && organisation != reporting_ref {
            return Ok(None);
        }

        type NarrativeRow = (String, Option<String>, String);
        type OrgRow = (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        type MoneyRow = (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        type TransactionRow = (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        #[allow(clippy::type_complexity)]
        let (
            narratives,
            dates,
            countries,
            regions,
            sectors,
            orgs,
            budgets,
            transactions,
            areas,
            synthetic,
        ): (
            Vec<NarrativeRow>,
            Vec<(String, String)>,
            Vec<(String, Option<String>)>,
            Vec<(String, Option<String>, Option<String>)>,
            Vec<(String, Option<String>, Option<String>)>,
            Vec<OrgRow>,
            Vec<MoneyRow>,
            Vec<TransactionRow>,
            Vec<(String,)>,
            i64,
        ) = dispatch!(&self.pool, Pool, pool => async {
            Ok::<_, sqlx::Error>((
                sqlx::query_as("SELECT element, lang, text FROM activity_narrative \
                    WHERE activity_id = $1 ORDER BY position")
                    .bind(id).fetch_all(pool).await?,
                sqlx::query_as("SELECT type, date FROM activity_date WHERE activity_id = $1 \
                    ORDER BY position")
                    .bind(id).fetch_all(pool).await?,
                sqlx::query_as("SELECT code, CAST(percentage AS TEXT) FROM recipient_country \
                    WHERE activity_id = $1 ORDER BY position")
                    .bind(id).fetch_all(pool).await?,
                sqlx::query_as("SELECT code, vocabulary, CAST(percentage AS TEXT) \
                    FROM recipient_region WHERE activity_id = $1 ORDER BY position")
                    .bind(id).fetch_all(pool).await?,
                sqlx::query_as("SELECT code, vocabulary, CAST(percentage AS TEXT) FROM sector \
                    WHERE activity_id = $1 ORDER BY position")
                    .bind(id).fetch_all(pool).await?,
                sqlx::query_as("SELECT role, type, ref, name FROM participating_org \
                    WHERE activity_id = $1 ORDER BY position")
                    .bind(id).fetch_all(pool).await?,
                sqlx::query_as("SELECT type, status, period_start, period_end, \
                    CAST(value AS TEXT), currency FROM budget WHERE activity_id = $1 \
                    ORDER BY period_start, id")
                    .bind(id).fetch_all(pool).await?,
                sqlx::query_as("SELECT type, date, CAST(value AS TEXT), currency, \
                    COALESCE(provider_org_name, provider_org_ref), \
                    COALESCE(receiver_org_name, receiver_org_ref), description \
                    FROM \"transaction\" WHERE activity_id = $1 ORDER BY date, id")
                    .bind(id).fetch_all(pool).await?,
                sqlx::query_as("SELECT policy_area FROM activity_policy_area \
                    WHERE activity_identifier = $1 ORDER BY policy_area")
                    .bind(identifier).fetch_all(pool).await?,
                sqlx::query_scalar("SELECT COUNT(*) FROM activity_extra \
                    WHERE activity_identifier = $1 AND synthetic = $2")
                    .bind(identifier).bind(true).fetch_one(pool).await?,
            ))
        }.await)
        .map_err(StoreError::query(operation))?;

        let (mut titles, mut descriptions) = (Vec::new(), Vec::new());
        for (element, lang, text) in narratives {
            let narrative = Narrative { lang, text };
            if element == "title" {
                titles.push(narrative);
            } else {
                descriptions.push(narrative);
            }
        }
        let mut policy_areas: Vec<String> = areas.into_iter().map(|row| row.0).collect();
        if policy_areas.is_empty() {
            // No area set by hand: the areas mapped from the DAC sectors, as the figures count them.
            let map = PolicyAreaMap::bundled();
            let mapped: BTreeSet<PolicyArea> = sectors
                .iter()
                .filter(|sector| sector.1.as_deref().is_none_or(|v| v == "1"))
                .flat_map(|sector| map.areas_for_sector(&sector.0).iter().copied())
                .collect();
            policy_areas = mapped.into_iter().map(|a| a.code().to_owned()).collect();
        }
        Ok(Some(ProjectDetail {
            identifier: identifier.to_owned(),
            reporting_org,
            status,
            start_date,
            end_date,
            titles,
            descriptions,
            dates,
            countries: countries
                .into_iter()
                .map(|(code, percentage)| Share {
                    code: code.trim().to_ascii_uppercase(),
                    vocabulary: None,
                    percentage,
                })
                .collect(),
            regions: regions
                .into_iter()
                .map(|(code, vocabulary, percentage)| Share {
                    code,
                    vocabulary,
                    percentage,
                })
                .collect(),
            sectors: sectors
                .into_iter()
                .map(|(code, vocabulary, percentage)| Share {
                    code,
                    vocabulary,
                    percentage,
                })
                .collect(),
            policy_areas,
            participating_orgs: orgs
                .into_iter()
                .map(
                    |(role, organisation_type, reference, name)| ParticipatingOrg {
                        role,
                        organisation_type,
                        reference,
                        name,
                    },
                )
                .collect(),
            budgets: budgets
                .into_iter()
                .map(
                    |(budget_type, status, period_start, period_end, value, currency)| BudgetLine {
                        budget_type,
                        status,
                        period_start,
                        period_end,
                        value,
                        currency,
                    },
                )
                .collect(),
            transactions: transactions
                .into_iter()
                .map(
                    |(transaction_type, date, value, currency, provider, receiver, description)| {
                        TransactionLine {
                            transaction_type,
                            date,
                            value,
                            currency,
                            provider,
                            receiver,
                            description,
                        }
                    },
                )
                .collect(),
            synthetic: synthetic > 0,
        }))
    }

    /// The stored DAC sector codes that map to a policy area.
    pub(crate) async fn sector_codes_for(
        &self,
        area: PolicyArea,
    ) -> Result<Vec<String>, StoreError> {
        let codes: Vec<String> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_scalar(
                "SELECT DISTINCT code FROM sector WHERE vocabulary IS NULL OR vocabulary = '1'",
            )
            .fetch_all(pool)
            .await
        })
        .map_err(StoreError::query("listing sector codes"))?;
        let map = PolicyAreaMap::bundled();
        Ok(codes
            .into_iter()
            .filter(|code| map.areas_for_sector(code).contains(&area))
            .collect())
    }
}

/// Each activity with each partner behind it: the partners of the agreements that earmark it,
/// and the partners whose IATI identifier it names as a participating organisation.
pub(crate) const PROJECT_PARTNERS: &str = "(SELECT earmarked.id AS activity_id, \
    ap.partner_id AS partner_id FROM earmark e \
    JOIN agreement_partner ap ON ap.agreement_id = e.agreement_id \
    JOIN activity earmarked ON earmarked.iati_identifier = e.target \
    WHERE e.target_kind = 'project' \
    UNION SELECT po.activity_id, named.id FROM participating_org po \
    JOIN partner named ON named.iati_ref = po.ref)";

/// What [`Store::filter_context`] read, from which the SQL of any combination of filters is
/// written without going back to the database.
pub(crate) struct FilterContext {
    backend: Backend,
    organisation: Option<String>,
    /// The stored DAC sector codes of the query's policy area.
    area_sectors: Vec<String>,
}

/// The conditions on `activity a` of a query, and the values bound to their placeholders.
pub(crate) struct Filter {
    pub(crate) conditions: Vec<String>,
    pub(crate) binds: Vec<String>,
}

impl Filter {
    /// Binds a value to the next placeholder and returns the placeholder.
    fn bind(&mut self, value: String) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    /// `WHERE ...`, or nothing when no condition holds.
    pub(crate) fn where_clause(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.conditions.join(" AND "))
        }
    }

    /// `AND ...` after a WHERE of the caller's own, or nothing.
    pub(crate) fn and_clause(&self) -> String {
        self.conditions
            .iter()
            .map(|condition| format!(" AND {condition}"))
            .collect()
    }
}

impl FilterContext {
    /// The conditions of every filter of `query` but `except`, whose facet is being counted.
    /// Placeholders are numbered as they are pushed, so each condition takes the next ones.
    pub(crate) fn filter(&self, query: &ProjectQuery, except: Option<Facet>) -> Filter {
        let mut filter = Filter {
            conditions: Vec::new(),
            binds: Vec::new(),
        };
        let counted = |facet: Facet| except != Some(facet);
        if let Some(organisation) = &self.organisation {
            let placeholder = filter.bind(organisation.clone());
            filter
                .conditions
                .push(format!("a.reporting_org_ref = {placeholder}"));
        }
        if let Some(country) = query.country.as_ref().filter(|_| counted(Facet::Country)) {
            let placeholder = filter.bind(country.trim().to_ascii_uppercase());
            filter.conditions.push(format!(
                "EXISTS (SELECT 1 FROM recipient_country rc WHERE rc.activity_id = a.id \
                 AND UPPER(TRIM(rc.code)) = {placeholder})"
            ));
        }
        if let Some(region) = query.region.filter(|_| counted(Facet::Region)) {
            let codes: Vec<String> = Countries::bundled()
                .all()
                .iter()
                .filter(|country| country.region == region)
                .map(|country| filter.bind(country.alpha2.clone()))
                .collect();
            filter.conditions.push(if codes.is_empty() {
                "1 = 0".to_owned()
            } else {
                format!(
                    "EXISTS (SELECT 1 FROM recipient_country rc WHERE rc.activity_id = a.id \
                     AND UPPER(TRIM(rc.code)) IN ({}))",
                    codes.join(", ")
                )
            });
        }
        if let Some(area) = query.policy_area.filter(|_| counted(Facet::PolicyArea)) {
            // A policy area set by hand replaces those mapped from sectors, as in the figures;
            // the sector codes stored are few (the DAC list), so they were mapped in Rust.
            let hand_set = format!(
                "EXISTS (SELECT 1 FROM activity_policy_area pa \
                 WHERE pa.activity_identifier = a.iati_identifier AND pa.policy_area = {})",
                filter.bind(area.code().to_owned())
            );
            let mapped = if self.area_sectors.is_empty() {
                "1 = 0".to_owned()
            } else {
                let placeholders: Vec<String> = self
                    .area_sectors
                    .iter()
                    .map(|code| filter.bind(code.clone()))
                    .collect();
                format!(
                    "(NOT EXISTS (SELECT 1 FROM activity_policy_area pa \
                     WHERE pa.activity_identifier = a.iati_identifier) \
                     AND EXISTS (SELECT 1 FROM sector s WHERE s.activity_id = a.id \
                     AND (s.vocabulary IS NULL OR s.vocabulary = '1') AND s.code IN ({})))",
                    placeholders.join(", ")
                )
            };
            filter.conditions.push(format!("({hand_set} OR {mapped})"));
        }
        if let Some(status) = query.status.as_ref().filter(|_| counted(Facet::Status)) {
            let placeholder = filter.bind(status.trim().to_owned());
            filter.conditions.push(format!("a.status = {placeholder}"));
        }
        if let Some(year) = query.year.filter(|_| counted(Facet::Year)) {
            let day_after = filter.bind(format!("{:04}-01-01", year + 1));
            let first_day = filter.bind(format!("{year:04}-01-01"));
            filter.conditions.push(format!(
                "a.start_date IS NOT NULL AND a.start_date < {day_after} \
                 AND (a.end_date IS NULL OR a.end_date >= {first_day})"
            ));
        }
        if let Some(text) = query.text.as_deref().map(str::trim) {
            if !text.is_empty() {
                let pattern = format!("%{}%", escape_like(&text.to_lowercase()));
                let pattern = filter.bind(pattern);
                let words = search::search_words(text);
                let condition = match search::search_argument(self.backend, &words) {
                    Some(argument) => {
                        let placeholder = filter.bind(argument);
                        format!(
                            "(LOWER(a.iati_identifier) LIKE {pattern} ESCAPE '\\' OR {})",
                            search::matching_condition(self.backend, &placeholder)
                        )
                    }
                    None => format!("LOWER(a.iati_identifier) LIKE {pattern} ESCAPE '\\'"),
                };
                filter.conditions.push(condition);
            }
        }
        if let Some(partner) = query.partner.as_ref().filter(|_| counted(Facet::Partner)) {
            let placeholder = filter.bind(partner.clone());
            filter.conditions.push(format!(
                "a.id IN (SELECT pp.activity_id FROM {PROJECT_PARTNERS} pp \
                 JOIN partner p ON p.id = pp.partner_id WHERE p.key = {placeholder})"
            ));
        }
        if let Some(group) = query.partner_group.filter(|_| counted(Facet::PartnerGroup)) {
            let placeholder = filter.bind(group.code().to_owned());
            filter.conditions.push(format!(
                "a.id IN (SELECT pp.activity_id FROM {PROJECT_PARTNERS} pp \
                 JOIN partner p ON p.id = pp.partner_id WHERE p.partner_group = {placeholder})"
            ));
        }
        if let Some(modality) = query.modality.filter(|_| counted(Facet::Modality)) {
            let placeholder = filter.bind(modality.code().to_owned());
            filter.conditions.push(format!(
                "a.iati_identifier IN (SELECT e.target FROM earmark e \
                 JOIN agreement ag ON ag.id = e.agreement_id \
                 WHERE e.target_kind = 'project' AND ag.modality = {placeholder})"
            ));
        }
        for marker in &query.markers {
            if counted(Facet::Marker(*marker)) {
                filter.conditions.push(marker_condition(*marker));
            }
        }
        filter
    }
}

/// "The activity `a` carries the marker". The column name comes from the enum, never from
/// the request; TRUE reads as 1 in SQLite and as a boolean in PostgreSQL.
pub(crate) fn marker_condition(marker: Marker) -> String {
    format!(
        "a.iati_identifier IN (SELECT x.activity_identifier FROM activity_extra x \
         WHERE x.{} = TRUE)",
        marker.code()
    )
}

/// The explorer's order; the identifier breaks ties, so that pages never overlap.
fn order_by(sort: ProjectSort) -> String {
    match sort {
        ProjectSort::Title => format!("{TITLE} ASC NULLS LAST, a.iati_identifier"),
        ProjectSort::StartNewest => "a.start_date DESC NULLS LAST, a.iati_identifier".to_owned(),
        ProjectSort::StartOldest => "a.start_date ASC NULLS LAST, a.iati_identifier".to_owned(),
        ProjectSort::EndLatest => "a.end_date DESC NULLS LAST, a.iati_identifier".to_owned(),
    }
}

/// Ids read from the database, written inline: they are integers, so nothing can be injected.
pub(crate) fn id_list(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Escapes LIKE's wildcards so that a search for "100%" looks for a percent sign.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if matches!(character, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}
