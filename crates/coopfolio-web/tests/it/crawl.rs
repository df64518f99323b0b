//! A crawl of the whole portal over the demo database: from `/`, every same-site link and
//! every GET form's action is followed (up to a bound), and no page may answer 404 or 5xx.
//! It finds the links a template gets wrong, which no test of a single page would.

use std::collections::{BTreeSet, VecDeque};

use axum::http::StatusCode;

use crate::{demo_store, get};

/// Enough for every page of the demo (about 800: the explorer's pages, every programme and
/// project), with room for what comes next, and an end if a template starts making endless
/// links.
const MAX_PAGES: usize = 3_000;

/// Files to download rather than pages to read: asked for as links, never opened.
const DOWNLOAD_EXTENSIONS: [&str; 7] = [".csv", ".xlsx", ".json", ".xml", ".zip", ".pdf", ".png"];

#[tokio::test]
async fn every_page_reachable_from_home_answers() {
    let store = demo_store().await;
    let mut queue = VecDeque::from([String::from("/")]);
    let mut seen: BTreeSet<String> = queue.iter().cloned().collect();
    let mut failures = Vec::new();
    let mut visited = 0;
    while let Some(uri) = queue.pop_front() {
        if visited == MAX_PAGES {
            break;
        }
        visited += 1;
        let page = get(&store, &uri).await;
        if page.status == StatusCode::NOT_FOUND || page.status.is_server_error() {
            failures.push(format!("{uri}: {}", page.status));
            continue;
        }
        let is_html = page
            .headers
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/html"));
        if !is_html {
            continue;
        }
        for link in links(&page.body) {
            if let Some(link) = same_site(&link) {
                if seen.insert(link.clone()) {
                    queue.push_back(link);
                }
            }
        }
    }
    println!(
        "crawl: visited {visited} pages, {} more queued",
        queue.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
    // The crawl did reach what the portal is: the explorer, project pages, the form.
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
