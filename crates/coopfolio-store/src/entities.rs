//! Read-only queries behind the portal's entity pages: partners (with their contributions by
//! period and modality, their public agreements and the projects those earmark), countries and
//! policy areas (the programmes and projects there, budgets, the partners funding them) and
//! multi-stakeholder partnerships.
//!
//! A confidential agreement counts in every total these queries return, exactly as in
//! `figures.rs`, but is never itemised: its title, amount and earmarks never leave the store,
//! and a partner is never linked to a country, policy area or project through one. Only the
//! number of confidential agreements behind a total is told.
//!
//! Amounts are summed in Rust with `rust_decimal` on both backends: the rows read are one
//! partner's, one country's or one policy area's, never the whole ledger, so there is no need
//! for a second, PostgreSQL-only, path that sums in SQL.

use std::collections::{BTreeMap, BTreeSet};

use coopfolio_core::modality::Modality;
use coopfolio_core::partner_group::PartnerGroup;
use coopfolio_core::period::{Period, PeriodRule};
use coopfolio_core::policy_area::PolicyArea;
use coopfolio_core::reference::Names;
use coopfolio_core::rollup::Rollups;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::figures::{
    cents, period_label, ConversionNote, Figure, MethodNote, Withheld, ORGANISATION_REF,
};
use crate::method_text;
use crate::sql::dispatch;
use crate::stats::parse_decimal;
use crate::{Pool, Store, StoreError};

/// One partner in the partners list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartnerSummary {
    pub key: String,
    pub names: Names,
    /// The partner group code in force.
    pub group: String,
    /// ISO 3166-1 alpha-2, when known.
    pub country: Option<String>,
    /// The contributor the partner counts as in rankings, when it is not itself.
    pub rollup_code: Option<String>,
    /// Voluntary contributions on the approved basis, converted, over the period asked for
    /// (all periods when none was), confidential agreements included.
    #[serde(serialize_with = "cents")]
    pub total_usd: Decimal,
    pub synthetic: bool,
}

/// Everything the partner page shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartnerDetail {
    pub key: String,
    pub names: Names,
    pub iati_ref: Option<String>,
    pub organisation_type: Option<String>,
    pub country: Option<String>,
    pub group: String,
    /// The rule that derived the group, in words, or "set by hand".
    pub group_rule: String,
    pub group_set_by_hand: bool,
    /// The roll-up code and its names, when the partner counts as another contributor.
    pub rollup: Option<(String, Names)>,
    /// Voluntary contributions on the approved basis by biennium and modality, oldest first,
    /// with the method note; confidential agreements are counted.
    pub contributions: Figure<Vec<PeriodAmount>>,
    /// The partner's agreements that are not confidential, newest first.
    pub agreements: Vec<PublicAgreement>,
    /// The projects the public agreements earmark, by IATI identifier.
    pub earmarked_projects: Vec<ProjectLink>,
    /// The multi-stakeholder partnerships the partner belongs to, with its role.
    pub partnerships: Vec<Membership>,
    pub synthetic: bool,
}

/// An amount of one period and modality.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodAmount {
    /// "2022-23".
    pub period: String,
    pub modality: String,
    #[serde(serialize_with = "cents")]
    pub usd: Decimal,
}

/// An agreement as the public may see it, with the partner's share.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublicAgreement {
    pub key: String,
    pub title: Names,
    pub modality: String,
    pub status: String,
    pub signature_date: Option<String>,
    /// The partner's share in the agreement's currency, exact.
    #[serde(serialize_with = "exact")]
    pub share: Decimal,
    pub currency: String,
    /// The share in US dollars at the signature date, when it counts as approved and a rate
    /// converted it.
    #[serde(serialize_with = "optional_cents")]
    pub share_usd: Option<Decimal>,
}

/// A programme or project named by a page, with its title in the language asked for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectLink {
    pub identifier: String,
    /// `None` when the activity is not stored (an earmark may name one not yet imported).
    pub title: Option<String>,
    pub stored: bool,
}

/// A partner's place in a partnership, or a partnership's member.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Membership {
    pub partnership_key: String,
    pub partnership_names: Names,
    pub partner_key: String,
    pub partner_names: Names,
    pub partner_group: String,
    pub role: String,
}

/// A partner named on a country or policy-area page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartnerLink {
    pub key: String,
    pub names: Names,
    pub group: String,
}

/// What the country and policy-area pages show beyond the explorer's list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceDetail {
    /// Partners funding work there: named as funding organisation (IATI role 1) of a programme
    /// or project there, or earmarking it through an agreement that is not confidential.
    pub partners: Vec<PartnerLink>,
    /// Recipient countries of the programmes and projects, with how many each has.
    pub countries: Vec<(String, u64)>,
}

/// A multi-stakeholder partnership in the list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartnershipSummary {
    pub key: String,
    pub names: Names,
    pub level: String,
    pub policy_areas: Vec<String>,
    pub members: u64,
    pub synthetic: bool,
}

/// A multi-stakeholder partnership with its members.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartnershipDetail {
    pub summary: PartnershipSummary,
    pub members: Vec<Membership>,
}

/// A US dollar amount of one year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct YearAmount {
    pub year: i32,
    #[serde(serialize_with = "cents")]
    pub usd: Decimal,
}

/// Where the country and policy-area queries look.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// ISO 3166-1 alpha-2, upper case.
    Country(&'a str),
    PolicyArea(PolicyArea),
}

type PartnerRow = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    String,
    Option<String>,
    bool,
);

/// A partner's approved ledger entry: date, modality, US dollars, conversion status, and
/// whether its agreement is confidential.
type EntryRow = (Option<String>, String, Option<String>, String, bool);

/// A partnership membership: partnership key, its three names, the role.
type MembershipRow = (String, String, String, String, String);

/// A partner as the place pages need it: id, key, three names, IATI identifier, group.
type PlacePartnerRow = (i64, String, String, String, String, Option<String>, String);

const PARTNER_COLUMNS: &str = "id, key, name_en, name_fr, name_es, iati_ref, organisation_type, \
    country, partner_group, group_override, group_rule, rollup_code, synthetic";

/// The ledger entries that are voluntary contributions on the approved basis, as in
/// `Store::contributions`.
const APPROVED: &str = "l.kind = 'commitment' AND l.agreement_id IS NOT NULL \
    AND l.modality <> 'regular_budget'";

const HIERARCHY: &str = "contributions are counted from agreements, never from activities, so a \
    programme and its projects cannot both add to them";
const NOT_BUDGETS: &str = "not applicable: agreements, not budgets, are counted";
const CONVERSION: &str = method_text::SHARE_CONVERSION.english;

fn voluntary_modalities() -> Vec<&'static str> {
    Modality::ALL
        .iter()
        .filter(|modality| modality.is_voluntary())
        .map(|modality| modality.code())
        .collect()
}

impl Store {
    /// Every partner, or those of one group, by English name, each with its contributions over
    /// `period` (all periods when `None`), with the method note of those totals.
    pub async fn partners(
        &self,
        group: Option<PartnerGroup>,
        period: Option<Period>,
    ) -> Result<Figure<Vec<PartnerSummary>>, StoreError> {
        let operation = "listing partners";
        let rows: Vec<PartnerRow> = dispatch!(&self.pool, Pool, pool => {
            let sql = format!("SELECT {PARTNER_COLUMNS} FROM partner ORDER BY name_en, key");
            sqlx::query_as(&sql).fetch_all(pool).await
        })
        .map_err(StoreError::query(operation))?;
        let (first_day, day_after) = match period {
            Some(period) => (
                period.first_day(),
                format!("{:04}-01-01", period.last_year() + 1),
            ),
            None => ("0000-01-01".to_owned(), "9999-12-31".to_owned()),
        };
        type AmountRow = (
            i64,
            Option<String>,
            String,
            i64,
            Option<String>,
            Option<String>,
        );
        let amounts: Vec<AmountRow> = dispatch!(&self.pool, Pool, pool => {
            let sql = format!(
                "SELECT l.partner_id, CAST(l.usd_amount AS TEXT), l.conversion_status, \
                 l.agreement_id, l.date, l.rate_source FROM ledger_entry l \
                 WHERE {APPROVED} AND l.date >= $1 AND l.date < $2"
            );
            sqlx::query_as(&sql).bind(&first_day).bind(&day_after).fetch_all(pool).await
        })
        .map_err(StoreError::query(operation))?;
        let confidential_ids: BTreeSet<i64> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_scalar("SELECT id FROM agreement WHERE confidential = $1")
                .bind(true)
                .fetch_all(pool)
                .await
        })
        .map_err(StoreError::query(operation))?
        .into_iter()
        .collect();
        let mut totals: BTreeMap<i64, Decimal> = BTreeMap::new();
        let (mut converted, mut without_rate) = (0, 0);
        let mut confidential = BTreeSet::new();
        let mut sources = BTreeSet::new();
        let mut dates: BTreeSet<String> = BTreeSet::new();
        for (partner, usd, status, agreement, date, source) in amounts {
            match (usd, status.as_str()) {
                (Some(usd), "converted") => {
                    *totals.entry(partner).or_default() += parse_decimal(&usd, operation)?;
                    converted += 1;
                    sources.extend(source);
                    dates.extend(date);
                    if confidential_ids.contains(&agreement) {
                        confidential.insert(agreement);
                    }
                }
                _ => without_rate += 1,
            }
        }
        let (period_text, first, last) = match period {
            Some(period) => (period_label(period), period.first_day(), period.last_day()),
            None => (
                method_text::ALL_PERIODS.say(&[]),
                dates.first().cloned().unwrap_or_default(),
                dates.last().cloned().unwrap_or_default(),
            ),
        };
        let method = MethodNote {
            basis: method_text::PARTNERS_BASIS.say(&[]),
            period: period_text,
            first_day: first,
            last_day: last,
            modalities: voluntary_modalities(),
            partner_groups: group.map_or_else(
                || PartnerGroup::ALL.iter().map(|group| group.code()).collect(),
                |group| vec![group.code()],
            ),
            hierarchy_rule: HIERARCHY.to_owned(),
            revised_budget_rule: NOT_BUDGETS.to_owned(),
            conversion: ConversionNote {
                rule: CONVERSION.to_owned(),
                sources: sources.into_iter().collect(),
                entries_converted: converted,
                entries_without_rate: without_rate,
            },
            withheld: Withheld {
                without_rate: Vec::new(),
                confidential_agreements: confidential.len() as u64,
                note: method_text::WITHHELD_SHARES.say(&[
                    ("rates", &without_rate.to_string()),
                    ("confidential", &confidential.len().to_string()),
                ]),
            },
        };
        Ok(Figure {
            value: rows
                .into_iter()
                .filter(|row| group.is_none_or(|group| row.8 == group.code()))
                .map(|row| PartnerSummary {
                    total_usd: totals.get(&row.0).copied().unwrap_or_default(),
                    key: row.1,
                    names: Names {
                        en: row.2,
                        fr: row.3,
                        es: row.4,
                    },
                    country: row.7,
                    group: row.8,
                    rollup_code: row.11,
                    synthetic: row.12,
                })
                .collect(),
            method,
        })
    }

    /// One partner by key, if stored; activity titles in `lang` where the activity has one.
    pub async fn partner(
        &self,
        key: &str,
        lang: &str,
    ) -> Result<Option<PartnerDetail>, StoreError> {
        let operation = "reading a partner";
        let row: Option<PartnerRow> = dispatch!(&self.pool, Pool, pool => {
            let sql = format!("SELECT {PARTNER_COLUMNS} FROM partner WHERE key = $1");
            sqlx::query_as(&sql).bind(key).fetch_optional(pool).await
        })
        .map_err(StoreError::query(operation))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let partner_id = row.0;
        let rule = self.period_rule().await?;

        type AgreementRow = (
            i64,
            String,
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            String,
            String,
        );
        let (entries, agreements, earmarks, memberships): (
            Vec<EntryRow>,
            Vec<AgreementRow>,
            Vec<(String,)>,
            Vec<MembershipRow>,
        ) = dispatch!(&self.pool, Pool, pool => async {
            let entries = sqlx::query_as(&format!(
                "SELECT l.date, l.modality, CAST(l.usd_amount AS TEXT), l.conversion_status, \
                 a.confidential FROM ledger_entry l JOIN agreement a ON a.id = l.agreement_id \
                 WHERE {APPROVED} AND l.partner_id = $1 ORDER BY l.date"
            ))
            .bind(partner_id)
            .fetch_all(pool)
            .await?;
            let agreements = sqlx::query_as(
                "SELECT a.id, a.key, a.title_en, a.title_fr, a.title_es, a.modality, a.status, \
                 a.signature_date, CAST(ap.amount AS TEXT), a.currency FROM agreement a \
                 JOIN agreement_partner ap ON ap.agreement_id = a.id \
                 WHERE ap.partner_id = $1 AND a.confidential = $2 \
                 ORDER BY a.signature_date IS NULL, a.signature_date DESC, a.key",
            )
            .bind(partner_id)
            .bind(false)
            .fetch_all(pool)
            .await?;
            let earmarks = sqlx::query_as(
                "SELECT DISTINCT e.target FROM earmark e JOIN agreement a ON a.id = e.agreement_id \
                 JOIN agreement_partner ap ON ap.agreement_id = a.id \
                 WHERE ap.partner_id = $1 AND a.confidential = $2 AND e.target_kind = 'project' \
                 ORDER BY e.target",
            )
            .bind(partner_id)
            .bind(false)
            .fetch_all(pool)
            .await?;
            let memberships = sqlx::query_as(
                "SELECT s.key, s.name_en, s.name_fr, s.name_es, m.role FROM partnership_member m \
                 JOIN partnership s ON s.id = m.partnership_id WHERE m.partner_id = $1 \
                 ORDER BY s.name_en, m.position",
            )
            .bind(partner_id)
            .fetch_all(pool)
            .await?;
            Ok::<_, sqlx::Error>((entries, agreements, earmarks, memberships))
        }.await)
        .map_err(StoreError::query(operation))?;

        // The US dollar value of each public share, from its commitment entry.
        let share_values: Vec<(i64, Option<String>)> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(
                "SELECT l.agreement_id, CAST(l.usd_amount AS TEXT) FROM ledger_entry l \
                 JOIN agreement a ON a.id = l.agreement_id WHERE l.kind = 'commitment' \
                 AND l.partner_id = $1 AND a.confidential = $2",
            )
            .bind(partner_id)
            .bind(false)
            .fetch_all(pool)
            .await
        })
        .map_err(StoreError::query(operation))?;
        let mut usd_by_agreement: BTreeMap<i64, Decimal> = BTreeMap::new();
        for (agreement, usd) in share_values {
            if let Some(usd) = usd {
                *usd_by_agreement.entry(agreement).or_default() += parse_decimal(&usd, operation)?;
            }
        }

        let contributions = partner_contributions(entries, &rule, operation)?;
        let public_agreements = agreements
            .into_iter()
            .map(
                |(id, key, en, fr, es, modality, status, signature_date, share, currency)| {
                    Ok(PublicAgreement {
                        key,
                        title: Names { en, fr, es },
                        modality,
                        status,
                        signature_date,
                        share: parse_decimal(&share, operation)?,
                        currency,
                        share_usd: usd_by_agreement.get(&id).copied(),
                    })
                },
            )
            .collect::<Result<Vec<_>, StoreError>>()?;
        let identifiers: Vec<String> = earmarks.into_iter().map(|row| row.0).collect();
        let earmarked_projects = self.project_links(&identifiers, lang).await?;
        let names = Names {
            en: row.2,
            fr: row.3,
            es: row.4,
        };
        let rollup = row.11.map(|code| {
            let names = Rollups::bundled()
                .target(&code)
                .map(Names::from)
                .unwrap_or_else(|| Names {
                    en: code.clone(),
                    fr: code.clone(),
                    es: code.clone(),
                });
            (code, names)
        });
        Ok(Some(PartnerDetail {
            partnerships: memberships
                .into_iter()
                .map(|(partnership, en, fr, es, role)| Membership {
                    partnership_key: partnership,
                    partnership_names: Names { en, fr, es },
                    partner_key: row.1.clone(),
                    partner_names: names.clone(),
                    partner_group: row.8.clone(),
                    role,
                })
                .collect(),
            key: row.1,
            names,
            iati_ref: row.5,
            organisation_type: row.6,
            country: row.7,
            group: row.8,
            group_set_by_hand: row.9.is_some(),
            group_rule: row.10,
            rollup,
            contributions,
            agreements: public_agreements,
            earmarked_projects,
            synthetic: row.12,
        }))
    }

    /// The partners funding work in a country or policy area, and the recipient countries of
    /// the programmes and projects there.
    pub async fn place(&self, scope: Scope<'_>) -> Result<PlaceDetail, StoreError> {
        let operation = "reading a country or policy area";
        let (condition, binds) = self.scope_condition(scope).await?;
        let funder_sql = format!(
            "SELECT DISTINCT po.ref FROM participating_org po JOIN activity a \
             ON a.id = po.activity_id WHERE po.role = '1' AND po.ref IS NOT NULL AND {condition}"
        );
        let countries_sql = format!(
            "SELECT UPPER(TRIM(rc.code)), COUNT(DISTINCT a.id) FROM activity a \
             JOIN recipient_country rc ON rc.activity_id = a.id WHERE {condition} \
             GROUP BY UPPER(TRIM(rc.code))"
        );
        let (earmark_kind, earmark_target) = match scope {
            Scope::Country(code) => ("country", code.to_owned()),
            Scope::PolicyArea(area) => ("policy_area", area.code().to_owned()),
        };
        let (funder_refs, countries, earmarking): (Vec<String>, Vec<(String, i64)>, Vec<i64>) =
            dispatch!(&self.pool, Pool, pool => async {
                let mut funders = sqlx::query_scalar(&funder_sql);
                let mut countries = sqlx::query_as(&countries_sql);
                for value in &binds {
                    funders = funders.bind(value);
                    countries = countries.bind(value);
                }
                let earmarking = sqlx::query_scalar(
                    "SELECT DISTINCT ap.partner_id FROM earmark e \
                     JOIN agreement a ON a.id = e.agreement_id \
                     JOIN agreement_partner ap ON ap.agreement_id = a.id \
                     WHERE a.confidential = $1 AND e.target_kind = $2 AND e.target = $3",
                )
                .bind(false)
                .bind(earmark_kind)
                .bind(&earmark_target)
                .fetch_all(pool)
                .await?;
                Ok::<_, sqlx::Error>((
                    funders.fetch_all(pool).await?,
                    countries.fetch_all(pool).await?,
                    earmarking,
                ))
            }.await)
            .map_err(StoreError::query(operation))?;
        let funder_refs: BTreeSet<String> = funder_refs
            .into_iter()
            .map(|reference| reference.trim().to_owned())
            .collect();
        let earmarking: BTreeSet<i64> = earmarking.into_iter().collect();
        let rows: Vec<PlacePartnerRow> = dispatch!(&self.pool, Pool, pool => {
            sqlx::query_as(
                "SELECT id, key, name_en, name_fr, name_es, iati_ref, partner_group FROM partner",
            )
            .fetch_all(pool)
            .await
        })
        .map_err(StoreError::query(operation))?;
        let mut partners: Vec<PartnerLink> = rows
            .into_iter()
            .filter(|row| {
                earmarking.contains(&row.0)
                    || row
                        .5
                        .as_deref()
                        .is_some_and(|reference| funder_refs.contains(reference.trim()))
            })
            .map(|row| PartnerLink {
                key: row.1,
                names: Names {
                    en: row.2,
                    fr: row.3,
                    es: row.4,
                },
                group: row.6,
            })
            .collect();
        partners.sort_by(|a, b| a.names.en.cmp(&b.names.en).then(a.key.cmp(&b.key)));
        let mut countries: Vec<(String, u64)> = countries
            .into_iter()
            .map(|(code, count)| (code, count as u64))
            .collect();
        countries.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(PlaceDetail {
            partners,
            countries,
        })
    }

    /// The budgets of the programmes and projects in a country, by year of the budget period's
    /// start, in US dollars. A budget of several countries counts at the country's percentage
    /// (equal parts when none is given); the hierarchy and revised-budget rules are those of
    /// `portfolio_budget`.
    pub async fn country_budget(
        &self,
        alpha2: &str,
    ) -> Result<Figure<Vec<YearAmount>>, StoreError> {
        let operation = "computing a country's budget";
        let organisation = self.setting(ORGANISATION_REF).await?;
        let mut sql = "SELECT a.id, b.type, b.period_start, CAST(l.usd_amount AS TEXT), \
             l.conversion_status, CAST(rc.percentage AS TEXT), \
             (SELECT COUNT(*) FROM recipient_country r2 WHERE r2.activity_id = a.id), l.rate_source \
             FROM ledger_entry l JOIN budget b ON b.id = l.source_id \
             JOIN activity a ON a.id = l.activity_id \
             JOIN recipient_country rc ON rc.activity_id = a.id AND UPPER(TRIM(rc.code)) = $1 \
             WHERE l.kind = 'budget' AND l.source_table = 'budget' AND NOT EXISTS \
             (SELECT 1 FROM related_activity r JOIN activity parent \
             ON parent.iati_identifier = r.iati_identifier \
             WHERE r.activity_id = a.id AND r.type = '1')"
            .to_owned();
        if organisation.is_some() {
            sql.push_str(" AND a.reporting_org_ref = $2");
        }
        type Row = (
            i64,
            Option<String>,
            Option<String>,
            Option<String>,
            String,
            Option<String>,
            i64,
            Option<String>,
        );
        let rows: Vec<Row> = dispatch!(&self.pool, Pool, pool => {
            let mut query = sqlx::query_as(&sql).bind(alpha2);
            if let Some(organisation) = &organisation {
                query = query.bind(organisation);
            }
            query.fetch_all(pool).await
        })
        .map_err(StoreError::query(operation))?;
        let revised: BTreeSet<(i64, Option<String>)> = rows
            .iter()
            .filter(|row| row.1.as_deref() == Some("2"))
            .map(|row| (row.0, row.2.clone()))
            .collect();
        let mut by_year: BTreeMap<i32, Decimal> = BTreeMap::new();
        let mut converted = 0;
        let mut without_rate = 0;
        let mut sources = BTreeSet::new();
        for (activity, kind, start, usd, status, percentage, countries, source) in rows {
            if kind.as_deref() != Some("2") && revised.contains(&(activity, start.clone())) {
                continue;
            }
            let Some(year) = start
                .as_deref()
                .and_then(|start| start.get(..4))
                .and_then(|year| year.parse::<i32>().ok())
            else {
                continue;
            };
            let (Some(usd), "converted") = (usd, status.as_str()) else {
                without_rate += 1;
                continue;
            };
            let share = match percentage.as_deref().map(|p| parse_decimal(p, operation)) {
                Some(percentage) => percentage? / Decimal::ONE_HUNDRED,
                None => Decimal::ONE / Decimal::from(countries.max(1)),
            };
            *by_year.entry(year).or_default() +=
                (parse_decimal(&usd, operation)? * share).round_dp(2);
            converted += 1;
            sources.extend(source);
        }
        let first = by_year.keys().next().copied();
        let last = by_year.keys().next_back().copied();
        let method = MethodNote {
            basis: method_text::COUNTRY_BUDGET_BASIS.say(&[("country", alpha2)]),
            period: match (first, last) {
                (Some(first), Some(last)) => format!("{first}-{last}"),
                _ => method_text::NO_PERIOD.say(&[]),
            },
            first_day: first.map(|year| format!("{year:04}-01-01")).unwrap_or_default(),
            last_day: last.map(|year| format!("{year:04}-12-31")).unwrap_or_default(),
            modalities: Vec::new(),
            partner_groups: Vec::new(),
            hierarchy_rule: "a project whose parent programme is stored is left out: the parent's budget counts, never both".to_owned(),
            revised_budget_rule: "a revised budget replaces the original of the same activity and period".to_owned(),
            conversion: ConversionNote {
                rule: method_text::BUDGET_CONVERSION.say(&[]),
                sources: sources.into_iter().collect(),
                entries_converted: converted,
                entries_without_rate: without_rate,
            },
            withheld: Withheld {
                note: method_text::WITHHELD_BUDGETS.say(&[("rates", &without_rate.to_string())]),
                ..Withheld::default()
            },
        };
        Ok(Figure {
            value: by_year
                .into_iter()
                .map(|(year, usd)| YearAmount { year, usd })
                .collect(),
            method,
        })
    }

    /// Every multi-stakeholder partnership, by English name.
    pub async fn partnerships(&self) -> Result<Vec<PartnershipSummary>, StoreError> {
        let operation = "listing partnerships";
        type Row = (i64, String, String, String, String, String, bool, i64);
        let (rows, areas): (Vec<Row>, Vec<(i64, String)>) =
            dispatch!(&self.pool, Pool, pool => async {
                let rows = sqlx::query_as(
                    "SELECT s.id, s.key, s.name_en, s.name_fr, s.name_es, s.level, s.synthetic, \
                     (SELECT COUNT(*) FROM partnership_member m WHERE m.partnership_id = s.id) \
                     FROM partnership s ORDER BY s.name_en, s.key",
                )
                .fetch_all(pool)
                .await?;
                let areas = sqlx::query_as(
                    "SELECT partnership_id, policy_area FROM partnership_policy_area \
                     ORDER BY partnership_id, policy_area",
                )
                .fetch_all(pool)
                .await?;
                Ok::<_, sqlx::Error>((rows, areas))
            }.await)
            .map_err(StoreError::query(operation))?;
        Ok(rows
            .into_iter()
            .map(
                |(id, key, en, fr, es, level, synthetic, members)| PartnershipSummary {
                    key,
                    names: Names { en, fr, es },
                    level,
                    policy_areas: areas
                        .iter()
                        .filter(|area| area.0 == id)
                        .map(|area| area.1.clone())
                        .collect(),
                    members: members as u64,
                    synthetic,
                },
            )
            .collect())
    }

    /// One multi-stakeholder partnership by key, with its members in order, if stored.
    pub async fn partnership(&self, key: &str) -> Result<Option<PartnershipDetail>, StoreError> {
        let operation = "reading a partnership";
        let Some(summary) = self
            .partnerships()
            .await?
            .into_iter()
            .find(|partnership| partnership.key == key)
        else {
            return Ok(None);
        };
        let members: Vec<(String, String, String, String, String, String)> =
            dispatch!(&self.pool, Pool, pool => {
                sqlx::query_as(
                    "SELECT p.key, p.name_en, p.name_fr, p.name_es, p.partner_group, m.role \
                     FROM partnership_member m JOIN partnership s ON s.id = m.partnership_id \
                     JOIN partner p ON p.id = m.partner_id WHERE s.key = $1 ORDER BY m.position",
                )
                .bind(key)
                .fetch_all(pool)
                .await
            })
            .map_err(StoreError::query(operation))?;
        Ok(Some(PartnershipDetail {
            members: members
                .into_iter()
                .map(|(partner, en, fr, es, group, role)| Membership {
                    partnership_key: summary.key.clone(),
                    partnership_names: summary.names.clone(),
                    partner_key: partner,
                    partner_names: Names { en, fr, es },
                    partner_group: group,
                    role,
                })
                .collect(),
            summary,
        }))
    }

    /// The title of each activity in `lang` (else English or without a language, else its
    /// first), for the identifiers given, in their order; an identifier not stored comes back
    /// without a title.
    pub async fn project_links(
        &self,
        identifiers: &[String],
        lang: &str,
    ) -> Result<Vec<ProjectLink>, StoreError> {
        if identifiers.is_empty() {
            return Ok(Vec::new());
        }
        let operation = "reading programme and project titles";
        let mut found: BTreeMap<String, Option<String>> = BTreeMap::new();
        // Chunks keep the statement within both backends' limits on bound values.
        for chunk in identifiers.chunks(500) {
            let placeholders: Vec<String> = (2..chunk.len() + 2).map(|n| format!("${n}")).collect();
            let sql = format!(
                "SELECT a.iati_identifier, (SELECT n.text FROM activity_narrative n \
                 WHERE n.activity_id = a.id AND n.element = 'title' ORDER BY CASE \
                 WHEN n.lang = $1 THEN 0 WHEN n.lang = 'en' OR n.lang IS NULL THEN 1 ELSE 2 END, \
                 n.position LIMIT 1) FROM activity a WHERE a.iati_identifier IN ({})",
                placeholders.join(", ")
            );
            let rows: Vec<(String, Option<String>)> = dispatch!(&self.pool, Pool, pool => {
                let mut query = sqlx::query_as(&sql).bind(lang);
                for identifier in chunk {
                    query = query.bind(identifier);
                }
                query.fetch_all(pool).await
            })
            .map_err(StoreError::query(operation))?;
            found.extend(rows);
        }
        Ok(identifiers
            .iter()
            .map(|identifier| match found.get(identifier) {
                Some(title) => ProjectLink {
                    identifier: identifier.clone(),
                    title: title.clone(),
                    stored: true,
                },
                None => ProjectLink {
                    identifier: identifier.clone(),
                    title: None,
                    stored: false,
                },
            })
            .collect())
    }

    /// The partners that IATI organisation identifiers name, as identifier → partner key, for
    /// the identifiers that name a stored partner (the first by key when several share one).
    pub async fn partner_keys_for_refs(
        &self,
        references: &[String],
    ) -> Result<BTreeMap<String, String>, StoreError> {
        let mut keys = BTreeMap::new();
        for chunk in references.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
            let sql = format!(
                "SELECT iati_ref, key FROM partner WHERE iati_ref IN ({}) ORDER BY key",
                placeholders.join(", ")
            );
            let rows: Vec<(String, String)> = dispatch!(&self.pool, Pool, pool => {
                let mut query = sqlx::query_as(&sql);
                for reference in chunk {
                    query = query.bind(reference);
                }
                query.fetch_all(pool).await
            })
            .map_err(StoreError::query("finding partners by IATI identifier"))?;
            for (reference, key) in rows {
                keys.entry(reference).or_insert(key);
            }
        }
        Ok(keys)
    }

    /// The SQL condition on `activity a` that selects a scope's programmes and projects, with
    /// its bound values as `$1`, `$2`...; the organisation setting applies as in the explorer.
    async fn scope_condition(&self, scope: Scope<'_>) -> Result<(String, Vec<String>), StoreError> {
        let mut binds: Vec<String> = Vec::new();
        let mut bind = |value: String| {
            binds.push(value);
            format!("${}", binds.len())
        };
        let mut conditions = Vec::new();
        if let Some(organisation) = self.setting(ORGANISATION_REF).await? {
            conditions.push(format!("a.reporting_org_ref = {}", bind(organisation)));
        }
        match scope {
            Scope::Country(code) => conditions.push(format!(
                "EXISTS (SELECT 1 FROM recipient_country c WHERE c.activity_id = a.id \
                 AND UPPER(TRIM(c.code)) = {})",
                bind(code.to_ascii_uppercase())
            )),
            Scope::PolicyArea(area) => {
                // As in the explorer and the figures: an area set by hand replaces those mapped
                // from the DAC sectors.
                let sectors = self.sector_codes_for(area).await?;
                let hand_set = format!(
                    "EXISTS (SELECT 1 FROM activity_policy_area pa \
                     WHERE pa.activity_identifier = a.iati_identifier AND pa.policy_area = {})",
                    bind(area.code().to_owned())
                );
                let mapped = if sectors.is_empty() {
                    "1 = 0".to_owned()
                } else {
                    let placeholders: Vec<String> = sectors.into_iter().map(&mut bind).collect();
                    format!(
                        "(NOT EXISTS (SELECT 1 FROM activity_policy_area pa \
                         WHERE pa.activity_identifier = a.iati_identifier) \
                         AND EXISTS (SELECT 1 FROM sector s WHERE s.activity_id = a.id \
                         AND (s.vocabulary IS NULL OR s.vocabulary = '1') AND s.code IN ({})))",
                        placeholders.join(", ")
                    )
                };
                conditions.push(format!("({hand_set} OR {mapped})"));
            }
        }
        Ok((conditions.join(" AND "), binds))
    }
}

/// A partner's approved contributions by biennium and modality, with the method note.
fn partner_contributions(
    entries: Vec<EntryRow>,
    rule: &PeriodRule,
    operation: &'static str,
) -> Result<Figure<Vec<PeriodAmount>>, StoreError> {
    let mut sums: BTreeMap<(i32, String), Decimal> = BTreeMap::new();
    let mut periods: BTreeMap<i32, Period> = BTreeMap::new();
    let mut converted = 0;
    let mut without_rate = 0;
    let mut confidential = 0;
    for (date, modality, usd, status, is_confidential) in entries {
        let Some(period) = date.as_deref().and_then(|date| rule.biennium_of(date).ok()) else {
            continue;
        };
        let (Some(usd), "converted") = (usd, status.as_str()) else {
            without_rate += 1;
            continue;
        };
        periods.insert(period.first_year(), period);
        *sums.entry((period.first_year(), modality)).or_default() +=
            parse_decimal(&usd, operation)?;
        converted += 1;
        if is_confidential {
            confidential += 1;
        }
    }
    let first = periods.values().next().copied();
    let last = periods.values().next_back().copied();
    let method = MethodNote {
        basis: method_text::PARTNER_BASIS.say(&[]),
        period: match (first, last) {
            (Some(first), Some(last)) if first == last => period_label(first),
            (Some(first), Some(last)) => method_text::PERIOD_RANGE.say(&[
                ("first", &period_label(first)),
                ("last", &period_label(last)),
            ]),
            _ => method_text::NO_PERIOD.say(&[]),
        },
        first_day: first.map(Period::first_day).unwrap_or_default(),
        last_day: last.map(Period::last_day).unwrap_or_default(),
        modalities: voluntary_modalities(),
        partner_groups: Vec::new(),
        hierarchy_rule: HIERARCHY.to_owned(),
        revised_budget_rule: NOT_BUDGETS.to_owned(),
        conversion: ConversionNote {
            rule: CONVERSION.to_owned(),
            sources: Vec::new(),
            entries_converted: converted,
            entries_without_rate: without_rate,
        },
        withheld: Withheld {
            without_rate: Vec::new(),
            confidential_agreements: confidential,
            note: method_text::WITHHELD_PARTNER_SHARES.say(&[
                ("rates", &without_rate.to_string()),
                ("confidential", &confidential.to_string()),
            ]),
        },
    };
    Ok(Figure {
        value: sums
            .into_iter()
            .map(|((first_year, modality), usd)| PeriodAmount {
                period: period_label(periods[&first_year]),
                modality,
                usd,
            })
            .collect(),
        method,
    })
}

/// An exact decimal as its text ("1500000.5"), never a JSON number.
fn exact<S: serde::Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&value.normalize())
}

fn optional_cents<S: serde::Serializer>(
    value: &Option<Decimal>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(usd) => cents(usd, serializer),
        None => serializer.serialize_none(),
    }
}
