//! A process killed in the middle of an import leaves the database exactly as it was before
//! that file: one transaction per file, and nothing written outside it.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{covid_extract, text, TestDatabase};

#[test]
fn sigkill_in_the_middle_of_an_import_changes_nothing() {
    let Some(folder) = covid_extract("SIGKILL mid-import") else {
        return;
    };
    let database = TestDatabase::sqlite();
    let database_file = database.sqlite_file();
    let sources = coopfolio_testdata::xml_files(&folder).unwrap();
    let first = sources[0].to_str().unwrap();
    assert!(database
        .coopfolio(&["import", "iati", first])
        .status
        .success());
    let before = database.stats_json();

    // The import writes its transaction to the write-ahead log.
    kill_while_importing(&database, &sources, &format!("{database_file}-wal"));

    assert_eq!(database.stats_json(), before);
    let runs = database.coopfolio(&["stats"]);
    assert!(runs.status.success(), "{}", text(&runs.stderr));
    // The database is still usable: the next import goes in.
    assert!(database
        .coopfolio(&["import", "iati", sources[1].to_str().unwrap()])
        .status
        .success());
    assert!(
        database.stats_json()["activities"].as_u64().unwrap()
            > before["activities"].as_u64().unwrap()
    );
}

#[test]
fn sigkill_in_the_first_import_into_a_new_database_leaves_it_empty() {
    let Some(folder) = covid_extract("SIGKILL mid-import into a new database") else {
        return;
    };
    let database = TestDatabase::sqlite();
    let database_file = database.sqlite_file();
    let sources = coopfolio_testdata::xml_files(&folder).unwrap();

    // Into a new database the import writes its pages straight into the database file, with
    // a rollback journal, which the next connection plays back.
    kill_while_importing(&database, &sources, &database_file);
    assert!(
        std::path::Path::new(&format!("{database_file}-journal")).exists(),
        "the killed import left no journal to play back"
    );

    let stats = database.stats_json();
    assert_eq!(stats["activities"], 0, "{stats}");
    assert_eq!(stats["transactions"], 0, "{stats}");
    assert!(database
        .coopfolio(&["import", "iati", sources[0].to_str().unwrap()])
        .status
        .success());
    assert!(database.stats_json()["activities"].as_u64().unwrap() > 0);
}

#[test]
fn sigkill_in_a_folder_of_small_files_into_a_new_database_keeps_the_files_committed() {
    let Some(folder) = covid_extract("SIGKILL mid-import of a folder into a new database") else {
        return;
    };
    let database = TestDatabase::sqlite();
    let database_file = database.sqlite_file();

    // Files of about 1 MB go into a new database in WAL mode, whose commits need no sync: once
    // the log is there (creating the file takes a journal for a moment), no rollback journal.
    let (log, journal) = (
        format!("{database_file}-wal"),
        format!("{database_file}-journal"),
    );
    kill_while_importing_path(&database, &folder, &log, || {
        assert!(
            !(std::path::Path::new(&log).exists() && std::path::Path::new(&journal).exists()),
            "a folder of small files was loaded with a rollback journal"
        );
    });

    // Each of the real files holds 100 activities (INVENTORY.csv): the files committed before
    // the kill are all there, and nothing of the file it interrupted.
    let activities = database.stats_json()["activities"].as_u64().unwrap();
    assert!(activities > 0, "no file was committed before the kill");
    assert!(
        activities < 4300,
        "the import ended before it could be interrupted"
    );
    assert_eq!(
        activities % 100,
        0,
        "part of a file was stored: {activities}"
    );
}

/// Starts importing a file three times the size of the sample and kills the process once
/// `written` (the file its transaction goes to) has grown past 8 MB, so that the kill lands in
/// the middle of the work and not before it.
fn kill_while_importing(database: &TestDatabase, sources: &[std::path::PathBuf], written: &str) {
    let scratch = tempfile::tempdir().unwrap();
    let big = scratch.path().join("big.xml");
    coopfolio_testdata::write_synthetic_file(sources, 3, &big).unwrap();
    kill_while_importing_path(database, &big, written, || {});
}

/// Imports `path` and kills the process once `written` has grown past 8 MB, checking
/// `while_importing` at each look until then.
fn kill_while_importing_path(
    database: &TestDatabase,
    path: &std::path::Path,
    written: &str,
    mut while_importing: impl FnMut(),
) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_coopfolio"))
        .args(["import", "iati", path.to_str().unwrap()])
        .env("COOPFOLIO_DATABASE_URL", &database.url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        while_importing();
        let size = std::fs::metadata(written).map_or(0, |metadata| metadata.len());
        if size > 8 << 20 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended before it could be interrupted"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the import wrote nothing"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "still importing when killed"
    );
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
}
