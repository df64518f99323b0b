//! The rules behind the figures, each on a few hand-made records: group derivation and
//! overrides, roll-ups, a missing rate, confidentiality, biennium boundaries and the period
//! setting, receipts split by shares, and, for budgets, hierarchies and revised budgets. Run on
//! SQLite always and on PostgreSQL when `COOPFOLIO_TEST_POSTGRES_URL` is set; both must agree.

use coopfolio_core::modality::Modality;
use coopfolio_core::partner_group::PartnerGroup;
use coopfolio_core::partnership::{
    Agreement, AgreementPartner, AgreementStatus, Instalment, Partner,
};
use coopfolio_core::period::Period;
use coopfolio_core::reference::Names;
use coopfolio_core::value::CurrencyCode;
use coopfolio_iati::model::RelatedActivity;
use coopfolio_store::figures::{Basis, BIENNIUM_STARTS_EVEN};
use coopfolio_store::{PartnershipRecords, Store};

use crate::support::{activity, budget, decimal, sqlite_store, TestDatabase};

#[tokio::test]
async fn figure_rules_on_sqlite() {
    let (store, _url, _folder) = sqlite_store().await;
    figure_rules(&store).await;
    store.close().await;
}

#[tokio::test]
async fn figure_rules_on_postgres() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let store = Store::connect(&database.url).await.expect("connecting");
    figure_rules(&store).await;
    store.close().await;
    database.drop_database().await;
}

fn names(name: &str) -> Names {
    Names {
        en: name.to_owned(),
        fr: name.to_owned(),
        es: name.to_owned(),
    }
}

fn partner(key: &str, iati_ref: Option<&str>, kind: &str, over: Option<PartnerGroup>) -> Partner {
    Partner {
        key: key.to_owned(),
        names: names(key),
        iati_ref: iati_ref.map(str::to_owned),
        organisation_type: Some(kind.to_owned()),
        country: None,
        group_override: over,
        synthetic: false,
    }
}

fn agreement(
    key: &str,
    status: AgreementStatus,
    signed: &str,
    currency: &str,
    shares: &[(&str, &str)],
) -> Agreement {
    let partners: Vec<AgreementPartner> = shares
        .iter()
        .map(|(partner, amount)| AgreementPartner {
            partner_key: (*partner).to_owned(),
            amount: decimal(amount),
        })
        .collect();
    Agreement {
        key: key.to_owned(),
        title: names(key),
        modality: Modality::Earmarked,
        status,
        amount: partners.iter().map(|p| p.amount).sum(),
        partners,
        signature_date: Some(signed.to_owned()),
        start_date: Some(signed.to_owned()),
        end_date: None,
        currency: CurrencyCode::parse(currency).unwrap(),
        instalments: Vec::new(),
        earmarking: Vec::new(),
        confidential: false,
        inquiry_key: None,
        synthetic: false,
    }
}

async fn figure_rules(store: &Store) {
    let partners = [
        partner("undp", Some("XM-DAC-41114"), "40", None),
        partner("unicef", Some("XM-DAC-41122"), "40", None),
        partner("uk", Some("GB-GOV-1"), "10", None),
        // A workers' federation the rules would call civil society, set by hand.
        partner("federation", None, "21", Some(PartnerGroup::SocialPartner)),
    ];
    let mut agreements = vec![
        // Biennium boundaries: only the middle three are signed in 2022-23.
        agreement(
            "before",
            AgreementStatus::Signed,
            "2021-12-31",
            "USD",
            &[("uk", "1000")],
        ),
        agreement(
            "first-day",
            AgreementStatus::Active,
            "2022-01-01",
            "USD",
            &[("uk", "100")],
        ),
        agreement(
            "last-day",
            AgreementStatus::Closed,
            "2023-12-31",
            "USD",
            &[("undp", "10")],
        ),
        agreement(
            "after",
            AgreementStatus::Signed,
            "2024-01-01",
            "USD",
            &[("uk", "5000")],
        ),
        // Not approved: a pledge and a cancelled agreement count for nothing.
        agreement(
            "pledge",
            AgreementStatus::Pledged,
            "2022-06-01",
            "USD",
            &[("uk", "777")],
        ),
        agreement(
            "cancelled",
            AgreementStatus::Cancelled,
            "2022-06-01",
            "USD",
            &[("uk", "888")],
        ),
        // Two UN entities roll up into one contributor.
        agreement(
            "joint",
            AgreementStatus::Signed,
            "2022-03-15",
            "USD",
            &[("undp", "20"), ("unicef", "30")],
        ),
        // No rate for this currency: listed, never counted as zero.
        agreement(
            "no-rate",
            AgreementStatus::Signed,
            "2022-05-05",
            "XQZ",
            &[("federation", "999")],
        ),
        // Converted at the signature month's rate.
        agreement(
            "euro",
            AgreementStatus::Signed,
            "2023-02-10",
            "EUR",
            &[("federation", "1000")],
        ),
    ];
    let mut confidential = agreement(
        "secret",
        AgreementStatus::Signed,
        "2022-09-09",
        "USD",
        &[("unicef", "40")],
    );
    confidential.confidential = true;
    agreements.push(confidential);
    let mut received = agreement(
        "received",
        AgreementStatus::Active,
        "2022-02-02",
        "USD",
        &[("uk", "1"), ("undp", "2")],
    );
    received.instalments = vec![
        Instalment {
            due_date: "2022-03-01".to_owned(),
            amount: decimal("3"),
            received_date: Some("2022-03-02".to_owned()),
            received_amount: Some(decimal("100.00")),
        },
        Instalment {
            due_date: "2024-03-01".to_owned(),
            amount: decimal("3"),
            received_date: None,
            received_amount: None,
        },
    ];
    agreements.push(received);

    let summary = store
        .save_partnership_records(PartnershipRecords {
            partners: &partners,
            agreements: &agreements,
            ..PartnershipRecords::default()
        })
        .await
        .expect("saving");
    assert_eq!(summary.ledger_entries_without_rate, 1);
    // Saving the same records again replaces them: nothing doubles.
    store
        .save_partnership_records(PartnershipRecords {
            partners: &partners,
            agreements: &agreements,
            ..PartnershipRecords::default()
        })
        .await
        .expect("saving again");

    // Group derivation: by the rules, or by hand with the rule saying so.
    let groups = store.partner_groups().await.unwrap();
    let group = |key: &str| groups.iter().find(|g| g.key == key).unwrap().clone();
    assert_eq!(group("undp").partner_group, "united_nations");
    assert_eq!(group("undp").rollup_code.as_deref(), Some("united-nations"));
    assert_eq!(group("uk").partner_group, "government");
    assert_eq!(group("uk").rollup_code, None);
    assert_eq!(group("federation").partner_group, "social_partner");
    assert_eq!(group("federation").group_rule, "set by hand");

    let euro_usd = match coopfolio_core::rates::ExchangeRates::bundled().to_usd(
        decimal("1000"),
        "EUR",
        "2023-02-10",
    ) {
        coopfolio_core::rates::Conversion::Converted { usd, .. } => usd,
        other => panic!("EUR converts: {other:?}"),
    };
    let figure = store
        .contributions(Period::Biennium(2022), Basis::Approved)
        .await
        .unwrap();
    // 100 + 10 + 20 + 30 + 40 + 1 + 2 in US dollars, and the euros at February 2023's rate.
    assert_eq!(figure.value.total_usd, decimal("203") + euro_usd);
    let ranking: Vec<(String, String)> = figure
        .value
        .ranking
        .iter()
        .map(|line| (line.code.clone(), line.usd.to_string()))
        .collect();
    assert!(
        ranking.contains(&("united-nations".to_owned(), "102".to_owned())),
        "{ranking:?}"
    );
    assert!(
        ranking.contains(&("uk".to_owned(), "101".to_owned())),
        "{ranking:?}"
    );
    assert_eq!(figure.value.ranking[0].code, "federation");
    let social = figure
        .value
        .by_partner_group
        .iter()
        .find(|a| a.code == "social_partner")
        .unwrap();
    assert_eq!(social.usd, euro_usd);
    // The missing rate is listed with its amount, not counted.
    let withheld = &figure.method.withheld;
    assert_eq!(withheld.without_rate.len(), 1);
    assert_eq!(
        withheld.without_rate[0].agreement.as_deref(),
        Some("no-rate")
    );
    assert_eq!(withheld.without_rate[0].currency.as_deref(), Some("XQZ"));
    assert_eq!(figure.method.conversion.entries_without_rate, 1);
    // The confidential agreement counts (its 40 is in the total above) but is never itemised.
    assert_eq!(withheld.confidential_agreements, 1);
    let (public, hidden) = store
        .public_agreements(Period::Biennium(2022))
        .await
        .unwrap();
    assert!(!public.contains(&"secret".to_owned()));
    assert!(public.contains(&"joint".to_owned()));
    assert_eq!(hidden, 1);
    assert_eq!(figure.method.first_day, "2022-01-01");
    assert_eq!(figure.method.last_day, "2023-12-31");

    // Received basis: the instalment of 100 split 1:2, to the cent, remainder to the last.
    let received = store
        .contributions(Period::Biennium(2022), Basis::Received)
        .await
        .unwrap();
    assert_eq!(received.value.total_usd, decimal("100.00"));
    let uk = received
        .value
        .ranking
        .iter()
        .find(|l| l.code == "uk")
        .unwrap();
    assert_eq!(uk.usd, decimal("33.33"));

    // Years and the other biennium.
    let year = store
        .contributions(Period::Year(2024), Basis::Approved)
        .await
        .unwrap();
    assert_eq!(year.value.total_usd, decimal("5000"));
    // The period rule is a setting: with odd-start bienniums, 2022-23 is refused.
    assert!(store
        .period_rule()
        .await
        .unwrap()
        .parse_period("2022-23")
        .is_ok());
    store
        .set_setting(BIENNIUM_STARTS_EVEN, "false")
        .await
        .unwrap();
    let odd = store.period_rule().await.unwrap();
    assert!(odd.parse_period("2022-23").is_err());
    let period = odd.parse_period("2021-22").unwrap();
    let figure = store.contributions(period, Basis::Approved).await.unwrap();
    // 1000 (2021-12-31) + 100 + 20 + 30 + 40 + 1 + 2.
    assert_eq!(figure.value.total_usd, decimal("1193"));

    // A rate for the missing currency arrives: the entry is converted and counts.
    store
        .set_setting(BIENNIUM_STARTS_EVEN, "true")
        .await
        .unwrap();
    let rates = coopfolio_store::parse_rates_csv("DATE,XQZ\n2022-05,3\n", "hand-made").unwrap();
    assert_eq!(store.import_rates(&rates).await.unwrap(), 1);
    let figure = store
        .contributions(Period::Biennium(2022), Basis::Approved)
        .await
        .unwrap();
    assert_eq!(figure.value.total_usd, decimal("536") + euro_usd);
    assert!(figure.method.withheld.without_rate.is_empty());

    budgets(store).await;
}

/// A programme and its project are never both summed; a revised budget replaces the original.
async fn budgets(store: &Store) {
    let mut programme = activity(
        "XM-DAC-41302-PROGRAMME",
        Vec::new(),
        vec![budget("1000", "USD", "2022-01-01", "2022-12-31")],
    );
    programme.related_activities = Vec::new();
    // The project names the programme as its parent (the fixture's related activity, type 1).
    let project = activity(
        "XM-DAC-41302-PROJECT",
        Vec::new(),
        vec![budget("600", "USD", "2022-01-01", "2022-12-31")],
    );
    // An orphan whose parent is not stored counts itself, with its revised budget only.
    let mut orphan = activity(
        "XM-DAC-41302-ORPHAN",
        Vec::new(),
        vec![
            budget("100", "USD", "2023-01-01", "2023-12-31"),
            budget("120", "USD", "2023-01-01", "2023-12-31"),
        ],
    );
    orphan.budgets[1].kind = Some("2".to_owned());
    orphan.related_activities = vec![RelatedActivity {
        identifier: "XM-DAC-41302-NOT-STORED".to_owned(),
        kind: Some("1".to_owned()),
    }];
    let mut session = store.begin_import("budgets.xml", 1).await.unwrap();
    for activity in [programme, project, orphan] {
        session.add_activity(activity).await.unwrap();
    }
    session.commit(0).await.unwrap();
    let figure = store.portfolio_budget(Period::Year(2022)).await.unwrap();
    assert_eq!(figure.value, decimal("1000"));
    let figure = store.portfolio_budget(Period::Year(2023)).await.unwrap();
    assert_eq!(figure.value, decimal("120"));
    let portfolio = store.portfolio(Period::Year(2023)).await.unwrap();
    // All three run in 2023 (the fixture's dates), programme and project counted alike.
    assert_eq!(portfolio.value.programmes_active, 3);
    assert_eq!(portfolio.value.countries, 1);
}
