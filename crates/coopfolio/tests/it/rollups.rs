//! The rollups behind the headline figures against the reference queries that read every
//! record: on the demo workspace, after the real sample is imported again (a re-import
//! replaces its activities), after an activity changes its years, countries and sectors, after
//! policy areas are set by hand, after agreements change (and one is edited as the staff
//! workspace edits it), after programmes and projects arrive in either order, a budget is
//! revised and budgets wait for a rate, after a programme and its project are made in the
//! workspace, after a partner's roll-up is set by hand, and after a rebuild from the records.
//! Every figure must be the same, to the decimal string, on SQLite and PostgreSQL.

use std::sync::Arc;

use coopfolio::demo::load_demo;
use coopfolio_core::codelists::Codelists;
use coopfolio_core::partnership::AgreementStatus;
use coopfolio_core::period::Period;
use coopfolio_core::policy_area::PolicyArea;
use coopfolio_core::reference::Names;
use coopfolio_core::value::CurrencyCode;
use coopfolio_demo::DemoOptions;
use coopfolio_iati::model::{
    Activity, ActivityDate, Budget, RecipientCountry, RelatedActivity, Value,
};
use coopfolio_store::figures::{Basis, Figure};
use coopfolio_store::rates::StoredRate;
use coopfolio_store::records::{RollupChoice, SaveMode};
use coopfolio_store::staff_projects::{ProjectBudget, Share, StaffProject};
use coopfolio_store::{PartnershipRecords, Store};
use rust_decimal::Decimal;

use crate::support::TestDatabase;

#[test]
fn rollups_give_the_reference_figures_on_sqlite() {
    rollups_give_the_reference_figures(TestDatabase::sqlite());
}

#[test]
fn rollups_give_the_reference_figures_on_postgres() {
    let Some(database) = TestDatabase::postgres("rollups against the reference") else {
        return;
    };
    rollups_give_the_reference_figures(database);
}

const PERIODS: [Period; 8] = [
    Period::Biennium(2016),
    Period::Biennium(2018),
    Period::Biennium(2020),
    Period::Biennium(2022),
    Period::Biennium(2024),
    Period::Year(2019),
    Period::Year(2023),
    Period::Year(2025),
];

fn rollups_give_the_reference_figures(database: TestDatabase) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let store = Store::connect(&database.url).await.expect("connecting");
        let options = DemoOptions::default();
        let codelists: Arc<Codelists> = Codelists::bundled();
        load_demo(&store, &options, codelists.clone())
            .await
            .expect("loading the demo");
        assert_rollups_match(&store, "after loading the demo").await;
        let before = store
            .portfolio(Period::Biennium(2022))
            .await
            .expect("the portfolio");
        assert!(before.value.programmes_active >= 700);

        // The demo again: the workspace is there, and the real sample is imported again,
        // replacing its activities.
        load_demo(&store, &options, codelists.clone())
            .await
            .expect("loading the demo again");
        assert_rollups_match(&store, "after importing the sample again").await;
        assert_eq!(
            store.portfolio(Period::Biennium(2022)).await.unwrap(),
            before,
            "a re-import of the same activities changes nothing"
        );

        // One demo activity moves in time and place: imported again, changed.
        let workspace = coopfolio_demo::generate(&options);
        let mut changed = workspace.activities[0].clone();
        changed.dates = vec![
            ActivityDate {
                kind: "2".to_owned(),
                date: "2030-02-01".to_owned(),
            },
            ActivityDate {
                kind: "3".to_owned(),
                date: "2031-06-30".to_owned(),
            },
        ];
        changed.recipient_countries = vec![RecipientCountry {
            code: " tv".to_owned(),
            percentage: None,
        }];
        let identifier = changed.identifier.clone();
        let active_in_2030 = store
            .portfolio(Period::Year(2030))
            .await
            .unwrap()
            .value
            .programmes_active;
        let mut session = store.begin_import("changed.xml", 1).await.unwrap();
        session.add_activity(changed).await.unwrap();
        session.commit(0).await.unwrap();
        let moved = store.portfolio(Period::Year(2030)).await.unwrap();
        assert_eq!(moved.value.programmes_active, active_in_2030 + 1);
        assert_rollups_match(&store, "after an activity changed").await;

        // Policy areas set by hand for two activities, and cleared for a third.
        let mut extras = vec![
            workspace.project_extras[0].clone(),
            workspace.project_extras[1].clone(),
            workspace.project_extras[2].clone(),
        ];
        extras[0].activity_identifier = identifier;
        extras[0].policy_areas = vec![PolicyArea::ALL[0], PolicyArea::ALL[1]];
        extras[1].policy_areas = vec![PolicyArea::ALL[2]];
        extras[2].policy_areas = Vec::new();
        store
            .save_partnership_records(PartnershipRecords {
                project_extras: &extras,
                ..PartnershipRecords::default()
            })
            .await
            .expect("saving project extras");
        assert_rollups_match(&store, "after policy areas were set by hand").await;

        // Agreements change: one of 2022-23 doubles its shares, one is cancelled, one turns
        // confidential.
        let total_before = store
            .contributions(Period::Biennium(2022), Basis::Approved)
            .await
            .unwrap()
            .value
            .total_usd;
        let signed_in = |agreement: &&coopfolio_core::partnership::Agreement| {
            agreement.status.counts_as_approved()
                && agreement
                    .signature_date
                    .as_deref()
                    .is_some_and(|date| date.starts_with("2022") || date.starts_with("2023"))
        };
        let mut agreements: Vec<_> = workspace
            .agreements
            .iter()
            .filter(signed_in)
            .take(3)
            .cloned()
            .collect();
        assert_eq!(agreements.len(), 3);
        for share in &mut agreements[0].partners {
            share.amount *= Decimal::from(2);
        }
        agreements[0].amount *= Decimal::from(2);
        agreements[1].status = AgreementStatus::Cancelled;
        agreements[2].confidential = true;
        store
            .save_partnership_records(PartnershipRecords {
                agreements: &agreements,
                ..PartnershipRecords::default()
            })
            .await
            .expect("saving changed agreements");
        let total_after = store
            .contributions(Period::Biennium(2022), Basis::Approved)
            .await
            .unwrap()
            .value
            .total_usd;
        assert_ne!(total_before, total_after);
        assert_rollups_match(&store, "after agreements changed").await;

        // An agreement edited in the staff workspace: its amount grows, an instalment arrives
        // in another currency year, and it is saved twice; the rollups follow the ledger.
        let mut edited = store
            .staff_agreement(&agreements[0].key)
            .await
            .unwrap()
            .expect("the changed agreement is stored")
            .agreement;
        let last = edited.partners.len() - 1;
        edited.partners[last].amount += Decimal::new(12_500_050, 2);
        edited.amount += Decimal::new(12_500_050, 2);
        edited
            .instalments
            .push(coopfolio_core::partnership::Instalment {
                due_date: "2023-06-30".to_owned(),
                amount: Decimal::new(12_500_050, 2),
                received_date: Some("2023-07-14".to_owned()),
                received_amount: Some(Decimal::new(100_000, 0)),
            });
        let received_before = store
            .contributions(Period::Biennium(2022), Basis::Received)
            .await
            .unwrap()
            .value
            .total_usd;
        for _ in 0..2 {
            store
                .save_staff_agreement(&edited, &[], SaveMode::Edit, "officer@example.org")
                .await
                .expect("saving the edited agreement");
        }
        let received_after = store
            .contributions(Period::Biennium(2022), Basis::Received)
            .await
            .unwrap()
            .value
            .total_usd;
        assert!(
            received_after > received_before,
            "{received_after} > {received_before}"
        );
        assert_rollups_match(&store, "after an agreement was edited in the workspace").await;

        budgets_follow_parents_revisions_and_rates(&store, &workspace.activities[0]).await;
        // A programme made in the staff workspace, with a budget in euros revised, and a
        // project of it: the portfolio rollup follows, and the programme counts.
        let staff_project = |suffix: &str, parent: Option<&str>| StaffProject {
            identifier: format!("{}-{suffix}", coopfolio_demo::ORGANISATION_REF),
            title: Names {
                en: format!("Workspace programme {suffix}"),
                fr: String::new(),
                es: String::new(),
            },
            description: Names {
                en: String::new(),
                fr: String::new(),
                es: String::new(),
            },
            status: "2".to_owned(),
            planned_start: "2022-03-01".to_owned(),
            planned_end: Some("2031-12-31".to_owned()),
            parent: parent.map(str::to_owned),
            countries: vec![Share {
                code: "TV".to_owned(),
                percentage: None,
            }],
            sectors: vec![Share {
                code: "16020".to_owned(),
                percentage: None,
            }],
            funders: Vec::new(),
            budgets: vec![ProjectBudget {
                period_start: "2023-01-01".to_owned(),
                period_end: "2023-12-31".to_owned(),
                amount: Decimal::new(123_456_789, 2),
                currency: CurrencyCode::parse("EUR").unwrap(),
                revised: true,
            }],
            policy_areas: vec![PolicyArea::ALL[3]],
            markers: Default::default(),
        };
        let active_2030 = store
            .portfolio(Period::Year(2030))
            .await
            .unwrap()
            .value
            .programmes_active;
        let programme = staff_project("ws-1", None);
        store
            .save_staff_project(&programme, SaveMode::Create, "officer@example.org")
            .await
            .expect("saving a workspace programme");
        store
            .save_staff_project(
                &staff_project("ws-1-a", Some(&programme.identifier)),
                SaveMode::Create,
                "officer@example.org",
            )
            .await
            .expect("saving a project of it");
        assert_eq!(
            store
                .portfolio(Period::Year(2030))
                .await
                .unwrap()
                .value
                .programmes_active,
            active_2030 + 2
        );
        assert_rollups_match(&store, "after projects were made in the workspace").await;

        // A partner the rules roll up into the UN counts as itself once set by hand: the
        // ranking shows it apart at once, and the rollups still agree with the records.
        let rolled_up: Vec<String> = store
            .staff_partners(&Default::default())
            .await
            .unwrap()
            .into_iter()
            .filter(|row| row.rollup_code.as_deref() == Some("united-nations"))
            .map(|row| row.partner.key)
            .collect();
        let funder = workspace
            .agreements
            .iter()
            .filter(|agreement| signed_in(agreement))
            .flat_map(|agreement| agreement.partners.iter())
            .map(|share| share.partner_key.clone())
            .find(|key| rolled_up.contains(key))
            .expect("a UN entity signed an agreement in 2022-23");
        let stored = store.staff_partner(&funder).await.unwrap().unwrap().partner;
        let ranking =
            |figure: &coopfolio_store::figures::Figure<coopfolio_store::figures::Contributions>| {
                figure
                    .value
                    .ranking
                    .iter()
                    .map(|line| line.code.clone())
                    .collect::<Vec<_>>()
            };
        let period = Period::Biennium(2022);
        let before = ranking(&store.contributions(period, Basis::Approved).await.unwrap());
        assert!(!before.contains(&funder));
        store
            .save_staff_partner_with_rollup(
                &stored,
                &RollupChoice::Itself,
                SaveMode::Edit,
                "officer@example.org",
            )
            .await
            .unwrap();
        let apart = ranking(&store.contributions(period, Basis::Approved).await.unwrap());
        assert!(apart.contains(&funder), "{apart:?}");
        assert_rollups_match(&store, "after a roll-up was set by hand").await;
        store
            .save_staff_partner_with_rollup(
                &stored,
                &RollupChoice::ByRule,
                SaveMode::Edit,
                "officer@example.org",
            )
            .await
            .unwrap();
        assert_eq!(
            ranking(&store.contributions(period, Basis::Approved).await.unwrap()),
            before
        );

        // Built again from the records, the rollups are what the writers kept.
        let kept = figures_json(&store).await;
        store.rebuild_rollups().await.expect("rebuilding");
        assert_eq!(figures_json(&store).await, kept);
        store
            .rebuild_budget_rollup()
            .await
            .expect("rebuilding the budget rollup");
        assert_eq!(figures_json(&store).await, kept);
        store.close().await;
    });
}

/// Every figure of every period from the rollups and from the reference queries, as JSON.
async fn assert_rollups_match(store: &Store, when: &str) {
    for period in PERIODS {
        for basis in [Basis::Approved, Basis::Received] {
            let rollup = store.contributions(period, basis).await.unwrap();
            let reference = store.contributions_by_scan(period, basis).await.unwrap();
            assert_eq!(
                rollup.value.total_usd.to_string(),
                reference.value.total_usd.to_string(),
                "{basis:?} contributions of {period} {when}"
            );
            assert_eq!(
                serde_json::to_value(&rollup).unwrap(),
                serde_json::to_value(&reference).unwrap(),
                "{basis:?} contributions of {period} {when}"
            );
        }
        let rollup = store.portfolio(period).await.unwrap();
        let reference = store.portfolio_by_scan(period).await.unwrap();
        assert_eq!(rollup, reference, "portfolio of {period} {when}");
    }
    for period in PERIODS.into_iter().chain([BUDGET_YEAR]) {
        assert_budget_matches(store, period, when).await;
    }
    let approved = store
        .contributions(Period::Biennium(2022), Basis::Approved)
        .await
        .unwrap();
    assert!(approved.value.total_usd > Decimal::ZERO);
}

/// The portfolio budget of a period from the rollup and from the reference query: the same
/// decimal string and the same method note; returns it.
async fn assert_budget_matches(store: &Store, period: Period, when: &str) -> Figure<Decimal> {
    let rollup = store.portfolio_budget(period).await.unwrap();
    let reference = store.portfolio_budget_by_scan(period).await.unwrap();
    assert_eq!(
        rollup.value.to_string(),
        reference.value.to_string(),
        "budget of {period} {when}"
    );
    assert_eq!(rollup, reference, "budget of {period} {when}");
    rollup
}

/// A year no demo budget reaches, so that its budget is exactly what the steps below store.
const BUDGET_YEAR: Period = Period::Year(2041);

/// A programme (`parent` None) or project of the organisation with budgets in [`BUDGET_YEAR`]:
/// `(type, amount, currency)` each, for the period starting 2041-01-01.
fn budgeted(
    template: &Activity,
    identifier: &str,
    parent: Option<&str>,
    budgets: &[(&str, Decimal, &str)],
) -> Activity {
    let mut activity = template.clone();
    activity.identifier = identifier.to_owned();
    activity.transactions.clear();
    activity.related_activities = parent
        .map(|parent| RelatedActivity {
            identifier: parent.to_owned(),
            kind: Some("1".to_owned()),
        })
        .into_iter()
        .collect();
    activity.budgets = budgets
        .iter()
        .map(|(kind, amount, currency)| Budget {
            kind: Some((*kind).to_owned()),
            status: Some("1".to_owned()),
            period_start: Some("2041-01-01".to_owned()),
            period_end: Some("2041-12-31".to_owned()),
            value: Some(Value {
                amount: *amount,
                currency: Some((*currency).to_owned()),
                value_date: Some("2041-01-01".to_owned()),
            }),
        })
        .collect();
    activity
}

/// Imports activities as one file.
async fn import(store: &Store, activities: Vec<Activity>) {
    let mut session = store.begin_import("budgets.xml", 1).await.unwrap();
    for activity in activities {
        session.add_activity(activity).await.unwrap();
    }
    session.commit(0).await.unwrap();
}

/// The budget of [`BUDGET_YEAR`] as programmes and projects arrive, in separate files and in
/// one, parents first and children first; as a programme's budget is revised; and as budgets
/// in a currency without a rate wait for one and are converted by a rates import.
async fn budgets_follow_parents_revisions_and_rates(store: &Store, template: &Activity) {
    let usd = |units: i64, cents: i64| Decimal::new(units * 100 + cents, 2);
    let activity = |identifier: &str, parent: Option<&str>, budgets: &[(&str, Decimal)]| {
        let budgets: Vec<(&str, Decimal, &str)> = budgets
            .iter()
            .map(|(kind, amount)| (*kind, *amount, "USD"))
            .collect();
        budgeted(template, identifier, parent, &budgets)
    };
    let budget = |when: &'static str| async move {
        assert_budget_matches(store, BUDGET_YEAR, when)
            .await
            .value
            .to_string()
    };
    assert_eq!(budget("before any budget of the year").await, "0");

    // Each step imports its files in turn; the year's budget is then as given.
    let steps = [
        (
            "with a project whose programme is not stored: it counts",
            vec![vec![activity(
                "XB-P1-C",
                Some("XB-P1"),
                &[("1", usd(100, 0))],
            )]],
            "100.00",
        ),
        (
            "after its programme arrived: the programme counts instead",
            vec![vec![activity("XB-P1", None, &[("1", usd(1000, 0))])]],
            "1000.00",
        ),
        (
            "after a programme, then its project: the project never counts",
            vec![
                vec![activity("XB-P2", None, &[("1", usd(50, 0))])],
                vec![activity("XB-P2-C", Some("XB-P2"), &[("1", usd(7, 50))])],
            ],
            "1050.00",
        ),
        (
            "after a project and its programme in one file, the project first",
            vec![vec![
                activity("XB-P3-C", Some("XB-P3"), &[("1", usd(3, 0))]),
                activity("XB-P3", None, &[("1", usd(200, 0))]),
            ]],
            "1250.00",
        ),
        (
            "after the first programme again with a revised budget, which replaces the original",
            vec![vec![activity(
                "XB-P1",
                None,
                &[("1", usd(1000, 0)), ("2", usd(1200, 50))],
            )]],
            "1450.50",
        ),
        (
            "after its project again, its parent now one that is not stored: it counts again",
            vec![vec![activity(
                "XB-P1-C",
                Some("XB-NONE"),
                &[("1", usd(100, 0))],
            )]],
            "1550.50",
        ),
    ];
    for (when, files, expected) in steps {
        for file in files {
            import(store, file).await;
        }
        assert_eq!(budget(when).await, expected, "{when}");
    }

    // A budget in a currency without a rate is withheld, then converted by a rates import.
    import(
        store,
        vec![budgeted(
            template,
            "XB-X",
            None,
            &[("1", usd(999, 0), "XTS")],
        )],
    )
    .await;
    let withheld = assert_budget_matches(store, BUDGET_YEAR, "with a budget without a rate").await;
    assert_eq!(withheld.value.to_string(), "1550.50");
    assert_eq!(withheld.method.conversion.entries_without_rate, 1);
    assert_eq!(
        withheld.method.withheld.without_rate[0].partner.as_deref(),
        Some("XB-X")
    );
    store
        .import_rates(&[StoredRate {
            currency: "XTS".to_owned(),
            period: "2041-01".to_owned(),
            units_per_usd: Decimal::from(2),
            source: "test".to_owned(),
        }])
        .await
        .expect("importing a rate");
    let converted = assert_budget_matches(store, BUDGET_YEAR, "after the rate arrived").await;
    assert_eq!(converted.value.to_string(), "2050.00");
    assert_eq!(converted.method.conversion.entries_without_rate, 0);
    assert!(
        converted
            .method
            .conversion
            .sources
            .iter()
            .any(|source| source.contains("test")),
        "{:?}",
        converted.method.conversion.sources
    );
    assert_rollups_match(store, "after budgets changed").await;
}

async fn figures_json(store: &Store) -> Vec<serde_json::Value> {
    let mut figures = Vec::new();
    for period in PERIODS.into_iter().chain([BUDGET_YEAR]) {
        let figure = store.portfolio_budget(period).await.unwrap();
        figures.push(serde_json::json!({
            "value": figure.value.to_string(),
            "method": figure.method,
        }));
    }
    for period in PERIODS {
        for basis in [Basis::Approved, Basis::Received] {
            let figure = store.contributions(period, basis).await.unwrap();
            figures.push(serde_json::to_value(&figure).unwrap());
        }
        let figure = store.portfolio(period).await.unwrap();
        figures.push(serde_json::to_value(&figure).unwrap());
    }
    figures
}
