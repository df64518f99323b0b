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
    BufReader::new(server.stdout.take().unwrap())
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
    stream.read_to_string(&mut response).unwrap();
    let _ = server.kill();
    let _ = server.wait();

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
