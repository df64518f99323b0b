//! `coopfolio token`: a token made for a staff user is printed once and opens the store as
//! that user; the list shows it without its secret; revoking it ends it; a token for an
//! unknown user is a usage error (exit 2).

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::{text, TestDatabase};

#[test]
fn tokens_are_made_listed_and_revoked() {
    let database = TestDatabase::sqlite();
    let mut add = Command::new(env!("CARGO_BIN_EXE_coopfolio"))
        .args([
            "user",
            "add",
            "--email",
            "amina@example.org",
            "--role",
            "officer",
            "--password-stdin",
        ])
        .env("COOPFOLIO_DATABASE_URL", &database.url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the coopfolio binary runs");
    add.stdin
        .take()
        .unwrap()
        .write_all(b"a long enough passphrase\n")
        .unwrap();
    let added = add.wait_with_output().unwrap();
    assert!(added.status.success(), "{}", text(&added.stderr));

    let unknown = database.coopfolio(&["token", "create", "--email", "nobody@example.org"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", text(&unknown.stderr));

    let made = database.coopfolio(&[
        "token",
        "create",
        "--email",
        "amina@example.org",
        "--name",
        "reporting",
    ]);
    assert!(made.status.success(), "{}", text(&made.stderr));
    let secret = text(&made.stdout).trim().to_owned();
    assert!(secret.starts_with("cfp_") && secret.len() == 68, "{secret}");
    assert!(text(&made.stderr).contains("shown only now"));

    let listed = database.coopfolio(&["token", "list", "--json"]);
    assert!(listed.status.success());
    let tokens: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let token = &tokens[0];
    assert_eq!(token["email"], "amina@example.org");
    assert_eq!(token["role"], "officer");
    assert_eq!(token["name"], "reporting");
    assert_eq!(token["revoked_at"], serde_json::Value::Null);
    assert!(secret.starts_with(token["shown"].as_str().unwrap()));
    assert!(
        !text(&listed.stdout).contains(&secret),
        "the secret is never listed"
    );

    let id = token["id"].to_string();
    let revoked = database.coopfolio(&["token", "revoke", &id]);
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    let listed = database.coopfolio(&["token", "list", "--json"]);
    let tokens: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert!(tokens[0]["revoked_at"].is_string());
    let missing = database.coopfolio(&["token", "revoke", "999"]);
    assert_eq!(missing.status.code(), Some(2));
}
