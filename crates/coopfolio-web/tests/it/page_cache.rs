//! The page cache seen from outside: a public page comes with an `ETag` and is answered
//! `304 Not Modified` to a browser that holds it; the inquiry form and downloads are never
//! cached.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};

use crate::{demo_store, send};

fn get(uri: &str, headers: &[(header::HeaderName, &str)]) -> Request<Body> {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    request.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn public_pages_carry_an_etag_and_revalidate() {
    let store = demo_store().await;
    let state = coopfolio_web::AppState::new(store.clone());
    let first = send(state.clone(), get("/funding", &[])).await;
    assert_eq!(first.status, StatusCode::OK);
    let etag = first.headers[header::ETAG].to_str().unwrap().to_owned();
    assert!(first.headers[header::CACHE_CONTROL]
        .to_str()
        .unwrap()
        .starts_with("public"));
    // The same page again, from the cache: the same bytes and tag, the security headers too.
    let second = send(state.clone(), get("/funding", &[])).await;
    assert_eq!(second.body, first.body);
    assert_eq!(second.headers[header::ETAG], etag.as_str());
    assert!(second.headers.contains_key(header::CONTENT_SECURITY_POLICY));
    let revalidated = send(
        state.clone(),
        get("/funding", &[(header::IF_NONE_MATCH, etag.as_str())]),
    )
    .await;
    assert_eq!(revalidated.status, StatusCode::NOT_MODIFIED);
    assert!(revalidated.body.is_empty());
    // Another language is another page, with its own tag.
    let french = send(state.clone(), get("/funding?lang=fr", &[])).await;
    assert_ne!(french.headers[header::ETAG], etag.as_str());
    assert!(french.body.contains("<html lang=\"fr\">"));

    for uri in ["/contact", "/projects.csv?country=KE"] {
        let page = send(state.clone(), get(uri, &[])).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}");
        assert!(!page.headers.contains_key(header::ETAG), "{uri}");
    }
    store.close().await;
}
