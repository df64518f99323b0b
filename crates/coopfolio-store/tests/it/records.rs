//! The staff records told once and run on each backend (SQLite always, PostgreSQL when
//! `COOPFOLIO_TEST_POSTGRES_URL` is set): a partner, a partnership, project extras and an
//! agreement with document links made and changed, each read back as saved, with its audit
//! events; a taken key and an edit of a record not stored are refused.

use coopfolio_core::modality::Modality;
use coopfolio_core::partnership::{
    Agreement, AgreementPartner, AgreementStatus, Partner, Partnership, PartnershipLevel,
    PartnershipMember, ProjectExtras, ProjectMarkers,
};
use coopfolio_core::policy_area::PolicyArea;
use coopfolio_core::reference::Names;
use coopfolio_core::value::CurrencyCode;
use coopfolio_store::records::{AgreementDocument, PartnerFilter, SaveMode};
use coopfolio_store::staff::AuditFilter;
use coopfolio_store::{Store, StoreError};
use rust_decimal::Decimal;

use crate::support::{sqlite_store, TestDatabase};

#[tokio::test]
async fn records_story_on_sqlite() {
    let (store, _url, _folder) = sqlite_store().await;
    records_story(&store).await;
    store.close().await;
}

#[tokio::test]
async fn records_story_on_postgres() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let store = Store::connect(&database.url).await.expect("connecting");
    records_story(&store).await;
    store.close().await;
    database.drop_database().await;
}

fn names(text: &str) -> Names {
    Names {
        en: text.to_owned(),
        fr: format!("{text} (fr)"),
        es: format!("{text} (es)"),
    }
}

async fn records_story(store: &Store) {
    let actor = "officer@example.org";
    let mut partner = Partner {
        key: "ilo-friends".to_owned(),
        names: names("Friends of Decent Work"),
        iati_ref: Some("XM-DAC-41302".to_owned()),
        organisation_type: Some("40".to_owned()),
        country: None,
        group_override: None,
        synthetic: false,
    };
    store
        .save_staff_partner(&partner, SaveMode::Create, actor)
        .await
        .unwrap();
    let taken = store
        .save_staff_partner(&partner, SaveMode::Create, actor)
        .await;
    assert!(
        matches!(taken, Err(StoreError::Invalid { field: "key", .. })),
        "{taken:?}"
    );
    partner.group_override = "foundation".parse().ok();
    store
        .save_staff_partner(&partner, SaveMode::Edit, actor)
        .await
        .unwrap();
    let stored = store.staff_partner("ilo-friends").await.unwrap().unwrap();
    assert_eq!(stored.partner, partner);
    assert_eq!(stored.partner_group, "foundation");
    let found = store
        .staff_partners(&PartnerFilter {
            group: Some("foundation".to_owned()),
            text: Some("decent".to_owned()),
        })
        .await
        .unwrap();
    assert_eq!(found.len(), 1);

    let partnership = Partnership {
        key: "decent-work-alliance".to_owned(),
        name: names("Decent Work Alliance"),
        level: PartnershipLevel::Regional,
        policy_areas: vec![PolicyArea::Employment],
        members: vec![PartnershipMember {
            partner_key: partner.key.clone(),
            role: "chair".to_owned(),
        }],
        synthetic: false,
    };
    store
        .save_staff_partnership(&partnership, SaveMode::Create, actor)
        .await
        .unwrap();
    assert_eq!(
        store.staff_partnership(&partnership.key).await.unwrap(),
        Some(partnership.clone())
    );
    let missing = Partnership {
        key: "not-stored".to_owned(),
        ..partnership
    };
    assert!(matches!(
        store
            .save_staff_partnership(&missing, SaveMode::Edit, actor)
            .await,
        Err(StoreError::NotFound { .. })
    ));

    let extras = ProjectExtras {
        activity_identifier: "XM-EXAMPLE-1".to_owned(),
        policy_areas: vec![PolicyArea::Skills],
        markers: ProjectMarkers {
            triangular: true,
            ..ProjectMarkers::default()
        },
        synthetic: false,
    };
    store
        .save_staff_project_extras(&extras, actor)
        .await
        .unwrap();
    let stored = store.staff_project_extras("XM-EXAMPLE-1").await.unwrap();
    assert_eq!(stored.policy_areas, ["skills"]);
    assert!(stored.markers.triangular);

    let agreement = Agreement {
        key: "friends-2024".to_owned(),
        title: names("Friends grant"),
        modality: Modality::CoreVoluntary,
        status: AgreementStatus::Active,
        partners: vec![AgreementPartner {
            partner_key: partner.key.clone(),
            amount: Decimal::new(1_000_050, 2),
        }],
        signature_date: Some("2024-04-02".to_owned()),
        start_date: None,
        end_date: None,
        currency: CurrencyCode::parse("EUR").unwrap(),
        amount: Decimal::new(1_000_050, 2),
        instalments: Vec::new(),
        earmarking: Vec::new(),
        confidential: true,
        inquiry_key: None,
        synthetic: false,
    };
    let documents = [AgreementDocument {
        url: "https://example.org/friends.pdf".to_owned(),
        label: "Signed text".to_owned(),
    }];
    for mode in [SaveMode::Create, SaveMode::Edit] {
        store
            .save_staff_agreement(&agreement, &documents, mode, actor)
            .await
            .unwrap();
    }
    let stored = store
        .staff_agreement("friends-2024")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.agreement, agreement);
    assert_eq!(stored.documents, documents);

    let events = store
        .audit_events(&AuditFilter {
            page: 1,
            page_size: 50,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    let kinds: Vec<(&str, &str)> = events
        .events
        .iter()
        .map(|e| (e.entity_kind.as_str(), e.action.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("agreement", "edit"),
            ("agreement", "create"),
            ("project", "edit"),
            ("partnership", "create"),
            ("partner", "edit"),
            ("partner", "create"),
        ]
    );
}
