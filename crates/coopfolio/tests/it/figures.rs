//! The headline figures end to end: `coopfolio demo --load-only` loads the synthetic workspace,
//! and `coopfolio report --period 2022-23 --json` must give the figures the workspace is
//! calibrated on (the ILO's 2022-23 page), on SQLite and on PostgreSQL.

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::support::{text, TestDatabase};

#[test]
fn demo_then_report_gives_the_calibrated_figures_on_sqlite() {
    demo_then_report(&TestDatabase::sqlite());
}

#[test]
fn demo_then_report_gives_the_calibrated_figures_on_postgres() {
    let Some(database) = TestDatabase::postgres("demo then report") else {
        return;
    };
    demo_then_report(&database);
}

fn demo_then_report(database: &TestDatabase) {
    let output = database.coopfolio(&["demo", "--load-only"]);
    assert!(
        output.status.success(),
        "demo failed: {}",
        text(&output.stderr)
    );
    assert!(text(&output.stdout).contains("Loaded the synthetic demo workspace"));
    let activities = database.stats_json()["activities"].clone();

    let report = report_json(database);
    assert_eq!(report["period"], "2022-23");
    let total = Decimal::from_str(report["voluntary_contributions_usd"].as_str().unwrap()).unwrap();
    let expected = Decimal::from(965_100_000);
    assert!(
        (total - expected).abs() <= Decimal::from(50_000),
        "voluntary contributions of 2022-23: {total}"
    );
    let ranking = report["ranking"].as_array().unwrap();
    let united_nations = ranking
        .iter()
        .find(|line| line["contributor"] == "United Nations")
        .expect("the United Nations in the ranking");
    assert_eq!(united_nations["rank"], 6);
    assert!(report["countries"].as_u64().unwrap() >= 140);
    let active = report["programmes_active"].as_u64().unwrap();
    assert!((700..=850).contains(&active), "programmes active: {active}");
    // The modalities add up to the total, exactly.
    let by_modality: Decimal = report["by_modality"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| Decimal::from_str(line["usd"].as_str().unwrap()).unwrap())
        .sum();
    assert_eq!(by_modality, total);
    assert!(
        report["method"]["contributions"]["withheld"]["confidential_agreements"]
            .as_u64()
            .is_some()
    );

    // A second demo finds the workspace and loads nothing again.
    let output = database.coopfolio(&["demo", "--load-only"]);
    assert!(
        output.status.success(),
        "demo failed: {}",
        text(&output.stderr)
    );
    assert!(text(&output.stdout).contains("already loaded"));
    assert_eq!(database.stats_json()["activities"], activities);
    assert_eq!(report_json(database), report);
}

fn report_json(database: &TestDatabase) -> serde_json::Value {
    let output = database.coopfolio(&["report", "--period", "2022-23", "--json"]);
    assert!(
        output.status.success(),
        "report failed: {}",
        text(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("report --json prints JSON")
}
