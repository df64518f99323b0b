//! The staff records in real headless Chromium over the demo workspace: an officer logs in and
//! makes a partner and an agreement with two instalments (the figures move by what arrived);
//! an inquiry sent through the portal's contact form is carried through the pipeline to won
//! and turned into an agreement and a new project, which the public project page shows; a POST
//! without the CSRF token and a viewer's attempt to edit are refused and change nothing. Each
//! step is a screenshot in `target/browser-screenshots/`.

use coopfolio_core::period::Period;
use coopfolio_store::figures::Basis;
use coopfolio_store::staff::Role;
use rust_decimal::Decimal;

use crate::browser::harness::Browser;

const PASSWORD: &str = "a long enough passphrase";

async fn add_user(browser: &Browser, email: &str, role: Role) {
    browser
        .store
        .add_staff_user(email, role, PASSWORD, "test")
        .await
        .expect("adding a staff user");
}

async fn log_in(browser: &mut Browser, email: &str) {
    browser.visit("/staff/login").await;
    browser.wait_for("#email").await;
    browser.fill("#email", email).await;
    browser.fill("#password", PASSWORD).await;
    browser.click("main form button[type=submit]").await;
    browser
        .wait_for_path(|path| path.starts_with("/staff/inquiries"))
        .await;
}

async fn received_2024(browser: &Browser) -> Decimal {
    browser
        .store
        .contributions(Period::Year(2024), Basis::Received)
        .await
        .unwrap()
        .value
        .total_usd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_makes_a_partner_and_an_agreement_with_two_instalments() {
    let Some(mut browser) = Browser::start("staff-records").await else {
        return;
    };
    add_user(&browser, "officer@example.org", Role::Officer).await;
    log_in(&mut browser, "officer@example.org").await;

    browser
        .click("header.site nav a[href='/staff/partners']")
        .await;
    browser.wait_for("table.records").await;
    browser.screenshot("partners").await;
    browser.click("a[href='/staff/partners/new']").await;
    browser.wait_for("#f-key").await;
    browser.fill("#f-key", "lusaka-skills-trust").await;
    browser.fill("#f-name_en", "Lusaka Skills Trust").await;
    browser.choose("#f-organisation_type", "60").await;
    browser.choose("#f-country", "ZM").await;
    browser.screenshot("partner-filled-in").await;
    browser.click("main form button[type=submit]").await;
    browser
        .wait_for_path(|path| path == "/staff/partners/lusaka-skills-trust")
        .await;
    browser.screenshot("partner-saved").await;
    // The group the rules derived, and the rule, are on the page.
    assert!(browser.text("dl.figures").await.contains("Foundation"));

    let received_before = received_2024(&browser).await;
    browser.visit("/staff/agreements/new").await;
    browser.wait_for("#f-key").await;
    browser.fill("#f-key", "lusaka-2024").await;
    browser.fill("#f-title_en", "Youth skills in Lusaka").await;
    browser.choose("#f-status", "signed").await;
    browser.fill("#f-signature_date", "2024-02-15").await;
    browser.fill("#f-start_date", "2024-03-01").await;
    browser.fill("#f-end_date", "2025-12-31").await;
    browser.fill("#f-currency", "USD").await;
    browser.fill("#f-amount", "250000").await;
    browser
        .choose("#f-share_0_partner", "lusaka-skills-trust")
        .await;
    browser.fill("#f-instalment_0_due", "2024-03-01").await;
    browser.fill("#f-instalment_0_amount", "150000").await;
    browser
        .fill("#f-instalment_0_received_date", "2024-03-20")
        .await;
    browser
        .fill("#f-instalment_0_received_amount", "150000")
        .await;
    browser.fill("#f-instalment_1_due", "2025-03-01").await;
    browser.fill("#f-instalment_1_amount", "100000").await;
    // "Add a row" brings a third blank row and keeps what was typed.
    browser
        .click("button[name=add_row][value=instalment]")
        .await;
    browser.wait_for("#f-instalment_2_due").await;
    assert_eq!(browser.value("#f-instalment_1_amount").await, "100000");
    browser.screenshot("agreement-filled-in").await;
    browser.click("button[name=save]").await;
    browser
        .wait_for_path(|path| path == "/staff/agreements/lusaka-2024")
        .await;
    browser.screenshot("agreement-saved").await;
    assert_eq!(
        browser.value("#f-instalment_0_received_amount").await,
        "150000"
    );
    assert_eq!(browser.value("#f-instalment_1_amount").await, "100000");
    let stored = browser
        .store
        .staff_agreement("lusaka-2024")
        .await
        .unwrap()
        .expect("the agreement is stored");
    assert_eq!(stored.agreement.instalments.len(), 2);
    assert_eq!(
        received_2024(&browser).await - received_before,
        Decimal::from(150_000),
        "the received figure moves by the instalment that arrived"
    );
    browser
        .visit("/staff/agreements?partner=lusaka-skills-trust")
        .await;
    browser.wait_for("table.records").await;
    assert!(browser
        .text("table.records")
        .await
        .contains("Youth skills in Lusaka"));
    browser.screenshot("agreements-of-the-partner").await;
    browser.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inquiry_from_the_portal_is_won_and_turned_into_an_agreement() {
    let Some(mut browser) = Browser::start("staff-inquiry-to-agreement").await else {
        return;
    };
    add_user(&browser, "officer@example.org", Role::Officer).await;
    browser.visit("/contact").await;
    browser.wait_for("form.inquiry").await;
    browser.choose("#inquiry-kind", "partnership_idea").await;
    browser.fill("#inquiry-name", "Amaru Quispe").await;
    browser.fill("#inquiry-email", "amaru@example.org").await;
    browser
        .fill("#inquiry-organisation", "Andean Cooperative Fund")
        .await;
    browser.choose("#inquiry-country", "PE").await;
    browser.click("#inquiry-area-employment").await;
    browser
        .fill(
            "#inquiry-message",
            "We would like to fund cooperatives in Cusco.",
        )
        .await;
    browser.click("#inquiry-consent").await;
    browser.click("form.inquiry button[type=submit]").await;
    browser.wait_for("#inquiry-reference").await;
    browser.screenshot("inquiry-sent").await;
    let key = browser
        .store
        .inquiry_board()
        .await
        .unwrap()
        .into_iter()
        .find(|card| card.name == "Amaru Quispe")
        .expect("the inquiry is on the board")
        .key;

    log_in(&mut browser, "officer@example.org").await;
    let page = format!("/staff/inquiries/{key}");
    browser.visit(&page).await;
    for stage in [
        "triaged",
        "in_dialogue",
        "concept_note",
        "appraisal",
        "agreement",
        "won",
    ] {
        browser.wait_for("#stage").await;
        browser.choose("#stage", stage).await;
        browser
            .click_and_reload("form[action$='/stage'] button[type=submit]")
            .await;
        browser.wait_for_path(|path| path == page).await;
    }
    browser.screenshot("inquiry-won").await;
    // The sender's organisation becomes a partner, then the agreement is made from the form
    // the inquiry fills in.
    browser.click_and_reload("button[name=create]").await;
    browser.wait_for_path(|path| path == page).await;
    browser.click("a[href$='/agreement']").await;
    browser.wait_for("#f-key").await;
    browser.screenshot("agreement-from-inquiry").await;
    assert_eq!(
        browser.value("#f-share_0_partner").await,
        "andean-cooperative-fund"
    );
    assert_eq!(browser.value("#f-earmark_1_target").await, "PE");
    // The new project is offered in the same step, filled from the inquiry.
    assert!(browser.is_checked("#f-project_create").await);
    assert_eq!(browser.value("#f-project_country").await, "PE");
    assert!(browser
        .value("#f-project_title_en")
        .await
        .starts_with("Andean Cooperative Fund"));
    browser
        .fill("#f-project_title_en", "Cooperatives of Cusco")
        .await;
    browser.fill("#f-project_end", "2027-12-31").await;
    browser.fill("#f-signature_date", "2024-05-02").await;
    browser.fill("#f-amount", "80000").await;
    browser.fill("#f-currency", "EUR").await;
    browser.click("button[name=save]").await;
    let agreement_path = browser
        .wait_for_path(|path| path.starts_with("/staff/agreements/"))
        .await;
    browser.screenshot("agreement-made").await;
    let agreement_key = agreement_path.trim_start_matches("/staff/agreements/");
    let inquiry = browser.store.staff_inquiry(&key).await.unwrap().unwrap();
    assert_eq!(inquiry.stage, "won");
    assert_eq!(inquiry.agreement_key.as_deref(), Some(agreement_key));
    let stored = browser
        .store
        .staff_agreement(agreement_key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.agreement.inquiry_key.as_deref(), Some(key.as_str()));
    // The agreement earmarks the new project, which the public project page shows.
    let project = stored
        .agreement
        .earmarking
        .iter()
        .find_map(|earmark| match &earmark.target {
            coopfolio_core::partnership::EarmarkTarget::Project(identifier) => {
                Some(identifier.clone())
            }
            _ => None,
        })
        .expect("the agreement earmarks its project");
    assert_eq!(project, format!("XI-DEMO-COOPFOLIO-{key}"));
    let made = browser
        .store
        .staff_project(&project)
        .await
        .unwrap()
        .expect("the project is stored");
    assert_eq!(made.project.countries[0].code, "PE");
    assert_eq!(made.project.funders, ["andean-cooperative-fund"]);
    // The link reads both ways on the staff pages.
    browser
        .click(&format!("a[href='/staff/inquiries/{key}']"))
        .await;
    browser.wait_for_path(|path| path == page).await;
    browser
        .click(&format!("a[href='/staff/agreements/{agreement_key}']"))
        .await;
    browser.wait_for_path(|path| path == agreement_path).await;
    browser.visit(&format!("/projects/{project}")).await;
    browser.wait_for("h1").await;
    assert!(browser.text("h1").await.contains("Cooperatives of Cusco"));
    browser.screenshot("project-from-inquiry").await;
    browser.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_post_and_a_viewers_edit_are_refused_and_change_nothing() {
    let Some(mut browser) = Browser::start("staff-refusals").await else {
        return;
    };
    add_user(&browser, "officer@example.org", Role::Officer).await;
    add_user(&browser, "viewer@example.org", Role::Viewer).await;
    let partner = browser
        .store
        .staff_partners(&Default::default())
        .await
        .unwrap()
        .into_iter()
        .next()
        .expect("the demo has partners")
        .partner;
    let page = format!("/staff/partners/{}", partner.key);

    // The officer's own form, with its CSRF token taken out before it is sent.
    log_in(&mut browser, "officer@example.org").await;
    browser.visit(&page).await;
    browser.wait_for("#f-name_en").await;
    browser.fill("#f-name_en", "Forged name").await;
    browser
        .run_script(
            "document.querySelector('main form input[name=csrf_token]').remove();\
             document.querySelector('main form').submit();",
        )
        .await;
    browser.wait_for("h1").await;
    browser.screenshot("forged-post-refused").await;
    assert!(browser.text("main").await.contains("nothing was changed"));
    browser.visit("/staff/partners").await;
    browser.wait_for("form.logout").await;
    browser.click("form.logout button[type=submit]").await;
    browser
        .wait_for_path(|path| path.starts_with("/staff/login"))
        .await;

    // A viewer sees no form, and a form built in the page with the viewer's own token is
    // refused for the role.
    log_in(&mut browser, "viewer@example.org").await;
    browser.visit(&page).await;
    browser.wait_for("dl.figures").await;
    assert!(browser.find_all("main form").await.is_empty());
    browser.screenshot("viewer-reads").await;
    browser
        .run_script(&format!(
            "const form = document.createElement('form');\
             form.method = 'post'; form.action = '{page}';\
             for (const [name, value] of [['name_en', 'Viewer name'], \
               ['csrf_token', document.querySelector('form.logout input[name=csrf_token]').value]]) {{\
               const input = document.createElement('input'); input.name = name; input.value = value;\
               form.appendChild(input); }}\
             document.body.appendChild(form); form.submit();"
        ))
        .await;
    browser.wait_for_path(|path| path == page).await;
    browser.wait_for("h1").await;
    browser.screenshot("viewer-edit-refused").await;
    assert!(browser.text("main").await.contains("officer"));
    let after = browser
        .store
        .staff_partner(&partner.key)
        .await
        .unwrap()
        .unwrap()
        .partner;
    assert_eq!(after, partner, "nothing changed");
    let events = browser
        .store
        .audit_events(&coopfolio_store::staff::AuditFilter {
            entity_kind: Some("partner".to_owned()),
            page: 1,
            page_size: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.total, 0);
    browser.finish().await;
}
