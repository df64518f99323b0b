//! Staff operations on each backend: the outbox written with a new inquiry and claimed by
//! concurrent senders without any message going out twice, retries after a failure, disabled
//! accounts and the last administrator, pruning old login attempts, and an import job's life.

use std::collections::HashSet;
use std::time::Duration;

use coopfolio_core::partnership::InquiryKind;
use coopfolio_store::import_job::ImportJobState;
use coopfolio_store::inquiry::NewInquiry;
use coopfolio_store::staff::{LoginOutcome, LoginPolicy, Role};
use coopfolio_store::{ImportRunSummary, Store, StoreError};

use crate::support::{sqlite_store, TestDatabase};

const PASSWORD: &str = "a long enough passphrase";

#[tokio::test]
async fn staff_operations_on_sqlite() {
    let (store, _url, _folder) = sqlite_store().await;
    staff_operations(&store).await;
    store.close().await;
}

#[tokio::test]
async fn staff_operations_on_postgres() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let store = Store::connect(&database.url)
        .await
        .expect("connecting to the test database");
    staff_operations(&store).await;
    store.close().await;
    database.drop_database().await;
}

async fn staff_operations(store: &Store) {
    for (email, role) in [
        ("viewer@example.org", Role::Viewer),
        ("officer@example.org", Role::Officer),
        ("admin@example.org", Role::Admin),
        ("gone@example.org", Role::Officer),
    ] {
        store
            .add_staff_user(email, role, PASSWORD, "test")
            .await
            .expect("adding a user");
    }
    store
        .set_staff_disabled("gone@example.org", true, "admin@example.org")
        .await
        .expect("disabling an officer");

    outbox(store).await;
    accounts(store).await;
    import_job(store).await;
}

async fn outbox(store: &Store) {
    let reference = store
        .receive_inquiry(&NewInquiry {
            kind: InquiryKind::PartnershipIdea,
            name: "Kofi Mensah".into(),
            email: "kofi@example.org".into(),
            organisation: "Accra Workers' Union".into(),
            partner_group: None,
            country: None,
            policy_areas: Vec::new(),
            message: "Subject: forged\r\nBcc: everyone@example.org\r\n\r\nHello".into(),
        })
        .await
        .expect("storing an inquiry");
    let messages = store.outbox_messages(100).await.unwrap();
    let mut recipients: Vec<&str> = messages.iter().map(|m| m.recipient.as_str()).collect();
    recipients.sort_unstable();
    // Officers and administrators, not the viewer, nor the disabled officer.
    assert_eq!(recipients, ["admin@example.org", "officer@example.org"]);
    for message in &messages {
        assert_eq!(message.about, reference);
        assert_eq!(message.subject, format!("New inquiry {reference}"));
        assert!(message.body.contains("Accra Workers' Union"));
        assert_eq!(message.state, "pending");
    }

    // Four senders at once share the two messages out; none is claimed twice.
    let claims = futures_join(store).await;
    let claimed: Vec<i64> = claims.iter().flatten().map(|m| m.id).collect();
    let unique: HashSet<i64> = claimed.iter().copied().collect();
    assert_eq!(claimed.len(), 2, "{claims:?}");
    assert_eq!(unique.len(), 2);
    // Claimed messages are held for the lease: nothing is due now.
    assert!(store.claim_due_messages(10).await.unwrap().is_empty());

    let mut claimed = claims.into_iter().flatten();
    let sent = claimed.next().unwrap();
    let failed = claimed.next().unwrap();
    assert_eq!(sent.attempts, 1);
    store.mark_message_sent(sent.id).await.unwrap();
    store
        .mark_message_failed(failed.id, failed.attempts, "421 try again later")
        .await
        .unwrap();
    let messages = store.outbox_messages(100).await.unwrap();
    let by_id = |id| messages.iter().find(|m| m.id == id).unwrap();
    assert_eq!(by_id(sent.id).state, "sent");
    assert!(by_id(sent.id).sent_at.is_some());
    assert_eq!(by_id(failed.id).state, "pending");
    assert_eq!(
        by_id(failed.id).last_error.as_deref(),
        Some("421 try again later")
    );
    // The failed one waits a minute before its next attempt.
    assert!(by_id(failed.id).next_attempt_at > by_id(failed.id).created_at);
    assert!(store.claim_due_messages(10).await.unwrap().is_empty());
}

/// Four claims started together on the same store.
async fn futures_join(store: &Store) -> Vec<Vec<coopfolio_store::outbox::ClaimedMessage>> {
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.claim_due_messages(1).await.unwrap() })
        })
        .collect();
    let mut claims = Vec::new();
    for handle in handles {
        claims.push(handle.await.unwrap());
    }
    claims
}

async fn accounts(store: &Store) {
    let policy = LoginPolicy::default();
    // A disabled account is refused with the right password.
    let outcome = store
        .log_in("gone@example.org", PASSWORD, "192.0.2.1", &policy)
        .await
        .unwrap();
    assert_eq!(outcome, LoginOutcome::Refused);

    // Disabling ends the sessions already open.
    let LoginOutcome::Opened(session) = store
        .log_in("officer@example.org", PASSWORD, "192.0.2.1", &policy)
        .await
        .unwrap()
    else {
        panic!("the officer logs in");
    };
    assert!(store
        .staff_session(&session.token, &policy)
        .await
        .unwrap()
        .is_some());
    let account = store
        .set_staff_disabled("officer@example.org", true, "admin@example.org")
        .await
        .unwrap();
    assert!(account.disabled_at.is_some());
    assert!(store
        .staff_session(&session.token, &policy)
        .await
        .unwrap()
        .is_none());
    store
        .set_staff_disabled("officer@example.org", false, "admin@example.org")
        .await
        .unwrap();
    assert!(matches!(
        store
            .log_in("officer@example.org", PASSWORD, "192.0.2.1", &policy)
            .await
            .unwrap(),
        LoginOutcome::Opened(_)
    ));

    // The last administrator can be neither disabled nor demoted.
    let last_admin = |result: Result<_, StoreError>| {
        let refused = matches!(result, Err(StoreError::Invalid { field: "role", .. }));
        if !refused {
            println!("not refused: {result:?}");
        }
        refused
    };
    assert!(last_admin(
        store
            .set_staff_disabled("admin@example.org", true, "admin@example.org")
            .await
    ));
    assert!(last_admin(
        store
            .set_staff_role("admin@example.org", Role::Officer, "admin@example.org")
            .await
    ));
    // With a second administrator, the first may step down, and the second is then the last.
    store
        .set_staff_role("viewer@example.org", Role::Admin, "admin@example.org")
        .await
        .unwrap();
    store
        .set_staff_role("admin@example.org", Role::Officer, "admin@example.org")
        .await
        .unwrap();
    assert!(last_admin(
        store
            .set_staff_disabled("viewer@example.org", true, "viewer@example.org")
            .await
    ));
    store
        .set_staff_role("admin@example.org", Role::Admin, "viewer@example.org")
        .await
        .unwrap();

    // Each change is in the audit log.
    let page = store
        .audit_events(&coopfolio_store::staff::AuditFilter {
            entity_kind: Some("user".into()),
            page: 1,
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = page.events.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.contains(&"disable") && actions.contains(&"enable"),
        "{actions:?}"
    );

    // Pruning keeps the attempts within the window and removes the older ones.
    let before = store.login_attempt_count().await.unwrap();
    assert!(before >= 2);
    store.prune_staff_records(&policy).await.unwrap();
    assert_eq!(store.login_attempt_count().await.unwrap(), before);
    let no_window = LoginPolicy {
        address_window: Duration::ZERO,
        ..policy
    };
    tokio::time::sleep(Duration::from_millis(5)).await;
    store.prune_staff_records(&no_window).await.unwrap();
    assert_eq!(store.login_attempt_count().await.unwrap(), 0);
}

async fn import_job(store: &Store) {
    let files = [("one.xml".to_owned(), 1000), ("two.xml".to_owned(), 500)];
    let id = store
        .create_import_job("admin@example.org", &files)
        .await
        .unwrap();
    let (job, listed) = store.import_job(id).await.unwrap().unwrap();
    assert_eq!(job.state, ImportJobState::Queued);
    assert_eq!((job.bytes_total, job.files_total), (1500, 2));
    assert_eq!(listed[1].file_name, "two.xml");
    store
        .record_import_job_progress(id, ImportJobState::Running, 700)
        .await
        .unwrap();
    let session = store.begin_import("one.xml", 1000).await.unwrap();
    let summary: ImportRunSummary = session.commit(0).await.unwrap();
    store
        .record_import_job_file(id, 0, &summary, false)
        .await
        .unwrap();
    store
        .finish_import_job(id, ImportJobState::Failed, Some("the database went away"))
        .await
        .unwrap();
    // A progress write arriving after the end changes nothing.
    store
        .record_import_job_progress(id, ImportJobState::Running, 900)
        .await
        .unwrap();
    let (job, listed) = store.import_job(id).await.unwrap().unwrap();
    assert_eq!(job.state, ImportJobState::Failed);
    assert_eq!(job.files_done, 1);
    // A failed job keeps the bytes it had read; only a finished one counts them all.
    assert_eq!(job.bytes_done, 700);
    assert_eq!(job.message.as_deref(), Some("the database went away"));
    assert_eq!(listed[0].import_run_id, Some(summary.import_run_id));
    assert_eq!(listed[1].import_run_id, None);
    assert_eq!(store.import_jobs(10).await.unwrap()[0].id, id);
    assert!(store.import_job(id + 1000).await.unwrap().is_none());
}
