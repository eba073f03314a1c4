//! External JWT bearer tokens: accepted only from a configured issuer, for
//! its audience, with its algorithm and key, inside their lifetime.

use reqwest::{Method, StatusCode};
use scimhub::config::JwtIssuerConfig;
use serde_json::json;

use crate::on_both_backends;
use crate::support::jwt::{HMAC_ISSUER, RSA_ISSUER, claims, hs256, keys, now, rs256};
use crate::support::{TestApp, user_body};

async fn jwts_are_checked_fully(default: TestApp) {
    let keys = keys();
    let (public_path, secret_path) = (keys.public_path.clone(), keys.secret_path.clone());
    let app = TestApp::start_with(default.backend, move |c| {
        c.jwt_issuers = vec![
            JwtIssuerConfig {
                issuer: RSA_ISSUER.into(),
                audiences: vec!["scimhub".into()],
                algorithms: vec!["RS256".into()],
                key_files: vec![public_path],
                jwks_file: None,
                secret_env: None,
                secret_file: None,
                leeway_secs: 5,
                subject: Some("userName".into()),
            },
            JwtIssuerConfig {
                issuer: HMAC_ISSUER.into(),
                audiences: vec!["scimhub".into()],
                algorithms: vec!["HS256".into()],
                key_files: vec![],
                jwks_file: None,
                secret_env: None,
                secret_file: Some(secret_path),
                leeway_secs: 5,
                subject: None,
            },
        ];
    })
    .await
    .unwrap();
    let me = app.create_user("ada@example.com").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let later = now() + 600;
    let get = |token: String| {
        let app = &app;
        async move { app.send(Method::GET, "/Users", Some(&token), None).await }
    };

    // A good RS256 token with read scope reads, cannot write, and has a /Me.
    let reader = rs256(
        &keys,
        &claims(
            RSA_ISSUER,
            "scimhub",
            "ada@example.com",
            later,
            json!({"scope": "openid scim:read"}),
        ),
    );
    assert_eq!(get(reader.clone()).await.status, StatusCode::OK);
    let write = app
        .send(
            Method::POST,
            "/Users",
            Some(&reader),
            Some(user_body("x").to_string().into_bytes()),
        )
        .await;
    write.assert_error(403, None);
    let mine = app.send(Method::GET, "/Me", Some(&reader), None).await;
    assert_eq!(mine.body["id"], me.as_str(), "{}", mine.text);

    // HS256 from the scripts issuer, scopes in `scp`, writes with its name as actor.
    let secret = b"a-long-random-hmac-secret-for-tests-only";
    let script = hs256(
        secret,
        &claims(
            HMAC_ISSUER,
            "scimhub",
            "nightly-job",
            later,
            json!({"scp": ["scim:read", "scim:write"]}),
        ),
    );
    let created = app
        .send(
            Method::POST,
            "/Users",
            Some(&script),
            Some(user_body("from-jwt").to_string().into_bytes()),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let last = app.store.changes_after(0, 100).unwrap().pop().unwrap();
    assert_eq!(last.actor, format!("jwt:{HMAC_ISSUER}:nightly-job"));

    let before = app.snapshot();
    let refused = [
        (
            "expired",
            rs256(
                &keys,
                &claims(
                    RSA_ISSUER,
                    "scimhub",
                    "a",
                    now() - 600,
                    json!({"scope": "scim:read"}),
                ),
            ),
        ),
        (
            "not yet valid",
            rs256(
                &keys,
                &claims(
                    RSA_ISSUER,
                    "scimhub",
                    "a",
                    later,
                    json!({"scope": "scim:read", "nbf": now() + 600}),
                ),
            ),
        ),
        (
            "wrong audience",
            rs256(
                &keys,
                &claims(
                    RSA_ISSUER,
                    "other-app",
                    "a",
                    later,
                    json!({"scope": "scim:read"}),
                ),
            ),
        ),
        (
            "wrong issuer",
            rs256(
                &keys,
                &claims(
                    "https://evil.example",
                    "scimhub",
                    "a",
                    later,
                    json!({"scope": "scim:read"}),
                ),
            ),
        ),
        (
            "HS256 where RS256 is configured, keyed with the public key",
            hs256(
                &keys.public_pem,
                &claims(
                    RSA_ISSUER,
                    "scimhub",
                    "a",
                    later,
                    json!({"scope": "scim:read"}),
                ),
            ),
        ),
        (
            "wrong HMAC secret",
            hs256(
                b"guessed",
                &claims(
                    HMAC_ISSUER,
                    "scimhub",
                    "a",
                    later,
                    json!({"scope": "scim:read"}),
                ),
            ),
        ),
        ("alg none", {
            use base64::Engine;
            let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            let head = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
            let body = b64.encode(
                claims(
                    RSA_ISSUER,
                    "scimhub",
                    "a",
                    later,
                    json!({"scope": "scim:read"}),
                )
                .to_string(),
            );
            format!("{head}.{body}.")
        }),
        ("tampered payload", {
            let t = rs256(
                &keys,
                &claims(
                    RSA_ISSUER,
                    "scimhub",
                    "a",
                    later,
                    json!({"scope": "scim:read"}),
                ),
            );
            let mut parts: Vec<String> = t.split('.').map(str::to_string).collect();
            use base64::Engine;
            let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            parts[1] = b64.encode(
                claims(
                    RSA_ISSUER,
                    "scimhub",
                    "a",
                    later,
                    json!({"scope": "scim:read scim:write"}),
                )
                .to_string(),
            );
            parts.join(".")
        }),
    ];
    for (why, token) in refused {
        let r = get(token.clone()).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{why}: {}", r.text);
        r.assert_error(401, None);
        let w = app
            .send(
                Method::POST,
                "/Users",
                Some(&token),
                Some(user_body(why).to_string().into_bytes()),
            )
            .await;
        assert_eq!(w.status, StatusCode::UNAUTHORIZED, "{why}");
    }
    assert_eq!(app.snapshot(), before);
}

on_both_backends!(jwts_are_checked_fully);
