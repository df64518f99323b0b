//! The IATI XML download of explorer views: the file holds exactly the view's activities in its
//! order, passes the IATI 2.03 activity schema, carries its method note and data version as
//! comments at the top, and never names a confidential agreement.

use std::path::Path;
use std::process::Command;

use axum::http::{header, StatusCode};
use coopfolio_core::country::IloRegion;
use coopfolio_demo::DemoOptions;
use coopfolio_store::portal::{ProjectQuery, ProjectSort};
use quick_xml::events::Event;

use crate::{demo_store, escaped, get};

const ACTIVITY_SCHEMA: &str = "../../data/iati-schemas/2.03/iati-activities-schema.xsd";

/// Every identifier of the view, over all its pages, in order.
async fn view(store: &coopfolio_store::Store, query: ProjectQuery) -> Vec<String> {
    let mut identifiers = Vec::new();
    for page in 1.. {
        let list = store
            .projects(&ProjectQuery {
                page,
                page_size: 100,
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

/// The text of every `<iati-identifier>` of an activity file, in order, and its comments.
fn identifiers_and_comments(xml: &str) -> (Vec<String>, Vec<String>) {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut identifiers = Vec::new();
    let mut comments = Vec::new();
    let mut inside = false;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(start) if start.local_name().as_ref() == b"iati-identifier" => {
                inside = true;
                identifiers.push(String::new());
            }
            Event::End(end) if end.local_name().as_ref() == b"iati-identifier" => inside = false,
            Event::Text(text) if inside => {
                let text = text.unescape().expect("text");
                identifiers.last_mut().unwrap().push_str(text.trim());
            }
            Event::Comment(comment) => {
                comments.push(String::from_utf8_lossy(&comment).trim().to_owned())
            }
            Event::Eof => break,
            _ => {}
        }
    }
    (identifiers, comments)
}

/// xmllint's complaints about `file` against the activity schema; `None` (after saying so)
/// when xmllint is not installed.
fn xmllint(file: &Path) -> Option<Vec<String>> {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join(ACTIVITY_SCHEMA);
    let output = match Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(file)
        .output()
    {
        Ok(output) => output,
        Err(_) => {
            println!("SKIPPED: the IATI download's schema check: xmllint is not installed");
            return None;
        }
    };
    if output.status.success() {
        return Some(Vec::new());
    }
    Some(
        String::from_utf8_lossy(&output.stderr)
            .lines()
            .filter(|line| !line.ends_with("fails to validate"))
            .map(str::to_owned)
            .collect(),
    )
}

#[tokio::test]
async fn the_iati_file_holds_the_filtered_views_activities_and_passes_the_schema() {
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
    assert!(expected.len() > 50, "{} activities", expected.len());
    let page = get(&store, "/projects.xml?region=africa&sort=start_desc&page=3").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.headers[header::CONTENT_TYPE],
        "application/xml; charset=utf-8"
    );
    let disposition = page.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(disposition.ends_with(".xml\""), "{disposition}");
    let (identifiers, comments) = identifiers_and_comments(&page.body);
    assert_eq!(identifiers, expected);
    assert!(page.body.contains("<iati-activities version=\"2.03\""));
    for expected_line in [
        "Rows: ",
        "Data version: import run ",
        "Downloaded at: ",
        "Method, rows: ",
        "Method, conversion to US dollars: ",
        "Method, activities: ",
        "View: http://localhost/projects?region=africa&sort=start_desc",
    ] {
        assert!(
            comments.iter().any(|line| line.starts_with(expected_line)),
            "no {expected_line} in {comments:?}"
        );
    }
    // The comments come before the first activity.
    let first_activity = page.body.find("<iati-activity").unwrap();
    assert!(page.body.find("<!-- Data version").unwrap() < first_activity);

    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("view.xml");
    std::fs::write(&file, &page.body).unwrap();
    if let Some(complaints) = xmllint(&file) {
        assert!(complaints.is_empty(), "{complaints:#?}");
    }
    store.close().await;
}

#[tokio::test]
async fn the_whole_portfolio_downloads_as_iati_without_confidential_agreements() {
    let store = demo_store().await;
    let expected = view(&store, ProjectQuery::default()).await;
    let page = get(&store, "/projects.xml").await;
    assert_eq!(page.status, StatusCode::OK);
    let (identifiers, _) = identifiers_and_comments(&page.body);
    assert_eq!(identifiers.len(), expected.len());
    assert_eq!(identifiers, expected);

    let workspace = coopfolio_demo::generate(&DemoOptions::default());
    let confidential: Vec<_> = workspace
        .agreements
        .iter()
        .filter(|a| a.confidential)
        .collect();
    assert!(
        !confidential.is_empty(),
        "the demo has confidential agreements"
    );
    for agreement in confidential {
        assert!(
            !page.body.contains(&agreement.key),
            "{} named in the IATI download",
            agreement.key
        );
        // A title a public agreement shares is no secret; any other must not appear.
        if workspace
            .agreements
            .iter()
            .all(|other| other.confidential || other.title.en != agreement.title.en)
        {
            assert!(!page.body.contains(&agreement.title.en));
        }
    }
    // The whole portfolio is as valid as a filtered view.
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("all.xml");
    std::fs::write(&file, &page.body).unwrap();
    if let Some(complaints) = xmllint(&file) {
        assert!(
            complaints.is_empty(),
            "{:#?}",
            &complaints[..complaints.len().min(20)]
        );
    }
    store.close().await;
}

#[tokio::test]
async fn the_explorer_links_its_view_to_the_iati_download() {
    let store = demo_store().await;
    let page = get(&store, "/projects?country=KE&page=2").await;
    let link = escaped("/projects.xml?country=KE");
    assert!(
        page.body.contains(&format!("href=\"{link}\"")),
        "no link to {link}"
    );
    assert!(page.body.contains(">IATI XML</a>"));
    // A bad filter is refused before any byte goes out.
    let bad = get(&store, "/projects.xml?year=soon").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    store.close().await;
}

#[tokio::test]
async fn a_project_page_offers_its_activity_as_an_iati_file() {
    let store = demo_store().await;
    let identifier = view(&store, ProjectQuery::default()).await.swap_remove(3);
    let page = get(&store, &format!("/projects/{identifier}")).await;
    let href = format!("/projects/{identifier}/iati.xml");
    assert!(
        page.body.contains(&format!("href=\"{}\"", escaped(&href))),
        "no link to {href}"
    );
    let file = get(&store, &href).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(
        file.headers[header::CONTENT_TYPE],
        "application/xml; charset=utf-8"
    );
    let (identifiers, comments) = identifiers_and_comments(&file.body);
    assert_eq!(identifiers, [identifier.as_str()]);
    assert!(
        comments.iter().any(|line| line.starts_with("Method: ")),
        "{comments:?}"
    );
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("one.xml");
    std::fs::write(&path, &file.body).unwrap();
    if let Some(complaints) = xmllint(&path) {
        assert!(complaints.is_empty(), "{complaints:#?}");
    }
    let missing = get(&store, "/projects/XX-NOWHERE-1/iati.xml").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    store.close().await;
}
