//! Staff operations in real headless Chromium: an administrator logs in, uploads a real IATI
//! file, watches the page reload itself (no script) until the import is over and reads its
//! counts; then a visitor sends an inquiry through the portal and the administrator finds its
//! notice in the outbox.

use std::sync::Arc;

use coopfolio_store::staff::Role;

use crate::browser::harness::Browser;

const PASSWORD: &str = "a long enough passphrase";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_imports_a_file_and_reads_the_outbox() {
    let Some(mut browser) = Browser::start_with("staff-operations", |state| {
        state.with_importer(Arc::new(coopfolio::import::PipelineImporter))
    })
    .await
    else {
        return;
    };
    browser
        .add_user_and_log_in("admin@example.org", Role::Admin, PASSWORD)
        .await;

    browser
        .click("header.site nav a[href='/staff/imports']")
        .await;
    browser.wait_for("input#files").await;
    browser.screenshot("imports").await;
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/iati-sample/activity-standard-example-annotated.xml")
        .canonicalize()
        .expect("the sample file");
    // A file input takes the file's path as its typed value.
    browser
        .find("input#files")
        .await
        .send_keys(&sample.display().to_string())
        .await
        .expect("choosing the file");
    browser.click("main form button[type=submit]").await;
    browser
        .wait_for_path(|path| path.starts_with("/staff/import?job="))
        .await;
    // The page reloads itself every two seconds until the job is over.
    browser.wait_for("#job-state[data-state=finished]").await;
    browser.screenshot("import-finished").await;
    let shown: u64 = browser
        .text("#job-activities")
        .await
        .trim()
        .parse()
        .expect("a count of activities");
    let job = browser.store.import_jobs(1).await.unwrap().remove(0);
    assert_eq!(shown, job.activities);
    assert!(shown > 0);
    assert_eq!(job.files_failed, 0);

    browser.visit("/contact").await;
    browser.wait_for("form.inquiry").await;
    browser.choose("#inquiry-kind", "funding_question").await;
    browser.fill("#inquiry-name", "Wanjiru Kamau").await;
    browser
        .fill("#inquiry-email", "wanjiru.kamau@example.org")
        .await;
    browser
        .fill("#inquiry-organisation", "Nairobi Skills Trust")
        .await;
    browser.choose("#inquiry-partner_group", "foundation").await;
    browser.choose("#inquiry-country", "KE").await;
    browser
        .fill("#inquiry-message", "We would like to discuss co-funding.")
        .await;
    browser.click("#inquiry-consent").await;
    browser.click("form.inquiry button[type=submit]").await;
    let reference = browser
        .wait_for("#inquiry-reference")
        .await
        .text()
        .await
        .unwrap();

    browser.visit("/staff/outbox").await;
    let outbox = browser.wait_for("table.outbox").await.text().await.unwrap();
    browser.screenshot("outbox").await;
    assert!(
        outbox.contains(&format!("New inquiry {reference}")),
        "{outbox}"
    );
    assert!(outbox.contains("admin@example.org"));
    browser.finish().await;
}
