//! One-time password links, the settings page and method notes in French and Spanish, through
//! the router: an invitation's link works once and logs its user in; a used, expired or
//! forged link gets a page that says so and changes nothing; the settings page is the
//! administrators' alone, names the field it refuses and audits what it saves; and the French
//! home, funding, partner and country pages keep no English method sentence. The welcome flow
//! in Chromium is in `browser_staff_settings.rs`.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use coopfolio_store::figures::METHOD_SENTENCES;
use coopfolio_store::method_text::METHOD_TEXTS;
use coopfolio_store::staff::AuditFilter;

use crate::staff::{log_in, post_form, post_login, send, workspace, HOST, PASSWORD};

const NEW_PASSWORD: &str = "my very own passphrase";

/// The token of the link a link page shows (the page writes `/` as `&#x2f;`).
fn shown_token(html: &str) -> String {
    let marker = "welcome&#x2f;";
    let start = html.find(marker).expect("a link on the page") + marker.len();
    html[start..start + 64].to_owned()
}

async fn post_welcome(
    store: &coopfolio_store::Store,
    token: &str,
    new: &str,
    confirm: &str,
) -> crate::Page {
    let body = serde_urlencoded::to_string([("new_password", new), ("confirm_password", confirm)])
        .unwrap();
    send(
        store,
        Request::post(format!("/staff/welcome/{token}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", format!("http://{HOST}")),
        Body::from(body),
    )
    .await
}

#[tokio::test]
async fn an_invitation_link_works_once_and_logs_its_user_in() {
    let (store, _folder) = workspace().await;
    let admin = log_in(&store, "admin@example.org").await;
    let shown = post_form(
        &store,
        &admin,
        "/staff/users/invite",
        Some(&admin.csrf),
        "email=amina%40example.org&role=officer",
    )
    .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert_eq!(shown.headers["cache-control"], "no-store");
    assert!(shown.body.contains("amina@example.org"));
    let token = shown_token(&shown.body);
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()), "{token}");
    // The users page lists the account but never the link again.
    let users = send(
        &store,
        Request::get("/staff/users").header("cookie", &admin.cookie),
        Body::empty(),
    )
    .await;
    assert!(users.body.contains("amina@example.org"));
    assert!(!users.body.contains(&token));

    let form = send(
        &store,
        Request::get(format!("/staff/welcome/{token}")),
        Body::empty(),
    )
    .await;
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(form.headers["cache-control"], "no-store");
    assert!(form.body.contains("amina@example.org"));
    assert!(form.body.contains("name=\"new_password\""));

    // Passwords that differ, or too short, keep the link and change nothing.
    let differ = post_welcome(&store, &token, NEW_PASSWORD, "something else entirely").await;
    assert_eq!(differ.status, StatusCode::BAD_REQUEST);
    let short = post_welcome(&store, &token, "short", "short").await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert!(short.body.contains("class=\"error\""));

    let welcomed = post_welcome(&store, &token, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(welcomed.status, StatusCode::SEE_OTHER, "{}", welcomed.body);
    assert_eq!(welcomed.headers["location"], "/staff/inquiries");
    let cookie = welcomed.headers["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let board = send(
        &store,
        Request::get("/staff/inquiries").header("cookie", &cookie),
        Body::empty(),
    )
    .await;
    assert_eq!(board.status, StatusCode::OK);
    assert!(board.body.contains("amina@example.org (officer)"));

    // Used once: the link now says so, and a second password set through it opens nothing.
    let again = send(
        &store,
        Request::get(format!("/staff/welcome/{token}")),
        Body::empty(),
    )
    .await;
    assert_eq!(again.status, StatusCode::GONE);
    assert!(again.body.contains("already been used"));
    let reused = post_welcome(
        &store,
        &token,
        "a second passphrase here",
        "a second passphrase here",
    )
    .await;
    assert_eq!(reused.status, StatusCode::GONE);
    assert!(reused.headers.get("set-cookie").is_none());
    assert_eq!(
        post_login(&store, "amina@example.org", "a second passphrase here")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post_login(&store, "amina@example.org", NEW_PASSWORD)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    store.close().await;
}

#[tokio::test]
async fn expired_and_forged_links_are_refused_with_a_page_and_change_nothing() {
    let (store, _folder) = workspace().await;
    let admin = log_in(&store, "admin@example.org").await;
    // A reset link for the viewer, aged past its 72 hours.
    let shown = post_form(
        &store,
        &admin,
        "/staff/users/reset",
        Some(&admin.csrf),
        "email=viewer%40example.org",
    )
    .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    let token = shown_token(&shown.body);
    store
        .set_staff_link_expiry(&token, "2020-01-01T00:00:00.000Z")
        .await
        .unwrap();
    let expired = send(
        &store,
        Request::get(format!("/staff/welcome/{token}")),
        Body::empty(),
    )
    .await;
    assert_eq!(expired.status, StatusCode::GONE);
    assert!(expired.body.contains("has expired"));
    assert!(!expired.body.contains("name=\"new_password\""));
    let posted = post_welcome(&store, &token, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(posted.status, StatusCode::GONE);
    // The viewer's password is the one it had.
    assert_eq!(
        post_login(&store, "viewer@example.org", NEW_PASSWORD)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post_login(&store, "viewer@example.org", PASSWORD)
            .await
            .status,
        StatusCode::SEE_OTHER
    );

    for forged in [
        "0".repeat(64),
        "not-a-token".to_owned(),
        format!("{token}0"),
    ] {
        let page = send(
            &store,
            Request::get(format!("/staff/welcome/{forged}")),
            Body::empty(),
        )
        .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{forged}");
        assert!(page.body.contains("This link does not work"), "{forged}");
        let posted = post_welcome(&store, &forged, NEW_PASSWORD, NEW_PASSWORD).await;
        assert_eq!(posted.status, StatusCode::NOT_FOUND, "{forged}");
        assert!(posted.headers.get("set-cookie").is_none());
    }
    // A form from another site is refused before anything is read.
    let body = format!(
        "new_password={0}&confirm_password={0}",
        NEW_PASSWORD.replace(' ', "+")
    );
    let elsewhere = send(
        &store,
        Request::post(format!("/staff/welcome/{token}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", "https://evil.example"),
        Body::from(body),
    )
    .await;
    assert_eq!(elsewhere.status, StatusCode::FORBIDDEN);
    store.close().await;
}

#[tokio::test]
async fn the_settings_page_is_for_administrators_and_names_the_field_it_refuses() {
    let (store, _folder) = workspace().await;
    for email in ["viewer@example.org", "officer@example.org"] {
        let browser = log_in(&store, email).await;
        let page = send(
            &store,
            Request::get("/staff/settings").header("cookie", &browser.cookie),
            Body::empty(),
        )
        .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{email}");
        let posted = post_form(
            &store,
            &browser,
            "/staff/settings",
            Some(&browser.csrf),
            "biennium_starts_even=false",
        )
        .await;
        assert_eq!(posted.status, StatusCode::FORBIDDEN, "{email}");
    }
    assert!(store.settings().await.unwrap().biennium_starts_even);

    let admin = log_in(&store, "admin@example.org").await;
    let page = send(
        &store,
        Request::get("/staff/settings").header("cookie", &admin.cookie),
        Body::empty(),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("value=\"true\" checked"));

    let refused = post_form(
        &store,
        &admin,
        "/staff/settings",
        Some(&admin.csrf),
        "biennium_starts_even=false&organisation_ref=not+an+identifier&inquiry_sends_per_hour=3&session_idle_minutes=",
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("id=\"organisation_ref-error\""));
    assert!(refused.body.contains("not an IATI organisation identifier"));
    // Everything as sent comes back, and nothing was saved.
    assert!(refused.body.contains("value=\"false\" checked"));
    assert!(store.settings().await.unwrap().biennium_starts_even);
    let not_a_number = post_form(
        &store,
        &admin,
        "/staff/settings",
        Some(&admin.csrf),
        "biennium_starts_even=true&organisation_ref=&inquiry_sends_per_hour=&session_idle_minutes=ten",
    )
    .await;
    assert_eq!(not_a_number.status, StatusCode::BAD_REQUEST);
    assert!(not_a_number
        .body
        .contains("id=\"session_idle_minutes-error\""));

    let saved = post_form(
        &store,
        &admin,
        "/staff/settings",
        Some(&admin.csrf),
        "biennium_starts_even=false&organisation_ref=XM-DAC-41302&inquiry_sends_per_hour=3&session_idle_minutes=45",
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let settings = store.settings().await.unwrap();
    assert!(!settings.biennium_starts_even);
    assert_eq!(settings.organisation_ref.as_deref(), Some("XM-DAC-41302"));
    assert_eq!(settings.inquiry_sends_per_hour, Some(3));
    assert_eq!(settings.session_idle_minutes, Some(45));
    let audit = store
        .audit_events(&AuditFilter {
            entity_kind: Some("setting".to_owned()),
            page: 1,
            page_size: 10,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.total, 4);
    assert!(audit
        .events
        .iter()
        .all(|event| event.actor == "admin@example.org"));
    store.close().await;
}

/// The literal parts of an English method sentence long enough to mean something on their
/// own: a whole fixed sentence, or each stretch of a template between its placeholders.
fn english_pieces() -> Vec<&'static str> {
    let mut pieces: Vec<&'static str> = METHOD_SENTENCES
        .iter()
        .map(|(_, english)| *english)
        .collect();
    for method_text in METHOD_TEXTS {
        pieces.extend(
            method_text
                .english
                .split(['{', '}'])
                .step_by(2)
                .map(str::trim)
                .filter(|piece| piece.len() >= 12),
        );
    }
    pieces
}

#[tokio::test]
async fn french_and_spanish_pages_keep_no_english_method_sentence() {
    let store = crate::demo_store().await;
    let partner = store.partners(None, None).await.unwrap().value[0]
        .key
        .clone();
    let pieces = english_pieces();
    assert!(pieces.len() > 30);
    for lang in ["fr", "es"] {
        for path in [
            "/".to_owned(),
            "/funding".to_owned(),
            "/partners".to_owned(),
            format!("/partners/{partner}"),
            "/countries/KE".to_owned(),
        ] {
            let page = crate::get(&store, &format!("{path}?lang={lang}")).await;
            assert_eq!(page.status, StatusCode::OK, "{lang} {path}");
            assert!(
                page.body.contains("<details"),
                "{lang} {path}: no method note"
            );
            for piece in &pieces {
                assert!(
                    !page.body.contains(piece) && !page.body.contains(&crate::escaped(piece)),
                    "{lang} {path}: English method text remains: {piece}"
                );
            }
        }
    }
    // The English pages say them, so the check above can fail.
    let english = crate::get(&store, "/?lang=en").await;
    assert!(pieces
        .iter()
        .any(|piece| english.body.contains(&crate::escaped(piece))));
    // A download follows the language too.
    let csv = crate::get(&store, "/projects.csv?lang=fr").await;
    assert!(csv.body.contains("# Méthode, lignes: "));
    assert!(!csv.body.contains("no row limit"));
    // A note made with counts reads in French, its counts as French writes them.
    let home = crate::get(&store, "/?lang=fr").await;
    assert!(home
        .body
        .contains("écritures sans taux laissées de côté ; "));
    store.close().await;
}
