//! What bad input gets: a clear, located message, and nothing already stored is lost.

use std::path::Path;

use crate::support::{summary_json, text, TestDatabase};

const GOOD: &str = r#"<?xml version="1.0"?>
<iati-activities version="2.03">
 <iati-activity default-currency="EUR">
  <iati-identifier>XX-1-good</iati-identifier>
  <reporting-org ref="XX-1" type="10"><narrative>Ministry</narrative></reporting-org>
  <title><narrative>Good</narrative></title>
  <transaction><transaction-type code="3"/><transaction-date iso-date="2022-03-01"/><value value-date="2022-03-01">100.10</value></transaction>
 </iati-activity>
</iati-activities>
"#;

fn write(folder: &Path, name: &str, contents: &str) -> String {
    let path = folder.join(name);
    std::fs::write(&path, contents).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn a_file_that_is_not_well_formed_writes_nothing_and_says_where() {
    let database = TestDatabase::sqlite();
    let folder = tempfile::tempdir().unwrap();
    let good = write(folder.path(), "good.xml", GOOD);
    assert!(database
        .coopfolio(&["import", "iati", &good])
        .status
        .success());
    let before = database.stats_json();

    // Well-formed up to line 5, where an end tag does not match; the activity before it is
    // complete, and still must not be stored.
    let broken = GOOD
        .replace("XX-1-good", "XX-1-other")
        .replace("</title>", "</titel>");
    let broken = write(folder.path(), "broken.xml", &broken);
    let output = database.coopfolio(&["import", "iati", &broken]);
    assert_eq!(output.status.code(), Some(1));
    let report = text(&output.stdout);
    assert!(report.contains("FAILED"), "{report}");
    assert!(
        report.contains("broken.xml:6:"),
        "the line of the bad end tag: {report}"
    );
    assert_eq!(database.stats_json(), before);

    let not_xml = write(folder.path(), "not-xml.xml", "%PDF-1.4 this is not XML");
    let output = database.coopfolio(&["import", "iati", "--json", &not_xml]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(summary_json(&output)["files_failed"], 1);
    assert_eq!(database.stats_json(), before);
}

#[test]
fn an_activity_without_identifier_is_skipped_and_the_rest_goes_in() {
    let database = TestDatabase::sqlite();
    let folder = tempfile::tempdir().unwrap();
    let without_identifier = GOOD.replace(
        "<iati-activities version=\"2.03\">",
        "<iati-activities version=\"2.03\"><iati-activity><title><narrative>No id</narrative></title></iati-activity>",
    );
    let path = write(folder.path(), "partly.xml", &without_identifier);
    let output = database.coopfolio(&["import", "iati", "--json", &path]);
    assert_eq!(output.status.code(), Some(1), "something was skipped");
    let summary = summary_json(&output);
    assert_eq!(summary["activities"], 1);
    assert_eq!(summary["activities_skipped"], 1);
    assert_eq!(database.stats_json()["activities"], 1);
}

#[test]
fn lesser_faults_are_reported_and_the_activity_goes_in() {
    let database = TestDatabase::sqlite();
    let folder = tempfile::tempdir().unwrap();
    let faulty = GOOD
        .replace("code=\"3\"", "code=\"99\"")
        .replace("100.10", "one hundred");
    let path = write(folder.path(), "faulty.xml", &faulty);
    let output = database.coopfolio(&["import", "iati", &path]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let report = text(&output.stdout);
    assert!(report.contains("faulty.xml:7:"), "located: {report}");
    assert!(report.contains("99"), "names the unknown code: {report}");
    assert!(
        report.contains("one hundred"),
        "names the bad value: {report}"
    );
    let stats = database.stats_json();
    assert_eq!(stats["activities"], 1);
    assert_eq!(stats["transactions"], 1);
}

#[test]
fn reimporting_an_activity_replaces_it() {
    let database = TestDatabase::sqlite();
    let folder = tempfile::tempdir().unwrap();
    let first = write(folder.path(), "first.xml", GOOD);
    let second = write(folder.path(), "second.xml", &GOOD.replace("100.10", "250"));
    assert!(database
        .coopfolio(&["import", "iati", &first])
        .status
        .success());
    assert!(database
        .coopfolio(&["import", "iati", &second])
        .status
        .success());
    let stats = database.stats_json();
    assert_eq!(stats["activities"], 1);
    assert_eq!(stats["transactions"], 1);
    assert_eq!(stats["transaction_sums"][0]["sum"], "250");
}

#[test]
fn usage_errors_exit_with_2() {
    let database = TestDatabase::sqlite();
    let output = database.coopfolio(&["import", "iati", "/no/such/file.xml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("/no/such/file.xml"));
    // The files are listed before the database is opened: a mistyped path creates nothing.
    assert!(
        !std::path::Path::new(&database.sqlite_file()).exists(),
        "a failed import left a new database behind"
    );
    let output = database.coopfolio(&["import", "iati"]);
    assert_eq!(output.status.code(), Some(2));
    let output = database.coopfolio(&["no-such-command"]);
    assert_eq!(output.status.code(), Some(2));
}
