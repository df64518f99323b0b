//! The shape of the portfolio before any money is attached: which activities are programmes and which are
//! their projects, when each runs, where and on what. A plan is cheap (a few numbers per activity), so the
//! agreements can be matched to projects before a single activity is written, and a large scale can be
//! generated one copy of the portfolio at a time.

use coopfolio_core::codelists::Codelists;
use coopfolio_core::country::{Countries, IloRegion};
use coopfolio_core::policy_area::PolicyArea;

use crate::date::Day;
use crate::rng::Rng;

/// Programmes (hierarchy 1) in one copy of the portfolio.
pub(crate) const PROGRAMMES: usize = 70;
/// Projects (hierarchy 2) in one copy of the portfolio.
pub(crate) const PROJECTS: usize = 700;
/// Activities in one copy of the portfolio: what `--scale 1` gives.
pub const PORTFOLIO_SIZE: usize = PROGRAMMES + PROJECTS;

/// Projects that ended before 2022 and projects that start after 2023: the only activities of a copy
/// that are not active in 2022-23, so that 720 of 770 are.
const ENDED_BEFORE_2022: usize = 28;
const STARTING_AFTER_2023: usize = 22;

/// One activity as planned.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    /// The number in `XI-DEMO-COOPFOLIO-<number>`.
    pub(crate) number: u64,
    /// 1 for a programme, 2 for a project.
    pub(crate) hierarchy: u8,
    pub(crate) parent: Option<u64>,
    pub(crate) children: Vec<u64>,
    pub(crate) start: Day,
    /// The actual end if the activity has ended by the demo's "today", else the planned end.
    pub(crate) end: Day,
    pub(crate) region: Option<IloRegion>,
    /// ISO alpha-2 codes with percentages that add up to 100 with `regions`.
    pub(crate) countries: Vec<(String, u32)>,
    /// Region codes of the IATI Region codelist, with percentages.
    pub(crate) regions: Vec<(&'static str, u32)>,
    /// The main policy area, which chooses the title and the first sector.
    pub(crate) theme: PolicyArea,
    /// DAC 5-digit purpose codes with percentages that add up to 100.
    pub(crate) sectors: Vec<(&'static str, u32)>,
    pub(crate) south_south: bool,
    pub(crate) triangular: bool,
}

/// DAC purpose codes by policy area; the bundled policy-area map sends each to its area.
pub(crate) fn sectors_of(area: PolicyArea) -> &'static [&'static str] {
    match area {
        PolicyArea::Employment => &["16020"],
        PolicyArea::SocialProtection => &["16010", "16011", "16013"],
        PolicyArea::ChildForcedLabour => &["16070", "15261"],
        PolicyArea::Migration => &["15190", "15136", "24050"],
        PolicyArea::SocialFinance => &["24030", "24040"],
        PolicyArea::Skills => &["11330", "11430", "11231"],
        PolicyArea::OccupationalSafetyHealth => &["16070"],
        PolicyArea::JustTransition => &["23110", "23210", "41010", "41081"],
        PolicyArea::GenderNonDiscrimination => &["15170", "15180", "15160"],
    }
}

/// How often each policy area is the main theme, in the order of `PolicyArea::ALL`.
const THEME_WEIGHTS: [u64; 9] = [20, 14, 10, 10, 6, 14, 8, 8, 10];

/// Regional recipient codes (IATI Region codelist, OECD DAC vocabulary) by ILO region.
fn regional_codes(region: IloRegion) -> &'static [&'static str] {
    match region {
        IloRegion::Africa => &["298", "289", "189"],
        IloRegion::Americas => &["498", "489", "389", "380"],
        IloRegion::ArabStates => &["589"],
        IloRegion::AsiaPacific => &["798", "789", "689", "679", "889"],
        IloRegion::EuropeCentralAsia => &["89", "619"],
    }
}

/// "Developing countries, unspecified": the code of global and interregional work.
const GLOBAL_REGION: &str = "998";

/// Countries outside the Group of 77 where the organisation also runs projects.
const OTHER_RECIPIENTS: &[&str] = &[
    "AL", "AM", "GE", "KZ", "KG", "MD", "MK", "TR", "UA", "UZ", "ME", "RS", "MX", "TV", "PW",
];

/// How much more often a country of each ILO region is drawn, Africa and Asia-Pacific first.
fn region_weight(region: IloRegion) -> u64 {
    match region {
        IloRegion::Africa => 5,
        IloRegion::AsiaPacific => 4,
        IloRegion::Americas => 3,
        IloRegion::ArabStates => 4,
        IloRegion::EuropeCentralAsia => 3,
    }
}

/// The countries projects may go to: the Global South and a few others, all in the IATI Country codelist.
pub(crate) fn recipient_countries() -> Vec<(String, IloRegion)> {
    let codelists = Codelists::bundled();
    Countries::bundled()
        .all()
        .iter()
        .filter(|c| c.global_south || OTHER_RECIPIENTS.contains(&c.alpha2.as_str()))
        .filter(|c| codelists.contains("Country", &c.alpha2) != Some(false))
        .map(|c| (c.alpha2.clone(), c.region))
        .collect()
}

/// The demo's "today": activities, transactions and instalments are as they would stand on this day.
pub(crate) fn as_of() -> Day {
    Day::parse(crate::AS_OF)
}

/// Plan one copy of the portfolio, numbered from `first_number`.
pub(crate) fn plan(rng: &mut Rng, first_number: u64) -> Vec<Planned> {
    let recipients = recipient_countries();
    let regions_in_order = IloRegion::ALL;
    let region_weights: Vec<u64> = regions_in_order
        .iter()
        .map(|region| {
            region_weight(*region) * recipients.iter().filter(|(_, r)| r == region).count() as u64
        })
        .collect();
    // Every recipient country gets at least one active standalone project before any gets a second, so
    // that the countries reached are the whole list whatever the seed.
    let mut coverage: Vec<&(String, IloRegion)> = recipients.iter().collect();
    rng.shuffle(&mut coverage);
    let mut coverage = coverage.into_iter();

    let mut planned: Vec<Planned> = Vec::with_capacity(PORTFOLIO_SIZE);
    for index in 0..PROGRAMMES {
        let region = regions_in_order[rng.weighted(&region_weights)];
        let start = between(rng, "2016-01-01", "2021-06-30");
        let end = between(rng, "2024-06-30", "2027-12-31");
        let theme = PolicyArea::ALL[rng.weighted(&THEME_WEIGHTS)];
        let (countries, regions) = if rng.percent(50) {
            (Vec::new(), vec![(*rng.pick(regional_codes(region)), 100)])
        } else {
            let count = rng.between(2, 4) as usize;
            (
                several_countries(rng, &recipients, region, count),
                Vec::new(),
            )
        };
        planned.push(Planned {
            number: first_number + index as u64,
            hierarchy: 1,
            parent: None,
            children: Vec::new(),
            start,
            end,
            region: Some(region),
            countries,
            regions,
            theme,
            sectors: sectors(rng, theme, 2),
            south_south: false,
            triangular: false,
        });
    }

    #[derive(Clone, Copy, PartialEq)]
    enum When {
        Active,
        EndedBefore2022,
        StartingAfter2023,
    }
    let mut whens = vec![When::Active; PROJECTS];
    for when in whens.iter_mut().take(ENDED_BEFORE_2022) {
        *when = When::EndedBefore2022;
    }
    for when in whens
        .iter_mut()
        .skip(ENDED_BEFORE_2022)
        .take(STARTING_AFTER_2023)
    {
        *when = When::StartingAfter2023;
    }
    rng.shuffle(&mut whens);

    for (index, when) in whens.into_iter().enumerate() {
        let number = first_number + (PROGRAMMES + index) as u64;
        let parent = (when == When::Active && rng.percent(60))
            .then(|| rng.below(PROGRAMMES as u64) as usize);
        let (start, end) = match (when, parent) {
            (When::Active, Some(parent)) => {
                let programme = &planned[parent];
                let latest_start = Day::parse("2023-06-30").min(programme.end.plus(-365));
                let start = Day(rng.between(programme.start.0, latest_start.0));
                let earliest_end = start.plus(365).max(Day::parse("2022-01-01"));
                // As for standalone projects below, most are still running.
                let still_running = Day::parse("2025-07-01");
                let earliest_end = if programme.end > still_running && rng.percent(80) {
                    earliest_end.max(still_running)
                } else {
                    earliest_end
                };
                (start, Day(rng.between(earliest_end.0, programme.end.0)))
            }
            (When::Active, None) => {
                let start = between(rng, "2016-01-01", "2023-06-30");
                let earliest_end = start.plus(365).max(Day::parse("2022-01-01"));
                // Most projects running in 2022-23 are still running: the portfolio is mostly in
                // implementation, as the organisation's is.
                let earliest_end = if rng.percent(80) {
                    earliest_end.max(Day::parse("2025-07-01"))
                } else {
                    earliest_end
                };
                (
                    start,
                    Day(rng.between(earliest_end.0, Day::parse("2027-12-31").0)),
                )
            }
            (When::EndedBefore2022, _) => {
                let start = between(rng, "2016-01-01", "2019-06-30");
                (
                    start,
                    Day(rng.between(start.plus(365).0, Day::parse("2021-12-31").0)),
                )
            }
            (When::StartingAfter2023, _) => {
                let start = between(rng, "2024-01-01", "2026-12-31");
                (
                    start,
                    Day(rng.between(start.plus(365).0, Day::parse("2027-12-31").0)),
                )
            }
        };
        let theme = match parent {
            Some(parent) if rng.percent(70) => planned[parent].theme,
            _ => PolicyArea::ALL[rng.weighted(&THEME_WEIGHTS)],
        };
        let region = match parent {
            Some(parent) => planned[parent].region.expect("programmes have a region"),
            None => regions_in_order[rng.weighted(&region_weights)],
        };
        let covering = if when == When::Active && parent.is_none() {
            coverage.next()
        } else {
            None
        };
        let (region, countries, regions) = match covering {
            Some((code, region)) => (Some(*region), vec![(code.clone(), 100)], Vec::new()),
            None => {
                let scope = rng.below(100);
                if scope < 78 {
                    (
                        Some(region),
                        several_countries(rng, &recipients, region, 1),
                        Vec::new(),
                    )
                } else if scope < 90 {
                    let count = rng.between(2, 3) as usize;
                    (
                        Some(region),
                        several_countries(rng, &recipients, region, count),
                        Vec::new(),
                    )
                } else if scope < 96 {
                    (
                        Some(region),
                        Vec::new(),
                        vec![(*rng.pick(regional_codes(region)), 100)],
                    )
                } else {
                    (None, Vec::new(), vec![(GLOBAL_REGION, 100)])
                }
            }
        };
        // South-South and triangular cooperation: about 8% of projects, all in the Global South.
        let south_south = !countries.is_empty()
            && countries.iter().all(|(code, _)| {
                Countries::bundled()
                    .get(code)
                    .is_some_and(|country| country.global_south)
            })
            && rng.percent(9);
        let triangular = south_south && rng.percent(50);
        let sector_count = if rng.percent(30) { 2 } else { 1 };
        planned.push(Planned {
            number,
            hierarchy: 2,
            parent: parent.map(|p| planned[p].number),
            children: Vec::new(),
            start,
            end,
            region,
            countries,
            regions,
            theme,
            sectors: sectors(rng, theme, sector_count),
            south_south,
            triangular,
        });
        if let Some(parent) = parent {
            planned[parent].children.push(number);
        }
    }
    planned
}

fn between(rng: &mut Rng, first: &str, last: &str) -> Day {
    Day(rng.between(Day::parse(first).0, Day::parse(last).0))
}

/// `count` distinct countries of `region`, with percentages adding up to 100.
fn several_countries(
    rng: &mut Rng,
    recipients: &[(String, IloRegion)],
    region: IloRegion,
    count: usize,
) -> Vec<(String, u32)> {
    let in_region: Vec<&String> = recipients
        .iter()
        .filter(|(_, r)| *r == region)
        .map(|(code, _)| code)
        .collect();
    let mut chosen: Vec<&String> = Vec::new();
    while chosen.len() < count.min(in_region.len()) {
        let candidate = *rng.pick(&in_region);
        if !chosen.contains(&candidate) {
            chosen.push(candidate);
        }
    }
    let shares: &[u32] = match chosen.len() {
        1 => &[100],
        2 => &[60, 40],
        3 => &[40, 30, 30],
        _ => &[25, 25, 25, 25],
    };
    chosen
        .into_iter()
        .zip(shares)
        .map(|(code, share)| (code.clone(), *share))
        .collect()
}

/// The sectors of an activity: one of its theme's, and possibly one of another area's.
fn sectors(rng: &mut Rng, theme: PolicyArea, count: usize) -> Vec<(&'static str, u32)> {
    let first = *rng.pick(sectors_of(theme));
    if count == 1 {
        return vec![(first, 100)];
    }
    let other_area = PolicyArea::ALL[rng.weighted(&THEME_WEIGHTS)];
    let second = *rng.pick(sectors_of(other_area));
    if second == first {
        vec![(first, 100)]
    } else {
        vec![(first, 70), (second, 30)]
    }
}
