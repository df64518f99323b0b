//! The agreements: who funds the organisation, when, in which currency, and for which projects. The
//! amounts are drawn so that the figures of the crate's contract come out as calibrated: every partner
//! gets a budget in US dollars for each biennium, its agreements are drawn in its own currency and
//! converted exactly as the store converts them, and its last agreement of the biennium, in US dollars,
//! takes whatever is left, so that the budgets (and the 2022-23 total) are met to the cent.

use std::collections::HashMap;

use coopfolio_core::modality::Modality;
use coopfolio_core::partner_group::PartnerGroup;
use coopfolio_core::partnership::{
    Agreement, AgreementPartner, AgreementStatus, Earmark, EarmarkTarget, Instalment,
};
use coopfolio_core::policy_area::PolicyArea;
use coopfolio_core::rates::{Basis, Conversion, ExchangeRates};
use coopfolio_core::reference::Names;
use coopfolio_core::value::CurrencyCode;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::date::Day;
use crate::partners::{labelled, FunderKind, PartnerProfile};
use crate::portfolio::{as_of, Planned};
use crate::rng::Rng;

/// The bienniums of the demo and their approved voluntary contributions in US dollars. 2022-23 is met
/// exactly, the others within 3%; 2024-25 is "to date", up to the demo's today.
pub(crate) const BIENNIUMS: [(i64, i64); 5] = [
    (2016, 700_000_000),
    (2018, 780_000_000),
    (2020, 840_000_000),
    (2022, 965_100_000),
    (2024, 600_000_000),
];

/// The 2022-23 targets of the largest contributors, in US dollars (each moved by up to US$300,000), by rank: Germany, the European Union
/// (all its services), the United States, the Netherlands, the United Kingdom, the United Nations (all
/// its entities), Norway, Sweden, Switzerland. The United Nations is sixth with a gap of about 17% to the
/// fifth and 19% to the seventh; no other partner may come near (see `cap`).
const TOP_2022: [i64; 9] = [
    141_200_000,
    118_600_000,
    104_300_000,
    79_800_000,
    66_400_000,
    55_300_000,
    44_900_000,
    39_700_000,
    33_100_000,
];
/// The ranks of the two roll-ups in `TOP_2022`.
const EUROPEAN_UNION_RANK: usize = 1;
const UNITED_NATIONS_RANK: usize = 5;

/// The smallest agreement drawn (US dollars), so that a remainder is never a few cents.
const SMALLEST: i64 = 150_000;

/// The agreements and which projects each funds.
pub(crate) struct FundingPlan {
    pub(crate) agreements: Vec<Agreement>,
    /// For each activity of the base portfolio (by position in the plan): the agreements that fund it, with
    /// the share earmarked for it in US dollars.
    pub(crate) funders_by_slot: Vec<Vec<(usize, Decimal)>>,
}

/// What an agreement is worth in US dollars at its signature, kept while drawing.
struct Drawn {
    usd: Decimal,
}

pub(crate) fn build(rng: &mut Rng, profiles: &[PartnerProfile], plan: &[Planned]) -> FundingPlan {
    let mut agreements: Vec<Agreement> = Vec::new();
    let mut drawn: Vec<Drawn> = Vec::new();
    for (first_year, total) in BIENNIUMS {
        let budgets = budgets(rng, profiles, first_year, total);
        draw_biennium(
            rng,
            profiles,
            first_year,
            &budgets,
            &mut agreements,
            &mut drawn,
        );
        add_uncounted(rng, profiles, first_year, &mut agreements, &mut drawn);
    }
    ensure_a_signed_agreement(&mut agreements);
    let funders_by_slot = link_projects(rng, profiles, plan, &mut agreements, &drawn);
    for (index, agreement) in agreements.iter_mut().enumerate() {
        agreement.key = format!("agr-{:04}", index + 1);
        agreement.confidential = rng.percent(5);
    }
    FundingPlan {
        agreements,
        funders_by_slot,
    }
}

/// Each partner's approved voluntary funding in a biennium, in whole US dollars, adding up to `total`.
fn budgets(
    rng: &mut Rng,
    profiles: &[PartnerProfile],
    first_year: i64,
    total: i64,
) -> Vec<(usize, i64)> {
    let exact = first_year == 2022;
    // The other bienniums' totals are the round figures of BIENNIUMS give or take 3%, so that only 2022-23
    // reads as calibrated.
    let total = if exact {
        total
    } else {
        total / 100 * rng.between(97, 103) / 10_000 * 10_000
    };
    let scale = |amount: i64, rng: &mut Rng| -> i64 {
        if exact {
            // Within a few hundred thousand dollars of the target: the ranks and their gaps do not move.
            amount + rng.between(-300_000, 300_000)
        } else {
            // Other bienniums keep the 2022-23 order of magnitude, shuffled a little.
            let jitter = rng.between(92, 108);
            let scaled = i128::from(amount) * i128::from(total) * i128::from(jitter)
                / (i128::from(TOP_2022_TOTAL) * 100 * 100)
                * 100;
            scaled as i64
        }
    };
    let mut targets = [0i64; 9];
    for (rank, target) in targets.iter_mut().enumerate() {
        *target = scale(TOP_2022[rank], rng);
    }
    let mut budgets: Vec<(usize, i64)> = Vec::new();
    for (index, profile) in profiles.iter().enumerate() {
        if let FunderKind::Top { rank } = profile.kind {
            budgets.push((index, targets[rank]));
        }
    }
    split_among(
        rng,
        profiles,
        targets[EUROPEAN_UNION_RANK],
        |kind| match kind {
            FunderKind::EuropeanUnion { weight } => Some(weight),
            _ => None,
        },
        &mut budgets,
    );
    split_among(
        rng,
        profiles,
        targets[UNITED_NATIONS_RANK],
        |kind| match kind {
            FunderKind::UnitedNations { weight } => Some(weight),
            _ => None,
        },
        &mut budgets,
    );

    // The rest goes to the other partners that fund in this biennium, none near the United Nations.
    let rest = total - targets.iter().sum::<i64>();
    let cap = targets[UNITED_NATIONS_RANK] * 3 / 4;
    let mut weights: Vec<(usize, i64)> = Vec::new();
    for (index, profile) in profiles.iter().enumerate() {
        let (chance, weight) = match (profile.kind, profile.group) {
            (FunderKind::Domestic, _) => (60, 5),
            (FunderKind::Other, PartnerGroup::Government) => (90, 10),
            (FunderKind::Other, PartnerGroup::Ifi) => (60, 8),
            (FunderKind::Other, PartnerGroup::Intergovernmental) => (50, 4),
            (FunderKind::Other, PartnerGroup::Foundation) => (50, 3),
            (FunderKind::Other, PartnerGroup::PrivateSector) => (40, 2),
            (FunderKind::Other, PartnerGroup::SocialPartner) => (40, 2),
            (FunderKind::Other, PartnerGroup::CivilSociety) => (20, 1),
            (FunderKind::Other, PartnerGroup::Academic) => (20, 1),
            (FunderKind::Other, _) => (30, 1),
            _ => continue,
        };
        if rng.percent(chance) {
            weights.push((index, weight * rng.between(50, 150)));
        }
    }
    let mut amounts: Vec<i64> = vec![0; weights.len()];
    let mut left = rest;
    let mut open: Vec<usize> = (0..weights.len()).collect();
    // Hand out the rest by weight; a partner that would pass the cap gets the cap and leaves the round, and
    // the others share what it did not take.
    while left > 0 && !open.is_empty() {
        let weight_total: i64 = open.iter().map(|&i| weights[i].1).sum();
        let mut given = 0;
        let mut still_open = Vec::new();
        for &i in &open {
            let share =
                (i128::from(left) * i128::from(weights[i].1) / i128::from(weight_total)) as i64;
            let room = cap - amounts[i];
            let share = share.min(room);
            amounts[i] += share;
            given += share;
            if amounts[i] < cap {
                still_open.push(i);
            }
        }
        left -= given;
        open = still_open;
        if given == 0 {
            // Only rounding is left: the first open partner takes it.
            if let Some(&i) = open.first() {
                amounts[i] += left;
                left = 0;
            }
        }
    }
    assert_eq!(
        left, 0,
        "the other partners can take the rest of {first_year}"
    );
    for ((index, _), amount) in weights.into_iter().zip(amounts) {
        if amount > 0 {
            budgets.push((index, amount));
        }
    }
    assert_eq!(budgets.iter().map(|(_, a)| a).sum::<i64>(), total);
    budgets
}

const TOP_2022_TOTAL: i64 = 965_100_000;

/// Split `amount` among the partners `weight_of` gives a weight, by weight with some variation.
fn split_among(
    rng: &mut Rng,
    profiles: &[PartnerProfile],
    amount: i64,
    weight_of: impl Fn(FunderKind) -> Option<u64>,
    budgets: &mut Vec<(usize, i64)>,
) {
    let members: Vec<(usize, i64)> = profiles
        .iter()
        .enumerate()
        .filter_map(|(index, profile)| {
            weight_of(profile.kind).map(|w| (index, w as i64 * rng.between(70, 130)))
        })
        .collect();
    let weight_total: i64 = members.iter().map(|(_, w)| w).sum();
    let mut given = 0;
    for (position, (index, weight)) in members.iter().enumerate() {
        let share = if position + 1 == members.len() {
            amount - given
        } else {
            (i128::from(amount) * i128::from(*weight) / i128::from(weight_total)) as i64 / 1000
                * 1000
        };
        given += share;
        budgets.push((*index, share));
    }
}

/// Draw the agreements that spend each partner's budget for the biennium.
fn draw_biennium(
    rng: &mut Rng,
    profiles: &[PartnerProfile],
    first_year: i64,
    budgets: &[(usize, i64)],
    agreements: &mut Vec<Agreement>,
    drawn: &mut Vec<Drawn>,
) {
    let mut remaining: HashMap<usize, Decimal> = budgets
        .iter()
        .map(|(index, amount)| (*index, Decimal::from(*amount)))
        .collect();
    let first_day = Day::from_ymd(first_year, 1, 1);
    let last_day = Day::from_ymd(first_year + 1, 12, 31).min(as_of());
    for (index, _) in budgets {
        let profile = &profiles[*index];
        let (smallest_draw, largest_draw) = match profile.kind {
            FunderKind::Top { .. } => (3_000_000, 18_000_000),
            FunderKind::UnitedNations { .. } | FunderKind::EuropeanUnion { .. } => {
                (800_000, 9_000_000)
            }
            _ => (SMALLEST, 5_000_000),
        };
        loop {
            let left = remaining[index];
            if left <= Decimal::ZERO {
                break;
            }
            let signature = Day(rng.between(first_day.0, last_day.0));
            let wanted = Decimal::from(rng.between(smallest_draw, largest_draw) / 1000 * 1000);
            let last = left - wanted < Decimal::from(SMALLEST);
            // A co-funder of the same kind shares some agreements (two governments, two UN entities).
            let cofunder = if !last && rng.percent(8) {
                budgets
                    .iter()
                    .map(|(i, _)| *i)
                    .filter(|i| {
                        i != index
                            && same_family(profile, &profiles[*i])
                            && remaining[i] > Decimal::from(4 * SMALLEST)
                    })
                    .nth(rng.below(3) as usize)
            } else {
                None
            };
            let (currency, shares, usd) = if last {
                // The last agreement takes the rest to the cent, so it is in US dollars.
                (usd(), vec![(*index, left)], vec![left])
            } else if let Some(cofunder) = cofunder {
                let second =
                    thousands(remaining[&cofunder] / Decimal::from(3)).max(Decimal::from(SMALLEST));
                (
                    usd(),
                    vec![(*index, wanted), (cofunder, second)],
                    vec![wanted, second],
                )
            } else {
                match in_own_currency(profile.currency, wanted, signature, left) {
                    Some((currency, amount, usd_value)) => {
                        (currency, vec![(*index, amount)], vec![usd_value])
                    }
                    None => (usd(), vec![(*index, wanted)], vec![wanted]),
                }
            };
            for ((partner, _), value) in shares.iter().zip(&usd) {
                *remaining.get_mut(partner).expect("a partner with a budget") -= *value;
            }
            let modality = match profile.kind {
                FunderKind::Domestic => Modality::Domestic,
                _ if profile.group == PartnerGroup::Government
                    && shares.len() == 1
                    && rng.percent(15) =>
                {
                    Modality::CoreVoluntary
                }
                _ => Modality::Earmarked,
            };
            let agreement = signed_agreement(rng, profiles, modality, signature, currency, &shares);
            drawn.push(Drawn {
                usd: usd.iter().sum(),
            });
            agreements.push(agreement);
        }
    }
}

/// Rounded to a whole thousand, as agreements are signed.
fn thousands(amount: Decimal) -> Decimal {
    (amount / Decimal::from(1000)).round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
        * Decimal::from(1000)
}

fn same_family(a: &PartnerProfile, b: &PartnerProfile) -> bool {
    match (a.kind, b.kind) {
        (FunderKind::UnitedNations { .. }, FunderKind::UnitedNations { .. }) => true,
        (FunderKind::EuropeanUnion { .. }, FunderKind::EuropeanUnion { .. }) => true,
        (FunderKind::Other, FunderKind::Other) => a.group == b.group,
        _ => false,
    }
}

fn usd() -> CurrencyCode {
    CurrencyCode::parse("USD").expect("USD is a currency code")
}

/// `wanted` US dollars as a round amount of `currency` on `date`, with its exact value in US dollars, when
/// the bundled rates have the month (a yearly or missing rate is not risked) and the value stays below
/// what is left.
fn in_own_currency(
    currency: &str,
    wanted: Decimal,
    date: Day,
    left: Decimal,
) -> Option<(CurrencyCode, Decimal, Decimal)> {
    if currency == "USD" || date > Day::parse("2024-12-31") {
        return None;
    }
    let rates = ExchangeRates::bundled();
    let Conversion::Converted {
        rate,
        basis: Basis::Month,
        ..
    } = rates.to_usd(Decimal::ONE, currency, &date.iso())
    else {
        return None;
    };
    let amount = thousands(wanted * rate);
    match rates.to_usd(amount, currency, &date.iso()) {
        Conversion::Converted { usd, .. }
            if usd > Decimal::ZERO && usd <= left - Decimal::from(SMALLEST) =>
        {
            Some((CurrencyCode::parse(currency).ok()?, amount, usd))
        }
        _ => None,
    }
}

/// An agreement that counts: signed on `signature`, with its dates, status and instalments.
fn signed_agreement(
    rng: &mut Rng,
    profiles: &[PartnerProfile],
    modality: Modality,
    signature: Day,
    currency: CurrencyCode,
    shares: &[(usize, Decimal)],
) -> Agreement {
    let start = signature.plus(rng.between(15, 90));
    let end = start.plus(rng.between(365, 5 * 365));
    let status = if end < as_of() {
        AgreementStatus::Closed
    } else if start > as_of() {
        AgreementStatus::Signed
    } else {
        AgreementStatus::Active
    };
    let amount: Decimal = shares.iter().map(|(_, a)| *a).sum();
    let instalments = instalments(rng, signature, end, amount, true);
    Agreement {
        key: String::new(),
        title: title(rng, profiles, shares[0].0, modality),
        modality,
        status,
        partners: shares
            .iter()
            .map(|(index, amount)| AgreementPartner {
                partner_key: profiles[*index].partner.key.clone(),
                amount: *amount,
            })
            .collect(),
        signature_date: Some(signature.iso()),
        start_date: Some(start.iso()),
        end_date: Some(end.iso()),
        currency,
        amount,
        instalments,
        earmarking: Vec::new(),
        confidential: false,
        inquiry_key: None,
        synthetic: true,
    }
}

/// A schedule of one to four instalments between signature and end. Past instalments have mostly
/// arrived, some late and some in part; future ones have not.
fn instalments(
    rng: &mut Rng,
    signature: Day,
    end: Day,
    amount: Decimal,
    signed: bool,
) -> Vec<Instalment> {
    let count = rng.between(1, 4);
    let step = ((end.0 - signature.0 - 30) / count).max(1);
    let each = (amount / Decimal::from(count)).round_dp(2);
    let mut scheduled = Decimal::ZERO;
    (0..count)
        .map(|i| {
            let due = signature.plus(30 + i * step);
            let due_amount = if i + 1 == count {
                amount - scheduled
            } else {
                each
            };
            scheduled += due_amount;
            let (received_date, received_amount) = if !signed || due > as_of() {
                (None, None)
            } else {
                match rng.below(100) {
                    0..75 => (Some(due.plus(-rng.between(0, 10))), Some(due_amount)),
                    75..90 => {
                        let late = due.plus(rng.between(45, 240));
                        if late > as_of() {
                            (None, None)
                        } else {
                            (Some(late), Some(due_amount))
                        }
                    }
                    _ => {
                        let part = Decimal::from(rng.between(50, 90)) / Decimal::from(100);
                        (
                            Some(due.plus(rng.between(0, 20))),
                            Some((due_amount * part).round_dp(2)),
                        )
                    }
                }
            };
            Instalment {
                due_date: due.iso(),
                amount: due_amount,
                received_date: received_date.map(Day::iso),
                received_amount,
            }
        })
        .collect()
}

/// Agreements that never count as approved voluntary funding: assessed contributions, cancelled
/// agreements, and (for the current biennium) pledges and negotiations, which have no signature yet.
fn add_uncounted(
    rng: &mut Rng,
    profiles: &[PartnerProfile],
    first_year: i64,
    agreements: &mut Vec<Agreement>,
    drawn: &mut Vec<Drawn>,
) {
    let governments: Vec<usize> = profiles
        .iter()
        .enumerate()
        .filter(|(_, p)| p.group == PartnerGroup::Government && p.kind != FunderKind::Domestic)
        .map(|(i, _)| i)
        .collect();
    let others: Vec<usize> = profiles
        .iter()
        .enumerate()
        .filter(|(_, p)| p.kind == FunderKind::Other)
        .map(|(i, _)| i)
        .collect();
    let first_day = Day::from_ymd(first_year, 1, 1);
    let last_day = Day::from_ymd(first_year + 1, 12, 31).min(as_of());
    for _ in 0..2 {
        let partner = *rng.pick(&governments);
        let signature = Day::from_ymd(first_year, 1, 1).plus(rng.between(0, 60));
        let amount = Decimal::from(rng.between(2_000, 9_000) * 1000);
        let agreement = signed_agreement(
            rng,
            profiles,
            Modality::RegularBudget,
            signature,
            usd(),
            &[(partner, amount)],
        );
        drawn.push(Drawn { usd: amount });
        agreements.push(agreement);
    }
    for _ in 0..3 {
        let partner = *rng.pick(&others);
        let signature = Day(rng.between(first_day.0, last_day.0));
        let amount = Decimal::from(rng.between(300, 4_000) * 1000);
        let mut agreement = signed_agreement(
            rng,
            profiles,
            Modality::Earmarked,
            signature,
            usd(),
            &[(partner, amount)],
        );
        agreement.status = AgreementStatus::Cancelled;
        // Some cancelled agreements never got signed.
        if rng.percent(50) {
            agreement.signature_date = None;
        }
        for instalment in &mut agreement.instalments {
            instalment.received_date = None;
            instalment.received_amount = None;
        }
        drawn.push(Drawn { usd: amount });
        agreements.push(agreement);
    }
    if first_year == 2024 {
        for status in [AgreementStatus::Pledged, AgreementStatus::Negotiating] {
            for _ in 0..6 {
                let partner = *rng.pick(&others);
                let start = as_of().plus(rng.between(60, 540));
                let end = start.plus(rng.between(365, 4 * 365));
                let amount = Decimal::from(rng.between(500, 6_000) * 1000);
                let modality = if rng.percent(85) {
                    Modality::Earmarked
                } else {
                    Modality::CoreVoluntary
                };
                agreements.push(Agreement {
                    key: String::new(),
                    title: title(rng, profiles, partner, modality),
                    modality,
                    status,
                    partners: vec![AgreementPartner {
                        partner_key: profiles[partner].partner.key.clone(),
                        amount,
                    }],
                    signature_date: None,
                    start_date: Some(start.iso()),
                    end_date: Some(end.iso()),
                    currency: usd(),
                    amount,
                    instalments: instalments(rng, start, end, amount, false),
                    earmarking: Vec::new(),
                    confidential: false,
                    inquiry_key: None,
                    synthetic: true,
                });
                drawn.push(Drawn { usd: amount });
            }
        }
    }
}

/// Make sure one agreement is signed and not yet started, so that the status appears whatever the seed:
/// the latest signed agreement starts after the demo's today. Only the start moves, so no figure changes.
fn ensure_a_signed_agreement(agreements: &mut [Agreement]) {
    if agreements
        .iter()
        .any(|a| a.status == AgreementStatus::Signed)
    {
        return;
    }
    let latest = agreements
        .iter_mut()
        .filter(|a| a.status == AgreementStatus::Active && a.modality != Modality::RegularBudget)
        .max_by(|a, b| a.signature_date.cmp(&b.signature_date))
        .expect("there are active agreements");
    latest.start_date = Some(as_of().plus(30).iso());
    latest.status = AgreementStatus::Signed;
}

/// Choose the agreements that fund each project of the plan, and write the earmarking of every agreement:
/// its projects share most of its amount; what is not allocated to projects goes to a country or a
/// policy area.
fn link_projects(
    rng: &mut Rng,
    profiles: &[PartnerProfile],
    plan: &[Planned],
    agreements: &mut [Agreement],
    drawn: &[Drawn],
) -> Vec<Vec<(usize, Decimal)>> {
    let key_index: HashMap<&str, usize> = profiles
        .iter()
        .enumerate()
        .map(|(i, p)| (p.partner.key.as_str(), i))
        .collect();
    let lead =
        |agreement: &Agreement| &profiles[key_index[agreement.partners[0].partner_key.as_str()]];
    let biennium_of = |date: &str| {
        let year = Day::parse(date).year();
        year - year.rem_euclid(2)
    };
    // Candidates by biennium of signature; agreements not yet signed only fund projects not yet started.
    let mut by_biennium: HashMap<i64, Vec<usize>> = HashMap::new();
    let mut unsigned: Vec<usize> = Vec::new();
    for (index, agreement) in agreements.iter().enumerate() {
        let funds_projects = matches!(agreement.modality, Modality::Earmarked | Modality::Domestic)
            && agreement.status != AgreementStatus::Cancelled;
        if !funds_projects {
            continue;
        }
        match agreement.signature_date.as_deref() {
            Some(date) if agreement.status.counts_as_approved() => by_biennium
                .entry(biennium_of(date))
                .or_default()
                .push(index),
            _ => unsigned.push(index),
        }
    }
    let mut projects_of: Vec<Vec<usize>> = vec![Vec::new(); agreements.len()];
    for (slot, planned) in plan.iter().enumerate() {
        let biennium = biennium_of(&planned.start.iso()).clamp(2016, 2024);
        let mut candidates = by_biennium[&biennium].clone();
        if planned.start > as_of() {
            candidates.extend(&unsigned);
        }
        // Domestic trust funds pay for work in the funder's own country.
        let domestic: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&i| {
                agreements[i].modality == Modality::Domestic
                    && planned.countries.iter().any(|(code, _)| {
                        lead(&agreements[i]).partner.country.as_deref() == Some(code)
                    })
            })
            .collect();
        let earmarked: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&i| agreements[i].modality == Modality::Earmarked)
            .collect();
        let weights: Vec<u64> = earmarked
            .iter()
            .map(|&i| {
                let weight = (drawn[i].usd / Decimal::from(1000))
                    .trunc()
                    .to_u64()
                    .unwrap_or(1)
                    .max(1);
                // UN entities fund more, smaller projects (joint programmes, MPTF allocations).
                if lead(&agreements[i]).group == PartnerGroup::UnitedNations {
                    weight * 3 / 2
                } else {
                    weight
                }
            })
            .collect();
        let first = if !domestic.is_empty() && rng.percent(60) {
            *rng.pick(&domestic)
        } else {
            earmarked[rng.weighted(&weights)]
        };
        projects_of[first].push(slot);
        if rng.percent(12) {
            let second = earmarked[rng.weighted(&weights)];
            if second != first {
                projects_of[second].push(slot);
            }
        }
    }

    let mut funders_by_slot: Vec<Vec<(usize, Decimal)>> = vec![Vec::new(); plan.len()];
    for (index, agreement) in agreements.iter_mut().enumerate() {
        let projects = &projects_of[index];
        let amount = agreement.amount;
        let usd_per_unit = if amount.is_zero() {
            Decimal::ONE
        } else {
            drawn[index].usd / amount
        };
        let funds_projects = matches!(agreement.modality, Modality::Earmarked | Modality::Domestic)
            && agreement.status != AgreementStatus::Cancelled;
        if !funds_projects {
            continue;
        }
        let lead_country = lead(agreement).partner.country.clone();
        let unallocated_target = if agreement.modality == Modality::Domestic {
            EarmarkTarget::Country(lead_country.unwrap_or_else(|| "BR".to_owned()))
        } else if let Some((code, _)) = projects
            .first()
            .and_then(|&slot| plan[slot].countries.first())
        {
            EarmarkTarget::Country(code.clone())
        } else {
            EarmarkTarget::PolicyArea(*rng.pick(PolicyArea::ALL))
        };
        if projects.is_empty() {
            agreement.earmarking.push(Earmark {
                target: unallocated_target,
                amount,
            });
            continue;
        }
        let to_projects = if rng.percent(25) {
            (amount * Decimal::new(80, 2)).round_dp(2)
        } else {
            amount
        };
        let each = (to_projects / Decimal::from(projects.len() as u64)).round_dp(2);
        let mut allocated = Decimal::ZERO;
        for (position, &slot) in projects.iter().enumerate() {
            let share = if position + 1 == projects.len() {
                to_projects - allocated
            } else {
                each
            };
            allocated += share;
            agreement.earmarking.push(Earmark {
                target: EarmarkTarget::Project(crate::identifier(plan[slot].number)),
                amount: share,
            });
            funders_by_slot[slot].push((index, (share * usd_per_unit).round_dp(2)));
        }
        if to_projects < amount {
            agreement.earmarking.push(Earmark {
                target: unallocated_target,
                amount: amount - to_projects,
            });
        }
    }
    funders_by_slot
}

/// A title such as "Germany: earmarked contribution to decent work, 2022 (synthetic)".
fn title(rng: &mut Rng, profiles: &[PartnerProfile], lead: usize, modality: Modality) -> Names {
    let purposes: [[&str; 3]; 6] = [
        [
            "decent work programme",
            "programme de travail décent",
            "programa de trabajo decente",
        ],
        [
            "employment and skills partnership",
            "partenariat pour l'emploi et les compétences",
            "alianza para el empleo y las competencias",
        ],
        [
            "social protection floors",
            "socles de protection sociale",
            "pisos de protección social",
        ],
        [
            "fundamental principles and rights at work",
            "principes et droits fondamentaux au travail",
            "principios y derechos fundamentales en el trabajo",
        ],
        [
            "just transition support",
            "appui à la transition juste",
            "apoyo a la transición justa",
        ],
        [
            "labour migration governance",
            "gouvernance des migrations de main-d'œuvre",
            "gobernanza de la migración laboral",
        ],
    ];
    let purpose = rng.pick(&purposes);
    let kind: [&str; 3] = match modality {
        Modality::Earmarked => [
            "Earmarked contribution",
            "Contribution préaffectée",
            "Contribución asignada",
        ],
        Modality::CoreVoluntary => [
            "Core voluntary contribution",
            "Contribution volontaire de base",
            "Contribución voluntaria básica",
        ],
        Modality::Domestic => [
            "Domestic trust fund",
            "Fonds fiduciaire national",
            "Fondo fiduciario nacional",
        ],
        Modality::RegularBudget => [
            "Assessed contribution",
            "Contribution mise en recouvrement",
            "Contribución prorrateada",
        ],
    };
    let partner = &profiles[lead].partner.names;
    let strip = |name: &str, suffix: &str| name.strip_suffix(suffix).unwrap_or(name).to_owned();
    let names = [
        format!(
            "{}: {}",
            strip(&partner.en, crate::partners::SYNTHETIC[0]),
            kind[0]
        ),
        format!(
            "{} : {}",
            strip(&partner.fr, crate::partners::SYNTHETIC[1]),
            kind[1]
        ),
        format!(
            "{}: {}",
            strip(&partner.es, crate::partners::SYNTHETIC[2]),
            kind[2]
        ),
    ];
    let names = if modality == Modality::CoreVoluntary || modality == Modality::RegularBudget {
        names
    } else {
        [
            format!("{}, {}", names[0], purpose[0]),
            format!("{}, {}", names[1], purpose[1]),
            format!("{}, {}", names[2], purpose[2]),
        ]
    };
    labelled([&names[0], &names[1], &names[2]])
}
