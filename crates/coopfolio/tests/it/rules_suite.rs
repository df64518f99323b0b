//! `coopfolio validate`'s ruleset engine against the test cases that ship with the rulesets:
//! IATI-Rulesets' meta tests (a rule file, a document, pass or fail) and the IATI Validator's
//! ruleset unit tests (the same, with "no rule match" and, for identifiers, the activities
//! expected to fail). The agreement rate is printed and must stay at the level measured.

use std::collections::BTreeSet;
use std::path::Path;

use coopfolio::validate::{check_rules, ValidationReport};
use coopfolio_iati::rules::RuleChecker;

/// A fixed "today", after every date in the test documents that should pass and before the
/// far-future dates that test `date_now`, so that the outcome does not depend on the clock.
const TODAY: (i32, u32, u32) = (2025, 6, 1);

fn run(rule: &Path, document: &Path) -> ValidationReport {
    let json = std::fs::read_to_string(rule).unwrap();
    let mut checker = RuleChecker::from_json(&json, TODAY)
        .unwrap_or_else(|error| panic!("{}: {error}", rule.display()));
    check_rules(&mut checker, document).unwrap()
}

fn passed(report: &ValidationReport) -> bool {
    report.rules_stopped.is_none() && report.rule_failures.is_empty()
}

#[derive(Default)]
struct Tally {
    agreed: u32,
    total: u32,
    disagreements: Vec<String>,
}

impl Tally {
    fn record(&mut self, agreed: bool, what: String) {
        self.total += 1;
        if agreed {
            self.agreed += 1;
        } else {
            self.disagreements.push(what);
        }
    }

    fn rate(&self) -> f64 {
        f64::from(self.agreed) / f64::from(self.total.max(1))
    }
}

#[test]
fn validate_agrees_with_the_rulesets_own_test_cases() {
    // The test cases travel with the repository (data/iati-rulesets/SOURCES.md).
    let rulesets = coopfolio_testdata::workspace_root().join("data/iati-rulesets/tests");

    // IATI-Rulesets meta tests: "True" when the document passes the rule.
    let meta = rulesets.join("meta_tests");
    let expectations: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(meta.join("EXPECTATIONS.json")).unwrap())
            .unwrap();
    let mut meta_tally = Tally::default();
    for test in expectations["tests"].as_array().unwrap() {
        let rule = test["rule"].as_str().unwrap();
        let file = test["file"].as_str().unwrap();
        let expected = test["expected"].as_str().unwrap() == "True";
        let report = run(&meta.join(rule), &meta.join(file));
        meta_tally.record(
            passed(&report) == expected,
            format!("meta {rule} {file}: expected {expected}"),
        );
    }

    // The IATI Validator's unit tests: `true`, or a "No ... Match" string, is a pass.
    let units = rulesets.join("validator-unit-tests");
    let expectations: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(units.join("EXPECTATIONS.json")).unwrap())
            .unwrap();
    let mut unit_tally = Tally::default();
    // Cases that ask the IATI Registry whether an organisation identifier exists cannot be
    // decided offline; they are counted apart.
    let mut registry_tally = Tally::default();
    for (suite, tests) in expectations["suites"].as_object().unwrap() {
        for test in tests.as_array().unwrap() {
            let rule = test["rule"].as_str().unwrap();
            let file = test["file"].as_str().unwrap();
            let folder = units.join(suite);
            let report = run(
                &folder.join("rules").join(rule),
                &folder.join("test-files").join(file),
            );
            let (agreed, expected) =
                if let Some(identifiers) = test.get("expectedFailingIdentifiers") {
                    let expected: BTreeSet<String> = identifiers
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|id| id.as_str().unwrap().to_owned())
                        .collect();
                    let failing: BTreeSet<String> = report
                        .rule_failures
                        .iter()
                        // The IATI Validator names an activity without an identifier so.
                        .map(|failure| {
                            failure
                                .identifier
                                .clone()
                                .unwrap_or_else(|| "noIdentifier".to_owned())
                        })
                        .collect();
                    (
                        failing == expected,
                        format!("{expected:?}, got {failing:?}"),
                    )
                } else {
                    let expected = test["expectedResult"] != serde_json::Value::Bool(false);
                    (passed(&report) == expected, format!("{expected}"))
                };
            let tally = if suite == "orgIdCheck" {
                &mut registry_tally
            } else {
                &mut unit_tally
            };
            tally.record(
                agreed,
                format!("{suite} {rule} {file}: expected {expected}"),
            );
        }
    }

    for disagreement in meta_tally
        .disagreements
        .iter()
        .chain(&unit_tally.disagreements)
    {
        println!("disagrees: {disagreement}");
    }
    println!(
        "ruleset agreement: IATI-Rulesets meta tests {}/{} ({:.1}%), IATI Validator unit tests {}/{} ({:.1}%), \
         registry-dependent cases {}/{} (not decidable offline)",
        meta_tally.agreed,
        meta_tally.total,
        100.0 * meta_tally.rate(),
        unit_tally.agreed,
        unit_tally.total,
        100.0 * unit_tally.rate(),
        registry_tally.agreed,
        registry_tally.total,
    );
    assert!(meta_tally.total > 50 && unit_tally.total > 100);
    assert!(
        meta_tally.rate() >= MEASURED_META,
        "meta tests agreement fell"
    );
    assert!(
        unit_tally.rate() >= MEASURED_UNITS,
        "unit tests agreement fell"
    );
}

/// The agreement measured when this test was written (every case), so that a change that
/// makes the engine disagree more fails here.
const MEASURED_META: f64 = 1.0;
const MEASURED_UNITS: f64 = 1.0;
