//! The staff workspace driven through the router with `oneshot`, cookies carried by hand, each
//! test on a fresh SQLite database holding three users (viewer, officer, admin), one partner
//! and two inquiries (with the records `staff_records::add_records` adds): login, lock-out,
//! CSRF, roles, the pipeline and the audit log, hostile form input, and every route of the
//! application against every kind of visitor.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use coopfolio_core::partnership::{Inquiry, InquiryKind, InquiryStage, Partner};
use coopfolio_core::reference::Names;
use coopfolio_store::staff::{AuditFilter, Role};
use coopfolio_store::{PartnershipRecords, Store};
use coopfolio_web::{Access, PUBLIC_ROUTES};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::Page;

pub(crate) const PASSWORD: &str = "a long enough passphrase";
pub(crate) const HOST: &str = "coopfolio.test";

/// A fresh database with the users, a partner and two inquiries.
pub(crate) async fn workspace() -> (Store, tempfile::TempDir) {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", folder.path().join("staff.db").display());
    let store = Store::connect(&url).await.expect("a new database");
    for (email, role) in [
        ("viewer@example.org", Role::Viewer),
        ("officer@example.org", Role::Officer),
        ("admin@example.org", Role::Admin),
    ] {
        store
            .add_staff_user(email, role, PASSWORD, "test")
            .await
            .expect("adding a user");
    }
    let partner = Partner {
        key: "p-1".to_owned(),
        names: Names {
            en: "Partner One".to_owned(),
            fr: "Partenaire un".to_owned(),
            es: "Socio uno".to_owned(),
        },
        iati_ref: None,
        organisation_type: None,
        country: None,
        group_override: None,
        synthetic: false,
    };
    let inquiries: Vec<Inquiry> = ["inq-1", "inq-2"]
        .iter()
        .map(|key| Inquiry {
            key: (*key).to_owned(),
            kind: InquiryKind::FundingQuestion,
            name: "Awa Ndiaye".to_owned(),
            email: "awa@example.org".to_owned(),
            organisation: "Fondation Rurale".to_owned(),
            partner_group: None,
            country: Some("SN".to_owned()),
            policy_areas: Vec::new(),
            message: "<script>alert('sent by the public')</script>".to_owned(),
            consent: true,
            received_at: "2024-05-01T10:00:00Z".to_owned(),
            stage: InquiryStage::Received,
            events: Vec::new(),
            first_response_at: None,
            partner_key: None,
            agreement_key: None,
            synthetic: false,
        })
        .collect();
    store
        .save_partnership_records(PartnershipRecords {
            partners: &[partner],
            inquiries: &inquiries,
            ..PartnershipRecords::default()
        })
        .await
        .expect("saving the records");
    crate::staff_records::add_records(&store).await;
    (store, folder)
}

/// Sends a request with the Host header every browser sends, and reads the answer whole.
pub(crate) async fn send(store: &Store, request: axum::http::request::Builder, body: Body) -> Page {
    let app = coopfolio_web::app(coopfolio_web::AppState::new(store.clone()));
    let request = request.header("host", HOST).body(body).expect("a request");
    let response = app.oneshot(request).await.expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    Page {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// A logged-in browser: its cookie header and the CSRF token its pages carry.
pub(crate) struct Browser {
    pub(crate) cookie: String,
    pub(crate) csrf: String,
}

pub(crate) async fn post_login(store: &Store, email: &str, password: &str) -> Page {
    let body = serde_urlencoded::to_string([("email", email), ("password", password)]).unwrap();
    send(
        store,
        Request::post("/staff/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", format!("http://{HOST}")),
        Body::from(body),
    )
    .await
}

pub(crate) async fn log_in(store: &Store, email: &str) -> Browser {
    let page = post_login(store, email, PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{email}: {}", page.body);
    let set_cookie = page.headers["set-cookie"].to_str().unwrap();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let board = send(
        store,
        Request::get("/staff/inquiries").header("cookie", &cookie),
        Body::empty(),
    )
    .await;
    assert_eq!(board.status, StatusCode::OK);
    Browser {
        cookie,
        csrf: csrf_token(&board.body),
    }
}

pub(crate) fn csrf_token(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

/// POSTs a form as a browser of this site would, with `csrf` as the token it carries.
pub(crate) async fn post_form(
    store: &Store,
    browser: &Browser,
    uri: &str,
    csrf: Option<&str>,
    fields: &str,
) -> Page {
    let body = match csrf {
        Some(token) if fields.is_empty() => format!("csrf_token={token}"),
        Some(token) => format!("csrf_token={token}&{fields}"),
        None => fields.to_owned(),
    };
    send(
        store,
        Request::post(uri)
            .header("cookie", &browser.cookie)
            .header("origin", format!("http://{HOST}"))
            .header("content-type", "application/x-www-form-urlencoded"),
        Body::from(body),
    )
    .await
}

async fn history_length(store: &Store, key: &str) -> usize {
    store
        .staff_inquiry(key)
        .await
        .unwrap()
        .unwrap()
        .events
        .len()
}

#[tokio::test]
async fn login_sets_a_session_cookie_only_this_workspace_can_read() {
    let (store, _folder) = workspace().await;
    let page = post_login(&store, "Officer@Example.org", PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.headers["location"], "/staff/inquiries");
    let cookie = page.headers["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("coopfolio_session="));
    let token = cookie.split(';').next().unwrap().split('=').nth(1).unwrap();
    assert_eq!(token.len(), 64, "256 bits in hexadecimal");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/staff"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP gets no Secure flag");

    // Behind a proxy that ends TLS, or when the setting says so, the cookie is Secure.
    let behind_tls = send(
        &store,
        Request::post("/staff/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-forwarded-proto", "https"),
        Body::from(format!(
            "email=officer%40example.org&password={}",
            PASSWORD.replace(' ', "+")
        )),
    )
    .await;
    assert!(behind_tls.headers["set-cookie"]
        .to_str()
        .unwrap()
        .contains("; Secure"));
    store
        .set_setting("staff_secure_cookies", "true")
        .await
        .unwrap();
    let by_setting = post_login(&store, "officer@example.org", PASSWORD).await;
    assert!(by_setting.headers["set-cookie"]
        .to_str()
        .unwrap()
        .contains("; Secure"));

    // Logging out ends the session: the cookie opens nothing afterwards.
    let browser = log_in(&store, "viewer@example.org").await;
    let out = post_form(&store, &browser, "/staff/logout", Some(&browser.csrf), "").await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.headers["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let after = send(
        &store,
        Request::get("/staff/inquiries").header("cookie", &browser.cookie),
        Body::empty(),
    )
    .await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.headers["location"], "/staff/login");
    store.close().await;
}

#[tokio::test]
async fn wrong_passwords_are_refused_and_then_lock_the_account() {
    let (store, _folder) = workspace().await;
    let wrong = post_login(&store, "viewer@example.org", "not the password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.headers.get("set-cookie").is_none());
    assert!(wrong.body.contains("Wrong e-mail address or password."));
    let unknown = post_login(&store, "nobody@example.org", PASSWORD).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    for _ in 0..4 {
        post_login(&store, "viewer@example.org", "not the password").await;
    }
    let right_but_locked = post_login(&store, "viewer@example.org", PASSWORD).await;
    assert_eq!(right_but_locked.status, StatusCode::FORBIDDEN);
    assert!(right_but_locked.headers.get("set-cookie").is_none());
    assert!(right_but_locked.body.contains("locked"));
    // Other accounts are not locked by one account's failures.
    assert_eq!(
        post_login(&store, "officer@example.org", PASSWORD)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    store.close().await;
}

#[tokio::test]
async fn a_login_from_another_site_is_refused() {
    let (store, _folder) = workspace().await;
    let page = send(
        &store,
        Request::post("/staff/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", "https://evil.example"),
        Body::from("email=viewer%40example.org&password=x"),
    )
    .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    store.close().await;
}

#[tokio::test]
async fn forged_requests_are_refused_and_change_nothing() {
    let (store, _folder) = workspace().await;
    let officer = log_in(&store, "officer@example.org").await;
    let uri = "/staff/inquiries/inq-1/stage";
    let fields = "stage=triaged&note=forged";
    let missing = post_form(&store, &officer, uri, None, fields).await;
    let wrong = post_form(&store, &officer, uri, Some(&"0".repeat(64)), fields).await;
    let cross_site = send(
        &store,
        Request::post(uri)
            .header("cookie", &officer.cookie)
            .header("origin", "https://evil.example")
            .header("content-type", "application/x-www-form-urlencoded"),
        Body::from(format!("csrf_token={}&{fields}", officer.csrf)),
    )
    .await;
    // Another user's token is no good either.
    let viewer = log_in(&store, "viewer@example.org").await;
    let someone_elses = post_form(&store, &officer, uri, Some(&viewer.csrf), fields).await;
    for page in [&missing, &wrong, &cross_site, &someone_elses] {
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    }
    let inquiry = store.staff_inquiry("inq-1").await.unwrap().unwrap();
    assert_eq!(inquiry.stage, "received");
    assert!(inquiry.events.is_empty());
    assert_eq!(inquiry.first_response_at, None);
    store.close().await;
}

#[tokio::test]
async fn a_viewer_reads_but_cannot_edit() {
    let (store, _folder) = workspace().await;
    let viewer = log_in(&store, "viewer@example.org").await;
    let page = send(
        &store,
        Request::get("/staff/inquiries/inq-1").header("cookie", &viewer.cookie),
        Body::empty(),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page
        .body
        .contains("action=\"/staff/inquiries/inq-1/stage\""));
    for (uri, fields) in [
        ("/staff/inquiries/inq-1/stage", "stage=triaged"),
        ("/staff/inquiries/inq-1/note", "note=hello"),
        (
            "/staff/inquiries/inq-1/assign",
            "assignee=viewer%40example.org",
        ),
        ("/staff/inquiries/inq-1/partner", "partner=p-1"),
        ("/staff/users/role", "email=viewer%40example.org&role=admin"),
    ] {
        let refused = post_form(&store, &viewer, uri, Some(&viewer.csrf), fields).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{uri}");
    }
    let inquiry = store.staff_inquiry("inq-1").await.unwrap().unwrap();
    assert!(
        inquiry.events.is_empty() && inquiry.assigned_to.is_none() && inquiry.partner.is_none()
    );
    assert_eq!(store.staff_users().await.unwrap()[2].role, Role::Viewer);
    store.close().await;
}

#[tokio::test]
async fn an_officer_works_an_inquiry_and_every_step_is_recorded() {
    let (store, _folder) = workspace().await;
    let officer = log_in(&store, "officer@example.org").await;
    let moved = post_form(
        &store,
        &officer,
        "/staff/inquiries/inq-1/stage",
        Some(&officer.csrf),
        "stage=in_dialogue&note=Called+the+sender.",
    )
    .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER);
    assert_eq!(moved.headers["location"], "/staff/inquiries/inq-1");
    for (uri, fields) in [
        (
            "/staff/inquiries/inq-1/assign",
            "assignee=officer%40example.org",
        ),
        ("/staff/inquiries/inq-1/partner", "create=1"),
        ("/staff/inquiries/inq-2/partner", "partner=p-1"),
    ] {
        let page = post_form(&store, &officer, uri, Some(&officer.csrf), fields).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{uri}: {}", page.body);
    }
    let inquiry = store.staff_inquiry("inq-1").await.unwrap().unwrap();
    assert_eq!(inquiry.stage, "in_dialogue");
    assert_eq!(inquiry.events.len(), 1);
    assert_eq!(inquiry.events[0].by_user, "officer@example.org");
    assert_eq!(inquiry.events[0].from_stage, "received");
    assert_eq!(
        inquiry.first_response_at.as_deref(),
        Some(inquiry.events[0].at.as_str())
    );
    assert_eq!(inquiry.assigned_to.as_deref(), Some("officer@example.org"));
    assert_eq!(inquiry.partner.as_ref().unwrap().0, "fondation-rurale");
    let audit = store
        .audit_events(&AuditFilter {
            actor: Some("officer@example.org".into()),
            page: 1,
            page_size: 50,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    let mut actions: Vec<String> = audit
        .events
        .iter()
        .map(|event| {
            format!(
                "{} {} {}",
                event.entity_kind, event.entity_key, event.action
            )
        })
        .collect();
    actions.sort();
    assert_eq!(
        actions,
        [
            "inquiry inq-1 assign",
            "inquiry inq-1 link_partner",
            "inquiry inq-1 move",
            "inquiry inq-2 link_partner",
            "partner fondation-rurale create"
        ]
    );
    let moved = audit
        .events
        .iter()
        .find(|event| event.action == "move")
        .unwrap();
    assert!(moved.before.as_deref().unwrap().contains("\"received\""));
    assert!(moved.after.as_deref().unwrap().contains("\"in_dialogue\""));

    // The board counts the response, and the audit page lists the changes, filtered by kind.
    let board = send(
        &store,
        Request::get("/staff/inquiries").header("cookie", &officer.cookie),
        Body::empty(),
    )
    .await;
    assert!(
        board.body.contains("1 / 2"),
        "one of two inquiries answered"
    );
    let log = send(
        &store,
        Request::get("/staff/audit?kind=partner&from=2000-01-01&to=2999-12-31")
            .header("cookie", &officer.cookie),
        Body::empty(),
    )
    .await;
    assert_eq!(log.status, StatusCode::OK);
    assert!(log.body.contains("fondation-rurale"));
    assert!(!log.body.contains("inq-2"));
    let bad_date = send(
        &store,
        Request::get("/staff/audit?from=yesterday").header("cookie", &officer.cookie),
        Body::empty(),
    )
    .await;
    assert_eq!(bad_date.status, StatusCode::BAD_REQUEST);
    store.close().await;
}

/// What hostile form input must come to: refused with a 4xx and nothing stored, or stored
/// as given and shown escaped.
enum Expect {
    Refused(StatusCode),
    StoredAndEscaped {
        stored: &'static str,
        shown: &'static str,
    },
}

#[tokio::test]
async fn hostile_form_input_is_refused_or_stored_harmlessly() {
    let (store, _folder) = workspace().await;
    let officer = log_in(&store, "officer@example.org").await;
    let long_note = format!("note={}", "a".repeat(4001));
    let oversized = format!("note={}", "b".repeat(70 * 1024));
    let cases: Vec<(&str, String, Expect)> = vec![
        (
            "/staff/inquiries/inq-2/note",
            "note=%3Cscript%3Ealert(1)%3C%2Fscript%3E".to_owned(),
            Expect::StoredAndEscaped {
                stored: "<script>alert(1)</script>",
                shown: "&lt;script&gt;alert(1)&lt;&#x2f;script&gt;",
            },
        ),
        (
            "/staff/inquiries/inq-2/note",
            "note=%27%3B+DROP+TABLE+inquiry%3B+--".to_owned(),
            Expect::StoredAndEscaped {
                stored: "'; DROP TABLE inquiry; --",
                shown: "&#x27;; DROP TABLE inquiry; --",
            },
        ),
        (
            "/staff/inquiries/inq-2/note",
            "note=%22%3E%3Cimg+src%3Dx+onerror%3Dalert(1)%3E".to_owned(),
            Expect::StoredAndEscaped {
                stored: "\"><img src=x onerror=alert(1)>",
                shown: "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;",
            },
        ),
        (
            "/staff/inquiries/inq-2/note",
            "note=%FF%FE%80".to_owned(),
            Expect::Refused(StatusCode::BAD_REQUEST),
        ),
        (
            "/staff/inquiries/inq-2/note",
            long_note,
            Expect::Refused(StatusCode::BAD_REQUEST),
        ),
        (
            "/staff/inquiries/inq-2/note",
            oversized,
            Expect::Refused(StatusCode::PAYLOAD_TOO_LARGE),
        ),
        (
            "/staff/inquiries/inq-2/note",
            "note=".to_owned(),
            Expect::Refused(StatusCode::BAD_REQUEST),
        ),
        (
            "/staff/inquiries/inq-2/note",
            "text=missing+field".to_owned(),
            Expect::Refused(StatusCode::BAD_REQUEST),
        ),
        (
            "/staff/inquiries/inq-2/stage",
            "stage=42".to_owned(),
            Expect::Refused(StatusCode::BAD_REQUEST),
        ),
        (
            "/staff/inquiries/inq-2/stage",
            "stage=received%27+OR+1%3D1".to_owned(),
            Expect::Refused(StatusCode::BAD_REQUEST),
        ),
        (
            "/staff/inquiries/inq-2/assign",
            "assignee=%3Cb%3E%40x.org".to_owned(),
            Expect::Refused(StatusCode::BAD_REQUEST),
        ),
        (
            "/staff/inquiries/inq-2/partner",
            "partner=%27+OR+%271%27%3D%271".to_owned(),
            Expect::Refused(StatusCode::BAD_REQUEST),
        ),
        (
            "/staff/inquiries/no-such-inquiry/note",
            "note=hello".to_owned(),
            Expect::Refused(StatusCode::NOT_FOUND),
        ),
        (
            "/staff/users/role",
            "email=viewer%40example.org&role=superuser".to_owned(),
            Expect::Refused(StatusCode::FORBIDDEN),
        ),
    ];
    for (uri, fields, expect) in cases {
        let before = history_length(&store, "inq-2").await;
        let page = post_form(&store, &officer, uri, Some(&officer.csrf), &fields).await;
        let label = format!("{uri} {}", &fields[..fields.len().min(60)]);
        match expect {
            Expect::Refused(status) => {
                assert_eq!(page.status, status, "{label}: {}", page.body);
                assert_eq!(history_length(&store, "inq-2").await, before, "{label}");
            }
            Expect::StoredAndEscaped { stored, shown } => {
                assert_eq!(page.status, StatusCode::SEE_OTHER, "{label}: {}", page.body);
                let inquiry = store.staff_inquiry("inq-2").await.unwrap().unwrap();
                assert_eq!(inquiry.events.last().unwrap().note, stored, "{label}");
                let shown_page = send(
                    &store,
                    Request::get("/staff/inquiries/inq-2").header("cookie", &officer.cookie),
                    Body::empty(),
                )
                .await;
                assert!(shown_page.body.contains(shown), "{label}");
                assert!(
                    !shown_page.body.contains(stored),
                    "{label}: shown unescaped"
                );
            }
        }
    }
    // The message the public sent, script and all, is shown as text too.
    let page = send(
        &store,
        Request::get("/staff/inquiries/inq-1").header("cookie", &officer.cookie),
        Body::empty(),
    )
    .await;
    assert!(!page.body.contains("<script>alert"));
    assert!(page.body.contains("&lt;script&gt;alert("));
    // Every table is still there after the SQL fragments.
    assert_eq!(store.inquiry_board().await.unwrap().len(), 2);
    store.close().await;
}

/// The routes of the application, read from `lib.rs`'s `.route(` calls, are exactly those of
/// `PUBLIC_ROUTES`: a route added to the router and not to the table fails here.
#[test]
fn the_public_route_table_lists_every_route_of_the_router() {
    let source = include_str!("../../src/lib.rs");
    // rustfmt puts a long call's path on a line of its own: the path is the first string
    // after `.route(`, whatever space comes before it.
    let mut in_router: Vec<&str> = source
        .match_indices(".route(")
        .filter_map(|(index, found)| {
            let rest = source[index + found.len()..].trim_start();
            let rest = rest.strip_prefix('"')?;
            Some(&rest[..rest.find('"').unwrap()])
        })
        .collect();
    in_router.sort_unstable();
    in_router.dedup();
    let mut in_table: Vec<&str> = PUBLIC_ROUTES.iter().map(|route| route.path).collect();
    in_table.sort_unstable();
    in_table.dedup();
    assert_eq!(in_router, in_table);
}

/// A body an allowed user's request to each write route may carry and succeed with.
fn valid_fields(path: &str, role: Role) -> String {
    match path {
        "/staff/inquiries/{key}/stage" => format!(
            "stage={}",
            match role {
                Role::Officer => "triaged",
                _ => "in_dialogue",
            }
        ),
        "/staff/inquiries/{key}/note" => "note=Checked.".to_owned(),
        "/staff/inquiries/{key}/assign" => "assignee=".to_owned(),
        "/staff/inquiries/{key}/partner" => "partner=p-1".to_owned(),
        "/staff/users/role" => "email=viewer%40example.org&role=viewer".to_owned(),
        "/staff/users/add" => format!(
            "email=added%40example.org&role=viewer&password={}",
            PASSWORD.replace(' ', "+")
        ),
        "/staff/users/disable" | "/staff/users/enable" => "email=officer%40example.org".to_owned(),
        "/staff/password" => format!(
            "current_password={0}&new_password={0}&confirm_password={0}",
            PASSWORD.replace(' ', "+")
        ),
        "/staff/login" => "email=nobody%40example.org&password=wrong".to_owned(),
        "/staff/users/invite" => "email=invited%40example.org&role=viewer".to_owned(),
        "/staff/users/reset" => "email=viewer%40example.org".to_owned(),
        "/staff/welcome/{token}" => format!(
            "new_password={0}&confirm_password={0}",
            PASSWORD.replace(' ', "+")
        ),
        "/staff/settings" => {
            "biennium_starts_even=true&organisation_ref=&inquiry_sends_per_hour=&session_idle_minutes="
                .to_owned()
        }
        path if path.starts_with("/staff/partners")
            || path.starts_with("/staff/agreements")
            || path.starts_with("/staff/partnerships")
            || path.starts_with("/staff/projects")
            || path == "/staff/inquiries/{key}/agreement" =>
        {
            crate::staff_records::valid_fields(path, role)
        }
        _ => String::new(),
    }
}

/// Every route, against the public, a viewer, an officer and an administrator: nothing under
/// /staff/ but the login answers 2xx to the public; no route needing a higher role answers
/// 2xx or 3xx; every route a role may use answers 2xx or 3xx to it. The API's routes are
/// called with an API token of the user instead of the session.
#[tokio::test]
async fn every_route_answers_each_visitor_as_its_access_says() {
    let (store, _folder) = workspace().await;
    let mut routes = coopfolio_web::routes();
    // Logging out ends the session the later requests use, so it goes last.
    routes.sort_by_key(|route| route.path == "/staff/logout");
    let example = |path: &str| {
        // An API record's key is one of its own collection; the staff routes name theirs.
        let record = [
            ("/api/v1/partners/", "p-1"),
            ("/api/v1/agreements/", "a-1"),
            ("/api/v1/partnerships/", "ms-1"),
        ]
        .iter()
        .find(|(prefix, _)| path.starts_with(prefix))
        .map_or("inq-1", |(_, key)| *key);
        let project = if path.ends_with("/extras") {
            crate::staff_records::PROJECT
        } else {
            "XM-NOT-STORED"
        };
        path.replace("{key}", record)
            .replace("{identifier}", project)
            .replace("{partner}", "p-1")
            .replace("{agreement}", "a-1")
            .replace("{partnership}", "ms-1")
            .replace("{project}", crate::staff_records::PROJECT)
            .replace("{alpha2}", "KE")
            .replace("{code}", "employment")
            .replace("{token}", &"0".repeat(64))
    };

    for route in &routes {
        let uri = example(route.path);
        let request = Request::builder().method(route.method).uri(&uri);
        let page = send(
            &store,
            request.header("content-type", "application/x-www-form-urlencoded"),
            Body::from(valid_fields(route.path, Role::Viewer)),
        )
        .await;
        let label = format!("public {} {}", route.method, route.path);
        assert!(page.status.as_u16() < 500, "{label}: {}", page.status);
        match route.access {
            Access::Public => {}
            Access::Staff(_) => {
                assert!(!page.status.is_success(), "{label}: {}", page.status);
                assert!(
                    page.status == StatusCode::UNAUTHORIZED
                        || page.status == StatusCode::FORBIDDEN
                        || page
                            .headers
                            .get("location")
                            .is_some_and(|l| l == "/staff/login"),
                    "{label}: {}",
                    page.status
                );
            }
        }
    }

    for (email, role) in [
        ("viewer@example.org", Role::Viewer),
        ("officer@example.org", Role::Officer),
        ("admin@example.org", Role::Admin),
    ] {
        let browser = log_in(&store, email).await;
        // The API takes the user's token, not the session.
        let token = store
            .create_api_token(email, None, "test")
            .await
            .expect("a token")
            .secret;
        for route in &routes {
            let uri = example(route.path);
            let fields = valid_fields(route.path, role);
            let page = if route.path.starts_with("/api/") {
                let mut request = Request::builder()
                    .method(route.method)
                    .uri(&uri)
                    .header("authorization", format!("Bearer {token}"));
                let mut body = Body::empty();
                if route.method != "GET" {
                    request = request.header("content-type", "application/json");
                    body = Body::from(crate::api::valid_body(route.path, role).to_string());
                }
                send(&store, request, body).await
            } else if route.method == "GET" {
                send(
                    &store,
                    Request::get(&uri).header("cookie", &browser.cookie),
                    Body::empty(),
                )
                .await
            } else {
                post_form(&store, &browser, &uri, Some(&browser.csrf), &fields).await
            };
            let label = format!("{email} {} {}", route.method, route.path);
            match route.access {
                Access::Public => assert!(page.status.as_u16() < 500, "{label}: {}", page.status),
                Access::Staff(required) if role.includes(required) => assert!(
                    page.status.is_success() || page.status.is_redirection(),
                    "{label}: {} {}",
                    page.status,
                    page.body
                ),
                Access::Staff(_) => {
                    assert_eq!(page.status, StatusCode::FORBIDDEN, "{label}");
                }
            }
        }
    }
    store.close().await;
}

/// The board and an inquiry page over the demo workspace's hundreds of inquiries, with their
/// history as the demo wrote it.
#[tokio::test]
async fn the_board_shows_the_demo_pipeline_with_its_figures() {
    let store = crate::demo_store().await;
    let email = "demo-board-reader@example.org";
    if store
        .staff_users()
        .await
        .unwrap()
        .iter()
        .all(|user| user.email != email)
    {
        store
            .add_staff_user(email, Role::Viewer, PASSWORD, "test")
            .await
            .unwrap();
    }
    let browser = log_in(&store, email).await;
    let board = send(
        &store,
        Request::get("/staff/inquiries").header("cookie", &browser.cookie),
        Body::empty(),
    )
    .await;
    assert_eq!(board.status, StatusCode::OK);
    let figures = store.pipeline_figures().await.unwrap();
    assert!(figures.inquiries > 10 && figures.responded > 0);
    let median = figures.median_first_response_hours.unwrap().to_string();
    assert!(board.body.contains(&format!("{median} hours")), "{median}");
    assert!(board.body.contains("How is this computed?"));
    let first = &store.inquiry_board().await.unwrap()[0];
    let page = send(
        &store,
        Request::get(format!("/staff/inquiries/{}", first.key)).header("cookie", &browser.cookie),
        Body::empty(),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&crate::escaped(&first.organisation)));
    store.close().await;
}

/// Thirty failures from one address stop it, whichever accounts they tried; another address
/// is not stopped. The count is in the database, so it holds across servers.
#[tokio::test]
async fn too_many_failures_from_one_address_stop_it() {
    let (store, _folder) = workspace().await;
    let from = |address: &str| {
        let peer: std::net::SocketAddr = format!("{address}:40000").parse().unwrap();
        Request::post("/staff/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .extension(axum::extract::ConnectInfo(peer))
    };
    for attempt in 0..30 {
        let page = send(
            &store,
            from("198.51.100.7"),
            Body::from(format!(
                "email=guess{attempt}%40example.org&password=guessing"
            )),
        )
        .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let stopped = send(
        &store,
        from("198.51.100.7"),
        Body::from("email=viewer%40example.org&password=a+long+enough+passphrase"),
    )
    .await;
    assert_eq!(stopped.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(stopped.headers.get("set-cookie").is_none());
    let elsewhere = send(
        &store,
        from("198.51.100.8"),
        Body::from("email=viewer%40example.org&password=a+long+enough+passphrase"),
    )
    .await;
    assert_eq!(elsewhere.status, StatusCode::SEE_OTHER);
    store.close().await;
}

#[tokio::test]
async fn the_workspace_speaks_the_language_the_browser_asks_for() {
    let (store, _folder) = workspace().await;
    let login = send(
        &store,
        Request::get("/staff/login").header("accept-language", "fr-FR,fr;q=0.9"),
        Body::empty(),
    )
    .await;
    assert!(login.body.contains("<html lang=\"fr\">"), "{}", login.body);
    assert!(login.body.contains("Connexion du personnel"));
    let browser = log_in(&store, "officer@example.org").await;
    for uri in ["/staff/inquiries", "/staff/audit", "/staff/password"] {
        let page = send(
            &store,
            Request::get(uri)
                .header("cookie", &browser.cookie)
                .header("accept-language", "es"),
            Body::empty(),
        )
        .await;
        assert_eq!(page.status, StatusCode::OK, "{uri}");
        assert!(page.body.contains("<html lang=\"es\">"), "{uri}");
        assert!(page.body.contains("Registro de auditoría"), "{uri}");
    }
    store.close().await;
}
