//! What every response carries and what no response lets through: the security headers on
//! pages, assets and errors alike, and script in a query string coming back as text.

use axum::http::StatusCode;

use crate::{demo_store, get};

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let store = demo_store().await;
    for uri in [
        "/",
        "/projects",
        "/projects?year=abc",
        "/projects/XX-NOT-A-PROJECT",
        "/assets/style.css",
        "/nowhere",
    ] {
        let page = get(&store, uri).await;
        let csp = page
            .headers
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{uri}: no CSP"))
            .to_str()
            .unwrap();
        assert!(
            csp.starts_with(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:"
            ),
            "{uri}: {csp}"
        );
        assert_eq!(page.headers["x-content-type-options"], "nosniff", "{uri}");
    }
    store.close().await;
}

#[tokio::test]
async fn script_in_a_search_comes_back_escaped() {
    let store = demo_store().await;
    let page = get(
        &store,
        "/projects?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E%22%3E",
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("<script"));
    assert!(page
        .body
        .contains("value=\"&lt;script&gt;alert(1)&lt;&#x2f;script&gt;&quot;&gt;\""));
    store.close().await;
}

#[tokio::test]
async fn the_stylesheet_is_served_as_css() {
    let store = demo_store().await;
    let page = get(&store, "/assets/style.css").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.headers["content-type"], "text/css; charset=utf-8");
    assert!(page.body.contains(".chart .bar"));
    store.close().await;
}
