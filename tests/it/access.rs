//! Every route × every bad credential, and every route × a credential
//! lacking its scope. The routes come from `scimhub::http::route_table()`,
//! the very declarations the server mounts, so a route added later is
//! walked here without anyone listing it.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use scimhub::http::{RouteRule, SUBSCRIPTION_SECRET, route_table};
use scimhub::service::tokens::{self, ALL_SCOPES};
use serde_json::json;

use crate::on_both_backends;
use crate::support::TestApp;
use crate::support::app::Response;
use crate::support::events::{SigningKey, add_poll_subscription};
use crate::support::jwt::{
    Keys, RSA_ISSUER, alg_none, claims, hs256, keys, now, rs256, rsa_issuer,
};

/// Ids to put into path patterns: real ones while credentials are bad (a
/// request that slipped through would do real damage), unknown ones once
/// the credential is right.
struct Ids {
    user: String,
    group: String,
    token: String,
    /// A poll subscription and its secret (the poll route's credential).
    subscription: String,
    subscription_secret: String,
    _events_key: SigningKey,
}

fn concrete(rule: &RouteRule, ids: &Ids) -> String {
    spelled(rule, &rule.path, ids)
}

/// `pattern` (the rule's path or a variant spelling of it) with the ids the
/// rule's path calls for.
fn spelled(rule: &RouteRule, pattern: &str, ids: &Ids) -> String {
    let id = if rule.path.starts_with("/scim/v2/Users/") {
        ids.user.as_str()
    } else if rule.path.starts_with("/scim/v2/Groups/") {
        ids.group.as_str()
    } else if rule.path.starts_with("/scim/v2/ResourceTypes/") {
        "User"
    } else if rule.path.starts_with("/scim/v2/Schemas/") {
        "urn:ietf:params:scim:schemas:core:2.0:User"
    } else if rule.path.starts_with("/admin/v1/tokens/") {
        ids.token.as_str()
    } else if rule.path.starts_with("/events/v1/") {
        ids.subscription.as_str()
    } else {
        "x"
    };
    pattern.replace("{id}", id).replace("{name}", "x")
}

/// The SCIM path patterns tolerant clients send for a route (README
/// "Tolerated variants"): endpoint names in lower and upper case, and a
/// trailing slash.
fn variant_spellings(rule: &RouteRule) -> Vec<String> {
    let Some(rest) = rule.path.strip_prefix("/scim/v2") else {
        return Vec::new();
    };
    let respell = |case: fn(&str) -> String| {
        let segments: Vec<String> = rest
            .split('/')
            .map(|s| {
                if s.starts_with('{') {
                    s.to_string()
                } else {
                    case(s)
                }
            })
            .collect();
        format!("/scim/v2{}", segments.join("/"))
    };
    vec![
        respell(|s| s.to_ascii_lowercase()),
        respell(|s| s.to_ascii_uppercase()),
        format!("{}/", rule.path),
    ]
}

fn method(rule: &RouteRule) -> Method {
    Method::from_bytes(rule.method.as_str().as_bytes()).unwrap()
}

/// Sends a small JSON body to every route (it is ignored where none is read).
async fn call(app: &TestApp, method: Method, path: &str, authorization: Option<&str>) -> Response {
    let mut req = app
        .client()
        .request(method, format!("{}{path}", app.base))
        .header("content-type", "application/scim+json")
        .body(json!({"schemas": []}).to_string());
    if let Some(h) = authorization {
        req = req.header("authorization", h);
    }
    app.raw(req).await
}

fn protected() -> Vec<RouteRule> {
    route_table()
        .into_iter()
        .filter(|r| r.scope.is_some())
        .collect()
}

/// The tokens as stored, minus `last_used` (a successful authentication
/// may update it).
fn tokens_state(app: &TestApp) -> Vec<(String, String, Vec<String>, bool)> {
    app.store
        .list_tokens()
        .unwrap()
        .into_iter()
        .map(|t| (t.id, t.name, t.scopes, t.revoked.is_some()))
        .collect()
}

async fn start(default: &TestApp, keys: &Keys) -> (TestApp, Ids) {
    let issuer = rsa_issuer(keys);
    let events_key = SigningKey::ec();
    let app = TestApp::start_with(default.backend, |c| {
        c.jwt_issuers = vec![issuer];
        events_key.configure(c);
    })
    .await
    .unwrap();
    let (subscription, subscription_secret) = add_poll_subscription(&app, "access", "notice").await;
    let user = app.create_user("victim").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let group = app.create_group("Victims", &[&user]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let token = app.store.list_tokens().unwrap()[0].id.clone();
    let ids = Ids {
        user,
        group,
        token,
        subscription,
        subscription_secret,
        _events_key: events_key,
    };
    (app, ids)
}

/// Unknown ids (and no such subscription), for requests that get through.
fn unknown_ids(ids: &Ids) -> Ids {
    Ids {
        user: "no-such-user".into(),
        group: "no-such-group".into(),
        token: "0000000000000000".into(),
        subscription: "no-such-subscription".into(),
        subscription_secret: String::new(),
        _events_key: ids._events_key.clone(),
    }
}

fn jwt(keys: &Keys, iss: &str, aud: &str, exp: i64, scopes: &[&str]) -> String {
    rs256(
        keys,
        &claims(iss, aud, "matrix", exp, json!({"scope": scopes.join(" ")})),
    )
}

async fn assert_healthy(app: &TestApp) {
    let r = app.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

async fn every_route_refuses_every_bad_credential(default: TestApp) {
    let keys = keys();
    let (app, ids) = start(&default, &keys).await;
    let revoked = app.token_with("old", &ALL_SCOPES);
    tokens::revoke(
        app.store.as_ref(),
        &scimhub::store::Actor::system("test"),
        "old",
    )
    .unwrap();
    let wrong_secret = format!("{}x", &app.token[..app.token.len() - 1]);
    let later = now() + 600;
    let everything = &ALL_SCOPES[..];
    let good_claims = claims(
        RSA_ISSUER,
        "scimhub",
        "matrix",
        later,
        json!({"scope": everything.join(" ")}),
    );
    // Control: this issuer's tokens are accepted, so each refusal below is for its defect.
    let good = jwt(&keys, RSA_ISSUER, "scimhub", later, everything);
    let control = app.send(Method::GET, "/Users", Some(&good), None).await;
    assert_eq!(control.status, StatusCode::OK, "{}", control.text);

    let hostile: Vec<(&str, Option<String>)> = vec![
        ("no token", None),
        ("basic auth", Some("Basic dXNlcjpwYXNz".into())),
        ("empty bearer", Some("Bearer ".into())),
        ("scheme only", Some("Bearer".into())),
        ("garbage", Some("Bearer not-a-token".into())),
        (
            "unknown token",
            Some(
                "Bearer scimhub_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                    .into(),
            ),
        ),
        ("wrong secret", Some(format!("Bearer {wrong_secret}"))),
        ("revoked token", Some(format!("Bearer {revoked}"))),
        (
            "expired JWT",
            Some(format!(
                "Bearer {}",
                jwt(&keys, RSA_ISSUER, "scimhub", now() - 600, everything)
            )),
        ),
        (
            "JWT for another audience",
            Some(format!(
                "Bearer {}",
                jwt(&keys, RSA_ISSUER, "other-app", later, everything)
            )),
        ),
        (
            "JWT from an unknown issuer",
            Some(format!(
                "Bearer {}",
                jwt(&keys, "https://evil.example", "scimhub", later, everything)
            )),
        ),
        (
            "alg none",
            Some(format!("Bearer {}", alg_none(&good_claims))),
        ),
        (
            "HS256 keyed with the public key",
            Some(format!("Bearer {}", hs256(&keys.public_pem, &good_claims))),
        ),
    ];
    let routes = protected();
    assert!(routes.len() > 20, "the table lists the protected routes");
    let before = (app.snapshot(), tokens_state(&app));
    for rule in &routes {
        let path = concrete(rule, &ids);
        for (why, header) in &hostile {
            let r = call(&app, method(rule), &path, header.as_deref()).await;
            assert_eq!(
                r.status,
                StatusCode::UNAUTHORIZED,
                "{} {path} with {why}: {}",
                rule.method,
                r.text
            );
            r.assert_error(401, None);
            assert!(!r.body["detail"].as_str().unwrap_or_default().is_empty());
            assert_eq!(
                r.header("www-authenticate"),
                Some("Bearer realm=\"scimhub\""),
                "{} {path} with {why}",
                rule.method
            );
        }
    }
    assert_eq!(
        (app.snapshot(), tokens_state(&app)),
        before,
        "nothing changed"
    );
    assert_healthy(&app).await;
}

async fn every_route_needs_its_scope(default: TestApp) {
    let keys = keys();
    let (app, ids) = start(&default, &keys).await;
    let later = now() + 600;
    let all_but = |needed: &str| -> Vec<&str> {
        ALL_SCOPES
            .iter()
            .copied()
            .filter(|s| *s != needed)
            .collect()
    };
    let lacking_tokens: Vec<(&str, String)> = ALL_SCOPES
        .iter()
        .map(|s| {
            let name = format!("without-{}", s.replace(':', "-"));
            (*s, app.token_with(&name, &all_but(s)))
        })
        .collect();
    let every_scope = app.token_with("every-scope", &ALL_SCOPES);
    let before = (app.snapshot(), tokens_state(&app));
    for rule in &protected() {
        let needed = rule.scope.unwrap();
        if needed == SUBSCRIPTION_SECRET {
            // No token opens it, whatever its scopes: only the subscription's secret.
            let path = concrete(rule, &ids);
            let everything = jwt(&keys, RSA_ISSUER, "scimhub", later, &ALL_SCOPES);
            for credential in [&every_scope, &everything] {
                let bearer = format!("Bearer {credential}");
                let r = call(&app, method(rule), &path, Some(&bearer)).await;
                r.assert_error(401, None);
            }
            continue;
        }
        let api = &lacking_tokens.iter().find(|(s, _)| *s == needed).unwrap().1;
        let lacking = [
            ("API token", api.clone()),
            (
                "JWT",
                jwt(&keys, RSA_ISSUER, "scimhub", later, &all_but(needed)),
            ),
        ];
        let path = concrete(rule, &ids);
        for (kind, credential) in &lacking {
            let r = call(
                &app,
                method(rule),
                &path,
                Some(&format!("Bearer {credential}")),
            )
            .await;
            assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "{} {path}, {kind} without {needed}: {}",
                rule.method,
                r.text
            );
            r.assert_error(403, None);
            assert!(
                r.body["detail"].as_str().unwrap().contains(needed),
                "{}",
                r.text
            );
            assert!(r.header("www-authenticate").is_none());
        }
    }
    assert_eq!(
        (app.snapshot(), tokens_state(&app)),
        before,
        "nothing changed"
    );
    assert_healthy(&app).await;
}

/// With exactly the declared scope every route is reached: it is mounted
/// (no 404 "no such endpoint", no 405) and its guard asks for no more than
/// the table says. The ids are unknown and the bodies invalid, so nothing
/// changes.
async fn every_route_is_reached_with_its_scope(default: TestApp) {
    let keys = keys();
    let (app, ids) = start(&default, &keys).await;
    let unknown = unknown_ids(&ids);
    let by_scope: Vec<(&str, String)> = ALL_SCOPES
        .iter()
        .map(|s| {
            (
                *s,
                app.token_with(&format!("only-{}", s.replace(':', "-")), &[s]),
            )
        })
        .collect();
    let before = (app.snapshot(), tokens_state(&app));
    for rule in &protected() {
        let (token, path) = if rule.scope == Some(SUBSCRIPTION_SECRET) {
            (&ids.subscription_secret, concrete(rule, &ids))
        } else {
            let token = &by_scope
                .iter()
                .find(|(s, _)| Some(*s) == rule.scope)
                .unwrap()
                .1;
            (token, concrete(rule, &unknown))
        };
        let r = call(&app, method(rule), &path, Some(&format!("Bearer {token}"))).await;
        let status = r.status.as_u16();
        assert!(
            !matches!(status, 401 | 403 | 405) && status < 500 || status == 501,
            "{} {path} with {:?}: {status} {}",
            rule.method,
            rule.scope,
            r.text
        );
        assert_ne!(
            r.body["detail"], "no such endpoint",
            "{} {path} is mounted",
            rule.method
        );
    }
    assert_eq!(
        (app.snapshot(), tokens_state(&app)),
        before,
        "nothing changed"
    );
    assert_healthy(&app).await;
}

/// Every tolerated spelling of every SCIM route is that route behind the
/// same guard: 401 without a credential, 403 without the route's scope,
/// and reached (neither refused nor unknown) with exactly that scope.
async fn variant_spellings_are_guarded_like_their_routes(default: TestApp) {
    let keys = keys();
    let (app, ids) = start(&default, &keys).await;
    let unknown = unknown_ids(&ids);
    let only = |s: &str| app.token_with(&format!("variant-only-{}", s.replace(':', "-")), &[s]);
    let (reader, writer) = (only(tokens::SCOPE_READ), only(tokens::SCOPE_WRITE));
    let before = (app.snapshot(), tokens_state(&app));
    let mut walked = 0;
    for rule in protected()
        .iter()
        .filter(|r| r.path.starts_with("/scim/v2/"))
    {
        let (with_scope, without) = match rule.scope {
            Some(tokens::SCOPE_READ) => (&reader, &writer),
            _ => (&writer, &reader),
        };
        for pattern in variant_spellings(rule) {
            let what = format!("{} {pattern}", rule.method);
            let r = call(&app, method(rule), &spelled(rule, &pattern, &ids), None).await;
            r.assert_error(401, None);
            let bearer = format!("Bearer {without}");
            let path = spelled(rule, &pattern, &ids);
            let r = call(&app, method(rule), &path, Some(&bearer)).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{what}: {}", r.text);
            let bearer = format!("Bearer {with_scope}");
            let path = spelled(rule, &pattern, &unknown);
            let r = call(&app, method(rule), &path, Some(&bearer)).await;
            let status = r.status.as_u16();
            assert!(
                !matches!(status, 401 | 403 | 405) && status < 500 || status == 501,
                "{what}: {status} {}",
                r.text
            );
            assert_ne!(r.body["detail"], "no such endpoint", "{what} is mounted");
            walked += 1;
        }
    }
    assert!(walked > 60, "only {walked} spellings walked");
    assert_eq!(
        (app.snapshot(), tokens_state(&app)),
        before,
        "nothing changed"
    );
    assert_healthy(&app).await;
}

/// Only `/healthz`, `/livez` and the events signing key (public key
/// material) are public, and each API's guard matches the scopes the table
/// declares for it; the poll endpoint takes the subscription's secret.
#[test]
fn the_table_declares_a_scope_for_every_api_route() {
    let table = route_table();
    let public: Vec<_> = table
        .iter()
        .filter(|r| r.scope.is_none())
        .map(|r| r.path.as_str())
        .collect();
    assert_eq!(public, ["/healthz", "/livez", "/.well-known/jwks.json"]);
    for rule in &table {
        if rule.path.starts_with("/events/v1/") {
            assert_eq!(rule.scope, Some(SUBSCRIPTION_SECRET), "{rule:?}");
        } else if rule.path.starts_with("/admin/v1/") || rule.path == "/metrics" {
            assert_eq!(rule.scope, Some(tokens::SCOPE_ADMIN), "{rule:?}");
        } else if rule.path.starts_with("/scim/v2/") {
            assert!(
                matches!(rule.scope, Some(tokens::SCOPE_READ | tokens::SCOPE_WRITE)),
                "{rule:?}"
            );
        } else {
            assert!(public.contains(&rule.path.as_str()), "{rule:?}");
        }
    }
    let unique: BTreeSet<_> = table
        .iter()
        .map(|r| (r.method.to_string(), r.path.clone()))
        .collect();
    assert_eq!(unique.len(), table.len(), "no route is declared twice");
}

/// The admin API reference's route table is the route table.
#[test]
fn the_admin_api_reference_lists_every_route() {
    let reference =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/admin-api.md")).unwrap();
    let documented: BTreeSet<(String, String, String)> = reference
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            let [method, path, scope] = cells.as_slice() else {
                return None;
            };
            let method = method.trim_matches('`');
            let known = ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method);
            known.then(|| {
                (
                    method.to_string(),
                    path.trim_matches('`').to_string(),
                    scope.trim_matches('`').to_string(),
                )
            })
        })
        .collect();
    let actual: BTreeSet<(String, String, String)> = route_table()
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

on_both_backends!(
    every_route_refuses_every_bad_credential,
    every_route_needs_its_scope,
    every_route_is_reached_with_its_scope,
    variant_spellings_are_guarded_like_their_routes,
);
