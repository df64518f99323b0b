//! Random and mangled input never makes the reader panic, and how the input is cut into reads
//! never changes what it gives.

use std::io::{BufReader, Read};

use coopfolio_iati::{read_all, Diagnostic, IatiReader, Record};
use proptest::prelude::*;

use crate::render::{codelists, render_outcome};

/// A small document that touches every part of the reader.
const VALID: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<iati-activities version="2.03">
 <!-- a comment -->
 <iati-activity default-currency="USD" xml:lang="en" hierarchy="1">
  <iati-identifier>A-1</iati-identifier>
  <reporting-org ref="XM-DAC-41302" type="40"><narrative>ILO</narrative></reporting-org>
  <title><narrative>Title &amp; more</narrative><narrative xml:lang="fr">Titre</narrative></title>
  <description type="1"><narrative><![CDATA[<b>raw</b>]]></narrative></description>
  <participating-org ref="GB-GOV-1" role="1" type="10"/>
  <activity-date type="1" iso-date="2020-01-01"/>
  <recipient-country code="KE" percentage="100"/>
  <sector code="16020" percentage="100"/>
  <budget type="1" status="1"><period-start iso-date="2020-01-01"/><period-end iso-date="2020-12-31"/><value value-date="2020-01-01">100</value></budget>
  <transaction><transaction-type code="D"/><transaction-date iso-date="2020-03-01"/><value currency="EUR">50.5</value>
   <provider-org ref="GB-GOV-1"><narrative>FCDO</narrative></provider-org></transaction>
  <related-activity ref="A-0" type="1"/>
 </iati-activity>
 <iati-activity><title>no identifier</title></iati-activity>
 <iati-activity><iati-identifier>A-3</iati-identifier><transaction><transaction-type code="X"/><value>x</value></transaction></iati-activity>
</iati-activities>
"#;

/// Checks that hold for any input.
fn check_invariants(bytes: &[u8]) {
    let (records, diagnostics, fatal) = read_all(bytes, "input.xml", codelists());
    for diagnostic in diagnostics.iter().chain(&fatal) {
        assert!(
            diagnostic.line >= 1 && diagnostic.column >= 1,
            "{diagnostic}"
        );
        assert!(diagnostic.path.starts_with('/'), "{diagnostic}");
    }
    for record in &records {
        if let Record::Activity(activity) = record {
            assert!(!activity.identifier.is_empty());
            assert!(activity.raw_xml.starts_with(b"<iati-activity"));
            assert!(activity.raw_xml.ends_with(b">"));
        }
    }
}

/// A reader that hands out its bytes in reads of the given sizes, in turn.
struct ChoppedReader<'a> {
    bytes: &'a [u8],
    sizes: Vec<usize>,
    turn: usize,
}

impl Read for ChoppedReader<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let size = self.sizes[self.turn % self.sizes.len()].max(1);
        self.turn += 1;
        let amount = size.min(buffer.len()).min(self.bytes.len());
        buffer[..amount].copy_from_slice(&self.bytes[..amount]);
        self.bytes = &self.bytes[amount..];
        Ok(amount)
    }
}

fn read_chopped(bytes: &[u8], sizes: Vec<usize>) -> String {
    let source = BufReader::with_capacity(
        7,
        ChoppedReader {
            bytes,
            sizes,
            turn: 0,
        },
    );
    let mut reader = IatiReader::new(source, "input.xml", codelists());
    let mut records = Vec::new();
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let fatal = loop {
        match reader.next_record(&mut diagnostics) {
            Ok(Some(record)) => records.push(record),
            Ok(None) => break None,
            Err(fatal) => break Some(fatal),
        }
    };
    let mut rendered = render_outcome(&records, &diagnostics, fatal.as_ref());
    for record in &records {
        if let Record::Activity(activity) = record {
            rendered.push_str(&String::from_utf8_lossy(&activity.raw_xml));
        }
    }
    rendered
}

#[test]
fn the_valid_document_reads_as_expected() {
    let (records, diagnostics, fatal) = read_all(VALID.as_bytes(), "input.xml", codelists());
    assert_eq!(records.len(), 2);
    assert_eq!(fatal, None);
    let codes: Vec<&str> = diagnostics
        .iter()
        .map(|diagnostic| diagnostic.code)
        .collect();
    assert_eq!(
        codes,
        ["missing-identifier", "unknown-code", "not-a-number"]
    );
}

#[test]
fn every_prefix_of_a_valid_document_reads_without_panic_and_is_fatal_until_the_end() {
    let bytes = VALID.as_bytes();
    let root_end =
        VALID.find("</iati-activities>").expect("a root end") + "</iati-activities>".len();
    for length in 0..=bytes.len() {
        check_invariants(&bytes[..length]);
        let (_, _, fatal) = read_all(&bytes[..length], "input.xml", codelists());
        assert_eq!(
            fatal.is_some(),
            length < root_end,
            "prefix of {length} bytes"
        );
    }
}

#[test]
fn how_the_input_is_cut_into_reads_changes_nothing() {
    let whole = read_chopped(VALID.as_bytes(), vec![usize::MAX]);
    for size in [1, 2, 3, 5, 8, 13, 64, 1000] {
        assert_eq!(
            read_chopped(VALID.as_bytes(), vec![size]),
            whole,
            "reads of {size} bytes"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        check_invariants(&bytes);
    }

    #[test]
    fn arbitrary_markup_never_panics(text in "[<>/!?&;#xa-z =\"'\\[\\]-]{0,300}") {
        check_invariants(format!("<iati-activities><iati-activity>{text}").as_bytes());
        check_invariants(text.as_bytes());
    }

    #[test]
    fn mutations_of_a_valid_document_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0..3u8, any::<u8>()), 1..8)
    ) {
        let mut bytes = VALID.as_bytes().to_vec();
        for (index, kind, byte) in edits {
            let position = index.index(bytes.len() + 1);
            match kind {
                0 if position < bytes.len() => bytes[position] = byte,
                1 => bytes.insert(position, byte),
                _ if position < bytes.len() => { bytes.remove(position); }
                _ => bytes.push(byte),
            }
        }
        check_invariants(&bytes);
    }

    #[test]
    fn any_cutting_into_reads_gives_the_same_outcome(
        sizes in proptest::collection::vec(1..50usize, 1..10)
    ) {
        let whole = read_chopped(VALID.as_bytes(), vec![usize::MAX]);
        prop_assert_eq!(read_chopped(VALID.as_bytes(), sizes), whole);
    }
}
