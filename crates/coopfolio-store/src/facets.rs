//! The explorer's facet counts: for each filter, how many programmes and projects each of its
//! values would list, given every other filter of the query. A visitor who picks a value gets
//! exactly the count shown beside it, because each count is taken with the same conditions
//! (`portal.rs`, `FilterContext`) that listing with that value would use.
//!
//! Counts that hang on reference data (the ILO region of a country, the policy areas of a DAC
//! sector) are grouped in Rust from (activity, code) pairs, as the figures do; every other
//! count is one GROUP BY.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use coopfolio_core::country::Countries;
use coopfolio_core::policy_area::{PolicyArea, PolicyAreaMap};
use coopfolio_core::reference::Names;
use serde::Serialize;

use crate::figures::Count;
use crate::portal::{marker_condition, Facet, Filter, Marker, ProjectQuery, PROJECT_PARTNERS};
use crate::sql::dispatch;
use crate::{Pool, Store, StoreError};

/// How many years the year facet spans at most, ending with the latest year it shows.
const YEAR_SPAN: i32 = 40;
/// How far past the current year the year facet goes: planned end dates reach far ahead.
const YEARS_AHEAD: i32 = 10;

/// Every facet of a query. A value without any match is left out, except in `markers`, which
/// always has the four.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectFacets {
    /// ISO 3166-1 alpha-2 codes, upper case.
    pub countries: Vec<Count>,
    /// ILO region codes.
    pub regions: Vec<Count>,
    /// Policy area codes.
    pub policy_areas: Vec<Count>,
    /// IATI ActivityStatus codes.
    pub statuses: Vec<Count>,
    /// Years, newest first, each counting what is active in it.
    pub years: Vec<Count>,
    pub partners: Vec<PartnerCount>,
    /// Partner group codes.
    pub partner_groups: Vec<Count>,
    /// Modality codes.
    pub modalities: Vec<Count>,
    /// Marker codes.
    pub markers: Vec<Count>,
}

/// A partner and how many programmes and projects it stands behind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartnerCount {
    pub key: String,
    pub names: Names,
    pub count: u64,
}

impl Store {
    /// The facet counts of `query` (its sort and page do not matter).
    pub async fn project_facets(&self, query: &ProjectQuery) -> Result<ProjectFacets, StoreError> {
        let context = self.filter_context(query).await?;
        let except = |facet: Facet| context.filter(query, Some(facet));

        let filter = except(Facet::Country);
        let countries = self
            .grouped(
                &format!(
                    "SELECT UPPER(TRIM(rc.code)), COUNT(DISTINCT a.id) FROM activity a \
                     JOIN recipient_country rc ON rc.activity_id = a.id {} \
                     GROUP BY UPPER(TRIM(rc.code))",
                    filter.where_clause()
                ),
                &filter,
            )
            .await?;

        let filter = except(Facet::Region);
        let pairs = self
            .pairs(
                &format!(
                    "SELECT DISTINCT a.id, UPPER(TRIM(rc.code)) FROM activity a \
                     JOIN recipient_country rc ON rc.activity_id = a.id {}",
                    filter.where_clause()
                ),
                &filter,
            )
            .await?;
        let table = Countries::bundled();
        let mut regions: BTreeMap<&'static str, BTreeSet<i64>> = BTreeMap::new();
        for (activity, code) in pairs {
            if let Some(country) = table.get(&code) {
                regions
                    .entry(country.region.code())
                    .or_default()
                    .insert(activity);
            }
        }

        let filter = except(Facet::PolicyArea);
        let hand_set = self
            .pairs(
                &format!(
                    "SELECT a.id, pa.policy_area FROM activity a JOIN activity_policy_area pa \
                     ON pa.activity_identifier = a.iati_identifier {}",
                    filter.where_clause()
                ),
                &filter,
            )
            .await?;
        let sectors = self
            .pairs(
                &format!(
                    "SELECT DISTINCT a.id, s.code FROM activity a JOIN sector s \
                     ON s.activity_id = a.id WHERE (s.vocabulary IS NULL OR s.vocabulary = '1') \
                     AND NOT EXISTS (SELECT 1 FROM activity_policy_area pa \
                     WHERE pa.activity_identifier = a.iati_identifier){}",
                    filter.and_clause()
                ),
                &filter,
            )
            .await?;
        // An area set by hand replaces those mapped from sectors, as in the filter itself.
        let mut areas: BTreeMap<&'static str, BTreeSet<i64>> = BTreeMap::new();
        for (activity, code) in hand_set {
            if let Ok(area) = code.parse::<PolicyArea>() {
                areas.entry(area.code()).or_default().insert(activity);
            }
        }
        let map = PolicyAreaMap::bundled();
        for (activity, sector) in sectors {
            for area in map.areas_for_sector(sector.trim()) {
                areas.entry(area.code()).or_default().insert(activity);
            }
        }

        let filter = except(Facet::Status);
        let statuses = self
            .grouped(
                &format!(
                    "SELECT a.status, COUNT(*) FROM activity a {} GROUP BY a.status",
                    filter.where_clause()
                ),
                &filter,
            )
            .await?;

        let filter = except(Facet::Year);
        let spans: Vec<(Option<String>, Option<String>)> = self
            .rows(
                &format!(
                    "SELECT a.start_date, a.end_date FROM activity a \
                     WHERE a.start_date IS NOT NULL{}",
                    filter.and_clause()
                ),
                &filter,
            )
            .await?;
        let years = year_counts(&spans, current_year());

        let filter = except(Facet::Partner);
        type PartnerRow = (String, String, String, String, i64);
        let partner_rows: Vec<PartnerRow> = self
            .rows(
                &format!(
                    "SELECT p.key, p.name_en, p.name_fr, p.name_es, COUNT(DISTINCT a.id) \
                     FROM activity a JOIN {PROJECT_PARTNERS} pp ON pp.activity_id = a.id \
                     JOIN partner p ON p.id = pp.partner_id {} \
                     GROUP BY p.key, p.name_en, p.name_fr, p.name_es",
                    filter.where_clause()
                ),
                &filter,
            )
            .await?;
        let mut partners: Vec<PartnerCount> = partner_rows
            .into_iter()
            .map(|(key, en, fr, es, count)| PartnerCount {
                key,
                names: Names { en, fr, es },
                count: count as u64,
            })
            .collect();
        partners.sort_by(|a, b| a.names.en.cmp(&b.names.en).then(a.key.cmp(&b.key)));

        let filter = except(Facet::PartnerGroup);
        let partner_groups = self
            .grouped(
                &format!(
                    "SELECT p.partner_group, COUNT(DISTINCT a.id) FROM activity a \
                     JOIN {PROJECT_PARTNERS} pp ON pp.activity_id = a.id \
                     JOIN partner p ON p.id = pp.partner_id {} GROUP BY p.partner_group",
                    filter.where_clause()
                ),
                &filter,
            )
            .await?;

        let filter = except(Facet::Modality);
        let modalities = self
            .grouped(
                &format!(
                    "SELECT ag.modality, COUNT(DISTINCT a.id) FROM activity a \
                     JOIN earmark e ON e.target_kind = 'project' AND e.target = a.iati_identifier \
                     JOIN agreement ag ON ag.id = e.agreement_id {} GROUP BY ag.modality",
                    filter.where_clause()
                ),
                &filter,
            )
            .await?;

        let mut markers = Vec::new();
        for marker in Marker::ALL {
            let filter = except(Facet::Marker(marker));
            let counted = self
                .grouped(
                    &format!(
                        "SELECT CAST(NULL AS TEXT), COUNT(*) FROM activity a WHERE {}{}",
                        marker_condition(marker),
                        filter.and_clause()
                    ),
                    &filter,
                )
                .await?;
            markers.push(Count {
                code: marker.code().to_owned(),
                count: counted.first().map_or(0, |count| count.count),
            });
        }

        let sets = |map: BTreeMap<&'static str, BTreeSet<i64>>| -> Vec<Count> {
            map.into_iter()
                .map(|(code, set)| Count {
                    code: code.to_owned(),
                    count: set.len() as u64,
                })
                .collect()
        };
        Ok(ProjectFacets {
            countries,
            regions: sets(regions),
            policy_areas: sets(areas),
            statuses,
            years,
            partners,
            partner_groups,
            modalities,
            markers,
        })
    }

    /// Rows of any shape, with the filter's values bound.
    async fn rows<T>(&self, sql: &str, filter: &Filter) -> Result<Vec<T>, StoreError>
    where
        T: Send
            + Unpin
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        dispatch!(&self.pool, Pool, pool => {
            let mut query = sqlx::query_as(sql);
            for value in &filter.binds {
                query = query.bind(value);
            }
            query.fetch_all(pool).await
        })
        .map_err(StoreError::query("counting the explorer's facets"))
    }

    /// (activity, code) pairs.
    async fn pairs(&self, sql: &str, filter: &Filter) -> Result<Vec<(i64, String)>, StoreError> {
        self.rows(sql, filter).await
    }

    /// (code, count) rows as counts, the largest first, without a NULL code (the count of
    /// records that give no value).
    async fn grouped(&self, sql: &str, filter: &Filter) -> Result<Vec<Count>, StoreError> {
        let rows: Vec<(Option<String>, i64)> = self.rows(sql, filter).await?;
        let mut counts: HashMap<String, u64> = HashMap::new();
        for (code, count) in rows {
            // The marker counts have no code; they are kept under an empty one.
            *counts.entry(code.unwrap_or_default()).or_default() += count as u64;
        }
        let mut counts: Vec<Count> = counts
            .into_iter()
            .filter(|(_, count)| *count > 0)
            .map(|(code, count)| Count { code, count })
            .collect();
        counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.code.cmp(&b.code)));
        Ok(counts)
    }
}

/// How many of the (start, end) spans are active in each year, newest year first. The years
/// run from the earliest start to the latest end (an open end runs to the latest year shown),
/// at most [`YEAR_SPAN`] of them and no further than [`YEARS_AHEAD`] past `this_year`.
fn year_counts(spans: &[(Option<String>, Option<String>)], this_year: i32) -> Vec<Count> {
    let year = |date: &Option<String>| -> Option<i32> {
        date.as_deref()
            .and_then(|date| date.get(..4))
            .and_then(|year| year.parse().ok())
    };
    let parsed: Vec<(i32, Option<i32>)> = spans
        .iter()
        .filter_map(|(start, end)| Some((year(start)?, year(end))))
        .filter(|(start, end)| end.is_none_or(|end| end >= *start))
        .collect();
    let Some(latest_data) = parsed
        .iter()
        .map(|(start, end)| end.unwrap_or(*start).max(*start))
        .max()
    else {
        return Vec::new();
    };
    let last = latest_data.min(this_year + YEARS_AHEAD);
    let earliest = parsed.iter().map(|(start, _)| *start).min().unwrap_or(last);
    let first = earliest.max(last - YEAR_SPAN + 1);
    let mut counts: BTreeMap<i32, u64> = BTreeMap::new();
    for (start, end) in parsed {
        for active in start.max(first)..=end.unwrap_or(last).min(last) {
            *counts.entry(active).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .rev()
        .map(|(year, count)| Count {
            code: year.to_string(),
            count,
        })
        .collect()
}

fn current_year() -> i32 {
    crate::clock::utc_now()
        .get(..4)
        .and_then(|year| year.parse().ok())
        .unwrap_or(2026)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: &str, end: Option<&str>) -> (Option<String>, Option<String>) {
        (Some(start.to_owned()), end.map(str::to_owned))
    }

    #[test]
    fn a_year_counts_what_is_active_in_it() {
        let spans = [
            span("2020-03-01", Some("2022-06-30")),
            span("2021-01-01", None),
            span("2023-05-01", Some("2023-12-31")),
        ];
        let counts = year_counts(&spans, 2023);
        let pairs: Vec<(&str, u64)> = counts
            .iter()
            .map(|count| (count.code.as_str(), count.count))
            .collect();
        assert_eq!(pairs, [("2023", 2), ("2022", 2), ("2021", 2), ("2020", 1)]);
    }

    #[test]
    fn far_planned_ends_and_old_starts_are_clipped() {
        let spans = [span("1950-01-01", Some("2099-12-31"))];
        let counts = year_counts(&spans, 2026);
        assert_eq!(counts.first().unwrap().code, "2036");
        assert_eq!(counts.len(), YEAR_SPAN as usize);
    }
}
