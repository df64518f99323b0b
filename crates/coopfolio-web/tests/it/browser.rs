//! The portal in real headless Chromium, as a visitor uses it: finding a project through the
//! explorer's filters, and sending an inquiry after correcting a mistake. Each step is saved as
//! a screenshot in `target/browser-screenshots/`. The harness (`browser/harness.rs`) starts and
//! stops everything; a new scenario is a few lines of `visit`, `click`, `wait_for` and
//! `screenshot`.

pub(crate) mod harness;

use coopfolio_core::country::{Countries, IloRegion};

use harness::Browser;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_filters_the_explorer_and_opens_a_project() {
    let Some(mut browser) = Browser::start("explorer").await else {
        return;
    };
    browser.visit("/").await;
    browser.wait_for("section.biennium").await;
    browser.screenshot("home").await;

    browser.click("header.site nav a[href='/projects']").await;
    let total = count(
        &browser
            .wait_for("#result-count")
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(browser.path().await, "/projects");
    browser.screenshot("explorer").await;

    browser.choose("#filter-region", "africa").await;
    browser.choose("#filter-status", "2").await;
    browser.screenshot("filters-chosen").await;
    browser.click("form.filters button[type=submit]").await;
    let path = browser
        .wait_for_path(|path| path.contains("region=africa"))
        .await;
    assert!(path.contains("status=2"), "{path}");
    let filtered = count(&browser.text("#result-count").await);
    assert!(
        filtered > 0 && filtered < total,
        "{filtered} of {total} programmes and projects"
    );
    // The form shows the filters it applied.
    assert_eq!(browser.value("#filter-region").await, "africa");
    assert_eq!(browser.value("#filter-status").await, "2");
    browser.screenshot("filtered").await;

    // The CSV link of this view downloads exactly its rows, in its order.
    let csv_link = browser
        .find("p.downloads a[href*='.csv']")
        .await
        .attr("href")
        .await
        .unwrap()
        .expect("a CSV link");
    assert!(csv_link.contains("region=africa") && csv_link.contains("status=2"));
    let csv = browser.fetch(&csv_link).await;
    let mut lines = csv.lines().filter(|line| !line.starts_with('#'));
    assert!(lines.next().expect("a header").starts_with("identifier,"));
    let downloaded: Vec<String> = lines
        .map(|line| line.split(',').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(downloaded.len() as u64, filtered, "one row per match");
    let mut shown = Vec::new();
    for cell in browser.find_all("table.projects tbody tr td small").await {
        shown.push(cell.text().await.unwrap());
    }
    assert!(!shown.is_empty());
    assert_eq!(
        downloaded[..shown.len()],
        shown[..],
        "the page's rows lead the file"
    );

    let identifier = browser.text("table.projects tbody tr td small").await;
    let first = browser.find("table.projects tbody tr td a").await;
    let title = first.text().await.unwrap();
    let href = first.attr("href").await.unwrap().expect("a link");
    first.click().await.unwrap();
    browser.wait_for_path(|path| path == href).await;
    browser.wait_for("dl.facts").await;
    browser.screenshot("project").await;

    assert_eq!(browser.text("h1").await, title);
    let page = browser.text("main").await;
    assert!(page.contains("Implementation"), "the status filtered on");
    assert!(page.contains(&identifier));
    // The project page names at least one African country, which is why the filter found it.
    let project = browser
        .store
        .project(&identifier)
        .await
        .unwrap()
        .expect("the project shown is stored");
    let african: Vec<&str> = project
        .countries
        .iter()
        .filter_map(|share| Countries::bundled().get(&share.code))
        .filter(|country| country.region == IloRegion::Africa)
        .map(|country| country.names.get("en"))
        .collect();
    assert!(
        african.iter().any(|name| page.contains(name)),
        "no African country among {african:?} on the page"
    );
    browser.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_switch_turns_the_home_page_french() {
    let Some(mut browser) = Browser::start("language").await else {
        return;
    };
    browser.visit("/").await;
    browser.wait_for("section.biennium").await;
    let english = browser.text("h1").await;
    assert_eq!(
        browser
            .find("html")
            .await
            .attr("lang")
            .await
            .unwrap()
            .as_deref(),
        Some("en")
    );
    browser.click("nav.languages a[hreflang='fr']").await;
    browser.wait_for_path(|path| path.contains("lang=fr")).await;
    browser.wait_for("section.biennium").await;
    browser.screenshot("home-french").await;
    assert_eq!(
        browser
            .find("html")
            .await
            .attr("lang")
            .await
            .unwrap()
            .as_deref(),
        Some("fr")
    );
    let french = browser.text("h1").await;
    assert_ne!(french, english);
    assert!(browser
        .text("main")
        .await
        .contains("Contributions volontaires"));
    // The cookie keeps French on the next page, with no `lang` in its address.
    browser.visit("/projects").await;
    browser.wait_for("#result-count").await;
    assert_eq!(
        browser
            .find("html")
            .await
            .attr("lang")
            .await
            .unwrap()
            .as_deref(),
        Some("fr")
    );
    browser.screenshot("explorer-french").await;
    browser.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_corrects_an_email_and_sends_an_inquiry() {
    let Some(mut browser) = Browser::start("inquiry").await else {
        return;
    };
    browser.visit("/").await;
    browser.click("header.site nav a[href='/contact']").await;
    browser.wait_for("form.inquiry").await;
    browser.screenshot("form").await;

    let message = "We fund vocational training in Kenya and would like to discuss co-funding.";
    browser.choose("#inquiry-kind", "funding_question").await;
    browser.fill("#inquiry-name", "Wanjiru Kamau").await;
    browser
        .fill("#inquiry-email", "wanjiru.kamau.example.org")
        .await;
    browser
        .fill("#inquiry-organisation", "Nairobi Skills Trust")
        .await;
    browser.choose("#inquiry-partner_group", "foundation").await;
    browser.choose("#inquiry-country", "KE").await;
    browser.click("#inquiry-area-skills").await;
    browser.fill("#inquiry-message", message).await;
    browser.click("#inquiry-consent").await;
    browser.screenshot("filled-in").await;
    browser.click("form.inquiry button[type=submit]").await;

    browser.wait_for(".error-summary").await;
    browser.screenshot("email-error").await;
    assert!(browser
        .text("#inquiry-email-error")
        .await
        .contains("Enter an email address in the correct format"));
    assert_eq!(
        browser
            .find(".error-summary a")
            .await
            .attr("href")
            .await
            .unwrap()
            .as_deref(),
        Some("#inquiry-email")
    );
    assert_eq!(browser.value("#inquiry-name").await, "Wanjiru Kamau");
    assert_eq!(
        browser.value("#inquiry-email").await,
        "wanjiru.kamau.example.org"
    );
    assert_eq!(browser.value("#inquiry-kind").await, "funding_question");
    assert_eq!(browser.value("#inquiry-country").await, "KE");
    assert_eq!(browser.value("#inquiry-message").await, message);
    assert!(browser.is_checked("#inquiry-area-skills").await);
    assert!(!browser.is_checked("#inquiry-area-migration").await);
    assert!(browser.is_checked("#inquiry-consent").await);
    // The trap field is there for robots but off screen for people.
    let trap = browser.find("#inquiry-website").await;
    assert!(
        !trap.is_displayed().await.unwrap_or(false) || {
            let (x, _, _, _) = trap.rectangle().await.unwrap();
            x < 0.0
        }
    );

    browser
        .fill("#inquiry-email", "wanjiru.kamau@example.org")
        .await;
    browser.screenshot("email-corrected").await;
    browser.click("form.inquiry button[type=submit]").await;
    let reference = browser
        .wait_for("#inquiry-reference")
        .await
        .text()
        .await
        .unwrap();
    browser.screenshot("thanks").await;
    assert!(
        browser
            .path()
            .await
            .starts_with("/contact/thanks?reference=INQ-"),
        "{}",
        browser.path().await
    );
    let stored = browser
        .store
        .inquiry_by_reference(&reference)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{reference} is not in the database"));
    assert_eq!(stored.name, "Wanjiru Kamau");
    assert_eq!(stored.email, "wanjiru.kamau@example.org");
    assert_eq!(stored.country.as_deref(), Some("KE"));
    assert_eq!(stored.message, message);
    browser.finish().await;
}

fn count(text: &str) -> u64 {
    text.trim()
        .parse()
        .unwrap_or_else(|_| panic!("{text:?} is not a count"))
}
