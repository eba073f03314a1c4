//! `serve` listens on a host name as well as an IP address, a name that does
//! not resolve stops start-up with one line, and logs written to a pipe
//! carry no colour codes.

use std::io::Read;
use std::process::Stdio;

use crate::support::eventually;
use crate::support::live::{free_port, scimhub};

#[tokio::test]
async fn serve_listens_on_a_host_name_and_pipes_plain_logs() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("listen.db").display());
    let port = free_port();
    let mut child = scimhub()
        .args([
            "serve",
            "--listen",
            &format!("localhost:{port}"),
            "--database",
            &db,
        ])
        // Colour must be off because stderr is a pipe, not because of NO_COLOR.
        .env_remove("NO_COLOR")
        .env("SCIMHUB_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let url = format!("http://localhost:{port}/healthz");
    eventually("scimhub on localhost to answer /healthz", || async {
        let r = client.get(&url).send().await.ok()?;
        r.status().is_success().then_some(())
    })
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(log.contains("scimhub listening"), "{log}");
    assert!(
        !log.contains("\x1b["),
        "no ANSI escape codes in a pipe: {log:?}"
    );
}

#[test]
fn a_listen_name_that_does_not_resolve_is_one_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("never.db");
    let out = scimhub()
        .args([
            "serve",
            "--database",
            &format!("sqlite://{}", file.display()),
        ])
        .env("SCIMHUB_LISTEN", "no-such-host.invalid:8080")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0]
            .starts_with("error: listen address \"no-such-host.invalid:8080\" does not resolve"),
        "{stderr}"
    );
    assert!(!file.exists(), "it stopped before opening the database");
}
