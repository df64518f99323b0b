//! The count behind the world map: programmes and projects active in a period per recipient
//! country, on a few hand-made activities. Run on SQLite always and on PostgreSQL when
//! `COOPFOLIO_TEST_POSTGRES_URL` is set; both must give the same counts, and the countries must
//! be exactly those the portfolio figure counts.

use coopfolio_core::period::Period;
use coopfolio_iati::model::{ActivityDate, RecipientCountry};
use coopfolio_store::figures::{Count, ORGANISATION_REF};
use coopfolio_store::Store;

use crate::support::{activity, organisation_ref, sqlite_store, TestDatabase};

#[tokio::test]
async fn programmes_by_country_on_sqlite() {
    let (store, _url, _folder) = sqlite_store().await;
    programmes_by_country(&store).await;
    store.close().await;
}

#[tokio::test]
async fn programmes_by_country_on_postgres() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let store = Store::connect(&database.url).await.expect("connecting");
    programmes_by_country(&store).await;
    store.close().await;
    database.drop_database().await;
}

fn in_countries(identifier: &str, codes: &[&str]) -> coopfolio_iati::model::Activity {
    let mut activity = activity(identifier, Vec::new(), Vec::new());
    activity.recipient_countries = codes
        .iter()
        .map(|code| RecipientCountry {
            code: (*code).to_owned(),
            percentage: None,
        })
        .collect();
    activity
}

fn count(code: &str, count: u64) -> Count {
    Count {
        code: code.to_owned(),
        count,
    }
}

async fn programmes_by_country(store: &Store) {
    // The fixture's activities run from 2023 to 2025.
    let two_countries = in_countries("XM-DAC-41302-TWO", &["BD", "KE"]);
    // A code recorded in lower case is the same country.
    let lower_case = in_countries("XM-DAC-41302-LOWER", &["ke"]);
    let mut ended = in_countries("XM-DAC-41302-ENDED", &["KE", "TZ"]);
    ended.dates = vec![
        ActivityDate {
            kind: "2".to_owned(),
            date: "2019-03-01".to_owned(),
        },
        ActivityDate {
            kind: "4".to_owned(),
            date: "2021-12-31".to_owned(),
        },
    ];
    let nowhere = in_countries("XM-DAC-41302-NOWHERE", &[]);
    let mut other_publisher = in_countries("GB-GOV-1-ELSEWHERE", &["FR", "KE"]);
    other_publisher.reporting_org = Some(organisation_ref("GB-GOV-1", "10", "FCDO"));
    let mut session = store.begin_import("map.xml", 5).await.unwrap();
    for activity in [two_countries, lower_case, ended, nowhere, other_publisher] {
        session.add_activity(activity).await.unwrap();
    }
    session.commit(0).await.unwrap();

    // Without the organisation setting every stored activity counts.
    let figure = store
        .programmes_by_country(Period::Biennium(2022))
        .await
        .unwrap();
    assert_eq!(
        figure.value,
        vec![count("KE", 3), count("BD", 1), count("FR", 1)]
    );
    assert!(figure.method.basis.contains("counted once in each"));
    assert_eq!(figure.method.first_day, "2022-01-01");
    let portfolio = store.portfolio(Period::Biennium(2022)).await.unwrap();
    assert_eq!(portfolio.value.countries, figure.value.len() as u64);

    // The ended activity is the only one active in 2020-21.
    let figure = store
        .programmes_by_country(Period::Biennium(2020))
        .await
        .unwrap();
    assert_eq!(figure.value, vec![count("KE", 1), count("TZ", 1)]);

    // Naming the organisation leaves the other publisher's activity out, as in the portfolio.
    store
        .set_setting(ORGANISATION_REF, "XM-DAC-41302")
        .await
        .unwrap();
    let figure = store
        .programmes_by_country(Period::Biennium(2022))
        .await
        .unwrap();
    assert_eq!(figure.value, vec![count("KE", 2), count("BD", 1)]);
    assert!(figure.method.basis.contains("reported by XM-DAC-41302"));
    let portfolio = store.portfolio(Period::Biennium(2022)).await.unwrap();
    assert_eq!(portfolio.value.countries, figure.value.len() as u64);
    // Nothing active in a biennium before any activity began.
    let figure = store
        .programmes_by_country(Period::Biennium(2010))
        .await
        .unwrap();
    assert!(figure.value.is_empty());
}
