//! The queries behind the portal's entity pages, on a few hand-made records: a partner's
//! contributions, agreements and earmarked projects, the partners of a country, a country's
//! budget, partnerships; a confidential agreement counted in the totals and never itemised. Run
//! on SQLite always and on PostgreSQL when `COOPFOLIO_TEST_POSTGRES_URL` is set.

use coopfolio_core::modality::Modality;
use coopfolio_core::partnership::{
    Agreement, AgreementPartner, AgreementStatus, Earmark, EarmarkTarget, Partner, Partnership,
    PartnershipLevel, PartnershipMember,
};
use coopfolio_core::period::Period;
use coopfolio_core::policy_area::PolicyArea;
use coopfolio_core::reference::Names;
use coopfolio_core::value::CurrencyCode;
use coopfolio_store::entities::Scope;
use coopfolio_store::{PartnershipRecords, Store};

use crate::support::{activity, budget, decimal, sqlite_store, TestDatabase};

const PROJECT: &str = "XM-DAC-41302-ENTITIES";

#[tokio::test]
async fn entity_queries_on_sqlite() {
    let (store, _url, _folder) = sqlite_store().await;
    entity_queries(&store).await;
    store.close().await;
}

#[tokio::test]
async fn entity_queries_on_postgres() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let store = Store::connect(&database.url).await.expect("connecting");
    entity_queries(&store).await;
    store.close().await;
    database.drop_database().await;
}

fn names(en: &str) -> Names {
    Names {
        en: en.to_owned(),
        fr: format!("{en} (fr)"),
        es: format!("{en} (es)"),
    }
}

fn partner(key: &str, iati_ref: &str, kind: &str) -> Partner {
    Partner {
        key: key.to_owned(),
        names: names(key),
        iati_ref: Some(iati_ref.to_owned()),
        organisation_type: Some(kind.to_owned()),
        country: None,
        group_override: None,
        synthetic: false,
    }
}

fn agreement(key: &str, partner: &str, amount: &str, earmarking: Vec<Earmark>) -> Agreement {
    Agreement {
        key: key.to_owned(),
        title: names(&format!("Agreement {key}")),
        modality: Modality::Earmarked,
        status: AgreementStatus::Signed,
        partners: vec![AgreementPartner {
            partner_key: partner.to_owned(),
            amount: decimal(amount),
        }],
        signature_date: Some("2022-03-01".to_owned()),
        start_date: Some("2022-03-01".to_owned()),
        end_date: None,
        currency: CurrencyCode::parse("USD").unwrap(),
        amount: decimal(amount),
        instalments: Vec::new(),
        earmarking,
        confidential: false,
        inquiry_key: None,
        synthetic: false,
    }
}

async fn entity_queries(store: &Store) {
    let mut import = store.begin_import("entities.xml", 1).await.unwrap();
    import
        .add_activity(activity(
            PROJECT,
            Vec::new(),
            vec![budget("1000", "USD", "2023-01-01", "2023-12-31")],
        ))
        .await
        .unwrap();
    import.commit(0).await.unwrap();

    let partners = [
        // GB-GOV-1 is the funding organisation the activity names.
        partner("uk", "GB-GOV-1", "10"),
        partner("unicef", "XM-DAC-41122", "40"),
    ];
    let earmark = |target: EarmarkTarget| Earmark {
        target,
        amount: decimal("10"),
    };
    let public = agreement(
        "public",
        "uk",
        "100",
        vec![
            earmark(EarmarkTarget::Project(PROJECT.to_owned())),
            earmark(EarmarkTarget::Country("KE".to_owned())),
        ],
    );
    let mut secret = agreement(
        "secret",
        "unicef",
        "40",
        vec![
            earmark(EarmarkTarget::Project(PROJECT.to_owned())),
            earmark(EarmarkTarget::Country("KE".to_owned())),
        ],
    );
    secret.confidential = true;
    let partnerships = [Partnership {
        key: "alliance".to_owned(),
        name: names("Alliance"),
        level: PartnershipLevel::Global,
        policy_areas: vec![PolicyArea::SocialProtection],
        members: vec![
            PartnershipMember {
                partner_key: "unicef".to_owned(),
                role: "chair".to_owned(),
            },
            PartnershipMember {
                partner_key: "uk".to_owned(),
                role: "funding member".to_owned(),
            },
        ],
        synthetic: false,
    }];
    store
        .save_partnership_records(PartnershipRecords {
            partners: &partners,
            agreements: &[public, secret],
            partnerships: &partnerships,
            ..PartnershipRecords::default()
        })
        .await
        .expect("saving");

    // The confidential agreement counts in the totals, and says so.
    let list = store
        .partners(None, Some(Period::Biennium(2022)))
        .await
        .unwrap();
    let total = |key: &str| {
        list.value
            .iter()
            .find(|partner| partner.key == key)
            .unwrap()
            .total_usd
    };
    assert_eq!(total("uk"), decimal("100"));
    assert_eq!(total("unicef"), decimal("40"));
    assert_eq!(list.method.withheld.confidential_agreements, 1);
    let earlier = store
        .partners(None, Some(Period::Biennium(2020)))
        .await
        .unwrap();
    assert!(earlier
        .value
        .iter()
        .all(|partner| partner.total_usd.is_zero()));
    let united_nations = store
        .partners(
            Some(coopfolio_core::partner_group::PartnerGroup::UnitedNations),
            None,
        )
        .await
        .unwrap();
    assert_eq!(united_nations.value.len(), 1);

    // ...but is never itemised: no agreement, no earmarked project, no link to a country.
    let unicef = store.partner("unicef", "fr").await.unwrap().unwrap();
    assert!(unicef.agreements.is_empty());
    assert!(unicef.earmarked_projects.is_empty());
    assert_eq!(unicef.contributions.value.len(), 1);
    assert_eq!(unicef.contributions.value[0].period, "2022-23");
    assert_eq!(unicef.contributions.value[0].usd, decimal("40"));
    assert_eq!(
        unicef.contributions.method.withheld.confidential_agreements,
        1
    );
    assert_eq!(unicef.partnerships[0].role, "chair");
    assert_eq!(
        unicef.rollup.as_ref().map(|r| r.0.as_str()),
        Some("united-nations")
    );

    let uk = store.partner("uk", "fr").await.unwrap().unwrap();
    assert_eq!(uk.group, "government");
    assert_eq!(uk.agreements.len(), 1);
    assert_eq!(uk.agreements[0].share, decimal("100"));
    assert_eq!(uk.agreements[0].share_usd, Some(decimal("100")));
    assert_eq!(uk.earmarked_projects.len(), 1);
    // The title in the language asked for.
    assert_eq!(
        uk.earmarked_projects[0].title.as_deref(),
        Some(format!("Projet travail décent {PROJECT}").as_str())
    );
    assert!(store.partner("nobody", "en").await.unwrap().is_none());

    // Kenya: the public earmark names the UK, the confidential one names nobody.
    let kenya = store.place(Scope::Country("KE")).await.unwrap();
    let keys: Vec<&str> = kenya.partners.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["uk"]);
    assert!(kenya.countries.is_empty());
    // Bangladesh: the activity's funding organisation is the UK's identifier.
    let bangladesh = store.place(Scope::Country("BD")).await.unwrap();
    let keys: Vec<&str> = bangladesh.partners.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["uk"]);
    assert_eq!(bangladesh.countries, [("BD".to_owned(), 1)]);
    let area = store
        .place(Scope::PolicyArea(PolicyArea::SocialProtection))
        .await
        .unwrap();
    assert_eq!(area.countries, [("BD".to_owned(), 1)]);

    let budget = store.country_budget("BD").await.unwrap();
    assert_eq!(budget.value.len(), 1);
    assert_eq!(budget.value[0].year, 2023);
    assert_eq!(budget.value[0].usd, decimal("1000"));
    assert!(store.country_budget("KE").await.unwrap().value.is_empty());

    let listed = store.partnerships().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].members, 2);
    assert_eq!(listed[0].policy_areas, ["social_protection"]);
    let alliance = store.partnership("alliance").await.unwrap().unwrap();
    let members: Vec<(&str, &str)> = alliance
        .members
        .iter()
        .map(|m| (m.partner_key.as_str(), m.role.as_str()))
        .collect();
    assert_eq!(members, [("unicef", "chair"), ("uk", "funding member")]);
    assert!(store.partnership("none").await.unwrap().is_none());
}
