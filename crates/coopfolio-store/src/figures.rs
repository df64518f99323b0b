//! The figures the product shows, each computed from the records when it is asked for and
//! returned with its method note: what was counted, over which days, how it was converted and
//! what was withheld. The definitions are the contract written in `coopfolio-demo`'s `lib.rs`:
//!
//! * contributions on the **approved** basis are the agreement ledger's `commitment` entries
//!   (one per partner share of a signed, active or closed agreement, at the signature date), on
//!   the **received** basis its `receipt` entries (instalments received, at the received date);
//!   voluntary modalities only; the regular budget is shown apart, never in these totals;
//! * a contributor ranking credits each share to the contributor its partner rolls up into;
//! * programmes and projects are active in a period when they start by its last day and end on
//!   or after its first day, or have no end; countries reached are their recipient countries.
//!
//! Sums are exact: PostgreSQL adds NUMERIC in SQL; SQLite would add TEXT as floats, so there the
//! amounts are read out and added with `rust_decimal`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use coopfolio_core::country::{Countries, IloRegion};
use coopfolio_core::modality::Modality;
use coopfolio_core::partner_group::PartnerGroup;
use coopfolio_core::period::{Period, PeriodRule};
use coopfolio_core::policy_area::PolicyAreaMap;
use coopfolio_core::reference::Names;
use coopfolio_core::rollup::Rollups;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::method_text;
use crate::rollup::{
    analyze_for_budget_facts, lock_budget_rollup, refresh_budget_facts, ActivitySelection,
    BudgetDelta, ContributionDelta, ContributionEntry, BUDGET_FACTS_CHUNK,
};
use crate::sql::{dispatch, Conn};
use crate::stats::parse_decimal;
use crate::{Pool, Store, StoreError};

/// The setting that pairs years into bienniums: "true" (2022-23) or "false" (2021-22).
pub const BIENNIUM_STARTS_EVEN: &str = "biennium_starts_even";
/// The setting naming the organisation whose activities make the portfolio (an IATI
/// organisation identifier); without it every stored activity counts.
pub const ORGANISATION_REF: &str = "organisation_ref";

/// Which money a contribution figure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Agreements signed, active or closed, at their signature date.
    Approved,
    /// Instalments received, at the date they arrived.
    Received,
}

impl Basis {
    fn ledger_kind(self) -> &'static str {
        match self {
            Basis::Approved => "commitment",
            Basis::Received => "receipt",
        }
    }
}

/// An agreement ledger entry left out for want of a rate: agreement key, partner key,
/// confidential, date, amount as given, currency.
type Unconverted = (String, String, bool, Option<String>, String, Option<String>);

/// A figure and how it was computed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure<T> {
    pub value: T,
    pub method: MethodNote,
}

/// How a figure was computed, in terms a reader can check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodNote {
    /// What is counted, in a sentence.
    pub basis: String,
    /// "2022-23" or "2022".
    pub period: String,
    pub first_day: String,
    pub last_day: String,
    /// The modalities included, by code.
    pub modalities: Vec<&'static str>,
    /// The partner groups included, by code.
    pub partner_groups: Vec<&'static str>,
    pub hierarchy_rule: String,
    pub revised_budget_rule: String,
    pub conversion: ConversionNote,
    pub withheld: Withheld,
}

/// How amounts were converted to US dollars.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConversionNote {
    pub rule: String,
    /// The rate sources of the entries counted.
    pub sources: Vec<String>,
    /// Entries counted, all converted.
    pub entries_converted: u64,
    /// Entries left out because no rate could convert them.
    pub entries_without_rate: u64,
}

/// What a figure leaves out or does not itemise.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Withheld {
    /// Entries that would count but have no rate: listed, never counted as zero.
    pub without_rate: Vec<WithheldEntry>,
    /// Confidential agreements counted in the totals but never itemised.
    pub confidential_agreements: u64,
    pub note: String,
}

/// One entry left out for want of a rate. A confidential agreement's entry is listed without
/// its agreement or partner.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WithheldEntry {
    pub agreement: Option<String>,
    pub partner: Option<String>,
    pub date: Option<String>,
    pub amount: String,
    pub currency: Option<String>,
}

/// Voluntary contributions of a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contributions {
    #[serde(serialize_with = "cents")]
    pub total_usd: Decimal,
    pub by_modality: Vec<Amount>,
    pub by_partner_group: Vec<Amount>,
    /// By modality × partner group, both codes as "modality/partner_group".
    pub by_modality_and_partner_group: Vec<Amount>,
    pub ranking: Vec<RankedContributor>,
}

/// An amount in US dollars under a code.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Amount {
    pub code: String,
    #[serde(serialize_with = "cents")]
    pub usd: Decimal,
}

/// One line of a contributor ranking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankedContributor {
    pub rank: u32,
    /// The roll-up code ("united-nations") or the partner's key.
    pub code: String,
    pub names: Names,
    #[serde(serialize_with = "cents")]
    pub usd: Decimal,
}

/// The portfolio of a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Portfolio {
    pub programmes_active: u64,
    pub countries: u64,
    /// Countries reached per ILO region.
    pub countries_by_region: Vec<Count>,
    /// Active programmes and projects per ILO region of their recipient countries.
    pub programmes_by_region: Vec<Count>,
    /// Active programmes and projects per policy area (set by hand, else mapped from sectors).
    pub programmes_by_policy_area: Vec<Count>,
}

/// A count under a code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    pub code: String,
    pub count: u64,
}

const HIERARCHY_CONTRIBUTIONS: &str = "contributions are counted from agreements, never from \
    activities, so a programme and its projects cannot both add to them";
const NO_REVISED_BUDGETS: &str = "not applicable: agreements, not budgets, are counted";
const CONVERSION_RULE: &str = "each entry converted at its own date: the month's average rate, \
    else the year's, stored rates before the bundled ones, rounded half away from zero to the \
    cent; an entry without a rate is listed here and left out, never counted as zero";

const APPROVED_BASIS: &str = "approved: the partner shares of agreements signed, active or \
    closed, at their signature date";
const RECEIVED_BASIS: &str = "received: instalments of agreements received, split across the \
    agreement's partners by their shares, at the date they arrived; incoming funds reported in \
    the IATI data of activities are not counted, since contributions come from agreements only";
const BUDGET_BASIS: &str =
    "budget: the budgets of programmes and projects whose budget period starts in the period";
const BUDGET_HIERARCHY: &str = "a project whose parent programme is stored is left out: the \
    parent's budget counts, never both";
const BUDGET_REVISED: &str =
    "a revised budget replaces the original of the same activity and period";
const PORTFOLIO_HIERARCHY: &str = "programmes and projects are counted alike: a programme and \
    each of its projects count once each";
const PORTFOLIO_REVISED: &str = "not applicable: activities are counted, not budgets";
const NO_MONEY: &str = "not applicable: no money is counted";
const NOTHING_WITHHELD: &str = "nothing withheld";

/// The fixed sentences of method notes, each with a key, so that a page can say them in its
/// reader's language: a note's field that equals one of these sentences is that sentence, and
/// the portal's text catalogs hold `portal_method_<key>` in English, French and Spanish. A
/// sentence made with counts or names in it has no key and stays English.
pub const METHOD_SENTENCES: &[(&str, &str)] = &[
    ("approved", APPROVED_BASIS),
    ("received", RECEIVED_BASIS),
    ("hierarchy_contributions", HIERARCHY_CONTRIBUTIONS),
    ("no_revised_budgets", NO_REVISED_BUDGETS),
    ("conversion", CONVERSION_RULE),
    ("budget", BUDGET_BASIS),
    ("budget_hierarchy", BUDGET_HIERARCHY),
    ("budget_revised", BUDGET_REVISED),
    ("portfolio_hierarchy", PORTFOLIO_HIERARCHY),
    ("portfolio_revised", PORTFOLIO_REVISED),
    ("no_money", NO_MONEY),
    ("nothing_withheld", NOTHING_WITHHELD),
];

/// The key of a fixed method-note sentence, if `sentence` is one.
pub fn method_sentence_key(sentence: &str) -> Option<&'static str> {
    METHOD_SENTENCES
        .iter()
        .find(|(_, english)| *english == sentence)
        .map(|(key, _)| *key)
}

impl Store {
    /// A setting's value, if set.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        dispatch!(&self.pool, Pool, pool => {
            sqlx::query_scalar("SELECT value FROM setting WHERE key = $1")
                .bind(key)
                .fetch_optional(pool)
                .await
        })
        .map_err(StoreError::query("reading a setting"))
    }

    /// Sets a setting, replacing any value it had.
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        dispatch!(&self.pool, Pool, pool => {
            sqlx::query(
                "INSERT INTO setting (key, value) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(key)
            .bind(value)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .map_err(StoreError::query("saving a setting"))?;
        Ok(())
    }

    /// The period rule in force: the `biennium_starts_even` setting, else even-start bienniums.
    pub async fn period_rule(&self) -> Result<PeriodRule, StoreError> {
        Ok(match self.setting(BIENNIUM_STARTS_EVEN).await?.as_deref() {
            Some("false") => PeriodRule {
                biennium_starts_even: false,
            },
            _ => PeriodRule::default(),
        })
    }

    /// The latest biennium in which an agreement was signed, if any was.
    pub async fn latest_biennium_with_contributions(&self) -> Result<Option<Period>, StoreError> {
        // The rollup holds every agreement entry by the year of its date.
        let latest: Option<i32> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_scalar(
                "SELECT MAX(year) FROM contribution_rollup WHERE kind = 'commitment' \
                 AND entries <> 0",
            )
            .fetch_one(pool)
            .await
        })
        .map_err(StoreError::query(
            "finding the latest period with contributions",
        ))?;
        let rule = self.period_rule().await?;
        Ok(latest.and_then(|year| rule.biennium_of(&format!("{year:04}-01-01")).ok()))
    }

    /// Voluntary contributions of a period on a basis: the total, by modality, by partner
    /// group, by both, and the contributor ranking, read from the contribution rollup. The
    /// entries without a rate and the confidential agreements are read from the agreements'
    /// own entries, which do not grow with the portfolio.
    pub async fn contributions(
        &self,
        period: Period,
        basis: Basis,
    ) -> Result<Figure<Contributions>, StoreError> {
        let operation = "computing contributions";
        let kind = basis.ledger_kind();
        let first_day = period.first_day();
        let day_after = format!("{:04}-01-01", period.last_year() + 1);
        let rows: Vec<(String, i64, String, String, String, i64)> =
            dispatch!(&self.pool, Pool, pool => {
                sqlx::query_as(
                    "SELECT modality, partner_id, conversion_status, rate_source, \
                     CAST(usd AS TEXT), entries FROM contribution_rollup WHERE kind = $1 \
                     AND year >= $2 AND year <= $3 AND modality <> 'regular_budget' \
                     AND entries <> 0",
                )
                .bind(kind)
                .bind(period.first_year())
                .bind(period.last_year())
                .fetch_all(pool)
                .await
            })
            .map_err(StoreError::query(operation))?;
        let mut groups: BTreeMap<(String, i64), (Decimal, u64)> = BTreeMap::new();
        let mut sources = BTreeSet::new();
        let mut any_unconverted = false;
        for (modality, partner_id, status, rate_source, usd, entries) in rows {
            if status != "converted" {
                any_unconverted = true;
                continue;
            }
            let group = groups.entry((modality, partner_id)).or_default();
            group.0 += parse_decimal(&usd, operation)?;
            group.1 += entries as u64;
            if !rate_source.is_empty() {
                sources.insert(rate_source);
            }
        }
        // The agreements and their entries are few, an imported portfolio's entries many: on
        // SQLite, `kind || ''` and `date || ''` keep the planner from reading every entry of the
        // kind through the (kind, date) index, and start from the agreements instead; PostgreSQL
        // takes the partial index of agreement entries by (kind, date) (migration 0005).
        let hint = match self.backend() {
            crate::Backend::Sqlite => " || ''",
            crate::Backend::Postgres => "",
        };
        let agreement_entries = format!(
            "FROM agreement a JOIN ledger_entry l ON l.agreement_id = a.id \
             JOIN partner p ON p.id = l.partner_id WHERE l.agreement_id IS NOT NULL \
             AND l.kind{hint} = $1 AND l.date{hint} >= $2 AND l.date{hint} < $3 \
             AND l.modality <> 'regular_budget'"
        );
        let (unconverted, confidential): (Vec<Unconverted>, i64) =
            dispatch!(&self.pool, Pool, pool => async {
                let unconverted = if any_unconverted {
                    sqlx::query_as(&format!(
                        "SELECT a.key, p.key, a.confidential, l.date, CAST(l.amount AS TEXT), \
                         l.currency {agreement_entries} AND l.conversion_status <> 'converted' \
                         ORDER BY l.date, a.key, p.key"
                    ))
                    .bind(kind)
                    .bind(&first_day)
                    .bind(&day_after)
                    .fetch_all(pool)
                    .await?
                } else {
                    Vec::new()
                };
                let confidential = sqlx::query_scalar(&format!(
                    "SELECT COUNT(DISTINCT a.id) {agreement_entries} AND a.confidential = $4"
                ))
                .bind(kind)
                .bind(&first_day)
                .bind(&day_after)
                .bind(true)
                .fetch_one(pool)
                .await?;
                Ok::<_, sqlx::Error>((unconverted, confidential))
            }.await)
            .map_err(StoreError::query(operation))?;
        self.contributions_figure(period, basis, groups, unconverted, confidential, sources)
            .await
    }

    /// The same figure as [`Store::contributions`], computed by reading every ledger entry of
    /// the period: the reference the rollup is tested against, and the definition in SQL.
    pub async fn contributions_by_scan(
        &self,
        period: Period,
        basis: Basis,
    ) -> Result<Figure<Contributions>, StoreError> {
        let operation = "computing contributions";
        let first_day = period.first_day();
        let day_after = format!("{:04}-01-01", period.last_year() + 1);
        let kind = basis.ledger_kind();
        const FROM: &str = "FROM ledger_entry l JOIN agreement a ON a.id = l.agreement_id \
            JOIN partner p ON p.id = l.partner_id \
            WHERE l.kind = $1 AND l.date >= $2 AND l.date < $3 AND l.modality <> 'regular_budget'";

        let groups: Vec<(String, i64, Decimal, u64)> = match &self.pool {
            Pool::Postgres(pool) => {
                let rows: Vec<(String, i64, String, i64)> = sqlx::query_as(&format!(
                    "SELECT l.modality, l.partner_id, SUM(l.usd_amount)::text, COUNT(*) {FROM} \
                     AND l.conversion_status = 'converted' GROUP BY l.modality, l.partner_id"
                ))
                .bind(kind)
                .bind(&first_day)
                .bind(&day_after)
                .fetch_all(pool)
                .await
                .map_err(StoreError::query(operation))?;
                rows.into_iter()
                    .map(|(modality, partner, usd, count)| {
                        Ok((
                            modality,
                            partner,
                            parse_decimal(&usd, operation)?,
                            count as u64,
                        ))
                    })
                    .collect::<Result<_, StoreError>>()?
            }
            Pool::Sqlite(pool) => {
                let rows: Vec<(String, i64, String)> = sqlx::query_as(&format!(
                    "SELECT l.modality, l.partner_id, l.usd_amount {FROM} \
                     AND l.conversion_status = 'converted'"
                ))
                .bind(kind)
                .bind(&first_day)
                .bind(&day_after)
                .fetch_all(pool)
                .await
                .map_err(StoreError::query(operation))?;
                let mut sums: BTreeMap<(String, i64), (Decimal, u64)> = BTreeMap::new();
                for (modality, partner, usd) in rows {
                    let sum = sums.entry((modality, partner)).or_default();
                    sum.0 += parse_decimal(&usd, operation)?;
                    sum.1 += 1;
                }
                sums.into_iter()
                    .map(|((modality, partner), (usd, count))| (modality, partner, usd, count))
                    .collect()
            }
        };

        let (unconverted, confidential, sources): (Vec<Unconverted>, i64, Vec<Option<String>>) =
            dispatch!(&self.pool, Pool, pool => async {
                let unconverted = sqlx::query_as(&format!(
                    "SELECT a.key, p.key, a.confidential, l.date, CAST(l.amount AS TEXT), \
                     l.currency {FROM} AND l.conversion_status <> 'converted' ORDER BY l.date, a.key, p.key"
                ))
                .bind(kind)
                .bind(&first_day)
                .bind(&day_after)
                .fetch_all(pool)
                .await?;
                let confidential = sqlx::query_scalar(&format!(
                    "SELECT COUNT(DISTINCT a.id) {FROM} AND a.confidential = $4"
                ))
                .bind(kind)
                .bind(&first_day)
                .bind(&day_after)
                .bind(true)
                .fetch_one(pool)
                .await?;
                let sources = sqlx::query_scalar(&format!(
                    "SELECT DISTINCT l.rate_source {FROM} AND l.conversion_status = 'converted'"
                ))
                .bind(kind)
                .bind(&first_day)
                .bind(&day_after)
                .fetch_all(pool)
                .await?;
                Ok::<_, sqlx::Error>((unconverted, confidential, sources))
            }.await)
            .map_err(StoreError::query(operation))?;

        let groups = groups
            .into_iter()
            .map(|(modality, partner, usd, count)| ((modality, partner), (usd, count)))
            .collect();
        let sources = sources.into_iter().flatten().collect();
        self.contributions_figure(period, basis, groups, unconverted, confidential, sources)
            .await
    }

    /// Shapes the sums of a contribution figure (by modality and partner row: US dollars and
    /// entries), the entries without a rate, the count of confidential agreements and the rate
    /// sources into the figure with its method note.
    async fn contributions_figure(
        &self,
        period: Period,
        basis: Basis,
        groups: BTreeMap<(String, i64), (Decimal, u64)>,
        unconverted: Vec<Unconverted>,
        confidential: i64,
        sources: BTreeSet<String>,
    ) -> Result<Figure<Contributions>, StoreError> {
        let operation = "computing contributions";
        let first_day = period.first_day();
        let partners = self.partner_index().await?;
        let mut total_usd = Decimal::ZERO;
        let mut by_modality: BTreeMap<String, Decimal> = BTreeMap::new();
        let mut by_group: BTreeMap<String, Decimal> = BTreeMap::new();
        let mut by_both: BTreeMap<String, Decimal> = BTreeMap::new();
        let mut by_contributor: HashMap<String, (Names, Decimal)> = HashMap::new();
        let mut entries_converted = 0;
        for ((modality, partner_id), (usd, count)) in groups {
            let partner =
                partners
                    .get(&partner_id)
                    .ok_or_else(|| StoreError::InvalidStoredValue {
                        operation,
                        detail: format!(
                            "ledger entry names partner row {partner_id}, which is missing"
                        ),
                    })?;
            total_usd += usd;
            entries_converted += count;
            *by_modality.entry(modality.clone()).or_default() += usd;
            *by_group.entry(partner.group.clone()).or_default() += usd;
            *by_both
                .entry(format!("{modality}/{}", partner.group))
                .or_default() += usd;
            let (code, names) = match partner
                .rollup_code
                .as_deref()
                .and_then(|code| Rollups::bundled().target(code))
            {
                Some(target) => (target.code.clone(), Names::from(target)),
                None => (
                    partner
                        .rollup_code
                        .clone()
                        .unwrap_or_else(|| partner.key.clone()),
                    partner.names.clone(),
                ),
            };
            by_contributor
                .entry(code)
                .or_insert((names, Decimal::ZERO))
                .1 += usd;
        }
        let mut ranking: Vec<RankedContributor> = by_contributor
            .into_iter()
            .map(|(code, (names, usd))| RankedContributor {
                rank: 0,
                code,
                names,
                usd,
            })
            .collect();
        ranking.sort_by(|a, b| b.usd.cmp(&a.usd).then_with(|| a.code.cmp(&b.code)));
        for (index, line) in ranking.iter_mut().enumerate() {
            line.rank = index as u32 + 1;
        }
        let amounts = |map: BTreeMap<String, Decimal>| -> Vec<Amount> {
            let mut amounts: Vec<Amount> = map
                .into_iter()
                .map(|(code, usd)| Amount { code, usd })
                .collect();
            amounts.sort_by(|a, b| b.usd.cmp(&a.usd).then_with(|| a.code.cmp(&b.code)));
            amounts
        };

        let without_rate: Vec<WithheldEntry> = unconverted
            .into_iter()
            .map(
                |(agreement, partner, confidential, date, amount, currency)| WithheldEntry {
                    agreement: (!confidential).then_some(agreement),
                    partner: (!confidential).then_some(partner),
                    date,
                    amount,
                    currency,
                },
            )
            .collect();
        let sources: Vec<String> = sources.into_iter().collect();
        let confidential = confidential as u64;
        let method = MethodNote {
            basis: match basis {
                Basis::Approved => APPROVED_BASIS.to_owned(),
                Basis::Received => RECEIVED_BASIS.to_owned(),
            },
            period: period_label(period),
            first_day,
            last_day: period.last_day(),
            modalities: Modality::ALL
                .iter()
                .filter(|m| m.is_voluntary())
                .map(|m| m.code())
                .collect(),
            partner_groups: PartnerGroup::ALL.iter().map(|g| g.code()).collect(),
            hierarchy_rule: HIERARCHY_CONTRIBUTIONS.to_owned(),
            revised_budget_rule: NO_REVISED_BUDGETS.to_owned(),
            conversion: ConversionNote {
                rule: CONVERSION_RULE.to_owned(),
                sources,
                entries_converted,
                entries_without_rate: without_rate.len() as u64,
            },
            withheld: Withheld {
                note: method_text::WITHHELD_ENTRIES.say(&[
                    ("rates", &without_rate.len().to_string()),
                    ("confidential", &confidential.to_string()),
                ]),
                without_rate,
                confidential_agreements: confidential,
            },
        };
        Ok(Figure {
            value: Contributions {
                total_usd,
                by_modality: amounts(by_modality),
                by_partner_group: amounts(by_group),
                by_modality_and_partner_group: amounts(by_both),
                ranking,
            },
            method,
        })
    }

    /// The agreements signed in a period, as a public list: a confidential agreement is left
    /// out (it still counts in every total), and the count of those left out is returned.
    pub async fn public_agreements(
        &self,
        period: Period,
    ) -> Result<(Vec<String>, u64), StoreError> {
        let rows: Vec<(String, bool)> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(
                "SELECT key, confidential FROM agreement WHERE signature_date >= $1 \
                 AND signature_date < $2 ORDER BY signature_date, key",
            )
            .bind(period.first_day())
            .bind(format!("{:04}-01-01", period.last_year() + 1))
            .fetch_all(pool)
            .await
        })
        .map_err(StoreError::query("listing agreements"))?;
        let hidden = rows.iter().filter(|row| row.1).count() as u64;
        Ok((
            rows.into_iter()
                .filter(|row| !row.1)
                .map(|row| row.0)
                .collect(),
            hidden,
        ))
    }

    /// The portfolio of a period: programmes and projects active, countries reached, by ILO
    /// region and by policy area. Only the organisation's own activities count when the
    /// `organisation_ref` setting names it. Read from the portfolio rollup: an activity is
    /// active in the period's years when it starts in or before the last and ends in or after
    /// the first (or has no end), so each count is a sum over the rollup rows of such years.
    pub async fn portfolio(&self, period: Period) -> Result<Figure<Portfolio>, StoreError> {
        let operation = "computing the portfolio";
        let organisation = self.setting(ORGANISATION_REF).await?;
        let mut sql =
            "SELECT dimension, code, CAST(SUM(activities) AS BIGINT) FROM portfolio_rollup \
            WHERE start_year <= $1 AND end_year >= $2"
                .to_owned();
        if organisation.is_some() {
            sql.push_str(" AND organisation = $3");
        }
        sql.push_str(" GROUP BY dimension, code");
        let rows: Vec<(String, String, i64)> = dispatch!(&self.pool, Pool, pool => {
            let mut query = sqlx::query_as(&sql).bind(period.last_year()).bind(period.first_year());
            if let Some(organisation) = &organisation {
                query = query.bind(organisation);
            }
            query.fetch_all(pool).await
        })
        .map_err(StoreError::query(operation))?;
        let mut programmes_active = 0;
        let mut reached = BTreeSet::new();
        let mut by_region: BTreeMap<&'static str, u64> = BTreeMap::new();
        let mut by_area: BTreeMap<&'static str, u64> = BTreeMap::new();
        for (dimension, code, activities) in rows {
            if activities <= 0 {
                continue;
            }
            let activities = activities as u64;
            match dimension.as_str() {
                "activity" => programmes_active += activities,
                "country" => {
                    reached.insert(code);
                }
                "region" => {
                    if let Some(region) = IloRegion::ALL.iter().find(|region| region.code() == code)
                    {
                        by_region.insert(region.code(), activities);
                    }
                }
                "policy_area" => {
                    if let Ok(area) = code.parse::<coopfolio_core::policy_area::PolicyArea>() {
                        by_area.insert(area.code(), activities);
                    }
                }
                _ => {}
            }
        }
        Ok(portfolio_figure(
            period,
            organisation.as_deref(),
            programmes_active,
            reached,
            by_region,
            by_area,
        ))
    }

    /// The same figure as [`Store::portfolio`], computed by reading every activity of the
    /// period with its countries, sectors and policy areas: the reference the rollup is
    /// tested against, and the definition in SQL.
    pub async fn portfolio_by_scan(&self, period: Period) -> Result<Figure<Portfolio>, StoreError> {
        let operation = "computing the portfolio";
        let organisation = self.setting(ORGANISATION_REF).await?;
        let first_day = period.first_day();
        let day_after = format!("{:04}-01-01", period.last_year() + 1);
        let mut active = "a.start_date IS NOT NULL AND a.start_date < $1 \
            AND (a.end_date IS NULL OR a.end_date >= $2)"
            .to_owned();
        if organisation.is_some() {
            active.push_str(" AND a.reporting_org_ref = $3");
        }
        let queries = [
            format!("SELECT a.id, CAST('' AS TEXT) FROM activity a WHERE {active}"),
            format!("SELECT a.id, rc.code FROM activity a JOIN recipient_country rc ON rc.activity_id = a.id WHERE {active}"),
            format!("SELECT a.id, pa.policy_area FROM activity a JOIN activity_policy_area pa ON pa.activity_identifier = a.iati_identifier WHERE {active}"),
            format!("SELECT a.id, s.code FROM activity a JOIN sector s ON s.activity_id = a.id WHERE {active} AND (s.vocabulary IS NULL OR s.vocabulary = '1')"),
        ];
        let mut results: Vec<Vec<(i64, String)>> = Vec::new();
        for sql in &queries {
            let rows: Vec<(i64, String)> = dispatch!(&self.pool, Pool, pool => {
                let mut query = sqlx::query_as(sql).bind(&day_after).bind(&first_day);
                if let Some(organisation) = &organisation {
                    query = query.bind(organisation);
                }
                query.fetch_all(pool).await
            })
            .map_err(StoreError::query(operation))?;
            results.push(rows);
        }
        let [activities, countries, hand_set, sectors]: [Vec<(i64, String)>; 4] =
            results.try_into().expect("four queries");

        let table = Countries::bundled();
        let mut reached: BTreeSet<String> = BTreeSet::new();
        let mut programmes_by_region: BTreeMap<&'static str, BTreeSet<i64>> = BTreeMap::new();
        for (activity, code) in &countries {
            let code = code.trim().to_ascii_uppercase();
            if let Some(country) = table.get(&code) {
                programmes_by_region
                    .entry(country.region.code())
                    .or_default()
                    .insert(*activity);
            }
            reached.insert(code);
        }
        let mut areas: BTreeMap<&'static str, BTreeSet<i64>> = BTreeMap::new();
        let with_hand_set: BTreeSet<i64> = hand_set.iter().map(|row| row.0).collect();
        for (activity, area) in &hand_set {
            if let Ok(area) = area.parse::<coopfolio_core::policy_area::PolicyArea>() {
                areas.entry(area.code()).or_default().insert(*activity);
            }
        }
        let map = PolicyAreaMap::bundled();
        for (activity, sector) in &sectors {
            if with_hand_set.contains(activity) {
                continue;
            }
            for area in map.areas_for_sector(sector.trim()) {
                areas.entry(area.code()).or_default().insert(*activity);
            }
        }
        let mut areas_counted: BTreeMap<&'static str, u64> = BTreeMap::new();
        for (area, set) in areas {
            areas_counted.insert(area, set.len() as u64);
        }
        let regions_counted: BTreeMap<&'static str, u64> = programmes_by_region
            .into_iter()
            .map(|(region, set)| (region, set.len() as u64))
            .collect();
        Ok(portfolio_figure(
            period,
            organisation.as_deref(),
            activities.len() as u64,
            reached,
            regions_counted,
            areas_counted,
        ))
    }

    /// The budgets of the organisation's programmes and projects for a period, in US dollars:
    /// budget periods starting in it; a revised budget replaces the original of the same
    /// activity and start; a project whose parent programme is stored is left to the parent,
    /// so that a programme and its projects are never both summed. The sums are read from the
    /// budget rollup (migration 0013), which holds the budgets of the activities that count
    /// with the revised budgets already in place of the originals; the budgets without a rate,
    /// which the method note lists, are read from their own entries when there are any.
    pub async fn portfolio_budget(&self, period: Period) -> Result<Figure<Decimal>, StoreError> {
        let operation = "computing the portfolio budget";
        let organisation = self.setting(ORGANISATION_REF).await?;
        let mut sql = "SELECT conversion_status, rate_source, CAST(usd AS TEXT), entries \
             FROM budget_rollup WHERE year >= $1 AND year <= $2 AND entries <> 0"
            .to_owned();
        if organisation.is_some() {
            sql.push_str(" AND organisation = $3");
        }
        let rows: Vec<(String, String, String, i64)> = dispatch!(&self.pool, Pool, pool => {
            let mut query = sqlx::query_as(&sql).bind(period.first_year()).bind(period.last_year());
            if let Some(organisation) = &organisation {
                query = query.bind(organisation);
            }
            query.fetch_all(pool).await
        })
        .map_err(StoreError::query(operation))?;
        let mut total = Decimal::ZERO;
        let mut converted = 0;
        let mut sources = BTreeSet::new();
        let mut any_without_rate = false;
        for (status, source, usd, entries) in rows {
            if status == "converted" {
                total += parse_decimal(&usd, operation)?;
                converted += entries as u64;
                if !source.is_empty() {
                    sources.insert(source);
                }
            } else {
                any_without_rate = true;
            }
        }
        let without_rate = if any_without_rate {
            self.budgets_without_rate(period, organisation.as_deref())
                .await?
        } else {
            Vec::new()
        };
        Ok(budget_figure(
            period,
            total,
            converted,
            sources,
            without_rate,
        ))
    }

    /// The budgets of a period without a rate that the figure counts, in the order of
    /// [`sort_withheld`]: the activities that count (`budget_counted`), a revised budget in
    /// place of the originals of its period start. They are few in a converted ledger and read
    /// through the index of unconverted budget entries (migration 0013).
    async fn budgets_without_rate(
        &self,
        period: Period,
        organisation: Option<&str>,
    ) -> Result<Vec<WithheldEntry>, StoreError> {
        let mut sql = "SELECT a.iati_identifier, b.period_start, CAST(l.amount AS TEXT), l.currency \
             FROM ledger_entry l JOIN budget b ON b.id = l.source_id JOIN activity a ON a.id = l.activity_id \
             WHERE l.kind = 'budget' AND l.conversion_status <> 'converted' AND l.source_table = 'budget' \
             AND l.date >= $1 AND l.date < $2 AND b.period_start >= $1 AND b.period_start < $2 \
             AND a.budget_counted = $3 AND (b.type = '2' OR NOT EXISTS (SELECT 1 FROM budget revised \
             WHERE revised.activity_id = b.activity_id AND revised.type = '2' \
             AND revised.period_start = b.period_start AND revised.value IS NOT NULL))"
            .to_owned();
        if organisation.is_some() {
            sql.push_str(" AND a.reporting_org_ref = $4");
        }
        let first_day = period.first_day();
        let day_after = format!("{:04}-01-01", period.last_year() + 1);
        let rows: Vec<(String, Option<String>, String, Option<String>)> =
            dispatch!(&self.pool, Pool, pool => {
                let mut query = sqlx::query_as(&sql).bind(&first_day).bind(&day_after).bind(true);
                if let Some(organisation) = organisation {
                    query = query.bind(organisation);
                }
                query.fetch_all(pool).await
            })
            .map_err(StoreError::query("listing the budgets without a rate"))?;
        let mut without_rate: Vec<WithheldEntry> = rows
            .into_iter()
            .map(|(identifier, start, amount, currency)| WithheldEntry {
                agreement: None,
                partner: Some(identifier),
                date: start,
                amount,
                currency,
            })
            .collect();
        sort_withheld(&mut without_rate);
        Ok(without_rate)
    }

    /// The same figure as [`Store::portfolio_budget`], computed by reading every budget entry
    /// of the period with its activity's parents: the reference the rollup is tested against,
    /// and the definition in SQL.
    pub async fn portfolio_budget_by_scan(
        &self,
        period: Period,
    ) -> Result<Figure<Decimal>, StoreError> {
        let operation = "computing the portfolio budget";
        // A budget's ledger entry is dated with its period start (both import paths), so the
        // condition on `l.date` selects the same entries as the one on `b.period_start`. No
        // index serves it since migration 0014: this reference reads every budget entry.
        let organisation = self.setting(ORGANISATION_REF).await?;
        let mut sql = "SELECT a.id, a.iati_identifier, b.type, b.period_start, CAST(l.usd_amount AS TEXT), \
             l.conversion_status, CAST(l.amount AS TEXT), l.currency, l.rate_source \
             FROM ledger_entry l JOIN budget b ON b.id = l.source_id JOIN activity a ON a.id = l.activity_id \
             WHERE l.kind = 'budget' AND l.source_table = 'budget' AND l.date >= $1 AND l.date < $2 \
             AND b.period_start >= $1 AND b.period_start < $2 AND NOT EXISTS (SELECT 1 FROM related_activity r \
             JOIN activity parent ON parent.iati_identifier = r.iati_identifier \
             WHERE r.activity_id = a.id AND r.type = '1')"
            .to_owned();
        if organisation.is_some() {
            sql.push_str(" AND a.reporting_org_ref = $3");
        }
        type Row = (
            i64,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            String,
            String,
            Option<String>,
            Option<String>,
        );
        let first_day = period.first_day();
        let day_after = format!("{:04}-01-01", period.last_year() + 1);
        let rows: Vec<Row> = dispatch!(&self.pool, Pool, pool => {
            let mut query = sqlx::query_as(&sql).bind(&first_day).bind(&day_after);
            if let Some(organisation) = &organisation {
                query = query.bind(organisation);
            }
            query.fetch_all(pool).await
        })
        .map_err(StoreError::query(operation))?;
        let revised: BTreeSet<(i64, Option<String>)> = rows
            .iter()
            .filter(|row| row.2.as_deref() == Some("2"))
            .map(|row| (row.0, row.3.clone()))
            .collect();
        let mut total = Decimal::ZERO;
        let mut converted = 0;
        let mut without_rate = Vec::new();
        let mut sources = BTreeSet::new();
        for (activity, identifier, kind, start, usd, status, amount, currency, source) in rows {
            if kind.as_deref() != Some("2") && revised.contains(&(activity, start.clone())) {
                continue;
            }
            match (status.as_str(), usd) {
                ("converted", Some(usd)) => {
                    total += parse_decimal(&usd, operation)?;
                    converted += 1;
                    sources.extend(source);
                }
                _ => without_rate.push(WithheldEntry {
                    agreement: None,
                    partner: Some(identifier),
                    date: start,
                    amount,
                    currency,
                }),
            }
        }
        sort_withheld(&mut without_rate);
        Ok(budget_figure(
            period,
            total,
            converted,
            sources,
            without_rate,
        ))
    }

    /// Converts again the ledger entries stored `no_rate`, with the rates now at hand; returns
    /// how many were converted.
    pub async fn reconvert_ledger(&self) -> Result<u64, StoreError> {
        let operation = "converting ledger entries that had no rate";
        let converter = self.converter().await?;
        type Row = (
            i64,
            String,
            Option<String>,
            Option<String>,
            String,
            Option<String>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
        );
        let rows: Vec<Row> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(
                "SELECT id, CAST(amount AS TEXT), currency, date, kind, modality, partner_id, \
                 agreement_id, activity_id FROM ledger_entry WHERE conversion_status = 'no_rate'",
            )
            .fetch_all(pool)
            .await
        })
        .map_err(StoreError::query(operation))?;
        let update = crate::partnership::for_backend(
            self.backend(),
            "UPDATE ledger_entry SET usd_amount = $1::numeric, usd_rate = $2::numeric, \
             rate_date = $3, rate_source = $4, conversion_status = 'converted' WHERE id = $5",
        );
        let mut converted = 0;
        dispatch!(&self.pool, Pool, pool => {
            let mut tx = pool.begin().await.map_err(StoreError::query(operation))?;
            lock_budget_rollup(Conn::from(&mut *tx)).await?;
            // An agreement's entry moves from the rollup's unconverted row to a converted one.
            let mut contributions = ContributionDelta::default();
            // An activity's budget entry changes the activity's budget facts, computed again
            // below from its entries once they are all converted.
            let mut budget_activities = BTreeSet::new();
            for (id, amount, currency, date, kind, modality, partner_id, agreement_id, activity_id) in &rows {
                let amount = parse_decimal(amount, operation)?;
                let (Some(currency), Some(date)) = (currency, date) else { continue };
                if let coopfolio_core::rates::Conversion::Converted { usd, rate, rate_period, source, .. } =
                    converter.to_usd(amount, currency, date)
                {
                    sqlx::query(&update)
                        .bind(usd.to_string())
                        .bind(rate.to_string())
                        .bind(rate_period.to_string())
                        .bind(source.to_string())
                        .bind(*id)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::query(operation))?;
                    converted += 1;
                    if let (Some(activity_id), "budget") = (activity_id, kind.as_str()) {
                        budget_activities.insert(*activity_id);
                    }
                    if let (Some(partner_id), Some(_)) = (partner_id, agreement_id) {
                        let entry = |conversion_status, rate_source, usd| ContributionEntry {
                            kind,
                            date: Some(date),
                            modality: modality.as_deref().unwrap_or_default(),
                            partner_id: *partner_id,
                            conversion_status,
                            rate_source,
                            usd,
                        };
                        contributions.entry(&entry("no_rate", None, None), -1);
                        contributions.entry(&entry("converted", Some(&*source), Some(usd)), 1);
                    }
                }
            }
            contributions.apply(Conn::from(&mut *tx)).await?;
            let budget_activities: Vec<i64> = budget_activities.into_iter().collect();
            if budget_activities.len() > BUDGET_FACTS_CHUNK {
                analyze_for_budget_facts(Conn::from(&mut *tx)).await?;
            }
            let mut budget = BudgetDelta::default();
            for ids in budget_activities.chunks(BUDGET_FACTS_CHUNK) {
                refresh_budget_facts(Conn::from(&mut *tx), ActivitySelection::Ids(ids), false, &mut budget)
                    .await?;
            }
            budget.apply(Conn::from(&mut *tx)).await?;
            tx.commit().await.map_err(StoreError::query(operation))
        })?;
        Ok(converted)
    }

    async fn partner_index(&self) -> Result<HashMap<i64, IndexedPartner>, StoreError> {
        type Row = (i64, String, String, String, String, String, Option<String>);
        let rows: Vec<Row> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(
                "SELECT id, key, name_en, name_fr, name_es, partner_group, rollup_code FROM partner",
            )
            .fetch_all(pool)
            .await
        })
        .map_err(StoreError::query("reading partners"))?;
        Ok(rows
            .into_iter()
            .map(|(id, key, en, fr, es, group, rollup_code)| {
                (
                    id,
                    IndexedPartner {
                        key,
                        names: Names { en, fr, es },
                        group,
                        rollup_code,
                    },
                )
            })
            .collect())
    }
}

/// Shapes the portfolio counts into the figure with its method note: activities active,
/// the countries reached, and activities per ILO region and per policy area.
fn portfolio_figure(
    period: Period,
    organisation: Option<&str>,
    programmes_active: u64,
    reached: BTreeSet<String>,
    programmes_by_region: BTreeMap<&'static str, u64>,
    programmes_by_policy_area: BTreeMap<&'static str, u64>,
) -> Figure<Portfolio> {
    let table = Countries::bundled();
    let mut countries_by_region: BTreeMap<&'static str, u64> = BTreeMap::new();
    for code in &reached {
        let region = table
            .get(code)
            .map_or("unknown", |country| country.region.code());
        *countries_by_region.entry(region).or_default() += 1;
    }
    let counts = |map: BTreeMap<&'static str, u64>| -> Vec<Count> {
        map.into_iter()
            .map(|(code, count)| Count {
                code: code.to_owned(),
                count,
            })
            .collect()
    };
    let method = MethodNote {
        basis: match organisation {
            Some(organisation) => {
                method_text::PORTFOLIO_BASIS_REPORTED.say(&[("organisation", organisation)])
            }
            None => method_text::PORTFOLIO_BASIS.say(&[]),
        },
        period: period_label(period),
        first_day: period.first_day(),
        last_day: period.last_day(),
        modalities: Vec::new(),
        partner_groups: Vec::new(),
        hierarchy_rule: PORTFOLIO_HIERARCHY.to_owned(),
        revised_budget_rule: PORTFOLIO_REVISED.to_owned(),
        conversion: ConversionNote {
            rule: NO_MONEY.to_owned(),
            sources: Vec::new(),
            entries_converted: 0,
            entries_without_rate: 0,
        },
        withheld: Withheld {
            note: NOTHING_WITHHELD.to_owned(),
            ..Withheld::default()
        },
    };
    Figure {
        value: Portfolio {
            programmes_active,
            countries: reached.len() as u64,
            countries_by_region: counts(countries_by_region),
            programmes_by_region: counts(programmes_by_region),
            programmes_by_policy_area: counts(programmes_by_policy_area),
        },
        method,
    }
}

struct IndexedPartner {
    key: String,
    names: Names,
    group: String,
    rollup_code: Option<String>,
}

/// The portfolio budget with its method note, however it was summed.
fn budget_figure(
    period: Period,
    total: Decimal,
    converted: u64,
    sources: BTreeSet<String>,
    without_rate: Vec<WithheldEntry>,
) -> Figure<Decimal> {
    let method = MethodNote {
        basis: BUDGET_BASIS.to_owned(),
        period: period_label(period),
        first_day: period.first_day(),
        last_day: period.last_day(),
        modalities: Vec::new(),
        partner_groups: Vec::new(),
        hierarchy_rule: BUDGET_HIERARCHY.to_owned(),
        revised_budget_rule: BUDGET_REVISED.to_owned(),
        conversion: ConversionNote {
            rule: CONVERSION_RULE.to_owned(),
            sources: sources.into_iter().collect(),
            entries_converted: converted,
            entries_without_rate: without_rate.len() as u64,
        },
        withheld: Withheld {
            note: method_text::WITHHELD_BUDGETS.say(&[("rates", &without_rate.len().to_string())]),
            without_rate,
            confidential_agreements: 0,
        },
    };
    Figure {
        value: total,
        method,
    }
}

/// Puts budgets left out for want of a rate in one order, by activity, date, amount and
/// currency, whichever query found them.
fn sort_withheld(without_rate: &mut [WithheldEntry]) {
    without_rate.sort_by(|left, right| {
        (&left.partner, &left.date, &left.amount, &left.currency).cmp(&(
            &right.partner,
            &right.date,
            &right.amount,
            &right.currency,
        ))
    });
}

/// "2022-23" for a biennium, "2022" for a year.
pub fn period_label(period: Period) -> String {
    period.to_string()
}

/// US dollars as text to the cent ("965100000.00"), never a JSON number a reader would take
/// for a float.
pub fn cents<S: serde::Serializer>(usd: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&format_args!("{:.2}", usd.round_dp(2)))
}
