//! The official IATI schema test suite: 694 small documents, valid ones under `should-pass`
//! and invalid ones under `should-fail`. The reader is no schema validator, so an invalid
//! document may well read without complaint; what is checked is that nothing panics, that
//! valid documents are never refused, and that every refusal says where.

use std::path::{Path, PathBuf};

use coopfolio_iati::{read_all, Severity};

use crate::render::{codelists, render_diagnostic};

fn xml_files(folder: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(folder).expect("a readable folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            xml_files(&path, files);
        } else if path.extension().is_some_and(|extension| extension == "xml") {
            files.push(path);
        }
    }
}

#[test]
fn the_schema_suite_reads_without_panic_and_valid_documents_without_fatal() {
    let folder = match coopfolio_testdata::shared_data() {
        Ok(folder) => folder.join("iati/schemas/tests"),
        Err(reason) => {
            println!("SKIPPED: shared data not found: {reason}");
            return;
        }
    };
    let mut files = Vec::new();
    xml_files(&folder, &mut files);
    assert!(
        files.len() >= 690,
        "the suite has 694 documents, found {}",
        files.len()
    );
    let codelists = codelists();
    let mut refused_valid = Vec::new();
    let (mut passing, mut failing, mut fatal_count) = (0, 0, 0);
    for path in &files {
        let relative = path
            .strip_prefix(&folder)
            .expect("inside the suite")
            .to_string_lossy();
        let bytes = std::fs::read(path).expect("the document reads");
        let (_, diagnostics, fatal) = read_all(&bytes, &relative, codelists.clone());
        for diagnostic in diagnostics.iter().chain(&fatal) {
            assert!(
                diagnostic.line >= 1 && diagnostic.column >= 1,
                "{diagnostic}"
            );
            assert!(!diagnostic.path.is_empty(), "{diagnostic}");
            if diagnostic.severity != Severity::Warning {
                assert!(diagnostic.path.starts_with('/'), "{diagnostic}");
            }
        }
        if let Some(fatal) = &fatal {
            fatal_count += 1;
            assert_eq!(fatal.severity, Severity::Fatal);
        }
        let should_pass = relative.contains("should-pass");
        if should_pass {
            passing += 1;
        } else {
            failing += 1;
        }
        // The registry tests are documents of the IATI Registry's own record format, which is
        // no activity or organisation file: refusing them as not IATI is right.
        if relative.starts_with("registry-tests") {
            let fatal = fatal.expect("a registry record is not an IATI document");
            assert_eq!(fatal.code, "not-iati", "{}", render_diagnostic(&fatal));
            continue;
        }
        if should_pass {
            if let Some(fatal) = fatal {
                refused_valid.push(render_diagnostic(&fatal));
            }
        }
    }
    println!("{passing} should-pass and {failing} should-fail documents, {fatal_count} fatal");
    assert!(refused_valid.is_empty(), "{}", refused_valid.join("\n"));
}
