//! The small real IATI sample bundled into the binary, so `coopfolio demo` works from any folder
//! on a machine that has nothing but the program. Sources and licences: `data/iati-sample/SOURCES.md`.

/// Each file's name (as shown in import runs) and bytes.
pub const IATI_SAMPLE: &[(&str, &[u8])] = &[
    (
        "sample/undp-covid-response.xml",
        include_bytes!("../../../data/iati-sample/undp-covid-response.xml"),
    ),
    (
        "sample/global-fund-covid-response.xml",
        include_bytes!("../../../data/iati-sample/global-fund-covid-response.xml"),
    ),
    (
        "sample/activity-standard-example-annotated.xml",
        include_bytes!("../../../data/iati-sample/activity-standard-example-annotated.xml"),
    ),
    (
        "sample/organisation-standard-example-annotated.xml",
        include_bytes!("../../../data/iati-sample/organisation-standard-example-annotated.xml"),
    ),
];
