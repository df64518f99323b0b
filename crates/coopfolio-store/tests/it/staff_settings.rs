//! One-time password links, import jobs cut off with their server, and the settings, on each
//! backend. Rows are aged by hand with SQL (a link's expiry, a job's heartbeat, a session's
//! last use) rather than by waiting.

use std::time::Duration;

use coopfolio_store::figures::BIENNIUM_STARTS_EVEN;
use coopfolio_store::import_job::{ImportJobState, SERVER_STOPPED, STALE_AFTER};
use coopfolio_store::inquiry::SendLimit;
use coopfolio_store::settings::Settings;
use coopfolio_store::staff::{AuditEvent, AuditFilter, LoginOutcome, LoginPolicy, Role};
use coopfolio_store::staff_links::{LinkPurpose, LinkRefusal};
use coopfolio_store::{Store, StoreError};

use crate::support::{sqlite_store, TestDatabase};

const PASSWORD: &str = "a long enough passphrase";
const NEW_PASSWORD: &str = "another long passphrase";
/// A time long past, for rows aged by hand.
const LONG_AGO: &str = "2000-01-01T00:00:00.000Z";

#[tokio::test]
async fn links_stale_jobs_and_settings_on_sqlite() {
    let (store, url, _folder) = sqlite_store().await;
    story(&store, &url).await;
    store.close().await;
}

#[tokio::test]
async fn links_stale_jobs_and_settings_on_postgres() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let store = Store::connect(&database.url)
        .await
        .expect("connecting to the test database");
    story(&store, &database.url).await;
    store.close().await;
    database.drop_database().await;
}

async fn story(store: &Store, url: &str) {
    for (email, role) in [
        ("admin@example.org", Role::Admin),
        ("viewer@example.org", Role::Viewer),
        ("officer@example.org", Role::Officer),
    ] {
        store
            .add_staff_user(email, role, PASSWORD, "test")
            .await
            .expect("adding a user");
    }
    welcome_links(store, url).await;
    reset_links(store, url).await;
    stale_import_jobs(store, url).await;
    settings(store, url).await;
}

/// Runs one statement on the database at `url`, outside the store.
async fn execute(url: &str, sql: &str, values: &[&str]) {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.expect("connecting");
        let mut query = sqlx::query(sql);
        for value in values {
            query = query.bind(*value);
        }
        query.execute(&pool).await.expect(sql);
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("connecting");
        let mut query = sqlx::query(sql);
        for value in values {
            query = query.bind(*value);
        }
        query.execute(&pool).await.expect(sql);
        pool.close().await;
    }
}

async fn log_in(store: &Store, email: &str, password: &str) -> LoginOutcome {
    store
        .log_in(email, password, "192.0.2.1", &LoginPolicy::default())
        .await
        .unwrap()
}

async fn audit_events(store: &Store, kind: &str) -> Vec<AuditEvent> {
    store
        .audit_events(&AuditFilter {
            entity_kind: Some(kind.to_owned()),
            page: 1,
            page_size: 100,
            ..AuditFilter::default()
        })
        .await
        .unwrap()
        .events
}

/// The entity key and action of each audit event of a kind.
async fn actions(store: &Store, kind: &str) -> Vec<(String, String)> {
    audit_events(store, kind)
        .await
        .into_iter()
        .map(|event| (event.entity_key, event.action))
        .collect()
}

/// Whether a session last seen years ago is still open under `policy`.
async fn survives_years_idle(store: &Store, url: &str, token: &str, policy: &LoginPolicy) -> bool {
    execute(
        url,
        "UPDATE staff_session SET last_seen_at = $1",
        &[LONG_AGO],
    )
    .await;
    store.staff_session(token, policy).await.unwrap().is_some()
}

async fn welcome_links(store: &Store, url: &str) {
    let (account, link) = store
        .invite_staff_user(
            " New.Person@Example.org",
            Role::Officer,
            "admin@example.org",
        )
        .await
        .unwrap();
    assert_eq!(account.email, "new.person@example.org");
    assert_eq!(link.purpose, LinkPurpose::Welcome);
    assert_eq!(link.token.len(), 64);
    assert_eq!(link.path(), format!("/staff/welcome/{}", link.token));
    // No password opens the account before its link is used, not even an empty one.
    for password in ["", "!", PASSWORD] {
        assert_eq!(
            log_in(store, "new.person@example.org", password).await,
            LoginOutcome::Refused
        );
    }
    assert!(matches!(
        store
            .invite_staff_user("viewer@example.org", Role::Viewer, "admin@example.org")
            .await,
        Err(StoreError::Invalid { field: "email", .. })
    ));
    let open = store.staff_link(&link.token).await.unwrap().unwrap();
    assert_eq!(open.email, "new.person@example.org");
    assert_eq!(open.purpose, LinkPurpose::Welcome);

    // A forged token, and a password too short, change nothing.
    let forged = "0".repeat(64);
    assert_eq!(
        store.staff_link(&forged).await.unwrap(),
        Err(LinkRefusal::Unknown)
    );
    assert_eq!(
        store
            .use_staff_link(&forged, NEW_PASSWORD, &LoginPolicy::default())
            .await
            .unwrap()
            .err(),
        Some(LinkRefusal::Unknown)
    );
    assert!(matches!(
        store
            .use_staff_link(&link.token, "short", &LoginPolicy::default())
            .await,
        Err(StoreError::Invalid {
            field: "password",
            ..
        })
    ));
    assert!(store.staff_link(&link.token).await.unwrap().is_ok());

    // Used once: the password is set and a session opens.
    let session = store
        .use_staff_link(&link.token, NEW_PASSWORD, &LoginPolicy::default())
        .await
        .unwrap()
        .expect("the link works once");
    assert_eq!(session.account.email, "new.person@example.org");
    assert_eq!(session.account.role, Role::Officer);
    assert!(store
        .staff_session(&session.token, &LoginPolicy::default())
        .await
        .unwrap()
        .is_some());
    assert!(matches!(
        log_in(store, "new.person@example.org", NEW_PASSWORD).await,
        LoginOutcome::Opened(_)
    ));
    // Never twice: a second use is refused and its password opens nothing.
    assert_eq!(
        store.staff_link(&link.token).await.unwrap(),
        Err(LinkRefusal::Used)
    );
    assert_eq!(
        store
            .use_staff_link(
                &link.token,
                "a third long passphrase",
                &LoginPolicy::default()
            )
            .await
            .unwrap()
            .err(),
        Some(LinkRefusal::Used)
    );
    assert_eq!(
        log_in(store, "new.person@example.org", "a third long passphrase").await,
        LoginOutcome::Refused
    );
    let audited = actions(store, "user").await;
    for action in ["invite", "set_first_password"] {
        assert!(
            audited.contains(&("new.person@example.org".to_owned(), action.to_owned())),
            "{action}: {audited:?}"
        );
    }

    // An expired link is refused and changes nothing.
    let (_, expiring) = store
        .invite_staff_user("late@example.org", Role::Viewer, "admin@example.org")
        .await
        .unwrap();
    execute(url, "UPDATE staff_link SET expires_at = $1", &[LONG_AGO]).await;
    assert_eq!(
        store.staff_link(&expiring.token).await.unwrap(),
        Err(LinkRefusal::Expired)
    );
    assert_eq!(
        store
            .use_staff_link(&expiring.token, NEW_PASSWORD, &LoginPolicy::default())
            .await
            .unwrap()
            .err(),
        Some(LinkRefusal::Expired)
    );
    assert_eq!(
        log_in(store, "late@example.org", NEW_PASSWORD).await,
        LoginOutcome::Refused
    );
}

async fn reset_links(store: &Store, _url: &str) {
    let LoginOutcome::Opened(before) = log_in(store, "viewer@example.org", PASSWORD).await else {
        panic!("the viewer logs in");
    };
    let first = store
        .issue_password_reset("viewer@example.org", "admin@example.org")
        .await
        .unwrap();
    let second = store
        .issue_password_reset("Viewer@example.org", "admin@example.org")
        .await
        .unwrap();
    assert_eq!(second.purpose, LinkPurpose::Reset);
    // Only the newest link works.
    assert_eq!(
        store.staff_link(&first.token).await.unwrap(),
        Err(LinkRefusal::Unknown)
    );
    assert!(matches!(
        store
            .issue_password_reset("nobody@example.org", "admin@example.org")
            .await,
        Err(StoreError::NotFound { .. })
    ));
    let after = store
        .use_staff_link(&second.token, NEW_PASSWORD, &LoginPolicy::default())
        .await
        .unwrap()
        .expect("the reset link works");
    // The sessions the account had end; the new one is open; the old password is gone.
    assert!(store
        .staff_session(&before.token, &LoginPolicy::default())
        .await
        .unwrap()
        .is_none());
    assert!(store
        .staff_session(&after.token, &LoginPolicy::default())
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        log_in(store, "viewer@example.org", PASSWORD).await,
        LoginOutcome::Refused
    );
    let audited = actions(store, "user").await;
    for action in ["issue_reset_link", "reset_password"] {
        assert!(
            audited.contains(&("viewer@example.org".to_owned(), action.to_owned())),
            "{action}: {audited:?}"
        );
    }

    // Disabling the account ends its link, and enabling it again does not bring it back.
    let link = store
        .issue_password_reset("officer@example.org", "admin@example.org")
        .await
        .unwrap();
    store
        .set_staff_disabled("officer@example.org", true, "admin@example.org")
        .await
        .unwrap();
    assert!(matches!(
        store
            .issue_password_reset("officer@example.org", "admin@example.org")
            .await,
        Err(StoreError::Invalid { field: "email", .. })
    ));
    store
        .set_staff_disabled("officer@example.org", false, "admin@example.org")
        .await
        .unwrap();
    assert_eq!(
        store
            .use_staff_link(&link.token, NEW_PASSWORD, &LoginPolicy::default())
            .await
            .unwrap()
            .err(),
        Some(LinkRefusal::Unknown)
    );
    assert!(matches!(
        log_in(store, "officer@example.org", PASSWORD).await,
        LoginOutcome::Opened(_)
    ));
}

async fn stale_import_jobs(store: &Store, url: &str) {
    let files = [("one.xml".to_owned(), 1000), ("two.xml".to_owned(), 500)];
    let cut_off = store
        .create_import_job("admin@example.org", &files)
        .await
        .unwrap();
    let alive = store
        .create_import_job("admin@example.org", &files)
        .await
        .unwrap();
    let between_files = store
        .create_import_job("admin@example.org", &files)
        .await
        .unwrap();
    for id in [cut_off, alive, between_files] {
        store
            .record_import_job_progress(id, ImportJobState::Running, 100)
            .await
            .unwrap();
    }
    // Years without a heartbeat for two of them.
    let silent_since = LONG_AGO;
    for id in [cut_off, between_files] {
        execute(
            url,
            &format!("UPDATE import_job SET updated_at = $1 WHERE id = {id}"),
            &[silent_since],
        )
        .await;
    }
    // A file recorded is a heartbeat too: the job that just finished a file is alive.
    let session = store.begin_import("one.xml", 1000).await.unwrap();
    let summary = session.commit(0).await.unwrap();
    store
        .record_import_job_file(between_files, 0, &summary, false)
        .await
        .unwrap();
    assert_eq!(
        store.fail_stale_import_jobs(STALE_AFTER).await.unwrap(),
        vec![cut_off]
    );
    let (job, _) = store.import_job(cut_off).await.unwrap().unwrap();
    assert_eq!(job.state, ImportJobState::Failed);
    assert_eq!(job.message.as_deref(), Some(SERVER_STOPPED));
    assert!(job.finished_at.is_some());
    assert_eq!(job.bytes_done, 100);
    for id in [alive, between_files] {
        let (job, _) = store.import_job(id).await.unwrap().unwrap();
        assert_eq!(job.state, ImportJobState::Running, "job {id}");
    }
    // A late heartbeat from the server that was thought gone does not bring the job back,
    // and a second round finds nothing more.
    store
        .record_import_job_progress(cut_off, ImportJobState::Running, 900)
        .await
        .unwrap();
    assert_eq!(
        store.import_job(cut_off).await.unwrap().unwrap().0.state,
        ImportJobState::Failed
    );
    assert!(store
        .fail_stale_import_jobs(STALE_AFTER)
        .await
        .unwrap()
        .is_empty());
    assert!(actions(store, "import")
        .await
        .contains(&(cut_off.to_string(), "fail_stale".to_owned())));
    // A finished job is never touched, however old.
    store
        .finish_import_job(alive, ImportJobState::Finished, None)
        .await
        .unwrap();
    execute(
        url,
        &format!("UPDATE import_job SET updated_at = $1 WHERE id = {alive}"),
        &[silent_since],
    )
    .await;
    assert!(store
        .fail_stale_import_jobs(Duration::from_secs(60))
        .await
        .unwrap()
        .iter()
        .all(|id| *id != alive));
}

async fn settings(store: &Store, url: &str) {
    let defaults = store.settings().await.unwrap();
    assert_eq!(
        defaults,
        Settings {
            biennium_starts_even: true,
            organisation_ref: None,
            inquiry_sends_per_hour: None,
            session_idle_minutes: None,
        }
    );
    let default_limit = SendLimit {
        sends: 5,
        window: Duration::from_secs(3600),
    };
    assert_eq!(
        store.inquiry_send_limit(default_limit).await.unwrap(),
        default_limit
    );

    // Each value is checked, the field named, and nothing saved when one is wrong.
    for (wrong, field) in [
        (
            Settings {
                organisation_ref: Some("XM DAC 41302".to_owned()),
                ..defaults.clone()
            },
            "organisation_ref",
        ),
        (
            Settings {
                inquiry_sends_per_hour: Some(0),
                ..defaults.clone()
            },
            "inquiry_sends_per_hour",
        ),
        (
            Settings {
                session_idle_minutes: Some(100_000),
                biennium_starts_even: false,
                ..defaults.clone()
            },
            "staff_session_idle_minutes",
        ),
    ] {
        match store.save_settings(&wrong, "admin@example.org").await {
            Err(StoreError::Invalid { field: found, .. }) => assert_eq!(found, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert_eq!(store.settings().await.unwrap(), defaults);

    let lenient = LoginPolicy {
        idle_timeout: Duration::from_secs(100 * 365 * 24 * 3600),
        ..LoginPolicy::default()
    };
    let LoginOutcome::Opened(session) = log_in(store, "admin@example.org", PASSWORD).await else {
        panic!("the administrator logs in");
    };
    assert!(survives_years_idle(store, url, &session.token, &lenient).await);

    let chosen = Settings {
        biennium_starts_even: false,
        organisation_ref: Some("XM-DAC-41302".to_owned()),
        inquiry_sends_per_hour: Some(2),
        session_idle_minutes: Some(5),
    };
    let mut changed = store
        .save_settings(&chosen, "admin@example.org")
        .await
        .unwrap();
    changed.sort_unstable();
    assert_eq!(
        changed,
        [
            BIENNIUM_STARTS_EVEN,
            "inquiry_sends_per_hour",
            "organisation_ref",
            "staff_session_idle_minutes"
        ]
    );
    assert_eq!(store.settings().await.unwrap(), chosen);
    // The code reads them: the period rule, the inquiry limit, the session's idle expiry.
    assert!(!store.period_rule().await.unwrap().biennium_starts_even);
    assert_eq!(
        store.inquiry_send_limit(default_limit).await.unwrap().sends,
        2
    );
    // A session idle for years under a policy that allows a century ends all the same: the
    // setting's five minutes decide. (It was kept alive above, before the setting was saved.)
    assert!(!survives_years_idle(store, url, &session.token, &lenient).await);

    // The audit log keeps each change with its value before and after.
    let events = audit_events(store, "setting").await;
    let period = events
        .iter()
        .find(|event| event.entity_key == BIENNIUM_STARTS_EVEN)
        .expect("the period rule's change is audited");
    assert_eq!(period.actor, "admin@example.org");
    assert_eq!(period.before.as_deref(), Some(r#"{"value":"true"}"#));
    assert_eq!(period.after.as_deref(), Some(r#"{"value":"false"}"#));

    // Saving the same values again changes and audits nothing; an empty number goes back to
    // its default.
    assert!(store
        .save_settings(&chosen, "admin@example.org")
        .await
        .unwrap()
        .is_empty());
    let back = Settings {
        inquiry_sends_per_hour: None,
        ..chosen
    };
    assert_eq!(
        store
            .save_settings(&back, "admin@example.org")
            .await
            .unwrap(),
        ["inquiry_sends_per_hour"]
    );
    assert_eq!(
        store.inquiry_send_limit(default_limit).await.unwrap(),
        default_limit
    );
}
