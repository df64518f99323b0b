//! The staff records through the router with `oneshot`, on the staff tests' workspace (three
//! users, a partner, two inquiries) with the records added here (an agreement, a partnership,
//! an imported project): each record made and edited with its audit events, field errors that
//! keep the form, a taken key, "add a row", a viewer who reads but cannot change, a won inquiry
//! turned into an agreement, the ledger and figures an agreement's instalments move, and hostile
//! input on every form.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use coopfolio_core::modality::Modality;
use coopfolio_core::partnership::{
    Agreement, AgreementPartner, AgreementStatus, Partnership, PartnershipLevel, PartnershipMember,
};
use coopfolio_core::period::Period;
use coopfolio_core::reference::Names;
use coopfolio_core::value::CurrencyCode;
use coopfolio_iati::model::{Activity, Narrative};
use coopfolio_store::figures::Basis;
use coopfolio_store::staff::{AuditEvent, AuditFilter, Role};
use coopfolio_store::{PartnershipRecords, Store};
use rust_decimal::Decimal;

use crate::staff::{log_in, post_form, send, workspace, Browser};
use crate::{escaped, Page};

/// The imported project of the workspace.
pub const PROJECT: &str = "XM-TEST-PROJECT-1";

/// Adds to the staff workspace an agreement (`a-1`, signed 2024, USD 1000 from `p-1`), a
/// partnership (`ms-1`) and an imported project.
pub async fn add_records(store: &Store) {
    let agreement = Agreement {
        key: "a-1".to_owned(),
        title: names("Core grant"),
        modality: Modality::Earmarked,
        status: AgreementStatus::Signed,
        partners: vec![AgreementPartner {
            partner_key: "p-1".to_owned(),
            amount: Decimal::from(1000),
        }],
        signature_date: Some("2024-01-15".to_owned()),
        start_date: Some("2024-01-01".to_owned()),
        end_date: Some("2025-12-31".to_owned()),
        currency: CurrencyCode::parse("USD").unwrap(),
        amount: Decimal::from(1000),
        instalments: Vec::new(),
        earmarking: Vec::new(),
        confidential: false,
        inquiry_key: None,
        synthetic: false,
    };
    let partnership = Partnership {
        key: "ms-1".to_owned(),
        name: names("Decent work alliance"),
        level: PartnershipLevel::Global,
        policy_areas: Vec::new(),
        members: vec![PartnershipMember {
            partner_key: "p-1".to_owned(),
            role: "chair".to_owned(),
        }],
        synthetic: false,
    };
    store
        .save_partnership_records(PartnershipRecords {
            agreements: &[agreement],
            partnerships: &[partnership],
            ..PartnershipRecords::default()
        })
        .await
        .expect("saving the records");
    let mut session = store.begin_import("records.xml", 0).await.unwrap();
    session
        .add_activity(Activity {
            identifier: PROJECT.to_owned(),
            titles: vec![Narrative {
                lang: Some("en".to_owned()),
                text: "Skills for rural youth".to_owned(),
            }],
            status: Some("2".to_owned()),
            ..Activity::default()
        })
        .await
        .unwrap();
    session.commit(0).await.unwrap();
}

/// A body each role allowed to post to a records route succeeds with (the access test's).
pub fn valid_fields(path: &str, role: Role) -> String {
    let role = role.code();
    let agreement = "title_en=Grant&modality=earmarked&status=signed&signature_date=2024-02-01\
        &currency=USD&amount=5000&share_0_partner=p-1";
    match path {
        "/staff/partners/new" => format!("key=new-{role}&name_en=New+partner"),
        "/staff/partners/{partner}" => "name_en=Partner+One".to_owned(),
        "/staff/agreements/new" => format!("key=agr-new-{role}&{agreement}"),
        "/staff/agreements/{agreement}" => agreement.to_owned(),
        "/staff/inquiries/{key}/agreement" => format!("key=agr-inq-{role}&{agreement}"),
        "/staff/partnerships/new" => format!("key=ms-new-{role}&name_en=New&level=global"),
        "/staff/partnerships/{partnership}" => {
            "name_en=Alliance&level=regional&member_0_partner=p-1&member_0_role=chair".to_owned()
        }
        "/staff/projects/{project}" => "policy_area=employment&south_south=1".to_owned(),
        "/staff/projects/new" => {
            format!(
                "identifier_suffix=new-{role}&title_en=New+project&status=1&start_date=2025-01-01"
            )
        }
        "/staff/projects/{project}/edit" => {
            "title_en=Skills+for+rural+youth&status=2&start_date=2024-01-01".to_owned()
        }
        _ => String::new(),
    }
}

fn names(text: &str) -> Names {
    Names {
        en: text.to_owned(),
        fr: text.to_owned(),
        es: text.to_owned(),
    }
}

/// POSTs a form with the browser's token.
pub(crate) async fn post(
    store: &Store,
    browser: &Browser,
    uri: &str,
    fields: &[(&str, &str)],
) -> Page {
    let body = serde_urlencoded::to_string(fields).unwrap();
    post_form(store, browser, uri, Some(&browser.csrf), &body).await
}

pub(crate) async fn get(store: &Store, browser: &Browser, uri: &str) -> Page {
    send(
        store,
        Request::get(uri).header("cookie", &browser.cookie),
        Body::empty(),
    )
    .await
}

pub(crate) async fn audit(store: &Store, kind: &str) -> Vec<AuditEvent> {
    store
        .audit_events(&AuditFilter {
            entity_kind: Some(kind.to_owned()),
            page: 1,
            page_size: 200,
            ..AuditFilter::default()
        })
        .await
        .unwrap()
        .events
}

async fn total(store: &Store, basis: Basis) -> Decimal {
    store
        .contributions(Period::Year(2024), basis)
        .await
        .unwrap()
        .value
        .total_usd
}

pub(crate) fn redirected_to(page: &Page) -> &str {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    page.headers["location"].to_str().unwrap()
}

#[tokio::test]
async fn an_officer_makes_and_edits_a_partner_and_each_change_is_audited() {
    let (store, _folder) = workspace().await;
    let officer = log_in(&store, "officer@example.org").await;
    let made = post(
        &store,
        &officer,
        "/staff/partners/new",
        &[
            ("key", "un-women"),
            ("name_en", "UN Women"),
            ("iati_ref", "XM-DAC-41146"),
            ("organisation_type", "40"),
            ("group_override", ""),
        ],
    )
    .await;
    assert_eq!(redirected_to(&made), "/staff/partners/un-women");
    let page = get(&store, &officer, "/staff/partners/un-women").await;
    assert_eq!(page.status, StatusCode::OK);
    // The group comes from the rules, and the page says which rule gave it.
    assert!(page.body.contains("United Nations"), "{}", page.body);
    assert!(page.body.contains("XM-DAC-41"), "the rule is shown");
    let stored = store.staff_partner("un-women").await.unwrap().unwrap();
    assert_eq!(stored.partner_group, "united_nations");
    assert_eq!(
        stored.partner.names.fr, "UN Women",
        "untranslated names fall back to English"
    );

    let edited = post(
        &store,
        &officer,
        "/staff/partners/un-women",
        &[
            ("name_en", "UN Women"),
            ("name_fr", "ONU Femmes"),
            ("iati_ref", "XM-DAC-41146"),
            ("organisation_type", "40"),
            ("group_override", "foundation"),
        ],
    )
    .await;
    redirected_to(&edited);
    let stored = store.staff_partner("un-women").await.unwrap().unwrap();
    assert_eq!(stored.partner_group, "foundation");
    assert_eq!(stored.group_rule, "set by hand");

    let events = audit(&store, "partner").await;
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["edit", "create"], "newest first");
    assert!(events.iter().all(|e| e.actor == "officer@example.org"));
    assert!(events[1].before.is_none());
    assert!(events[0]
        .before
        .as_deref()
        .unwrap()
        .contains("\"fr\":\"UN Women\""));
    assert!(events[0].after.as_deref().unwrap().contains("ONU Femmes"));

    let list = get(&store, &officer, "/staff/partners?group=foundation&q=women").await;
    assert!(list.body.contains("/staff/partners/un-women"));
    let list = get(&store, &officer, "/staff/partners?group=government").await;
    assert!(!list.body.contains("/staff/partners/un-women"));
    store.close().await;
}

#[tokio::test]
async fn an_agreement_with_two_instalments_moves_the_ledger_and_an_edit_rewrites_it() {
    let (store, _folder) = workspace().await;
    let officer = log_in(&store, "officer@example.org").await;
    let approved_before = total(&store, Basis::Approved).await;
    let received_before = total(&store, Basis::Received).await;
    let mut fields = vec![
        ("key", "agr-2024"),
        ("title_en", "Skills grant"),
        ("modality", "earmarked"),
        ("status", "signed"),
        ("signature_date", "2024-02-01"),
        ("start_date", "2024-02-01"),
        ("end_date", "2025-01-31"),
        ("currency", "USD"),
        ("amount", "5000.50"),
        ("share_0_partner", "p-1"),
        ("instalment_0_due", "2024-03-01"),
        ("instalment_0_amount", "3000"),
        ("instalment_0_received_date", "2024-03-05"),
        ("instalment_0_received_amount", "3000"),
        ("instalment_1_due", "2024-09-01"),
        ("instalment_1_amount", "2000.50"),
        ("earmark_0_kind", "project"),
        ("earmark_0_target", PROJECT),
        ("earmark_0_amount", "5000.50"),
        ("document_0_url", "https://example.org/agreement.pdf"),
        ("document_0_label", "Signed agreement"),
    ];
    let made = post(&store, &officer, "/staff/agreements/new", &fields).await;
    assert_eq!(redirected_to(&made), "/staff/agreements/agr-2024");
    let stored = store.staff_agreement("agr-2024").await.unwrap().unwrap();
    assert_eq!(stored.agreement.instalments.len(), 2);
    assert_eq!(stored.documents.len(), 1);
    assert_eq!(
        total(&store, Basis::Approved).await - approved_before,
        Decimal::new(500050, 2)
    );
    assert_eq!(
        total(&store, Basis::Received).await - received_before,
        Decimal::from(3000)
    );
    let page = get(&store, &officer, "/staff/agreements/agr-2024").await;
    assert!(
        page.body.contains("value=\"2000.50\""),
        "the second instalment shows"
    );
    assert!(page
        .body
        .contains("href=\"https:&#x2f;&#x2f;example.org&#x2f;agreement.pdf\""));
    let project = get(&store, &officer, &format!("/staff/projects/{PROJECT}")).await;
    assert!(
        project.body.contains("/staff/agreements/agr-2024"),
        "the project links back"
    );

    // The second instalment arrives; saved twice, it is counted once.
    fields.retain(|(name, _)| *name != "key");
    fields.push(("instalment_1_received_date", "2024-09-10"));
    fields.push(("instalment_1_received_amount", "2000.50"));
    for _ in 0..2 {
        let edited = post(&store, &officer, "/staff/agreements/agr-2024", &fields).await;
        redirected_to(&edited);
    }
    assert_eq!(
        total(&store, Basis::Received).await - received_before,
        Decimal::new(500050, 2)
    );
    assert_eq!(
        total(&store, Basis::Approved).await - approved_before,
        Decimal::new(500050, 2)
    );
    let actions: Vec<String> = audit(&store, "agreement")
        .await
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["edit", "edit", "create"]);
    let filtered = get(
        &store,
        &officer,
        "/staff/agreements?partner=p-1&status=signed&year=2025",
    )
    .await;
    assert!(filtered.body.contains("/staff/agreements/agr-2024"));
    assert!(filtered.body.contains("/staff/agreements/a-1"));
    let filtered = get(&store, &officer, "/staff/agreements?year=2026").await;
    assert!(!filtered.body.contains("/staff/agreements/agr-2024"));
    store.close().await;
}

#[tokio::test]
async fn a_wrong_field_is_named_beside_it_and_in_the_summary_and_nothing_is_lost() {
    let (store, _folder) = workspace().await;
    let officer = log_in(&store, "officer@example.org").await;
    let page = post(
        &store,
        &officer,
        "/staff/agreements/new",
        &[
            ("key", "agr-bad"),
            ("title_en", "Kept title <b>"),
            ("modality", "earmarked"),
            ("status", "pledged"),
            ("currency", "USD"),
            ("amount", "12abc"),
            ("share_0_partner", "p-1"),
            ("instalment_0_due", "next spring"),
            ("instalment_0_amount", "100"),
            ("instalment_1_due", "2024-01-01"),
            ("instalment_1_amount", "50"),
            ("instalment_1_received_amount", "50"),
            ("document_0_url", "javascript:alert(1)"),
        ],
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in [
        "amount",
        "instalment_0_due",
        "instalment_1_received_date",
        "document_0_url",
    ] {
        assert!(
            page.body.contains(&format!("id=\"f-{field}-error\"")),
            "{field} has its message"
        );
        assert!(
            page.body.contains(&format!("href=\"#f-{field}\"")),
            "{field} is in the summary"
        );
    }
    assert!(page.body.contains("value=\"Kept title &lt;b&gt;\""));
    assert!(page.body.contains("value=\"12abc\""));
    assert!(page.body.contains("value=\"next spring\""));
    assert!(store.staff_agreement("agr-bad").await.unwrap().is_none());
    assert!(audit(&store, "agreement").await.is_empty());
    store.close().await;
}

#[tokio::test]
async fn a_key_already_taken_is_a_field_error() {
    let (store, _folder) = workspace().await;
    let officer = log_in(&store, "officer@example.org").await;
    let page = post(
        &store,
        &officer,
        "/staff/partners/new",
        &[("key", "p-1"), ("name_en", "Someone else")],
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("id=\"f-key-error\""), "{}", page.body);
    let stored = store.staff_partner("p-1").await.unwrap().unwrap();
    assert_eq!(
        stored.partner.names.en, "Partner One",
        "nothing was overwritten"
    );
    let page = post(
        &store,
        &officer,
        "/staff/partnerships/new",
        &[("key", "ms-1"), ("name_en", "Again"), ("level", "global")],
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("id=\"f-key-error\""));
    store.close().await;
}

#[tokio::test]
async fn add_a_row_shows_one_more_blank_row_and_saves_nothing() {
    let (store, _folder) = workspace().await;
    let officer = log_in(&store, "officer@example.org").await;
    let page = post(
        &store,
        &officer,
        "/staff/agreements/new",
        &[
            ("key", "agr-rows"),
            ("title_en", "Rows"),
            ("instalment_0_due", "2024-01-01"),
            ("instalment_1_due", "2024-06-01"),
            ("add_row", "instalment"),
        ],
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("name=\"instalment_2_due\""));
    assert!(!page.body.contains("name=\"instalment_3_due\""));
    assert!(page.body.contains("value=\"2024-06-01\""));
    assert!(store.staff_agreement("agr-rows").await.unwrap().is_none());
    store.close().await;
}

#[tokio::test]
async fn a_viewer_reads_every_record_but_changes_none() {
    let (store, _folder) = workspace().await;
    let viewer = log_in(&store, "viewer@example.org").await;
    for uri in [
        "/staff/partners",
        "/staff/partners/p-1",
        "/staff/agreements",
        "/staff/agreements/a-1",
        "/staff/partnerships",
        "/staff/partnerships/ms-1",
        "/staff/projects",
    ] {
        let page = get(&store, &viewer, uri).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}");
        assert!(
            !page
                .body
                .contains("method=\"post\" action=\"/staff/partners"),
            "{uri}"
        );
    }
    let before = store.staff_agreement("a-1").await.unwrap();
    for (uri, field) in [
        ("/staff/partners/p-1", "name_en"),
        ("/staff/agreements/a-1", "title_en"),
        ("/staff/partnerships/ms-1", "name_en"),
        ("/staff/partners/new", "name_en"),
    ] {
        let page = post(&store, &viewer, uri, &[(field, "Changed"), ("key", "v-1")]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{uri}");
    }
    assert_eq!(store.staff_agreement("a-1").await.unwrap(), before);
    assert!(store.staff_partner("v-1").await.unwrap().is_none());
    assert_eq!(
        store
            .staff_partner("p-1")
            .await
            .unwrap()
            .unwrap()
            .partner
            .names
            .en,
        "Partner One"
    );
    for kind in ["partner", "agreement", "partnership"] {
        assert!(audit(&store, kind).await.is_empty(), "{kind}");
    }
    store.close().await;
}

#[tokio::test]
async fn a_won_inquiry_becomes_an_agreement_linked_both_ways() {
    let (store, _folder) = workspace().await;
    let officer = log_in(&store, "officer@example.org").await;
    let moved = post(
        &store,
        &officer,
        "/staff/inquiries/inq-2/stage",
        &[("stage", "won")],
    )
    .await;
    redirected_to(&moved);
    let inquiry = get(&store, &officer, "/staff/inquiries/inq-2").await;
    assert!(inquiry.body.contains("/staff/inquiries/inq-2/agreement"));
    let form = get(&store, &officer, "/staff/inquiries/inq-2/agreement").await;
    assert_eq!(form.status, StatusCode::OK);
    // Filled from the inquiry: its country as earmarking.
    assert!(form.body.contains("value=\"SN\""), "{}", form.body);
    let made = post(
        &store,
        &officer,
        "/staff/inquiries/inq-2/agreement",
        &[
            ("key", "agr-inq-2"),
            ("title_en", "Fondation Rurale grant"),
            ("modality", "earmarked"),
            ("status", "signed"),
            ("signature_date", "2024-06-01"),
            ("currency", "EUR"),
            ("amount", "20000"),
            ("share_0_partner", "p-1"),
            ("earmark_0_kind", "country"),
            ("earmark_0_target", "SN"),
            ("earmark_1_kind", "project"),
            ("earmark_1_target", PROJECT),
        ],
    )
    .await;
    assert_eq!(redirected_to(&made), "/staff/agreements/agr-inq-2");
    let stored = store.staff_agreement("agr-inq-2").await.unwrap().unwrap();
    assert_eq!(stored.agreement.inquiry_key.as_deref(), Some("inq-2"));
    assert_eq!(stored.inquiries, ["inq-2"]);
    let inquiry = store.staff_inquiry("inq-2").await.unwrap().unwrap();
    assert_eq!(inquiry.agreement_key.as_deref(), Some("agr-inq-2"));
    let page = get(&store, &officer, "/staff/inquiries/inq-2").await;
    assert!(page.body.contains("/staff/agreements/agr-inq-2"));
    let page = get(&store, &officer, "/staff/agreements/agr-inq-2").await;
    assert!(page.body.contains("/staff/inquiries/inq-2"));
    let links: Vec<String> = audit(&store, "inquiry")
        .await
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(links.contains(&"link_agreement".to_owned()), "{links:?}");

    // An edit of the agreement keeps the link.
    let edited = post(
        &store,
        &officer,
        "/staff/agreements/agr-inq-2",
        &[
            ("title_en", "Fondation Rurale grant, phase 1"),
            ("modality", "earmarked"),
            ("status", "active"),
            ("signature_date", "2024-06-01"),
            ("currency", "EUR"),
            ("amount", "20000"),
            ("share_0_partner", "p-1"),
            ("inquiry_key", "inq-2"),
        ],
    )
    .await;
    redirected_to(&edited);
    let inquiry = store.staff_inquiry("inq-2").await.unwrap().unwrap();
    assert_eq!(inquiry.agreement_key.as_deref(), Some("agr-inq-2"));

    // Another inquiry cannot claim the same agreement's inquiry.
    let page = post(
        &store,
        &officer,
        "/staff/agreements/a-1",
        &[
            ("title_en", "Core grant"),
            ("modality", "earmarked"),
            ("status", "signed"),
            ("signature_date", "2024-01-15"),
            ("currency", "USD"),
            ("amount", "1000"),
            ("share_0_partner", "p-1"),
            ("inquiry_key", "inq-2"),
        ],
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("id=\"f-inquiry_key-error\""));
    store.close().await;
}

#[tokio::test]
async fn partnerships_and_project_extras_are_saved_and_audited() {
    let (store, _folder) = workspace().await;
    let officer = log_in(&store, "officer@example.org").await;
    let made = post(
        &store,
        &officer,
        "/staff/partnerships/new",
        &[
            ("key", "alliance-8-7"),
            ("name_en", "Alliance 8.7"),
            ("level", "global"),
            ("policy_area", "child_forced_labour"),
            ("member_0_partner", "p-1"),
            ("member_0_role", "chair"),
        ],
    )
    .await;
    assert_eq!(redirected_to(&made), "/staff/partnerships/alliance-8-7");
    let twice = post(
        &store,
        &officer,
        "/staff/partnerships/alliance-8-7",
        &[
            ("name_en", "Alliance 8.7"),
            ("level", "global"),
            ("member_0_partner", "p-1"),
            ("member_1_partner", "p-1"),
        ],
    )
    .await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(twice.body.contains("id=\"f-member_1_partner-error\""));
    let stored = store
        .staff_partnership("alliance-8-7")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.members.len(), 1);
    assert_eq!(stored.policy_areas.len(), 1);

    let saved = post(
        &store,
        &officer,
        &format!("/staff/projects/{PROJECT}"),
        &[
            ("policy_area", "skills"),
            ("policy_area", "employment"),
            ("triangular", "1"),
        ],
    )
    .await;
    redirected_to(&saved);
    let extras = store.staff_project_extras(PROJECT).await.unwrap();
    assert_eq!(extras.policy_areas, ["employment", "skills"]);
    assert!(extras.markers.triangular && !extras.markers.south_south);
    let bad = post(
        &store,
        &officer,
        &format!("/staff/projects/{PROJECT}"),
        &[("policy_area", "astrology")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"f-policy_area-error\""));
    assert_eq!(audit(&store, "partnership").await.len(), 1);
    assert_eq!(audit(&store, "project").await.len(), 1);
    let missing = post(
        &store,
        &officer,
        "/staff/projects/XM-NOT-STORED",
        &[("mptf", "1")],
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    store.close().await;
}

/// What may come of a hostile value: refused with a message beside its field, refused whole
/// (400 for a body that is not text, 413 for one too large), or stored and shown escaped.
#[tokio::test]
async fn hostile_input_on_every_records_form_is_refused_or_stored_harmlessly() {
    let (store, _folder) = workspace().await;
    let officer = log_in(&store, "officer@example.org").await;
    let script = "<script>alert('x')</script>";
    let sql = "x'); DROP TABLE partner; --";
    let long = "é".repeat(5000);
    // (form, the fields it needs, the field attacked, where a stored value shows)
    let agreement =
        "title_en=T&modality=earmarked&status=pledged&currency=USD&amount=10&share_0_partner=p-1";
    let forms: [(&str, String, &str, &str); 11] = [
        (
            "/staff/partners/new",
            "key=h-NN&name_en=N".to_owned(),
            "name_en",
            "/staff/partners/h-NN",
        ),
        (
            "/staff/partners/p-1",
            "name_en=N".to_owned(),
            "name_fr",
            "/staff/partners/p-1",
        ),
        (
            "/staff/partners/new",
            "name_en=N".to_owned(),
            "key",
            "/staff/partners/twelve",
        ),
        (
            "/staff/agreements/new",
            format!("key=ha-NN&{agreement}"),
            "title_en",
            "/staff/agreements/ha-NN",
        ),
        (
            "/staff/agreements/a-1",
            agreement.to_owned(),
            "document_0_label",
            "/staff/agreements/a-1",
        ),
        (
            "/staff/agreements/a-1",
            agreement.replace("&amount=10", ""),
            "amount",
            "",
        ),
        (
            "/staff/partnerships/new",
            "key=hp-NN&level=global".to_owned(),
            "name_en",
            "/staff/partnerships/hp-NN",
        ),
        (
            "/staff/partnerships/ms-1",
            "name_en=N&level=global&member_0_partner=p-1".to_owned(),
            "member_0_role",
            "/staff/partnerships/ms-1",
        ),
        (
            "/staff/agreements/a-1",
            agreement.to_owned(),
            "instalment_0_due",
            "",
        ),
        (
            "/staff/projects/new",
            "identifier_suffix=hj-NN&status=1&start_date=2025-01-01".to_owned(),
            "title_en",
            "/staff/projects/XI-DEMO-COOPFOLIO-hj-NN",
        ),
        (
            "/staff/projects/new",
            "title_en=T&status=1&start_date=2025-01-01".to_owned(),
            "identifier_suffix",
            "/staff/projects/XI-DEMO-COOPFOLIO-twelve",
        ),
    ];
    let payloads: [(&str, &str); 5] = [
        ("script", script),
        ("sql", sql),
        ("long", &long),
        ("letters", "twelve"),
        ("control", "a\u{0007}b"),
    ];
    let mut case = 0;
    for (uri, base, field, shown_at) in &forms {
        for (name, payload) in payloads {
            case += 1;
            let base = base.replace("NN", &case.to_string());
            let shown_at = shown_at.replace("NN", &case.to_string());
            let mut fields: Vec<(String, String)> = serde_urlencoded::from_str(&base).unwrap();
            fields.retain(|(name, _)| name != field);
            fields.push(((*field).to_owned(), payload.to_owned()));
            if *field == "document_0_label" {
                fields.push((
                    "document_0_url".to_owned(),
                    "https://example.org/d".to_owned(),
                ));
            }
            if *field == "instalment_0_due" {
                fields.push(("instalment_0_amount".to_owned(), "10".to_owned()));
            }
            let body = serde_urlencoded::to_string(&fields).unwrap();
            let page = post_form(&store, &officer, uri, Some(&officer.csrf), &body).await;
            let label = format!("{uri} {field} {name}");
            assert!(page.status.as_u16() < 500, "{label}: {}", page.status);
            assert!(!page.body.contains(script), "{label}: shown unescaped");
            match page.status {
                StatusCode::SEE_OTHER => {
                    assert!(!shown_at.is_empty(), "{label}: this value must be refused");
                    let shown = get(&store, &officer, &shown_at).await;
                    assert_eq!(shown.status, StatusCode::OK, "{label}");
                    assert!(!shown.body.contains(script), "{label}: shown unescaped");
                    if name == "script" || name == "sql" {
                        assert!(shown.body.contains(&escaped(payload)), "{label}: not shown");
                    }
                }
                StatusCode::UNPROCESSABLE_ENTITY => assert!(
                    page.body.contains(&format!("id=\"f-{field}-error\"")),
                    "{label}: no message beside the field"
                ),
                other => panic!("{label}: {other}"),
            }
            // Wrong types, oversized text and control characters never get in.
            if matches!(name, "long" | "control") || matches!(*field, "amount" | "instalment_0_due")
            {
                assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{label}");
            }
        }
    }
    // The SQL fragment did nothing but be stored as text.
    assert!(store.staff_partner("p-1").await.unwrap().is_some());
    // A body that is not UTF-8 text, and one over the size limit, are refused whole.
    let bad_utf8 = post_form(
        &store,
        &officer,
        "/staff/partners/p-1",
        Some(&officer.csrf),
        "name_en=%FF%FE",
    )
    .await;
    assert_eq!(bad_utf8.status, StatusCode::BAD_REQUEST);
    let huge = format!("name_en={}", "a".repeat(100_000));
    let too_large = post_form(
        &store,
        &officer,
        "/staff/partners/p-1",
        Some(&officer.csrf),
        &huge,
    )
    .await;
    assert!(too_large.status.is_client_error(), "{}", too_large.status);
    let kept = store.staff_partner("p-1").await.unwrap().unwrap();
    assert!(kept.partner.names.en.chars().count() < 1000);
    store.close().await;
}
