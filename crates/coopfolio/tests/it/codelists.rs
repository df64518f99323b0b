//! `coopfolio codelists update DIR`: newer codelist XML replaces the bundled lists for checking
//! codes, and a bad file changes nothing.

use crate::support::{text, TestDatabase};

const WITH_CODE_99: &str = r#"<?xml version="1.0"?>
<iati-activities version="2.03">
 <iati-activity default-currency="USD">
  <iati-identifier>XX-1-codes</iati-identifier>
  <transaction><transaction-type code="99"/><transaction-date iso-date="2022-03-01"/><value>5</value></transaction>
 </iati-activity>
</iati-activities>
"#;

fn bundled_transaction_types() -> String {
    let path =
        coopfolio_testdata::workspace_root().join("data/codelists/embedded/TransactionType.xml");
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn an_updated_codelist_is_used_to_check_codes() {
    let database = TestDatabase::sqlite();
    let folder = tempfile::tempdir().unwrap();
    let activity = folder.path().join("activity.xml");
    std::fs::write(&activity, WITH_CODE_99).unwrap();
    let activity = activity.to_str().unwrap();

    let before = database.coopfolio(&["import", "iati", activity]);
    assert!(
        text(&before.stdout).contains("'99' is not a code of the TransactionType codelist"),
        "{}",
        text(&before.stdout)
    );

    // A newer TransactionType list that knows code 99.
    let newer = bundled_transaction_types().replacen(
        "<codelist-items>",
        "<codelist-items>\n<codelist-item><code>99</code><name><narrative>Test flow</narrative></name></codelist-item>",
        1,
    );
    let lists = folder.path().join("lists");
    std::fs::create_dir(&lists).unwrap();
    std::fs::write(lists.join("TransactionType.xml"), newer).unwrap();
    let update = database.coopfolio(&["codelists", "update", lists.to_str().unwrap()]);
    assert!(update.status.success(), "{}", text(&update.stderr));
    assert!(text(&update.stdout).contains("TransactionType"));

    let listed = database.coopfolio(&["codelists", "list", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let transaction_type = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|list| list["name"] == "TransactionType")
        .unwrap();
    assert_eq!(transaction_type["source"], "updated");
    assert_eq!(listed.as_array().unwrap().len(), 70);

    let after = database.coopfolio(&["import", "iati", activity]);
    assert!(after.status.success());
    assert!(
        !text(&after.stdout).contains("is not a code"),
        "{}",
        text(&after.stdout)
    );
}

#[test]
fn a_bad_codelist_file_changes_nothing() {
    let database = TestDatabase::sqlite();
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(
        folder.path().join("Broken.xml"),
        "<codelist name=\"Broken\"><codelist-items>",
    )
    .unwrap();
    let update = database.coopfolio(&["codelists", "update", folder.path().to_str().unwrap()]);
    assert_eq!(update.status.code(), Some(1));
    assert!(
        text(&update.stderr).contains("Broken"),
        "names the file: {}",
        text(&update.stderr)
    );
    let listed = database.coopfolio(&["codelists", "list", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .all(|list| list["source"] == "bundled"));
}
