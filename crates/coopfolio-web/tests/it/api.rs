//! The JSON API under `/api/v1`, driven through the router with `oneshot` over the demo
//! workspace: the same answers as the explorer for the same query string, cursor paging to the
//! last page, ETags, problem documents that name what is wrong, confidential agreements only
//! for staff tokens, the pipeline's writes only for officers (and nothing changed otherwise),
//! inquiries checked as the contact form checks them, and the OpenAPI document against the
//! route table both ways. The comparison with the explorer also runs on PostgreSQL when
//! `COOPFOLIO_TEST_POSTGRES_URL` is set.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use coopfolio_store::staff::Role;
use coopfolio_store::Store;
use coopfolio_web::{AppState, API_ROUTES};
use serde_json::Value;

use crate::{demo_database_copy, demo_store, get, get_with_headers, send, Page};

const PASSWORD: &str = "a long enough passphrase";

/// The explorer queries both sides are asked, each a different mix of filters.
const QUERIES: &[&str] = &[
    "",
    "country=KE",
    "region=africa&status=2",
    "area=social_protection&sort=start_desc",
    "year=2016&sort=end_desc",
    "q=employment",
    "south_south=1",
    "group=government&modality=earmarked",
];

pub(crate) fn json(page: &Page) -> Value {
    serde_json::from_str(&page.body).unwrap_or_else(|error| panic!("{error}: {}", page.body))
}

pub(crate) fn content_type(page: &Page) -> &str {
    page.headers
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
}

/// The identifiers the explorer's HTML page lists, in order, and its result count.
fn explorer_page(page: &Page) -> (Vec<String>, u64) {
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let marker = "<strong id=\"result-count\">";
    let start = page.body.find(marker).expect("a count") + marker.len();
    let end = start + page.body[start..].find('<').unwrap();
    let total = page.body[start..end].parse().expect("a number");
    let identifiers = page
        .body
        .split("</a><br><small>")
        .skip(1)
        .map(|rest| unescape(&rest[..rest.find("</small>").unwrap()]))
        .collect();
    (identifiers, total)
}

fn unescape(text: &str) -> String {
    text.replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn identifiers(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .expect("a data array")
        .iter()
        .map(|item| item["identifier"].as_str().unwrap().to_owned())
        .collect()
}

/// Every page of an API list, following `next` from `uri`: the items' identifiers and the
/// total the first page stated.
async fn every_page(store: &Store, uri: &str) -> (Vec<String>, u64) {
    let first = get(store, uri).await;
    assert_eq!(first.status, StatusCode::OK, "{uri}: {}", first.body);
    let mut body = json(&first);
    let total = body["total"].as_u64().unwrap();
    let mut all = identifiers(&body);
    while let Some(next) = body["next"].as_str().map(str::to_owned) {
        let page = get(store, &next).await;
        assert_eq!(page.status, StatusCode::OK, "{next}: {}", page.body);
        // The Link header names the same next page as the body.
        body = json(&page);
        all.extend(identifiers(&body));
        assert!(all.len() as u64 <= total, "more items than the total");
    }
    (all, total)
}

/// The first two pages of the explorer and of the API (both 50 a page) list the same
/// programmes and projects in the same order, with the same total; every page of the API
/// together is the explorer's whole download.
async fn api_answers_as_the_explorer(store: &Store) {
    for query in QUERIES {
        for page in [1, 2] {
            let (expected, explorer_total) =
                explorer_page(&get(store, &format!("/projects?{query}&page={page}")).await);
            let mut uri = Some(format!("/api/v1/projects?{query}&limit=50"));
            for _ in 1..page {
                let body = json(&get(store, uri.as_deref().unwrap()).await);
                uri = body["next"].as_str().map(str::to_owned);
            }
            // Past the last page the API has no link to follow, and the explorer lists nothing.
            let Some(uri) = uri else {
                assert!(expected.is_empty(), "{query} page {page}");
                continue;
            };
            let body = json(&get(store, &uri).await);
            assert_eq!(body["total"].as_u64(), Some(explorer_total), "{query}");
            // The page's own rows were found: a first page of results is never empty.
            let shown = explorer_total.saturating_sub(50 * (page - 1)).min(50);
            assert_eq!(expected.len() as u64, shown, "{query} page {page}");
            assert_eq!(identifiers(&body), expected, "{query} page {page}");
        }
        let (all, total) = every_page(store, &format!("/api/v1/projects?{query}&limit=200")).await;
        let download = json(&get(store, &format!("/projects.json?{query}")).await);
        let downloaded: Vec<String> = download["projects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row["identifier"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(all, downloaded, "{query}");
        assert_eq!(total, downloaded.len() as u64, "{query}");
    }
}

#[tokio::test]
async fn the_project_list_answers_each_explorer_query_as_the_explorer_does() {
    let store = demo_store().await;
    let all = json(&get(&store, "/api/v1/projects").await);
    assert!(all["total"].as_u64().unwrap() > 100, "the demo is loaded");
    api_answers_as_the_explorer(&store).await;
    store.close().await;
}

#[tokio::test]
async fn the_project_list_answers_as_the_explorer_on_postgresql() {
    let Some(database) = crate::filters::PostgresDatabase::create() else {
        return;
    };
    let store = database.demo_store().await;
    api_answers_as_the_explorer(&store).await;
    // The backends agree with each other too.
    let sqlite = demo_store().await;
    for query in QUERIES {
        let uri = format!("/api/v1/projects?{query}&limit=100");
        assert_eq!(
            json(&get(&store, &uri).await)["data"],
            json(&get(&sqlite, &uri).await)["data"],
            "{query}"
        );
    }
    let public = json(&get(&store, "/api/v1/agreements?limit=500").await);
    assert!(public["meta"]["confidential_withheld"].as_u64().unwrap() > 0);
    assert!(public["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|agreement| agreement["confidential"] == false));
    sqlite.close().await;
    store.close().await;
}

#[tokio::test]
async fn paging_follows_next_to_the_last_page_without_gaps_or_repeats() {
    let store = demo_store().await;
    let uri = "/api/v1/projects?region=africa&limit=7";
    let first = get(&store, uri).await;
    let body = json(&first);
    let next = body["next"].as_str().expect("a next page").to_owned();
    assert_eq!(
        first.headers.get("link").unwrap().to_str().unwrap(),
        format!("<{next}>; rel=\"next\"")
    );
    assert!(next.contains("region=africa") && next.contains("cursor="));
    let (all, total) = every_page(&store, uri).await;
    assert_eq!(all.len() as u64, total);
    let unique: BTreeSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "an item came twice");
    // The last page says so, in the body and by having no Link.
    let last = get(&store, "/api/v1/countries?limit=500").await;
    assert_eq!(json(&last)["next"], Value::Null);
    assert!(last.headers.get("link").is_none());
    // A cursor taken to another query is refused, naming it.
    let moved = next.replace("region=africa", "region=americas");
    let refused = get(&store, &moved).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(json(&refused)["parameter"], "cursor");
    store.close().await;
}

#[tokio::test]
async fn an_unchanged_answer_is_a_304_for_its_etag() {
    let store = demo_store().await;
    let first = get(&store, "/api/v1/partners?limit=5").await;
    let etag = first
        .headers
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"), "{etag}");
    assert_eq!(
        first.headers.get("cache-control").unwrap(),
        "public, max-age=60"
    );
    let again = get_with_headers(
        &store,
        "/api/v1/partners?limit=5",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    assert_eq!(again.headers.get("etag").unwrap(), etag.as_str());
    // Another page is another body, so another tag, and the full answer.
    let other = get_with_headers(
        &store,
        "/api/v1/partners?limit=6",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(other.status, StatusCode::OK);
    assert_ne!(other.headers.get("etag").unwrap(), etag.as_str());
    store.close().await;
}

#[tokio::test]
async fn errors_are_problem_documents_that_name_what_is_wrong() {
    let store = demo_store().await;
    for (uri, status, parameter) in [
        ("/api/v1/projects?country=XX", 400, Some("country")),
        ("/api/v1/projects?region=mars", 400, Some("region")),
        ("/api/v1/projects?year=20x6", 400, Some("year")),
        (
            "/api/v1/projects?south_south=maybe",
            400,
            Some("south_south"),
        ),
        ("/api/v1/projects?sort=random", 400, Some("sort")),
        ("/api/v1/projects?contry=KE", 400, Some("query")),
        ("/api/v1/projects?limit=100000", 400, Some("limit")),
        ("/api/v1/projects?cursor=forged", 400, Some("cursor")),
        (
            "/api/v1/figures/contributions?period=1999-2001",
            400,
            Some("period"),
        ),
        (
            "/api/v1/figures/contributions?basis=hoped",
            400,
            Some("basis"),
        ),
        ("/api/v1/search", 400, Some("q")),
        ("/api/v1/projects/XM-NOT-STORED", 404, None),
        ("/api/v1/partners/no-such-partner", 404, None),
        ("/api/v1/countries/ZZ", 404, None),
        ("/api/v1/no-such-endpoint", 404, None),
        ("/api/v1/inquiries", 401, None),
    ] {
        let page = get(&store, uri).await;
        assert_eq!(page.status.as_u16(), status, "{uri}: {}", page.body);
        assert_eq!(content_type(&page), "application/problem+json", "{uri}");
        let problem = json(&page);
        assert_eq!(problem["status"].as_u64(), Some(u64::from(status)), "{uri}");
        assert!(problem["type"]
            .as_str()
            .unwrap()
            .starts_with("urn:coopfolio:problem:"));
        assert!(!problem["title"].as_str().unwrap().is_empty());
        assert!(!problem["detail"].as_str().unwrap().is_empty());
        let path = uri.split('?').next().unwrap();
        assert_eq!(problem["instance"], path, "{uri}");
        if let Some(parameter) = parameter {
            assert_eq!(problem["parameter"], parameter, "{uri}: {problem}");
        }
    }
    // The misspelt filter is named in the detail.
    let misspelt = json(&get(&store, "/api/v1/projects?contry=KE").await);
    assert!(misspelt["detail"].as_str().unwrap().contains("contry"));
    // A method a path does not answer to is a problem too, not an empty 405 or a page.
    let request = Request::delete("/api/v1/projects")
        .body(Body::empty())
        .unwrap();
    let page = send(AppState::new(store.clone()), request).await;
    assert_eq!(page.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(content_type(&page), "application/problem+json");
    // The 401 says how to authenticate.
    let page = get(&store, "/api/v1/inquiries").await;
    assert!(page.headers.get("www-authenticate").is_some());
    store.close().await;
}

/// A demo database of its own with a user of each role and a token for each.
pub(crate) async fn workspace_with_tokens() -> (Store, tempfile::TempDir, Vec<(Role, String)>) {
    let (url, folder) = demo_database_copy();
    let store = Store::connect(&url).await.expect("opening the copy");
    let mut tokens = Vec::new();
    for role in Role::ALL {
        let email = format!("{role}@api.example.org");
        store
            .add_staff_user(&email, role, PASSWORD, "test")
            .await
            .expect("adding a user");
        let made = store
            .create_api_token(&email, Some("tests"), "test")
            .await
            .expect("making a token");
        assert!(made.secret.starts_with("cfp_"));
        tokens.push((role, made.secret));
    }
    (store, folder, tokens)
}

pub(crate) async fn request(
    store: &Store,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Page {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    let body = match body {
        Some(body) => {
            builder = builder.header("content-type", "application/json");
            Body::from(body.to_string())
        }
        None => Body::empty(),
    };
    send(AppState::new(store.clone()), builder.body(body).unwrap()).await
}

#[tokio::test]
async fn confidential_agreements_reach_staff_tokens_and_never_the_public() {
    let (store, _folder, tokens) = workspace_with_tokens().await;
    let viewer = &tokens[0].1;
    let public = json(&request(&store, "GET", "/api/v1/agreements?limit=500", None, None).await);
    let staff = request(
        &store,
        "GET",
        "/api/v1/agreements?limit=500",
        Some(viewer),
        None,
    )
    .await;
    assert_eq!(
        staff.headers.get("cache-control").unwrap(),
        "private, no-cache"
    );
    let staff = json(&staff);
    let withheld = public["meta"]["confidential_withheld"].as_u64().unwrap();
    assert!(withheld > 0, "the demo has confidential agreements");
    assert_eq!(
        staff["total"].as_u64().unwrap(),
        public["total"].as_u64().unwrap() + withheld
    );
    assert_eq!(staff["meta"]["confidential_withheld"], 0);
    let confidential = staff["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|agreement| agreement["confidential"] == true)
        .expect("a confidential agreement in the staff list");
    let key = confidential["key"].as_str().unwrap();
    assert!(!public.to_string().contains(&format!("\"{key}\"")));
    let uri = format!("/api/v1/agreements/{key}");
    assert_eq!(
        request(&store, "GET", &uri, None, None).await.status,
        StatusCode::NOT_FOUND
    );
    let read = request(&store, "GET", &uri, Some(viewer), None).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(json(&read)["confidential"], true);
    // A token that opens nothing is refused, even where the public may read.
    let forged = request(
        &store,
        "GET",
        "/api/v1/agreements",
        Some("cfp_forged"),
        None,
    )
    .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    store.close().await;
}

/// The newest events of the audit log, and how many there are.
pub(crate) async fn audit_log(store: &Store) -> coopfolio_store::staff::AuditPage {
    store
        .audit_events(&coopfolio_store::staff::AuditFilter {
            page: 1,
            page_size: 10,
            ..Default::default()
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn pipeline_writes_need_an_officer_token_and_are_audited() {
    let (store, _folder, tokens) = workspace_with_tokens().await;
    let (viewer, officer) = (&tokens[0].1, &tokens[1].1);
    let key = store.inquiry_board().await.unwrap()[0].key.clone();
    let before = store.staff_inquiry(&key).await.unwrap().unwrap();
    let audit_before = audit_log(&store).await.total;
    let note = serde_json::json!({ "note": "Called back." });
    let uri = format!("/api/v1/inquiries/{key}/notes");
    let refused = request(&store, "POST", &uri, None, Some(note.clone())).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(content_type(&refused), "application/problem+json");
    let refused = request(&store, "POST", &uri, Some(viewer), Some(note.clone())).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(content_type(&refused), "application/problem+json");
    assert_eq!(store.staff_inquiry(&key).await.unwrap().unwrap(), before);

    let added = request(&store, "POST", &uri, Some(officer), Some(note)).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let events = json(&added)["events"].as_array().unwrap().clone();
    assert_eq!(events.len(), before.events.len() + 1);
    assert_eq!(events.last().unwrap()["note"], "Called back.");
    assert_eq!(events.last().unwrap()["by_user"], "officer@api.example.org");

    let moved = request(
        &store,
        "POST",
        &format!("/api/v1/inquiries/{key}/stage"),
        Some(officer),
        Some(serde_json::json!({ "stage": "declined", "note": "Out of scope." })),
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert_eq!(json(&moved)["stage"], "declined");
    let bad_stage = request(
        &store,
        "POST",
        &format!("/api/v1/inquiries/{key}/stage"),
        Some(officer),
        Some(serde_json::json!({ "stage": "lost" })),
    )
    .await;
    assert_eq!(bad_stage.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(&bad_stage)["errors"][0]["field"], "stage");
    let assigned = request(
        &store,
        "PUT",
        &format!("/api/v1/inquiries/{key}/assignee"),
        Some(officer),
        Some(serde_json::json!({ "assignee": "viewer@api.example.org" })),
    )
    .await;
    assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.body);
    assert_eq!(json(&assigned)["assigned_to"], "viewer@api.example.org");
    let unknown_partner = request(
        &store,
        "PUT",
        &format!("/api/v1/inquiries/{key}/partner"),
        Some(officer),
        Some(serde_json::json!({ "partner": "no-such-partner" })),
    )
    .await;
    assert_eq!(unknown_partner.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(&unknown_partner)["errors"][0]["field"], "partner");
    let audit_after = audit_log(&store).await;
    // The note, the move and the assignment; the refusals wrote nothing.
    assert_eq!(audit_after.total, audit_before + 3);
    assert!(audit_after.events[..3]
        .iter()
        .all(|event| event.actor == "officer@api.example.org" && event.entity_key == key));

    // A body that is not JSON, or says it is not, changes nothing either.
    let not_json = send(
        AppState::new(store.clone()),
        Request::post(&uri)
            .header("authorization", format!("Bearer {officer}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("note=Sneaky"))
            .unwrap(),
    )
    .await;
    assert_eq!(not_json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // A revoked token opens nothing from then on, and the token's last use was recorded.
    let listed = store.api_tokens().await.unwrap();
    let officer_token = listed
        .iter()
        .find(|token| token.role == Role::Officer)
        .unwrap();
    assert!(officer_token.last_used_at.is_some());
    store
        .revoke_api_token(officer_token.id, "test")
        .await
        .unwrap();
    let after_revoke = request(
        &store,
        "POST",
        &uri,
        Some(officer),
        Some(serde_json::json!({ "note": "Again." })),
    )
    .await;
    assert_eq!(after_revoke.status, StatusCode::UNAUTHORIZED);
    store.close().await;
}

#[tokio::test]
async fn an_inquiry_sent_to_the_api_is_checked_as_the_contact_form_checks_it() {
    let (url, _folder) = demo_database_copy();
    let store = Store::connect(&url).await.unwrap();
    let good = serde_json::json!({
        "kind": "funding_question",
        "name": "Awa Ndiaye",
        "email": "awa@example.org",
        "organisation": "Fondation Rurale",
        "country": "SN",
        "policy_areas": ["employment"],
        "message": "We would like to fund rural employment work.",
        "consent": true
    });
    let mut bad = good.clone();
    bad["email"] = Value::from("not an address");
    bad["consent"] = Value::from(false);
    bad["policy_areas"] = serde_json::json!(["astrology"]);
    let refused = request(&store, "POST", "/api/v1/inquiries", None, Some(bad)).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    let fields: Vec<String> = json(&refused)["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["email", "policy_areas", "consent"]);
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("name");
    let refused = request(&store, "POST", "/api/v1/inquiries", None, Some(missing)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(&refused)["errors"][0]["field"], "name");
    let count = store.inquiry_count().await.unwrap();

    let stored = request(
        &store,
        "POST",
        "/api/v1/inquiries",
        None,
        Some(good.clone()),
    )
    .await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.body);
    let reference = json(&stored)["reference"].as_str().unwrap().to_owned();
    assert_eq!(
        stored.headers.get("location").unwrap().to_str().unwrap(),
        format!("/api/v1/inquiries/{reference}")
    );
    let inquiry = store
        .inquiry_by_reference(&reference)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(inquiry.organisation, "Fondation Rurale");
    assert_eq!(store.inquiry_count().await.unwrap(), count + 1);
    // The contact form's limit per address holds here too: a 429 with Retry-After.
    let mut last = stored;
    for _ in 1..=coopfolio_web::SEND_LIMIT.sends {
        last = request(
            &store,
            "POST",
            "/api/v1/inquiries",
            None,
            Some(good.clone()),
        )
        .await;
    }
    assert_eq!(last.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(last.headers.get("retry-after").is_some());
    assert_eq!(
        store.inquiry_count().await.unwrap(),
        count + u64::from(coopfolio_web::SEND_LIMIT.sends)
    );
    store.close().await;
}

#[tokio::test]
async fn figures_are_the_portal_s_with_their_method_notes() {
    let store = demo_store().await;
    let period = store
        .latest_biennium_with_contributions()
        .await
        .unwrap()
        .unwrap();
    let answer = json(
        &get(
            &store,
            &format!("/api/v1/figures/contributions?period={period}"),
        )
        .await,
    );
    let expected = store
        .contributions(period, coopfolio_store::figures::Basis::Approved)
        .await
        .unwrap();
    assert_eq!(answer, serde_json::to_value(&expected).unwrap());
    assert_eq!(answer["method"]["period"], period.to_string());
    assert!(
        answer["value"]["total_usd"].is_string(),
        "money is exact text"
    );
    let portfolio = json(&get(&store, "/api/v1/figures/portfolio").await);
    assert!(portfolio["value"]["programmes_active"].as_u64().unwrap() > 0);
    assert!(!portfolio["method"]["basis"].as_str().unwrap().is_empty());
    let budget = json(&get(&store, "/api/v1/figures/budget").await);
    assert!(budget["value"]["usd"].as_str().unwrap().contains('.'));
    // A partner's totals come with their note too, and a confidential agreement is counted
    // there without being listed.
    let partners = json(&get(&store, "/api/v1/partners?limit=500").await);
    assert!(partners["meta"]["method"]["withheld"].is_object());
    store.close().await;
}

/// Every route of the table is in the OpenAPI document with its method, every operation of
/// the document is in the table, and every documented route answers (not 404 or 405).
#[tokio::test]
async fn the_openapi_document_lists_every_route_and_every_documented_route_answers() {
    let (store, _folder, tokens) = workspace_with_tokens().await;
    let admin = &tokens[2].1;
    let served = get(&store, "/api/v1/openapi.json").await;
    assert_eq!(served.status, StatusCode::OK);
    let document = json(&served);
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    let mut documented = BTreeSet::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let in_table: BTreeSet<(String, String)> = API_ROUTES
        .iter()
        .map(|route| (route.method.to_owned(), route.path.to_owned()))
        .collect();
    assert_eq!(documented, in_table);
    let key = store.inquiry_board().await.unwrap()[0].key.clone();
    let partner = store.partners(None, None).await.unwrap().value[0]
        .key
        .clone();
    let agreement = store
        .api_agreements(coopfolio_store::api::Visibility::Public)
        .await
        .unwrap()
        .agreements[0]
        .key
        .clone();
    let partnership = store.partnerships().await.unwrap()[0].key.clone();
    let project = store
        .projects(&coopfolio_store::portal::ProjectQuery {
            page: 1,
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .projects[0]
        .identifier
        .clone();
    for (method, path) in &documented {
        let uri = path
            .replace("{identifier}", &project)
            .replace(
                "{key}",
                if path.contains("inquiries") {
                    &key
                } else if path.contains("partnerships") {
                    &partnership
                } else if path.contains("agreements") {
                    &agreement
                } else {
                    &partner
                },
            )
            .replace("{alpha2}", "KE")
            .replace("{code}", "employment");
        let body = (method != "GET").then(|| valid_body(path, Role::Admin));
        let page = request(&store, method, &uri, Some(admin), body).await;
        assert!(
            page.status != StatusCode::NOT_FOUND && page.status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {uri}: {} {}",
            page.status,
            page.body
        );
        assert!(page.status.as_u16() < 500, "{method} {uri}: {}", page.body);
    }
    store.close().await;
}

/// A body each write route accepts from a user of `role` allowed to use it (each role moves
/// the inquiry to another stage, since a move to the stage it is at is refused).
pub fn valid_body(path: &str, role: Role) -> Value {
    match path {
        "/api/v1/inquiries" => serde_json::json!({
            "kind": "funding_question", "name": "Awa Ndiaye", "email": "awa@example.org",
            "organisation": "Fondation Rurale", "message": "Hello.", "consent": true
        }),
        "/api/v1/inquiries/{key}/stage" => serde_json::json!({
            "stage": if role == Role::Officer { "concept_note" } else { "appraisal" }
        }),
        "/api/v1/inquiries/{key}/notes" => serde_json::json!({ "note": "Checked." }),
        "/api/v1/inquiries/{key}/assignee" => serde_json::json!({ "assignee": null }),
        "/api/v1/inquiries/{key}/partner" => serde_json::json!({ "partner": "p-1" }),
        "/api/v1/partners" => serde_json::json!({
            "key": format!("api-new-{role}"), "names": { "en": "New partner" }
        }),
        "/api/v1/partners/{key}" => serde_json::json!({ "names": { "en": "Partner One" } }),
        "/api/v1/agreements" | "/api/v1/agreements/{key}" => {
            let mut agreement = serde_json::json!({
                "title": { "en": "Grant" }, "modality": "earmarked", "status": "signed",
                "signature_date": "2024-02-01", "currency": "USD", "amount": "5000",
                "partners": [{ "partner": "p-1" }]
            });
            if path == "/api/v1/agreements" {
                agreement["key"] = Value::from(format!("api-agr-{role}"));
            }
            agreement
        }
        "/api/v1/partnerships" => serde_json::json!({
            "key": format!("api-ms-{role}"), "names": { "en": "New" }, "level": "global"
        }),
        "/api/v1/partnerships/{key}" => serde_json::json!({
            "names": { "en": "Alliance" }, "level": "regional",
            "members": [{ "partner": "p-1", "role": "chair" }]
        }),
        "/api/v1/projects/{identifier}/extras" => serde_json::json!({
            "policy_areas": ["employment"], "markers": { "south_south": true }
        }),
        _ => Value::Null,
    }
}

#[tokio::test]
async fn a_browser_on_another_site_may_send_writes_with_a_token() {
    let store = demo_store().await;
    let preflight = Request::builder()
        .method("OPTIONS")
        .uri("/api/v1/partners/some-partner")
        .header("Origin", "https://partner.example")
        .header("Access-Control-Request-Method", "PUT")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type, if-match",
        )
        .body(Body::empty())
        .unwrap();
    let page = send(AppState::new(store.clone()), preflight).await;
    assert_eq!(page.status, StatusCode::NO_CONTENT);
    assert_eq!(page.headers["access-control-allow-origin"], "*");
    let methods = page.headers["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(
        methods.contains("PUT") && methods.contains("POST"),
        "{methods}"
    );
    let allowed = page.headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for name in ["authorization", "content-type", "if-match"] {
        assert!(allowed.contains(name), "{name} not in {allowed}");
    }
    // An OPTIONS that is not a preflight is what it always was: a method the path refuses.
    let plain = Request::builder()
        .method("OPTIONS")
        .uri("/api/v1/partners")
        .body(Body::empty())
        .unwrap();
    let page = send(AppState::new(store.clone()), plain).await;
    assert_eq!(page.status, StatusCode::METHOD_NOT_ALLOWED);
    store.close().await;
}
