//! The rollups behind the headline figures, kept true by every write in the write's own
//! transaction: sums of the agreement ledger for contributions (`contribution_rollup`), and
//! counts of activities by the years they run for the portfolio (`portfolio_rollup`), with
//! each activity's share recorded beside it (`activity.rollup_facts`) so that a replacement
//! subtracts exactly what the activity added. The figures then read a few hundred rows.
//!
//! The periods of the figures are whole calendar years, so a date's year is all a rollup keys
//! on. The figure queries compare dates as text (`date >= '2022-01-01' AND date < '2024-01-01'`);
//! [`period_year`] gives, for any text starting with four digits, the one year whose range holds
//! it by that comparison, so that the rollups and the queries agree on every stored date (the
//! reader stores ISO dates only).
//!
//! Writers gather their changes as deltas in memory ([`ContributionDelta`],
//! [`PortfolioDelta`]) and apply them before they commit: one statement per rollup row touched,
//! not per record.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use coopfolio_core::country::Countries;
use coopfolio_core::policy_area::{PolicyArea, PolicyAreaMap};
use coopfolio_iati::model::Activity;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::sql::{dispatch, Conn};
use crate::stats::parse_decimal;
use crate::{Pool, Store, StoreError};

/// The `end_year` of an activity with no end: later than any period.
pub(crate) const NO_END_YEAR: i32 = 9999;

/// The year `Y` for which `Y-01-01 <= date < (Y+1)-01-01` as text, when the date starts with
/// four digits; `None` otherwise. "2022-05-01" is in 2022; "2022" alone sorts before
/// "2022-01-01" and so, as text, lies in 2021.
pub(crate) fn period_year(date: &str) -> Option<i32> {
    let prefix = date.get(..4)?;
    if !prefix.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let year: i32 = prefix.parse().ok()?;
    if date >= format!("{year:04}-01-01").as_str() {
        Some(year)
    } else {
        Some(year - 1)
    }
}

/// One row of `contribution_rollup`, without its sums.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ContributionKey {
    pub kind: String,
    pub year: i32,
    pub modality: String,
    pub partner_id: i64,
    pub conversion_status: String,
    pub rate_source: String,
    pub usd_scale: u32,
}

/// One agreement ledger entry as the contribution rollup sees it.
pub(crate) struct ContributionEntry<'a> {
    pub kind: &'a str,
    pub date: Option<&'a str>,
    pub modality: &'a str,
    pub partner_id: i64,
    pub conversion_status: &'a str,
    pub rate_source: Option<&'a str>,
    pub usd: Option<Decimal>,
}

/// Changes to `contribution_rollup` waiting for their transaction to apply them.
#[derive(Debug, Default)]
pub(crate) struct ContributionDelta {
    rows: BTreeMap<ContributionKey, (Decimal, i64)>,
}

impl ContributionDelta {
    /// Adds (`sign` 1) or subtracts (`sign` -1) one agreement ledger entry. An entry without a
    /// date is in no period and counts nowhere.
    pub(crate) fn entry(&mut self, entry: &ContributionEntry<'_>, sign: i64) {
        let Some(year) = entry.date.and_then(period_year) else {
            return;
        };
        let converted = entry.conversion_status == "converted";
        let usd = if converted {
            entry.usd.unwrap_or_default()
        } else {
            Decimal::ZERO
        };
        let key = ContributionKey {
            kind: entry.kind.to_owned(),
            year,
            modality: entry.modality.to_owned(),
            partner_id: entry.partner_id,
            conversion_status: entry.conversion_status.to_owned(),
            rate_source: if converted {
                entry.rate_source.unwrap_or_default().to_owned()
            } else {
                String::new()
            },
            usd_scale: usd.scale(),
        };
        let row = self.rows.entry(key).or_default();
        if sign < 0 {
            row.0 -= usd;
        } else {
            row.0 += usd;
        }
        row.1 += sign;
    }

    /// Adds the delta to the rollup inside the caller's transaction. PostgreSQL adds NUMERIC
    /// in the statement; SQLite, whose sums are TEXT, has the row read and added in Rust,
    /// which is safe because a SQLite write transaction holds the database's one write lock.
    pub(crate) async fn apply(self, mut conn: Conn<'_>) -> Result<(), StoreError> {
        let operation = "updating the contribution rollup";
        let backend = conn.backend();
        for (key, (usd, entries)) in self.rows {
            if entries == 0 && usd.is_zero() {
                continue;
            }
            dispatch!(conn.reborrow(), Conn, connection => async {
                let (usd, entries) = if backend == crate::Backend::Sqlite {
                    let stored: Option<(String, i64)> = sqlx::query_as(
                        "SELECT usd, entries FROM contribution_rollup WHERE kind = $1 AND year = $2 \
                         AND modality = $3 AND partner_id = $4 AND conversion_status = $5 \
                         AND rate_source = $6 AND usd_scale = $7",
                    )
                    .bind(&key.kind)
                    .bind(key.year)
                    .bind(&key.modality)
                    .bind(key.partner_id)
                    .bind(&key.conversion_status)
                    .bind(&key.rate_source)
                    .bind(key.usd_scale as i32)
                    .fetch_optional(&mut *connection)
                    .await
                    .map_err(StoreError::query(operation))?;
                    match stored {
                        Some((stored, count)) => (parse_decimal(&stored, operation)? + usd, count + entries),
                        None => (usd, entries),
                    }
                } else {
                    (usd, entries)
                };
                let sql = crate::partnership::for_backend(
                    backend,
                    "INSERT INTO contribution_rollup (kind, year, modality, partner_id, \
                     conversion_status, rate_source, usd_scale, usd, entries) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::numeric, $9) \
                     ON CONFLICT (kind, year, modality, partner_id, conversion_status, rate_source, usd_scale) \
                     DO UPDATE SET usd = EXCLUDED_USD, entries = EXCLUDED_ENTRIES",
                );
                let sql = if backend == crate::Backend::Sqlite {
                    sql.replace("EXCLUDED_USD", "excluded.usd").replace("EXCLUDED_ENTRIES", "excluded.entries")
                } else {
                    sql.replace("EXCLUDED_USD", "contribution_rollup.usd + excluded.usd")
                        .replace("EXCLUDED_ENTRIES", "contribution_rollup.entries + excluded.entries")
                };
                sqlx::query(&sql)
                    .bind(&key.kind)
                    .bind(key.year)
                    .bind(&key.modality)
                    .bind(key.partner_id)
                    .bind(&key.conversion_status)
                    .bind(&key.rate_source)
                    .bind(key.usd_scale as i32)
                    .bind(usd.to_string())
                    .bind(entries)
                    .execute(&mut *connection)
                    .await
                    .map_err(StoreError::query(operation))?;
                Ok::<(), StoreError>(())
            }.await)?;
        }
        Ok(())
    }
}

/// What an activity adds to the portfolio rollup, as stored in `activity.rollup_facts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ActivityFacts {
    /// The reporting organisation's identifier, '' when it has none.
    #[serde(rename = "o")]
    pub organisation: String,
    /// The year of the start (actual, else planned); `None`: never active.
    #[serde(rename = "s")]
    pub start_year: Option<i32>,
    /// The year of the end (actual, else planned); `None`: no end.
    #[serde(rename = "e")]
    pub end_year: Option<i32>,
    /// Recipient countries as the figures read them: trimmed, upper case, each once.
    #[serde(rename = "c")]
    pub countries: Vec<String>,
    /// Policy areas mapped from the DAC sectors (vocabulary 1 or none).
    #[serde(rename = "m")]
    pub mapped_areas: Vec<String>,
    /// Policy areas set by hand, which replace the mapped ones; `None` when none are set.
    #[serde(rename = "h")]
    pub hand_set_areas: Option<Vec<String>>,
}

impl ActivityFacts {
    /// The facts of an activity about to be written, given its start and end dates as stored
    /// and the policy areas set by hand for its identifier.
    pub(crate) fn of(
        activity: &Activity,
        start_date: Option<&str>,
        end_date: Option<&str>,
        hand_set: Vec<String>,
    ) -> ActivityFacts {
        let organisation = activity
            .reporting_org
            .as_ref()
            .and_then(|organisation| organisation.reference.as_deref())
            .unwrap_or_default();
        ActivityFacts::from_parts(
            organisation,
            start_date,
            end_date,
            activity
                .recipient_countries
                .iter()
                .map(|country| country.code.as_str()),
            activity
                .sectors
                .iter()
                .filter(|sector| matches!(sector.vocabulary.as_deref(), None | Some("1")))
                .map(|sector| sector.code.as_str()),
            hand_set,
        )
    }

    /// The facts from stored values: the sectors given are those of vocabulary 1 or none.
    pub(crate) fn from_parts<'a>(
        organisation: &str,
        start_date: Option<&str>,
        end_date: Option<&str>,
        countries: impl Iterator<Item = &'a str>,
        dac_sectors: impl Iterator<Item = &'a str>,
        hand_set: Vec<String>,
    ) -> ActivityFacts {
        let countries: BTreeSet<String> = countries
            .map(|code| code.trim().to_ascii_uppercase())
            .collect();
        let map = PolicyAreaMap::bundled();
        let mapped: BTreeSet<&'static str> = dac_sectors
            .flat_map(|sector| map.areas_for_sector(sector.trim()))
            .map(|area| area.code())
            .collect();
        let mut hand_set = hand_set;
        hand_set.sort();
        hand_set.dedup();
        ActivityFacts {
            organisation: organisation.to_owned(),
            start_year: start_date.and_then(period_year),
            end_year: end_date.and_then(period_year),
            countries: countries.into_iter().collect(),
            mapped_areas: mapped.into_iter().map(str::to_owned).collect(),
            hand_set_areas: (!hand_set.is_empty()).then_some(hand_set),
        }
    }

    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(self).expect("activity facts serialise")
    }

    pub(crate) fn from_json(text: &str, operation: &'static str) -> Result<Self, StoreError> {
        serde_json::from_str(text).map_err(|error| StoreError::InvalidStoredValue {
            operation,
            detail: format!("activity rollup facts {text:?}: {error}"),
        })
    }

    /// The rollup rows the activity counts in, each once.
    fn keys(&self) -> Vec<PortfolioKey> {
        let Some(start_year) = self.start_year else {
            return Vec::new();
        };
        let key = |dimension: &'static str, code: &str| PortfolioKey {
            dimension,
            code: code.to_owned(),
            start_year,
            end_year: self.end_year.unwrap_or(NO_END_YEAR),
            organisation: self.organisation.clone(),
        };
        let mut keys = vec![key("activity", "")];
        let table = Countries::bundled();
        let mut regions = BTreeSet::new();
        for country in &self.countries {
            keys.push(key("country", country));
            if let Some(known) = table.get(country) {
                regions.insert(known.region.code());
            }
        }
        keys.extend(regions.into_iter().map(|region| key("region", region)));
        let areas: BTreeSet<&'static str> = match &self.hand_set_areas {
            Some(hand_set) => hand_set
                .iter()
                .filter_map(|area| area.parse::<PolicyArea>().ok())
                .map(|area| area.code())
                .collect(),
            None => self
                .mapped_areas
                .iter()
                .filter_map(|area| area.parse::<PolicyArea>().ok())
                .map(|area| area.code())
                .collect(),
        };
        keys.extend(areas.into_iter().map(|area| key("policy_area", area)));
        keys
    }
}

/// One row of `portfolio_rollup`, without its count.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PortfolioKey {
    pub dimension: &'static str,
    pub code: String,
    pub start_year: i32,
    pub end_year: i32,
    pub organisation: String,
}

/// Changes to `portfolio_rollup` waiting for their transaction to apply them.
#[derive(Debug, Default)]
pub(crate) struct PortfolioDelta {
    rows: BTreeMap<PortfolioKey, i64>,
}

/// The statement that adds to one `portfolio_rollup` row, the same on both backends.
pub(crate) const PORTFOLIO_UPSERT: &str = "INSERT INTO portfolio_rollup (dimension, code, \
     start_year, end_year, organisation, activities) VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (dimension, code, start_year, end_year, organisation) \
     DO UPDATE SET activities = portfolio_rollup.activities + excluded.activities";

impl PortfolioDelta {
    pub(crate) fn add(&mut self, facts: &ActivityFacts) {
        for key in facts.keys() {
            *self.rows.entry(key).or_default() += 1;
        }
    }

    pub(crate) fn subtract(&mut self, facts: &ActivityFacts) {
        for key in facts.keys() {
            *self.rows.entry(key).or_default() -= 1;
        }
    }

    /// The rows that change, with the change; emptied.
    pub(crate) fn take(&mut self) -> Vec<(PortfolioKey, i64)> {
        std::mem::take(&mut self.rows)
            .into_iter()
            .filter(|(_, change)| *change != 0)
            .collect()
    }

    /// Adds the delta to the rollup inside the caller's transaction; counts are integers,
    /// added in SQL on both backends.
    pub(crate) async fn apply(mut self, mut conn: Conn<'_>) -> Result<(), StoreError> {
        for (key, change) in self.take() {
            dispatch!(conn.reborrow(), Conn, connection => {
                sqlx::query(PORTFOLIO_UPSERT)
                    .bind(key.dimension)
                    .bind(&key.code)
                    .bind(key.start_year)
                    .bind(key.end_year)
                    .bind(&key.organisation)
                    .bind(change)
                    .execute(&mut *connection)
                    .await
                    .map(|_| ())
            })
            .map_err(StoreError::query("updating the portfolio rollup"))?;
        }
        Ok(())
    }
}

/// The setting that says the rollups were built from the records (by [`Store::rebuild_rollups`])
/// and have been kept up to date since; a database made before the rollups existed has none.
const ROLLUPS_BUILT: &str = "rollups_built";

impl Store {
    /// Builds the rollups from the records when the database has never had them built: once,
    /// on the first connection after the migration that added them.
    pub(crate) async fn ensure_rollups(&self) -> Result<(), StoreError> {
        if self.setting(ROLLUPS_BUILT).await?.is_none() {
            self.rebuild_rollups().await?;
        }
        Ok(())
    }

    /// Rebuilds every rollup from the records, in one transaction: what the writers keep up
    /// to date, computed afresh. Reads the whole ledger of agreements and every activity.
    pub async fn rebuild_rollups(&self) -> Result<(), StoreError> {
        let operation = "rebuilding the rollups";
        dispatch!(&self.pool, Pool, pool => {
            let mut tx = pool.begin().await.map_err(StoreError::query(operation))?;
            for table in ["contribution_rollup", "portfolio_rollup"] {
                sqlx::query(&format!("DELETE FROM {table}"))
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::query(operation))?;
            }
            type Entry = (String, Option<String>, Option<String>, i64, Option<String>, Option<String>, String);
            let entries: Vec<Entry> = sqlx::query_as(
                "SELECT kind, date, modality, partner_id, CAST(usd_amount AS TEXT), rate_source, \
                 conversion_status FROM ledger_entry WHERE agreement_id IS NOT NULL \
                 AND partner_id IS NOT NULL",
            )
            .fetch_all(&mut *tx)
            .await
            .map_err(StoreError::query(operation))?;
            let mut contributions = ContributionDelta::default();
            for (kind, date, modality, partner_id, usd, rate_source, status) in &entries {
                let usd = usd.as_deref().map(|usd| parse_decimal(usd, operation)).transpose()?;
                contributions.entry(
                    &ContributionEntry {
                        kind,
                        date: date.as_deref(),
                        modality: modality.as_deref().unwrap_or_default(),
                        partner_id: *partner_id,
                        conversion_status: status,
                        rate_source: rate_source.as_deref(),
                        usd,
                    },
                    1,
                );
            }
            contributions.apply(Conn::from(&mut *tx)).await?;

            type ActivityRow = (i64, String, Option<String>, Option<String>, Option<String>);
            let activities: Vec<ActivityRow> = sqlx::query_as(
                "SELECT id, iati_identifier, reporting_org_ref, start_date, end_date FROM activity",
            )
            .fetch_all(&mut *tx)
            .await
            .map_err(StoreError::query(operation))?;
            let mut countries: HashMap<i64, Vec<String>> = HashMap::new();
            let rows: Vec<(i64, String)> =
                sqlx::query_as("SELECT activity_id, code FROM recipient_country")
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(StoreError::query(operation))?;
            for (activity, code) in rows {
                countries.entry(activity).or_default().push(code);
            }
            let mut sectors: HashMap<i64, Vec<String>> = HashMap::new();
            let rows: Vec<(i64, String)> = sqlx::query_as(
                "SELECT activity_id, code FROM sector WHERE vocabulary IS NULL OR vocabulary = '1'",
            )
            .fetch_all(&mut *tx)
            .await
            .map_err(StoreError::query(operation))?;
            for (activity, code) in rows {
                sectors.entry(activity).or_default().push(code);
            }
            let mut hand_set: HashMap<String, Vec<String>> = HashMap::new();
            let rows: Vec<(String, String)> =
                sqlx::query_as("SELECT activity_identifier, policy_area FROM activity_policy_area")
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(StoreError::query(operation))?;
            for (identifier, area) in rows {
                hand_set.entry(identifier).or_default().push(area);
            }
            let mut portfolio = PortfolioDelta::default();
            for (id, identifier, organisation, start, end) in &activities {
                let facts = ActivityFacts::from_parts(
                    organisation.as_deref().unwrap_or_default(),
                    start.as_deref(),
                    end.as_deref(),
                    countries.get(id).into_iter().flatten().map(String::as_str),
                    sectors.get(id).into_iter().flatten().map(String::as_str),
                    hand_set.remove(identifier).unwrap_or_default(),
                );
                portfolio.add(&facts);
                sqlx::query("UPDATE activity SET rollup_facts = $1 WHERE id = $2")
                    .bind(facts.to_json())
                    .bind(*id)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::query(operation))?;
            }
            portfolio.apply(Conn::from(&mut *tx)).await?;
            sqlx::query(
                "INSERT INTO setting (key, value) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(ROLLUPS_BUILT)
            .bind("1")
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(operation))?;
            tx.commit().await.map_err(StoreError::query(operation))
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_falls_in_the_year_whose_range_holds_it_as_text() {
        assert_eq!(period_year("2022-01-01"), Some(2022));
        assert_eq!(period_year("2023-12-31"), Some(2023));
        assert_eq!(period_year("2022"), Some(2021));
        assert_eq!(period_year("2022-00-15"), Some(2021));
        assert_eq!(period_year("20x2-01-01"), None);
        assert_eq!(period_year(""), None);
    }

    #[test]
    fn hand_set_areas_replace_the_mapped_ones_and_countries_count_once() {
        let mut facts = ActivityFacts::from_parts(
            "XM-1",
            Some("2020-01-01"),
            None,
            ["fr", "FR ", "zz"].into_iter(),
            std::iter::empty(),
            Vec::new(),
        );
        facts.mapped_areas = vec![PolicyArea::ALL[0].code().to_owned()];
        let keys = facts.keys();
        let countries: Vec<&str> = keys
            .iter()
            .filter(|key| key.dimension == "country")
            .map(|key| key.code.as_str())
            .collect();
        assert_eq!(countries, ["FR", "ZZ"]);
        assert!(keys.iter().all(|key| key.end_year == NO_END_YEAR));
        let area = |keys: &[PortfolioKey]| -> Vec<String> {
            keys.iter()
                .filter(|key| key.dimension == "policy_area")
                .map(|key| key.code.clone())
                .collect()
        };
        assert_eq!(area(&keys), [PolicyArea::ALL[0].code()]);
        facts.hand_set_areas = Some(vec![PolicyArea::ALL[1].code().to_owned()]);
        assert_eq!(area(&facts.keys()), [PolicyArea::ALL[1].code()]);
        let mut delta = PortfolioDelta::default();
        delta.add(&facts);
        delta.subtract(&facts);
        assert!(delta.take().is_empty());
    }
}
