//! A synthetic Coopfolio workspace for demonstrations, tests and benchmarks: partners, agreements,
//! programmes and projects, multi-stakeholder partnerships and inquiries, shaped like the ILO's published
//! development-cooperation figures and generated deterministically from a seed. Every record is marked
//! synthetic (a `synthetic` flag, "(synthetic)" in names and titles, and the demo organisation
//! `XI-DEMO-COOPFOLIO` as reporting organisation), so that none can pass for real data.
//!
//! # The figures, as the store must compute them
//!
//! These definitions are the contract between this generator and the store: the generator is calibrated
//! on them, and the store's figure queries must give the same numbers from the same records.
//! [`figures`] implements them over the records of a [`Workspace`].
//!
//! * **Approved voluntary contributions of a period**: over the agreements whose status counts as
//!   approved (`AgreementStatus::counts_as_approved`: signed, active, closed), whose modality is voluntary
//!   (`Modality::is_voluntary`: all but the regular budget) and whose signature date falls in the period,
//!   the sum over each agreement partner's share of that share converted to US dollars at the signature
//!   date by `ExchangeRates::bundled().to_usd(share, currency, signature_date)` (the month's rate, else the
//!   year's, rounded half away from zero to the cent). A share that cannot be converted is flagged and left
//!   out, never counted as zero (the demo has none).
//! * **Contributor ranking of a period**: the same shares, each credited to the contributor its partner
//!   rolls up into (`Rollups::bundled().roll_up(iati_ref, group)`, where the group is the partner's
//!   `group_override`, else `PartnerGroupRules::bundled().derive(iati_ref, organisation_type)`), or to the
//!   partner itself when it rolls up into nothing; ordered by US dollars, largest first.
//! * **Programmes and projects active in a period**: the organisation's activities (programmes and projects
//!   alike) whose start is on or before the period's last day and whose end is on or after its first day,
//!   or that have no end. The start is the actual start date (activity-date type 2), else the planned start
//!   (type 1); the end is the actual end (type 4), else the planned end (type 3).
//! * **Countries reached in a period**: the distinct recipient countries of the activities active in it.
//!
//! # The calibration (at `scale` 1 only)
//!
//! With any seed, at scale 1: approved voluntary contributions of 2022-23 are exactly US$965,100,000.00,
//! the largest of the bienniums 2016-17 to 2024-25 (about 700, 780, 840 and, to the demo's today of
//! 30 June 2025, 600 million for the others); in the 2022-23 contributor ranking the United Nations (all
//! UN entities rolled up) is sixth, more than 2% below the fifth and above the seventh; 720 of the 770
//! programmes and projects are active in 2022-23, in every recipient country of the demo (150, in all five
//! ILO regions). A larger `scale` multiplies the programmes and projects only: the agreements, partners,
//! partnerships and inquiries stay those of scale 1, the copies reuse the funding links of the first, and
//! the counts above are then not calibrated.

#![forbid(unsafe_code)]

mod activity;
mod agreements;
mod date;
pub mod figures;
mod partners;
mod pipeline;
mod portfolio;
mod rng;
pub mod xml;

use std::collections::HashMap;

use coopfolio_core::partnership::{Agreement, Inquiry, Partner, Partnership, ProjectExtras};
use coopfolio_iati::model::{Activity, Narrative, OrganisationRef};

pub use partners::effective_group;
pub use portfolio::PORTFOLIO_SIZE;

/// The IATI organisation identifier of the demo organisation, and the prefix of its activity identifiers.
pub const ORGANISATION_REF: &str = "XI-DEMO-COOPFOLIO";
/// The demo organisation's name, which says what the data is.
pub const ORGANISATION_NAME: &str = "Coopfolio demo organisation (synthetic data)";
/// The demo's "today": statuses, instalments received and transactions stand as on this day.
pub const AS_OF: &str = "2025-06-30";
/// The `last-updated-datetime` of every generated activity.
pub const LAST_UPDATED: &str = "2025-06-30T00:00:00Z";

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoOptions {
    /// The same seed (and scale) gives the same workspace, byte for byte.
    pub seed: u64,
    /// How many copies of the 770-activity portfolio to generate.
    pub scale: u32,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            seed: 2024,
            scale: 1,
        }
    }
}

/// A whole synthetic workspace.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The demo organisation, reporting organisation of every activity.
    pub organisation: OrganisationRef,
    pub partners: Vec<Partner>,
    pub agreements: Vec<Agreement>,
    pub activities: Vec<Activity>,
    /// One per activity, in the same order.
    pub project_extras: Vec<ProjectExtras>,
    pub partnerships: Vec<Partnership>,
    pub inquiries: Vec<Inquiry>,
}

/// The demo organisation as a reference: `XI-DEMO-COOPFOLIO`, type 40 (multilateral).
pub fn organisation() -> OrganisationRef {
    OrganisationRef {
        reference: Some(ORGANISATION_REF.to_owned()),
        kind: Some("40".to_owned()),
        names: vec![Narrative {
            lang: Some("en".to_owned()),
            text: ORGANISATION_NAME.to_owned(),
        }],
        activity_identifier: None,
    }
}

/// The identifier of the demo activity numbered `number`: `XI-DEMO-COOPFOLIO-<number>`.
pub fn identifier(number: u64) -> String {
    format!("{ORGANISATION_REF}-{number}")
}

/// Generate the whole workspace in memory. At large scales prefer [`generate_activities_streaming`] for
/// the activities, which holds one at a time.
pub fn generate(options: &DemoOptions) -> Workspace {
    let mut base = Base::new(options.seed);
    let mut activities = Vec::with_capacity(PORTFOLIO_SIZE * options.scale as usize);
    let mut project_extras = Vec::with_capacity(activities.capacity());
    base.activities(options, |activity, extras| {
        activities.push(activity);
        project_extras.push(extras);
    });
    let mut rng = rng::Rng::stream(options.seed, "pipeline", 0);
    let partnerships = pipeline::partnerships(&mut rng, &base.profiles);
    let inquiries = pipeline::inquiries(&mut rng, &base.profiles, &mut base.funding.agreements);
    Workspace {
        organisation: organisation(),
        partners: base.profiles.into_iter().map(|p| p.partner).collect(),
        agreements: base.funding.agreements,
        activities,
        project_extras,
        partnerships,
        inquiries,
    }
}

/// Generate the programmes and projects one at a time, in identifier order, handing each to `sink` with
/// its extras; memory stays that of one copy of the portfolio's plan whatever the scale. The activities
/// are the same as those of [`generate`] with the same options.
pub fn generate_activities_streaming(
    options: &DemoOptions,
    sink: impl FnMut(Activity, ProjectExtras),
) {
    Base::new(options.seed).activities(options, sink);
}

/// What every activity depends on: the partners, the plan of the first copy and the agreements.
struct Base {
    seed: u64,
    profiles: Vec<partners::PartnerProfile>,
    plan: Vec<portfolio::Planned>,
    funding: agreements::FundingPlan,
}

impl Base {
    fn new(seed: u64) -> Base {
        let profiles = partners::build(&mut rng::Rng::stream(seed, "partners", 0));
        let plan = portfolio::plan(&mut rng::Rng::stream(seed, "portfolio", 0), 1);
        let funding = agreements::build(
            &mut rng::Rng::stream(seed, "agreements", 0),
            &profiles,
            &plan,
        );
        Base {
            seed,
            profiles,
            plan,
            funding,
        }
    }

    fn activities(&self, options: &DemoOptions, mut sink: impl FnMut(Activity, ProjectExtras)) {
        let partner_index: HashMap<String, usize> = self
            .profiles
            .iter()
            .enumerate()
            .map(|(i, p)| (p.partner.key.clone(), i))
            .collect();
        let context = activity::Context {
            profiles: &self.profiles,
            agreements: &self.funding.agreements,
            partner_index: &partner_index,
        };
        for copy in 0..u64::from(options.scale) {
            let first_number = copy * PORTFOLIO_SIZE as u64 + 1;
            let later_plan;
            let plan = if copy == 0 {
                &self.plan
            } else {
                later_plan = portfolio::plan(
                    &mut rng::Rng::stream(self.seed, "portfolio", copy),
                    first_number,
                );
                &later_plan
            };
            for (slot, planned) in plan.iter().enumerate() {
                let mut rng = rng::Rng::stream(self.seed, "activity", planned.number);
                let (activity, extras) = activity::build(
                    &mut rng,
                    &context,
                    planned,
                    &self.funding.funders_by_slot[slot],
                );
                sink(activity, extras);
            }
        }
    }
}
