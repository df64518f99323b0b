//! What the JSON API reads and keeps in the store, told once and run on each backend (SQLite
//! always, PostgreSQL when `COOPFOLIO_TEST_POSTGRES_URL` is set): API tokens (only their hash
//! kept, the user's role read afresh, revocation, last use, the audit log) and agreements as
//! the public and as staff see them.

use coopfolio_core::modality::Modality;
use coopfolio_core::partnership::{
    Agreement, AgreementPartner, AgreementStatus, Earmark, EarmarkTarget, Partner,
};
use coopfolio_core::reference::Names;
use coopfolio_core::value::CurrencyCode;
use coopfolio_store::api::Visibility;
use coopfolio_store::staff::{AuditFilter, Role};
use coopfolio_store::{PartnershipRecords, Store, StoreError};

use crate::support::{decimal, sqlite_store, TestDatabase};

#[tokio::test]
async fn api_story_on_sqlite() {
    let (store, _url, _folder) = sqlite_store().await;
    token_story(&store).await;
    agreement_story(&store).await;
    store.close().await;
}

#[tokio::test]
async fn api_story_on_postgres() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let store = Store::connect(&database.url).await.expect("connecting");
    token_story(&store).await;
    agreement_story(&store).await;
    store.close().await;
    database.drop_database().await;
}

async fn token_story(store: &Store) {
    store
        .add_staff_user(
            "reader@example.org",
            Role::Viewer,
            "a long enough passphrase",
            "test",
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_api_token("nobody@example.org", None, "test")
            .await,
        Err(StoreError::NotFound { .. })
    ));
    let made = store
        .create_api_token(" Reader@Example.org ", Some("dashboard"), "cli")
        .await
        .unwrap();
    assert!(made.secret.starts_with("cfp_") && made.secret.len() == 68);
    assert!(made.secret.starts_with(&made.token.shown));
    assert_eq!(made.token.name, "dashboard");
    assert_eq!(made.token.role, Role::Viewer);
    assert_eq!(made.token.last_used_at, None);
    let unnamed = store
        .create_api_token("reader@example.org", None, "cli")
        .await
        .unwrap();
    assert!(
        unnamed.token.name.starts_with("made 20"),
        "{}",
        unnamed.token.name
    );
    assert_ne!(unnamed.secret, made.secret);

    // The token opens the account, with the role the user has now.
    let account = store
        .api_token_account(&made.secret)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (account.email.as_str(), account.role),
        ("reader@example.org", Role::Viewer)
    );
    store
        .set_staff_role("reader@example.org", Role::Officer, "cli")
        .await
        .unwrap();
    let account = store
        .api_token_account(&made.secret)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.role, Role::Officer);
    assert!(store.api_token_account("cfp_0000").await.unwrap().is_none());
    let listed = store.api_tokens().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed[0].last_used_at.is_some(), "the use was recorded");
    // Only the hash is kept: no column holds the secret.
    assert!(!format!("{listed:?}").contains(&made.secret));

    let revoked = store.revoke_api_token(made.token.id, "cli").await.unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(store
        .api_token_account(&made.secret)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .api_token_account(&unnamed.secret)
        .await
        .unwrap()
        .is_some());
    // Revoking again keeps the first time and writes nothing more.
    let again = store.revoke_api_token(made.token.id, "cli").await.unwrap();
    assert_eq!(again.revoked_at, revoked.revoked_at);
    assert!(matches!(
        store.revoke_api_token(9999, "cli").await,
        Err(StoreError::NotFound { .. })
    ));
    let audit = store
        .audit_events(&AuditFilter {
            entity_kind: Some("api_token".to_owned()),
            page: 1,
            page_size: 50,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = audit.events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["revoke", "create", "create"]);
    assert!(!format!("{audit:?}").contains(&made.secret));
}

fn names(en: &str) -> Names {
    Names {
        en: en.to_owned(),
        fr: format!("{en} (fr)"),
        es: format!("{en} (es)"),
    }
}

fn agreement(key: &str, date: &str, confidential: bool) -> Agreement {
    Agreement {
        key: key.to_owned(),
        title: names(&format!("Agreement {key}")),
        modality: Modality::Earmarked,
        status: AgreementStatus::Signed,
        partners: vec![AgreementPartner {
            partner_key: "api-partner".to_owned(),
            amount: decimal("1000000.50"),
        }],
        signature_date: Some(date.to_owned()),
        start_date: Some(date.to_owned()),
        end_date: None,
        currency: CurrencyCode::parse("EUR").unwrap(),
        amount: decimal("1000000.50"),
        instalments: Vec::new(),
        earmarking: vec![Earmark {
            target: EarmarkTarget::Country("KE".to_owned()),
            amount: decimal("250000"),
        }],
        confidential,
        inquiry_key: None,
        synthetic: false,
    }
}

async fn agreement_story(store: &Store) {
    let partner = Partner {
        key: "api-partner".to_owned(),
        names: names("API Partner"),
        iati_ref: None,
        organisation_type: None,
        country: None,
        group_override: None,
        synthetic: false,
    };
    let agreements = [
        agreement("open-old", "2021-05-01", false),
        agreement("secret", "2022-01-10", true),
        agreement("open-new", "2023-02-01", false),
    ];
    store
        .save_partnership_records(PartnershipRecords {
            partners: &[partner],
            agreements: &agreements,
            ..PartnershipRecords::default()
        })
        .await
        .unwrap();
    let public = store.api_agreements(Visibility::Public).await.unwrap();
    let keys: Vec<&str> = public.agreements.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(
        keys,
        ["open-new", "open-old"],
        "newest first, the secret left out"
    );
    assert_eq!(public.confidential_withheld, 1);
    let first = &public.agreements[0];
    assert_eq!(first.amount, "1000000.5");
    assert_eq!(first.partners[0].partner, "api-partner");
    assert_eq!(first.earmarks[0].kind, "country");
    assert_eq!(first.earmarks[0].amount, "250000");
    assert!(store
        .api_agreement("secret", Visibility::Public)
        .await
        .unwrap()
        .is_none());

    let staff = store.api_agreements(Visibility::Staff).await.unwrap();
    let keys: Vec<&str> = staff.agreements.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys, ["open-new", "secret", "open-old"]);
    assert_eq!(staff.confidential_withheld, 0);
    let secret = store
        .api_agreement("secret", Visibility::Staff)
        .await
        .unwrap()
        .unwrap();
    assert!(secret.confidential);
    assert_eq!(secret.currency, "EUR");
}
