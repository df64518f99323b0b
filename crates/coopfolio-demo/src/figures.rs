//! The headline figures, computed from records exactly as the crate's contract (in `lib.rs`) defines
//! them. The generator uses them to check its calibration, and the `demo` command can show them; the
//! store computes the same figures from its own tables, and the two must agree.

use std::collections::{BTreeSet, HashMap};

use coopfolio_core::partnership::{Agreement, Partner};
use coopfolio_core::period::Period;
use coopfolio_core::rates::{Conversion, ExchangeRates};
use coopfolio_core::reference::Names;
use coopfolio_core::rollup::Rollups;
use coopfolio_iati::model::Activity;
use rust_decimal::Decimal;

use crate::partners::effective_group;

/// One agreement share that could not be converted to US dollars: flagged, never counted as zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unconverted {
    pub agreement_key: String,
    pub partner_key: String,
}

/// Approved voluntary contributions of a period, in US dollars, and the shares that could not be
/// converted (none in the demo).
pub fn approved_voluntary_usd(
    agreements: &[Agreement],
    period: Period,
) -> (Decimal, Vec<Unconverted>) {
    let mut total = Decimal::ZERO;
    let mut unconverted = Vec::new();
    for (agreement, share, usd) in approved_voluntary_shares(agreements, period) {
        match usd {
            Some(usd) => total += usd,
            None => unconverted.push(Unconverted {
                agreement_key: agreement.key.clone(),
                partner_key: share.clone(),
            }),
        }
    }
    (total, unconverted)
}

/// One line of a contributor ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct Contributor {
    /// The roll-up code ("united-nations") or the partner's key.
    pub code: String,
    pub names: Names,
    pub usd: Decimal,
}

/// The contributor ranking of a period: approved voluntary US dollars by rolled-up contributor, largest
/// first (ties by code, so that the order is stable).
pub fn contributor_ranking(
    partners: &[Partner],
    agreements: &[Agreement],
    period: Period,
) -> Vec<Contributor> {
    let by_key: HashMap<&str, &Partner> = partners.iter().map(|p| (p.key.as_str(), p)).collect();
    let mut totals: HashMap<String, Contributor> = HashMap::new();
    for (_, partner_key, usd) in approved_voluntary_shares(agreements, period) {
        let Some(usd) = usd else { continue };
        let Some(partner) = by_key.get(partner_key.as_str()) else {
            continue;
        };
        let group = effective_group(partner);
        let (code, names) = match Rollups::bundled().roll_up(partner.iati_ref.as_deref(), group) {
            Some(target) => (target.code.clone(), Names::from(target)),
            None => (partner.key.clone(), partner.names.clone()),
        };
        totals
            .entry(code.clone())
            .or_insert(Contributor {
                code,
                names,
                usd: Decimal::ZERO,
            })
            .usd += usd;
    }
    let mut ranking: Vec<Contributor> = totals.into_values().collect();
    ranking.sort_by(|a, b| b.usd.cmp(&a.usd).then_with(|| a.code.cmp(&b.code)));
    ranking
}

/// Whether an activity is active in a period: it starts by the period's last day and ends on or after its
/// first day, or has no end. The start is the actual start (type 2), else the planned start (type 1); the
/// end is the actual end (type 4), else the planned end (type 3). An activity without a start is not active.
pub fn is_active_in(activity: &Activity, period: Period) -> bool {
    let date = |kind: &str| {
        activity
            .dates
            .iter()
            .find(|d| d.kind == kind)
            .map(|d| d.date.as_str())
    };
    let Some(start) = date("2").or_else(|| date("1")) else {
        return false;
    };
    let end = date("4").or_else(|| date("3"));
    start <= period.last_day().as_str() && end.is_none_or(|end| end >= period.first_day().as_str())
}

/// The distinct recipient countries (alpha-2) of the activities active in a period.
pub fn countries_reached<'a>(
    activities: impl IntoIterator<Item = &'a Activity>,
    period: Period,
) -> BTreeSet<String> {
    activities
        .into_iter()
        .filter(|a| is_active_in(a, period))
        .flat_map(|a| a.recipient_countries.iter().map(|c| c.code.clone()))
        .collect()
}

/// Every share that counts as approved voluntary funding in the period, with its US dollar value at the
/// signature date (None when it cannot be converted).
fn approved_voluntary_shares(
    agreements: &[Agreement],
    period: Period,
) -> impl Iterator<Item = (&Agreement, String, Option<Decimal>)> {
    let rates = ExchangeRates::bundled();
    agreements
        .iter()
        .filter(move |a| {
            a.status.counts_as_approved()
                && a.modality.is_voluntary()
                && a.signature_date
                    .as_deref()
                    .is_some_and(|d| period.contains(d))
        })
        .flat_map(move |agreement| {
            let signature = agreement.signature_date.as_deref().expect("filtered on it");
            agreement.partners.iter().map(move |share| {
                let usd = match rates.to_usd(share.amount, agreement.currency.as_str(), signature) {
                    Conversion::Converted { usd, .. } => Some(usd),
                    Conversion::NoRate { .. } => None,
                };
                (agreement, share.partner_key.clone(), usd)
            })
        })
}
