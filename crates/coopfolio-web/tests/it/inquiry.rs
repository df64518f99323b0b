//! The inquiry form through the router: what comes back for each kind of mistake, the trap
//! field, the limit per client address, the cross-site check, and a send stored under the
//! reference the sender is shown. Each test has an empty database of its own, since the form
//! needs no portfolio and every test writes.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use coopfolio_core::partnership::{InquiryKind, InquiryStage};
use coopfolio_core::policy_area::PolicyArea;
use coopfolio_store::Store;
use coopfolio_web::{AppState, MESSAGE_MAX_CHARS, SEND_LIMIT};

use crate::{empty_store, escaped, get, send, Page};

/// A complete, valid form, field by field, as a browser sends it.
fn valid_fields() -> Vec<(&'static str, String)> {
    vec![
        ("kind", "partnership_idea".into()),
        ("name", "Ana López".into()),
        ("email", "ana.lopez@example.org".into()),
        ("organisation", "Fundación Ejemplo <Sur>".into()),
        ("partner_group", "foundation".into()),
        ("country", "KE".into()),
        ("area", "skills".into()),
        ("area", "employment".into()),
        (
            "message",
            "We would like to co-fund\r\napprenticeships in Kenya.".into(),
        ),
        ("consent", "yes".into()),
        ("website", String::new()),
    ]
}

/// `fields` with `name` replaced by `value` (or removed when `value` is `None`).
fn with(
    fields: &[(&'static str, String)],
    name: &'static str,
    value: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut changed: Vec<_> = fields
        .iter()
        .filter(|(field, _)| *field != name)
        .cloned()
        .collect();
    if let Some(value) = value {
        changed.push((name, value.to_owned()));
    }
    changed
}

/// A form POST as a browser on our own page sends it, from the client address `peer`.
fn form_request(fields: &[(&'static str, String)], peer: &str) -> Request<Body> {
    let body = serde_urlencoded::to_string(fields).expect("an encodable form");
    let mut request = Request::post("/contact")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("host", "portal.example")
        .header("origin", "http://portal.example")
        .body(Body::from(body))
        .expect("a request");
    let peer: SocketAddr = peer.parse().expect("a socket address");
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}

async fn post(store: &Store, fields: &[(&'static str, String)], peer: &str) -> Page {
    send(AppState::new(store.clone()), form_request(fields, peer)).await
}

/// The reference a 303 to the thank-you page carries.
fn reference(page: &Page) -> String {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let location = page.headers["location"].to_str().unwrap();
    location
        .strip_prefix("/contact/thanks?reference=")
        .unwrap_or_else(|| panic!("redirected to {location}"))
        .to_owned()
}

#[tokio::test]
async fn the_form_offers_every_choice_and_every_page_links_to_it() {
    let (store, _folder) = empty_store().await;
    let page = get(&store, "/contact").await;
    assert_eq!(page.status, StatusCode::OK);
    for kind in InquiryKind::ALL {
        assert!(page
            .body
            .contains(&format!("<option value=\"{}\">", kind.code())));
    }
    for area in PolicyArea::ALL {
        assert!(page.body.contains(&format!(
            "type=\"checkbox\" name=\"area\" value=\"{}\">",
            area.code()
        )));
    }
    assert!(page.body.contains("<option value=\"KE\">Kenya</option>"));
    assert!(page.body.contains("name=\"website\""), "no trap field");
    assert!(page.body.contains(" novalidate>"));
    assert!(!page.body.contains("error-summary"));
    let home = get(&store, "/").await;
    assert_eq!(
        home.body.matches("href=\"/contact\"").count(),
        2,
        "nav and footer"
    );
    store.close().await;
}

#[tokio::test]
async fn a_send_is_stored_at_received_under_the_reference_shown() {
    let (store, _folder) = empty_store().await;
    let first = reference(&post(&store, &valid_fields(), "192.0.2.1:40000").await);
    let second = reference(&post(&store, &valid_fields(), "192.0.2.1:40001").await);
    assert_ne!(first, second);
    assert!(first.starts_with("INQ-20") && first.len() == "INQ-2026-000001".len());

    let stored = store
        .inquiry_by_reference(&first)
        .await
        .unwrap()
        .expect("the reference is stored");
    assert_eq!(stored.stage, InquiryStage::Received);
    assert_eq!(stored.kind, InquiryKind::PartnershipIdea);
    assert_eq!(stored.name, "Ana López");
    assert_eq!(stored.organisation, "Fundación Ejemplo <Sur>");
    assert_eq!(stored.country.as_deref(), Some("KE"));
    assert_eq!(
        stored.policy_areas,
        [PolicyArea::Employment, PolicyArea::Skills]
    );
    assert_eq!(
        stored.message,
        "We would like to co-fund\napprenticeships in Kenya."
    );
    assert!(stored.consent);
    assert_eq!(
        &stored.received_at[..4],
        &first[4..8],
        "the year of the reference"
    );
    assert_eq!(store.inquiry_count().await.unwrap(), 2);

    let thanks = get(&store, &format!("/contact/thanks?reference={first}")).await;
    assert_eq!(thanks.status, StatusCode::OK);
    assert!(thanks.body.contains(&format!(
        "<strong id=\"inquiry-reference\">{first}</strong>"
    )));
    let nonsense = get(&store, "/contact/thanks?reference=%3Cb%3E").await;
    assert_eq!(nonsense.status, StatusCode::NOT_FOUND);
    store.close().await;
}

#[tokio::test]
async fn a_missing_consent_brings_the_form_back_filled_in() {
    let (store, _folder) = empty_store().await;
    let page = post(
        &store,
        &with(&valid_fields(), "consent", None),
        "192.0.2.2:1",
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = &page.body;
    assert!(html.contains("id=\"inquiry-consent-error\""), "{html}");
    assert!(html.contains("<a href=\"#inquiry-consent\">Tick the box"));
    assert_eq!(
        html.matches("class=\"field-error\"").count(),
        1,
        "one error only"
    );
    // Everything else as typed, escaped.
    assert!(html.contains(&format!("value=\"{}\"", escaped("Ana López"))));
    assert!(html.contains(&format!("value=\"{}\"", escaped("Fundación Ejemplo <Sur>"))));
    assert!(html.contains("<option value=\"partnership_idea\" selected>"));
    assert!(html.contains("<option value=\"foundation\" selected>"));
    assert!(html.contains("<option value=\"KE\" selected>"));
    assert!(html.contains("value=\"skills\" checked>"));
    assert!(!html.contains("value=\"migration\" checked>"));
    assert!(html.contains("apprenticeships in Kenya.</textarea>"));
    assert!(!html.contains("name=\"consent\" value=\"yes\" required checked"));
    assert_eq!(store.inquiry_count().await.unwrap(), 0);
    store.close().await;
}

#[tokio::test]
async fn a_wrong_email_is_named_beside_its_field() {
    let (store, _folder) = empty_store().await;
    let fields = with(&valid_fields(), "email", Some("ana.lopez.example.org"));
    let page = post(&store, &fields, "192.0.2.3:1").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = &page.body;
    let error = html
        .find("id=\"inquiry-email-error\"")
        .expect("an email error");
    let input = html.find("id=\"inquiry-email\"").expect("the email input");
    assert!(
        error < input,
        "the message comes just before the input it is about"
    );
    assert!(html[error..].starts_with(
        "id=\"inquiry-email-error\"><span class=\"visually-hidden\">Error:</span> Enter an email address in the correct format"
    ));
    assert!(html.contains("aria-invalid=\"true\" aria-describedby=\"inquiry-email-error\""));
    assert!(html.contains("value=\"ana.lopez.example.org\""));
    assert!(html.contains("required checked"), "consent stays ticked");
    assert!(html.contains("<title>Error: Contact us"));
    assert_eq!(store.inquiry_count().await.unwrap(), 0);
    store.close().await;
}

#[tokio::test]
async fn an_oversized_message_is_refused_with_the_form() {
    let (store, _folder) = empty_store().await;
    // Accented letters take two bytes and six percent-encoded: the longest message still fits
    // the body limit, and one letter more is refused by the form, not by the limit.
    let longest = "é".repeat(MESSAGE_MAX_CHARS);
    let page = post(
        &store,
        &with(&valid_fields(), "message", Some(&longest)),
        "192.0.2.4:1",
    )
    .await;
    reference(&page);
    let over = "é".repeat(MESSAGE_MAX_CHARS + 1);
    let page = post(
        &store,
        &with(&valid_fields(), "message", Some(&over)),
        "192.0.2.4:1",
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains(&format!(
        "Shorten this to at most {MESSAGE_MAX_CHARS} characters."
    )));
    assert!(page.body.contains("id=\"inquiry-message-error\""));
    assert!(
        page.body.contains(&format!("{over}</textarea>")),
        "the text comes back"
    );
    assert_eq!(store.inquiry_count().await.unwrap(), 1);
    // A body past the portal's limit is refused before any handler reads it.
    let huge = "x".repeat(100 * 1024);
    let page = post(
        &store,
        &with(&valid_fields(), "message", Some(&huge)),
        "192.0.2.4:1",
    )
    .await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    store.close().await;
}

#[tokio::test]
async fn a_body_that_is_not_a_form_gives_the_form_back() {
    let (store, _folder) = empty_store().await;
    for (content_type, body) in [
        ("application/json", Body::from("{\"name\": \"Ana\"}")),
        (
            "application/x-www-form-urlencoded",
            Body::from(vec![0xff, 0xfe, 0x3d]),
        ),
    ] {
        let request = Request::post("/contact")
            .header("content-type", content_type)
            .body(body)
            .unwrap();
        let page = send(AppState::new(store.clone()), request).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{content_type}");
        assert!(page.body.contains("The form could not be read."));
        assert!(page.body.contains("<form class=\"inquiry\""));
    }
    // Fields missing altogether are named one by one, not refused as a whole.
    let request = Request::post("/contact")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("unexpected=1"))
        .unwrap();
    let page = send(AppState::new(store.clone()), request).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(page.body.matches("class=\"field-error\"").count(), 6);
    store.close().await;
}

#[tokio::test]
async fn a_filled_trap_field_is_answered_like_a_send_and_stored_nowhere() {
    let (store, _folder) = empty_store().await;
    let fields = with(
        &valid_fields(),
        "website",
        Some("http://cheap-pills.example"),
    );
    let decoy = reference(&post(&store, &fields, "192.0.2.5:1").await);
    assert_eq!(store.inquiry_count().await.unwrap(), 0);
    assert!(store.inquiry_by_reference(&decoy).await.unwrap().is_none());
    let thanks = get(&store, &format!("/contact/thanks?reference={decoy}")).await;
    assert_eq!(thanks.status, StatusCode::OK);
    // Even a form a person would be asked to correct is "accepted" when the trap is filled.
    let robot = with(&fields, "email", Some("not-an-address"));
    reference(&post(&store, &robot, "192.0.2.5:1").await);
    assert_eq!(store.inquiry_count().await.unwrap(), 0);
    store.close().await;
}

#[tokio::test]
async fn sends_past_the_hourly_limit_are_refused_with_429() {
    let (store, _folder) = empty_store().await;
    for _ in 0..SEND_LIMIT.sends {
        reference(&post(&store, &valid_fields(), "198.51.100.7:5000").await);
    }
    // Another port is the same client.
    let refused = post(&store, &valid_fields(), "198.51.100.7:6000").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        retry >= 1 && retry <= SEND_LIMIT.window.as_secs(),
        "{retry}"
    );
    let minutes = retry.div_ceil(60);
    assert!(
        refused
            .body
            .contains(&format!("Please try again in {minutes} minutes.")),
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains("apprenticeships in Kenya.</textarea>"),
        "the message is not lost"
    );
    assert!(refused.headers.contains_key("content-security-policy"));
    assert_eq!(
        store.inquiry_count().await.unwrap(),
        u64::from(SEND_LIMIT.sends)
    );
    // Other clients are not held back.
    reference(&post(&store, &valid_fields(), "198.51.100.8:5000").await);
    // Mistakes are not counted: the refused client still gets its form back to correct.
    let page = post(
        &store,
        &with(&valid_fields(), "name", Some("")),
        "198.51.100.7:1",
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    store.close().await;
}

#[tokio::test]
async fn behind_a_proxy_the_forwarded_client_is_counted() {
    let (store, _folder) = empty_store().await;
    let from = |forwarded: &str, behind_proxy: bool| {
        let mut request = form_request(&valid_fields(), "10.0.0.1:443");
        request
            .headers_mut()
            .insert("x-forwarded-for", forwarded.parse().unwrap());
        send(
            AppState::new(store.clone()).behind_proxy(behind_proxy),
            request,
        )
    };
    for number in 0..SEND_LIMIT.sends {
        // Without the setting the header is the client's word and is ignored: every send
        // counts against the proxy's own address.
        reference(&from(&format!("203.0.113.{number}"), false).await);
    }
    assert_eq!(
        from("203.0.113.99", false).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // With it, the clients behind the proxy are told apart.
    reference(&from("203.0.113.1, 10.0.0.1", true).await);
    reference(&from("203.0.113.2", true).await);
    store.close().await;
}

#[tokio::test]
async fn a_send_from_another_site_is_refused() {
    let (store, _folder) = empty_store().await;
    let mut request = form_request(&valid_fields(), "192.0.2.9:1");
    request
        .headers_mut()
        .insert("origin", "https://elsewhere.example".parse().unwrap());
    let page = send(AppState::new(store.clone()), request).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("another site"));
    // A referring page of our own is as good as an origin.
    let mut request = form_request(&valid_fields(), "192.0.2.9:1");
    request.headers_mut().remove("origin");
    request
        .headers_mut()
        .insert("referer", "http://portal.example/contact".parse().unwrap());
    reference(&send(AppState::new(store.clone()), request).await);
    assert_eq!(store.inquiry_count().await.unwrap(), 1);
    store.close().await;
}
