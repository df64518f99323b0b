//! Feeds arbitrary bytes to the IATI reader: whatever comes in, it must not panic, and every
//! diagnostic it gives must be located.

#![no_main]

use std::sync::{Arc, OnceLock};

use coopfolio_core::codelists::Codelists;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    // Parsing the bundled codelists once, not per input, keeps the fuzzer fast.
    static CODELISTS: OnceLock<Arc<Codelists>> = OnceLock::new();
    let codelists = CODELISTS.get_or_init(Codelists::bundled).clone();
    let (records, diagnostics, fatal) = coopfolio_iati::read_all(bytes, "fuzz.xml", codelists);
    for diagnostic in diagnostics.iter().chain(&fatal) {
        assert!(diagnostic.line >= 1 && diagnostic.column >= 1, "{diagnostic}");
        assert!(diagnostic.path.starts_with('/'), "{diagnostic}");
    }
    for record in &records {
        if let coopfolio_iati::Record::Activity(activity) = record {
            assert!(!activity.identifier.is_empty());
            assert!(activity.raw_xml.starts_with(b"<iati-activity"));
        }
    }
});
