//! Running the program against fresh databases, and reading real IATI files independently of it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rust_decimal::Decimal;

/// A fresh database for one test: a SQLite file in a temporary folder, or a new PostgreSQL
/// database created from `COOPFOLIO_TEST_POSTGRES_URL` and dropped when the test ends.
pub struct TestDatabase {
    pub url: String,
    _folder: Option<tempfile::TempDir>,
    postgres_drop: Option<(String, String)>,
}

impl TestDatabase {
    pub fn sqlite() -> TestDatabase {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}", folder.path().join("coopfolio.db").display());
        TestDatabase {
            url,
            _folder: Some(folder),
            postgres_drop: None,
        }
    }

    /// `None` (after printing why) when no PostgreSQL server was given.
    pub fn postgres(test: &str) -> Option<TestDatabase> {
        let Ok(server_url) = std::env::var("COOPFOLIO_TEST_POSTGRES_URL") else {
            println!("SKIPPED: {test} on PostgreSQL: COOPFOLIO_TEST_POSTGRES_URL not set");
            return None;
        };
        let name = format!(
            "coopfolio_it_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        psql(&server_url, &format!("CREATE DATABASE {name}"));
        let url = replace_database(&server_url, &name);
        Some(TestDatabase {
            url,
            _folder: None,
            postgres_drop: Some((server_url, name)),
        })
    }

    pub fn coopfolio(&self, args: &[&str]) -> Output {
        coopfolio(&self.url, args)
    }

    /// The database file of a SQLite test database.
    pub fn sqlite_file(&self) -> String {
        self.url.trim_start_matches("sqlite://").to_owned()
    }

    pub fn stats_json(&self) -> serde_json::Value {
        let output = self.coopfolio(&["stats", "--json"]);
        assert!(
            output.status.success(),
            "stats failed: {}",
            text(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("stats --json prints JSON")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((server_url, name)) = &self.postgres_drop {
            psql(
                server_url,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

fn psql(url: &str, sql: &str) {
    let status = Command::new("psql")
        .arg(url)
        .args(["-v", "ON_ERROR_STOP=1", "-qc", sql])
        .status()
        .expect("psql runs");
    assert!(status.success(), "psql failed: {sql}");
}

/// The same server URL pointing at another database.
fn replace_database(url: &str, database: &str) -> String {
    let (without_query, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = without_query.find("://").map_or(0, |index| index + 3);
    let base = match without_query[scheme_end..].find('/') {
        Some(slash) => &without_query[..scheme_end + slash],
        None => without_query,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

pub fn coopfolio(database_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coopfolio"))
        .args(args)
        .env("COOPFOLIO_DATABASE_URL", database_url)
        .output()
        .expect("the coopfolio binary runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn summary_json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "import --json prints one JSON object ({error}); stdout: {} stderr: {}",
            text(&output.stdout),
            text(&output.stderr)
        )
    })
}

/// The real files, or `None` after printing why the test is skipped.
pub fn covid_extract(test: &str) -> Option<PathBuf> {
    match coopfolio_testdata::covid_extract() {
        Ok(folder) => Some(folder),
        Err(reason) => {
            println!("SKIPPED: {test}: {reason}");
            None
        }
    }
}

/// Per-file counts from INVENTORY.csv, computed by the data's curators with xmllint and regular
/// expressions: (file name, activities, transactions, budgets).
pub fn inventory(covid_extract: &Path) -> Vec<(String, u64, u64, u64)> {
    let csv =
        std::fs::read_to_string(covid_extract.join("../INVENTORY.csv")).expect("INVENTORY.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|field| *field == name).unwrap();
    let (file, activities, transactions, budgets) = (
        column("file"),
        column("activities"),
        column("transactions"),
        column("budgets"),
    );
    lines
        .filter(|line| line.starts_with("dportal-covid-extract-2021/"))
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            (
                fields[file].to_owned(),
                fields[activities].parse().unwrap(),
                fields[transactions].parse().unwrap(),
                fields[budgets].parse().unwrap(),
            )
        })
        .collect()
}

/// Transaction count and exact sum per (type, currency), read from the XML with a deliberately
/// simple scan that shares no code with the importer: the 2.0x type code (legacy letters mapped),
/// the value's currency or the activity's default, upper-cased.
pub fn independent_transaction_sums(
    files: &[PathBuf],
) -> BTreeMap<(Option<String>, Option<String>), (u64, Decimal)> {
    use quick_xml::events::Event;
    let mut sums: BTreeMap<(Option<String>, Option<String>), (u64, Decimal)> = BTreeMap::new();
    for file in files {
        let mut reader = quick_xml::Reader::from_file(file).unwrap();
        let mut buffer = Vec::new();
        let mut default_currency: Option<String> = None;
        let mut in_transaction = false;
        let mut in_value = false;
        let mut kind: Option<String> = None;
        let mut currency: Option<String> = None;
        let mut value_text = String::new();
        loop {
            let event = reader.read_event_into(&mut buffer).unwrap();
            match &event {
                Event::Start(element) | Event::Empty(element) => {
                    let attribute = |name: &str| {
                        element
                            .attributes()
                            .flatten()
                            .find(|attribute| attribute.key.as_ref() == name.as_bytes())
                            .map(|attribute| attribute.unescape_value().unwrap().trim().to_owned())
                            .filter(|value| !value.is_empty())
                    };
                    match element.name().as_ref() {
                        b"iati-activity" => {
                            default_currency =
                                attribute("default-currency").map(|c| c.to_uppercase())
                        }
                        b"transaction" if matches!(event, Event::Start(_)) => {
                            in_transaction = true;
                            kind = None;
                            currency = None;
                            value_text.clear();
                        }
                        b"transaction-type" if in_transaction => {
                            kind = attribute("code").map(|code| legacy_type(&code))
                        }
                        b"value" if in_transaction => {
                            currency = attribute("currency").map(|c| c.to_uppercase());
                            in_value = matches!(event, Event::Start(_));
                        }
                        _ => {}
                    }
                }
                Event::Text(text) if in_value => value_text.push_str(&text.unescape().unwrap()),
                Event::End(element) => match element.name().as_ref() {
                    b"value" => in_value = false,
                    b"transaction" if in_transaction => {
                        in_transaction = false;
                        let amount = value_text.trim().parse::<Decimal>().ok();
                        let currency = match amount {
                            Some(_) => currency.clone().or_else(|| default_currency.clone()),
                            None => None,
                        };
                        let entry = sums.entry((kind.clone(), currency)).or_default();
                        entry.0 += 1;
                        entry.1 += amount.unwrap_or_default();
                    }
                    _ => {}
                },
                Event::Eof => break,
                _ => {}
            }
            buffer.clear();
        }
    }
    sums
}

fn legacy_type(code: &str) -> String {
    match code {
        "C" => "2",
        "D" => "3",
        "E" => "4",
        "IF" => "1",
        "IR" => "5",
        "LR" => "6",
        "R" => "7",
        "QP" => "8",
        "QS" => "9",
        "CG" => "10",
        other => other,
    }
    .to_owned()
}

/// Every `.xml` file in a folder, sorted.
pub fn xml_files(folder: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "xml"))
        .collect();
    files.sort();
    files
}
