//! An import session that is dropped without commit, as when the importer panics or its task
//! is cancelled, must leave the database as it found it, and must not block the next import.

use coopfolio_store::{ImportSession, Store};

use crate::support::{activity, sqlite_store, transaction, warning, TestDatabase};

#[tokio::test]
async fn a_dropped_session_leaves_nothing_on_sqlite() {
    let (store, _url, _folder) = sqlite_store().await;
    dropped_session_leaves_nothing(&store).await;
}

#[tokio::test]
async fn a_dropped_session_leaves_nothing_on_postgres() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let store = Store::connect(&database.url).await.expect("connecting");
    dropped_session_leaves_nothing(&store).await;
    store.close().await;
    database.drop_database().await;
}

async fn dropped_session_leaves_nothing(store: &Store) {
    let empty = serde_json::to_string(&store.stats().await.expect("stats")).expect("JSON");
    let mut session = store
        .begin_import("abandoned.xml", 10)
        .await
        .expect("begin");
    // More than one batch, so that rows did reach the database inside the transaction.
    for number in 0..600 {
        let identifier = format!("XM-DAC-41302-{number}");
        let activity = activity(
            &identifier,
            vec![transaction("3", "1.5", "USD", "2024-01-01")],
            vec![],
        );
        session.add_activity(activity).await.expect("add activity");
    }
    session
        .add_diagnostics(&[warning("abandoned.xml", "XM-DAC-41302-1", "unknown-code")])
        .await
        .expect("add diagnostics");
    drop(session);

    let after = serde_json::to_string(&store.stats().await.expect("stats")).expect("JSON");
    assert_eq!(after, empty);
    assert!(store.import_runs(10).await.expect("import runs").is_empty());

    // The next file goes in as usual: the abandoned transaction holds no lock any more.
    let mut session = store.begin_import("next.xml", 10).await.expect("begin");
    session
        .add_activity(activity("XM-DAC-41302-1", vec![], vec![]))
        .await
        .expect("add activity");
    let summary = session.commit(0).await.expect("commit");
    assert_eq!((summary.activities, summary.activities_replaced), (1, 0));
    assert_eq!(store.stats().await.expect("stats").activities, 1);
}

#[tokio::test]
async fn an_identifier_repeated_after_its_batch_was_written_replaces_it() {
    let (store, _url, _folder) = sqlite_store().await;
    let mut session = store.begin_import("repeats.xml", 10).await.expect("begin");
    add_numbered_activities(&mut session, 70).await;
    // The first batch is in the database by now; the later copy of its first activity wins.
    let mut later = activity("XM-DAC-41302-0", vec![], vec![]);
    later.raw_xml = b"<iati-activity>later</iati-activity>".to_vec();
    session.add_activity(later).await.expect("add activity");
    let summary = session.commit(0).await.expect("commit");
    assert_eq!(
        (
            summary.activities,
            summary.activities_replaced,
            summary.transactions
        ),
        (70, 1, 69)
    );
    assert_eq!(
        store
            .activity_raw_xml("XM-DAC-41302-0")
            .await
            .expect("raw xml"),
        Some(b"<iati-activity>later</iati-activity>".to_vec())
    );
    let stats = store.stats().await.expect("stats");
    assert_eq!((stats.activities, stats.transactions), (70, 69));
}

#[tokio::test]
async fn a_closed_store_leaves_its_imports_in_the_database_file_alone() {
    let (store, url, _folder) = sqlite_store().await;
    let mut session = store.begin_import("closing.xml", 10).await.expect("begin");
    add_numbered_activities(&mut session, 150).await;
    session.commit(0).await.expect("commit");
    store.close().await;

    // The writer checkpoints as the store closes, and the pool's last connection removes the
    // log: a copy of the database file alone holds the import.
    let path = std::path::PathBuf::from(url.trim_start_matches("sqlite://"));
    let log = path.with_extension("db-wal");
    assert!(
        std::fs::metadata(&log).map_or(true, |metadata| metadata.len() == 0),
        "the write-ahead log outlived the store"
    );
    let copy = path.with_file_name("copy.db");
    std::fs::copy(&path, &copy).expect("copying the database file");
    let reopened = Store::connect(&format!("sqlite://{}", copy.display()))
        .await
        .expect("opening the copy");
    let stats = reopened.stats().await.expect("stats");
    assert_eq!((stats.activities, stats.transactions), (150, 150));
    reopened.close().await;
}

#[tokio::test]
async fn a_new_database_is_loaded_with_a_rollback_journal_and_closed_in_wal_mode() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let path = folder.path().join("loaded.db");
    let url = format!("sqlite://{}", path.display());
    let store = Store::connect_to_load(&url).await.expect("connecting");
    let mut session = store.begin_import("first.xml", 10).await.expect("begin");
    add_numbered_activities(&mut session, 120).await;
    session.commit(0).await.expect("commit");
    assert_eq!(journal_of(&path), Journal::Rollback, "while loading");
    assert!(!folder.path().join("loaded.db-wal").exists());
    store.close().await;
    assert_eq!(journal_of(&path), Journal::Wal, "after the load");
    for leftover in ["loaded.db-wal", "loaded.db-journal"] {
        assert!(
            std::fs::metadata(folder.path().join(leftover)).map_or(true, |file| file.len() == 0),
            "{leftover} outlived the store"
        );
    }

    // Opened to load again, the existing database stays in WAL mode, so that a reader in
    // another process is never locked out, and keeps what the first load wrote.
    let store = Store::connect_to_load(&url).await.expect("reconnecting");
    let mut session = store.begin_import("second.xml", 10).await.expect("begin");
    add_numbered_activities(&mut session, 130).await;
    session.commit(0).await.expect("commit");
    assert_eq!(journal_of(&path), Journal::Wal, "an existing database");
    let stats = store.stats().await.expect("stats");
    assert_eq!((stats.activities, stats.transactions), (130, 130));
    store.close().await;
}

#[derive(Debug, PartialEq)]
enum Journal {
    Rollback,
    Wal,
}

/// The journal mode a SQLite database file's header gives (its read and write versions, bytes
/// 18 and 19: 1 for a rollback journal, 2 for WAL).
fn journal_of(path: &std::path::Path) -> Journal {
    let header = std::fs::read(path).expect("reading the database file");
    match (header[18], header[19]) {
        (1, 1) => Journal::Rollback,
        (2, 2) => Journal::Wal,
        versions => panic!("unexpected file format versions {versions:?}"),
    }
}

#[tokio::test]
async fn an_in_memory_database_keeps_what_was_imported() {
    let store = Store::connect("sqlite::memory:").await.expect("connecting");
    assert_eq!(store.backend(), coopfolio_store::Backend::Sqlite);
    let mut session = store.begin_import("memory.xml", 10).await.expect("begin");
    session
        .add_activity(activity(
            "XM-DAC-41302-1",
            vec![transaction("3", "2.50", "EUR", "2024-01-01")],
            vec![],
        ))
        .await
        .expect("add activity");
    session.commit(0).await.expect("commit");
    let stats = store.stats().await.expect("stats");
    assert_eq!((stats.activities, stats.transactions), (1, 1));
    assert_eq!(stats.transaction_sums[0].sum.to_string(), "2.5");
}

#[tokio::test]
async fn an_unknown_scheme_is_refused_and_passwords_stay_out_of_errors() {
    let error = Store::connect("mysql://user:secret@db/coop")
        .await
        .expect_err("no MySQL");
    assert!(matches!(
        error,
        coopfolio_store::StoreError::UnsupportedUrl { .. }
    ));
    assert!(!error.to_string().contains("secret"), "{error}");
    let error = Store::connect("postgres://user:secret@127.0.0.1:1/coop")
        .await
        .expect_err("nothing listens on port 1");
    assert!(matches!(error, coopfolio_store::StoreError::Connect { .. }));
    assert!(!error.to_string().contains("secret"), "{error}");
}

/// On PostgreSQL many files import at once (one job per file). Two open imports naming the
/// same, already known organisations must not wait for each other.
#[tokio::test]
async fn concurrent_imports_on_postgres_do_not_wait_for_each_other() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let store = Store::connect(&database.url).await.expect("connecting");
    let mut first = store.begin_import("known.xml", 10).await.expect("begin");
    first
        .add_activity(activity("XM-DAC-41302-KNOWN", vec![], vec![]))
        .await
        .expect("add activity");
    first.commit(0).await.expect("commit");

    let mut left = store.begin_import("left.xml", 10).await.expect("begin");
    let mut right = store.begin_import("right.xml", 10).await.expect("begin");
    for number in 0..70 {
        let activity = activity(&format!("XM-DAC-41302-LEFT-{number}"), vec![], vec![]);
        left.add_activity(activity).await.expect("add activity");
    }
    // The left import has written a batch naming the ILO and FCDO and holds its transaction
    // open; the right one, naming them too, must go through all the same.
    let right_import = async {
        for number in 0..70 {
            let activity = activity(&format!("XM-DAC-41302-RIGHT-{number}"), vec![], vec![]);
            right.add_activity(activity).await.expect("add activity");
        }
        right.commit(0).await.expect("commit")
    };
    let summary = tokio::time::timeout(std::time::Duration::from_secs(10), right_import)
        .await
        .expect("the right import waited for the left one");
    assert_eq!(summary.activities, 70);
    assert_eq!(left.commit(0).await.expect("commit").activities, 70);
    assert_eq!(store.stats().await.expect("stats").activities, 141);
    store.close().await;
    database.drop_database().await;
}

/// Adds activities `XM-DAC-41302-0` onwards, each with one transaction.
async fn add_numbered_activities(session: &mut ImportSession, count: usize) {
    for number in 0..count {
        let identifier = format!("XM-DAC-41302-{number}");
        let activity = activity(
            &identifier,
            vec![transaction("3", "1", "USD", "2024-01-01")],
            vec![],
        );
        session.add_activity(activity).await.expect("add activity");
    }
}
