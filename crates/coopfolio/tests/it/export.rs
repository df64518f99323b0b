//! `coopfolio export iati` and `coopfolio validate`, end to end: the demo's portfolio and its
//! organisation file pass the official 2.03 schemas, the same export comes out of PostgreSQL
//! and SQLite, and the 43 real files survive an export and a re-import with identical stats,
//! every file that passed the schema on the way in passing it on the way out.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use coopfolio_core::codelists::Codelists;
use coopfolio_iati::{read_all, Record};

use crate::support::{covid_extract, summary_json, text, TestDatabase};

pub(crate) const ACTIVITY_SCHEMA: &str = "data/iati-schemas/2.03/iati-activities-schema.xsd";
const ORGANISATION_SCHEMA: &str = "data/iati-schemas/2.03/iati-organisations-schema.xsd";

/// `xmllint --noout --schema`: `None` when xmllint is not installed (after saying so), else
/// the lines of its complaints.
pub(crate) fn xmllint(schema: &str, file: &Path, test: &str) -> Option<Vec<String>> {
    let schema = coopfolio_testdata::workspace_root().join(schema);
    let output = match Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(file)
        .output()
    {
        Ok(output) => output,
        Err(_) => {
            println!("SKIPPED: {test}: xmllint is not installed");
            return None;
        }
    };
    if output.status.success() {
        return Some(Vec::new());
    }
    Some(
        text(&output.stderr)
            .lines()
            .filter(|line| !line.ends_with("fails to validate"))
            .map(str::to_owned)
            .collect(),
    )
}

fn export(database: &TestDatabase, args: &[&str]) -> serde_json::Value {
    let mut all_args = vec!["export", "iati", "--json"];
    all_args.extend_from_slice(args);
    let output = database.coopfolio(&all_args);
    assert!(
        output.status.success(),
        "export failed: {}",
        text(&output.stderr)
    );
    summary_json(&output)
}

fn activities_of(file: &Path) -> Vec<coopfolio_iati::model::Activity> {
    let bytes = std::fs::read(file).unwrap();
    let (records, _, fatal) = read_all(&bytes, "export.xml", Codelists::bundled());
    assert!(fatal.is_none(), "{fatal:?}");
    records
        .into_iter()
        .filter_map(|record| match record {
            Record::Activity(activity) => Some(activity),
            Record::Organisation(_) => None,
        })
        .collect()
}

/// Loads the demo into `database` and exports the portfolio and organisation file into
/// `folder`; returns the export's summary.
fn demo_export(database: &TestDatabase, folder: &Path) -> serde_json::Value {
    let load = database.coopfolio(&["demo", "--load-only"]);
    assert!(load.status.success(), "demo failed: {}", text(&load.stderr));
    let out = folder.join("portfolio.xml");
    let organisation = folder.join("organisation.xml");
    export(
        database,
        &[
            "--out",
            out.to_str().unwrap(),
            "--organisation-file",
            organisation.to_str().unwrap(),
        ],
    )
}

#[test]
fn the_demo_portfolio_and_organisation_file_pass_the_2_03_schemas() {
    let database = TestDatabase::sqlite();
    let folder = tempfile::tempdir().unwrap();
    let summary = demo_export(&database, folder.path());
    let portfolio = folder.path().join("portfolio.xml");
    let organisation = folder.path().join("organisation.xml");

    // Only the organisation's own activities, rebuilt from the tables, not the real sample
    // that the demo loads beside them.
    let activities = activities_of(&portfolio);
    assert!(activities.len() >= 770, "{}", activities.len());
    assert_eq!(summary["activities"], activities.len() as u64);
    assert_eq!(summary["activities_rebuilt"], activities.len() as u64);
    assert_eq!(summary["parts_left_out"], 0);
    assert!(activities.iter().all(|activity| {
        activity
            .reporting_org
            .as_ref()
            .and_then(|org| org.reference.as_deref())
            == Some(coopfolio_demo::ORGANISATION_REF)
    }));
    let all_stats = database.stats_json();
    assert!(
        all_stats["activities"].as_u64().unwrap() > activities.len() as u64,
        "the real sample is in the database but not in the organisation's export"
    );

    // The organisation file: a total budget per year, in US dollars.
    let organisation_xml = std::fs::read_to_string(&organisation).unwrap();
    let budgets = organisation_xml.matches("<total-budget>").count() as u64;
    assert!(budgets > 0);
    assert_eq!(summary["budget_years"], budgets);
    assert_eq!(
        summary["expenditure_years"],
        organisation_xml.matches("<total-expenditure>").count() as u64
    );
    assert!(organisation_xml.contains("default-currency=\"USD\""));

    // Identifiers are the stored ones: a second export lists the same activities.
    let again = folder.path().join("again.xml");
    export(&database, &["--out", again.to_str().unwrap()]);
    let identifiers = |activities: Vec<coopfolio_iati::model::Activity>| -> Vec<String> {
        activities.into_iter().map(|a| a.identifier).collect()
    };
    assert_eq!(identifiers(activities_of(&again)), identifiers(activities));

    let test = "demo export against the 2.03 schemas";
    let Some(complaints) = xmllint(ACTIVITY_SCHEMA, &portfolio, test) else {
        return;
    };
    assert!(complaints.is_empty(), "{complaints:#?}");
    let complaints = xmllint(ORGANISATION_SCHEMA, &organisation, test).unwrap();
    assert!(complaints.is_empty(), "{complaints:#?}");

    // `validate` agrees, and says the exports are clean.
    for file in [&portfolio, &organisation] {
        let output = database.coopfolio(&["validate", "--json", file.to_str().unwrap()]);
        let report = summary_json(&output);
        assert_eq!(report["schema_failures"], serde_json::json!([]), "{report}");
        assert!(output.status.success(), "{report}");
    }
}

#[test]
fn validate_lists_located_failures_and_exits_1() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("faulty.xml");
    std::fs::write(
        &file,
        "<?xml version=\"1.0\"?>\n<iati-activities version=\"2.03\">\n <iati-activity>\n  \
         <iati-identifier>XI-1</iati-identifier>\n  <budget><period-start iso-date=\"2024-01-01\"/>\
         <period-end iso-date=\"2023-01-01\"/></budget>\n </iati-activity>\n</iati-activities>\n",
    )
    .unwrap();
    let database = TestDatabase::sqlite();
    let output = database.coopfolio(&["validate", "--json", file.to_str().unwrap()]);
    if text(&output.stderr).contains("xmllint was not found") {
        println!("SKIPPED: validate: xmllint is not installed");
        return;
    }
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let report = summary_json(&output);
    let schema = report["schema_failures"].as_array().unwrap();
    assert!(!schema.is_empty());
    assert!(schema.iter().all(|failure| failure["identifier"] == "XI-1"));
    let rules = report["rule_failures"].as_array().unwrap();
    // The budget ends before it starts: the date_order rule of budgets, on the budget's line.
    let order = rules
        .iter()
        .find(|failure| failure["rule"] == "date_order")
        .expect("the budget's dates are out of order");
    assert_eq!(order["line"], 5);
    assert_eq!(order["identifier"], "XI-1");
    assert_eq!(order["context"], "/iati-activities/iati-activity/budget");
    // Validating needs no database and makes none.
    assert!(!Path::new(&database.sqlite_file()).exists());
}

#[test]
fn the_demo_export_is_the_same_from_postgres_and_sqlite() {
    let Some(postgres) = TestDatabase::postgres("demo export") else {
        return;
    };
    let sqlite = TestDatabase::sqlite();
    let (on_postgres, on_sqlite) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    demo_export(&postgres, on_postgres.path());
    demo_export(&sqlite, on_sqlite.path());
    // The files differ only in the time they were made.
    let without_times = |path: &Path| -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|line| match line.find("generated-datetime=") {
                Some(_) => String::new(),
                None => match line.find("last-updated-datetime=\"20") {
                    Some(_) if line.contains("<iati-organisation ") => String::new(),
                    _ => line.to_owned(),
                },
            })
            .collect()
    };
    for name in ["portfolio.xml", "organisation.xml"] {
        let (a, b) = (
            without_times(&on_postgres.path().join(name)),
            without_times(&on_sqlite.path().join(name)),
        );
        assert_eq!(a.len(), b.len(), "{name}");
        for (line_a, line_b) in a.iter().zip(&b) {
            assert_eq!(line_a, line_b, "{name}");
        }
    }
}

#[test]
fn real_files_round_trip_through_export_all() {
    let Some(folder) = covid_extract("export round trip") else {
        return;
    };
    let first = TestDatabase::sqlite();
    let import = first.coopfolio(&["import", "iati", "--json", folder.to_str().unwrap()]);
    assert!(import.status.success(), "{}", text(&import.stderr));
    let before = first.stats_json();

    let out_folder = tempfile::tempdir().unwrap();
    let exported = out_folder.path().join("all.xml");
    let summary = export(&first, &["--all", "--out", exported.to_str().unwrap()]);
    assert_eq!(summary["activities"], before["activities"]);
    assert_eq!(summary["activities_raw"], before["activities"]);

    let second = TestDatabase::sqlite();
    let import = second.coopfolio(&["import", "iati", "--json", exported.to_str().unwrap()]);
    assert!(import.status.success(), "{}", text(&import.stderr));
    let after = second.stats_json();
    assert_eq!(after, before, "stats after the round trip");

    // Every file that passed the schema on the way in passes on the way out: none of its
    // activities is where xmllint complains about the export.
    let test = "export round trip against the 2.03 schema";
    let Some(complaints) = xmllint(ACTIVITY_SCHEMA, &exported, test) else {
        return;
    };
    let exported_text = std::fs::read_to_string(&exported).unwrap();
    let lines: Vec<&str> = exported_text.lines().collect();
    let mut failing = BTreeSet::new();
    for complaint in &complaints {
        let prefix = format!("{}:", exported.display());
        let Some(number) = complaint
            .strip_prefix(&prefix)
            .and_then(|rest| rest.split(':').next())
            .and_then(|number| number.parse::<usize>().ok())
        else {
            continue;
        };
        // The activity a line falls in: the nearest identifier at or before its start.
        let start = (0..number.min(lines.len()))
            .rev()
            .find(|index| lines[*index].contains("<iati-activity"))
            .unwrap_or(0);
        let identifier = lines[start..]
            .iter()
            .find_map(|line| {
                let begin = line.find("<iati-identifier>")? + "<iati-identifier>".len();
                let end = line[begin..].find("</iati-identifier>")? + begin;
                Some(line[begin..end].trim().to_owned())
            })
            .unwrap_or_default();
        failing.insert(identifier);
    }
    let mut files_valid_in = 0;
    for file in crate::support::xml_files(&folder) {
        if !xmllint(ACTIVITY_SCHEMA, &file, test).unwrap().is_empty() {
            continue;
        }
        files_valid_in += 1;
        for activity in activities_of(&file) {
            assert!(
                !failing.contains(activity.identifier.trim()),
                "{} passed the schema in {} but fails it in the export",
                activity.identifier,
                file.display()
            );
        }
    }
    println!(
        "round trip: {} activities, stats identical; {files_valid_in} files valid on the way in, \
         all still valid on the way out; the {} activities xmllint flags in the export all come \
         from files that failed it on the way in",
        before["activities"],
        failing.len()
    );
    assert!(files_valid_in > 10, "{files_valid_in}");
}
