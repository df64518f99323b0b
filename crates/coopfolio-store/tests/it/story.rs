//! A store's life, told once and run on each backend: a first file, a re-import that replaces
//! activities, a file that fails halfway, codelists refreshed, an organisation file. SQLite
//! always; PostgreSQL when `COOPFOLIO_TEST_POSTGRES_URL` is set, which must then produce the
//! very same statistics, byte for byte.

use coopfolio_iati::model::{Organisation, OrganisationBudget, Value};
use coopfolio_store::{ImportRunSummary, Store};

use crate::support::{
    activity, budget, decimal, fatal, ledger_lines, narrative, organisation_lines,
    organisation_ref, orphan_rows, sqlite_store, transaction, warning, TestDatabase,
};

#[tokio::test]
async fn story_on_sqlite() {
    let (store, url, _folder) = sqlite_store().await;
    story(&store, &url).await;
    store.close().await;
}

#[tokio::test]
async fn story_on_postgres_matches_sqlite() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let store = Store::connect(&database.url)
        .await
        .expect("connecting to the test database");
    assert_eq!(store.backend(), coopfolio_store::Backend::Postgres);
    let postgres_stats = story(&store, &database.url).await;
    store.close().await;
    database.drop_database().await;

    let (store, url, _folder) = sqlite_store().await;
    let sqlite_stats = story(&store, &url).await;
    assert_eq!(postgres_stats, sqlite_stats);
}

const FIRST_STATS: &str = r#"{"activities":3,"transactions":6,"budgets":2,"organisations":2,"transaction_sums":[{"type":"1","currency":"USD","count":1,"sum":"250000"},{"type":"2","currency":"EUR","count":1,"sum":"12345678901234567.89"},{"type":"3","currency":"USD","count":3,"sum":"0.4"},{"type":"4","currency":null,"count":1,"sum":"0"}]}"#;
const SECOND_STATS: &str = r#"{"activities":4,"transactions":5,"budgets":1,"organisations":2,"transaction_sums":[{"type":"1","currency":"USD","count":1,"sum":"250000"},{"type":"2","currency":"GBP","count":1,"sum":"2"},{"type":"3","currency":"USD","count":2,"sum":"5.1"},{"type":"4","currency":null,"count":1,"sum":"0"}]}"#;
const FINAL_STATS: &str = r#"{"activities":4,"transactions":5,"budgets":1,"organisations":3,"transaction_sums":[{"type":"1","currency":"USD","count":1,"sum":"250000"},{"type":"2","currency":"GBP","count":1,"sum":"2"},{"type":"3","currency":"USD","count":2,"sum":"5.1"},{"type":"4","currency":null,"count":1,"sum":"0"}]}"#;

/// Walks the store through its life and returns the final statistics as JSON.
async fn story(store: &Store, url: &str) -> String {
    assert_eq!(
        stats_json(store).await,
        r#"{"activities":0,"transactions":0,"budgets":0,"organisations":0,"transaction_sums":[]}"#
    );

    // A first file: three activities, two warnings, one activity the reader had to skip.
    // Sums must be exact: 0.1 + 0.2 + 0.10 is 0.4, not 0.30000000000000004 + 0.1.
    let mut session = store.begin_import("first.xml", 4_096).await.expect("begin");
    let mut a = activity(
        "XM-DAC-41302-A",
        vec![
            transaction("3", "0.1", "USD", "2023-03-01"),
            transaction("3", "0.2", "USD", "2023-04-01"),
            transaction("2", "12345678901234567.89", "EUR", "2023-01-10"),
        ],
        vec![
            budget("1000.00", "USD", "2023-01-01", "2023-12-31"),
            budget("500", "EUR", "2024-01-01", "2024-12-31"),
        ],
    );
    a.raw_xml = b"<iati-activity>first A</iati-activity>".to_vec();
    let b = activity(
        "XM-DAC-41302-B",
        vec![transaction("1", "250000", "USD", "2023-02-01")],
        vec![],
    );
    let mut without_value = transaction("4", "0", "USD", "2023-05-01");
    without_value.value = None;
    let c = activity(
        "XM-DAC-41302-C",
        vec![transaction("3", "0.10", "USD", "2023-06-01"), without_value],
        vec![],
    );
    for activity in [a, b, c] {
        session.add_activity(activity).await.expect("add activity");
    }
    let warnings = [
        warning("first.xml", "XM-DAC-41302-B", "unknown-code"),
        warning("first.xml", "XM-DAC-41302-B", "not-a-number"),
    ];
    session
        .add_diagnostics(&warnings)
        .await
        .expect("add diagnostics");
    let first = session.commit(1).await.expect("commit the first file");
    assert_eq!(
        first,
        ImportRunSummary {
            import_run_id: first.import_run_id,
            activities: 3,
            organisations: 0,
            transactions: 6,
            budgets: 2,
            diagnostics: 2,
            activities_replaced: 0,
        }
    );
    assert_eq!(stats_json(store).await, FIRST_STATS);

    let runs = store.import_runs(10).await.expect("import runs");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].id, first.import_run_id);
    assert_eq!(
        (runs[0].file.as_str(), runs[0].status.as_str()),
        ("first.xml", "ok")
    );
    assert_eq!(
        (
            runs[0].bytes,
            runs[0].activities,
            runs[0].activities_skipped
        ),
        (4_096, 3, 1)
    );
    assert_eq!(
        (runs[0].transactions, runs[0].budgets, runs[0].diagnostics),
        (6, 2, 2)
    );
    assert!(runs[0].finished_at.as_deref() >= Some(runs[0].started_at.as_str()));
    let stored = store
        .diagnostics(first.import_run_id)
        .await
        .expect("diagnostics");
    assert_eq!(stored.len(), 2);
    assert_eq!(
        (
            stored[0].severity.as_str(),
            stored[0].code.as_str(),
            stored[0].line,
            stored[0].column
        ),
        ("warning", "unknown-code", 12, 7)
    );
    assert_eq!(stored[1].code, "not-a-number");
    assert_eq!(stored[1].record.as_deref(), Some("XM-DAC-41302-B"));
    assert_eq!(stored[1].path, "/iati-activities/iati-activity/sector");
    assert_eq!(
        store
            .activity_raw_xml("XM-DAC-41302-A")
            .await
            .expect("raw xml"),
        Some(b"<iati-activity>first A</iati-activity>".to_vec())
    );
    assert_eq!(
        store.activity_raw_xml("nowhere").await.expect("raw xml"),
        None
    );

    // A second file replaces A, and brings D twice: the later D wins.
    let mut session = store
        .begin_import("second.xml", 2_048)
        .await
        .expect("begin");
    let mut a = activity(
        "XM-DAC-41302-A",
        vec![transaction("3", "5", "USD", "2024-03-01")],
        vec![],
    );
    a.raw_xml = b"<iati-activity>second A</iati-activity>".to_vec();
    let early_d = activity(
        "XM-DAC-41302-D",
        vec![transaction("2", "1", "GBP", "2024-01-01")],
        vec![],
    );
    let late_d = activity(
        "XM-DAC-41302-D",
        vec![transaction("2", "2", "GBP", "2024-01-02")],
        vec![budget("750.50", "GBP", "2024-01-01", "2024-12-31")],
    );
    for activity in [a, early_d, late_d] {
        session.add_activity(activity).await.expect("add activity");
    }
    let second = session.commit(0).await.expect("commit the second file");
    assert_eq!(
        (
            second.activities,
            second.activities_replaced,
            second.transactions,
            second.budgets
        ),
        (2, 2, 2, 1)
    );
    assert_eq!(stats_json(store).await, SECOND_STATS);
    // Nothing of the replaced A and D remains: no row of theirs refers to a deleted activity.
    assert_eq!(orphan_rows(url).await, Vec::<String>::new());
    // One ledger entry per transaction and budget with a value; A's entries from the first file
    // went with it. Amounts keep the scale they were given with; only USD converts, at rate 1.
    assert_eq!(
        ledger_lines(url).await,
        [
            "XM-DAC-41302-A|transaction|disbursement|outgoing|XM-DAC-41302|2024-03-01|5|USD|5|1|identity|converted",
            "XM-DAC-41302-B|transaction|receipt|incoming|GB-GOV-1|2023-02-01|250000|USD|250000|1|identity|converted",
            "XM-DAC-41302-C|transaction|disbursement|outgoing|XM-DAC-41302|2023-06-01|0.10|USD|0.10|1|identity|converted",
            "XM-DAC-41302-D|budget|budget|outgoing|-|2024-01-01|750.50|GBP|-|-|-|no_rate",
            "XM-DAC-41302-D|transaction|commitment|outgoing|XM-DAC-41302|2024-01-02|2|GBP|-|-|-|no_rate",
        ]
    );
    assert_eq!(
        store
            .activity_raw_xml("XM-DAC-41302-A")
            .await
            .expect("raw xml"),
        Some(b"<iati-activity>second A</iati-activity>".to_vec())
    );

    // A file that breaks after more than a batch of activities went to the database, one of
    // them replacing B: nothing of it may remain, and the failure is recorded.
    let mut session = store
        .begin_import("broken.xml", 1 << 20)
        .await
        .expect("begin");
    for number in 0..300 {
        let identifier = format!("XM-DAC-41302-E{number}");
        let activity = activity(
            &identifier,
            vec![transaction("3", "1", "USD", "2024-01-01")],
            vec![],
        );
        session.add_activity(activity).await.expect("add activity");
    }
    session
        .add_activity(activity("XM-DAC-41302-B", vec![], vec![]))
        .await
        .expect("add activity");
    session
        .add_diagnostics(&[warning("broken.xml", "XM-DAC-41302-E1", "unknown-code")])
        .await
        .expect("add diagnostics");
    let broken = session
        .fail(&fatal("broken.xml"))
        .await
        .expect("record the failure");
    assert_eq!(stats_json(store).await, SECOND_STATS);
    assert_eq!(ledger_lines(url).await.len(), 5);
    let runs = store.import_runs(1).await.expect("import runs");
    assert_eq!(runs[0].id, broken.import_run_id);
    assert_eq!((runs[0].status.as_str(), runs[0].activities), ("failed", 0));
    let message = runs[0].message.as_deref().expect("a failure message");
    assert!(message.contains("broken.xml:9001:1"), "{message}");
    let stored = store
        .diagnostics(broken.import_run_id)
        .await
        .expect("diagnostics");
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0].severity.as_str(), stored[0].code.as_str()),
        ("fatal", "not-well-formed")
    );

    // Codelists refreshed twice: the second save replaces one list and keeps the other.
    store
        .save_codelists(&[
            ("Sector".to_owned(), b"<codelist name=\"Sector\"/>".to_vec()),
            (
                "Country".to_owned(),
                b"<codelist name=\"Country\"/>".to_vec(),
            ),
        ])
        .await
        .expect("save codelists");
    store
        .save_codelists(&[(
            "Sector".to_owned(),
            b"<codelist name=\"Sector\" v=\"2\"/>".to_vec(),
        )])
        .await
        .expect("save codelists again");
    assert_eq!(
        store.codelist_overrides().await.expect("codelists"),
        vec![
            (
                "Country".to_owned(),
                b"<codelist name=\"Country\"/>".to_vec()
            ),
            (
                "Sector".to_owned(),
                b"<codelist name=\"Sector\" v=\"2\"/>".to_vec()
            ),
        ]
    );

    // An organisation file: the ILO, already known from activity refs, and a new partner.
    let mut session = store
        .begin_import("organisations.xml", 512)
        .await
        .expect("begin");
    for (identifier, name) in [
        ("XM-DAC-41302", "International Labour Organization"),
        (
            "XI-IATI-EC_INTPA",
            "European Commission - International Partnerships",
        ),
    ] {
        let organisation = Organisation {
            identifier: identifier.to_owned(),
            default_currency: Some("USD".to_owned()),
            names: vec![narrative("en", name), narrative("fr", name)],
            reporting_org: Some(organisation_ref(identifier, "40", name)),
            budgets: vec![OrganisationBudget {
                element: "total-budget".to_owned(),
                status: Some("2".to_owned()),
                period_start: Some("2024-01-01".to_owned()),
                period_end: Some("2024-12-31".to_owned()),
                value: Some(Value {
                    amount: decimal("965100000.00"),
                    currency: Some("USD".to_owned()),
                    value_date: Some("2024-01-01".to_owned()),
                }),
                recipient: None,
            }],
            raw_xml: format!("<iati-organisation>{identifier}</iati-organisation>").into_bytes(),
            ..Organisation::default()
        };
        session
            .add_organisation(organisation)
            .await
            .expect("add organisation");
    }
    let organisations = session
        .commit(0)
        .await
        .expect("commit the organisation file");
    assert_eq!(
        (organisations.organisations, organisations.activities),
        (2, 0)
    );
    let final_stats = stats_json(store).await;
    assert_eq!(final_stats, FINAL_STATS);
    // The record's own names, budget and XML join what activity refs knew of the ILO.
    assert_eq!(
        organisation_lines(url).await,
        [
            "GB-GOV-1|10|FCDO|0|-|no xml",
            "XI-IATI-EC_INTPA|40|European Commission - International Partnerships|2|965100000.00|xml",
            "XM-DAC-41302|40|International Labour Organization|2|965100000.00|xml",
        ]
    );

    let runs = store.import_runs(10).await.expect("import runs");
    let files: Vec<&str> = runs.iter().map(|run| run.file.as_str()).collect();
    assert_eq!(
        files,
        ["organisations.xml", "broken.xml", "second.xml", "first.xml"]
    );
    final_stats
}

async fn stats_json(store: &Store) -> String {
    let stats = store.stats().await.expect("stats");
    serde_json::to_string(&stats).expect("stats as JSON")
}
