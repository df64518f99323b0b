//! A programme and a project made in the staff workspace leave with the organisation's IATI
//! export (`coopfolio export iati`, rebuilt from the tables) and with `--all`, and both files
//! pass the 2.03 schema, on SQLite and on PostgreSQL.

use coopfolio_core::partnership::{Partner, ProjectMarkers};
use coopfolio_core::reference::Names;
use coopfolio_core::value::CurrencyCode;
use coopfolio_store::records::SaveMode;
use coopfolio_store::staff_projects::{ProjectBudget, Share, StaffProject};
use coopfolio_store::Store;
use rust_decimal::Decimal;

use crate::export::{xmllint, ACTIVITY_SCHEMA};
use crate::support::{summary_json, text, TestDatabase};

#[test]
fn workspace_projects_are_exported_and_pass_the_schema_on_sqlite() {
    workspace_projects_are_exported(TestDatabase::sqlite());
}

#[test]
fn workspace_projects_are_exported_and_pass_the_schema_on_postgres() {
    let Some(database) = TestDatabase::postgres("workspace projects in the IATI export") else {
        return;
    };
    workspace_projects_are_exported(database);
}

fn names(en: &str) -> Names {
    Names {
        en: en.to_owned(),
        fr: format!("{en} (fr)"),
        es: String::new(),
    }
}

/// A programme funded by a partner, with an original and a revised budget in euros.
fn programme(identifier: &str, parent: Option<&str>) -> StaffProject {
    let budget = |amount: i64, revised: bool| ProjectBudget {
        period_start: "2025-01-01".to_owned(),
        period_end: "2025-12-31".to_owned(),
        amount: Decimal::from(amount),
        currency: CurrencyCode::parse("EUR").unwrap(),
        revised,
    };
    StaffProject {
        identifier: identifier.to_owned(),
        title: names("Decent work in the cocoa belt"),
        description: names("Safer farms & fair pay <for all>."),
        status: "2".to_owned(),
        planned_start: "2025-01-01".to_owned(),
        planned_end: Some("2027-06-30".to_owned()),
        parent: parent.map(str::to_owned),
        countries: vec![Share {
            code: "GH".to_owned(),
            percentage: Some(Decimal::from(100)),
        }],
        sectors: vec![Share {
            code: "16020".to_owned(),
            percentage: None,
        }],
        funders: vec!["cocoa-fund".to_owned()],
        budgets: vec![budget(400_000, false), budget(450_000, true)],
        policy_areas: Vec::new(),
        markers: ProjectMarkers::default(),
    }
}

fn workspace_projects_are_exported(database: TestDatabase) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let identifiers = ["XI-DEMO-COOPFOLIO-cocoa", "XI-DEMO-COOPFOLIO-cocoa-gh"];
    runtime.block_on(async {
        let store = Store::connect(&database.url).await.expect("connecting");
        let partner = Partner {
            key: "cocoa-fund".to_owned(),
            names: names("Cocoa Fund"),
            iati_ref: Some("XM-DAC-41114".to_owned()),
            organisation_type: Some("40".to_owned()),
            country: None,
            group_override: None,
            synthetic: false,
        };
        let actor = "officer@example.org";
        store
            .save_staff_partner(&partner, SaveMode::Create, actor)
            .await
            .unwrap();
        store
            .save_staff_project(&programme(identifiers[0], None), SaveMode::Create, actor)
            .await
            .expect("saving the programme");
        store
            .save_staff_project(
                &programme(identifiers[1], Some(identifiers[0])),
                SaveMode::Create,
                actor,
            )
            .await
            .expect("saving its project");
        store.close().await;
    });

    let folder = tempfile::tempdir().unwrap();
    for (name, all) in [("portfolio.xml", false), ("all.xml", true)] {
        let out = folder.path().join(name);
        let mut args = vec!["export", "iati", "--json", "--out", out.to_str().unwrap()];
        if all {
            args.push("--all");
        }
        let output = database.coopfolio(&args);
        assert!(output.status.success(), "{}", text(&output.stderr));
        let summary = summary_json(&output);
        assert_eq!(summary["activities"], 2, "{summary}");
        assert_eq!(summary["activities_rebuilt"], 2, "{summary}");
        let xml = std::fs::read_to_string(&out).unwrap();
        for identifier in identifiers {
            assert!(xml.contains(&format!("<iati-identifier>{identifier}</iati-identifier>")));
        }
        assert!(
            xml.contains("<budget type=\"2\""),
            "the revision is exported"
        );
        assert!(xml.contains("ref=\"XM-DAC-41114\""), "the funder is named");
        assert!(
            xml.contains("&amp; fair pay &lt;for all&gt;"),
            "text is escaped"
        );
        let test = "workspace projects against the 2.03 schema";
        let Some(complaints) = xmllint(ACTIVITY_SCHEMA, &out, test) else {
            return;
        };
        assert!(complaints.is_empty(), "{name}: {complaints:#?}");
    }
}
