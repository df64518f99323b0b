//! A crawl of the whole portal over the demo database: from `/`, every same-site link and
//! every GET form's action is followed (up to a bound), and no page may answer 404 or 5xx.
//! It finds the links a template gets wrong, which no test of a single page would.

use std::collections::{BTreeSet, VecDeque};

use axum::http::StatusCode;

use crate::{demo_store, get, Page};

/// Enough for every page of the demo (about 5,500: the explorer's pages, every programme and
/// project, partner and country, most of them in each of the three languages), with room for
/// what comes next, and an end if a template starts making endless links.
const MAX_PAGES: usize = 10_000;

/// Files to download rather than pages to read: asked for as links, never opened.
const DOWNLOAD_EXTENSIONS: [&str; 7] = [".csv", ".xlsx", ".json", ".xml", ".zip", ".pdf", ".png"];

#[tokio::test]
async fn every_page_reachable_from_home_answers() {
    let store = demo_store().await;
    let crawl = crawl(&store).await;
    let failures: Vec<String> = crawl
        .pages
        .iter()
        .filter(|(_, page)| page.status == StatusCode::NOT_FOUND || page.status.is_server_error())
        .map(|(uri, page)| format!("{uri}: {}", page.status))
        .collect();
    println!(
        "crawl: visited {} pages, {} more queued",
        crawl.pages.len(),
        crawl.queued
    );
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(
        crawl.queued, 0,
        "the crawl stopped at its bound, short of the whole portal"
    );
    // The crawl did reach what the portal is: the explorer, project pages, the form.
    let seen: BTreeSet<&str> = crawl.pages.iter().map(|(uri, _)| uri.as_str()).collect();
    for expected in ["/projects", "/contact", "/assets/style.css"] {
        assert!(seen.contains(expected), "never reached {expected}");
    }
    assert!(
        seen.iter()
            .filter(|uri| uri.starts_with("/projects/"))
            .count()
            >= 50,
        "too few project pages reached"
    );
    store.close().await;
}

/// The same demo workspace on PostgreSQL answers every page of the portal exactly as on
/// SQLite: same status, same HTML, byte for byte. The store's queries are tested on both backends one by
/// one; this catches what only shows on a page: an order that ties break differently, a
/// decimal printed with other places, a name in another language.
#[tokio::test]
async fn every_page_on_postgres_answers_as_on_sqlite() {
    let Some(database) = crate::filters::PostgresDatabase::create() else {
        return;
    };
    let postgres = database.demo_store().await;
    let sqlite = demo_store().await;
    let crawl = crawl(&sqlite).await;
    let mut differences = Vec::new();
    for (uri, expected) in &crawl.pages {
        let page = get(&postgres, uri).await;
        if page.status != expected.status {
            differences.push(format!(
                "{uri}: {} on PostgreSQL, {} on SQLite",
                page.status, expected.status
            ));
        } else if page.body != expected.body {
            differences.push(format!(
                "{uri}: {}",
                first_difference(&page.body, &expected.body)
            ));
        }
    }
    println!(
        "crawl on PostgreSQL: compared {} pages, {} differ",
        crawl.pages.len(),
        differences.len()
    );
    assert!(
        differences.is_empty(),
        "{} of {} pages differ:\n{}",
        differences.len(),
        crawl.pages.len(),
        differences
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    postgres.close().await;
    sqlite.close().await;
}

/// What a crawl from `/` found: each page read, in the order reached, and how many links were
/// still queued when the bound stopped it.
struct Crawl {
    pages: Vec<(String, Page)>,
    queued: usize,
}

/// Follows every same-site link and GET form from `/`, breadth first, up to `MAX_PAGES`.
async fn crawl(store: &coopfolio_store::Store) -> Crawl {
    let mut queue = VecDeque::from([String::from("/")]);
    let mut seen: BTreeSet<String> = queue.iter().cloned().collect();
    let mut pages = Vec::new();
    while let Some(uri) = queue.pop_front() {
        if pages.len() == MAX_PAGES {
            break;
        }
        let page = get(store, &uri).await;
        let is_html = page
            .headers
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/html"));
        if is_html && page.status.is_success() {
            for link in links(&page.body) {
                if let Some(link) = same_site(&link) {
                    if seen.insert(link.clone()) {
                        queue.push_back(link);
                    }
                }
            }
        }
        pages.push((uri, page));
    }
    Crawl {
        pages,
        queued: queue.len(),
    }
}

/// Where two pages part: a little of each around the first differing byte.
fn first_difference(postgres: &str, sqlite: &str) -> String {
    let at = postgres
        .bytes()
        .zip(sqlite.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(postgres.len().min(sqlite.len()));
    let around = |text: &str| {
        let start = text.floor_char_boundary(at.saturating_sub(80));
        let end = text.ceil_char_boundary((at + 80).min(text.len()));
        text[start..end].to_owned()
    };
    format!(
        "at byte {at}: PostgreSQL «{}» / SQLite «{}»",
        around(postgres),
        around(sqlite)
    )
}

/// Every `href` of the page, and the action of every form that is sent with GET.
fn links(html: &str) -> Vec<String> {
    let mut links = attribute_values(html, "href");
    let mut rest = html;
    while let Some(start) = rest.find("<form") {
        let tag_end = rest[start..]
            .find('>')
            .map_or(rest.len(), |end| start + end);
        let tag = &rest[start..tag_end];
        let method = attribute_values(tag, "method").pop().unwrap_or_default();
        if method.is_empty() || method.eq_ignore_ascii_case("get") {
            links.extend(attribute_values(tag, "action"));
        }
        rest = &rest[tag_end..];
    }
    links
}

/// The values of `name="..."` attributes, entities decoded.
fn attribute_values(html: &str, name: &str) -> Vec<String> {
    let marker = format!(" {name}=\"");
    html.match_indices(&marker)
        .filter_map(|(at, _)| {
            let start = at + marker.len();
            let end = start + html[start..].find('"')?;
            Some(unescape(&html[start..end]))
        })
        .collect()
}

fn unescape(value: &str) -> String {
    value
        .replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The path and query of a link within the portal, without its fragment; `None` for other
/// sites, other schemes, fragments of the same page and downloads.
fn same_site(link: &str) -> Option<String> {
    let link = link.split('#').next()?;
    if !link.starts_with('/') || link.starts_with("//") {
        return None;
    }
    let path = link.split('?').next()?;
    if DOWNLOAD_EXTENSIONS
        .iter()
        .any(|extension| path.to_ascii_lowercase().ends_with(extension))
    {
        return None;
    }
    Some(link.to_owned())
}

#[test]
fn links_are_read_as_a_browser_reads_them() {
    let html = r##"<a href="/projects?region=africa&amp;page=2">x</a>
<a href="https://iatistandard.org/">x</a><a href="#content">x</a><a href="/data/all.csv">x</a>
<form class="filters" method="get" action="/projects"><form method="post" action="/contact">
<a href="/projects/XM-DAC-41302-&#x2f;A">x</a>"##;
    let found: Vec<_> = links(html)
        .iter()
        .filter_map(|link| same_site(link))
        .collect();
    assert_eq!(
        found,
        [
            "/projects?region=africa&page=2",
            "/projects/XM-DAC-41302-/A",
            "/projects"
        ]
    );
}
