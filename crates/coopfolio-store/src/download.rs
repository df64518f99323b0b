//! Downloads of any explorer view: every programme and project a [`ProjectQuery`] matches, in
//! the explorer's order and with no limit, read a page at a time so that memory stays that of
//! one page whatever the portfolio's size; with the method note and the version of the data
//! that a download carries.
//!
//! [`Store::project_download`] takes the ids of the matching rows in one query (eight bytes a
//! row, sorted once by the database) and [`ProjectDownload::next_page`] reads the rows of the
//! next [`DOWNLOAD_PAGE`] ids. An activity replaced by an import between two pages is left out
//! of the download rather than read from a later state of the data.

use std::collections::{BTreeSet, HashMap};

use coopfolio_core::country::Countries;
use coopfolio_core::policy_area::PolicyAreaMap;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::portal::{id_list, Marker, ProjectQuery};
use crate::sql::dispatch;
use crate::stats::parse_decimal;
use crate::{Pool, Store, StoreError};

/// Rows read per query while a download streams.
pub const DOWNLOAD_PAGE: usize = 500;

/// A download under way: the ids still to read, in order.
#[derive(Debug)]
pub struct ProjectDownload {
    ids: Vec<i64>,
    next: usize,
}

/// One row of a download.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DownloadRow {
    pub identifier: String,
    pub title: Option<String>,
    /// IATI ActivityStatus code.
    pub status: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    /// Recipient countries, ISO 3166-1 alpha-2, upper case, in the published order.
    pub countries: Vec<String>,
    /// The ILO regions of those countries, by code.
    pub regions: Vec<String>,
    /// Policy areas by code: set by hand, else mapped from the DAC sectors.
    pub policy_areas: Vec<String>,
    pub markers: Vec<Marker>,
    pub reporting_org: Option<String>,
    /// The sum of the activity's budgets in US dollars, over those that could be converted.
    #[serde(serialize_with = "crate::figures::cents")]
    pub budget_usd: Decimal,
    /// Budgets left out of `budget_usd` for want of a rate or a currency.
    pub budgets_without_rate: u64,
}

/// Which data a download was read from, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataVersion {
    /// The latest import that went in, if any.
    pub import_run_id: Option<i64>,
    pub import_finished_at: Option<String>,
    /// When the download was read, RFC 3339 UTC.
    pub read_at: String,
}

/// How a download's rows were chosen and its columns computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DownloadMethod {
    pub basis: String,
    pub budget: String,
    pub hierarchy_rule: String,
    pub revised_budget_rule: String,
    pub conversion: String,
    pub policy_areas: String,
    pub markers: String,
    pub partners: String,
}

impl ProjectDownload {
    /// How many rows the download holds.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The next page of rows, in order; `None` when every row has been read.
    pub async fn next_page(
        &mut self,
        store: &Store,
    ) -> Result<Option<Vec<DownloadRow>>, StoreError> {
        if self.next >= self.ids.len() {
            return Ok(None);
        }
        let end = (self.next + DOWNLOAD_PAGE).min(self.ids.len());
        let ids = &self.ids[self.next..end];
        self.next = end;
        Ok(Some(store.download_rows(ids).await?))
    }

    /// The next page of activities as an IATI export gives them (kept XML, else rebuilt), in
    /// the view's order; `None` when every one has been read. A page holds
    /// [`crate::export::EXPORT_PAGE`] activities, whose XML weighs more than a row.
    pub async fn next_activities(
        &mut self,
        store: &Store,
    ) -> Result<Option<Vec<crate::export::ExportedActivity>>, StoreError> {
        if self.next >= self.ids.len() {
            return Ok(None);
        }
        let end = (self.next + crate::export::EXPORT_PAGE as usize).min(self.ids.len());
        let ids = &self.ids[self.next..end];
        self.next = end;
        Ok(Some(store.export_by_ids(ids).await?))
    }
}

impl Store {
    /// Starts a download of everything `query` matches (its page and page size are ignored).
    pub async fn project_download(
        &self,
        query: &ProjectQuery,
    ) -> Result<ProjectDownload, StoreError> {
        Ok(ProjectDownload {
            ids: self.matching_ids(query).await?,
            next: 0,
        })
    }

    /// The latest import run that went in, and the time now.
    pub async fn data_version(&self) -> Result<DataVersion, StoreError> {
        let latest: Option<(i64, Option<String>)> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(
                "SELECT id, finished_at FROM import_run WHERE status = 'ok' \
                 ORDER BY id DESC LIMIT 1",
            )
            .fetch_optional(pool)
            .await
        })
        .map_err(StoreError::query("reading the data version"))?;
        Ok(DataVersion {
            import_run_id: latest.as_ref().map(|run| run.0),
            import_finished_at: latest.and_then(|run| run.1),
            read_at: crate::clock::utc_now(),
        })
    }

    /// The method note of a download.
    pub async fn download_method(&self) -> Result<DownloadMethod, StoreError> {
        let organisation = self.setting(crate::figures::ORGANISATION_REF).await?;
        use crate::method_text::*;
        Ok(DownloadMethod {
            basis: match organisation.as_deref() {
                Some(organisation) => {
                    DOWNLOAD_BASIS_REPORTED.say(&[("organisation", organisation)])
                }
                None => DOWNLOAD_BASIS.say(&[]),
            },
            budget: DOWNLOAD_BUDGET.say(&[]),
            hierarchy_rule: DOWNLOAD_HIERARCHY.say(&[]),
            revised_budget_rule: DOWNLOAD_REVISED.say(&[]),
            conversion: DOWNLOAD_CONVERSION.say(&[]),
            policy_areas: DOWNLOAD_POLICY_AREAS.say(&[]),
            markers: DOWNLOAD_MARKERS.say(&[]),
            partners: DOWNLOAD_PARTNERS.say(&[]),
        })
    }

    /// The rows of `ids`, in the order given.
    async fn download_rows(&self, ids: &[i64]) -> Result<Vec<DownloadRow>, StoreError> {
        let operation = "reading a download's rows";
        let list = id_list(ids);
        type Head = (
            i64,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        #[allow(clippy::type_complexity)]
        let (heads, hand_set, sectors, extras, budgets): (
            Vec<Head>,
            Vec<(i64, String)>,
            Vec<(i64, String)>,
            Vec<(i64, bool, bool, bool, bool)>,
            Vec<BudgetRow>,
        ) = dispatch!(&self.pool, Pool, pool => async {
            Ok::<_, sqlx::Error>((
                sqlx::query_as(&format!(
                    "SELECT a.id, a.iati_identifier, {}, a.status, a.start_date, a.end_date, \
                     a.reporting_org_name FROM activity a WHERE a.id IN ({list})",
                    crate::portal::TITLE
                ))
                .fetch_all(pool).await?,
                sqlx::query_as(&format!(
                    "SELECT a.id, pa.policy_area FROM activity a JOIN activity_policy_area pa \
                     ON pa.activity_identifier = a.iati_identifier WHERE a.id IN ({list})"
                ))
                .fetch_all(pool).await?,
                sqlx::query_as(&format!(
                    "SELECT DISTINCT s.activity_id, s.code FROM sector s \
                     WHERE s.activity_id IN ({list}) AND (s.vocabulary IS NULL OR s.vocabulary = '1')"
                ))
                .fetch_all(pool).await?,
                sqlx::query_as(&format!(
                    "SELECT a.id, x.south_south, x.triangular, x.joint_un, x.mptf FROM activity a \
                     JOIN activity_extra x ON x.activity_identifier = a.iati_identifier \
                     WHERE a.id IN ({list})"
                ))
                .fetch_all(pool).await?,
                sqlx::query_as(&format!(
                    "SELECT l.activity_id, b.type, b.period_start, CAST(l.usd_amount AS TEXT), \
                     l.conversion_status FROM ledger_entry l JOIN budget b ON b.id = l.source_id \
                     WHERE l.kind = 'budget' AND l.source_table = 'budget' \
                     AND l.activity_id IN ({list})"
                ))
                .fetch_all(pool).await?,
            ))
        }.await)
        .map_err(StoreError::query(operation))?;
        let mut countries = self.countries_of(ids).await?;

        let mut areas: HashMap<i64, BTreeSet<String>> = HashMap::new();
        let with_hand_set: BTreeSet<i64> = hand_set.iter().map(|row| row.0).collect();
        for (activity, area) in hand_set {
            areas.entry(activity).or_default().insert(area);
        }
        let map = PolicyAreaMap::bundled();
        for (activity, sector) in sectors {
            if with_hand_set.contains(&activity) {
                continue;
            }
            for area in map.areas_for_sector(sector.trim()) {
                areas
                    .entry(activity)
                    .or_default()
                    .insert(area.code().to_owned());
            }
        }
        let markers: HashMap<i64, Vec<Marker>> = extras
            .into_iter()
            .map(|(activity, south_south, triangular, joint_un, mptf)| {
                let flags = [south_south, triangular, joint_un, mptf];
                let carried = Marker::ALL
                    .iter()
                    .zip(flags)
                    .filter(|(_, flag)| *flag)
                    .map(|(marker, _)| *marker)
                    .collect();
                (activity, carried)
            })
            .collect();
        let budgets = budget_totals(budgets, operation)?;

        let table = Countries::bundled();
        let mut rows: HashMap<i64, DownloadRow> = HashMap::new();
        for (id, identifier, title, status, start_date, end_date, reporting_org) in heads {
            let countries = countries.remove(&id).unwrap_or_default();
            let mut regions: Vec<String> = Vec::new();
            for code in &countries {
                if let Some(country) = table.get(code) {
                    let region = country.region.code().to_owned();
                    if !regions.contains(&region) {
                        regions.push(region);
                    }
                }
            }
            let (budget_usd, budgets_without_rate) =
                budgets.get(&id).copied().unwrap_or((Decimal::ZERO, 0));
            rows.insert(
                id,
                DownloadRow {
                    identifier,
                    title,
                    status,
                    start_date,
                    end_date,
                    countries,
                    regions,
                    policy_areas: areas.remove(&id).unwrap_or_default().into_iter().collect(),
                    markers: markers.get(&id).cloned().unwrap_or_default(),
                    reporting_org,
                    budget_usd,
                    budgets_without_rate,
                },
            );
        }
        // An id whose activity is gone (replaced since the download began) has no row.
        Ok(ids.iter().filter_map(|id| rows.remove(id)).collect())
    }
}

/// A budget's ledger entry: activity, budget type, period start, US dollars, conversion status.
type BudgetRow = (i64, Option<String>, Option<String>, Option<String>, String);

/// Each activity's budget in US dollars and its budgets without a rate, a revised budget
/// replacing the original of the same period start.
fn budget_totals(
    rows: Vec<BudgetRow>,
    operation: &'static str,
) -> Result<HashMap<i64, (Decimal, u64)>, StoreError> {
    let revised: BTreeSet<(i64, Option<String>)> = rows
        .iter()
        .filter(|row| row.1.as_deref() == Some("2"))
        .map(|row| (row.0, row.2.clone()))
        .collect();
    let mut totals: HashMap<i64, (Decimal, u64)> = HashMap::new();
    for (activity, kind, start, usd, status) in rows {
        if kind.as_deref() != Some("2") && revised.contains(&(activity, start)) {
            continue;
        }
        let total = totals.entry(activity).or_insert((Decimal::ZERO, 0));
        match (status.as_str(), usd) {
            ("converted", Some(usd)) => total.0 += parse_decimal(&usd, operation)?,
            _ => total.1 += 1,
        }
    }
    Ok(totals)
}
