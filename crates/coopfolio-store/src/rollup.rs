//! The rollups behind the headline figures, kept true by every write in the write's own
//! transaction: sums of the agreement ledger for contributions (`contribution_rollup`), and
//! counts of activities by the years they run for the portfolio (`portfolio_rollup`), with
//! each activity's share recorded beside it (`activity.rollup_facts`) so that a replacement
//! subtracts exactly what the activity added; and sums of the budget entries that the portfolio
//! budget counts (`budget_rollup`), with each activity's sums beside it (`activity.budget_facts`)
//! and whether they count (`activity.budget_counted`: no parent programme of it is stored),
//! which an import settles for its activities and their children at commit. The figures then
//! read a few hundred rows.
//!
//! The periods of the figures are whole calendar years, so a date's year is all a rollup keys
//! on. The figure queries compare dates as text (`date >= '2022-01-01' AND date < '2024-01-01'`);
//! [`period_year`] gives, for any text starting with four digits, the one year whose range holds
//! it by that comparison, so that the rollups and the queries agree on every stored date (the
//! reader stores ISO dates only).
//!
//! Writers gather their changes as deltas in memory ([`ContributionDelta`],
//! [`PortfolioDelta`], [`BudgetDelta`]) and apply them before they commit: one statement per
//! rollup row touched, not per record.

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

    /// Adds the delta to the rollup inside the caller's transaction ([`add_to_sums`]).
    pub(crate) async fn apply(self, mut conn: Conn<'_>) -> Result<(), StoreError> {
        for (key, (usd, entries)) in self.rows {
            if entries == 0 && usd.is_zero() {
                continue;
            }
            let values = [
                KeyValue::Text(&key.kind),
                KeyValue::Integer(key.year.into()),
                KeyValue::Text(&key.modality),
                KeyValue::Integer(key.partner_id),
                KeyValue::Text(&key.conversion_status),
                KeyValue::Text(&key.rate_source),
                KeyValue::Integer(key.usd_scale.into()),
            ];
            add_to_sums(
                conn.reborrow(),
                &CONTRIBUTION_SUMS,
                &values,
                (usd, entries),
                "updating the contribution rollup",
            )
            .await?;
        }
        Ok(())
    }
}

/// A rollup of sums: its table and key columns; each row holds `usd` (the exact sum) and
/// `entries` (how many entries it sums).
pub(crate) struct Sums {
    table: &'static str,
    key: &'static [&'static str],
}

const CONTRIBUTION_SUMS: Sums = Sums {
    table: "contribution_rollup",
    key: &[
        "kind",
        "year",
        "modality",
        "partner_id",
        "conversion_status",
        "rate_source",
        "usd_scale",
    ],
};

pub(crate) const BUDGET_SUMS: Sums = Sums {
    table: "budget_rollup",
    key: &[
        "year",
        "organisation",
        "conversion_status",
        "rate_source",
        "usd_scale",
    ],
};

impl Sums {
    /// The SELECT of a row's sums by its key, `$1`...
    pub(crate) fn read_sql(&self) -> String {
        let condition: Vec<String> = self
            .key
            .iter()
            .enumerate()
            .map(|(index, column)| format!("{column} = ${}", index + 1))
            .collect();
        format!(
            "SELECT usd, entries FROM {} WHERE {}",
            self.table,
            condition.join(" AND ")
        )
    }

    /// The upsert of a row, its key then `usd` and `entries` bound in order: on SQLite it sets
    /// the sums (read and added in Rust), on PostgreSQL it adds to them.
    pub(crate) fn upsert_sql(&self, backend: crate::Backend) -> String {
        let columns = self.key.len();
        let placeholders: Vec<String> = (1..=columns).map(|index| format!("${index}")).collect();
        let sums = match backend {
            crate::Backend::Sqlite => "usd = excluded.usd, entries = excluded.entries".to_owned(),
            crate::Backend::Postgres => format!(
                "usd = {table}.usd + excluded.usd, entries = {table}.entries + excluded.entries",
                table = self.table
            ),
        };
        crate::partnership::for_backend(
            backend,
            &format!(
                "INSERT INTO {table} ({key}, usd, entries) VALUES ({placeholders}, ${usd}::numeric, \
                 ${entries}) ON CONFLICT ({key}) DO UPDATE SET {sums}",
                table = self.table,
                key = self.key.join(", "),
                placeholders = placeholders.join(", "),
                usd = columns + 1,
                entries = columns + 2,
            ),
        )
    }
}

/// A key column's value.
pub(crate) enum KeyValue<'a> {
    Text(&'a str),
    Integer(i64),
}

/// Adds `(usd, entries)` to one row of a rollup of sums inside the caller's transaction.
/// PostgreSQL adds NUMERIC in the statement; SQLite, whose sums are TEXT, has the row read and
/// added in Rust, which is safe because a SQLite write transaction holds the database's one
/// write lock.
async fn add_to_sums(
    mut conn: Conn<'_>,
    sums: &Sums,
    key: &[KeyValue<'_>],
    (usd, entries): (Decimal, i64),
    operation: &'static str,
) -> Result<(), StoreError> {
    let backend = conn.backend();
    let read = sums.read_sql();
    let upsert = sums.upsert_sql(backend);
    dispatch!(conn.reborrow(), Conn, connection => async {
        let (usd, entries) = if backend == crate::Backend::Sqlite {
            let mut query = sqlx::query_as(&read);
            for value in key {
                query = match value {
                    KeyValue::Text(text) => query.bind(*text),
                    KeyValue::Integer(integer) => query.bind(*integer),
                };
            }
            let stored: Option<(String, i64)> = query
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
        let mut query = sqlx::query(&upsert);
        for value in key {
            query = match value {
                KeyValue::Text(text) => query.bind(*text),
                KeyValue::Integer(integer) => query.bind(*integer),
            };
        }
        query
            .bind(usd.to_string())
            .bind(entries)
            .execute(&mut *connection)
            .await
            .map_err(StoreError::query(operation))?;
        Ok::<(), StoreError>(())
    }.await)
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

/// One budget ledger entry as the budget rollup sees it: the budget's type and period start,
/// and the entry's conversion. Only budgets with a value have an entry.
pub(crate) struct BudgetLine<'a> {
    pub kind: Option<&'a str>,
    pub period_start: Option<&'a str>,
    pub conversion_status: &'a str,
    pub rate_source: Option<&'a str>,
    pub usd: Option<Decimal>,
}

/// What an activity's budgets add to `budget_rollup` while it counts, as stored in
/// `activity.budget_facts`: its reporting organisation and its sums by year, conversion status,
/// rate source and scale, after the revised-budget rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BudgetFacts {
    /// The reporting organisation's identifier, '' when it has none.
    #[serde(rename = "o")]
    pub organisation: String,
    #[serde(rename = "b")]
    pub sums: Vec<BudgetSum>,
}

/// One sum of an activity's budgets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BudgetSum {
    #[serde(rename = "y")]
    pub year: i32,
    #[serde(rename = "s")]
    pub conversion_status: String,
    /// '' when not converted.
    #[serde(rename = "r")]
    pub rate_source: String,
    /// The exact decimal, its scale that of the amounts summed.
    #[serde(rename = "u")]
    pub usd: String,
    #[serde(rename = "n")]
    pub entries: i64,
}

impl BudgetFacts {
    /// The facts of an activity's budget entries; `None` when nothing of them would count in
    /// any period. A revised budget (type 2) replaces the originals of the same period start,
    /// and a budget whose period start has no year is in no period, as the figure's query
    /// compares dates as text ([`period_year`]).
    pub(crate) fn of_lines(organisation: &str, lines: &[BudgetLine<'_>]) -> Option<BudgetFacts> {
        let revised: BTreeSet<Option<&str>> = lines
            .iter()
            .filter(|line| line.kind == Some("2"))
            .map(|line| line.period_start)
            .collect();
        let mut sums: BTreeMap<(i32, &str, &str, u32), (Decimal, i64)> = BTreeMap::new();
        for line in lines {
            if line.kind != Some("2") && revised.contains(&line.period_start) {
                continue;
            }
            let Some(year) = line.period_start.and_then(period_year) else {
                continue;
            };
            // A converted entry always carries its dollars (every writer sets them together);
            // one without would be withheld, never counted as zero.
            let (status, source, usd) = match (line.conversion_status, line.usd) {
                ("converted", Some(usd)) => {
                    ("converted", line.rate_source.unwrap_or_default(), usd)
                }
                ("converted", None) => ("no_usd", "", Decimal::ZERO),
                (status, _) => (status, "", Decimal::ZERO),
            };
            let sum = sums.entry((year, status, source, usd.scale())).or_default();
            sum.0 += usd;
            sum.1 += 1;
        }
        (!sums.is_empty()).then(|| BudgetFacts {
            organisation: organisation.to_owned(),
            sums: sums
                .into_iter()
                .map(|((year, status, source, _), (usd, entries))| BudgetSum {
                    year,
                    conversion_status: status.to_owned(),
                    rate_source: source.to_owned(),
                    usd: usd.to_string(),
                    entries,
                })
                .collect(),
        })
    }

    /// The facts of an activity about to be written, from its budgets as the writers derive
    /// their ledger entries ([`ledger_conversion`](crate::import::ledger_conversion)).
    pub(crate) fn of_activity(activity: &Activity) -> Option<BudgetFacts> {
        let organisation = activity
            .reporting_org
            .as_ref()
            .and_then(|organisation| organisation.reference.as_deref())
            .unwrap_or_default();
        let lines: Vec<BudgetLine<'_>> = activity
            .budgets
            .iter()
            .filter_map(|budget| {
                let value = budget.value.as_ref()?;
                let (usd, _, _, rate_source, conversion_status) = crate::import::ledger_conversion(
                    "",
                    value.currency.as_deref(),
                    budget.period_start.as_deref(),
                );
                Some(BudgetLine {
                    kind: budget.kind.as_deref(),
                    period_start: budget.period_start.as_deref(),
                    conversion_status,
                    rate_source,
                    usd: usd.map(|_| value.amount),
                })
            })
            .collect();
        BudgetFacts::of_lines(organisation, &lines)
    }

    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(self).expect("budget facts serialise")
    }

    pub(crate) fn from_json(text: &str, operation: &'static str) -> Result<Self, StoreError> {
        serde_json::from_str(text).map_err(|error| StoreError::InvalidStoredValue {
            operation,
            detail: format!("activity budget facts {text:?}: {error}"),
        })
    }
}

/// One row of `budget_rollup`, without its sums.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct BudgetKey {
    pub year: i32,
    pub organisation: String,
    pub conversion_status: String,
    pub rate_source: String,
    pub usd_scale: u32,
}

/// Changes to `budget_rollup` waiting for their transaction to apply them.
#[derive(Debug, Default)]
pub(crate) struct BudgetDelta {
    rows: BTreeMap<BudgetKey, (Decimal, i64)>,
}

/// Turns around the `budget_counted` flag of every activity written by import run `$1`, and of
/// every child of one, whose flag no longer says whether it counts (whether no parent programme
/// of it is stored), returning the facts and the new flag of each: what the rollup gains or
/// loses. The run's activities are written with the flag down and their budgets outside the
/// rollup, and a replaced activity's share left with it, so this one statement settles the
/// parent rule for everything a file changed: a parent stored (new or again) and a child
/// stored, in either order, in this file or an earlier one.
pub(crate) const BUDGET_COUNTED_SQL: &str = concat!(
    "UPDATE activity SET budget_counted = NOT budget_counted WHERE ",
    budget_flag_to_turn!(),
    " RETURNING budget_facts, budget_counted"
);

/// The activities whose flag [`BUDGET_COUNTED_SQL`] turns around, with their facts and the new
/// flag, read without changing them. SQLite gathers a RETURNING clause's rows in memory
/// before it hands over the first, which for a file of a gigabyte was some 40 MB of facts; its
/// import writer reads these instead and turns the flags by id.
pub(crate) const BUDGET_FLAGS_TO_TURN_SQL: &str = concat!(
    "SELECT id, budget_facts, NOT budget_counted FROM activity WHERE ",
    budget_flag_to_turn!()
);

/// The condition on `activity` of the two statements above: written by run `$1` or a child of
/// an activity it wrote, and flagged otherwise than whether a parent of it is stored.
macro_rules! budget_flag_to_turn {
    () => {
        "id IN (SELECT id FROM activity WHERE import_run_id = $1 \
          UNION SELECT r.activity_id FROM activity parent JOIN related_activity r \
          ON r.iati_identifier = parent.iati_identifier AND r.type = '1' \
          WHERE parent.import_run_id = $1) \
         AND budget_counted = EXISTS (SELECT 1 FROM related_activity r \
          JOIN activity parent ON parent.iati_identifier = r.iati_identifier \
          WHERE r.activity_id = activity.id AND r.type = '1')"
    };
}
use budget_flag_to_turn;

/// The related-activity type of a parent programme (RelatedActivityType 1): `r.type` in the
/// condition above.
pub(crate) const PARENT: &str = "1";

/// The key of the PostgreSQL advisory lock that writers of the budget rollup take for the
/// last statements before they commit and hold until then. Whether a child counts depends on
/// another row (its parent), which a concurrent import may be writing: each settles the parent
/// rule under the lock, in its own statement's snapshot (READ COMMITTED), so the later of two
/// imports sees the other's commit and settles the pair. An import that re-imports a child
/// while another re-imports its parent can still meet the other's row lock under this lock;
/// PostgreSQL then ends one of them as a deadlock, and that file's transaction rolls back whole.
const BUDGET_LOCK: i64 = 0x636f_6f70_6275_6467;

/// Takes the budget rollup's lock for the rest of the transaction on PostgreSQL; SQLite's
/// write transaction holds the database's one write lock already.
pub(crate) async fn lock_budget_rollup(mut conn: Conn<'_>) -> Result<(), StoreError> {
    if let Conn::Postgres(connection) = conn.reborrow() {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(BUDGET_LOCK)
            .execute(&mut *connection)
            .await
            .map_err(StoreError::query("locking the budget rollup"))?;
    }
    Ok(())
}

impl BudgetDelta {
    /// Adds or subtracts the facts as stored in `activity.budget_facts` (NULL: nothing).
    pub(crate) fn stored(
        &mut self,
        facts: Option<&str>,
        sign: i64,
        operation: &'static str,
    ) -> Result<(), StoreError> {
        match facts {
            Some(facts) => self.change(&BudgetFacts::from_json(facts, operation)?, sign),
            None => Ok(()),
        }
    }

    /// Adds the facts of an activity written as counted.
    pub(crate) fn add(&mut self, facts: &BudgetFacts) -> Result<(), StoreError> {
        self.change(facts, 1)
    }

    fn change(&mut self, facts: &BudgetFacts, sign: i64) -> Result<(), StoreError> {
        for sum in &facts.sums {
            let usd = parse_decimal(&sum.usd, "reading an activity's budget facts")?;
            let key = BudgetKey {
                year: sum.year,
                organisation: facts.organisation.clone(),
                conversion_status: sum.conversion_status.clone(),
                rate_source: sum.rate_source.clone(),
                usd_scale: usd.scale(),
            };
            let row = self.rows.entry(key).or_default();
            if sign < 0 {
                row.0 -= usd;
                row.1 -= sum.entries;
            } else {
                row.0 += usd;
                row.1 += sum.entries;
            }
        }
        Ok(())
    }

    /// The rows that change, with the change; emptied.
    pub(crate) fn take(&mut self) -> Vec<(BudgetKey, Decimal, i64)> {
        std::mem::take(&mut self.rows)
            .into_iter()
            .filter(|(_, (usd, entries))| *entries != 0 || !usd.is_zero())
            .map(|(key, (usd, entries))| (key, usd, entries))
            .collect()
    }

    /// Adds the delta to the rollup inside the caller's transaction ([`add_to_sums`]).
    pub(crate) async fn apply(mut self, mut conn: Conn<'_>) -> Result<(), StoreError> {
        for (key, usd, entries) in self.take() {
            let values = [
                KeyValue::Integer(key.year.into()),
                KeyValue::Text(&key.organisation),
                KeyValue::Text(&key.conversion_status),
                KeyValue::Text(&key.rate_source),
                KeyValue::Integer(key.usd_scale.into()),
            ];
            add_to_sums(
                conn.reborrow(),
                &BUDGET_SUMS,
                &values,
                (usd, entries),
                "updating the budget rollup",
            )
            .await?;
        }
        Ok(())
    }

    /// Settles the parent rule for import run `import_run_id` ([`BUDGET_COUNTED_SQL`]) and
    /// applies the delta, inside the run's transaction.
    pub(crate) async fn settle_and_apply(
        mut self,
        mut conn: Conn<'_>,
        import_run_id: i64,
    ) -> Result<(), StoreError> {
        let operation = "counting the budgets of imported activities";
        lock_budget_rollup(conn.reborrow()).await?;
        let flipped: Vec<(Option<String>, bool)> = dispatch!(conn.reborrow(), Conn, connection => {
            sqlx::query_as(BUDGET_COUNTED_SQL)
                .bind(import_run_id)
                .fetch_all(&mut *connection)
                .await
        })
        .map_err(StoreError::query(operation))?;
        for (facts, counted) in &flipped {
            self.stored(facts.as_deref(), if *counted { 1 } else { -1 }, operation)?;
        }
        self.apply(conn).await
    }
}

/// Which activities [`refresh_budget_facts`] reads.
pub(crate) enum ActivitySelection<'a> {
    /// Activities with ids in `[from, to)`.
    Range(i64, i64),
    Ids(&'a [i64]),
}

/// Computes the budget facts of the selected activities afresh from their stored budgets and
/// ledger entries, stores the ones that changed, and puts the change of those that count in
/// `delta`. With `rebuild`, the stored facts are taken to count for nothing (the rollup was
/// emptied) and every activity with facts is written.
pub(crate) async fn refresh_budget_facts(
    mut conn: Conn<'_>,
    selection: ActivitySelection<'_>,
    rebuild: bool,
    delta: &mut BudgetDelta,
) -> Result<(), StoreError> {
    let operation = "computing the budget facts of activities";
    let backend = conn.backend();
    let condition = match &selection {
        ActivitySelection::Range(..) => "a.id >= $1 AND a.id < $2".to_owned(),
        ActivitySelection::Ids(ids) => {
            format!("a.id IN ({})", crate::sql::placeholders(backend, ids.len()))
        }
    };
    let activities_sql = format!(
        "SELECT a.id, a.reporting_org_ref, a.budget_facts, a.budget_counted FROM activity a \
         WHERE {condition}"
    );
    let lines_sql = format!(
        "SELECT a.id, b.type, b.period_start, l.conversion_status, l.rate_source, \
         CAST(l.usd_amount AS TEXT) FROM activity a JOIN ledger_entry l ON l.activity_id = a.id \
         JOIN budget b ON b.id = l.source_id WHERE {condition} AND l.kind = 'budget' \
         AND l.source_table = 'budget'"
    );
    type ActivityRow = (i64, Option<String>, Option<String>, bool);
    type LineRow = (
        i64,
        Option<String>,
        Option<String>,
        String,
        Option<String>,
        Option<String>,
    );
    let (activities, lines): (Vec<ActivityRow>, Vec<LineRow>) =
        dispatch!(conn.reborrow(), Conn, connection => async {
            let mut activities = sqlx::query_as(&activities_sql);
            let mut lines = sqlx::query_as(&lines_sql);
            match &selection {
                ActivitySelection::Range(from, to) => {
                    activities = activities.bind(*from).bind(*to);
                    lines = lines.bind(*from).bind(*to);
                }
                ActivitySelection::Ids(ids) => {
                    for id in *ids {
                        activities = activities.bind(*id);
                        lines = lines.bind(*id);
                    }
                }
            }
            let activities: Vec<ActivityRow> = activities.fetch_all(&mut *connection).await?;
            let lines: Vec<LineRow> = lines.fetch_all(&mut *connection).await?;
            Ok::<_, sqlx::Error>((activities, lines))
        }.await)
        .map_err(StoreError::query(operation))?;
    let mut by_activity: HashMap<i64, Vec<BudgetLine<'_>>> = HashMap::new();
    for (id, kind, start, status, source, usd) in &lines {
        by_activity.entry(*id).or_default().push(BudgetLine {
            kind: kind.as_deref(),
            period_start: start.as_deref(),
            conversion_status: status,
            rate_source: source.as_deref(),
            usd: usd
                .as_deref()
                .map(|usd| parse_decimal(usd, operation))
                .transpose()?,
        });
    }
    for (id, organisation, stored, counted) in &activities {
        let facts = by_activity.get(id).and_then(|lines| {
            BudgetFacts::of_lines(organisation.as_deref().unwrap_or_default(), lines)
        });
        let facts = facts.as_ref().map(BudgetFacts::to_json);
        if !rebuild && facts == *stored {
            continue;
        }
        if *counted {
            if !rebuild {
                delta.stored(stored.as_deref(), -1, operation)?;
            }
            delta.stored(facts.as_deref(), 1, operation)?;
        }
        if facts != *stored {
            dispatch!(conn.reborrow(), Conn, connection => {
                sqlx::query("UPDATE activity SET budget_facts = $1 WHERE id = $2")
                    .bind(facts.as_deref())
                    .bind(*id)
                    .execute(&mut *connection)
                    .await
                    .map(|_| ())
            })
            .map_err(StoreError::query(operation))?;
        }
    }
    Ok(())
}

/// Brings PostgreSQL's statistics of the tables [`refresh_budget_facts`] joins up to date
/// before many activities are refreshed. Right after a bulk load (the demo, a large import
/// followed by `reconvert_ledger`) the planner may still take the ledger for empty and join
/// each chunk of activities against every budget entry: 48 s a chunk at scale 100, against
/// 25 ms once analysed. ANALYZE reads a sample of fixed size, a few seconds at most.
pub(crate) async fn analyze_for_budget_facts(mut conn: Conn<'_>) -> Result<(), StoreError> {
    if let Conn::Postgres(connection) = conn.reborrow() {
        sqlx::query("ANALYZE activity, ledger_entry, budget")
            .execute(&mut *connection)
            .await
            .map_err(StoreError::query("analysing the ledger's tables"))?;
    }
    Ok(())
}

/// Activities per statement when the budget facts are computed again: a few thousand rows of
/// budgets at a time, and well under either backend's limit of bound values.
pub(crate) const BUDGET_FACTS_CHUNK: usize = 500;

/// The setting that says the budget rollup was built from the records and has been kept up to
/// date since; a database made before migration 0013 has none.
const BUDGET_ROLLUP_BUILT: &str = "budget_rollup_built";

/// Activities per range when the budget rollup is rebuilt: the budgets of a range are read at
/// once, so memory stays that of a few thousand activities whatever the size of the portfolio.
const REBUILD_RANGE: i64 = 4096;

/// Empties the budget rollup and builds it again from the records inside the caller's
/// transaction: every activity's flag from its stored parents, its facts from its budgets and
/// ledger entries, range by range of ids; then records that it was built.
async fn rebuild_budget_rollup(mut conn: Conn<'_>) -> Result<(), StoreError> {
    let operation = "rebuilding the budget rollup";
    lock_budget_rollup(conn.reborrow()).await?;
    let (first, last): (Option<i64>, Option<i64>) = dispatch!(conn.reborrow(), Conn, connection => async {
        sqlx::query("DELETE FROM budget_rollup").execute(&mut *connection).await?;
        sqlx::query(
            "UPDATE activity SET budget_counted = NOT EXISTS (SELECT 1 FROM related_activity r \
             JOIN activity parent ON parent.iati_identifier = r.iati_identifier \
             WHERE r.activity_id = activity.id AND r.type = '1')",
        )
        .execute(&mut *connection)
        .await?;
        let bounds: (Option<i64>, Option<i64>) = sqlx::query_as("SELECT MIN(id), MAX(id) FROM activity")
            .fetch_one(&mut *connection)
            .await?;
        Ok::<_, sqlx::Error>(bounds)
    }.await)
    .map_err(StoreError::query(operation))?;
    analyze_for_budget_facts(conn.reborrow()).await?;
    let mut delta = BudgetDelta::default();
    if let (Some(first), Some(last)) = (first, last) {
        let mut from = first;
        while from <= last {
            let to = from.saturating_add(REBUILD_RANGE);
            refresh_budget_facts(
                conn.reborrow(),
                ActivitySelection::Range(from, to),
                true,
                &mut delta,
            )
            .await?;
            from = to;
        }
    }
    delta.apply(conn.reborrow()).await?;
    dispatch!(conn, Conn, connection => {
        sqlx::query(
            "INSERT INTO setting (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(BUDGET_ROLLUP_BUILT)
        .bind("1")
        .execute(&mut *connection)
        .await
        .map(|_| ())
    })
    .map_err(StoreError::query(operation))?;
    Ok(())
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
        } else if self.setting(BUDGET_ROLLUP_BUILT).await?.is_none() {
            // A database whose other rollups predate the budget rollup (migration 0013).
            self.rebuild_budget_rollup().await?;
        }
        Ok(())
    }

    /// Rebuilds the budget rollup alone from the records, in one transaction.
    pub async fn rebuild_budget_rollup(&self) -> Result<(), StoreError> {
        let operation = "rebuilding the budget rollup";
        dispatch!(&self.pool, Pool, pool => {
            let mut tx = pool.begin().await.map_err(StoreError::query(operation))?;
            rebuild_budget_rollup(Conn::from(&mut *tx)).await?;
            tx.commit().await.map_err(StoreError::query(operation))
        })?;
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
            rebuild_budget_rollup(Conn::from(&mut *tx)).await?;
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
