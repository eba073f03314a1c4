//! The `scimhub` binary itself: tokens, start-up errors, graceful shutdown.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};

use crate::support::{Backend, TestApp};

fn scimhub() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scimhub"));
    cmd.env_remove("SCIMHUB_DATABASE_URL")
        .env_remove("SCIMHUB_LISTEN")
        .env("NO_COLOR", "1");
    cmd
}

/// A connection to the server on `port`, once it listens (30 s at most).
fn connect_when_up(port: u16) -> std::net::TcpStream {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            return s;
        }
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until the server on `port` answers HTTP (its signal handlers are
/// in place by then; a bare TCP connect only proves the socket is bound).
fn answering(port: u16) {
    use std::io::{Read, Write};
    crate::support::eventually_blocking("/healthz to answer", || {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .ok()?;
        let mut head = [0u8; 12];
        s.read_exact(&mut head).ok()?;
        head.starts_with(b"HTTP/1.1 200").then_some(())
    });
}

/// The child's exit status, once it exits (30 s at most).
fn exit_status(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "server did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn token_commands_create_list_and_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("cli.db").display());
    let out = scimhub()
        .args([
            "token",
            "create",
            "--name",
            "okta",
            "--scopes",
            "scim:read,scim:write",
            "--database",
            &db,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let token = stdout.lines().last().unwrap().trim().to_string();
    assert!(
        token.starts_with("scimhub_") && !token.contains(' '),
        "token alone on the last line: {stdout}"
    );

    let again = scimhub()
        .args(["token", "create", "--name", "okta", "--database", &db])
        .output()
        .unwrap();
    assert!(!again.status.success(), "a live name cannot be reused");

    let list = scimhub()
        .args(["token", "list", "--database", &db])
        .output()
        .unwrap();
    let listing = String::from_utf8(list.stdout).unwrap();
    assert!(listing.contains("okta") && listing.contains("live"));
    assert!(!listing.contains(&token[20..]), "secrets are never listed");

    // The token works against a server on the same database, until revoked.
    // A revocation from another process reaches the server when its
    // verified-token cache entry expires (one second here).
    let app = TestApp::start_with(Backend::Sqlite, |c| {
        c.database_url = db.clone();
        c.token_cache_secs = 1;
    })
    .await
    .unwrap();
    let ok = app.send(Method::GET, "/Users", Some(&token), None).await;
    assert_eq!(ok.status, StatusCode::OK);
    let revoke = scimhub()
        .args(["token", "revoke", "okta", "--database", &db])
        .output()
        .unwrap();
    assert!(revoke.status.success());
    let revoked_at = Instant::now();
    let refused = loop {
        let r = app.send(Method::GET, "/Users", Some(&token), None).await;
        if r.status != StatusCode::OK || revoked_at.elapsed() > Duration::from_secs(3) {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    refused.assert_error(401, None);
    let listing = String::from_utf8(
        scimhub()
            .args(["token", "list", "--database", &db])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(listing.contains("revoked"));

    let unknown = scimhub()
        .args(["token", "revoke", "nobody", "--database", &db])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    let bad_scope = scimhub()
        .args([
            "token",
            "create",
            "--name",
            "x",
            "--scopes",
            "root",
            "--database",
            &db,
        ])
        .output()
        .unwrap();
    assert!(!bad_scope.status.success());
}

#[test]
fn unreachable_database_is_one_clear_line_and_a_failure() {
    let out = scimhub()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            "postgres://scimhub:pw@127.0.0.1:1/none",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("error: cannot open database postgres://scimhub:***@127.0.0.1:1/none"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked") && !stderr.contains(":pw@"));

    let out = scimhub()
        .args(["serve", "--database", "/nonexistent-dir/sub/scimhub.db"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .starts_with("error: cannot open database")
    );
}

#[test]
fn serve_uses_env_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = scimhub()
        .arg("serve")
        .current_dir(dir.path())
        .env("SCIMHUB_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    answering(port);
    assert!(
        dir.path().join("scimhub.db").exists(),
        "default SQLite file in the working directory"
    );
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = exit_status(&mut child);
    assert!(status.success(), "graceful stop exits 0: {status:?}");
}

/// `serve` once, until it listens, then SIGTERM; what it wrote to stderr.
fn serve_once(dir: &std::path::Path, db: &str) -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = dir.join(format!("serve-{port}.log"));
    let mut child = scimhub()
        .args(["serve", "--database", db])
        .env("SCIMHUB_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    answering(port);
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    exit_status(&mut child);
    std::fs::read_to_string(&log).unwrap()
}

#[test]
fn serve_hints_at_a_token_until_one_exists() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hint.db").display());
    let first = serve_once(dir.path(), &db);
    assert!(
        first.contains("no API token exists yet") && first.contains("scimhub token create"),
        "{first}"
    );
    let out = scimhub()
        .args(["token", "create", "--name", "ops", "--database", &db])
        .output()
        .unwrap();
    assert!(out.status.success());
    let second = serve_once(dir.path(), &db);
    assert!(!second.contains("no API token exists yet"), "{second}");
}

/// SIGTERM while a request is half-sent: the server finishes it, then exits 0.
#[test]
fn sigterm_lets_in_flight_requests_finish() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("g.db").display());
    let out = scimhub()
        .args(["token", "create", "--name", "t", "--database", &db])
        .output()
        .unwrap();
    let token = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = scimhub()
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database",
            &db,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stream = connect_when_up(port);
    let body =
        r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"in-flight"}"#;
    let head = format!(
        "POST /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body.as_bytes()[..10]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    std::thread::sleep(Duration::from_millis(300));
    stream.write_all(&body.as_bytes()[10..]).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert!(exit_status(&mut child).success());
}

/// A debug-level run that sets passwords and presents good and bad tokens
/// leaves no secret in the server's log.
#[tokio::test]
async fn no_secret_reaches_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("s.db").display());
    let out = scimhub()
        .args(["token", "create", "--name", "logged", "--database", &db])
        .output()
        .unwrap();
    let token = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string();
    let log_path = dir.path().join("server.log");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = scimhub()
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database",
            &db,
        ])
        .env("SCIMHUB_LOG", "debug")
        .env("SCIMHUB_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}/scim/v2");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while client
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let user = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "logged", "password": "Zz-Logged-Secret-1"});
    let created: serde_json::Value = client
        .post(format!("{base}/Users"))
        .bearer_auth(&token)
        .json(&user)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let patch = serde_json::json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"password": "Zz-Logged-Secret-2", "shoeSize": 3}}]});
    client
        .patch(format!("{base}/Users/{id}"))
        .bearer_auth(&token)
        .json(&patch)
        .send()
        .await
        .unwrap();
    client
        .get(format!("{base}/Users"))
        .bearer_auth("scimhub_00000000deadbeef_TotallySecretPart")
        .send()
        .await
        .unwrap();
    client
        .get(format!("{base}/Users"))
        .bearer_auth("not-even-a-token-Sekrit")
        .send()
        .await
        .unwrap();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("auth.failed"), "the run was logged at all");
    let own_secret = token.splitn(3, '_').nth(2).unwrap();
    for secret in [
        "Zz-Logged-Secret-1",
        "Zz-Logged-Secret-2",
        "TotallySecretPart",
        "Sekrit",
        own_secret,
    ] {
        assert!(!log.contains(secret), "a secret reached the log");
    }
}
