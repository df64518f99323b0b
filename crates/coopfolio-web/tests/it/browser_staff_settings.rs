//! The welcome flow in real headless Chromium: an administrator invites a user from the users
//! page and reads the one-time link; the administrator logs out; the link, opened in the same
//! browser, asks for a password, sets it and lands on the workspace logged in as the new
//! user; opened again, it says it has been used.

use coopfolio_store::staff::Role;

use crate::browser::harness::Browser;

const PASSWORD: &str = "a long enough passphrase";
const NEW_PASSWORD: &str = "my very own passphrase";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invited_user_sets_a_password_through_the_link_and_is_logged_in() {
    let Some(mut browser) = Browser::start("staff-welcome").await else {
        return;
    };
    browser
        .add_user_and_log_in("admin@example.org", Role::Admin, PASSWORD)
        .await;

    browser
        .click("header.site nav a[href='/staff/users']")
        .await;
    browser.wait_for("#invite-email").await;
    browser.fill("#invite-email", "kofi@example.org").await;
    browser.choose("#invite-role", "officer").await;
    browser
        .click("form[action='/staff/users/invite'] button[type=submit]")
        .await;
    browser.wait_for("input#link").await;
    browser.screenshot("link-shown").await;
    let url = browser.value("input#link").await;
    let path = &url[url.find("/staff/welcome/").expect("a welcome link")..];
    assert_eq!(path.len(), "/staff/welcome/".len() + 64, "{url}");

    browser.click("form.logout button[type=submit]").await;
    browser.wait_for_path(|path| path == "/staff/login").await;

    browser.visit(path).await;
    browser.wait_for("#new_password").await;
    assert!(browser.text("main").await.contains("kofi@example.org"));
    browser.fill("#new_password", NEW_PASSWORD).await;
    browser
        .fill("#confirm_password", "not the same passphrase")
        .await;
    browser
        .click_and_reload("main form button[type=submit]")
        .await;
    browser.wait_for("p.error").await;
    browser.fill("#new_password", NEW_PASSWORD).await;
    browser.fill("#confirm_password", NEW_PASSWORD).await;
    browser.screenshot("password-chosen").await;
    browser.click("main form button[type=submit]").await;
    browser
        .wait_for_path(|path| path == "/staff/inquiries")
        .await;
    assert!(browser
        .text("form.logout span")
        .await
        .contains("kofi@example.org (officer)"));
    browser.screenshot("logged-in").await;

    browser.visit(path).await;
    browser.wait_for("p.error").await;
    assert!(browser.text("p.error").await.contains("already been used"));
    browser.finish().await;
}
