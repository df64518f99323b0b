//! Staff operations through the router with `oneshot`: the outbox a new inquiry writes, its
//! delivery to a fake SMTP server written here (a tokio listener speaking just enough SMTP),
//! imports uploaded from the browser (a real sample file, a broken one, one past the limit, and
//! refusals), user management with the last-administrator rule, and hostile input on these
//! forms.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use coopfolio_store::import_job::ImportJobState;
use coopfolio_store::Store;
use coopfolio_web::{AppState, Mailer, SmtpSettings};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::staff::{log_in, post_form, workspace, Browser, HOST, PASSWORD};
use crate::{escaped, Page};

/// An inquiry as the contact form sends it, from a client of its own.
async fn send_inquiry(state: AppState) -> String {
    let fields = [
        ("kind", "partnership_idea"),
        ("name", "Ana López"),
        ("email", "ana.lopez@example.org"),
        ("organisation", "Fundación Ejemplo <Sur>"),
        ("partner_group", "foundation"),
        ("country", "KE"),
        ("area", "skills"),
        ("message", "We would like to co-fund apprenticeships."),
        ("consent", "yes"),
        ("website", ""),
    ];
    let mut request = Request::post("/contact")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("host", HOST)
        .header("origin", format!("http://{HOST}"))
        .body(Body::from(serde_urlencoded::to_string(fields).unwrap()))
        .unwrap();
    let peer: SocketAddr = "198.51.100.7:40000".parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    let page = crate::send(state, request).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let location = page.headers["location"].to_str().unwrap();
    location
        .strip_prefix("/contact/thanks?reference=")
        .expect("the thank-you page")
        .to_owned()
}

/// GETs `uri` as `browser` from a server with `state`.
async fn get_as(state: AppState, browser: &Browser, uri: &str) -> Page {
    let request = Request::get(uri)
        .header("host", HOST)
        .header("cookie", &browser.cookie)
        .body(Body::empty())
        .unwrap();
    crate::send(state, request).await
}

#[tokio::test]
async fn a_new_inquiry_leaves_a_notice_for_each_officer_in_the_outbox() {
    let (store, _folder) = workspace().await;
    let reference = send_inquiry(AppState::new(store.clone())).await;
    let messages = store.outbox_messages(10).await.unwrap();
    let mut recipients: Vec<&str> = messages.iter().map(|m| m.recipient.as_str()).collect();
    recipients.sort_unstable();
    assert_eq!(recipients, ["admin@example.org", "officer@example.org"]);
    assert!(messages.iter().all(|m| m.state == "pending"));

    let admin = log_in(&store, "admin@example.org").await;
    let page = get_as(AppState::new(store.clone()), &admin, "/staff/outbox").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("New inquiry {reference}")));
    assert!(page.body.contains("No mail server is configured"));
    // The sender's organisation reaches the page only escaped.
    assert!(page.body.contains(&escaped("Fundación Ejemplo <Sur>")));
    assert!(!page.body.contains("Ejemplo <Sur>"));

    let officer = log_in(&store, "officer@example.org").await;
    let page = get_as(AppState::new(store.clone()), &officer, "/staff/outbox").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    store.close().await;
}

/// What the fake mail server received: one entry per message, envelope and data.
#[derive(Debug, Clone, Default)]
struct Received {
    recipients: Vec<String>,
    data: String,
}

/// A mail server on a free loopback port that accepts every message (or, with `refuse`, turns
/// every recipient away with a 550) and keeps what it received.
async fn fake_smtp_server(refuse: bool) -> (SocketAddr, Arc<Mutex<Vec<Received>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let inbox = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&inbox);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let inbox = Arc::clone(&kept);
            tokio::spawn(async move {
                let (reader, mut writer) = stream.into_split();
                let mut lines = BufReader::new(reader).lines();
                writer.write_all(b"220 fake.test ESMTP\r\n").await.ok();
                let mut message = Received::default();
                while let Ok(Some(line)) = lines.next_line().await {
                    let command = line.to_ascii_uppercase();
                    let reply: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO")
                    {
                        b"250 fake.test\r\n"
                    } else if command.starts_with("MAIL FROM") {
                        b"250 OK\r\n"
                    } else if command.starts_with("RCPT TO") {
                        if refuse {
                            b"550 no such mailbox\r\n"
                        } else {
                            message.recipients.push(line[8..].trim().to_owned());
                            b"250 OK\r\n"
                        }
                    } else if command == "DATA" {
                        writer.write_all(b"354 go ahead\r\n").await.ok();
                        while let Ok(Some(data)) = lines.next_line().await {
                            if data == "." {
                                break;
                            }
                            message.data.push_str(&data);
                            message.data.push('\n');
                        }
                        inbox.lock().unwrap().push(std::mem::take(&mut message));
                        b"250 queued\r\n"
                    } else if command == "QUIT" {
                        writer.write_all(b"221 bye\r\n").await.ok();
                        return;
                    } else {
                        b"250 OK\r\n"
                    };
                    writer.write_all(reply).await.ok();
                }
            });
        }
    });
    (address, inbox)
}

fn mailer(address: SocketAddr) -> Mailer {
    Mailer::new(&SmtpSettings {
        url: format!("smtp://{address}"),
        from: "Coopfolio <notices@coopfolio.test>".to_owned(),
    })
    .expect("usable mail settings")
}

#[tokio::test]
async fn notices_go_to_the_mail_server_and_are_marked_sent() {
    let (store, _folder) = workspace().await;
    let (address, inbox) = fake_smtp_server(false).await;
    let state = AppState::new(store.clone()).with_mailer(mailer(address));
    let reference = send_inquiry(state).await;
    // The form starts delivery in the background; it is done within seconds.
    let mut waited = Duration::ZERO;
    while inbox.lock().unwrap().len() < 2 && waited < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
    let received = inbox.lock().unwrap().clone();
    assert_eq!(received.len(), 2, "{received:?}");
    let mut recipients: Vec<String> = received.iter().flat_map(|m| m.recipients.clone()).collect();
    recipients.sort_unstable();
    assert_eq!(recipients, ["<admin@example.org>", "<officer@example.org>"]);
    for message in &received {
        assert!(
            message
                .data
                .contains(&format!("Subject: New inquiry {reference}")),
            "{}",
            message.data
        );
        assert!(message
            .data
            .contains("From: Coopfolio <notices@coopfolio.test>"));
    }
    // Marking sent follows the server's answer; give it the same patience.
    let mut messages = store.outbox_messages(10).await.unwrap();
    while messages.iter().any(|m| m.state != "sent") && waited < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
        messages = store.outbox_messages(10).await.unwrap();
    }
    assert!(messages.iter().all(|m| m.state == "sent"), "{messages:?}");
    // Nothing is left to send, so a second round sends nothing again.
    let delivery = coopfolio_web::deliver_outbox(&store, &mailer(address))
        .await
        .unwrap();
    assert_eq!((delivery.sent, delivery.failed), (0, 0));
    assert_eq!(inbox.lock().unwrap().len(), 2);
    store.close().await;
}

#[tokio::test]
async fn a_refused_notice_keeps_its_error_and_waits_for_the_next_attempt() {
    let (store, _folder) = workspace().await;
    send_inquiry(AppState::new(store.clone())).await;
    let (address, inbox) = fake_smtp_server(true).await;
    let delivery = coopfolio_web::deliver_outbox(&store, &mailer(address))
        .await
        .unwrap();
    assert_eq!((delivery.sent, delivery.failed), (0, 2));
    assert!(inbox.lock().unwrap().is_empty());
    let messages = store.outbox_messages(10).await.unwrap();
    for message in &messages {
        assert_eq!(message.state, "pending");
        assert_eq!(message.attempts, 1);
        let error = message.last_error.as_deref().unwrap_or_default();
        assert!(error.contains("no such mailbox"), "{error}");
    }
    // Not due again yet: a second round tries nothing.
    let delivery = coopfolio_web::deliver_outbox(&store, &mailer(address))
        .await
        .unwrap();
    assert_eq!((delivery.sent, delivery.failed), (0, 0));
    // A mail server that is down is an error of its own, recorded the same way.
    let admin = log_in(&store, "admin@example.org").await;
    let page = get_as(AppState::new(store.clone()), &admin, "/staff/outbox").await;
    assert!(page.body.contains("no such mailbox"), "{}", page.body);
    store.close().await;
}

/// The state of a server that imports uploads with the real pipeline.
fn importing_state(store: &Store) -> AppState {
    AppState::new(store.clone()).with_importer(Arc::new(coopfolio::import::PipelineImporter))
}

const BOUNDARY: &str = "----coopfolio-test-boundary";

/// A multipart body with one `files` part per (name, content).
fn multipart_body(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, content) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: application/xml\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(state: AppState, browser: &Browser, csrf: &str, body: Vec<u8>) -> Page {
    let request = Request::post(format!("/staff/imports/upload?csrf_token={csrf}"))
        .header("host", HOST)
        .header("origin", format!("http://{HOST}"))
        .header("cookie", &browser.cookie)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(body))
        .unwrap();
    crate::send(state, request).await
}

/// Uploads `files` as the administrator and waits for the job to end; returns the job's page.
async fn import_as_admin(store: &Store, files: &[(&str, &[u8])]) -> (i64, Page) {
    let admin = log_in(store, "admin@example.org").await;
    let page = upload(
        importing_state(store),
        &admin,
        &admin.csrf,
        multipart_body(files),
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let location = page.headers["location"].to_str().unwrap().to_owned();
    let job_id: i64 = location
        .strip_prefix("/staff/import?job=")
        .expect("the job's page")
        .parse()
        .unwrap();
    let mut waited = Duration::ZERO;
    loop {
        let (job, files) = store.import_job(job_id).await.unwrap().unwrap();
        if !job.state.is_active() {
            break;
        }
        assert!(
            waited < Duration::from_secs(60),
            "the import never ended: {job:?} {files:?}"
        );
        // While running, the page asks the browser to reload it.
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += Duration::from_millis(100);
    }
    let page = get_as(importing_state(store), &admin, &location).await;
    assert_eq!(page.status, StatusCode::OK);
    (job_id, page)
}

fn sample(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/iati-sample")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}

#[tokio::test]
async fn an_uploaded_iati_file_is_imported_with_its_counts_shown() {
    let (store, _folder) = workspace().await;
    let file = sample("activity-standard-example-annotated.xml");
    let (job_id, page) = import_as_admin(
        &store,
        &[("activity-standard-example-annotated.xml", &file)],
    )
    .await;
    let (job, files) = store.import_job(job_id).await.unwrap().unwrap();
    assert_eq!(job.state, ImportJobState::Finished, "{:?}", job.message);
    assert_eq!(job.files_done, 1);
    assert_eq!(job.files_failed, 0);
    assert_eq!(job.bytes_done, file.len() as u64);
    assert!(job.activities >= 1);
    // The same counts as the import run the CLI would have recorded.
    let run_id = files[0].import_run_id.expect("the file's import run");
    let runs = store.import_runs(10).await.unwrap();
    let run = runs.iter().find(|run| run.id == run_id).unwrap();
    assert_eq!(run.status, "ok");
    assert_eq!(run.activities, job.activities);
    assert_eq!(run.transactions, job.transactions);
    assert!(page.body.contains(&format!(
        "<dd id=\"job-activities\">{}</dd>",
        job.activities
    )));
    assert!(page.body.contains("data-state=\"finished\""));
    assert!(!page.body.contains("http-equiv=\"refresh\""));
    // The upload and its end are in the audit log.
    let log = store
        .audit_events(&coopfolio_store::staff::AuditFilter {
            entity_kind: Some("import".into()),
            page: 1,
            page_size: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = log.events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["finish", "upload"]);
    assert!(log.events.iter().all(|e| e.actor == "admin@example.org"));
    // The imports page lists the job and the run.
    let admin = log_in(&store, "admin@example.org").await;
    let page = get_as(importing_state(&store), &admin, "/staff/imports").await;
    assert!(page.body.contains(&format!("/staff/import?job={job_id}")));
    assert!(page
        .body
        .contains("activity-standard-example-annotated.xml"));
    store.close().await;
}

#[tokio::test]
async fn a_broken_file_shows_its_diagnostic_with_line_and_column() {
    let (store, _folder) = workspace().await;
    let broken = b"<?xml version=\"1.0\"?>\n<iati-activities version=\"2.03\">\n  <iati-activity>\n    <iati-identifier>XM-1</iati-identifier>\n  </iati-activiti>\n";
    let good = sample("activity-standard-example-annotated.xml");
    let (job_id, page) =
        import_as_admin(&store, &[("broken.xml", broken), ("good.xml", &good)]).await;
    let (job, files) = store.import_job(job_id).await.unwrap().unwrap();
    // One bad file does not stop the others.
    assert_eq!(job.state, ImportJobState::Finished);
    assert_eq!((job.files_done, job.files_failed), (2, 1));
    let run_id = files[0].import_run_id.unwrap();
    let (diagnostics, total) = store.first_diagnostics(run_id, 10).await.unwrap();
    assert_eq!(total, 1);
    let fatal = &diagnostics[0];
    assert_eq!(fatal.severity, "fatal");
    assert_eq!(fatal.file, "broken.xml");
    assert_eq!(fatal.line, 5, "{fatal:?}");
    assert!(fatal.column > 0);
    let row = format!(
        "<td>fatal</td><td>broken.xml</td><td>{}</td><td>{}</td>",
        fatal.line, fatal.column
    );
    assert!(page.body.contains(&row), "{}", page.body);
    assert!(page.body.contains(&escaped(&fatal.message)));
    store.close().await;
}

#[tokio::test]
async fn non_admins_and_forged_uploads_are_refused_and_nothing_is_imported() {
    let (store, _folder) = workspace().await;
    let file = sample("activity-standard-example-annotated.xml");
    let body = || multipart_body(&[("a.xml", &file)]);
    // The shared workspace holds an imported project already: nothing may add to its runs.
    let runs_before = store.import_runs(10).await.unwrap().len();
    for email in ["viewer@example.org", "officer@example.org"] {
        let browser = log_in(&store, email).await;
        let page = upload(importing_state(&store), &browser, &browser.csrf, body()).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{email}");
        let page = get_as(importing_state(&store), &browser, "/staff/imports").await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{email}");
    }
    let admin = log_in(&store, "admin@example.org").await;
    // Without the session's token, or with another one, the upload is refused.
    for token in ["", "0123456789abcdef"] {
        let page = upload(importing_state(&store), &admin, token, body()).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "token {token:?}");
    }
    // From another site, refused whatever the token.
    let request = Request::post(format!("/staff/imports/upload?csrf_token={}", admin.csrf))
        .header("host", HOST)
        .header("origin", "https://evil.example")
        .header("cookie", &admin.cookie)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(body()))
        .unwrap();
    let page = crate::send(importing_state(&store), request).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(store.import_jobs(10).await.unwrap().is_empty());
    assert_eq!(store.import_runs(10).await.unwrap().len(), runs_before);
    store.close().await;
}

#[tokio::test]
async fn an_upload_past_the_limit_is_refused_and_leaves_nothing() {
    let (store, _folder) = workspace().await;
    let admin = log_in(&store, "admin@example.org").await;
    let state = importing_state(&store).with_upload_limit(4 * 1024 * 1024);
    let big = vec![b' '; 5 * 1024 * 1024];
    let page = upload(
        state.clone(),
        &admin,
        &admin.csrf,
        multipart_body(&[("big.xml", &big)]),
    )
    .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body.contains("larger than the limit of 4 MB"),
        "{}",
        page.body
    );
    // The same when no length is declared up front: the count while streaming stops it.
    let request = Request::post(format!("/staff/imports/upload?csrf_token={}", admin.csrf))
        .header("host", HOST)
        .header("origin", format!("http://{HOST}"))
        .header("cookie", &admin.cookie)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from_stream(futures_util::stream::iter(
            multipart_body(&[("big.xml", &big)])
                .chunks(64 * 1024)
                .map(|chunk| Ok::<_, std::io::Error>(chunk.to_vec()))
                .collect::<Vec<_>>(),
        )))
        .unwrap();
    let page = crate::send(state.clone(), request).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(page.body.contains("larger than the limit"), "{}", page.body);
    assert!(store.import_jobs(10).await.unwrap().is_empty());
    // A form sent with no file chosen comes back with a word, and starts nothing.
    let page = upload(state, &admin, &admin.csrf, multipart_body(&[("", b"")])).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.headers["location"], "/staff/imports?error=no_file");
    assert!(store.import_jobs(10).await.unwrap().is_empty());
    store.close().await;
}

#[tokio::test]
async fn an_admin_adds_disables_and_enables_users() {
    let (store, _folder) = workspace().await;
    let admin = log_in(&store, "admin@example.org").await;
    let fields = format!(
        "email=New.Officer%40Example.org&role=officer&password={}",
        PASSWORD.replace(' ', "+")
    );
    let page = post_form(
        &store,
        &admin,
        "/staff/users/add",
        Some(&admin.csrf),
        &fields,
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    // The new account logs in with its initial password.
    let newcomer = log_in(&store, "new.officer@example.org").await;

    let page = post_form(
        &store,
        &admin,
        "/staff/users/disable",
        Some(&admin.csrf),
        "email=new.officer%40example.org",
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    // Its open session has ended, and it cannot log in again.
    let page = get_as(AppState::new(store.clone()), &newcomer, "/staff/inquiries").await;
    assert_eq!(page.headers["location"], "/staff/login");
    let page = crate::staff::post_login(&store, "new.officer@example.org", PASSWORD).await;
    assert_ne!(page.status, StatusCode::SEE_OTHER);
    let users = get_as(AppState::new(store.clone()), &admin, "/staff/users").await;
    assert!(users.body.contains("Disabled since"));

    let page = post_form(
        &store,
        &admin,
        "/staff/users/enable",
        Some(&admin.csrf),
        "email=new.officer%40example.org",
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    log_in(&store, "new.officer@example.org").await;

    let log = store
        .audit_events(&coopfolio_store::staff::AuditFilter {
            actor: Some("admin@example.org".into()),
            page: 1,
            page_size: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = log.events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["enable", "disable", "create"]);
    // An officer may do none of it.
    let officer = log_in(&store, "officer@example.org").await;
    let page = post_form(
        &store,
        &officer,
        "/staff/users/disable",
        Some(&officer.csrf),
        "email=admin%40example.org",
    )
    .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    store.close().await;
}

#[tokio::test]
async fn the_last_admin_can_be_neither_demoted_nor_disabled() {
    let (store, _folder) = workspace().await;
    let admin = log_in(&store, "admin@example.org").await;
    for (uri, fields) in [
        ("/staff/users/disable", "email=admin%40example.org"),
        (
            "/staff/users/role",
            "email=admin%40example.org&role=officer",
        ),
    ] {
        let page = post_form(&store, &admin, uri, Some(&admin.csrf), fields).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(
            page.body.contains("last enabled administrator"),
            "{}",
            page.body
        );
    }
    let accounts = store.staff_users().await.unwrap();
    let admin_account = accounts
        .iter()
        .find(|a| a.email == "admin@example.org")
        .unwrap();
    assert_eq!(admin_account.role, coopfolio_store::staff::Role::Admin);
    assert!(admin_account.disabled_at.is_none());
    // With a second administrator the first may step down.
    let page = post_form(
        &store,
        &admin,
        "/staff/users/role",
        Some(&admin.csrf),
        "email=officer%40example.org&role=admin",
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let page = post_form(
        &store,
        &admin,
        "/staff/users/disable",
        Some(&admin.csrf),
        "email=admin%40example.org",
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    store.close().await;
}

/// Hostile input on the user forms: each is refused with 400 and adds no account, or is
/// stored as plain text and shown escaped.
#[tokio::test]
async fn hostile_input_on_the_user_forms_is_refused_or_harmless() {
    let (store, _folder) = workspace().await;
    let admin = log_in(&store, "admin@example.org").await;
    let password = PASSWORD.replace(' ', "+");
    let long_email = format!("{}%40example.org", "a".repeat(300));
    let refused: Vec<(&str, String)> = vec![
        (
            "script as the address",
            format!("email=%3Cscript%3Ealert(1)%3C%2Fscript%3E&role=viewer&password={password}"),
        ),
        (
            "an address with spaces and SQL",
            format!("email=x%27%20OR%201%3D1%20--%40example.org&role=viewer&password={password}"),
        ),
        (
            "oversized address",
            format!("email={long_email}&role=viewer&password={password}"),
        ),
        (
            "oversized password",
            format!(
                "email=big%40example.org&role=viewer&password={}",
                "p".repeat(300)
            ),
        ),
        (
            "short password",
            "email=short%40example.org&role=viewer&password=short".to_owned(),
        ),
        (
            "bad UTF-8",
            format!("email=bad%FF%40example.org&role=viewer&password={password}"),
        ),
        (
            "a role that does not exist",
            format!("email=root%40example.org&role=superuser&password={password}"),
        ),
        (
            "a number for the role",
            format!("email=n%40example.org&role=3&password={password}"),
        ),
        (
            "a missing field",
            "email=missing%40example.org&role=viewer".to_owned(),
        ),
        ("not a form at all", "%%%&&&==".to_owned()),
    ];
    for (what, fields) in &refused {
        let page = post_form(
            &store,
            &admin,
            "/staff/users/add",
            Some(&admin.csrf),
            fields,
        )
        .await;
        assert_eq!(
            page.status,
            StatusCode::BAD_REQUEST,
            "{what}: {}",
            page.body
        );
    }
    for (what, fields) in [
        ("disable of no one", "email=%3Cscript%3E%40example.org"),
        ("bad UTF-8", "email=%FF%FE"),
    ] {
        let page = post_form(
            &store,
            &admin,
            "/staff/users/disable",
            Some(&admin.csrf),
            fields,
        )
        .await;
        assert!(page.status.is_client_error(), "{what}: {}", page.status);
    }
    assert_eq!(store.staff_users().await.unwrap().len(), 3);

    // An address that is odd but valid is stored as text and shown escaped.
    let odd = "o'brien\"<b>x</b>@example.org";
    let fields =
        serde_urlencoded::to_string([("email", odd), ("role", "viewer"), ("password", PASSWORD)])
            .unwrap();
    let page = post_form(
        &store,
        &admin,
        "/staff/users/add",
        Some(&admin.csrf),
        &fields,
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let users = get_as(AppState::new(store.clone()), &admin, "/staff/users").await;
    assert!(users.body.contains(&escaped(odd)));
    assert!(!users.body.contains("<b>x</b>"));

    // A hostile file name is recorded and shown as text.
    let file = sample("activity-standard-example-annotated.xml");
    let (_, page) = import_as_admin(&store, &[("<img src=x onerror=alert(1)>.xml", &file)]).await;
    assert!(!page.body.contains("<img src=x"));
    assert!(page
        .body
        .contains(&escaped("<img src=x onerror=alert(1)>.xml")));
    store.close().await;
}
