//! `coopfolio serve` on a real socket: it binds the address asked for (port 0: any free port),
//! says where, and answers with the portal, here over an empty database.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use crate::support::TestDatabase;

#[test]
fn serve_answers_on_the_address_it_prints() {
    let database = TestDatabase::sqlite();
    let mut server = Command::new(env!("CARGO_BIN_EXE_coopfolio"))
        .args([
            "--database-url",
            &database.url,
            "serve",
            "--bind",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting coopfolio serve");
    let mut line = String::new();
    let mut notices = BufReader::new(server.stdout.take().unwrap());
    notices
        .read_line(&mut line)
        .expect("a line from the server");
    let address = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();

    let mut stream = TcpStream::connect(&address).expect("connecting");
    write!(
        stream,
        "GET / HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    let read = stream.read_to_string(&mut response);
    let _ = server.kill();
    let _ = server.wait();
    drop(notices);
    let mut errors = String::new();
    let _ = server.stderr.take().unwrap().read_to_string(&mut errors);
    read.unwrap_or_else(|error| panic!("reading the response: {error}; the server said: {errors}"));

    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response
        .to_ascii_lowercase()
        .contains("content-security-policy: default-src 'self'"));
    // An empty database has no contributions to rank, and says so.
    assert!(
        response.contains("No contributions recorded."),
        "{response}"
    );
}

/// Whoever started the server may stop reading its output: a closed standard output must not
/// take the server down (it once did, when a notice printed after the reader left panicked).
#[test]
fn serve_keeps_serving_when_its_output_is_closed() {
    let database = TestDatabase::sqlite();
    // A free port, found by binding port 0 and letting it go.
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .to_string();
    let mut server = Command::new(env!("CARGO_BIN_EXE_coopfolio"))
        .args(["--database-url", &database.url, "serve", "--bind", &address])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting coopfolio serve");
    // Closed before the server writes its first line.
    drop(server.stdout.take());

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let response = loop {
        let attempt = TcpStream::connect(&address).and_then(|mut stream| {
            write!(
                stream,
                "GET / HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
            )?;
            let mut response = String::new();
            stream.read_to_string(&mut response)?;
            Ok(response)
        });
        match attempt {
            Ok(response) if !response.is_empty() => break Ok(response),
            _ if std::time::Instant::now() > deadline => break attempt,
            _ => {
                if let Ok(Some(status)) = server.try_wait() {
                    panic!("the server exited ({status}) once its output was closed");
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
    };
    let _ = server.kill();
    let _ = server.wait();
    let response = response.expect("an answer within 20 s");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}
