//! A real browser for a test: Debian's headless Chromium driven through its own `chromedriver`
//! (started on a port of its choosing, ended with its browser when the `Browser` is dropped),
//! with a fresh profile, at 1280×900; helpers that find things as a person does (by label, by a
//! button's text), and axe-core for accessibility.
//!
//! Nothing is skipped: when Chromium, chromedriver or axe-core is missing the test fails and
//! says to run `scripts/deps`. Waits use fantoccini's wait API (it polls the page until the
//! element is there, up to [`WAIT`]); there are no sleeps. At most [`MAX_BROWSERS`] browsers
//! run at once, whatever the number of test threads.
mod axe;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::http::Method;
use base64::Engine;
use fantoccini::elements::Element;
use fantoccini::wd::{TimeoutConfiguration, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tokio::sync::{Semaphore, SemaphorePermit};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// axe-core as `scripts/deps` installs it (npm ci in tests/browser-tools).
pub const AXE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/browser-tools/node_modules/axe-core/axe.min.js"
);

/// The flags every browser runs with, besides its profile folder and window size.
pub const CHROMIUM_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];
pub const WIDTH: u32 = 1280;
pub const HEIGHT: u32 = 900;

/// How long a wait for an element, or a script, may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(30);
/// Browsers running at once across the whole test binary (the machine has two cores).
pub const MAX_BROWSERS: usize = 2;
static BROWSERS: Semaphore = Semaphore::const_new(MAX_BROWSERS);

/// A headless Chromium with its own chromedriver and profile, for one test.
pub struct Browser {
    /// The WebDriver session, for anything the helpers below do not cover.
    pub client: Client,
    _driver: Driver,
    _profile: tempfile::TempDir,
    _permit: SemaphorePermit<'static>,
}

/// Fails the test, saying what to do, when a tool the browser tests need is not installed.
fn require_tools() {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER, AXE]
        .into_iter()
        .filter(|path| !Path::new(path).is_file())
        .collect();
    assert!(
        missing.is_empty(),
        "The browser tests need Chromium, chromedriver and axe-core, and these are missing: {}.\n\
         Run scripts/deps (it installs Debian's chromium and chromium-driver, and axe-core into \
         tests/browser-tools/node_modules).",
        missing.join(", ")
    );
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a fresh profile, at 1280×900. Waits for
    /// a free place among the [`MAX_BROWSERS`] first.
    pub async fn start() -> Browser {
        require_tools();
        let permit = BROWSERS.acquire().await.expect("the browser semaphore");
        let profile = tempfile::Builder::new()
            .prefix("altframe-chromium-")
            .tempdir()
            .expect("a profile folder for Chromium");
        let driver = Driver::start().await;

        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| f.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.push(format!("--window-size={WIDTH},{HEIGHT}"));
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": CHROMIUM, "args": args }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .unwrap_or_else(|e| panic!("start Chromium through chromedriver: {e}"));
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(WAIT),
                Some(WAIT),
                Some(Duration::ZERO),
            ))
            .await
            .expect("set the session's timeouts");
        let browser = Browser {
            client,
            _driver: driver,
            _profile: profile,
            _permit: permit,
        };
        browser.assert_viewport_width(WIDTH).await;
        browser
    }

    /// Ends the session (Chromium quits), then chromedriver. Dropping the `Browser` also ends
    /// both, by killing them; this is the tidy way.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    /// Opens `url` and waits for its `load` event.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    pub async fn title(&self) -> String {
        self.client.title().await.expect("the page's title")
    }

    /// The first element matching a CSS selector, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        self.wait_for(Locator::Css(css), &format!("an element matching `{css}`"))
            .await
    }

    /// Every element matching a CSS selector now (no wait; none is an empty list).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find `{css}`: {e}"))
    }

    /// The form control whose label reads `label` (whitespace collapsed, exact match): by a
    /// `<label for>`, a `<label>` around it, `aria-label` or `aria-labelledby`. Waits for it.
    pub async fn find_by_label(&self, label: &str) -> Element {
        let t = xpath_literal(label);
        let controls = "self::input or self::select or self::textarea";
        // A label's text: all of it, or one of its own text nodes, or a child element's text
        // (a `<label>` around a `<select>` also holds the options' text).
        let label = format!(
            "label[normalize-space(.) = {t} or text()[normalize-space(.) = {t}] \
             or *[not({controls})][normalize-space(.) = {t}]]"
        );
        let xpath = format!(
            "//*[@id = //{label}/@for] \
             | //{label}//*[{controls}] \
             | //*[@aria-label = {t}] \
             | //*[@aria-labelledby and @aria-labelledby = //*[normalize-space(.) = {t}]/@id]"
        );
        self.wait_for(
            Locator::XPath(&xpath),
            &format!("a field labelled {label:?}"),
        )
        .await
    }

    /// Types `value` into the field labelled `label`, in place of what it held.
    pub async fn fill(&self, label: &str, value: &str) {
        let field = self.find_by_label(label).await;
        field
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clear the field labelled {label:?}: {e}"));
        field
            .send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("type into the field labelled {label:?}: {e}"));
    }

    /// Picks the option whose text is `option` in the `<select>` labelled `label`.
    pub async fn select(&self, label: &str, option: &str) {
        let xpath = format!(".//option[normalize-space(.) = {}]", xpath_literal(option));
        self.find_by_label(label)
            .await
            .select_by(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("pick {option:?} in the list labelled {label:?}: {e}"));
    }

    /// Clicks the button whose text (or `value`, or `aria-label`) is `text`, waiting for it.
    pub async fn click_button(&self, text: &str) {
        let t = xpath_literal(text);
        let xpath = format!(
            "//button[normalize-space(.) = {t} or @aria-label = {t}] \
             | //input[(@type = 'submit' or @type = 'button' or @type = 'reset') and @value = {t}] \
             | //*[@role = 'button' and (normalize-space(.) = {t} or @aria-label = {t})]"
        );
        let button = self
            .wait_for(Locator::XPath(&xpath), &format!("a button {text:?}"))
            .await;
        button
            .click()
            .await
            .unwrap_or_else(|e| panic!("click the button {text:?}: {e}"));
    }

    /// The visible text of the first element matching a CSS selector, waiting for it.
    pub async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("read the text of `{css}`: {e}"))
    }

    /// Waits for an element whose own text contains `text` (say, a result that a click brings),
    /// and returns it.
    pub async fn wait_for_text(&self, text: &str) -> Element {
        let xpath = format!(
            "//*[text()[contains(normalize-space(.), {})]]",
            xpath_literal(text)
        );
        self.wait_for(Locator::XPath(&xpath), &format!("the text {text:?}"))
            .await
    }

    async fn wait_for(&self, locator: Locator<'_>, what: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT)
            .every(Duration::from_millis(50))
            .for_element(locator)
            .await
            .unwrap_or_else(|e| {
                panic!("waited {WAIT:?} for {what} on the page, and none came: {e}")
            })
    }

    /// Makes the window `px` CSS pixels wide (e.g. 390 for a phone), keeping its height, and
    /// checks that the page's viewport is that wide.
    pub async fn set_width(&self, px: u32) {
        self.client
            .set_window_size(px, HEIGHT)
            .await
            .unwrap_or_else(|e| panic!("resize the window to {px} px: {e}"));
        self.assert_viewport_width(px).await;
    }

    async fn assert_viewport_width(&self, px: u32) {
        let width = self
            .client
            .execute("return window.innerWidth;", vec![])
            .await
            .expect("read the viewport's width");
        assert_eq!(width, json!(px), "the viewport is not {px} px wide");
    }

    /// How far the page reaches past the right edge of the viewport, in CSS pixels (0 when it
    /// fits: what a phone-width check wants).
    pub async fn horizontal_overflow(&self) -> i64 {
        self.client
            .execute(
                "return Math.max(0, document.documentElement.scrollWidth - window.innerWidth);",
                vec![],
            )
            .await
            .expect("measure the page")
            .as_i64()
            .expect("a number of pixels")
    }

    /// Saves a PNG of the whole page (beyond the viewport, through the DevTools protocol) at the
    /// window's width: 1280 px, or what `set_width` set. Makes the folder if needed.
    pub async fn screenshot(&self, path: impl AsRef<Path>) {
        let path = path.as_ref();
        let metrics = self.cdp("Page.getLayoutMetrics", json!({})).await;
        let height = metrics["cssContentSize"]["height"]
            .as_f64()
            .expect("the page's height")
            .ceil()
            .max(1.0);
        // The window's width, scroll bar and all (the layout viewport's leaves it out).
        let width = self
            .client
            .execute("return window.innerWidth;", vec![])
            .await
            .expect("read the viewport's width")
            .as_f64()
            .expect("a number of pixels");
        let shot = self
            .cdp(
                "Page.captureScreenshot",
                json!({
                    "format": "png",
                    "captureBeyondViewport": true,
                    "clip": { "x": 0, "y": 0, "width": width, "height": height, "scale": 1 },
                }),
            )
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("the screenshot's data"))
            .expect("base64 PNG");
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).expect("make the screenshot's folder");
        }
        std::fs::write(path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// A Chrome DevTools Protocol command, through chromedriver.
    async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.client
            .issue_cmd(Cdp {
                cmd: cmd.to_string(),
                params,
            })
            .await
            .unwrap_or_else(|e| panic!("DevTools {cmd}: {e}"))
    }
}

/// chromedriver's `POST /session/{id}/goog/cdp/execute`.
#[derive(Debug)]
struct Cdp {
    cmd: String,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.expect("a WebDriver session");
        base_url.join(&format!("session/{session}/goog/cdp/execute"))
    }

    fn method_and_body(&self, _: &url::Url) -> (Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params }).to_string();
        (Method::POST, Some(body))
    }
}

/// `text` as an XPath string literal, whatever quotes it holds.
fn xpath_literal(text: &str) -> String {
    if !text.contains('"') {
        format!("\"{text}\"")
    } else if !text.contains('\'') {
        format!("'{text}'")
    } else {
        let parts: Vec<String> = text.split('"').map(|p| format!("\"{p}\"")).collect();
        format!("concat({})", parts.join(", '\"', "))
    }
}

/// A chromedriver of our own, in its own process group, so that ending the group ends the
/// browser it started too.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    async fn start() -> Driver {
        use std::os::unix::process::CommandExt;
        let mut child = Command::new(CHROMEDRIVER)
            // Port 0: chromedriver takes a free port and says which.
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("start {CHROMEDRIVER}: {e}. Run scripts/deps."));
        let stdout = child.stdout.take().expect("chromedriver's output");
        let (port_tx, port_rx) = tokio::sync::oneshot::channel::<Result<u16, String>>();
        // Reads chromedriver's output until it says its port, then drains it (so that it
        // never blocks on a full pipe) until it ends.
        std::thread::spawn(move || {
            let mut port_tx = Some(port_tx);
            let mut seen = String::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(tx) = port_tx.take() {
                    match started_on(&line) {
                        Some(port) => {
                            let _ = tx.send(Ok(port));
                        }
                        None => {
                            seen.push_str(&line);
                            seen.push('\n');
                            port_tx = Some(tx);
                        }
                    }
                }
            }
            if let Some(tx) = port_tx {
                let _ = tx.send(Err(seen));
            }
        });
        let mut driver = Driver {
            child,
            url: String::new(),
        };
        let port = match tokio::time::timeout(WAIT, port_rx).await {
            Ok(Ok(Ok(port))) => port,
            Ok(Ok(Err(output))) => panic!("chromedriver stopped before it listened:\n{output}"),
            Ok(Err(_)) => panic!("chromedriver's output reader ended"),
            Err(_) => panic!("chromedriver did not say it listened within {WAIT:?}"),
        };
        driver.url = format!("http://127.0.0.1:{port}");
        driver
    }
}

/// The port in chromedriver's `ChromeDriver was started successfully on port 41234.`
fn started_on(line: &str) -> Option<u16> {
    let rest = line.split("started successfully on port ").nth(1)?;
    rest.trim_end_matches('.').trim().parse().ok()
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: chromedriver and every Chromium process it started.
        let group = i32::try_from(self.child.id()).expect("a process id");
        // SAFETY: kill(2) on our own child's process group; no memory is involved.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

/// Where a test may write files worth a look afterwards (screenshots): `target/tmp/browser/`.
pub fn artifacts_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser")
}

/// Serves `html` at `/` from a throwaway server on a free loopback port, for as long as the
/// test's runtime lives, and returns its URL.
pub async fn serve_page(html: &str) -> String {
    let html = html.to_string();
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let html = html.clone();
            async move { axum::response::Html(html) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let address = listener.local_addr().expect("its address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}/")
}

/// The width and height a PNG says it has.
pub fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(
        png.len() > 24 && png.starts_with(b"\x89PNG\r\n\x1a\n") && &png[12..16] == b"IHDR",
        "not a PNG"
    );
    let word = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().expect("4 bytes"));
    (word(16), word(20))
}
