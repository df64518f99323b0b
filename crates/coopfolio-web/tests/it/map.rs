//! The home page's world map over the demo workspace: the SVG is well-formed XML with one path
//! per country of the shapes file, countries with programmes carry the class the legend gives
//! their count and link to the explorer, the legend covers every count, the table lists the
//! countries with the most programmes, and the page stays small.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use coopfolio_core::period::Period;
use coopfolio_store::figures::Count;
use coopfolio_store::Store;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::{demo_store, escaped, get};

/// The shapes the map draws, as the program bundles them.
const SHAPES: &str = include_str!("../../../../data/geo/countries.txt");

/// The whole home page, map included, must stay below this; the map alone below `MAP_BUDGET`.
const PAGE_BUDGET: usize = 250 * 1024;
const MAP_BUDGET: usize = 150 * 1024;

/// One `<path>` of the map as read back from the page.
#[derive(Debug)]
struct DrawnPath {
    class: String,
    /// The `href` of the `<a>` around it, if any.
    link: Option<String>,
    /// The `<title>` of the link, or of the path.
    title: Option<String>,
}

/// The map's `<svg>` element, cut out of the page.
fn map_svg(html: &str) -> &str {
    let figure = html
        .find("<figure class=\"map\">")
        .expect("the home page has the map");
    let start = figure + html[figure..].find("<svg").expect("the map is an SVG");
    let end = start + html[start..].find("</svg>").expect("the SVG ends") + "</svg>".len();
    &html[start..end]
}

fn attribute(element: &BytesStart, name: &str) -> Option<String> {
    element
        .attributes()
        .map(|attribute| attribute.expect("a well-formed attribute"))
        .find(|attribute| attribute.key.as_ref() == name.as_bytes())
        .map(|attribute| {
            attribute
                .unescape_value()
                .expect("an attribute value XML can read")
                .into_owned()
        })
}

/// Reads the SVG as XML (any fault fails the test) and returns its paths in order.
fn drawn_paths(svg: &str) -> Vec<DrawnPath> {
    let mut reader = Reader::from_str(svg);
    let mut paths = Vec::new();
    let mut link: Option<String> = None;
    let mut link_title: Option<String> = None;
    let mut in_title = false;
    let mut open_path: Option<DrawnPath> = None;
    loop {
        match reader.read_event().expect("the map is well-formed XML") {
            Event::Start(element) | Event::Empty(element) if element.name().as_ref() == b"a" => {
                link = attribute(&element, "href");
                link_title = None;
            }
            Event::Start(element) if element.name().as_ref() == b"title" => in_title = true,
            Event::Text(text) if in_title => {
                let text = text.unescape().expect("readable text").into_owned();
                match open_path.as_mut() {
                    Some(path) => path.title = Some(text),
                    None => link_title = Some(text),
                }
            }
            Event::End(element) if element.name().as_ref() == b"title" => in_title = false,
            Event::Empty(element) if element.name().as_ref() == b"path" => {
                assert!(attribute(&element, "d").is_some_and(|d| d.starts_with('M')));
                paths.push(DrawnPath {
                    class: attribute(&element, "class").expect("every path has a class"),
                    link: link.clone(),
                    title: link_title.clone(),
                });
            }
            Event::Start(element) if element.name().as_ref() == b"path" => {
                open_path = Some(DrawnPath {
                    class: attribute(&element, "class").expect("every path has a class"),
                    link: link.clone(),
                    title: None,
                });
            }
            Event::End(element) if element.name().as_ref() == b"path" => {
                paths.extend(open_path.take());
            }
            Event::End(element) if element.name().as_ref() == b"a" => link = None,
            Event::Eof => break,
            _ => {}
        }
    }
    paths
}

/// The legend as the page writes it: class -> (lowest, highest count), read from its labels.
fn legend(html: &str) -> BTreeMap<String, (u64, u64)> {
    let start = html
        .find("<ul class=\"map-legend\"")
        .expect("the map has a legend");
    let end = start + html[start..].find("</ul>").expect("the legend ends");
    let mut classes = BTreeMap::new();
    for item in html[start..end].split("<li>").skip(1) {
        let class = item
            .split("class=\"swatch ")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("each entry has a swatch");
        let label = item
            .split("</span>")
            .nth(1)
            .expect("each entry has a label")
            .trim()
            .trim_end_matches("</li>")
            .trim();
        let range = match label.split_once('–') {
            Some((low, high)) => (low.parse().ok(), high.parse().ok()),
            None => (label.parse().ok(), label.parse().ok()),
        };
        if let (Some(low), Some(high)) = range {
            classes.insert(class.to_owned(), (low, high));
        }
    }
    classes
}

/// How many shapes the data holds: each code once (a country and its territories are merged),
/// each area without a code on its own.
fn shapes_in_data() -> usize {
    let mut codes: Vec<&str> = Vec::new();
    let mut without_code = 0;
    for line in SHAPES.lines() {
        if let Some(rest) = line.strip_prefix("country ") {
            let code = rest.split(' ').next().unwrap_or("--");
            if code == "--" {
                without_code += 1;
            } else if !codes.contains(&code) {
                codes.push(code);
            }
        }
    }
    codes.len() + without_code
}

async fn current_counts(store: &Store) -> (Period, Vec<Count>) {
    let period = store
        .latest_biennium_with_contributions()
        .await
        .unwrap()
        .expect("the demo has contributions");
    let counts = store.programmes_by_country(period).await.unwrap().value;
    (period, counts)
}

#[tokio::test]
async fn the_map_is_well_formed_svg_with_one_path_per_country() {
    let store = demo_store().await;
    let page = get(&store, "/").await;
    assert_eq!(page.status, StatusCode::OK);
    let paths = drawn_paths(map_svg(&page.body));
    assert_eq!(paths.len(), shapes_in_data());
    // Every shape with a code has a title naming it; areas without one are neutral.
    let neutral = paths.iter().filter(|p| p.class == "map-neutral").count();
    assert!((1..10).contains(&neutral), "{neutral} neutral areas");
    for path in paths.iter().filter(|p| p.class != "map-neutral") {
        assert!(path.title.is_some(), "{path:?} has no title");
    }
    store.close().await;
}

#[tokio::test]
async fn countries_with_programmes_take_their_legend_class_and_link_to_the_explorer() {
    let store = demo_store().await;
    let (period, counts) = current_counts(&store).await;
    assert!(counts.len() > 20, "the demo reaches many countries");
    let html = get(&store, "/").await.body;
    assert!(html.contains(&format!(
        "{}, {period}",
        escaped("Where programmes and projects are active")
    )));
    let legend = legend(&html);
    let paths = drawn_paths(map_svg(&html));
    let mut checked = 0;
    for count in &counts {
        let href = format!("/projects?country={}", count.code);
        let Some(path) = paths.iter().find(|p| p.link.as_deref() == Some(&href)) else {
            // A code the shapes lack (a territory too small for Natural Earth 1:50m) is in
            // the table only.
            continue;
        };
        let (low, high) = legend[path.class.split(' ').next().unwrap_or_default()];
        assert!(
            low <= count.count && count.count <= high,
            "{} with {} is drawn in {} ({low}–{high})",
            count.code,
            count.count,
            path.class
        );
        let title = path.title.as_deref().unwrap_or_default();
        assert!(
            title.contains(&format!(": {} programme", count.count)),
            "{title}"
        );
        checked += 1;
    }
    assert!(checked * 10 >= counts.len() * 9, "only {checked} drawn");
    // Links are only on countries with programmes and projects.
    let linked = paths.iter().filter(|p| p.link.is_some()).count();
    assert_eq!(linked, checked);
    // The explorer answers the link.
    let first = &counts[0];
    let explorer = get(&store, &format!("/projects?country={}", first.code)).await;
    assert_eq!(explorer.status, StatusCode::OK);
    store.close().await;
}

#[tokio::test]
async fn the_legend_covers_every_count_and_the_table_leads_with_the_largest() {
    let store = demo_store().await;
    let (_, counts) = current_counts(&store).await;
    let html = get(&store, "/").await.body;
    let legend = legend(&html);
    let largest = counts.iter().map(|c| c.count).max().unwrap_or(0);
    for value in 0..=largest {
        let holding = legend
            .values()
            .filter(|(low, high)| *low <= value && value <= *high)
            .count();
        // 0 is "None", which has no number on the page.
        assert_eq!(holding, usize::from(value > 0), "count {value}");
    }
    assert!(legend.values().any(|(_, high)| *high == largest));
    // The text alternative: the first row is the country with the most.
    let table = &html[html
        .find("<table class=\"map-table\">")
        .expect("the map's table")..];
    let first_row = &table[table.find("<tbody>").unwrap()..];
    let first_row = &first_row[..first_row.find("</tr>").unwrap()];
    assert!(first_row.contains(&format!("country={}", counts[0].code)));
    assert!(first_row.contains(&format!(">{}</td>", counts[0].count)));
    // Its method note says how countries are counted.
    assert!(html.contains("counted once in each of their recipient countries"));
    store.close().await;
}

#[tokio::test]
async fn the_home_page_stays_within_its_size_budget() {
    let store = demo_store().await;
    let html = get(&store, "/").await.body;
    let svg = map_svg(&html);
    assert!(svg.len() < MAP_BUDGET, "the map is {} bytes", svg.len());
    assert!(html.len() < PAGE_BUDGET, "the page is {} bytes", html.len());
    println!("home page {} bytes, map {} bytes", html.len(), svg.len());
    store.close().await;
}

/// Not a test of speed (timings vary with the machine) but a measurement to run by hand:
/// `cargo test --release -p coopfolio-web --test it home_page_time -- --ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn home_page_time() {
    let store = demo_store().await;
    // The first request parses the templates and the shapes.
    let started = std::time::Instant::now();
    assert_eq!(get(&store, "/").await.status, StatusCode::OK);
    println!("first request: {:?}", started.elapsed());
    let mut times = Vec::new();
    let mut cpu_times = Vec::new();
    for _ in 0..200 {
        let started = std::time::Instant::now();
        let cpu_started = thread_cpu_nanos();
        assert_eq!(get(&store, "/").await.status, StatusCode::OK);
        times.push(started.elapsed());
        cpu_times.push(std::time::Duration::from_nanos(
            thread_cpu_nanos().saturating_sub(cpu_started),
        ));
    }
    times.sort();
    cpu_times.sort();
    println!(
        "home page over 200 requests: min {:?}, p50 {:?}, p95 {:?}",
        times[0], times[100], times[190]
    );
    // On a busy machine the wall clock mostly measures waiting; the CPU time of the thread
    // that runs the handler and renders the page (SQLite's own threads not included) does not.
    println!(
        "CPU time of the rendering thread per request: min {:?}, p50 {:?}, p95 {:?}",
        cpu_times[0], cpu_times[100], cpu_times[190]
    );
    // The map's own query, to tell its share of the page from the figures'.
    let (period, _) = current_counts(&store).await;
    let mut query_times = Vec::new();
    for _ in 0..50 {
        let started = std::time::Instant::now();
        store.programmes_by_country(period).await.unwrap();
        query_times.push(started.elapsed());
    }
    query_times.sort();
    println!(
        "programmes_by_country over 50 calls: p50 {:?}, p95 {:?}",
        query_times[25], query_times[47]
    );
    store.close().await;
}

/// Nanoseconds this thread has run on a CPU (Linux), or 0 where that cannot be read.
fn thread_cpu_nanos() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
