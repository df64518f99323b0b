//! Downloads of explorer views: CSV rows are the view's rows (same identifiers, same order, all
//! pages), the whole 770-row portfolio comes whole in every format, JSON carries `meta.method`
//! and the data version, and XLSX is a workbook with its rows and an "About" sheet.

use std::io::Read;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use coopfolio_core::country::IloRegion;
use coopfolio_store::portal::{ProjectQuery, ProjectSort};
use coopfolio_store::Store;
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::{demo_store, escaped, get};

/// A response's status, headers and bytes.
async fn download(store: &Store, uri: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let app = coopfolio_web::app(coopfolio_web::AppState::new(store.clone()));
    let response = app
        .oneshot(
            Request::get(uri)
                .header(header::HOST, "portal.example.org")
                .body(Body::empty())
                .expect("a request"),
        )
        .await
        .expect("the router always answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("a body");
    (status, headers, bytes.to_bytes().to_vec())
}

/// Every identifier of the view, over all its pages, in order.
async fn view(store: &Store, query: ProjectQuery) -> Vec<String> {
    let mut identifiers = Vec::new();
    for page in 1.. {
        let list = store
            .projects(&ProjectQuery {
                page,
                page_size: 50,
                ..query.clone()
            })
            .await
            .expect("listing");
        if list.projects.is_empty() {
            break;
        }
        identifiers.extend(list.projects.into_iter().map(|p| p.identifier));
    }
    identifiers
}

/// The comment lines and the records of a CSV download.
fn parse_csv(bytes: &[u8]) -> (Vec<String>, Vec<csv::StringRecord>) {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    let comments: Vec<String> = text
        .lines()
        .take_while(|line| line.starts_with('#'))
        .map(str::to_owned)
        .collect();
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_reader(bytes);
    let header = reader.headers().expect("a header row").clone();
    assert_eq!(&header[0], "identifier");
    assert_eq!(header.len(), 13);
    let records = reader
        .records()
        .collect::<Result<Vec<_>, _>>()
        .expect("well-formed CSV");
    (comments, records)
}

#[tokio::test]
async fn csv_rows_are_the_views_rows_in_order() {
    let store = demo_store().await;
    let expected = view(
        &store,
        ProjectQuery {
            region: Some(IloRegion::Africa),
            sort: ProjectSort::StartNewest,
            ..ProjectQuery::default()
        },
    )
    .await;
    assert!(expected.len() > 50, "the view spans pages");
    let (status, headers, bytes) =
        download(&store, "/projects.csv?region=africa&sort=start_desc&page=2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"coopfolio-projects-")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let (comments, records) = parse_csv(&bytes);
    let identifiers: Vec<String> = records.iter().map(|r| r[0].to_owned()).collect();
    assert_eq!(identifiers, expected);
    for expected_line in [
        "# Rows: ",
        "# Data version: import run ",
        "# Downloaded at: ",
        "# Method, rows: ",
        "# Method, conversion to US dollars: ",
        "# View: http://portal.example.org/projects?region=africa&sort=start_desc",
    ] {
        assert!(
            comments.iter().any(|line| line.starts_with(expected_line)),
            "no {expected_line} in {comments:?}"
        );
    }
    // Every row's link leads to its page, and its countries are in Africa.
    let first = &records[0];
    assert_eq!(
        &first[12],
        format!("http://portal.example.org/projects/{}", &first[0])
    );
    assert!(records.iter().all(|r| r[6].contains("Africa")));
    store.close().await;
}

#[tokio::test]
async fn the_whole_portfolio_downloads_whole_in_every_format() {
    let store = demo_store().await;
    let expected = view(&store, ProjectQuery::default()).await;
    assert!(expected.len() >= 770, "{} rows", expected.len());

    let (_, _, bytes) = download(&store, "/projects.csv").await;
    let (_, records) = parse_csv(&bytes);
    let identifiers: Vec<&str> = records.iter().map(|r| &r[0]).collect();
    assert_eq!(identifiers, expected);

    let (status, headers, bytes) = download(&store, "/projects.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    let json: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
    let method = &json["meta"]["method"];
    assert!(method["basis"].as_str().unwrap().contains("no row limit"));
    assert!(method["hierarchy_rule"].is_string());
    assert!(json["meta"]["data_version"]["import_run_id"].is_i64());
    assert_eq!(json["meta"]["rows"], expected.len());
    let projects = json["projects"].as_array().unwrap();
    let identifiers: Vec<&str> = projects
        .iter()
        .map(|p| p["identifier"].as_str().unwrap())
        .collect();
    assert_eq!(identifiers, expected);
    // Amounts are exact decimal text, never JSON numbers.
    assert!(projects.iter().all(|p| p["budget_usd"].is_string()));
    let budgeted = projects
        .iter()
        .filter(|p| p["budget_usd"].as_str() != Some("0.00"))
        .count();
    assert!(budgeted > 0, "some projects have a budget in US dollars");

    let (status, headers, bytes) = download(&store, "/projects.xlsx").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .ends_with(".xlsx\""));
    assert_eq!(&bytes[..4], b"PK\x03\x04", "an XLSX file is a zip archive");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut workbook = String::new();
    archive
        .by_name("xl/workbook.xml")
        .unwrap()
        .read_to_string(&mut workbook)
        .unwrap();
    assert!(workbook.contains("name=\"Projects\"") && workbook.contains("name=\"About\""));
    let mut sheet = String::new();
    archive
        .by_name("xl/worksheets/sheet1.xml")
        .unwrap()
        .read_to_string(&mut sheet)
        .unwrap();
    // The header row and one row a project.
    assert_eq!(sheet.matches("<row ").count(), expected.len() + 1);
    store.close().await;
}

#[tokio::test]
async fn the_explorer_links_its_view_to_each_download() {
    let store = demo_store().await;
    let page = get(&store, "/projects?region=africa&status=2&page=2").await;
    for extension in ["csv", "xlsx", "json"] {
        // The page number is not part of a download: it has every page.
        let link = escaped(&format!("/projects.{extension}?region=africa&status=2"));
        assert!(
            page.body.contains(&format!("href=\"{link}\"")),
            "no link to {link}"
        );
    }
    // A bad filter is refused before any byte of a download goes out.
    let (status, _, _) = download(&store, "/projects.csv?year=soon").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    store.close().await;
}
