//! The OpenAPI document against what the API really answers: every response and request body
//! has a schema of its own (never a free-form object), and a real answer of every read
//! endpoint over the demo workspace has the documented shape: every required property there
//! with the documented JSON type, and no property the document does not name. The document
//! is walked here by hand (`$ref`, `oneOf`/`anyOf`/`allOf`, `type`, `properties`, `required`,
//! `items`), which is all utoipa writes.

use serde_json::Value;

use crate::api::{json, request, workspace_with_tokens};

/// The schema `pointer` (`#/components/schemas/Name`) names.
fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("an unexpected $ref {reference}"));
            let target = &document["components"]["schemas"][name];
            assert!(!target.is_null(), "{reference} is not in the document");
            resolve(document, target)
        }
        None => schema,
    }
}

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        other => panic!("an unknown JSON type {other}"),
    }
}

/// Every way `value` differs from `schema`, each with where (a JSON pointer).
fn differences(document: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let schema = resolve(document, schema);
    let mut found = Vec::new();
    if let Some(alternatives) = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
    {
        let fits = alternatives
            .iter()
            .any(|alternative| differences(document, alternative, value, at).is_empty());
        if !fits {
            found.push(format!("{at}: fits none of the alternatives: {value}"));
        }
        return found;
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for part in all {
            found.extend(differences(document, part, value, at));
        }
        return found;
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(name)) => vec![name.as_str()],
        Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() && !types.iter().any(|name| type_matches(name, value)) {
        found.push(format!("{at}: {value} is not of type {types:?}"));
        return found;
    }
    match value {
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter().enumerate() {
                    found.extend(differences(
                        document,
                        item_schema,
                        item,
                        &format!("{at}/{index}"),
                    ));
                }
            }
        }
        Value::Object(object) => {
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for required in schema
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if !object.contains_key(required) {
                        found.push(format!("{at}: the required {required} is missing"));
                    }
                }
                for (name, property) in object {
                    match properties.get(name) {
                        Some(property_schema) => found.extend(differences(
                            document,
                            property_schema,
                            property,
                            &format!("{at}/{name}"),
                        )),
                        None => found.push(format!("{at}/{name}: not documented")),
                    }
                }
            }
        }
        _ => {}
    }
    found
}

/// The schema of an operation's answer with `status`.
fn response_schema<'a>(document: &'a Value, method: &str, path: &str, status: &str) -> &'a Value {
    let schema = &document["paths"][path][method]["responses"][status]["content"]
        ["application/json"]["schema"];
    assert!(
        !schema.is_null(),
        "{method} {path} documents no JSON answer with {status}"
    );
    schema
}

/// Fails, saying every difference, unless `answer` has the shape the document gives the
/// answer of `method path` with `status`.
pub fn assert_documented(document: &Value, method: &str, path: &str, status: &str, answer: &Value) {
    let schema = response_schema(document, method, path, status);
    let found = differences(document, schema, answer, "");
    assert!(
        found.is_empty(),
        "{method} {path} {status} differs from its schema:\n{}",
        found.join("\n")
    );
}

/// Whether a schema says something of its values: a reference, a list of something, or an
/// object with properties; `{}` and a bare `object` say nothing.
fn is_real(document: &Value, schema: &Value) -> bool {
    let schema = resolve(document, schema);
    if schema.get("oneOf").is_some() || schema.get("anyOf").is_some() {
        return true;
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => is_real(document, &schema["items"]),
        Some("object") => schema.get("properties").is_some(),
        Some(_) => true,
        None => schema.get("properties").is_some(),
    }
}

/// Every body the document describes, answers and requests alike, has a real schema.
#[tokio::test]
async fn every_body_the_document_describes_has_a_schema_of_its_own() {
    let (store, _folder, _tokens) = workspace_with_tokens().await;
    let document = json(&request(&store, "GET", "/api/v1/openapi.json", None, None).await);
    let mut bodies = 0;
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let mut schemas: Vec<(String, &Value)> = Vec::new();
            for (status, response) in operation["responses"].as_object().unwrap() {
                for (media, content) in response["content"].as_object().into_iter().flatten() {
                    schemas.push((format!("{status} {media}"), &content["schema"]));
                }
            }
            for (media, content) in operation["requestBody"]["content"]
                .as_object()
                .into_iter()
                .flatten()
            {
                schemas.push((format!("request {media}"), &content["schema"]));
            }
            for (what, schema) in schemas {
                bodies += 1;
                assert!(
                    is_real(&document, schema),
                    "{method} {path} {what}: {schema}"
                );
            }
        }
    }
    assert!(bodies > 100, "{bodies} bodies described");
    // The writes document their refusals, each a problem.
    for (method, path, statuses) in [
        (
            "post",
            "/api/v1/partners",
            &["201", "401", "403", "413", "415", "422"][..],
        ),
        (
            "put",
            "/api/v1/agreements/{key}",
            &["200", "404", "412", "413", "422"][..],
        ),
    ] {
        let responses = &document["paths"][path][method]["responses"];
        for status in statuses {
            assert!(!responses[status].is_null(), "{method} {path} {status}");
        }
        assert!(
            !responses["422"]["content"]["application/problem+json"].is_null(),
            "{method} {path}"
        );
    }
    // The problem document is one of them, with its fields.
    let problem = &document["components"]["schemas"]["Problem"];
    for field in ["type", "title", "status", "detail", "errors"] {
        assert!(!problem["properties"][field].is_null(), "Problem.{field}");
    }
    store.close().await;
}

/// A real answer of every read endpoint, to the public and to a staff token, has the
/// documented shape; so does every problem the reads gave on the way.
#[tokio::test]
async fn every_read_answer_has_the_documented_shape() {
    let (store, _folder, tokens) = workspace_with_tokens().await;
    let viewer = tokens[0].1.clone();
    let document = json(&request(&store, "GET", "/api/v1/openapi.json", None, None).await);
    let inquiry = store.inquiry_board().await.unwrap()[0].key.clone();
    // A partner with a roll-up, agreements and partnerships says the most.
    let partners = store.partners(None, None).await.unwrap().value;
    let partner = partners
        .iter()
        .find(|partner| partner.rollup_code.is_some())
        .unwrap_or(&partners[0])
        .key
        .clone();
    let staff_agreements = store
        .api_agreements(coopfolio_store::api::Visibility::Staff)
        .await
        .unwrap()
        .agreements;
    // One with instalments, so that the staff part is not empty.
    let mut agreement = staff_agreements[0].key.clone();
    for candidate in &staff_agreements {
        let stored = store
            .staff_agreement(&candidate.key)
            .await
            .unwrap()
            .unwrap();
        if !stored.agreement.instalments.is_empty() && !candidate.confidential {
            agreement = candidate.key.clone();
            break;
        }
    }
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
    let mut checked = 0;
    for (path, operations) in document["paths"].as_object().unwrap() {
        if operations.get("get").is_none() {
            continue;
        }
        let key = if path.contains("inquiries") {
            &inquiry
        } else if path.contains("partnerships") {
            &partnership
        } else if path.contains("agreements") {
            &agreement
        } else {
            &partner
        };
        let uri = path
            .replace("{identifier}", &project)
            .replace("{key}", key)
            .replace("{alpha2}", "KE")
            .replace("{code}", "employment")
            // Search needs its words.
            .replace("/api/v1/search", "/api/v1/search?q=employment");
        let staff_only = path.contains("inquiries");
        let callers: Vec<Option<&str>> = if staff_only {
            vec![Some(&viewer)]
        } else {
            vec![None, Some(&viewer)]
        };
        for caller in callers {
            let page = request(&store, "GET", &uri, caller, None).await;
            assert_eq!(page.status.as_u16(), 200, "{uri}: {}", page.body);
            assert_documented(&document, "get", path, "200", &json(&page));
            checked += 1;
        }
    }
    assert!(checked >= 30, "{checked} answers checked");
    // Problems have the documented shape too.
    let problem = json(&request(&store, "GET", "/api/v1/partners/nobody", None, None).await);
    let schema = &document["paths"]["/api/v1/partners/{key}"]["get"]["responses"]["404"]["content"]
        ["application/problem+json"]["schema"];
    let found = differences(&document, schema, &problem, "");
    assert!(found.is_empty(), "{}", found.join("\n"));
    store.close().await;
}
