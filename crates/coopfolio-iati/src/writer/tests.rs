//! Unit tests of the writer: escaping, element order, hostile text, and that reading back what
//! was written gives the activity again.

use rust_decimal::Decimal;

use super::*;
use crate::model::{
    ActivityDate, AidType, Budget, Description, OrganisationBudget, ParticipatingOrg,
    RecipientCountry, RelatedActivity, Sector,
};
use crate::reader::{read_all, Record};

fn narrative(lang: Option<&str>, text: &str) -> Narrative {
    Narrative {
        lang: lang.map(str::to_owned),
        text: text.to_owned(),
    }
}

fn value(amount: &str, currency: &str, date: Option<&str>) -> Value {
    Value {
        amount: amount.parse::<Decimal>().unwrap(),
        currency: Some(currency.to_owned()),
        value_date: date.map(str::to_owned),
    }
}

fn sample_activity() -> Activity {
    Activity {
        identifier: "XI-DEMO-1 & <2>".to_owned(),
        default_currency: Some("USD".to_owned()),
        default_lang: Some("en".to_owned()),
        last_updated: Some("2024-01-02T03:04:05Z".to_owned()),
        hierarchy: Some(2),
        humanitarian: Some(false),
        reporting_org: Some(OrganisationRef {
            reference: Some("XI-DEMO".to_owned()),
            kind: Some("40".to_owned()),
            names: vec![narrative(Some("en"), "Demo \"organisation\"")],
            activity_identifier: None,
        }),
        titles: vec![
            narrative(Some("en"), "Decent work"),
            narrative(Some("fr"), "Travail décent"),
        ],
        descriptions: vec![Description {
            kind: Some("1".to_owned()),
            narratives: vec![narrative(Some("en"), "Jobs & rights, 'now'")],
        }],
        participating_orgs: vec![ParticipatingOrg {
            reference: Some("XM-DAC-41302".to_owned()),
            kind: Some("40".to_owned()),
            role: Some("4".to_owned()),
            activity_identifier: None,
            crs_channel_code: None,
            names: vec![narrative(Some("en"), "ILO")],
        }],
        status: Some("2".to_owned()),
        dates: vec![ActivityDate {
            kind: "1".to_owned(),
            date: "2022-01-01".to_owned(),
        }],
        recipient_countries: vec![RecipientCountry {
            code: "KE".to_owned(),
            percentage: Some("100".parse().unwrap()),
        }],
        sectors: vec![Sector {
            code: "16020".to_owned(),
            vocabulary: Some("1".to_owned()),
            percentage: Some("100".parse().unwrap()),
        }],
        collaboration_type: Some("1".to_owned()),
        default_flow_type: Some("10".to_owned()),
        default_aid_types: vec![AidType {
            code: "C01".to_owned(),
            vocabulary: None,
        }],
        budgets: vec![Budget {
            kind: Some("1".to_owned()),
            status: Some("2".to_owned()),
            period_start: Some("2022-01-01".to_owned()),
            period_end: Some("2022-12-31".to_owned()),
            value: Some(value("1000.50", "USD", Some("2022-01-01"))),
        }],
        transactions: vec![Transaction {
            reference: Some("T1".to_owned()),
            kind: Some("3".to_owned()),
            date: Some("2022-03-01".to_owned()),
            value: Some(value("250", "EUR", Some("2022-03-01"))),
            description: vec![narrative(Some("en"), "First payment")],
            receiver_org: Some(OrganisationRef {
                reference: None,
                kind: None,
                names: vec![narrative(Some("en"), "A cooperative")],
                activity_identifier: None,
            }),
            ..Transaction::default()
        }],
        related_activities: vec![RelatedActivity {
            identifier: "XI-DEMO-0".to_owned(),
            kind: Some("1".to_owned()),
        }],
        ..Activity::default()
    }
}

fn write(activities: &[Activity]) -> String {
    let mut writer = IatiWriter::activities(Vec::new(), "2024-05-01T00:00:00Z").unwrap();
    for activity in activities {
        writer.write_activity(activity).unwrap();
    }
    String::from_utf8(writer.finish().unwrap()).unwrap()
}

fn read_activities(xml: &str) -> Vec<Activity> {
    let (records, diagnostics, fatal) = read_all(
        xml.as_bytes(),
        "written.xml",
        coopfolio_core::codelists::Codelists::bundled(),
    );
    assert!(fatal.is_none(), "{fatal:?}\n{xml}");
    assert!(diagnostics.is_empty(), "{diagnostics:?}\n{xml}");
    records
        .into_iter()
        .map(|record| match record {
            Record::Activity(activity) => activity,
            Record::Organisation(_) => panic!("an organisation in an activity file"),
        })
        .collect()
}

/// What survives a write and a read: everything but where it was read from and its bytes.
fn comparable(mut activity: Activity) -> Activity {
    activity.raw_xml.clear();
    activity.line = 0;
    activity.column = 0;
    activity.faults = 0;
    activity
}

#[test]
fn an_activity_written_and_read_back_is_the_same_activity() {
    let activity = sample_activity();
    let xml = write(std::slice::from_ref(&activity));
    let read = read_activities(&xml);
    assert_eq!(read.len(), 1);
    assert_eq!(comparable(read[0].clone()), activity);
}

#[test]
fn the_root_declares_the_version_and_when_it_was_generated() {
    let xml = write(&[]);
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        "{xml}"
    );
    assert!(xml.contains(
        "<iati-activities version=\"2.03\" generated-datetime=\"2024-05-01T00:00:00Z\">"
    ));
    assert!(xml.trim_end().ends_with("</iati-activities>"));
}

#[test]
fn text_and_attributes_are_escaped() {
    let xml = write(&[sample_activity()]);
    assert!(xml.contains("<iati-identifier>XI-DEMO-1 &amp; &lt;2&gt;</iati-identifier>"));
    assert!(xml.contains("Jobs &amp; rights, &apos;now&apos;"), "{xml}");
    assert!(xml.contains("Demo &quot;organisation&quot;"), "{xml}");
}

#[test]
fn a_hostile_title_stays_text() {
    let mut activity = sample_activity();
    activity.titles = vec![narrative(
        Some("en"),
        "</narrative></title><script>alert(1)</script>\u{0}\u{1b}",
    )];
    let xml = write(std::slice::from_ref(&activity));
    assert!(!xml.contains("<script>"), "{xml}");
    assert!(xml.contains("&lt;/narrative&gt;&lt;/title&gt;&lt;script&gt;"));
    let read = read_activities(&xml);
    // Characters XML cannot carry are dropped; the rest comes back as the same text.
    assert_eq!(
        read[0].titles[0].text,
        "</narrative></title><script>alert(1)</script>"
    );
}

#[test]
fn elements_follow_the_schema_order() {
    let xml = write(&[sample_activity()]);
    // The 2.03 schema's sequence for the elements the model holds.
    let order = [
        "<iati-identifier>",
        "<reporting-org ",
        "<title>",
        "<description ",
        "<participating-org ",
        "<activity-status ",
        "<activity-date ",
        "<recipient-country ",
        "<sector ",
        "<collaboration-type ",
        "<default-flow-type ",
        "<default-aid-type ",
        "<budget ",
        "<transaction ",
        "<related-activity ",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|tag| {
            xml.find(tag)
                .unwrap_or_else(|| panic!("{tag} missing in\n{xml}"))
        })
        .collect();
    assert!(positions.windows(2).all(|pair| pair[0] < pair[1]), "{xml}");
    let transaction = &xml[xml.find("<transaction ").unwrap()..];
    let inner = [
        "<transaction-type ",
        "<transaction-date ",
        "<value ",
        "<description>",
        "<receiver-org",
    ];
    let inner_positions: Vec<usize> = inner
        .iter()
        .map(|tag| transaction.find(tag).unwrap())
        .collect();
    assert!(inner_positions.windows(2).all(|pair| pair[0] < pair[1]));
}

#[test]
fn a_value_in_another_currency_says_so_and_the_default_is_not_repeated() {
    let xml = write(&[sample_activity()]);
    assert!(xml.contains("<value currency=\"EUR\" value-date=\"2022-03-01\">250</value>"));
    assert!(xml.contains("<value value-date=\"2022-01-01\">1000.50</value>"));
}

#[test]
fn what_the_schema_cannot_hold_is_left_out_and_named() {
    let mut activity = sample_activity();
    activity.transactions[0].date = None;
    activity.status = None;
    let mut writer = IatiWriter::activities(Vec::new(), "2024-05-01T00:00:00Z").unwrap();
    let omissions = writer.write_activity(&activity).unwrap();
    let xml = String::from_utf8(writer.finish().unwrap()).unwrap();
    assert_eq!(omissions.parts.len(), 2, "{omissions:?}");
    assert!(!xml.contains("<transaction "));
}

#[test]
fn raw_activities_are_written_as_kept() {
    let raw = b"<iati-activity xml:lang=\"fr\"><iati-identifier>RAW-1</iati-identifier><result/></iati-activity>";
    let mut writer = IatiWriter::activities(Vec::new(), "2024-05-01T00:00:00Z").unwrap();
    writer.write_raw_activity(raw).unwrap();
    writer.write_activity(&sample_activity()).unwrap();
    let xml = String::from_utf8(writer.finish().unwrap()).unwrap();
    assert!(xml.contains(std::str::from_utf8(raw).unwrap()));
    let read = read_activities(&xml);
    assert_eq!(read[0].identifier, "RAW-1");
    assert_eq!(read[0].raw_xml, raw);
    assert_eq!(read.len(), 2);
}

#[test]
fn an_organisation_file_has_its_budgets_in_the_schema_order() {
    let organisation = Organisation {
        identifier: "XI-DEMO".to_owned(),
        default_currency: Some("USD".to_owned()),
        default_lang: Some("en".to_owned()),
        names: vec![narrative(Some("en"), "Demo")],
        reporting_org: Some(OrganisationRef {
            reference: Some("XI-DEMO".to_owned()),
            kind: Some("40".to_owned()),
            names: vec![narrative(Some("en"), "Demo")],
            activity_identifier: None,
        }),
        expenditures: vec![OrganisationBudget {
            element: "total-expenditure".to_owned(),
            period_start: Some("2022-01-01".to_owned()),
            period_end: Some("2022-12-31".to_owned()),
            value: Some(value("10", "USD", None)),
            ..OrganisationBudget::default()
        }],
        budgets: vec![OrganisationBudget {
            element: "total-budget".to_owned(),
            status: Some("2".to_owned()),
            period_start: Some("2022-01-01".to_owned()),
            period_end: Some("2022-12-31".to_owned()),
            value: Some(value("20", "USD", None)),
            ..OrganisationBudget::default()
        }],
        ..Organisation::default()
    };
    let mut writer = IatiWriter::organisations(Vec::new(), "2024-05-01T00:00:00Z").unwrap();
    assert!(writer.write_activity(&sample_activity()).is_err());
    writer.write_organisation(&organisation).unwrap();
    let xml = String::from_utf8(writer.finish().unwrap()).unwrap();
    let budget = xml
        .find("<total-budget status=\"2\">")
        .expect("a total budget");
    let expenditure = xml.find("<total-expenditure>").expect("an expenditure");
    assert!(budget < expenditure, "{xml}");
    let (records, _, fatal) = read_all(
        xml.as_bytes(),
        "org.xml",
        coopfolio_core::codelists::Codelists::bundled(),
    );
    assert!(fatal.is_none());
    let Some(Record::Organisation(read)) = records.first() else {
        panic!("no organisation read from\n{xml}");
    };
    assert_eq!(read.identifier, "XI-DEMO");
    assert_eq!(read.budgets.len() + read.expenditures.len(), 2);
}

#[test]
fn a_comment_cannot_end_early_or_break_the_file() {
    let mut writer = IatiWriter::activities(Vec::new(), "2024-01-01T00:00:00Z").unwrap();
    writer
        .write_comment("View: a--b --> <iati-activity> ends with -")
        .unwrap();
    let text = String::from_utf8(writer.finish().unwrap()).unwrap();
    let comment = &text[text.find("<!--").unwrap() + 4..text.find("-->").unwrap()];
    assert!(!comment.contains("--"), "{comment}");
    assert!(!comment.ends_with('-'), "{comment}");
    assert!(comment.contains("a- -b"), "{comment}");
    // The whole file reads back as an activity file with no activity in it.
    let (records, _, fatal) = read_all(
        text.as_bytes(),
        "comment.xml",
        coopfolio_core::codelists::Codelists::bundled(),
    );
    assert!(fatal.is_none(), "{fatal:?}\n{text}");
    assert!(records.is_empty());
}
