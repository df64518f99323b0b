//! `coopfolio user add --invite` and `user reset-link`: an account added without a password
//! prints its one-time link once; a reset link is printed for an existing account; an unknown
//! account, or a password asked for together with an invitation, is a usage error (exit 2).

use crate::support::{text, TestDatabase};

/// The token of the link a command printed.
fn printed_token(stdout: &str) -> String {
    let start = stdout.find("/staff/welcome/").expect("a link") + "/staff/welcome/".len();
    stdout[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

#[test]
fn invitations_and_reset_links_are_printed_once() {
    let database = TestDatabase::sqlite();
    let invited = database.coopfolio(&[
        "user",
        "add",
        "--email",
        "kofi@example.org",
        "--role",
        "officer",
        "--invite",
    ]);
    assert!(invited.status.success(), "{}", text(&invited.stderr));
    let stdout = text(&invited.stdout);
    assert!(stdout.contains("without a password"), "{stdout}");
    assert!(stdout.contains("shown only now"), "{stdout}");
    let welcome = printed_token(&stdout);
    assert_eq!(welcome.len(), 64, "{stdout}");

    let listed = database.coopfolio(&["user", "list"]);
    assert!(text(&listed.stdout).contains("kofi@example.org"));

    let reset = database.coopfolio(&["user", "reset-link", "--email", "kofi@example.org"]);
    assert!(reset.status.success(), "{}", text(&reset.stderr));
    let token = printed_token(&text(&reset.stdout));
    assert_eq!(token.len(), 64);
    assert_ne!(token, welcome);

    let unknown = database.coopfolio(&["user", "reset-link", "--email", "nobody@example.org"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", text(&unknown.stderr));
    let again = database.coopfolio(&[
        "user",
        "add",
        "--email",
        "kofi@example.org",
        "--role",
        "viewer",
        "--invite",
    ]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again.stderr));
    let both = database.coopfolio(&[
        "user",
        "add",
        "--email",
        "awa@example.org",
        "--role",
        "viewer",
        "--invite",
        "--password-stdin",
    ]);
    assert_eq!(both.status.code(), Some(2), "{}", text(&both.stderr));
}
