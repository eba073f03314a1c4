//! `scimhub serve` with HTTPS, its JSON log collected as it is written, and
//! clients that trust the test root (and report which certificate they got).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use crate::support::eventually_blocking;
use crate::support::live::{free_port, scimhub};

use super::pki::{Issued, TestCa};

pub struct TlsServer {
    pub port: u16,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub database: String,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

/// Writes the certificate files (as a renewal would: whole files).
pub fn install(issued: &Issued, cert_file: &Path, key_file: &Path) {
    std::fs::write(cert_file, &issued.chain_pem).unwrap();
    std::fs::write(key_file, &issued.key_pem).unwrap();
}

impl TlsServer {
    /// Installs `issued` in `dir` and starts the server on it with `extra` settings.
    pub fn start(dir: &Path, issued: &Issued, extra: &[(&str, &str)]) -> TlsServer {
        let cert_file = dir.join("server.crt");
        let key_file = dir.join("server.key");
        install(issued, &cert_file, &key_file);
        let database = format!("sqlite://{}", dir.join("tls.db").display());
        let port = free_port();
        let mut child = scimhub()
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--database", &database])
            .env("SCIMHUB_TLS_CERT_FILE", &cert_file)
            .env("SCIMHUB_TLS_KEY_FILE", &key_file)
            .env("SCIMHUB_IDLE_TIMEOUT_SECS", "120")
            .env("SCIMHUB_LOG_FORMAT", "json")
            .env("SCIMHUB_LOG", "info")
            .env_remove("RUST_LOG")
            .envs(extra.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start scimhub serve");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        eventually_blocking("scimhub serve to accept connections", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        });
        TlsServer {
            port,
            cert_file,
            key_file,
            database,
            child,
            log,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }

    /// A token made with the CLI on the server's database.
    pub fn token(&self, name: &str, scopes: &str) -> String {
        let out = scimhub()
            .args(["token", "create", "--name", name, "--scopes", scopes])
            .args(["--database", &self.database])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        stdout.lines().last().unwrap().trim().to_string()
    }

    pub fn hang_up(&self) {
        let sent = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Log lines at `level` ("ERROR", "INFO", …) so far.
    pub fn log_lines(&self, level: &str) -> Vec<String> {
        let marker = format!("\"level\":\"{level}\"");
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(&marker))
            .cloned()
            .collect()
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client trusting only the test root; responses say which certificate
/// the server presented.
pub fn client(ca: &TestCa) -> reqwest::Client {
    client_builder(ca).build().unwrap()
}

pub fn client_builder(ca: &TestCa) -> reqwest::ClientBuilder {
    let root = reqwest::Certificate::from_pem(ca.root_pem().as_bytes()).unwrap();
    reqwest::Client::builder()
        .tls_certs_only([root])
        .tls_info(true)
}

/// The leaf certificate the server presented on this response's connection.
pub fn presented(response: &reqwest::Response) -> Vec<u8> {
    response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .expect("a TLS connection")
        .to_vec()
}
