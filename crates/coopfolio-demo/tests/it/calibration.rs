//! The figures the demo is calibrated on, computed from the records as the store will compute them.

use std::collections::{BTreeSet, HashMap};

use coopfolio_core::partner_group::PartnerGroupRules;
use coopfolio_core::partnership::Agreement;
use coopfolio_core::rates::{Conversion, ExchangeRates};
use coopfolio_core::rollup::Rollups;
use coopfolio_demo::{generate, DemoOptions, Workspace};
use coopfolio_iati::model::Activity;
use rust_decimal::Decimal;

use crate::WORKSPACE;

/// (first year, last year) of a biennium, and each approved voluntary share of an agreement signed in it,
/// in US dollars at the signature date, by partner key.
fn approved_voluntary_shares(agreements: &[Agreement], first_year: i32) -> Vec<(String, Decimal)> {
    let rates = ExchangeRates::bundled();
    let mut shares = Vec::new();
    for agreement in agreements {
        let Some(signature) = agreement.signature_date.as_deref() else {
            continue;
        };
        let year: i32 = signature[..4].parse().unwrap();
        if !(agreement.status.counts_as_approved()
            && agreement.modality.is_voluntary()
            && (first_year..=first_year + 1).contains(&year))
        {
            continue;
        }
        for share in &agreement.partners {
            match rates.to_usd(share.amount, agreement.currency.as_str(), signature) {
                Conversion::Converted { usd, .. } => shares.push((share.partner_key.clone(), usd)),
                Conversion::NoRate { reason } => panic!(
                    "{}: {} {} on {signature} cannot be converted: {reason}",
                    agreement.key, share.amount, agreement.currency
                ),
            }
        }
    }
    shares
}

fn total(workspace: &Workspace, first_year: i32) -> Decimal {
    approved_voluntary_shares(&workspace.agreements, first_year)
        .into_iter()
        .map(|(_, usd)| usd)
        .sum()
}

/// The ranking: (contributor code, US dollars), largest first.
fn ranking(workspace: &Workspace, first_year: i32) -> Vec<(String, Decimal)> {
    let partners: HashMap<&str, _> = workspace
        .partners
        .iter()
        .map(|p| (p.key.as_str(), p))
        .collect();
    let mut totals: HashMap<String, Decimal> = HashMap::new();
    for (key, usd) in approved_voluntary_shares(&workspace.agreements, first_year) {
        let partner = partners[key.as_str()];
        let group = partner.group_override.unwrap_or_else(|| {
            PartnerGroupRules::bundled()
                .derive(
                    partner.iati_ref.as_deref(),
                    partner.organisation_type.as_deref(),
                )
                .group
        });
        let contributor = Rollups::bundled()
            .roll_up(partner.iati_ref.as_deref(), group)
            .map(|target| target.code.clone())
            .unwrap_or(key);
        *totals.entry(contributor).or_default() += usd;
    }
    let mut ranking: Vec<(String, Decimal)> = totals.into_iter().collect();
    ranking.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranking
}

fn active_in(activity: &Activity, first: &str, last: &str) -> bool {
    let date = |kind: &str| {
        activity
            .dates
            .iter()
            .find(|d| d.kind == kind)
            .map(|d| d.date.as_str())
    };
    let start = date("2")
        .or(date("1"))
        .expect("every demo activity has a start");
    let end = date("4").or(date("3"));
    start <= last && end.is_none_or(|end| end >= first)
}

/// US$965,100,000.00.
fn exactly_965_1_million() -> Decimal {
    Decimal::from_str_exact("965100000.00").unwrap()
}

#[test]
fn approved_voluntary_contributions_of_2022_23_are_exactly_965_1_million_and_the_record() {
    let workspace = &*WORKSPACE;
    let record = total(workspace, 2022);
    assert_eq!(record, exactly_965_1_million());
    for (first_year, about_millions) in [(2016, 700), (2018, 780), (2020, 840), (2024, 600)] {
        let other = total(workspace, first_year);
        assert!(other < record, "{first_year}: {other}");
        let expected = Decimal::from(about_millions * 1_000_000);
        assert!(
            (other - expected).abs() < expected / Decimal::from(20),
            "{first_year}: {other}, expected about {expected}"
        );
    }
}

#[test]
fn the_calibration_holds_for_other_seeds() {
    for seed in [1, 99] {
        let workspace = generate(&DemoOptions { seed, scale: 1 });
        assert_eq!(
            total(&workspace, 2022),
            exactly_965_1_million(),
            "seed {seed}"
        );
        assert_eq!(
            ranking(&workspace, 2022)[5].0,
            "united-nations",
            "seed {seed}"
        );
    }
}

#[test]
fn the_united_nations_is_the_sixth_contributor_of_2022_23_with_clear_margins() {
    let ranking = ranking(&WORKSPACE, 2022);
    assert_eq!(ranking[5].0, "united-nations", "{ranking:#?}");
    assert_eq!(ranking[1].0, "european-union", "{ranking:#?}");
    let margin = Decimal::new(102, 2);
    assert!(ranking[4].1 >= ranking[5].1 * margin, "{ranking:#?}");
    assert!(ranking[5].1 >= ranking[6].1 * margin, "{ranking:#?}");
    // The crate's own figures module agrees with this independent computation.
    let period = coopfolio_core::period::Period::Biennium(2022);
    let figures = coopfolio_demo::figures::contributor_ranking(
        &WORKSPACE.partners,
        &WORKSPACE.agreements,
        period,
    );
    let codes: Vec<(&str, Decimal)> = figures.iter().map(|c| (c.code.as_str(), c.usd)).collect();
    let expected: Vec<(&str, Decimal)> = ranking.iter().map(|(c, u)| (c.as_str(), *u)).collect();
    assert_eq!(codes, expected);
    assert_eq!(
        coopfolio_demo::figures::approved_voluntary_usd(&WORKSPACE.agreements, period),
        (exactly_965_1_million(), Vec::new())
    );
}

#[test]
fn programmes_and_projects_active_in_2022_23_and_countries_reached() {
    let active: Vec<&Activity> = WORKSPACE
        .activities
        .iter()
        .filter(|a| active_in(a, "2022-01-01", "2023-12-31"))
        .collect();
    assert!((700..=850).contains(&active.len()), "{}", active.len());
    let countries: BTreeSet<&str> = active
        .iter()
        .flat_map(|a| a.recipient_countries.iter().map(|c| c.code.as_str()))
        .collect();
    assert!(countries.len() >= 140, "{}", countries.len());
    let regions: BTreeSet<_> = countries
        .iter()
        .map(|code| {
            coopfolio_core::country::Countries::bundled()
                .get(code)
                .unwrap()
                .region
        })
        .collect();
    assert_eq!(regions.len(), 5, "{regions:?}");
    let period = coopfolio_core::period::Period::Biennium(2022);
    assert_eq!(
        WORKSPACE
            .activities
            .iter()
            .filter(|a| coopfolio_demo::figures::is_active_in(a, period))
            .count(),
        active.len()
    );
    assert_eq!(
        coopfolio_demo::figures::countries_reached(&WORKSPACE.activities, period).len(),
        countries.len()
    );
}
