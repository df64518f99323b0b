//! Fixtures for the store tests: activities built in code, diagnostics, and fresh databases on
//! each backend (a temporary SQLite file; a throw-away PostgreSQL database when
//! `COOPFOLIO_TEST_POSTGRES_URL` names a server).

use std::str::FromStr;

use coopfolio_iati::model::{
    Activity, ActivityDate, AidType, Budget, Description, Narrative, OrganisationRef,
    ParticipatingOrg, RecipientCountry, RecipientRegion, RelatedActivity, Sector, Transaction,
    Value,
};
use coopfolio_iati::{Diagnostic, Severity};
use coopfolio_store::Store;
use rust_decimal::Decimal;
use sqlx::Connection;

pub const POSTGRES_URL_VARIABLE: &str = "COOPFOLIO_TEST_POSTGRES_URL";

/// A store on a new SQLite file, with its URL and the folder that must outlive it.
pub async fn sqlite_store() -> (Store, String, tempfile::TempDir) {
    let folder = tempfile::tempdir().expect("a temporary folder");
    // A folder that does not exist yet: connecting creates it along with the file.
    let path = folder.path().join("data").join("coopfolio.db");
    let url = format!("sqlite://{}", path.display());
    let store = Store::connect(&url).await.expect("connecting to SQLite");
    (store, url, folder)
}

/// A PostgreSQL database made for one test and dropped by [`TestDatabase::drop_database`].
pub struct TestDatabase {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    /// Creates a database with a fresh name on the server of `COOPFOLIO_TEST_POSTGRES_URL`, or
    /// returns `None` after printing why the test is skipped.
    pub async fn create() -> Option<TestDatabase> {
        let Ok(admin_url) = std::env::var(POSTGRES_URL_VARIABLE) else {
            println!("SKIPPED: {POSTGRES_URL_VARIABLE} not set");
            return None;
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("a clock after 1970")
            .as_nanos();
        let name = format!("coopfolio_test_{}_{nanos}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("connecting to the PostgreSQL test server");
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .expect("creating a test database");
        admin.close().await.ok();
        let url = with_database(&admin_url, &name);
        Some(TestDatabase {
            admin_url,
            name,
            url,
        })
    }

    pub async fn drop_database(mut self) {
        drop_test_database(&self.admin_url, &self.name).await;
        self.name.clear();
    }
}

/// A test that panics before [`TestDatabase::drop_database`] still drops its database.
impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.name.is_empty() {
            return;
        }
        let (admin_url, name) = (self.admin_url.clone(), std::mem::take(&mut self.name));
        // Drop cannot await, and may run inside a runtime, so a thread of its own does it.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(drop_test_database(&admin_url, &name));
        })
        .join();
    }
}

async fn drop_test_database(admin_url: &str, name: &str) {
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("connecting to the PostgreSQL test server");
    sqlx::query(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .expect("dropping the test database");
}

/// The URL with its database name (the path) replaced, query string kept.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |index| index + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{database}?{query}"),
        None => format!("{server}/{database}"),
    }
}

/// The funding ledger as `identifier|source|kind|direction|partner|date|amount|currency|usd|rate|
/// rate source|status` lines, sorted, read straight from the database at `url`. Amounts are
/// cast to text in SQL so that the line shows exactly what each backend stores.
/// Rows that refer to a row no longer there, as SQLite's `foreign_key_check` lists them
/// (table, rowid, parent). SQLite's import connection does not enforce foreign keys and deletes
/// a replaced activity's rows itself, so this must stay empty; PostgreSQL enforces them always.
pub async fn orphan_rows(url: &str) -> Vec<String> {
    if !url.starts_with("sqlite:") {
        return Vec::new();
    }
    let pool = sqlx::SqlitePool::connect(url).await.expect("connecting");
    let rows: Vec<(String, Option<i64>, String)> =
        sqlx::query_as("SELECT \"table\", rowid, parent FROM pragma_foreign_key_check")
            .fetch_all(&pool)
            .await
            .expect("foreign key check");
    pool.close().await;
    rows.into_iter()
        .map(|(table, rowid, parent)| format!("{table} row {rowid:?} -> {parent}"))
        .collect()
}

pub async fn ledger_lines(url: &str) -> Vec<String> {
    const LEDGER: &str = "SELECT a.iati_identifier, l.source_table, l.kind, l.direction, \
        l.partner_ref, l.date, CAST(l.amount AS TEXT), l.currency, CAST(l.usd_amount AS TEXT), \
        CAST(l.usd_rate AS TEXT), l.rate_source, l.conversion_status \
        FROM ledger_entry l JOIN activity a ON a.id = l.activity_id";
    type Line = (
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
    );
    let rows: Vec<Line> = if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.expect("connecting");
        let rows = sqlx::query_as(LEDGER)
            .fetch_all(&pool)
            .await
            .expect("ledger");
        pool.close().await;
        rows
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("connecting");
        let rows = sqlx::query_as(LEDGER)
            .fetch_all(&pool)
            .await
            .expect("ledger");
        pool.close().await;
        rows
    };
    let text = |value: Option<String>| value.unwrap_or_else(|| "-".to_owned());
    let mut lines: Vec<String> = rows
        .into_iter()
        .map(|row| {
            [
                row.0,
                row.1,
                row.2,
                text(row.3),
                text(row.4),
                text(row.5),
                row.6,
                text(row.7),
                text(row.8),
                text(row.9),
                text(row.10),
                row.11,
            ]
            .join("|")
        })
        .collect();
    lines.sort();
    lines
}

/// The organisations as `ref|type|name|names|budget value|xml` lines, sorted, read straight
/// from the database at `url`.
pub async fn organisation_lines(url: &str) -> Vec<String> {
    const ORGANISATIONS: &str = "SELECT o.ref, o.type, o.name, \
        (SELECT COUNT(*) FROM organisation_name n WHERE n.organisation_id = o.id), \
        (SELECT CAST(b.value AS TEXT) FROM organisation_budget b WHERE b.organisation_id = o.id), \
        CASE WHEN o.raw_xml IS NULL THEN 'no xml' ELSE 'xml' END FROM organisation o";
    type Line = (
        Option<String>,
        Option<String>,
        Option<String>,
        i64,
        Option<String>,
        String,
    );
    let rows: Vec<Line> = if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.expect("connecting");
        let rows = sqlx::query_as(ORGANISATIONS)
            .fetch_all(&pool)
            .await
            .expect("organisations");
        pool.close().await;
        rows
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("connecting");
        let rows = sqlx::query_as(ORGANISATIONS)
            .fetch_all(&pool)
            .await
            .expect("organisations");
        pool.close().await;
        rows
    };
    let text = |value: Option<String>| value.unwrap_or_else(|| "-".to_owned());
    let mut lines: Vec<String> = rows
        .into_iter()
        .map(|row| {
            format!(
                "{}|{}|{}|{}|{}|{}",
                text(row.0),
                text(row.1),
                text(row.2),
                row.3,
                text(row.4),
                row.5
            )
        })
        .collect();
    lines.sort();
    lines
}

pub fn decimal(text: &str) -> Decimal {
    Decimal::from_str(text).expect("a decimal literal")
}

pub fn narrative(lang: &str, text: &str) -> Narrative {
    Narrative {
        lang: Some(lang.to_owned()),
        text: text.to_owned(),
    }
}

pub fn organisation_ref(reference: &str, kind: &str, name: &str) -> OrganisationRef {
    OrganisationRef {
        reference: Some(reference.to_owned()),
        kind: Some(kind.to_owned()),
        names: vec![narrative("en", name)],
        activity_identifier: None,
    }
}

pub fn transaction(kind: &str, amount: &str, currency: &str, date: &str) -> Transaction {
    Transaction {
        reference: Some(format!("{kind}-{amount}")),
        kind: Some(kind.to_owned()),
        date: Some(date.to_owned()),
        value: Some(Value {
            amount: decimal(amount),
            currency: Some(currency.to_owned()),
            value_date: Some(date.to_owned()),
        }),
        description: vec![narrative("en", "Instalment")],
        provider_org: Some(organisation_ref("GB-GOV-1", "10", "FCDO")),
        receiver_org: Some(organisation_ref("XM-DAC-41302", "40", "ILO")),
        flow_type: Some("10".to_owned()),
        finance_type: Some("110".to_owned()),
        aid_types: vec![AidType {
            code: "C01".to_owned(),
            vocabulary: None,
        }],
        ..Transaction::default()
    }
}

pub fn budget(amount: &str, currency: &str, start: &str, end: &str) -> Budget {
    Budget {
        kind: Some("1".to_owned()),
        status: Some("2".to_owned()),
        period_start: Some(start.to_owned()),
        period_end: Some(end.to_owned()),
        value: Some(Value {
            amount: decimal(amount),
            currency: Some(currency.to_owned()),
            value_date: Some(start.to_owned()),
        }),
    }
}

/// An activity shaped like the ILO's: two title languages, a description, three participating
/// organisations, two sectors, a country, dates, and the given transactions and budgets.
pub fn activity(
    identifier: &str,
    transactions: Vec<Transaction>,
    budgets: Vec<Budget>,
) -> Activity {
    Activity {
        identifier: identifier.to_owned(),
        default_currency: Some("USD".to_owned()),
        default_lang: Some("en".to_owned()),
        last_updated: Some("2024-05-01T00:00:00Z".to_owned()),
        hierarchy: Some(2),
        humanitarian: Some(false),
        reporting_org: Some(organisation_ref(
            "XM-DAC-41302",
            "40",
            "International Labour Organization",
        )),
        titles: vec![
            narrative("en", &format!("Decent work project {identifier}")),
            narrative("fr", &format!("Projet travail décent {identifier}")),
        ],
        descriptions: vec![Description {
            kind: Some("1".to_owned()),
            narratives: vec![narrative("en", "Jobs and social protection.")],
        }],
        participating_orgs: vec![
            ParticipatingOrg {
                reference: Some("GB-GOV-1".to_owned()),
                kind: Some("10".to_owned()),
                role: Some("1".to_owned()),
                names: vec![narrative("en", "FCDO")],
                ..ParticipatingOrg::default()
            },
            ParticipatingOrg {
                reference: Some("XM-DAC-41302".to_owned()),
                kind: Some("40".to_owned()),
                role: Some("2".to_owned()),
                crs_channel_code: Some("41302".to_owned()),
                names: vec![narrative("en", "ILO")],
                ..ParticipatingOrg::default()
            },
            ParticipatingOrg {
                reference: None,
                kind: Some("22".to_owned()),
                role: Some("4".to_owned()),
                names: vec![narrative("en", "A national workers' union")],
                ..ParticipatingOrg::default()
            },
        ],
        status: Some("2".to_owned()),
        dates: vec![
            ActivityDate {
                kind: "1".to_owned(),
                date: "2023-01-01".to_owned(),
            },
            ActivityDate {
                kind: "2".to_owned(),
                date: "2023-02-15".to_owned(),
            },
            ActivityDate {
                kind: "3".to_owned(),
                date: "2025-12-31".to_owned(),
            },
        ],
        recipient_countries: vec![RecipientCountry {
            code: "BD".to_owned(),
            percentage: Some(decimal("100")),
        }],
        recipient_regions: vec![RecipientRegion {
            code: "798".to_owned(),
            vocabulary: None,
            percentage: None,
        }],
        sectors: vec![
            Sector {
                code: "16020".to_owned(),
                vocabulary: Some("1".to_owned()),
                percentage: Some(decimal("60.5")),
            },
            Sector {
                code: "16010".to_owned(),
                vocabulary: Some("1".to_owned()),
                percentage: Some(decimal("39.5")),
            },
        ],
        collaboration_type: Some("1".to_owned()),
        default_flow_type: Some("10".to_owned()),
        default_finance_type: Some("110".to_owned()),
        default_tied_status: Some("5".to_owned()),
        default_aid_types: vec![AidType {
            code: "C01".to_owned(),
            vocabulary: Some("1".to_owned()),
        }],
        budgets,
        transactions,
        related_activities: vec![RelatedActivity {
            identifier: "XM-DAC-41302-PROGRAMME".to_owned(),
            kind: Some("1".to_owned()),
        }],
        raw_xml: format!(
            "<iati-activity><iati-identifier>{identifier}</iati-identifier></iati-activity>"
        )
        .into_bytes(),
        line: 2,
        column: 3,
        faults: 0,
    }
}

pub fn warning(file: &str, record: &str, code: &'static str) -> Diagnostic {
    Diagnostic {
        severity: Severity::Warning,
        code,
        message: format!("{code} in {record}"),
        file: file.to_owned(),
        line: 12,
        column: 7,
        path: "/iati-activities/iati-activity/sector".to_owned(),
        record: Some(record.to_owned()),
    }
}

pub fn fatal(file: &str) -> Diagnostic {
    Diagnostic {
        severity: Severity::Fatal,
        code: "not-well-formed",
        message: "expected `</transaction>`, found end of file".to_owned(),
        file: file.to_owned(),
        line: 9001,
        column: 1,
        path: "/iati-activities/iati-activity/transaction".to_owned(),
        record: None,
    }
}

#[test]
fn database_names_replace_only_the_path() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
        "postgres://postgres@127.0.0.1:5432/t1"
    );
    assert_eq!(
        with_database("postgresql://u:p@h/db?sslmode=disable", "t2"),
        "postgresql://u:p@h/t2?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h", "t3"), "postgres://h/t3");
}
