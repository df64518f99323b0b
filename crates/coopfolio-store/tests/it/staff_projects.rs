//! Programmes and projects made in the staff workspace, and partners' roll-ups set by hand, on
//! each backend (SQLite always, PostgreSQL when `COOPFOLIO_TEST_POSTGRES_URL` is set): a project
//! is read back as saved, found by search, counted by the portfolio rollup as by the scan,
//! converted into US dollars at once, exported rebuilt from the tables, audited with the state
//! before each change; a taken identifier and a parent loop are refused; a roll-up set by hand
//! is kept by later saves of the partner and reset to the rules on demand.

use coopfolio_core::partnership::{Partner, ProjectMarkers};
use coopfolio_core::period::Period;
use coopfolio_core::policy_area::PolicyArea;
use coopfolio_core::reference::Names;
use coopfolio_core::value::CurrencyCode;
use coopfolio_store::export::{ExportSelection, ExportedActivity};
use coopfolio_store::portal::ProjectQuery;
use coopfolio_store::records::{RollupChoice, SaveMode};
use coopfolio_store::staff::AuditFilter;
use coopfolio_store::staff_projects::{
    ProjectBudget, Share, StaffProject, DEFAULT_ORGANISATION_REF,
};
use coopfolio_store::{Store, StoreError};
use rust_decimal::Decimal;

use crate::support::{sqlite_store, TestDatabase};

#[tokio::test]
async fn workspace_projects_on_sqlite() {
    let (store, _url, _folder) = sqlite_store().await;
    workspace_projects(&store).await;
    store.close().await;
}

#[tokio::test]
async fn workspace_projects_on_postgres() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let store = Store::connect(&database.url).await.expect("connecting");
    workspace_projects(&store).await;
    store.close().await;
    database.drop_database().await;
}

fn names(en: &str, fr: &str) -> Names {
    Names {
        en: en.to_owned(),
        fr: fr.to_owned(),
        es: String::new(),
    }
}

fn project(suffix: &str, title: &str) -> StaffProject {
    StaffProject {
        identifier: format!("{DEFAULT_ORGANISATION_REF}-{suffix}"),
        title: names(title, "Travail décent rural"),
        description: names("Jobs in farming towns.", ""),
        status: "2".to_owned(),
        planned_start: "2024-01-01".to_owned(),
        planned_end: Some("2026-12-31".to_owned()),
        parent: None,
        countries: vec![
            Share {
                code: "KE".to_owned(),
                percentage: Some(Decimal::from(60)),
            },
            Share {
                code: "UG".to_owned(),
                percentage: Some(Decimal::from(40)),
            },
        ],
        sectors: vec![Share {
            code: "16020".to_owned(),
            percentage: None,
        }],
        funders: vec!["un-donor".to_owned()],
        budgets: vec![
            ProjectBudget {
                period_start: "2024-01-01".to_owned(),
                period_end: "2024-12-31".to_owned(),
                amount: Decimal::new(100_000_050, 2),
                currency: CurrencyCode::parse("EUR").unwrap(),
                revised: false,
            },
            ProjectBudget {
                period_start: "2024-01-01".to_owned(),
                period_end: "2024-12-31".to_owned(),
                amount: Decimal::new(1_200_000, 0),
                currency: CurrencyCode::parse("EUR").unwrap(),
                revised: true,
            },
        ],
        policy_areas: vec![PolicyArea::ALL[0]],
        markers: ProjectMarkers {
            south_south: true,
            ..ProjectMarkers::default()
        },
    }
}

async fn workspace_projects(store: &Store) {
    let actor = "officer@example.org";
    let partner = Partner {
        key: "un-donor".to_owned(),
        names: Names {
            en: "A UN fund".to_owned(),
            fr: "Un fonds".to_owned(),
            es: "Un fondo".to_owned(),
        },
        iati_ref: Some("XM-DAC-41114".to_owned()),
        organisation_type: Some("40".to_owned()),
        country: None,
        group_override: None,
        synthetic: false,
    };
    store
        .save_staff_partner(&partner, SaveMode::Create, actor)
        .await
        .unwrap();
    let rollup = |stored: coopfolio_store::records::StaffPartner| {
        (stored.rollup_code, stored.rollup_override)
    };
    let by_rule = rollup(store.staff_partner("un-donor").await.unwrap().unwrap());
    assert_eq!(by_rule, (Some("united-nations".to_owned()), None));

    // A roll-up set by hand, kept by a save that does not touch it, then reset to the rules.
    store
        .save_staff_partner_with_rollup(&partner, &RollupChoice::Itself, SaveMode::Edit, actor)
        .await
        .unwrap();
    let itself = (None, Some(String::new()));
    assert_eq!(
        rollup(store.staff_partner("un-donor").await.unwrap().unwrap()),
        itself
    );
    store
        .save_staff_partner(&partner, SaveMode::Edit, actor)
        .await
        .unwrap();
    assert_eq!(
        rollup(store.staff_partner("un-donor").await.unwrap().unwrap()),
        itself
    );
    let unknown = store
        .save_staff_partner_with_rollup(
            &partner,
            &RollupChoice::Into("nobody".to_owned()),
            SaveMode::Edit,
            actor,
        )
        .await;
    assert!(matches!(
        unknown,
        Err(StoreError::Invalid {
            field: "rollup_override",
            ..
        })
    ));
    store
        .save_staff_partner_with_rollup(&partner, &RollupChoice::ByRule, SaveMode::Edit, actor)
        .await
        .unwrap();
    assert_eq!(
        rollup(store.staff_partner("un-donor").await.unwrap().unwrap()),
        by_rule
    );

    // A programme made in the workspace reads back as saved.
    let period = Period::Biennium(2024);
    let active_before = store
        .portfolio(period)
        .await
        .unwrap()
        .value
        .programmes_active;
    let programme = project("rural-jobs", "Rural jobs");
    store
        .save_staff_project(&programme, SaveMode::Create, actor)
        .await
        .expect("saving a new programme");
    let stored = store
        .staff_project(&programme.identifier)
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(stored.project, programme);
    assert!(!stored.imported);
    assert_eq!(
        store
            .portfolio(period)
            .await
            .unwrap()
            .value
            .programmes_active,
        active_before + 1
    );
    assert_eq!(
        store.portfolio(period).await.unwrap(),
        store.portfolio_by_scan(period).await.unwrap()
    );
    let found = store
        .projects(&ProjectQuery {
            text: Some("rural jobs".to_owned()),
            page: 1,
            page_size: 10,
            ..ProjectQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(found.total, 1);
    // The revised budget replaces the original, converted at once with the bundled rates.
    let totals = store
        .organisation_totals(DEFAULT_ORGANISATION_REF)
        .await
        .unwrap();
    assert_eq!(totals.entries_without_rate, 0);
    assert_eq!(totals.budgets.len(), 1);
    assert!(totals.budgets[0].1 > Decimal::from(1_000_000));
    let mut export = store.export_activities(ExportSelection::All);
    let page = export.next_page().await.unwrap().expect("a page");
    assert!(page.iter().any(|activity| matches!(
        activity,
        ExportedActivity::Model(model) if model.identifier == programme.identifier
    )));

    // The same identifier again is refused beside the identifier.
    let again = store
        .save_staff_project(&programme, SaveMode::Create, actor)
        .await;
    assert!(
        matches!(
            again,
            Err(StoreError::Invalid {
                field: "identifier_suffix",
                ..
            })
        ),
        "{again:?}"
    );

    // A project of the programme; the programme cannot then become a project of it.
    let mut child = project("rural-jobs-ke", "Rural jobs in Kenya");
    child.parent = Some(programme.identifier.clone());
    store
        .save_staff_project(&child, SaveMode::Create, actor)
        .await
        .expect("saving a project of the programme");
    let mut looped = programme.clone();
    looped.parent = Some(child.identifier.clone());
    let refused = store
        .save_staff_project(&looped, SaveMode::Edit, actor)
        .await;
    assert!(
        matches!(
            refused,
            Err(StoreError::Invalid {
                field: "parent",
                ..
            })
        ),
        "{refused:?}"
    );
    let mut missing = programme.clone();
    missing.parent = Some("XM-NOT-STORED".to_owned());
    assert!(store
        .save_staff_project(&missing, SaveMode::Edit, actor)
        .await
        .is_err());
    // The child's budget is left to its programme: the portfolio budget counts it once.
    assert_eq!(
        store.portfolio(period).await.unwrap(),
        store.portfolio_by_scan(period).await.unwrap()
    );

    // An edit records the programme as it stood before it.
    let mut edited = programme.clone();
    edited.title.en = "Rural jobs, phase 1".to_owned();
    edited.budgets.pop();
    store
        .save_staff_project(&edited, SaveMode::Edit, actor)
        .await
        .unwrap();
    let events = store
        .audit_events(&AuditFilter {
            entity_kind: Some("project".to_owned()),
            page: 1,
            page_size: 50,
            ..AuditFilter::default()
        })
        .await
        .unwrap()
        .events;
    let edit = events
        .iter()
        .find(|event| event.entity_key == programme.identifier && event.action == "edit")
        .expect("the edit is audited");
    assert!(edit.before.as_deref().unwrap().contains("\"Rural jobs\""));
    assert!(edit
        .after
        .as_deref()
        .unwrap()
        .contains("Rural jobs, phase 1"));
    let create = events
        .iter()
        .find(|event| event.entity_key == programme.identifier && event.action == "create")
        .expect("the creation is audited");
    assert!(create.before.is_none());
    assert_eq!(
        store
            .staff_project(&programme.identifier)
            .await
            .unwrap()
            .unwrap()
            .project,
        edited
    );
}
