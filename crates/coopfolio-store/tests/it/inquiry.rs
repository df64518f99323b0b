//! Inquiries from the contact form on each backend: stored at `received` under a reference
//! made from the row, read back by it, and the per-address limit that refuses a flood and lets
//! the client in again once the window has passed.

use std::time::{Duration, SystemTime};

use coopfolio_core::partner_group::PartnerGroup;
use coopfolio_core::partnership::{InquiryKind, InquiryStage};
use coopfolio_core::policy_area::PolicyArea;
use coopfolio_store::inquiry::{Admission, NewInquiry, SendLimit};
use coopfolio_store::Store;

use crate::support::{sqlite_store, TestDatabase};

#[tokio::test]
async fn inquiries_on_sqlite() {
    let (store, _url, _folder) = sqlite_store().await;
    inquiries(&store).await;
    store.close().await;
}

#[tokio::test]
async fn inquiries_on_postgres() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let store = Store::connect(&database.url)
        .await
        .expect("connecting to the test database");
    inquiries(&store).await;
    store.close().await;
    database.drop_database().await;
}

async fn inquiries(store: &Store) {
    let inquiry = NewInquiry {
        kind: InquiryKind::DevelopmentProject,
        name: "Kofi Mensah".into(),
        email: "kofi@example.org".into(),
        organisation: "Accra Workers' Union".into(),
        partner_group: Some(PartnerGroup::SocialPartner),
        country: Some("GH".into()),
        // Given out of order and twice: stored once each, in code order.
        policy_areas: vec![
            PolicyArea::SocialProtection,
            PolicyArea::Employment,
            PolicyArea::SocialProtection,
        ],
        message: "A proposal on\nsocial security for informal workers.".into(),
    };
    assert_eq!(store.inquiry_count().await.unwrap(), 0);
    let first = store.receive_inquiry(&inquiry).await.unwrap();
    let without_extras = NewInquiry {
        partner_group: None,
        country: None,
        policy_areas: Vec::new(),
        ..inquiry.clone()
    };
    let second = store.receive_inquiry(&without_extras).await.unwrap();
    assert_ne!(first, second);
    for reference in [&first, &second] {
        let (year, number) = reference
            .strip_prefix("INQ-")
            .and_then(|rest| rest.split_once('-'))
            .unwrap_or_else(|| panic!("{reference}"));
        assert!(year.parse::<u32>().unwrap() >= 2024, "{reference}");
        assert_eq!(number.len(), 6, "{reference}");
    }
    assert_eq!(store.inquiry_count().await.unwrap(), 2);

    let stored = store
        .inquiry_by_reference(&first)
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(stored.reference, first);
    assert_eq!(stored.stage, InquiryStage::Received);
    assert_eq!(stored.kind, inquiry.kind);
    assert_eq!(stored.name, inquiry.name);
    assert_eq!(stored.email, inquiry.email);
    assert_eq!(stored.organisation, inquiry.organisation);
    assert_eq!(stored.partner_group, inquiry.partner_group);
    assert_eq!(stored.country, inquiry.country);
    assert_eq!(
        stored.policy_areas,
        [PolicyArea::Employment, PolicyArea::SocialProtection]
    );
    assert_eq!(stored.message, inquiry.message);
    assert!(stored.consent);
    assert!(stored.received_at.starts_with(&first[4..8]));
    let bare = store.inquiry_by_reference(&second).await.unwrap().unwrap();
    assert_eq!((bare.partner_group, bare.country), (None, None));
    assert!(bare.policy_areas.is_empty());
    assert!(store
        .inquiry_by_reference("INQ-1999-000001")
        .await
        .unwrap()
        .is_none());

    // Two sends an hour per address: the third is refused until the first leaves the window.
    let limit = SendLimit {
        sends: 2,
        window: Duration::from_secs(3600),
    };
    let start = SystemTime::now();
    let minutes = |minutes: u64| start + Duration::from_secs(60 * minutes);
    let admit = |address: &'static str, at: SystemTime| {
        let store = store.clone();
        async move {
            store
                .admit_inquiry_send_at(address, limit, at)
                .await
                .unwrap()
        }
    };
    assert_eq!(admit("192.0.2.1", minutes(0)).await, Admission::Admitted);
    assert_eq!(admit("192.0.2.1", minutes(10)).await, Admission::Admitted);
    assert_eq!(
        admit("192.0.2.1", minutes(20)).await,
        Admission::Refused {
            retry_after: Duration::from_secs(40 * 60)
        },
        "the first send leaves the window 40 minutes later"
    );
    assert_eq!(
        admit("192.0.2.2", minutes(20)).await,
        Admission::Admitted,
        "another address has its own allowance"
    );
    // The refused send was not counted: once the first leaves the window, one place is free.
    assert_eq!(admit("192.0.2.1", minutes(61)).await, Admission::Admitted);
    assert!(matches!(
        admit("192.0.2.1", minutes(62)).await,
        Admission::Refused { .. }
    ));
    // On the clock as it is, a new address starts with its whole allowance.
    for _ in 0..limit.sends {
        assert_eq!(
            store.admit_inquiry_send("192.0.2.3", limit).await.unwrap(),
            Admission::Admitted
        );
    }
    assert!(matches!(
        store.admit_inquiry_send("192.0.2.3", limit).await.unwrap(),
        Admission::Refused { .. }
    ));
}
