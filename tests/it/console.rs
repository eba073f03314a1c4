//! The web console over HTTP, without a browser: every route needs a
//! session, forms need the session's CSRF token, sessions end, the
//! security headers, escaping, and sign-in's limits and audit trail.
//! (`console_browser` drives it in real Chromium.)

use std::collections::BTreeSet;

use reqwest::StatusCode;
use scimhub::crypto::SecretKey;
use scimhub::http::{RouteRule, console_route_table};
use scimhub::store::diesel::DieselStore;
use scimhub::store::{Actor, AuditQuery, AuditRecord, ConsoleStore};
use serde_json::json;

use crate::on_both_backends;
use crate::support::console::{ConsoleClient, Page, session_cookie};
use crate::support::{TestApp, eventually};

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn keyed(c: &mut scimhub::config::Config) {
    c.secret_key = Some(SecretKey([7; 32]));
}

fn method(rule: &RouteRule) -> reqwest::Method {
    reqwest::Method::from_bytes(rule.method.as_str().as_bytes()).unwrap()
}

/// The rule's path with `id` for `{id}` and `name` for `{name}`.
fn concrete(rule: &RouteRule, id: &str, name: &str) -> String {
    rule.path.replace("{id}", id).replace("{name}", name)
}

fn protected() -> Vec<RouteRule> {
    console_route_table()
        .into_iter()
        .filter(|r| r.scope.is_some())
        .collect()
}

/// Everything a console form could change.
fn state(app: &TestApp) -> impl PartialEq + std::fmt::Debug {
    let tokens: Vec<(String, bool)> = app
        .store
        .list_tokens()
        .unwrap()
        .into_iter()
        .map(|t| (t.name, t.revoked.is_some()))
        .collect();
    (
        app.snapshot(),
        tokens,
        app.hooks.list_subscriptions().unwrap().len(),
    )
}

async fn audit(app: &TestApp) -> Vec<AuditRecord> {
    app.store
        .audit(&AuditQuery {
            limit: 1000,
            ..AuditQuery::default()
        })
        .unwrap()
}

async fn send(client: &ConsoleClient, m: &reqwest::Method, path: &str, csrf: bool) -> Page {
    if *m == reqwest::Method::GET {
        client.get(path).await
    } else if csrf {
        client.post(path, &[]).await
    } else {
        client.post_raw(path, &[]).await
    }
}

async fn every_console_route_needs_a_session(app: TestApp) {
    let admin = app.token_with("ops", &["admin"]);
    let victim = app.create_user("victim").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let routes = protected();
    assert!(routes.len() > 30, "the table lists the console's routes");
    let public: BTreeSet<(String, String)> = console_route_table()
        .into_iter()
        .filter(|r| r.scope.is_none())
        .map(|r| (r.method.to_string(), r.path))
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("GET", "/console/sign-in"),
        ("POST", "/console/sign-in"),
        ("GET", "/console/oidc/start"),
        ("GET", "/console/oidc/callback"),
        ("GET", "/console/assets/console.css"),
        ("GET", "/console/assets/console.js"),
    ]
    .into_iter()
    .map(|(m, p)| (m.to_string(), p.to_string()))
    .collect();
    assert_eq!(public, expected, "only sign-in and the assets are public");
    // Without a provider configured, its routes say so and sign no one in.
    for path in [
        "/console/oidc/start",
        "/console/oidc/callback?code=x&state=y",
    ] {
        let page = ConsoleClient::new(&app.base).get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(session_cookie(&page.headers).is_none());
    }

    let before = state(&app);
    let anonymous = ConsoleClient::new(&app.base);
    let mut forged = ConsoleClient::new(&app.base);
    forged.cookie = Some("scimhub_console=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into());
    forged.csrf = Some("AAAA".into());
    for rule in &routes {
        let path = concrete(rule, &victim, "x");
        for (who, client) in [("no cookie", &anonymous), ("a forged cookie", &forged)] {
            let page = send(client, &method(rule), &path, client.csrf.is_some()).await;
            if rule.method == actix_web::http::Method::GET {
                assert_eq!(page.status, StatusCode::SEE_OTHER, "GET {path} with {who}");
                let to = page.header("location").unwrap();
                assert!(to.starts_with("/console/sign-in?next=%2Fconsole"), "{to}");
            } else {
                assert_eq!(
                    page.status,
                    StatusCode::FORBIDDEN,
                    "{} {path} with {who}",
                    rule.method
                );
                assert!(page.body.contains("sign in again"), "{}", page.body);
            }
        }
    }
    // Signed in, a state-changing request still needs the session's token.
    let signed = ConsoleClient::signed_in(&app.base, &admin).await;
    let mut other = ConsoleClient::signed_in(&app.base, &admin).await;
    other.cookie = signed.cookie.clone();
    for rule in routes
        .iter()
        .filter(|r| r.method != actix_web::http::Method::GET)
    {
        let path = concrete(rule, &victim, "x");
        let missing = signed.post_raw(&path, &[]).await;
        let foreign = other.post(&path, &[]).await;
        for (why, page) in [("no CSRF token", missing), ("another session's", foreign)] {
            assert_eq!(page.status, StatusCode::FORBIDDEN, "POST {path} with {why}");
            assert!(page.body.contains("out of date"), "{}", page.body);
        }
    }
    assert_eq!(state(&app), before, "nothing changed");
    // With the session and its token every route is there (unknown ids:
    // the pages say not found, forms are refused, nothing is created).
    let mut ordered = routes.clone();
    ordered.sort_by_key(|r| r.path.ends_with("/sign-out"));
    for rule in &ordered {
        let path = concrete(rule, "no-such-id", "no-such-target");
        let page = send(&signed, &method(rule), &path, true).await;
        let status = page.status.as_u16();
        assert!(
            !matches!(status, 401 | 403 | 405) && status < 500,
            "{} {path}: {status} {}",
            rule.method,
            page.body
        );
        assert!(
            !page.body.contains("There is no such console page"),
            "{} {path} is mounted",
            rule.method
        );
    }
    assert_eq!(state(&app), before, "nothing changed");
}

async fn forms_without_the_sessions_token_change_nothing(app: TestApp) {
    let admin = app.token_with("ops", &["admin"]);
    let console = ConsoleClient::signed_in(&app.base, &admin).await;
    let before = state(&app);
    let form = [("name", "ci-bot"), ("scim:read", "on")];
    let refused = [
        console.post_raw("/console/tokens", &form).await,
        console
            .post_raw(
                "/console/tokens",
                &[("csrf", "forged"), ("name", "ci-bot"), ("admin", "on")],
            )
            .await,
    ];
    for page in refused {
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
        assert!(!page.body.contains("scimhub_"), "no token was shown");
    }
    assert_eq!(state(&app), before, "no token was created");
    // Control: the same form with the token creates it, shown once.
    let page = console.post("/console/tokens", &form).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("id=\"new-token-secret\">scimhub_"),
        "{}",
        page.body
    );
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let listed = console.get("/console/tokens").await;
    assert!(listed.body.contains("ci-bot") && !listed.body.contains("new-token-secret"));
    let rows = audit(&app).await;
    let created = rows.iter().find(|r| r.event == "token.create").unwrap();
    assert_eq!(
        created.actor, "console:ops",
        "audited with the signed-in actor"
    );
}

async fn sessions_end_when_idle(app: TestApp) {
    let admin = app.token_with("ops", &["admin"]);
    let console = ConsoleClient::signed_in(&app.base, &admin).await;
    assert_eq!(console.get("/console/users").await.status, StatusCode::OK);
    // Watched in the database (a page view would keep it alive).
    let cookie = console.cookie.clone().unwrap();
    let hash = scimhub::service::tokens::hash_secret(cookie.trim_start_matches("scimhub_console="));
    let db = DieselStore::open(&app.database_url, 1).unwrap();
    eventually("the session to be idle for its timeout", || async {
        let session = db.find_session(&hash).unwrap()?;
        (chrono::Utc::now() - session.last_seen > chrono::Duration::milliseconds(1100))
            .then_some(())
    })
    .await;
    let page = console.get("/console/users").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "the idle session ended");
    assert!(
        page.header("location")
            .unwrap()
            .starts_with("/console/sign-in")
    );
    assert!(db.find_session(&hash).unwrap().is_none(), "and is gone");
    // Signing in again works.
    ConsoleClient::signed_in(&app.base, &admin).await;
}

async fn sessions_end_at_the_absolute_limit_however_busy(app: TestApp) {
    let admin = app.token_with("ops", &["admin"]);
    let console = ConsoleClient::signed_in(&app.base, &admin).await;
    // Polled every 50 ms: never idle, yet it ends.
    eventually("the session to reach its absolute limit", || async {
        let page = console.get("/console").await;
        (page.status == StatusCode::SEE_OTHER).then_some(())
    })
    .await;
}

async fn sessions_end_with_their_token(app: TestApp) {
    let admin = app.token_with("ops", &["admin"]);
    let console = ConsoleClient::signed_in(&app.base, &admin).await;
    assert_eq!(console.get("/console").await.status, StatusCode::OK);
    // Another admin revokes it in the console.
    let other = ConsoleClient::signed_in(&app.base, &app.token_with("lead", &["admin"])).await;
    let id = app
        .store
        .list_tokens()
        .unwrap()
        .into_iter()
        .find(|t| t.name == "ops")
        .unwrap()
        .id;
    let page = other
        .post(&format!("/console/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(
        page.header("location"),
        Some("/console/tokens?notice=token-revoked")
    );
    let page = console.get("/console").await;
    assert_eq!(
        page.status,
        StatusCode::SEE_OTHER,
        "a revoked token's session ends at once"
    );
    let page = ConsoleClient::new(&app.base).sign_in(&admin).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    let revoked = audit(&app)
        .await
        .into_iter()
        .find(|r| r.event == "token.revoke")
        .unwrap();
    assert_eq!(revoked.actor, "console:lead");
    assert_eq!(
        other.get("/console").await.status,
        StatusCode::OK,
        "the other session lives on"
    );
}

async fn sign_in_sets_a_strict_cookie_and_sign_out_ends_the_session(app: TestApp) {
    let admin = app.token_with("ops", &["admin"]);
    let mut console = ConsoleClient::new(&app.base);
    let page = console.sign_in(&admin).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.header("location"), Some("/console"));
    let (pair, header) = session_cookie(&page.headers).unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(header.contains(attribute), "{header}");
    }
    assert!(!header.contains("Secure"), "plain HTTP: {header}");
    // Only a hash of the cookie's secret is stored.
    let secret = pair.trim_start_matches("scimhub_console=");
    let db = DieselStore::open(&app.database_url, 1).unwrap();
    assert!(db.find_session(secret).unwrap().is_none());
    let hash = scimhub::service::tokens::hash_secret(secret);
    assert_eq!(
        db.find_session(&hash).unwrap().unwrap().actor,
        "console:ops"
    );
    let overview = console.get("/console").await;
    assert!(
        overview.body.contains("console:ops"),
        "the page names the actor"
    );
    assert!(!overview.body.contains(secret) && !overview.body.contains(&admin));

    let out = console.post("/console/sign-out", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(
        out.header("location"),
        Some("/console/sign-in?notice=signed-out")
    );
    let (cleared, _) = session_cookie(&out.headers).unwrap();
    assert_eq!(cleared, "scimhub_console=");
    assert!(db.find_session(&hash).unwrap().is_none());
    assert_eq!(console.get("/console").await.status, StatusCode::SEE_OTHER);
    let events: Vec<(String, String)> = audit(&app)
        .await
        .into_iter()
        .filter(|r| r.event.starts_with("console."))
        .map(|r| (r.event, r.actor))
        .collect();
    assert_eq!(
        events,
        [
            ("console.sign_out".to_string(), "console:ops".to_string()),
            ("console.sign_in".to_string(), "console:ops".to_string())
        ]
    );
}

async fn the_cookie_is_secure_behind_an_https_proxy(app: TestApp) {
    let admin = app.token_with("ops", &["admin"]);
    let resp = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/console/sign-in", app.base))
        .header("x-forwarded-proto", "https")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={admin}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, header) = session_cookie(resp.headers()).unwrap();
    assert!(header.contains("Secure"), "{header}");
}

async fn only_live_admin_credentials_sign_in(app: TestApp) {
    let reader = app.token_with("reader", &["scim:read", "scim:write"]);
    let old = app.token_with("old", &["admin"]);
    scimhub::service::tokens::revoke(app.store.as_ref(), &Actor::system("test"), "old").unwrap();
    for (why, token) in [
        ("no admin scope", reader.as_str()),
        ("revoked", old.as_str()),
        (
            "unknown",
            "scimhub_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ),
        ("blank", " "),
    ] {
        let page = ConsoleClient::new(&app.base).sign_in(token).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{why}");
        assert!(session_cookie(&page.headers).is_none(), "{why}");
        assert!(page.body.contains("cannot sign in"), "{why}: {}", page.body);
        assert!(
            !page.body.contains(token.trim()) || token.trim().is_empty(),
            "{why}"
        );
    }
    let rows = audit(&app).await;
    let denied = rows
        .iter()
        .find(|r| r.event == "console.sign_in.denied")
        .unwrap();
    assert_eq!(denied.actor, "reader");
    assert_eq!(rows.iter().filter(|r| r.event == "auth.failed").count(), 2);
    assert!(!rows.iter().any(|r| r.event == "console.sign_in"));
}

async fn failed_sign_ins_are_rate_limited_per_address(app: TestApp) {
    let admin = app.token_with("ops", &["admin"]);
    for _ in 0..2 {
        let page = ConsoleClient::new(&app.base)
            .sign_in("scimhub_0000000000000000_x")
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    }
    // The limit is reached: even the right token waits.
    let page = ConsoleClient::new(&app.base).sign_in(&admin).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.body);
    assert!(page.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    assert!(session_cookie(&page.headers).is_none());
    let rows = audit(&app).await;
    assert!(rows.iter().any(|r| r.event == "console.sign_in.limited"));
    assert!(!rows.iter().any(|r| r.event == "console.sign_in"));
}

/// The tags of an HTML page (`<…>`), to check their attributes.
fn tags(html: &str) -> Vec<&str> {
    html.split('<')
        .skip(1)
        .filter_map(|rest| rest.split_once('>').map(|(tag, _)| tag))
        .collect()
}

async fn every_page_is_strict_about_scripts_frames_and_caching(app: TestApp) {
    let admin = app.token_with("ops", &["admin"]);
    let console = ConsoleClient::signed_in(&app.base, &admin).await;
    let anonymous = ConsoleClient::new(&app.base);
    let mut pages = vec![
        anonymous.get("/console/sign-in").await,
        anonymous.get("/console").await,
        anonymous.get("/console/assets/console.css").await,
        anonymous.get("/console/assets/console.js").await,
        console.get("/console/no-such-page").await,
        console.get("/console/users/no-such-user").await,
    ];
    for rule in protected()
        .iter()
        .filter(|r| r.method == actix_web::http::Method::GET)
    {
        if !rule.path.contains('{') {
            pages.push(console.get(&rule.path).await);
        }
    }
    for page in &pages {
        assert_eq!(page.header("content-security-policy"), Some(CSP));
        assert_eq!(page.header("x-frame-options"), Some("DENY"));
        assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
        let html = page
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/html"));
        if html {
            assert_eq!(page.header("cache-control"), Some("no-store"));
            for tag in tags(&page.body) {
                let lower = tag.to_ascii_lowercase();
                assert!(
                    !lower.contains(" style=") && lower != "style" && !lower.contains(" on"),
                    "inline style or handler in <{tag}>"
                );
                if lower.starts_with("script") {
                    assert!(
                        lower.contains("src=\"/console/assets/"),
                        "inline script: <{tag}>"
                    );
                }
            }
        }
    }
    let not_found = &pages[4];
    assert_eq!(not_found.status, StatusCode::NOT_FOUND);
    assert!(not_found.body.contains("There is no such console page"));
    // Error pages name the request (the server log's key), nothing more.
    for page in &pages[4..6] {
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        let id = page.header("x-request-id").unwrap();
        assert!(
            page.body
                .contains(&format!("<code id=\"request-id\">{id}</code>")),
            "{}",
            page.body
        );
    }
}

async fn hostile_names_render_as_text(app: TestApp) {
    let admin = app.token_with("ops", &["admin"]);
    let script = "<script>alert(1)</script>";
    let img = "\"><img src=x onerror=alert(1)>";
    let mut body = crate::support::user_body("mallory");
    body["displayName"] = json!(script);
    body["title"] = json!(img);
    let r = app.post("/Users", &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let user = r.body["id"].as_str().unwrap().to_string();
    let mut body = crate::support::user_body("eve");
    body["displayName"] = json!(img);
    app.post("/Users", &body).await;
    let group = app.create_group(script, &[&user]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let console = ConsoleClient::signed_in(&app.base, &admin).await;
    for path in [
        "/console/users".to_string(),
        "/console/users?q=alert".to_string(),
        format!("/console/users/{user}"),
        "/console/groups".to_string(),
        format!("/console/groups/{group}"),
    ] {
        let page = console.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(page.body.contains("alert(1)"), "{path} shows the names");
        assert!(
            !page.body.contains("<script>alert"),
            "{path}: {}",
            page.body
        );
        assert!(!page.body.contains("<img src=x"), "{path}");
        assert!(
            page.body
                .contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{path}: escaped, not dropped"
        );
    }
}

async fn the_console_can_be_turned_off(app: TestApp) {
    let page = ConsoleClient::new(&app.base).get("/console/sign-in").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let admin = app.token_with("ops", &["admin"]);
    let page = ConsoleClient::new(&app.base).sign_in(&admin).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
}

mod idle {
    use super::*;
    on_both_backends!(config = |c| c.console.idle_timeout_secs = 1; sessions_end_when_idle);
}

mod absolute {
    use super::*;
    on_both_backends!(config = |c| c.console.absolute_timeout_secs = 2; sessions_end_at_the_absolute_limit_however_busy);
}

mod limited {
    use super::*;
    on_both_backends!(config = |c| c.console.sign_in_failures_per_minute = 2; failed_sign_ins_are_rate_limited_per_address);
}

mod proxied {
    use super::*;
    on_both_backends!(config = |c| c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]; the_cookie_is_secure_behind_an_https_proxy);
}

mod off {
    use super::*;
    on_both_backends!(config = |c| c.console.enabled = false; the_console_can_be_turned_off);
}

on_both_backends!(
    config = super::keyed;
    every_console_route_needs_a_session,
    forms_without_the_sessions_token_change_nothing,
    sessions_end_with_their_token,
    sign_in_sets_a_strict_cookie_and_sign_out_ends_the_session,
    only_live_admin_credentials_sign_in,
    every_page_is_strict_about_scripts_frames_and_caching,
    hostile_names_render_as_text,
);

/// docs/console.md's route table is the console's route table.
#[test]
fn the_console_reference_lists_every_route() {
    let reference =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/console.md")).unwrap();
    let documented: BTreeSet<(String, String, String)> = reference
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            let [method, path, access] = cells.as_slice() else {
                return None;
            };
            let method = method.trim_matches('`');
            ["GET", "POST"].contains(&method).then(|| {
                (
                    method.to_string(),
                    path.trim_matches('`').to_string(),
                    access.trim_matches('`').to_string(),
                )
            })
        })
        .collect();
    let actual: BTreeSet<(String, String, String)> = console_route_table()
        .into_iter()
        .map(|r| {
            (
                r.method.to_string(),
                r.path,
                r.scope.unwrap_or("none").to_string(),
            )
        })
        .collect();
    assert_eq!(documented, actual);
}
