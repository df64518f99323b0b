//! The 43 real files of the d-portal extract go in whole, on SQLite and PostgreSQL alike: the
//! counts equal the curators' inventory and the sums equal an independent reading of the XML.

use rust_decimal::Decimal;

use crate::support::{
    covid_extract, independent_transaction_sums, inventory, summary_json, text, xml_files,
    TestDatabase,
};

/// Imports the extract, checks the summary against the inventory and the stored sums against
/// the independent reading, and returns `stats --json` for comparing backends.
fn import_and_check(database: &TestDatabase) -> Option<serde_json::Value> {
    let folder = covid_extract("real files import")?;
    let inventory = inventory(&folder);
    assert_eq!(inventory.len(), 43);

    let output = database.coopfolio(&["import", "iati", "--json", folder.to_str().unwrap()]);
    let summary = summary_json(&output);
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status,
        text(&output.stderr)
    );
    let expected =
        |pick: fn(&(String, u64, u64, u64)) -> u64| -> u64 { inventory.iter().map(pick).sum() };
    assert_eq!(summary["files"], 43);
    assert_eq!(summary["files_failed"], 0);
    assert_eq!(summary["activities_skipped"], 0);
    assert_eq!(summary["activities"], expected(|row| row.1));
    assert_eq!(summary["transactions"], expected(|row| row.2));
    assert_eq!(summary["budgets"], expected(|row| row.3));
    assert_eq!(summary["bytes"], 49_405_814);
    assert!(
        summary["diagnostics"].as_u64().unwrap() > 0,
        "real files carry faults"
    );

    let stats = database.stats_json();
    assert_eq!(stats["activities"], 4300);
    assert_eq!(stats["transactions"], 27_443);
    assert_eq!(stats["budgets"], expected(|row| row.3));
    assert!(
        stats["organisations"].as_u64().unwrap() > 96,
        "at least one per publisher"
    );

    let independent = independent_transaction_sums(&xml_files(&folder));
    let stored = stats["transaction_sums"].as_array().unwrap();
    assert_eq!(
        stored.len(),
        independent.len(),
        "groups: {stored:?} vs {independent:?}"
    );
    for row in stored {
        let key = (
            row["type"].as_str().map(str::to_owned),
            row["currency"].as_str().map(str::to_owned),
        );
        let (count, sum) = independent
            .get(&key)
            .unwrap_or_else(|| panic!("{key:?} is not in the XML"));
        assert_eq!(row["count"].as_u64().unwrap(), *count, "count of {key:?}");
        let stored_sum: Decimal = row["sum"].as_str().unwrap().parse().unwrap();
        assert_eq!(stored_sum, *sum, "sum of {key:?}");
    }
    // Disbursements in US dollars are the biggest group; a wrong grouping would miss it.
    assert!(independent.contains_key(&(Some("3".into()), Some("USD".into()))));

    // Importing the same files again replaces every activity and duplicates none.
    let again = database.coopfolio(&["import", "iati", "--json", folder.to_str().unwrap()]);
    assert!(again.status.success());
    assert_eq!(database.stats_json(), stats);
    Some(stats)
}

#[test]
fn real_files_import_whole_on_sqlite() {
    import_and_check(&TestDatabase::sqlite());
}

#[test]
fn real_files_give_the_same_stats_on_postgres_and_sqlite() {
    let Some(postgres) = TestDatabase::postgres("real files import") else {
        return;
    };
    let Some(on_postgres) = import_and_check(&postgres) else {
        return;
    };
    let on_sqlite = import_and_check(&TestDatabase::sqlite()).unwrap();
    assert_eq!(
        serde_json::to_string(&on_postgres).unwrap(),
        serde_json::to_string(&on_sqlite).unwrap()
    );
}

/// Two imports started at the same moment into a database that does not exist yet both go in:
/// the second waits for the first to create the schema instead of failing on a table the first
/// has just made. Small files (WAL mode from the start) and large ones (a rollback journal while
/// loading) take different paths through `Store::open`, so both are tried, a few times each.
#[test]
fn two_imports_into_one_new_database_at_once_both_go_in() {
    let Some(folder) = covid_extract("two imports into one new database") else {
        return;
    };
    let inventory = inventory(&folder);
    // dportal_9 and dportal_110 are under 1 MB, dportal_4 and dportal_71 over 3 MB.
    for pair in [
        ["dportal_9.xml", "dportal_110.xml"],
        ["dportal_4.xml", "dportal_71.xml"],
    ] {
        let expected: u64 = inventory
            .iter()
            .filter(|row| pair.iter().any(|file| row.0.ends_with(file)))
            .map(|row| row.1)
            .sum();
        assert_eq!(expected, 200, "each file holds 100 activities");
        for _ in 0..4 {
            let database = TestDatabase::sqlite();
            let imports: Vec<_> = pair
                .iter()
                .map(|file| {
                    std::process::Command::new(env!("CARGO_BIN_EXE_coopfolio"))
                        .args(["import", "iati", "--json"])
                        .arg(folder.join(file))
                        .env("COOPFOLIO_DATABASE_URL", &database.url)
                        .stdout(std::process::Stdio::piped())
                        .stderr(std::process::Stdio::piped())
                        .spawn()
                        .unwrap()
                })
                .collect();
            for import in imports {
                let output = import.wait_with_output().unwrap();
                assert!(
                    output.status.success(),
                    "{pair:?}: exit {:?}: {}",
                    output.status,
                    text(&output.stderr)
                );
            }
            assert_eq!(database.stats_json()["activities"], expected, "{pair:?}");
            // Whichever closed last, the file is left in WAL mode (header bytes 18 and 19).
            let header = std::fs::read(database.sqlite_file()).unwrap();
            assert_eq!(header[18..20], [2, 2], "{pair:?}: not left in WAL mode");
        }
    }
}
