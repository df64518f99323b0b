//! Measures how fast the store takes in activities, without the XML reader in the way.
//!
//! Synthetic activities shaped like real ones (two titles, a description, three participating
//! organisations, two sectors, three dates, five transactions, five budgets, 11 KB of raw XML)
//! go through `ImportSession` in files of `--per-file` activities, as the importer sends them.
//! "MB/s" counts the raw XML stored, which stands for the size of the file it came from.
//!
//!     cargo run --release -p coopfolio-store --example import_throughput -- [--activities N]
//!         [--per-file N] [--url sqlite://path | postgres://...]

use std::str::FromStr;
use std::time::Instant;

use coopfolio_iati::model::{
    Activity, ActivityDate, Budget, Description, Narrative, OrganisationRef, ParticipatingOrg,
    RecipientCountry, Sector, Transaction, Value,
};
use coopfolio_store::Store;
use rust_decimal::Decimal;

const RAW_XML_BYTES: usize = 11 * 1024;

#[tokio::main]
async fn main() {
    let mut activities = 43_000_usize;
    let mut per_file = 100_usize;
    let mut url = None;
    let mut vary = false;
    let mut arguments = std::env::args().skip(1);
    while let Some(argument) = arguments.next() {
        let mut value = || arguments.next().expect("a value after each option");
        match argument.as_str() {
            "--activities" => activities = value().parse().expect("a number of activities"),
            "--per-file" => per_file = value().parse().expect("a number of activities per file"),
            "--url" => url = Some(value()),
            "--vary" => vary = true,
            other => panic!("unknown option {other}"),
        }
    }
    let folder = tempfile::tempdir().expect("a temporary folder");
    let url = url
        .unwrap_or_else(|| format!("sqlite://{}", folder.path().join("throughput.db").display()));
    let store = Store::connect(&url).await.expect("connecting");

    // Build every activity first so that only the store is timed.
    let batch: Vec<Activity> = (0..activities)
        .map(|number| synthetic_activity(number, vary))
        .collect();
    let xml_bytes: usize = batch.iter().map(|activity| activity.raw_xml.len()).sum();
    // activity, its XML, 3 narratives, 3 participating orgs, 2 sectors, a country, 3 dates,
    // 5 budgets, 5 transactions and their 10 ledger entries.
    let rows_per_activity = 1 + 1 + 3 + 3 + 2 + 1 + 3 + 5 + 5 + 10;

    let started = Instant::now();
    let mut batch = batch.into_iter().peekable();
    let mut file_number = 0;
    while batch.peek().is_some() {
        file_number += 1;
        let mut session = store
            .begin_import(&format!("synthetic-{file_number}.xml"), 0)
            .await
            .expect("begin");
        for activity in batch.by_ref().take(per_file) {
            session.add_activity(activity).await.expect("add activity");
        }
        session.commit(0).await.expect("commit");
    }
    // Closing checkpoints the write-ahead log into the database file: part of the cost.
    store.close().await;
    let seconds = started.elapsed().as_secs_f64();

    let store = Store::connect(&url).await.expect("reconnecting");
    let stats = store.stats().await.expect("stats");
    assert_eq!(stats.activities, activities as u64);
    println!(
        "{:?}: {activities} activities in {file_number} files of {per_file} in {seconds:.3} s",
        store.backend()
    );
    println!(
        "{:.0} activities/s, {:.0} rows/s ({rows_per_activity} rows per activity incl. ledger), {:.1} MB/s of XML",
        activities as f64 / seconds,
        (activities * rows_per_activity) as f64 / seconds,
        xml_bytes as f64 / seconds / 1e6
    );
    store.close().await;
}

fn synthetic_activity(number: usize, vary: bool) -> Activity {
    let identifier = format!("XM-DAC-41302-SYN-{number:07}");
    let narrative = |lang: &str, text: String| Narrative {
        lang: Some(lang.to_owned()),
        text,
    };
    let organisation = |reference: &str, kind: &str, name: &str| OrganisationRef {
        reference: Some(reference.to_owned()),
        kind: Some(kind.to_owned()),
        names: vec![narrative("en", name.to_owned())],
        activity_identifier: None,
    };
    let amount =
        |cents: usize| Decimal::from_str(&format!("{}.{:02}", cents / 100, cents % 100)).unwrap();
    let value = |cents: usize, currency: &str, date: &str| Value {
        amount: amount(cents),
        currency: Some(currency.to_owned()),
        value_date: Some(date.to_owned()),
    };
    let mut raw_xml =
        format!("<iati-activity><iati-identifier>{identifier}</iati-identifier>").into_bytes();
    raw_xml.resize(RAW_XML_BYTES - 17, b' ');
    raw_xml.extend_from_slice(b"</iati-activity>\n");
    Activity {
        identifier: identifier.clone(),
        default_currency: Some("USD".to_owned()),
        default_lang: Some("en".to_owned()),
        last_updated: Some("2024-05-01T00:00:00Z".to_owned()),
        hierarchy: Some(2),
        reporting_org: Some(organisation(
            "XM-DAC-41302",
            "40",
            "International Labour Organization",
        )),
        titles: vec![
            narrative("en", format!("Decent work for all, project {number}")),
            narrative("fr", format!("Travail décent pour tous, projet {number}")),
        ],
        descriptions: vec![Description {
            kind: Some("1".to_owned()),
            narratives: vec![narrative(
                "en",
                "Jobs, rights at work, social protection and dialogue. ".repeat(4),
            )],
        }],
        participating_orgs: ["1", "2", "4"]
            .iter()
            .enumerate()
            .map(|(index, role)| ParticipatingOrg {
                reference: Some(format!("XM-PARTNER-{}", (number + index) % 500)),
                kind: Some("10".to_owned()),
                role: Some((*role).to_owned()),
                names: vec![narrative(
                    "en",
                    format!("Partner {}", (number + index) % 500),
                )],
                ..ParticipatingOrg::default()
            })
            .collect(),
        status: Some("2".to_owned()),
        dates: vec![
            ActivityDate {
                kind: "1".to_owned(),
                date: "2023-01-01".to_owned(),
            },
            ActivityDate {
                kind: "2".to_owned(),
                date: "2023-02-01".to_owned(),
            },
            ActivityDate {
                kind: "3".to_owned(),
                date: "2026-12-31".to_owned(),
            },
        ],
        recipient_countries: vec![RecipientCountry {
            code: "BD".to_owned(),
            percentage: Some(Decimal::ONE_HUNDRED),
        }],
        sectors: vec![
            Sector {
                code: "16020".to_owned(),
                vocabulary: Some("1".to_owned()),
                percentage: Some(Decimal::from(60)),
            },
            Sector {
                code: "16010".to_owned(),
                vocabulary: Some("1".to_owned()),
                percentage: Some(Decimal::from(40)),
            },
        ],
        collaboration_type: Some("1".to_owned()),
        default_flow_type: Some("10".to_owned()),
        default_finance_type: Some("110".to_owned()),
        budgets: (0..if vary { 3 + number * 7 % 5 } else { 5 })
            .map(|year| Budget {
                kind: Some("1".to_owned()),
                status: Some("2".to_owned()),
                period_start: Some(format!("{}-01-01", 2022 + year)),
                period_end: Some(format!("{}-12-31", 2022 + year)),
                value: Some(value(10_000_000 + number + year, "USD", "2022-01-01")),
            })
            .collect(),
        transactions: (0..if vary { 3 + number % 5 } else { 5 })
            .map(|index| Transaction {
                reference: Some(format!("{identifier}-T{index}")),
                kind: Some(["11", "2", "3", "3", "4", "3", "3"][index].to_owned()),
                date: Some(format!("2023-0{}-15", index + 1)),
                value: Some(value(
                    1_234_567 + number * 7 + index,
                    if index % 2 == 0 { "USD" } else { "EUR" },
                    "2023-01-15",
                )),
                description: vec![narrative("en", "Instalment".to_owned())],
                provider_org: Some(organisation("GB-GOV-1", "10", "FCDO")),
                receiver_org: Some(organisation("XM-DAC-41302", "40", "ILO")),
                flow_type: Some("10".to_owned()),
                finance_type: Some("110".to_owned()),
                ..Transaction::default()
            })
            .collect(),
        raw_xml,
        line: 1,
        column: 1,
        ..Activity::default()
    }
}
