//! The request's language: `?lang=` (which sets the cookie), else the cookie, else
//! `Accept-Language`, else English; the language switch; every page in every language; error
//! pages in the request's language.

use axum::http::StatusCode;
use coopfolio_store::entities::Scope;
use coopfolio_store::portal::ProjectQuery;

use crate::{demo_store, escaped, get, get_with_headers, Page};

fn html_lang(page: &Page) -> &str {
    let start = page.body.find("<html lang=\"").expect("an html element") + 12;
    let end = start + page.body[start..].find('"').unwrap();
    &page.body[start..end]
}

fn set_cookie(page: &Page) -> Option<String> {
    page.headers
        .get("set-cookie")
        .map(|value| value.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn lang_in_the_url_gives_french_and_sets_the_cookie() {
    let store = demo_store().await;
    let page = get(&store, "/?lang=fr").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(html_lang(&page), "fr");
    assert!(page
        .body
        .contains(&escaped("Coopération pour le développement")));
    assert!(page.body.contains("Comment ce chiffre est-il calculé ?"));
    assert!(page.body.contains("(2022-01-01 au 2023-12-31)"));
    let cookie = set_cookie(&page).expect("a cookie");
    for part in ["lang=fr", "Path=/", "SameSite=Lax", "HttpOnly"] {
        assert!(cookie.contains(part), "{part} in {cookie}");
    }
    // Caches must not hand this French page to someone else.
    let vary = page.headers["vary"].to_str().unwrap();
    assert!(
        vary.contains("Cookie") && vary.contains("Accept-Language"),
        "{vary}"
    );
    // English stays the default without it, and sets no cookie.
    let english = get(&store, "/").await;
    assert_eq!(html_lang(&english), "en");
    assert!(set_cookie(&english).is_none());
    store.close().await;
}

#[tokio::test]
async fn the_cookie_alone_keeps_french() {
    let store = demo_store().await;
    let page = get_with_headers(&store, "/projects", &[("cookie", "theme=x; lang=fr")]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(html_lang(&page), "fr");
    assert!(page.body.contains("Programmes et projets"));
    assert!(
        set_cookie(&page).is_none(),
        "the cookie is only set by ?lang="
    );
    // The URL wins over the cookie.
    let page = get_with_headers(&store, "/projects?lang=es", &[("cookie", "lang=fr")]).await;
    assert_eq!(html_lang(&page), "es");
    store.close().await;
}

#[tokio::test]
async fn accept_language_gives_spanish_and_an_unknown_language_english() {
    let store = demo_store().await;
    let page = get_with_headers(&store, "/", &[("accept-language", "es-ES,es;q=0.9")]).await;
    assert_eq!(html_lang(&page), "es");
    assert!(page
        .body
        .contains(&escaped("Cooperación para el desarrollo")));
    let page = get_with_headers(
        &store,
        "/",
        &[("accept-language", "de-DE,en;q=0.3,fr;q=0.8")],
    )
    .await;
    assert_eq!(html_lang(&page), "fr");
    for uri in ["/?lang=de", "/?lang="] {
        let page = get_with_headers(&store, uri, &[("accept-language", "de-DE")]).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}");
        assert_eq!(html_lang(&page), "en", "{uri}");
        assert!(set_cookie(&page).is_none(), "{uri}");
    }
    store.close().await;
}

#[tokio::test]
async fn the_language_switch_keeps_the_path_and_query() {
    let store = demo_store().await;
    let page = get(&store, "/projects?region=africa&lang=fr").await;
    let spanish = escaped("/projects?region=africa&lang=es");
    assert!(
        page.body.contains(&format!("href=\"{spanish}\"")),
        "no link to {spanish}"
    );
    let french = escaped("/projects?region=africa&lang=fr");
    assert!(page.body.contains(&format!(
        "href=\"{french}\" hreflang=\"fr\" lang=\"fr\" aria-current=\"true\""
    )));
    assert_eq!(page.body.matches("aria-current=\"true\"").count(), 1);
    store.close().await;
}

#[tokio::test]
async fn every_page_renders_in_every_language() {
    let store = demo_store().await;
    let project = store
        .projects(&ProjectQuery {
            page: 1,
            page_size: 1,
            ..ProjectQuery::default()
        })
        .await
        .unwrap()
        .projects[0]
        .identifier
        .clone();
    let partner = store.partners(None, None).await.unwrap().value[0]
        .key
        .clone();
    let partnership = store.partnerships().await.unwrap()[0].key.clone();
    let place = store.place(Scope::Country("KE")).await.unwrap();
    assert!(!place.countries.is_empty());
    let uris = [
        "/".to_owned(),
        "/projects".to_owned(),
        format!("/projects/{project}"),
        "/partners".to_owned(),
        "/partners?group=government".to_owned(),
        format!("/partners/{partner}"),
        "/countries/KE".to_owned(),
        "/policy-areas/social_protection".to_owned(),
        "/partnerships".to_owned(),
        format!("/partnerships/{partnership}"),
        "/funding".to_owned(),
        "/funding?period=2020-21".to_owned(),
        "/contact".to_owned(),
        "/contact/thanks?reference=INQ-2026-000001".to_owned(),
    ];
    for lang in ["en", "fr", "es"] {
        for uri in &uris {
            let separator = if uri.contains('?') { '&' } else { '?' };
            let page = get(&store, &format!("{uri}{separator}lang={lang}")).await;
            assert_eq!(
                page.status,
                StatusCode::OK,
                "{uri} in {lang}: {}",
                page.body
            );
            assert_eq!(html_lang(&page), lang, "{uri}");
            // A key missing from a catalog shows as the key itself.
            for key in [
                "no_such_",
                "nav_funding",
                "language_switch",
                "partners_title",
            ] {
                assert!(!page.body.contains(key), "{uri} in {lang} shows {key}");
            }
        }
    }
    store.close().await;
}

#[tokio::test]
async fn the_404_page_comes_in_the_request_language() {
    let store = demo_store().await;
    let page = get(&store, "/nowhere?lang=es").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(html_lang(&page), "es");
    assert!(page.body.contains(&escaped("Página no encontrada")));
    assert!(page.body.contains(&escaped("No existe ninguna página en")));
    let page = get_with_headers(&store, "/partners/nobody-at-all", &[("cookie", "lang=fr")]).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("<h1>Page introuvable</h1>"));
    assert!(page
        .body
        .contains("Aucun partenaire ne porte la clé nobody-at-all"));
    let page = get(&store, "/projects/XX-NOT-A-PROJECT?lang=fr").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("Aucun programme ni projet"));
    // A bad query value says what was wrong in the request's language too.
    let page = get(&store, "/funding?period=someday&lang=es").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("No es un período"));
    store.close().await;
}
