//! Staff accounts, sessions, the lock-out and the audit log, told once and run on each backend:
//! SQLite always, PostgreSQL when `COOPFOLIO_TEST_POSTGRES_URL` is set.

use std::time::Duration;

use coopfolio_core::partnership::{Inquiry, InquiryKind, InquiryStage};
use coopfolio_store::staff::{AuditFilter, LoginOutcome, LoginPolicy, Role};
use coopfolio_store::{PartnershipRecords, Store, StoreError};

use crate::support::{sqlite_store, TestDatabase};

#[tokio::test]
async fn staff_story_on_sqlite() {
    let (store, _url, _folder) = sqlite_store().await;
    staff_story(&store).await;
    pipeline_story(&store).await;
    store.close().await;
}

#[tokio::test]
async fn staff_story_on_postgres() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let store = Store::connect(&database.url).await.expect("connecting");
    staff_story(&store).await;
    pipeline_story(&store).await;
    store.close().await;
    database.drop_database().await;
}

const PASSWORD: &str = "a long enough passphrase";

async fn staff_story(store: &Store) {
    let policy = LoginPolicy {
        failures_before_lockout: 3,
        failures_per_address: 6,
        ..LoginPolicy::default()
    };
    let admin = store
        .add_staff_user(
            " Admin@Example.ORG ",
            Role::Admin,
            PASSWORD,
            "command line (test)",
        )
        .await
        .expect("adding the first administrator");
    assert_eq!(admin.email, "admin@example.org");
    assert!(matches!(
        store
            .add_staff_user("admin@example.org", Role::Viewer, PASSWORD, "test")
            .await,
        Err(StoreError::Invalid { field: "email", .. })
    ));
    assert!(matches!(
        store
            .add_staff_user("viewer@example.org", Role::Viewer, "too short", "test")
            .await,
        Err(StoreError::Invalid {
            field: "password",
            ..
        })
    ));
    store
        .add_staff_user(
            "viewer@example.org",
            Role::Viewer,
            PASSWORD,
            "admin@example.org",
        )
        .await
        .expect("adding a viewer");

    // A right password opens a session that its token finds again; a wrong one does not.
    let LoginOutcome::Opened(session) = store
        .log_in("ADMIN@example.org", PASSWORD, "192.0.2.1", &policy)
        .await
        .unwrap()
    else {
        panic!("the right password was refused");
    };
    let active = store
        .staff_session(&session.token, &policy)
        .await
        .unwrap()
        .expect("the session is open");
    assert_eq!(active.account.role, Role::Admin);
    assert_eq!(active.csrf_token, session.csrf_token);
    assert_eq!(
        store.staff_session("not-a-token", &policy).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .log_in("nobody@example.org", PASSWORD, "192.0.2.1", &policy)
            .await
            .unwrap(),
        LoginOutcome::Refused
    );

    // Three wrong passwords lock the account; then even the right one is refused.
    for attempt in 1..=3 {
        let outcome = store
            .log_in(
                "viewer@example.org",
                "wrong password!!",
                "192.0.2.2",
                &policy,
            )
            .await
            .unwrap();
        match attempt {
            3 => assert!(
                matches!(outcome, LoginOutcome::Locked { .. }),
                "{outcome:?}"
            ),
            _ => assert_eq!(outcome, LoginOutcome::Refused),
        }
    }
    assert!(matches!(
        store
            .log_in("viewer@example.org", PASSWORD, "192.0.2.3", &policy)
            .await
            .unwrap(),
        LoginOutcome::Locked { .. }
    ));

    // The address that failed three times is stopped after three more failures.
    for _ in 0..3 {
        store
            .log_in("nobody@example.org", "x", "192.0.2.2", &policy)
            .await
            .unwrap();
    }
    assert_eq!(
        store
            .log_in("admin@example.org", PASSWORD, "192.0.2.2", &policy)
            .await
            .unwrap(),
        LoginOutcome::TooManyAttempts
    );

    // A role change reaches the open session at once. Another administrator comes first: the
    // last one could not step down.
    store
        .add_staff_user("deputy@example.org", Role::Admin, PASSWORD, "test")
        .await
        .unwrap();
    store
        .set_staff_role("admin@example.org", Role::Officer, "command line (test)")
        .await
        .unwrap();
    let active = store
        .staff_session(&session.token, &policy)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(active.account.role, Role::Officer);

    // A password change needs the current password and keeps only the session that made it.
    let LoginOutcome::Opened(other) = store
        .log_in("admin@example.org", PASSWORD, "192.0.2.9", &policy)
        .await
        .unwrap()
    else {
        panic!("second session");
    };
    assert!(!store
        .change_staff_password(
            admin.id,
            "not the password",
            "another long passphrase",
            &session.token
        )
        .await
        .unwrap());
    assert!(store
        .change_staff_password(
            admin.id,
            PASSWORD,
            "another long passphrase",
            &session.token
        )
        .await
        .unwrap());
    assert!(store
        .staff_session(&session.token, &policy)
        .await
        .unwrap()
        .is_some());
    assert!(store
        .staff_session(&other.token, &policy)
        .await
        .unwrap()
        .is_none());

    // An idle session ends: with no idle time allowed, the next request finds nothing.
    let strict = LoginPolicy {
        idle_timeout: Duration::ZERO,
        ..policy
    };
    assert!(store
        .staff_session(&session.token, &strict)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .staff_session(&session.token, &policy)
        .await
        .unwrap()
        .is_none());

    // The audit log holds every change, newest first, and filters by actor and kind.
    let all = store
        .audit_events(&AuditFilter {
            page: 1,
            page_size: 50,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = all
        .events
        .iter()
        .map(|event| event.action.as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "change_password",
            "set_role",
            "create",
            "lock_out",
            "create",
            "create"
        ]
    );
    assert!(all.events.iter().all(|event| !event
        .after
        .as_deref()
        .unwrap_or("")
        .contains("passphrase")));
    let by_cli = store
        .audit_events(&AuditFilter {
            actor: Some("command line (test)".into()),
            page: 1,
            page_size: 1,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(by_cli.total, 2);
    assert_eq!(by_cli.events.len(), 1);
    let none_tomorrow = store
        .audit_events(&AuditFilter {
            from_date: Some("2999-01-01".into()),
            page: 1,
            page_size: 50,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(none_tomorrow.total, 0);
}

fn inquiry(key: &str, received_at: &str) -> Inquiry {
    Inquiry {
        key: key.to_owned(),
        kind: InquiryKind::PartnershipIdea,
        name: "Awa Ndiaye".to_owned(),
        email: "awa@example.org".to_owned(),
        organisation: "Fondation Rurale".to_owned(),
        partner_group: None,
        country: Some("SN".to_owned()),
        policy_areas: Vec::new(),
        message: "We would like to talk.".to_owned(),
        consent: true,
        received_at: received_at.to_owned(),
        stage: InquiryStage::Received,
        events: Vec::new(),
        first_response_at: None,
        partner_key: None,
        agreement_key: None,
        synthetic: false,
    }
}

/// Staff work two inquiries: moves and notes are recorded in the history and the audit log,
/// the first of them is the first response, and the figures count what happened.
async fn pipeline_story(store: &Store) {
    let inquiries = [
        inquiry("inq-1", "2024-01-01T00:00:00Z"),
        inquiry("inq-2", "2024-01-02T00:00:00Z"),
    ];
    store
        .save_partnership_records(PartnershipRecords {
            inquiries: &inquiries,
            ..PartnershipRecords::default()
        })
        .await
        .expect("saving inquiries");
    let before = store.pipeline_figures().await.unwrap();
    assert_eq!((before.inquiries, before.responded), (2, 0));
    assert_eq!(before.median_first_response_hours, None);

    store
        .move_inquiry(
            "inq-1",
            InquiryStage::Triaged,
            "Routed.",
            "viewer@example.org",
        )
        .await
        .unwrap();
    store
        .move_inquiry("inq-1", InquiryStage::ConceptNote, "", "viewer@example.org")
        .await
        .unwrap();
    assert!(matches!(
        store
            .move_inquiry("inq-1", InquiryStage::ConceptNote, "", "viewer@example.org")
            .await,
        Err(StoreError::Invalid { field: "stage", .. })
    ));
    store
        .annotate_inquiry(
            "inq-2",
            "Called back; <b>no answer</b>.",
            "admin@example.org",
        )
        .await
        .unwrap();
    assert!(matches!(
        store.annotate_inquiry("nope", "x", "a").await,
        Err(StoreError::NotFound { .. })
    ));
    store
        .assign_inquiry("inq-1", Some("Viewer@example.org"), "admin@example.org")
        .await
        .unwrap();
    assert!(store
        .assign_inquiry("inq-1", Some("stranger@example.org"), "admin@example.org")
        .await
        .is_err());
    let partner_key = store
        .create_partner_from_inquiry("inq-1", "admin@example.org")
        .await
        .unwrap();
    assert_eq!(partner_key, "fondation-rurale");
    let second = store
        .create_partner_from_inquiry("inq-2", "admin@example.org")
        .await
        .unwrap();
    assert_eq!(second, "fondation-rurale-2");

    let one = store.staff_inquiry("inq-1").await.unwrap().unwrap();
    assert_eq!(one.stage, "concept_note");
    assert_eq!(one.assigned_to.as_deref(), Some("viewer@example.org"));
    assert_eq!(
        one.partner.as_ref().map(|p| p.0.as_str()),
        Some("fondation-rurale")
    );
    let history: Vec<(&str, &str, &str)> = one
        .events
        .iter()
        .map(|e| {
            (
                e.from_stage.as_str(),
                e.to_stage.as_str(),
                e.by_user.as_str(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            ("received", "triaged", "viewer@example.org"),
            ("triaged", "concept_note", "viewer@example.org")
        ]
    );
    assert_eq!(
        one.first_response_at.as_deref(),
        Some(one.events[0].at.as_str())
    );
    let two = store.staff_inquiry("inq-2").await.unwrap().unwrap();
    assert_eq!(two.stage, "received");
    assert_eq!(two.events[0].note, "Called back; <b>no answer</b>.");

    let figures = store.pipeline_figures().await.unwrap();
    assert_eq!((figures.inquiries, figures.responded), (2, 2));
    assert!(figures.median_first_response_hours.unwrap() > rust_decimal::Decimal::ZERO);
    let conversions: Vec<(u64, u64)> = figures
        .conversions
        .iter()
        .map(|c| (c.reached_from, c.reached_to))
        .collect();
    // inq-1 skipped in_dialogue but reached concept_note, so it counts as having passed it.
    assert_eq!(
        conversions,
        [(2, 1), (1, 1), (1, 1), (1, 0), (0, 0), (0, 0)]
    );
    assert_eq!(figures.conversions[5].percent, None);

    let inquiry_events = store
        .audit_events(&AuditFilter {
            entity_kind: Some("inquiry".into()),
            page: 1,
            page_size: 50,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    let mut actions: Vec<&str> = inquiry_events
        .events
        .iter()
        .map(|e| e.action.as_str())
        .collect();
    actions.sort_unstable();
    assert_eq!(
        actions,
        [
            "annotate",
            "assign",
            "link_partner",
            "link_partner",
            "move",
            "move"
        ]
    );
}
