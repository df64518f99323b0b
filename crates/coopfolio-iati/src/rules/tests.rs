//! Unit tests of the ruleset engine: small rulesets over small documents, each showing one
//! behaviour a reader of the ruleset format would ask about.

use super::*;

const TODAY: (i32, u32, u32) = (2025, 6, 1);

fn failures(ruleset: &str, document: &str) -> (Vec<RuleFailure>, CheckSummary) {
    let mut checker = RuleChecker::from_json(ruleset, TODAY).unwrap();
    let mut found = Vec::new();
    let summary = checker
        .check(document.as_bytes(), |failure| found.push(failure))
        .unwrap();
    (found, summary)
}

const TWO_ACTIVITIES: &str = "<iati-activities version=\"2.03\">
 <iati-activity>
  <iati-identifier>XI-1</iati-identifier>
  <budget><period-start iso-date=\"2024-01-01\"/><period-end iso-date=\"2023-01-01\"/></budget>
  <sector vocabulary=\"2\" code=\"111\" percentage=\"60\"/>
  <sector vocabulary=\"2\" code=\"112\" percentage=\"40\"/>
 </iati-activity>
 <iati-activity>
  <iati-identifier>XI-2</iati-identifier>
  <budget><period-start iso-date=\"2022-01-01\"/><period-end iso-date=\"2022-12-31\"/></budget>
  <sector vocabulary=\"2\" code=\"111\" percentage=\"60\"/>
  <sector vocabulary=\"2\" code=\"112\" percentage=\"30\"/>
 </iati-activity>
</iati-activities>";

#[test]
fn a_failure_names_its_line_record_rule_and_context() {
    let ruleset = r#"{"/iati-activities/iati-activity/budget": {"date_order": {"cases": [
        {"less": "period-start/@iso-date", "more": "period-end/@iso-date",
         "ruleInfo": {"id": "9.9.9", "severity": "warning", "message": "in order"}}]}}}"#;
    let (found, summary) = failures(ruleset, TWO_ACTIVITIES);
    assert_eq!(summary.records, 2);
    assert_eq!(summary.cases_evaluated, 2);
    assert_eq!(found.len(), 1, "{found:?}");
    let failure = &found[0];
    assert_eq!(failure.line, 4);
    assert_eq!(failure.identifier.as_deref(), Some("XI-1"));
    assert_eq!(failure.rule, "date_order");
    assert_eq!(failure.rule_id.as_deref(), Some("9.9.9"));
    assert!(!failure.is_error());
    assert_eq!(failure.context, "/iati-activities/iati-activity/budget");
    assert_eq!(
        summary
            .spans
            .iter()
            .map(|span| (span.first_line, span.last_line))
            .collect::<Vec<_>>(),
        vec![(2, 7), (8, 13)]
    );
}

#[test]
fn a_loop_applies_its_rules_once_per_value_with_the_value_substituted() {
    let ruleset = r#"{"//iati-activity": {"loop": {"cases": [{
        "foreach": "sector/@vocabulary",
        "do": {"strictSum": {"cases": [{"paths": ["sector[@vocabulary = '$1']/@percentage"], "sum": 100}]}},
        "subs": ["paths"]}]}}}"#;
    let (found, _) = failures(ruleset, TWO_ACTIVITIES);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].identifier.as_deref(), Some("XI-2"));
    assert_eq!(
        found[0].paths,
        vec!["sector[@vocabulary = '2']/@percentage"]
    );
}

#[test]
fn camel_case_and_snake_case_names_are_the_same_rule() {
    let snake = r#"{"//iati-activity": {"no_more_than_one": {"cases": [{"paths": ["sector"]}]}}}"#;
    let camel = r#"{"//iati-activity": {"noMoreThanOne": {"cases": [{"paths": ["sector"]}]}}}"#;
    assert_eq!(failures(snake, TWO_ACTIVITIES).0.len(), 2);
    assert_eq!(failures(camel, TWO_ACTIVITIES).0.len(), 2);
}

#[test]
fn a_rule_the_engine_does_not_know_fails_rather_than_passes() {
    let ruleset = r#"{"//iati-activity": {"made_up": {"cases": [{"paths": ["sector"]}]}}}"#;
    assert_eq!(failures(ruleset, TWO_ACTIVITIES).0.len(), 2);
}

#[test]
fn cases_that_need_the_registry_are_counted_not_applied() {
    let ruleset = r#"{"//iati-activity": {"startswith": {"cases": [
        {"idCondition": "NOT_EXISTING_ORG_ID", "prefix": ["ORG-ID-PREFIX"], "paths": ["iati-identifier"]}]}}}"#;
    let (found, summary) = failures(ruleset, TWO_ACTIVITIES);
    assert!(found.is_empty());
    assert_eq!(summary.cases_skipped, 2);
    assert_eq!(summary.cases_evaluated, 0);
}

#[test]
fn xml_lang_is_seen_in_the_xml_namespace() {
    let ruleset = r#"{"//iati-activity": {"atleast_one": {"cases": [{"paths": ["@xml:lang"]}]}}}"#;
    let document = "<iati-activities><iati-activity xml:lang=\"fr\"><iati-identifier>A</iati-identifier></iati-activity>\
                    <iati-activity><iati-identifier>B</iati-identifier></iati-activity></iati-activities>";
    let (found, _) = failures(ruleset, document);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].identifier.as_deref(), Some("B"));
}

#[test]
fn a_document_that_is_not_well_formed_stops_with_its_line() {
    let mut checker = RuleChecker::standard(TODAY).unwrap();
    let error = checker
        .check(
            &b"<iati-activities>\n<iati-activity>\n</iati-activities>"[..],
            |_| {},
        )
        .unwrap_err();
    assert!(
        matches!(error, RulesError::Xml { line: 3, .. }),
        "{error:?}"
    );
}

#[test]
fn the_standard_ruleset_reads_and_compiles() {
    let document = "<iati-activities version=\"2.03\"><iati-activity xml:lang=\"en\" default-currency=\"USD\">\
        <iati-identifier>XI-DEMO-1</iati-identifier></iati-activity></iati-activities>";
    let mut checker = RuleChecker::standard(TODAY).unwrap();
    let mut found = Vec::new();
    let summary = checker
        .check(document.as_bytes(), |f| found.push(f))
        .unwrap();
    assert!(summary.cases_evaluated > 30, "{summary:?}");
    // An activity with nothing but an identifier lacks, among others, a start date.
    assert!(found.iter().any(|f| f.rule_id.as_deref() == Some("6.11.1")));
}
