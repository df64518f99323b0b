//! Every activity's raw XML is IATI the crate's own reader accepts without a single diagnostic, and reads
//! back as the activity that was generated.

use coopfolio_core::codelists::Codelists;
use coopfolio_iati::reader::{read_all, Record};

use crate::WORKSPACE;

#[test]
fn raw_xml_reads_back_as_the_generated_activity_without_diagnostics() {
    let document = coopfolio_demo::xml::document(WORKSPACE.activities.iter().map(|a| &a.raw_xml));
    let (records, diagnostics, fatal) = read_all(&document, "demo.xml", Codelists::bundled());
    assert_eq!(fatal, None);
    assert!(
        diagnostics.is_empty(),
        "{:#?}",
        &diagnostics[..diagnostics.len().min(10)]
    );
    assert_eq!(records.len(), WORKSPACE.activities.len());
    for (record, generated) in records.into_iter().zip(&WORKSPACE.activities) {
        let Record::Activity(mut read) = record else {
            panic!("an organisation record")
        };
        assert_eq!(read.raw_xml, generated.raw_xml, "{}", generated.identifier);
        // Positions are those of the test document; the generated activities come from no file.
        read.line = 0;
        read.column = 0;
        assert_eq!(&read, generated, "{}", generated.identifier);
    }
}

#[test]
fn text_is_escaped() {
    let xml = String::from_utf8(WORKSPACE.activities[0].raw_xml.clone()).unwrap();
    assert!(xml.contains("employers&apos; &amp; workers&apos;"), "{xml}");
    assert!(xml.contains("&lt;not real data&gt;"), "{xml}");
}
