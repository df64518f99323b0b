//! New programmes and projects from the staff workspace, through the router with `oneshot` on
//! the staff tests' workspace: a project made with wrong fields comes back with each named,
//! then made whole and found at once by the explorer, its search, its public page, the IATI
//! download and the portfolio figure; a taken identifier, a parent that would make a loop and
//! an edit of an imported activity are refused; an edit is audited with the record before it;
//! a won inquiry becomes an agreement and a new project in one step; and a partner's roll-up
//! set by hand moves the contributor ranking.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use coopfolio_core::period::Period;
use coopfolio_iati::model::{Activity, Narrative};
use coopfolio_store::figures::Basis;
use coopfolio_store::Store;

use crate::staff::{log_in, send, workspace};
use crate::staff_records::{audit, get, post, redirected_to};
use crate::{escaped, Page};

const PREFIX: &str = "XI-DEMO-COOPFOLIO";

async fn public(store: &Store, uri: &str) -> Page {
    send(store, Request::get(uri), Body::empty()).await
}

fn project_fields<'a>(suffix: &'a str, title: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("identifier_suffix", suffix),
        ("title_en", title),
        (
            "title_fr",
            "Compétences vertes pour les jeunes travailleurs",
        ),
        (
            "description_en",
            "Training in the trades of the energy transition.",
        ),
        ("status", "2"),
        ("start_date", "2024-01-01"),
        ("end_date", "2026-12-31"),
        ("country_0_code", "KE"),
        ("country_0_percentage", "60"),
        ("country_1_code", "UG"),
        ("country_1_percentage", "40"),
        ("sector_0_code", "16020"),
        ("funder_0_partner", "p-1"),
        ("budget_0_start", "2024-01-01"),
        ("budget_0_end", "2024-12-31"),
        ("budget_0_amount", "250000.50"),
        ("budget_0_currency", "USD"),
        ("budget_0_type", "original"),
        ("policy_area", "employment"),
        ("policy_area", "skills"),
        ("south_south", "1"),
    ]
}

#[tokio::test]
async fn a_new_project_is_stored_as_any_activity_and_shows_everywhere_at_once() {
    let (store, _folder) = workspace().await;
    let officer = log_in(&store, "officer@example.org").await;
    let form = get(&store, &officer, "/staff/projects/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body.contains(&format!("{PREFIX}-")),
        "the prefix is shown"
    );
    let active_before = store
        .portfolio(Period::Biennium(2024))
        .await
        .unwrap()
        .value
        .programmes_active;

    // Every wrong field is named beside it, and what was typed comes back.
    let wrong = post(
        &store,
        &officer,
        "/staff/projects/new",
        &[
            ("identifier_suffix", "green skills/2025"),
            ("title_en", ""),
            ("status", "9"),
            ("start_date", "2025-01-01"),
            ("end_date", "2024-01-01"),
            ("country_0_code", "KE"),
            ("country_0_percentage", "60"),
            ("country_1_code", "UG"),
            ("sector_0_code", "99999"),
            ("budget_0_start", "2024-01-01"),
            ("budget_0_end", "2025-06-30"),
            ("budget_0_amount", "10"),
            ("budget_0_currency", "XQZ"),
        ],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in [
        "identifier_suffix",
        "title_en",
        "status",
        "end_date",
        "country_0_percentage",
        "sector_0_code",
        "budget_0_end",
        "budget_0_currency",
    ] {
        assert!(
            wrong.body.contains(&format!("id=\"f-{field}-error\"")),
            "{field} is named"
        );
    }
    assert!(wrong
        .body
        .contains(&format!("value=\"{}\"", escaped("green skills/2025"))));
    assert!(store
        .staff_project(&format!("{PREFIX}-green"))
        .await
        .unwrap()
        .is_none());

    let identifier = format!("{PREFIX}-skills-2025");
    let made = post(
        &store,
        &officer,
        "/staff/projects/new",
        &project_fields("skills-2025", "Green skills for young workers"),
    )
    .await;
    assert_eq!(
        redirected_to(&made),
        format!("/staff/projects/{identifier}")
    );
    let stored = store.staff_project(&identifier).await.unwrap().unwrap();
    assert!(!stored.imported);
    assert_eq!(stored.project.title.en, "Green skills for young workers");
    assert_eq!(stored.project.countries.len(), 2);
    assert_eq!(stored.project.funders, ["p-1"]);
    assert_eq!(stored.project.budgets[0].amount.to_string(), "250000.50");
    let events = audit(&store, "project").await;
    let created = events
        .iter()
        .find(|event| event.entity_key == identifier && event.action == "create")
        .expect("the creation is audited");
    assert!(created.before.is_none());

    // The explorer, its search, the public page, the IATI download and the figures have it.
    let explorer = public(&store, "/projects?q=green+skills").await;
    assert!(explorer.body.contains(&identifier), "found by search");
    let page = public(&store, &format!("/projects/{identifier}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Green skills for young workers"));
    let xml = public(&store, "/projects.xml?q=green+skills").await;
    assert!(
        xml.body
            .contains(&format!("<iati-identifier>{identifier}</iati-identifier>")),
        "{}",
        xml.body
    );
    assert!(xml.body.contains("250000.50"));
    let active_after = store
        .portfolio(Period::Biennium(2024))
        .await
        .unwrap()
        .value
        .programmes_active;
    assert_eq!(active_after, active_before + 1);
    let staff_page = get(&store, &officer, &format!("/staff/projects/{identifier}")).await;
    assert!(staff_page
        .body
        .contains(&format!("/staff/projects/{identifier}/edit")));

    // The same identifier again is a field error.
    let again = post(
        &store,
        &officer,
        "/staff/projects/new",
        &project_fields("skills-2025", "Another"),
    )
    .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("id=\"f-identifier_suffix-error\""));

    // A project of the programme, then the programme made a project of it: a loop, refused.
    let child = format!("{PREFIX}-skills-2025-ke");
    let mut fields = project_fields("skills-2025-ke", "Green skills in Kenya");
    fields.push(("parent", identifier.as_str()));
    redirected_to(&post(&store, &officer, "/staff/projects/new", &fields).await);
    let mut fields = project_fields("", "Green skills for young workers, phase 1");
    fields.retain(|(name, _)| *name != "identifier_suffix");
    fields.push(("parent", child.as_str()));
    let looped = post(
        &store,
        &officer,
        &format!("/staff/projects/{identifier}/edit"),
        &fields,
    )
    .await;
    assert_eq!(looped.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(looped.body.contains("id=\"f-parent-error\""));

    // An edit is audited with the record as it stood before it.
    fields.retain(|(name, _)| *name != "parent");
    let edited = post(
        &store,
        &officer,
        &format!("/staff/projects/{identifier}/edit"),
        &fields,
    )
    .await;
    redirected_to(&edited);
    let stored = store.staff_project(&identifier).await.unwrap().unwrap();
    assert_eq!(
        stored.project.title.en,
        "Green skills for young workers, phase 1"
    );
    let events = audit(&store, "project").await;
    let edit = events
        .iter()
        .find(|event| event.entity_key == identifier && event.action == "edit")
        .expect("the edit is audited");
    let before = edit.before.as_ref().expect("a before");
    assert!(
        before.contains("Green skills for young workers\""),
        "{before}"
    );
    store.close().await;
}

#[tokio::test]
async fn an_imported_activity_keeps_its_core_fields() {
    let (store, _folder) = workspace().await;
    let officer = log_in(&store, "officer@example.org").await;
    let identifier = "XM-PUBLISHED-1";
    let mut session = store.begin_import("published.xml", 10).await.unwrap();
    session
        .add_activity(Activity {
            identifier: identifier.to_owned(),
            titles: vec![Narrative {
                lang: Some("en".to_owned()),
                text: "As published".to_owned(),
            }],
            status: Some("2".to_owned()),
            raw_xml:
                b"<iati-activity><iati-identifier>XM-PUBLISHED-1</iati-identifier></iati-activity>"
                    .to_vec(),
            ..Activity::default()
        })
        .await
        .unwrap();
    session.commit(0).await.unwrap();
    assert!(
        store
            .staff_project(identifier)
            .await
            .unwrap()
            .unwrap()
            .imported
    );

    let page = get(&store, &officer, &format!("/staff/projects/{identifier}")).await;
    assert!(!page
        .body
        .contains(&format!("/staff/projects/{identifier}/edit")));
    let form = get(
        &store,
        &officer,
        &format!("/staff/projects/{identifier}/edit"),
    )
    .await;
    assert_eq!(
        redirected_to(&form),
        format!("/staff/projects/{identifier}")
    );
    let refused = post(
        &store,
        &officer,
        &format!("/staff/projects/{identifier}/edit"),
        &[
            ("title_en", "Rewritten"),
            ("status", "3"),
            ("start_date", "2024-01-01"),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("publisher"), "{}", refused.body);
    let detail = store.project(identifier).await.unwrap().unwrap();
    assert_eq!(detail.titles[0].text, "As published");
    store.close().await;
}

#[tokio::test]
async fn a_won_inquiry_becomes_an_agreement_and_a_new_project_in_one_step() {
    let (store, _folder) = workspace().await;
    let officer = log_in(&store, "officer@example.org").await;
    redirected_to(
        &post(
            &store,
            &officer,
            "/staff/inquiries/inq-2/stage",
            &[("stage", "won")],
        )
        .await,
    );
    let form = get(&store, &officer, "/staff/inquiries/inq-2/agreement").await;
    assert_eq!(form.status, StatusCode::OK);
    // The project part is filled from the inquiry: organisation and kind, country.
    assert!(form.body.contains("id=\"f-project_create\""));
    assert!(form.body.contains("Fondation Rurale: "), "{}", form.body);
    let agreement = [
        ("key", "agr-inq-2"),
        ("title_en", "Fondation Rurale grant"),
        ("modality", "earmarked"),
        ("status", "signed"),
        ("signature_date", "2024-06-01"),
        ("currency", "USD"),
        ("amount", "20000"),
        ("share_0_partner", "p-1"),
        ("project_create", "1"),
        ("project_title_en", "Rural enterprise in Senegal"),
        ("project_country", "SN"),
        ("project_status", "1"),
        ("project_start", "2024-07-01"),
        ("project_end", "2025-06-30"),
    ];

    // A project identifier already taken leaves nothing made: not the agreement either.
    let mut taken = agreement.to_vec();
    taken.push(("project_suffix", "skills"));
    let mut first = project_fields_minimal();
    first.push(("identifier_suffix", "skills"));
    redirected_to(&post(&store, &officer, "/staff/projects/new", &first).await);
    let refused = post(&store, &officer, "/staff/inquiries/inq-2/agreement", &taken).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("id=\"f-project_suffix-error\""));
    assert!(store.staff_agreement("agr-inq-2").await.unwrap().is_none());

    let mut fields = agreement.to_vec();
    fields.push(("project_suffix", "inq-2"));
    let made = post(
        &store,
        &officer,
        "/staff/inquiries/inq-2/agreement",
        &fields,
    )
    .await;
    assert_eq!(redirected_to(&made), "/staff/agreements/agr-inq-2");
    let identifier = format!("{PREFIX}-inq-2");
    let stored = store.staff_agreement("agr-inq-2").await.unwrap().unwrap();
    assert_eq!(stored.agreement.inquiry_key.as_deref(), Some("inq-2"));
    assert!(
        stored.agreement.earmarking.iter().any(|earmark| matches!(
            &earmark.target,
            coopfolio_core::partnership::EarmarkTarget::Project(target) if *target == identifier
        )),
        "the agreement earmarks the new project"
    );
    let inquiry = store.staff_inquiry("inq-2").await.unwrap().unwrap();
    assert_eq!(inquiry.agreement_key.as_deref(), Some("agr-inq-2"));
    let project = store.staff_project(&identifier).await.unwrap().unwrap();
    assert_eq!(project.project.title.en, "Rural enterprise in Senegal");
    assert_eq!(project.project.funders, ["p-1"]);
    assert_eq!(project.project.countries[0].code, "SN");
    let extras = store.staff_project_extras(&identifier).await.unwrap();
    assert_eq!(extras.agreements[0].0, "agr-inq-2");
    let page = public(&store, &format!("/projects/{identifier}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Rural enterprise in Senegal"));
    let events = audit(&store, "project").await;
    assert!(events
        .iter()
        .any(|event| event.entity_key == identifier && event.action == "create"));
    store.close().await;
}

async fn ranking(store: &Store, period: Period) -> Vec<String> {
    store
        .contributions(period, Basis::Approved)
        .await
        .unwrap()
        .value
        .ranking
        .iter()
        .map(|line| line.code.clone())
        .collect()
}

fn project_fields_minimal<'a>() -> Vec<(&'a str, &'a str)> {
    vec![
        ("title_en", "Skills"),
        ("status", "1"),
        ("start_date", "2025-01-01"),
    ]
}

#[tokio::test]
async fn a_partner_rollup_set_by_hand_moves_the_ranking_at_once() {
    let (store, _folder) = workspace().await;
    let officer = log_in(&store, "officer@example.org").await;
    let period = Period::Year(2024);
    let before = ranking(&store, period).await;
    assert_eq!(before, ["p-1"]);
    let partner = |rollup: &'static str| {
        vec![
            ("name_en", "Partner One"),
            ("name_fr", "Partenaire un"),
            ("name_es", "Socio uno"),
            ("rollup_override", rollup),
        ]
    };
    redirected_to(
        &post(
            &store,
            &officer,
            "/staff/partners/p-1",
            &partner("united-nations"),
        )
        .await,
    );
    let rolled = ranking(&store, period).await;
    assert_eq!(rolled, ["united-nations"]);
    let scan = store
        .contributions_by_scan(period, Basis::Approved)
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(store.contributions(period, Basis::Approved).await.unwrap()).unwrap(),
        serde_json::to_value(scan).unwrap()
    );
    let page = get(&store, &officer, "/staff/partners/p-1").await;
    assert!(page.body.contains("United Nations"), "{}", page.body);
    let wrong = post(&store, &officer, "/staff/partners/p-1", &partner("nobody")).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("id=\"f-rollup_override-error\""));
    // Reset to the rules: the partner counts as itself again.
    redirected_to(&post(&store, &officer, "/staff/partners/p-1", &partner("")).await);
    let reset = ranking(&store, period).await;
    assert_eq!(reset, before);
    let events = audit(&store, "partner").await;
    assert!(events.iter().any(|event| event
        .after
        .as_deref()
        .is_some_and(|after| after.contains("united-nations"))));
    store.close().await;
}
