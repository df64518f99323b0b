//! The official IATI schema test suite (694 documents): none crashes the importer, every
//! should-pass document imports, and every refusal carries a located diagnostic.

use std::path::{Path, PathBuf};

use coopfolio_core::codelists::Codelists;
use coopfolio_iati::Severity;
use coopfolio_store::Store;

fn documents(folder: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            documents(&path, found);
        } else if path.extension().is_some_and(|extension| extension == "xml") {
            found.push(path);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_test_suite_imports_or_is_refused_with_a_location() {
    let suite = match coopfolio_testdata::shared_data() {
        Ok(data) => data.join("iati/schemas/tests"),
        Err(reason) => {
            println!("SKIPPED: schema test suite: {reason}");
            return;
        }
    };
    let mut files = Vec::new();
    documents(&suite, &mut files);
    files.sort();
    assert_eq!(files.len(), 694, "the suite's document count");

    let folder = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", folder.path().join("suite.db").display());
    let store = Store::connect(&url).await.unwrap();
    let codelists = Codelists::bundled();
    let (mut should_pass, mut refused) = (0, 0);
    for file in &files {
        let report = coopfolio::import::import_path(&store, file, codelists.clone(), |_| {})
            .await
            .unwrap();
        let name = file.strip_prefix(&suite).unwrap().display().to_string();
        // The registry-tests folder holds IATI Registry records (`<registry-record>`), not
        // activity or organisation files: they must be refused, with a location, like any
        // document that is not IATI data.
        let is_registry_record = name.starts_with("registry-tests");
        if is_registry_record {
            let fatal = report
                .fatal
                .as_ref()
                .expect("a registry record is not IATI data");
            assert_eq!(fatal.code, "not-iati", "{name}");
        } else if name.contains("should-pass") {
            should_pass += 1;
            assert!(
                report.fatal.is_none(),
                "{name} must import: {:?}",
                report.fatal
            );
        }
        for diagnostic in report.fatal.iter().chain(&report.diagnostics) {
            if diagnostic.severity == Severity::Warning {
                continue;
            }
            refused += 1;
            assert!(
                diagnostic.line >= 1 && diagnostic.column >= 1 && !diagnostic.path.is_empty(),
                "{name}: a refusal without a location: {diagnostic:?}"
            );
            assert!(diagnostic
                .file
                .ends_with(file.file_name().unwrap().to_str().unwrap()));
        }
    }
    println!(
        "{} documents, {should_pass} should-pass, {refused} refusals, all located",
        files.len()
    );
    assert!(should_pass > 50);
    store.close().await;
}
