//! `scimhub token …` next to a running server: `list` shows the id the
//! admin API revokes by (and `--json`), `revoke` says how long a running
//! server may still accept the token.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::eventually;
use crate::support::live::{LiveServer, scimhub};

fn last_line(out: &str) -> String {
    out.lines().last().unwrap().trim().to_string()
}

async fn users_status(server: &LiveServer, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{}/scim/v2/Users", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn token_list_shows_ids_and_revoke_says_how_long_a_server_may_accept() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("tokens.db").display());
    let server = LiveServer::start(&db, &[("SCIMHUB_TOKEN_CACHE_SECS", "1")]);
    let admin =
        last_line(&server.cli_ok(&["token", "create", "--name", "ops", "--scopes", "admin"]));
    let okta = last_line(&server.cli_ok(&["token", "create", "--name", "okta"]));

    let listed = server.cli_json(&["token", "list"]);
    let tokens = listed["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 2, "{listed}");
    let entry: &Value = tokens.iter().find(|t| t["name"] == "okta").unwrap();
    let id = entry["id"].as_str().unwrap();
    assert!(okta.starts_with(&format!("scimhub_{id}_")), "{okta} / {id}");
    assert_eq!(
        entry["scopes"],
        serde_json::json!(["scim:read", "scim:write"])
    );
    assert_eq!(entry["revoked"], Value::Null);
    let secret = &okta[format!("scimhub_{id}_").len()..];
    assert!(!listed.to_string().contains(secret), "no secret is listed");
    let table = server.cli_ok(&["token", "list"]);
    assert!(table.starts_with("ID "), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(id) && l.contains("okta")),
        "{table}"
    );

    // That id is what the admin API revokes by.
    assert_eq!(users_status(&server, &okta).await, 200);
    let revoked = reqwest::Client::new()
        .delete(format!("{}/admin/v1/tokens/{id}", server.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status().as_u16(), 204);
    assert_eq!(users_status(&server, &okta).await, 401);

    // A CLI revocation says how long the running server may still accept
    // the token (its token_cache_secs), and the server keeps to that.
    let entra = last_line(&server.cli_ok(&["token", "create", "--name", "entra"]));
    assert_eq!(users_status(&server, &entra).await, 200, "now cached");
    let said = server.cli_ok(&["token", "revoke", "entra"]);
    let revoked_at = Instant::now();
    assert!(
        said.contains("may accept it for up to 1 more second (token_cache_secs)"),
        "{said}"
    );
    eventually("the revoked token to be refused", || async {
        (users_status(&server, &entra).await == 401).then_some(())
    })
    .await;
    assert!(
        revoked_at.elapsed() < Duration::from_secs(3),
        "refused within the stated second (plus a poll step)"
    );

    // With the cache off, it says the revocation applies at once.
    let out = scimhub()
        .args(["token", "revoke", "ops", "--database", &db])
        .env("SCIMHUB_TOKEN_CACHE_SECS", "0")
        .output()
        .unwrap();
    assert!(out.status.success());
    let said = String::from_utf8(out.stdout).unwrap();
    assert!(
        said.contains("refuses it from now on (token_cache_secs = 0)"),
        "{said}"
    );
}
