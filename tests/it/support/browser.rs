//! Headless Chromium over WebDriver: chromedriver started on a free
//! loopback port with a fresh profile, driven with fantoccini, stopped
//! when done. Screenshots go to `target/console-screenshots/`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use super::live::free_port;
use super::poll::PATIENCE;

/// The first of `names` found on `PATH`.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

pub struct Browser {
    pub client: Client,
    driver: Child,
    /// Where screenshots go (None: none are taken).
    shots: Option<PathBuf>,
    _profile: tempfile::TempDir,
}

/// Where the console's screenshots are written.
pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/console-screenshots")
}

impl Browser {
    /// None when chromedriver or Chromium is not installed; with
    /// `SCIMHUB_REQUIRE_BROWSER=1` (CI) that is a failure. `screenshots`:
    /// `shot` writes them.
    pub async fn start(screenshots: bool) -> Option<Browser> {
        let (Some(driver), Some(chromium)) = (
            on_path(&["chromedriver"]),
            on_path(&["chromium", "chromium-browser", "google-chrome"]),
        ) else {
            if std::env::var("SCIMHUB_REQUIRE_BROWSER").as_deref() == Ok("1") {
                panic!(
                    "chromium and chromedriver are required (apt-get install chromium chromium-driver)"
                );
            }
            eprintln!("note: browser tests skipped: chromium or chromedriver is not installed");
            return None;
        };
        let port = free_port();
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        super::poll::eventually_blocking("chromedriver to listen", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        });
        let profile = tempfile::tempdir().expect("profile dir");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,800",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain([format!("--user-data-dir={}", profile.path().display())])
        .collect::<Vec<_>>();
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session");
        let shots = screenshots.then(screenshot_dir);
        if let Some(dir) = &shots {
            std::fs::create_dir_all(dir).expect("screenshot dir");
        }
        Some(Browser {
            client,
            driver,
            shots,
            _profile: profile,
        })
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    /// The path (and query) of the page shown.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// Waits (bounded) for an element.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        let found = self
            .client
            .wait()
            .at_most(PATIENCE)
            .every(Duration::from_millis(50))
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(element) => element,
            Err(e) => panic!("no {css} on {}: {e}", self.path().await),
        }
    }

    pub async fn exists(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .expect("find")
            .is_empty()
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("text")
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.expect("click");
    }

    /// Replaces a field's value with `value` as typed.
    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear");
        field.send_keys(value).await.expect("type");
    }

    /// Saves a PNG of the page as `NAME.png`.
    pub async fn shot(&self, name: &str) {
        let Some(dir) = &self.shots else {
            return;
        };
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// `shot` with the element `css` scrolled into the middle of the view.
    pub async fn shot_at(&self, name: &str, css: &str) {
        self.find(css).await;
        self.client
            .execute(
                "document.querySelector(arguments[0]).scrollIntoView({block: 'center'});",
                vec![json!(css)],
            )
            .await
            .expect("scroll");
        self.shot(name).await;
    }

    /// Ends the browser session and chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
