//! Real IATI files: the d-portal extract and the official annotated examples, checked against
//! counts made independently of Coopfolio (INVENTORY.csv) and against the bytes of the files.
//!
//! The data comes from `coopfolio-testdata` (`COOPFOLIO_SHARED_DATA`, or the archive in the
//! repository); without it these tests print `SKIPPED: ...` and pass.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use coopfolio_iati::{IatiReader, Record, Severity};

use crate::render::{codelists, render_diagnostic};

/// Counts of one file as INVENTORY.csv gives them.
#[derive(Debug, PartialEq, Eq)]
struct Counts {
    activities: usize,
    organisations: usize,
    transactions: usize,
    budgets: usize,
}

fn inventory(activities_folder: &Path) -> BTreeMap<String, Counts> {
    let text = std::fs::read_to_string(activities_folder.join("INVENTORY.csv"))
        .expect("INVENTORY.csv is readable");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|column| *column == name)
            .unwrap_or_else(|| panic!("INVENTORY.csv has a {name} column"))
    };
    let (file, activities, organisations, transactions, budgets) = (
        column("file"),
        column("activities"),
        column("organisations"),
        column("transactions"),
        column("budgets"),
    );
    lines
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            let number = |index: usize| fields[index].parse::<usize>().expect("a count");
            (
                fields[file].to_string(),
                Counts {
                    activities: number(activities),
                    organisations: number(organisations),
                    transactions: number(transactions),
                    budgets: number(budgets),
                },
            )
        })
        .collect()
}

fn activities_folder() -> Option<PathBuf> {
    match coopfolio_testdata::shared_data() {
        Ok(folder) => Some(folder.join("iati/activities")),
        Err(reason) => {
            println!("SKIPPED: shared data not found: {reason}");
            None
        }
    }
}

/// Everything read from one file, through a small buffer so that events straddle reads.
struct FileOutcome {
    records: Vec<Record>,
    counts: Counts,
    diagnostics: Vec<String>,
    fatal: Option<String>,
    bytes_read: u64,
}

fn read_file(path: &Path) -> FileOutcome {
    let file = File::open(path).expect("the file opens");
    let label = path.display().to_string();
    let mut reader = IatiReader::new(BufReader::with_capacity(1000, file), label, codelists());
    let mut records = Vec::new();
    let mut diagnostics = Vec::new();
    let mut counts = Counts {
        activities: 0,
        organisations: 0,
        transactions: 0,
        budgets: 0,
    };
    let fatal = loop {
        match reader.next_record(&mut diagnostics) {
            Ok(Some(record)) => {
                match &record {
                    Record::Activity(activity) => {
                        counts.activities += 1;
                        counts.transactions += activity.transactions.len();
                        counts.budgets += activity.budgets.len();
                    }
                    Record::Organisation(_) => counts.organisations += 1,
                }
                records.push(record);
            }
            Ok(None) => break None,
            Err(fatal) => break Some(render_diagnostic(&fatal)),
        }
    };
    for diagnostic in &diagnostics {
        assert_ne!(
            diagnostic.severity,
            Severity::Fatal,
            "a fatal is returned, not listed"
        );
        assert!(
            diagnostic.line >= 1 && diagnostic.column >= 1,
            "{diagnostic}"
        );
        assert!(diagnostic.path.starts_with("/iati-"), "{diagnostic}");
    }
    FileOutcome {
        records,
        counts,
        diagnostics: diagnostics.iter().map(render_diagnostic).collect(),
        fatal,
        bytes_read: reader.bytes_read(),
    }
}

#[test]
fn every_real_file_gives_the_counts_of_the_inventory_without_a_fatal() {
    let Some(folder) = activities_folder() else {
        return;
    };
    let inventory = inventory(&folder);
    assert!(
        inventory.len() >= 45,
        "the inventory lists the 43 extract files and 2 examples"
    );
    let mut mismatches = Vec::new();
    for (file, expected) in &inventory {
        let path = folder.join(file);
        let outcome = read_file(&path);
        assert_eq!(outcome.fatal, None, "{file}");
        assert_eq!(
            outcome.bytes_read,
            std::fs::metadata(&path).expect("metadata").len()
        );
        if outcome.counts != *expected {
            mismatches.push(format!(
                "{file}: read {:?}, inventory {expected:?}",
                outcome.counts
            ));
        }
        // Skipped records would make the counts differ; say which if they do.
        for diagnostic in outcome
            .diagnostics
            .iter()
            .filter(|line| line.starts_with("error"))
        {
            println!("{diagnostic}");
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// The offsets of `<iati-activity ...>` ... `</iati-activity>` in a document, found by plain
/// byte search (none of the files has these strings in text or comments).
fn element_spans(bytes: &[u8], name: &str) -> Vec<(usize, usize)> {
    let open = format!("<{name}");
    let close = format!("</{name}>");
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(found) = find(&bytes[from..], open.as_bytes()) {
        let start = from + found;
        let after_name = bytes.get(start + open.len()).copied();
        if !matches!(after_name, Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/')) {
            from = start + open.len();
            continue;
        }
        let end =
            find(&bytes[start..], close.as_bytes()).expect("a closing tag") + start + close.len();
        spans.push((start, end));
        from = end;
    }
    spans
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

/// 1-based lines and byte columns of increasing offsets, counted as they come.
struct LineCounter<'a> {
    bytes: &'a [u8],
    counted_to: usize,
    line: u64,
    line_start: usize,
}

impl LineCounter<'_> {
    fn line_and_column(&mut self, offset: usize) -> (u64, u64) {
        for index in memchr::memchr_iter(b'\n', &self.bytes[self.counted_to..offset]) {
            self.line += 1;
            self.line_start = self.counted_to + index + 1;
        }
        self.counted_to = offset;
        (self.line, (offset - self.line_start) as u64 + 1)
    }
}

#[test]
fn raw_xml_is_the_exact_bytes_of_each_record_and_its_position_is_right() {
    let Some(folder) = activities_folder() else {
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder.join("dportal-covid-extract-2021"))
        .expect("the extract folder")
        .map(|entry| entry.expect("an entry").path())
        .collect();
    files.push(folder.join("official-examples/activity-standard-example-annotated.xml"));
    files.push(folder.join("official-examples/organisation-standard-example-annotated.xml"));
    let mut records_checked = 0;
    for path in files {
        let bytes = std::fs::read(&path).expect("the file reads");
        let outcome = read_file(&path);
        assert_eq!(outcome.fatal, None, "{}", path.display());
        let activity_spans = element_spans(&bytes, "iati-activity");
        let organisation_spans = element_spans(&bytes, "iati-organisation");
        let spans = if activity_spans.is_empty() {
            organisation_spans
        } else {
            activity_spans
        };
        assert_eq!(spans.len(), outcome.records.len(), "{}", path.display());
        let mut lines = LineCounter {
            bytes: &bytes,
            counted_to: 0,
            line: 1,
            line_start: 0,
        };
        for (record, (start, end)) in outcome.records.iter().zip(spans) {
            let (raw_xml, line, column) = match record {
                Record::Activity(activity) => (&activity.raw_xml, activity.line, activity.column),
                Record::Organisation(organisation) => (
                    &organisation.raw_xml,
                    organisation.line,
                    organisation.column,
                ),
            };
            assert!(
                raw_xml[..] == bytes[start..end],
                "{}: raw_xml at byte {start}",
                path.display()
            );
            assert_eq!(
                (line, column),
                lines.line_and_column(start),
                "{}",
                path.display()
            );
            records_checked += 1;
        }
    }
    assert_eq!(records_checked, 4300 + 1 + 1);
}

#[test]
fn the_official_examples_are_read_in_full() {
    let Some(folder) = activities_folder() else {
        return;
    };
    let outcome =
        read_file(&folder.join("official-examples/activity-standard-example-annotated.xml"));
    let Some(Record::Activity(activity)) = outcome.records.first() else {
        panic!("an activity")
    };
    // The annotated example uses every element once, so each part of the model is filled.
    assert_eq!(activity.identifier, "AA-AAA-123456789-ABC123");
    assert!(activity.reporting_org.is_some());
    assert!(!activity.titles.is_empty());
    assert!(!activity.descriptions.is_empty());
    assert!(!activity.participating_orgs.is_empty());
    assert!(activity.status.is_some());
    assert!(!activity.dates.is_empty());
    assert!(!activity.recipient_countries.is_empty());
    assert!(!activity.recipient_regions.is_empty());
    assert!(!activity.sectors.is_empty());
    assert!(activity.collaboration_type.is_some());
    assert!(activity.default_flow_type.is_some());
    assert!(activity.default_finance_type.is_some());
    assert!(activity.default_tied_status.is_some());
    assert!(!activity.default_aid_types.is_empty());
    assert!(!activity.related_activities.is_empty());
    let budget = activity.budgets.first().expect("a budget");
    assert!(budget.value.is_some() && budget.period_start.is_some() && budget.period_end.is_some());
    let transaction = activity.transactions.first().expect("a transaction");
    assert!(
        transaction.kind.is_some() && transaction.date.is_some() && transaction.value.is_some()
    );
    assert!(transaction.provider_org.is_some() && transaction.receiver_org.is_some());
    assert!(!transaction.description.is_empty() && !transaction.sectors.is_empty());
    println!("{}", outcome.diagnostics.join("\n"));

    let outcome =
        read_file(&folder.join("official-examples/organisation-standard-example-annotated.xml"));
    let Some(Record::Organisation(organisation)) = outcome.records.first() else {
        panic!("an organisation")
    };
    assert_eq!(organisation.identifier, "AA-AAA-123456789");
    assert!(!organisation.names.is_empty() && organisation.reporting_org.is_some());
    let elements: Vec<&str> = organisation
        .budgets
        .iter()
        .chain(&organisation.expenditures)
        .map(|budget| budget.element.as_str())
        .collect();
    assert_eq!(
        elements,
        [
            "total-budget",
            "recipient-org-budget",
            "recipient-region-budget",
            "recipient-country-budget",
            "total-expenditure"
        ]
    );
}
