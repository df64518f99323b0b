//! The programmes and projects explorer and the project page.

use axum::http::StatusCode;
use coopfolio_store::portal::ProjectQuery;

use crate::{demo_store, escaped, get, Page};

/// The result count the explorer page states.
fn count(page: &Page) -> u64 {
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let marker = "<strong id=\"result-count\">";
    let start = page.body.find(marker).expect("a count") + marker.len();
    let end = start + page.body[start..].find('<').unwrap();
    page.body[start..end].parse().expect("a number")
}

#[tokio::test]
async fn filters_change_the_result_count() {
    let store = demo_store().await;
    let all = count(&get(&store, "/projects").await);
    assert!(all > 50, "the demo lists {all} programmes and projects");
    for filter in [
        "region=africa",
        "area=social_protection",
        "status=2",
        "year=2016",
        "country=KE",
    ] {
        let filtered = count(&get(&store, &format!("/projects?{filter}")).await);
        assert!(filtered < all, "{filter}: {filtered} of {all}");
    }
    // Filters combine: both hold at once.
    let africa = count(&get(&store, "/projects?region=africa").await);
    let both = count(&get(&store, "/projects?region=africa&status=2").await);
    assert!(both <= africa);
    // Empty fields, as a form submits them, mean "any".
    let empty = count(
        &get(
            &store,
            "/projects?q=&country=&region=&area=&status=&year=&sort=",
        )
        .await,
    );
    assert_eq!(empty, all);
    store.close().await;
}

#[tokio::test]
async fn search_finds_a_title_and_pages_hold_fifty() {
    let store = demo_store().await;
    let first = store.projects(&first_page()).await.unwrap().projects[0].clone();
    let title = first.title.clone().expect("a title");
    let word: String = title.split_whitespace().next().unwrap().to_owned();
    let found = count(&get(&store, &format!("/projects?q={}", word.to_lowercase())).await);
    assert!(found >= 1);
    let page = get(&store, "/projects").await;
    assert_eq!(
        page.body.matches("<tr>\n<td><a href=\"/projects/").count(),
        50
    );
    // The link keeps the view and moves the page; minijinja escapes the slash, which a browser
    // reads back as one.
    let next = format!("rel=\"next\" href=\"{}\"", escaped("/projects?page=2"));
    assert!(page.body.contains(&next), "no {next}");
    let second = get(&store, "/projects?page=2&sort=start_desc").await;
    assert!(second.body.contains("rel=\"prev\""));
    store.close().await;
}

#[tokio::test]
async fn a_project_page_shows_its_title_and_records() {
    let store = demo_store().await;
    let first = store.projects(&first_page()).await.unwrap().projects[0].clone();
    let page = get(&store, &format!("/projects/{}", first.identifier)).await;
    assert_eq!(page.status, StatusCode::OK);
    let title = first.title.expect("a title");
    assert!(page.body.contains(&format!("<h1>{}</h1>", escaped(&title))));
    for heading in [
        "Participating organisations",
        "Budgets",
        "Transactions",
        "Sectors",
    ] {
        assert!(
            page.body.contains(&format!("<h2>{heading}</h2>")),
            "{heading}"
        );
    }
    store.close().await;
}

#[tokio::test]
async fn an_unknown_project_is_a_404_page() {
    let store = demo_store().await;
    let page = get(&store, "/projects/XX-NOT-A-PROJECT").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("<h1>Page not found</h1>"));
    assert!(page.body.contains("XX-NOT-A-PROJECT"));
    let page = get(&store, "/no-such-page").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    store.close().await;
}

#[tokio::test]
async fn a_bad_filter_value_is_a_400_that_names_it() {
    let store = demo_store().await;
    for (query, named) in [
        ("year=abc", "&#x27;abc&#x27; is not a year"),
        ("region=mars", "&#x27;mars&#x27; is not an ILO region"),
        ("country=ZZZZ", "&#x27;ZZZZ&#x27; is not a country code"),
        ("page=0", "&#x27;0&#x27; is not a page number"),
        ("sort=random", "&#x27;random&#x27; is not a sort order"),
    ] {
        let page = get(&store, &format!("/projects?{query}")).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(page.body.contains(named), "{query}: {}", page.body);
    }
    store.close().await;
}

fn first_page() -> ProjectQuery {
    ProjectQuery {
        page: 1,
        page_size: 50,
        ..ProjectQuery::default()
    }
}
