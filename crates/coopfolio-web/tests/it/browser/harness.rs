//! What a browser test stands on: the real server (`coopfolio_web::serve`) on a free loopback
//! port over a fresh copy of the demo database, chromedriver on another, and headless Chromium
//! driven through it with fantoccini. A scenario reads as what a person does:
//!
//! ```ignore
//! let Some(mut browser) = Browser::start("language").await else { return };
//! browser.visit("/").await;
//! browser.click("a[hreflang=fr]").await;
//! browser.wait_for("html[lang=fr]").await;
//! browser.screenshot("french").await;
//! browser.finish().await;
//! ```
//!
//! Every screenshot is saved as `target/browser-screenshots/SCENARIO-NN-NAME.png`. Only one
//! browser runs at a time (a lock held for the life of a [`Browser`]), to spare a small
//! machine's cores. Without chromedriver a scenario prints `SKIPPED: chromedriver not found`
//! and passes: continuous integration installs it, so there the scenarios always run.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use coopfolio_store::Store;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::sync::{oneshot, Mutex, MutexGuard};

use crate::demo_database_copy;

/// Held by the running browser; the next scenario waits for it.
static ONE_BROWSER_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// How long a page, an element or chromedriver itself may take to appear.
const PATIENCE: Duration = Duration::from_secs(20);

/// A headless Chromium session on the portal, and everything it needs, stopped together.
pub struct Browser {
    client: Client,
    /// The portal's address, `http://127.0.0.1:PORT`.
    base_url: String,
    /// The store the server writes to, for checking what a scenario stored.
    pub store: Store,
    scenario: String,
    screenshots_taken: u32,
    stop_server: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    chromedriver: Chromedriver,
    _database_folder: tempfile::TempDir,
    _turn: MutexGuard<'static, ()>,
}

impl Browser {
    /// Starts the server over a fresh copy of the demo, chromedriver and a browser, or returns
    /// `None` (after saying so) when chromedriver is not installed. `scenario` names the
    /// screenshots.
    pub async fn start(scenario: &str) -> Option<Browser> {
        Browser::start_with(scenario, |state| state).await
    }

    /// Like [`start`](Browser::start), with the server's state changed by `configure` first
    /// (an importer, a mail server).
    pub async fn start_with(
        scenario: &str,
        configure: impl FnOnce(coopfolio_web::AppState) -> coopfolio_web::AppState,
    ) -> Option<Browser> {
        let Some(chromedriver_path) = find_program("CHROMEDRIVER", "chromedriver") else {
            println!("SKIPPED: chromedriver not found");
            return None;
        };
        let turn = ONE_BROWSER_AT_A_TIME.lock().await;

        let (database_url, database_folder) = demo_database_copy();
        let store = Store::connect(&database_url)
            .await
            .expect("opening the copy of the demo database");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port for the portal");
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let (stop_server, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(coopfolio_web::serve(
            listener,
            configure(coopfolio_web::AppState::new(store.clone())),
            async {
                let _ = stopped.await;
            },
        ));

        let mut chromedriver = Chromedriver::start(&chromedriver_path);
        let mut options = serde_json::json!({
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--window-size=1280,900",
            ]
        });
        if let Some(chromium) = find_program("CHROME", "chromium") {
            options["binary"] = serde_json::Value::from(chromium.display().to_string());
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".to_owned(), options);
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&chromedriver.url())
            .await
            .expect("a Chromium session through chromedriver");
        chromedriver.session = client.session_id().await.ok().flatten();

        let scenario = scenario.to_owned();
        std::fs::create_dir_all(screenshot_folder()).expect("the screenshot folder");
        Some(Browser {
            client,
            base_url,
            store,
            scenario,
            screenshots_taken: 0,
            stop_server: Some(stop_server),
            server: Some(server),
            chromedriver,
            _database_folder: database_folder,
            _turn: turn,
        })
    }

    /// Adds a staff user with `password` and logs in as them through the login form, ending
    /// on the inquiry board.
    pub async fn add_user_and_log_in(
        &mut self,
        email: &str,
        role: coopfolio_store::staff::Role,
        password: &str,
    ) {
        self.store
            .add_staff_user(email, role, password, "test")
            .await
            .expect("adding the user");
        self.visit("/staff/login").await;
        self.fill("#email", email).await;
        self.fill("#password", password).await;
        self.click("form button[type=submit]").await;
        self.wait_for_path(|path| path == "/staff/inquiries").await;
    }

    /// Opens the portal's `path` (`/projects?region=africa`) and waits for it to load.
    pub async fn visit(&mut self, path: &str) {
        let url = format!("{}{path}", self.base_url);
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|error| panic!("opening {url}: {error}"));
    }

    /// GETs `path` from the portal over plain HTTP, outside the browser, and returns the body:
    /// for downloads, which a headless browser saves to disk instead of showing.
    pub async fn fetch(&self, path: &str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let address = self.base_url.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(address)
            .await
            .expect("connecting to the portal");
        let request = format!("GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n");
        stream.write_all(request.as_bytes()).await.expect("sending");
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.expect("reading");
        let response = String::from_utf8(response).expect("UTF-8");
        let (head, body) = response.split_once("\r\n\r\n").expect("a response");
        assert!(
            head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
            "{head}"
        );
        body.to_owned()
    }

    /// Every element `css` selects on the page now shown, in document order.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("finding {css}: {error}"))
    }

    /// The path and query of the page now shown.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("the current URL");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Saves what the window shows as `target/browser-screenshots/SCENARIO-NN-NAME.png`.
    pub async fn screenshot(&mut self, name: &str) -> PathBuf {
        self.screenshots_taken += 1;
        let png = self.client.screenshot().await.expect("a screenshot");
        let path = screenshot_folder().join(format!(
            "{}-{:02}-{name}.png",
            self.scenario, self.screenshots_taken
        ));
        std::fs::write(&path, png).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        path
    }

    /// The element `css` finds on the page now shown.
    pub async fn find(&self, css: &str) -> Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element,
            Err(error) => panic!(
                "finding {css} on {}: {error}",
                self.path_for_message().await
            ),
        }
    }

    /// Waits until `css` finds an element (a page loading after a click, say) and returns it.
    pub async fn wait_for(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(error) => panic!(
                "waiting for {css} on {}: {error}",
                self.path_for_message().await
            ),
        }
    }

    /// Waits until the page shown is one whose path and query satisfy `is_there`.
    pub async fn wait_for_path(&self, is_there: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let path = self.path().await;
            if is_there(&path) {
                return path;
            }
            assert!(Instant::now() < deadline, "still on {path}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|error| panic!("clicking {css}: {error}"));
    }

    /// Clicks `css` and waits until the browser has left the page it was on, even for a form
    /// that posts back to the same address: the old document's root element goes stale.
    /// Without this, a test that waits for the path would read the old page while the new
    /// one loads.
    pub async fn click_and_reload(&self, css: &str) {
        let old_root = self.find("html").await;
        self.click(css).await;
        let deadline = Instant::now() + PATIENCE;
        while old_root.tag_name().await.is_ok() {
            assert!(
                Instant::now() < deadline,
                "clicking {css} did not load a page"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.wait_for("body").await;
    }

    /// Types `text` into the field `css` in place of what it held.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clearing a field");
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|error| panic!("typing into {css}: {error}"));
    }

    /// Chooses the option with `value` in the select `css`.
    pub async fn choose(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|error| panic!("choosing {value} in {css}: {error}"));
    }

    /// The visible text of `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .expect("an element's text")
    }

    /// The current value of the field `css`, as the browser holds it (not the HTML attribute).
    pub async fn value(&self, css: &str) -> String {
        self.find(css)
            .await
            .prop("value")
            .await
            .expect("a field's value")
            .unwrap_or_default()
    }

    /// Whether the checkbox or option `css` is ticked or chosen.
    pub async fn is_checked(&self, css: &str) -> bool {
        self.find(css)
            .await
            .is_selected()
            .await
            .expect("whether a box is ticked")
    }

    /// Runs `script` in the page, as a tool of the test rather than of the page: the portal's
    /// Content-Security-Policy forbids the page's own scripts, not the driver's.
    pub async fn run_script(&self, script: &str) {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|error| panic!("running a script: {error}"));
    }

    /// Closes the browser, chromedriver and the server. A scenario that panics before this
    /// still stops them, through `Drop`.
    pub async fn finish(mut self) {
        if self.client.clone().close().await.is_ok() {
            self.chromedriver.session = None;
        }
        if let Some(stop) = self.stop_server.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.store.close().await;
    }

    async fn path_for_message(&self) -> String {
        match self.client.current_url().await {
            Ok(url) => url.to_string(),
            Err(_) => "an unknown page".to_owned(),
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(stop) = self.stop_server.take() {
            let _ = stop.send(());
        }
        self.chromedriver.delete_session();
    }
}

/// chromedriver on a free loopback port, stopped when dropped.
struct Chromedriver {
    process: Child,
    port: u16,
    /// The browser session while it is open.
    session: Option<String>,
}

impl Chromedriver {
    /// Starts chromedriver and waits until it says it is ready.
    fn start(program: &Path) -> Chromedriver {
        // A port the system just handed out and took back: free, unless another program takes
        // it in the instant between, which the readiness check below would show.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port for chromedriver")
            .port();
        let process = Command::new(program)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("starting {}: {error}", program.display()));
        let chromedriver = Chromedriver {
            process,
            port,
            session: None,
        };
        let deadline = Instant::now() + PATIENCE;
        while !chromedriver
            .request("GET", "/status")
            .is_some_and(|response| response.contains("\"ready\":true"))
        {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        chromedriver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Ends a session that a failed scenario left open, so that its Chromium quits.
    fn delete_session(&mut self) {
        if let Some(session) = self.session.take() {
            let _ = self.request("DELETE", &format!("/session/{session}"));
        }
    }

    /// One plain HTTP request, for the moments when no runtime can be relied on (start-up,
    /// `Drop`); `None` if chromedriver does not answer.
    fn request(&self, method: &str, path: &str) -> Option<String> {
        let address = SocketAddr::from(([127, 0, 0, 1], self.port));
        let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(1)).ok()?;
        stream.set_read_timeout(Some(PATIENCE)).ok()?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.port
        )
        .ok()?;
        // chromedriver keeps the connection open whatever the request says, so the response
        // ends where its Content-Length says, not at the end of the stream.
        let mut response = Vec::new();
        let mut buffer = [0; 4096];
        loop {
            let read = stream.read(&mut buffer).ok()?;
            response.extend_from_slice(&buffer[..read]);
            if read == 0 || is_complete(&response) {
                break;
            }
        }
        Some(String::from_utf8_lossy(&response).replace(' ', ""))
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Whether `response` holds a whole HTTP response: its headers and as many bytes of body as
/// they announce.
fn is_complete(response: &[u8]) -> bool {
    let Some(headers_end) = response.windows(4).position(|window| window == b"\r\n\r\n") else {
        return false;
    };
    let headers = String::from_utf8_lossy(&response[..headers_end]).to_ascii_lowercase();
    let length = headers
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    response.len() >= headers_end + 4 + length
}

/// Where screenshots go: `target/browser-screenshots/`, found from the test binary's own
/// place (`target/PROFILE/deps/it-HASH`), so that it holds for any target folder.
fn screenshot_folder() -> PathBuf {
    let executable = std::env::current_exe().expect("the test binary's path");
    executable
        .ancestors()
        .nth(3)
        .map(|target| target.join("browser-screenshots"))
        .unwrap_or_else(|| PathBuf::from("target/browser-screenshots"))
}

/// The program an environment variable names, else the first `name` on the `PATH`.
fn find_program(variable: &str, name: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable).map(PathBuf::from) {
        return path.is_file().then_some(path);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|folder| folder.join(name))
        .find(|path| path.is_file())
}
