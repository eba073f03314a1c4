//! Built-in HTTPS, driven as an operator runs it: `scimhub serve` with
//! `SCIMHUB_TLS_*` on certificates made at test time, real TLS clients.

mod pki;
mod server;

use std::io::{Read, Write};
use std::net::TcpStream;

use serde_json::{Value, json};

use crate::support::live::scimhub;
use crate::support::{eventually, eventually_blocking};
use pki::TestCa;
use server::{TlsServer, client, client_builder, install, presented};

#[tokio::test]
async fn https_serves_the_api_with_https_links_and_hsts() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let issued = ca.issue("scimhub-first");
    let server = TlsServer::start(
        dir.path(),
        &issued,
        &[("SCIMHUB_TLS_HSTS_MAX_AGE_SECS", "31536000")],
    );
    let token = server.token("okta", "scim:read,scim:write");
    let admin = server.token("ops", "admin");
    let http = client(&ca);

    let health = http.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(
        presented(&health),
        issued.leaf_der,
        "the configured certificate"
    );
    assert_eq!(
        health.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    assert_eq!(
        health.json::<Value>().await.unwrap(),
        json!({"status": "ok"})
    );

    let created = http
        .post(server.url("/scim/v2/Users"))
        .bearer_auth(&token)
        .header("content-type", "application/scim+json")
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "alice@example.com"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert!(created.headers().contains_key("strict-transport-security"));
    let location = created.headers()["location"].to_str().unwrap().to_string();
    let user: Value = created.json().await.unwrap();
    let prefix = format!("https://127.0.0.1:{}/scim/v2/Users/", server.port);
    assert_eq!(user["meta"]["location"], location.as_str());
    assert!(location.starts_with(&prefix), "{location}");

    let read = http
        .get(&location)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    assert_eq!(
        read.json::<Value>().await.unwrap()["userName"],
        "alice@example.com"
    );

    let refused = http.get(server.url("/scim/v2/Users")).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert!(
        refused.headers().contains_key("strict-transport-security"),
        "errors carry HSTS too"
    );

    let metrics = http
        .get(server.url("/metrics"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("scimhub_http_requests_total")
                && l.contains("route=\"/scim/v2/Users\"")
                && l.contains("status=\"201\"")),
        "{text}"
    );
}

#[tokio::test]
async fn without_hsts_configured_no_header_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let server = TlsServer::start(dir.path(), &ca.issue("scimhub-first"), &[]);
    let health = client(&ca)
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert!(!health.headers().contains_key("strict-transport-security"));
}

/// A ClientHello offering TLS 1.1 at most (no `supported_versions`), with
/// everything else a handshake needs, so only its version can refuse it.
fn tls_1_1_client_hello() -> Vec<u8> {
    let mut body = vec![0x03, 0x02]; // client_version TLS 1.1
    body.extend([0x42; 32]); // random
    body.push(0); // no session id
    body.extend([0x00, 0x04, 0xc0, 0x2b, 0xc0, 0x13]); // ECDHE-ECDSA GCM, ECDHE-RSA CBC
    body.extend([0x01, 0x00]); // null compression
    // signature_algorithms: ecdsa_secp256r1_sha256
    body.extend([0x00, 0x08, 0x00, 0x0d, 0x00, 0x04, 0x00, 0x02, 0x04, 0x03]);
    let mut handshake = vec![0x01, 0, 0, body.len() as u8];
    handshake.extend(body);
    let mut record = vec![0x16, 0x03, 0x01, 0, handshake.len() as u8];
    record.extend(handshake);
    record
}

#[tokio::test]
async fn only_tls_1_2_and_newer_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let server = TlsServer::start(dir.path(), &ca.issue("scimhub-first"), &[]);

    let tls12 = client_builder(&ca)
        .tls_version_max(reqwest::tls::Version::TLS_1_2)
        .build()
        .unwrap();
    let answer = tls12.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let info = answer.extensions().get::<reqwest::tls::TlsInfo>().unwrap();
    assert_eq!(info.version(), Some(reqwest::tls::Version::TLS_1_2));

    let mut raw = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    raw.write_all(&tls_1_1_client_hello()).unwrap();
    let mut reply = Vec::new();
    raw.read_to_end(&mut reply).unwrap();
    // One fatal alert record, protocol_version (70), then the connection closes.
    assert_eq!(reply, [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 70], "{reply:?}");
}

#[tokio::test]
async fn plain_http_on_the_https_port_gets_a_clear_400_and_no_error_log() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let server = TlsServer::start(dir.path(), &ca.issue("scimhub-first"), &[]);

    let mut raw = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let request = format!(
        "GET /scim/v2/Users HTTP/1.1\r\nHost: localhost:{}\r\nAccept: */*\r\n\r\n",
        server.port
    );
    raw.write_all(request.as_bytes()).unwrap();
    let mut reply = String::new();
    raw.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{reply}");
    let expected = format!(
        "\r\n\r\nthis port speaks HTTPS: use https://localhost:{}/\n",
        server.port
    );
    assert!(reply.ends_with(&expected), "{reply}");

    // What a person sees with an ordinary client and an http:// URL.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{}/healthz", server.port))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 400);
    assert_eq!(
        plain.text().await.unwrap(),
        format!(
            "this port speaks HTTPS: use https://127.0.0.1:{}/\n",
            server.port
        )
    );

    // The port still speaks HTTPS, and nothing was logged as an error.
    let health = client(&ca)
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(server.log_lines("ERROR"), Vec::<String>::new());
    let warnings = server.log_lines("WARN");
    assert!(
        warnings
            .iter()
            .all(|l| l.contains("no API token exists yet")),
        "only the first-run hint: {warnings:?}"
    );
}

#[tokio::test]
async fn sighup_serves_a_renewed_certificate_to_new_connections_while_open_ones_keep_working() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let first = ca.issue("scimhub-first");
    let server = TlsServer::start(dir.path(), &first, &[]);
    // One connection, kept alive across the renewal.
    let kept = client_builder(&ca)
        .pool_max_idle_per_host(1)
        .build()
        .unwrap();
    let before = kept.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(presented(&before), first.leaf_der);
    before.bytes().await.unwrap();

    let renewed = ca.issue("scimhub-renewed-certificate");
    install(&renewed, &server.cert_file, &server.key_file);
    server.hang_up();
    eventually(
        "a new connection to get the renewed certificate",
        || async {
            let fresh = client(&ca).get(server.url("/healthz")).send().await.ok()?;
            (presented(&fresh) == renewed.leaf_der).then_some(())
        },
    )
    .await;

    let after = kept.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(after.status(), 200);
    assert_eq!(
        presented(&after),
        first.leaf_der,
        "the open connection carried on with the certificate it was made with"
    );
    let reloaded = server.log_lines("INFO");
    assert!(
        reloaded
            .iter()
            .any(|l| l.contains("TLS certificate reloaded") && l.contains("SIGHUP")),
        "{reloaded:?}"
    );
}

#[tokio::test]
async fn a_changed_certificate_file_is_picked_up_without_a_signal() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let server = TlsServer::start(dir.path(), &ca.issue("scimhub-first"), &[]);
    let renewed = ca.issue("scimhub-renewed-certificate");
    install(&renewed, &server.cert_file, &server.key_file);
    eventually(
        "the file watch to serve the renewed certificate",
        || async {
            let fresh = client(&ca).get(server.url("/healthz")).send().await.ok()?;
            (presented(&fresh) == renewed.leaf_der).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn a_failed_reload_keeps_the_previous_certificate_and_logs_one_error() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let first = ca.issue("scimhub-first");
    let server = TlsServer::start(dir.path(), &first, &[]);
    // A renewed certificate with the wrong key beside it.
    let renewed = ca.issue("scimhub-renewed-certificate");
    std::fs::write(&server.cert_file, &renewed.chain_pem).unwrap();
    server.hang_up();
    let errors = eventually_blocking("the reload to fail", || {
        let errors = server.log_lines("ERROR");
        (!errors.is_empty()).then_some(errors)
    });
    assert_eq!(errors.len(), 1, "{errors:?}");
    let key_file = server.key_file.display().to_string();
    assert!(
        errors[0].contains("TLS certificate not reloaded")
            && errors[0].contains(&format!("TLS key file {key_file} does not match")),
        "{errors:?}"
    );
    let still = client(&ca)
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), 200);
    assert_eq!(presented(&still), first.leaf_der);

    // Once the key is put right, the next reload takes the pair.
    std::fs::write(&server.key_file, &renewed.key_pem).unwrap();
    server.hang_up();
    eventually("the corrected pair to be served", || async {
        let fresh = client(&ca).get(server.url("/healthz")).send().await.ok()?;
        (presented(&fresh) == renewed.leaf_der).then_some(())
    })
    .await;
    assert_eq!(server.log_lines("ERROR").len(), 1);
}

#[test]
fn bad_certificate_files_stop_start_up_with_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    let good = ca.issue("scimhub-first");
    let other = ca.issue("scimhub-other");
    let path = |name: &str| dir.path().join(name).display().to_string();
    std::fs::write(path("good.crt"), &good.chain_pem).unwrap();
    std::fs::write(path("good.key"), &good.key_pem).unwrap();
    std::fs::write(path("other.key"), &other.key_pem).unwrap();
    std::fs::write(path("text.txt"), "not a certificate\n").unwrap();
    let cases = [
        (
            path("good.crt"),
            path("other.key"),
            format!(
                "error: TLS key file {} does not match the certificate in {}",
                path("other.key"),
                path("good.crt")
            ),
        ),
        (
            path("missing.crt"),
            path("good.key"),
            format!(
                "error: cannot read TLS certificate file {}: ",
                path("missing.crt")
            ),
        ),
        (
            path("good.crt"),
            path("missing.key"),
            format!("error: cannot read TLS key file {}: ", path("missing.key")),
        ),
        (
            path("good.key"),
            path("good.key"),
            format!(
                "error: TLS certificate file {} holds no PEM certificate",
                path("good.key")
            ),
        ),
        (
            path("text.txt"),
            path("good.key"),
            format!(
                "error: TLS certificate file {} holds no PEM certificate",
                path("text.txt")
            ),
        ),
        (
            path("good.crt"),
            path("good.crt"),
            format!(
                "error: TLS key file {} holds no PEM private key",
                path("good.crt")
            ),
        ),
    ];
    let database = dir.path().join("never.db");
    for (cert_file, key_file, expected) in cases {
        let out = scimhub()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(["--database", &format!("sqlite://{}", database.display())])
            .env("SCIMHUB_TLS_CERT_FILE", &cert_file)
            .env("SCIMHUB_TLS_KEY_FILE", &key_file)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{cert_file} {key_file}: {out:?}"
        );
        let stderr = String::from_utf8(out.stderr).unwrap();
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{stderr}");
        assert!(lines[0].starts_with(&expected), "{stderr}");
        assert!(!database.exists(), "it stopped before opening the database");
    }
}
