//! The API's record writes over a copy of the demo workspace: partners, agreements,
//! partnerships and projects' extras created and replaced by officer tokens, refused to the
//! public and viewers with nothing changed, each write audited with the token's user; bad
//! fields named by JSON pointer, unknown fields and taken keys refused as field errors;
//! `If-Match` with another ETag a 412 that changes nothing; a body over the limit a problem
//! 413 with or without `Content-Length`; problems in the request's language. The write
//! story also runs on PostgreSQL when `COOPFOLIO_TEST_POSTGRES_URL` is set.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use coopfolio_store::staff::Role;
use coopfolio_store::Store;
use coopfolio_web::AppState;
use serde_json::{json as object, Value};

use crate::api::{audit_log, content_type, json, request, workspace_with_tokens};
use crate::api_schema::assert_documented;
use crate::{send, Page};

/// The fields the problem names, in order.
fn fields(page: &Page) -> Vec<String> {
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    assert_eq!(content_type(page), "application/problem+json");
    json(page)["errors"]
        .as_array()
        .expect("an errors array")
        .iter()
        .map(|error| error["field"].as_str().unwrap().to_owned())
        .collect()
}

/// A write by `token`'s user.
async fn write(store: &Store, method: &str, uri: &str, token: &str, body: Value) -> Page {
    request(store, method, uri, Some(token), Some(body)).await
}

/// The answer of a 201, after checking where it says the record now is.
fn created_at(page: &Page, location: &str) -> Value {
    assert_eq!(page.status, StatusCode::CREATED, "{}", page.body);
    assert_eq!(page.headers["location"], location);
    json(page)
}

fn etag(page: &Page) -> String {
    page.headers
        .get("etag")
        .expect("an ETag")
        .to_str()
        .unwrap()
        .to_owned()
}

async fn with_if_match(
    store: &Store,
    method: &str,
    uri: &str,
    token: &str,
    if_match: &str,
    body: &Value,
) -> Page {
    send(
        AppState::new(store.clone()),
        Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .header("if-match", if_match)
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

/// The whole life of a partner, an agreement, a partnership and a project's extras through
/// the API, on `store` with a token of each role.
async fn records_are_written_as_the_workspace_writes_them(
    store: &Store,
    tokens: &[(Role, String)],
) {
    let (viewer, officer) = (&tokens[0].1, &tokens[1].1);
    let document = json(&request(store, "GET", "/api/v1/openapi.json", None, None).await);
    let audit_before = audit_log(store).await.total;

    // A partner: refused to the public and a viewer, with nothing stored.
    let partner = object!({
        "key": "api-foundation",
        "names": { "en": "Api Foundation", "fr": "Fondation Api" },
        "country": "SN",
        "organisation_type": "60"
    });
    for (token, status) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some(viewer.as_str()), StatusCode::FORBIDDEN),
    ] {
        let refused = request(
            store,
            "POST",
            "/api/v1/partners",
            token,
            Some(partner.clone()),
        )
        .await;
        assert_eq!(refused.status, status, "{}", refused.body);
        assert_eq!(content_type(&refused), "application/problem+json");
    }
    assert!(store
        .staff_partner("api-foundation")
        .await
        .unwrap()
        .is_none());
    assert_eq!(audit_log(store).await.total, audit_before);

    let created = write(store, "POST", "/api/v1/partners", officer, partner.clone()).await;
    let body = created_at(&created, "/api/v1/partners/api-foundation");
    assert_eq!(
        body["names"]["es"], "Api Foundation",
        "an untranslated name takes the English"
    );
    assert_eq!(
        body["group"], "foundation",
        "the rules derive the group from type 60"
    );
    assert_documented(&document, "post", "/api/v1/partners", "201", &body);
    // The record as written is the record as read, ETag and all.
    let read = request(
        store,
        "GET",
        "/api/v1/partners/api-foundation",
        Some(officer),
        None,
    )
    .await;
    assert_eq!(json(&read), body);
    assert_eq!(etag(&read), etag(&created));

    // A taken key, an unknown field (at the top and inside), a bad value: each a field.
    let taken = write(store, "POST", "/api/v1/partners", officer, partner.clone()).await;
    assert_eq!(fields(&taken), ["/key"]);
    let mut unknown = partner.clone();
    unknown["nickname"] = Value::from("Api");
    assert_eq!(
        fields(&write(store, "POST", "/api/v1/partners", officer, unknown).await),
        ["/nickname"]
    );
    let mut nested = partner.clone();
    nested["names"]["de"] = Value::from("Api Stiftung");
    assert_eq!(
        fields(&write(store, "POST", "/api/v1/partners", officer, nested).await),
        ["/names/de"]
    );
    let bad = object!({ "key": "Not A Key", "names": { "fr": "Sans nom" }, "country": "XX" });
    assert_eq!(
        fields(&write(store, "POST", "/api/v1/partners", officer, bad).await),
        ["/names/en"],
        "a missing required field is named first, before the checks run"
    );
    let bad = object!({ "key": "Not A Key", "names": { "en": "" }, "country": "XX" });
    assert_eq!(
        fields(&write(store, "POST", "/api/v1/partners", officer, bad).await),
        ["/key", "/names/en", "/country"]
    );

    // Replacing: an old ETag is a 412 that changes nothing; the current one goes through.
    let uri = "/api/v1/partners/api-foundation";
    let renamed = object!({ "names": { "en": "Api Foundation for Work" }, "country": "SN" });
    let stale = with_if_match(store, "PUT", uri, officer, "\"0123\"", &renamed).await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.body
    );
    assert_eq!(content_type(&stale), "application/problem+json");
    assert_eq!(
        json(&request(store, "GET", uri, Some(officer), None).await),
        body
    );
    let replaced = with_if_match(store, "PUT", uri, officer, &etag(&created), &renamed).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(json(&replaced)["names"]["en"], "Api Foundation for Work");
    assert_eq!(
        json(&replaced)["organisation_type"],
        Value::Null,
        "PUT replaces whole"
    );
    assert_documented(
        &document,
        "put",
        "/api/v1/partners/{key}",
        "200",
        &json(&replaced),
    );
    // The ETag the write gave is the one to send next; the first one no longer is.
    let again = with_if_match(store, "PUT", uri, officer, &etag(&created), &renamed).await;
    assert_eq!(again.status, StatusCode::PRECONDITION_FAILED);
    let moved_key = object!({ "key": "other", "names": { "en": "X" } });
    assert_eq!(
        fields(&write(store, "PUT", uri, officer, moved_key).await),
        ["/key"]
    );
    let missing = write(
        store,
        "PUT",
        "/api/v1/partners/no-such-partner",
        officer,
        renamed.clone(),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // An agreement with shares, instalments, earmarks, a document; bad rows named by pointer.
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
    let mut agreement = object!({
        "key": "api-grant-1",
        "title": { "en": "Rural employment grant" },
        "modality": "earmarked",
        "status": "signed",
        "signature_date": "2024-03-01",
        "start_date": "2024-04-01",
        "end_date": "2026-03-31",
        "currency": "EUR",
        "amount": "1000000.50",
        "partners": [{ "partner": "api-foundation" }],
        "instalments": [
            { "due_date": "2024-04-01", "amount": "500000.25", "received_date": "2024-04-15", "received_amount": "500000.25" },
            { "due_date": "2025-04-01", "amount": "500000.25" }
        ],
        "earmarks": [
            { "kind": "project", "target": project, "amount": "600000" },
            { "kind": "policy_area", "target": "employment" }
        ],
        "confidential": true,
        "documents": [{ "url": "https://example.org/grant.pdf", "label": "Signed agreement" }]
    });
    let mut bad = agreement.clone();
    bad["instalments"][1]["amount"] = Value::from("half a million");
    bad["instalments"][0]["received_amount"] = Value::from("");
    bad["earmarks"][1]["target"] = Value::from("astrology");
    bad["documents"][0]["url"] = Value::from("javascript:alert(1)");
    bad["end_date"] = Value::from("2023-01-01");
    let refused = write(store, "POST", "/api/v1/agreements", officer, bad).await;
    assert_eq!(
        fields(&refused),
        [
            "/end_date",
            "/instalments/0/received_amount",
            "/instalments/1/amount",
            "/earmarks/1/target",
            "/documents/0/url"
        ]
    );
    let mut money_as_number = agreement.clone();
    money_as_number["amount"] = Value::from(1000000.5);
    assert_eq!(
        fields(
            &write(
                store,
                "POST",
                "/api/v1/agreements",
                officer,
                money_as_number
            )
            .await
        ),
        ["/amount"]
    );
    let mut no_partner = agreement.clone();
    no_partner["partners"] = object!([]);
    assert_eq!(
        fields(&write(store, "POST", "/api/v1/agreements", officer, no_partner).await),
        ["/partners"]
    );
    assert!(store
        .staff_agreement("api-grant-1")
        .await
        .unwrap()
        .is_none());

    let created = write(
        store,
        "POST",
        "/api/v1/agreements",
        officer,
        agreement.clone(),
    )
    .await;
    let body = created_at(&created, "/api/v1/agreements/api-grant-1");
    // The exact amount, its trailing zero aside, on both backends.
    assert_eq!(body["amount"], "1000000.5");
    assert_eq!(body["confidential"], true);
    assert_eq!(body["instalments"][0]["received_amount"], "500000.25");
    assert_eq!(body["documents"][0]["label"], "Signed agreement");
    assert_eq!(body["earmarks"].as_array().unwrap().len(), 2);
    assert_documented(&document, "post", "/api/v1/agreements", "201", &body);
    let stored = store.staff_agreement("api-grant-1").await.unwrap().unwrap();
    assert_eq!(stored.agreement.instalments.len(), 2);
    // Confidential: the public is not told it exists.
    let public = request(store, "GET", "/api/v1/agreements/api-grant-1", None, None).await;
    assert_eq!(public.status, StatusCode::NOT_FOUND);

    let uri = "/api/v1/agreements/api-grant-1";
    agreement["amount"] = Value::from("1200000.50");
    agreement["instalments"][1]["amount"] = Value::from("700000.25");
    let stale = with_if_match(store, "PUT", uri, officer, "\"stale\"", &agreement).await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        store.staff_agreement("api-grant-1").await.unwrap().unwrap(),
        stored
    );
    let replaced = with_if_match(store, "PUT", uri, officer, &etag(&created), &agreement).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(json(&replaced)["amount"], "1200000.5");
    assert_documented(
        &document,
        "put",
        "/api/v1/agreements/{key}",
        "200",
        &json(&replaced),
    );

    // A partnership: a member twice is named at its row.
    let mut partnership = object!({
        "key": "api-alliance",
        "names": { "en": "Api Alliance" },
        "level": "regional",
        "policy_areas": ["employment", "skills"],
        "members": [
            { "partner": "api-foundation", "role": "chair" },
            { "partner": "api-foundation", "role": "member" }
        ]
    });
    assert_eq!(
        fields(
            &write(
                store,
                "POST",
                "/api/v1/partnerships",
                officer,
                partnership.clone()
            )
            .await
        ),
        ["/members/1/partner"]
    );
    partnership["members"].as_array_mut().unwrap().pop();
    let created = write(
        store,
        "POST",
        "/api/v1/partnerships",
        officer,
        partnership.clone(),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(json(&created)["members"][0]["role"], "chair");
    assert_documented(
        &document,
        "post",
        "/api/v1/partnerships",
        "201",
        &json(&created),
    );
    partnership["level"] = Value::from("planetary");
    assert_eq!(
        fields(
            &write(
                store,
                "PUT",
                "/api/v1/partnerships/api-alliance",
                officer,
                partnership.clone()
            )
            .await
        ),
        ["/level"]
    );
    partnership["level"] = Value::from("global");
    let replaced = write(
        store,
        "PUT",
        "/api/v1/partnerships/api-alliance",
        officer,
        partnership,
    )
    .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(json(&replaced)["summary"]["level"], "global");

    // A project's extras.
    let uri = format!("/api/v1/projects/{project}/extras");
    let bad = object!({ "policy_areas": ["astrology"], "markers": {} });
    assert_eq!(
        fields(&write(store, "PUT", &uri, officer, bad).await),
        ["/policy_areas"]
    );
    let extras = object!({ "policy_areas": ["migration"], "markers": { "triangular": true } });
    let saved = write(store, "PUT", &uri, officer, extras).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(json(&saved)["policy_areas"], object!(["migration"]));
    assert!(
        store
            .staff_project_extras(&project)
            .await
            .unwrap()
            .markers
            .triangular
    );
    assert_documented(
        &document,
        "put",
        "/api/v1/projects/{identifier}/extras",
        "200",
        &json(&saved),
    );

    // Every save was audited with the token's user, and nothing else was.
    let audit = audit_log(store).await;
    let saves = [
        ("partner", "api-foundation"),
        ("partner", "api-foundation"),
        ("agreement", "api-grant-1"),
        ("agreement", "api-grant-1"),
        ("partnership", "api-alliance"),
        ("partnership", "api-alliance"),
        ("project", project.as_str()),
    ];
    assert_eq!(audit.total, audit_before + saves.len() as u64);
    // Events of the same second may come in either order; what they are may not.
    let mut written: Vec<(String, String)> = audit.events[..saves.len()]
        .iter()
        .map(|event| {
            assert_eq!(event.actor, "officer@api.example.org");
            (event.entity_kind.clone(), event.entity_key.clone())
        })
        .collect();
    written.sort();
    let mut expected: Vec<(String, String)> = saves
        .iter()
        .map(|(kind, key)| ((*kind).to_owned(), (*key).to_owned()))
        .collect();
    expected.sort();
    assert_eq!(written, expected);
}

#[tokio::test]
async fn records_are_written_through_the_api_on_sqlite() {
    let (store, _folder, tokens) = workspace_with_tokens().await;
    records_are_written_as_the_workspace_writes_them(&store, &tokens).await;
    store.close().await;
}

#[tokio::test]
async fn records_are_written_through_the_api_on_postgresql() {
    let Some(database) = crate::filters::PostgresDatabase::create() else {
        return;
    };
    let store = Store::connect(&database.url).await.expect("connecting");
    coopfolio::demo::load_demo(
        &store,
        &coopfolio_demo::DemoOptions::default(),
        coopfolio_core::codelists::Codelists::bundled(),
    )
    .await
    .expect("loading the demo on PostgreSQL");
    let mut tokens = Vec::new();
    for role in Role::ALL {
        let email = format!("{role}@api.example.org");
        store
            .add_staff_user(&email, role, "a long enough passphrase", "test")
            .await
            .expect("adding a user");
        tokens.push((
            role,
            store
                .create_api_token(&email, Some("tests"), "test")
                .await
                .unwrap()
                .secret,
        ));
    }
    records_are_written_as_the_workspace_writes_them(&store, &tokens).await;
    store.close().await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_problem_with_or_without_its_length() {
    let (store, _folder, tokens) = workspace_with_tokens().await;
    let officer = &tokens[1].1;
    let big = format!(
        "{{\"key\":\"big\",\"names\":{{\"en\":\"{}\"}}}}",
        "x".repeat(70 * 1024)
    );
    let declared = send(
        AppState::new(store.clone()),
        Request::post("/api/v1/partners")
            .header("authorization", format!("Bearer {officer}"))
            .header("content-type", "application/json")
            .header("content-length", big.len())
            .body(Body::from(big.clone()))
            .unwrap(),
    )
    .await;
    let chunks: Vec<Result<String, std::io::Error>> = big
        .as_bytes()
        .chunks(8 * 1024)
        .map(|chunk| Ok(String::from_utf8(chunk.to_vec()).unwrap()))
        .collect();
    let streamed = send(
        AppState::new(store.clone()),
        Request::post("/api/v1/partners")
            .header("authorization", format!("Bearer {officer}"))
            .header("content-type", "application/json")
            .body(Body::from_stream(futures_util::stream::iter(chunks)))
            .unwrap(),
    )
    .await;
    for page in [declared, streamed] {
        assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", page.body);
        assert_eq!(content_type(&page), "application/problem+json");
        let problem = json(&page);
        assert!(
            problem["detail"].as_str().unwrap().contains("65536"),
            "{problem}"
        );
        assert_eq!(problem["instance"], "/api/v1/partners");
    }
    assert!(store.staff_partner("big").await.unwrap().is_none());
    // The portal's own forms keep the site's plain refusal.
    let form = send(
        AppState::new(store.clone()),
        Request::post("/contact")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("content-length", big.len())
            .body(Body::from(big))
            .unwrap(),
    )
    .await;
    assert_eq!(form.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_ne!(content_type(&form), "application/problem+json");
    store.close().await;
}

#[tokio::test]
async fn problems_speak_the_language_of_accept_language() {
    let (store, _folder, tokens) = workspace_with_tokens().await;
    let officer = &tokens[1].1;
    let ask = |language: &'static str, uri: &'static str, body: Option<Value>| {
        let store = store.clone();
        let officer = officer.clone();
        async move {
            let mut builder = Request::builder()
                .method(if body.is_some() { "POST" } else { "GET" })
                .uri(uri)
                .header("accept-language", language);
            if body.is_some() {
                builder = builder
                    .header("authorization", format!("Bearer {officer}"))
                    .header("content-type", "application/json");
            }
            let body = body.map_or_else(Body::empty, |body| Body::from(body.to_string()));
            json(&send(AppState::new(store), builder.body(body).unwrap()).await)
        }
    };
    for (language, title, detail) in [
        ("en", "Not found", "No partner 'nobody' is stored."),
        (
            "fr-FR,fr;q=0.9",
            "Introuvable",
            "Aucun partenaire « nobody » n'est enregistré.",
        ),
        (
            "es",
            "No encontrado",
            "No hay ningún socio «nobody» registrado.",
        ),
    ] {
        let problem = ask(language, "/api/v1/partners/nobody", None).await;
        assert_eq!(problem["title"], title, "{language}");
        assert_eq!(problem["detail"], detail, "{language}");
    }
    let bad = object!({ "key": "x", "names": { "en": "" } });
    let english = ask("en", "/api/v1/partners", Some(bad.clone())).await;
    let french = ask("fr", "/api/v1/partners", Some(bad)).await;
    assert_eq!(english["errors"][0]["field"], "/names/en");
    assert_eq!(english["errors"][0]["message"], "This field is required.");
    assert_eq!(french["title"], "Des champs du corps ne sont pas valables");
    assert_eq!(french["errors"][0]["message"], "Ce champ est obligatoire.");
    let unauthorized = ask("es", "/api/v1/inquiries", None).await;
    assert_eq!(unauthorized["title"], "Se requiere autenticación");
    store.close().await;
}
