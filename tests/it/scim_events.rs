//! SCIM events (RFC 9967): Security Event Tokens polled (RFC 8936) from a
//! test server and pushed (RFC 8935) by a live `scimhub serve` to a
//! receiver written here, which verifies every signature against the
//! published JWKS with a JOSE library.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};

use crate::lifecycle::{admin_token, source_database};
use crate::on_both_backends;
use crate::support::events::{
    Answer, SetReceiver, SigningKey, add_poll_subscription, event_uris, jwks, verify,
};
use crate::support::live::{LiveServer, scimhub};
use crate::support::{Backend, TestApp, eventually, eventually_blocking, user_body};

const PROV: &str = "urn:ietf:params:scim:event:prov";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

async fn start(
    default: &TestApp,
    key: &SigningKey,
    more: impl FnOnce(&mut scimhub::config::Config),
) -> TestApp {
    TestApp::start_with(default.backend, |c| {
        key.configure(c);
        c.webhooks.subscription_poll_interval_ms = 20;
        more(c);
    })
    .await
    .unwrap()
}

async fn poll(app: &TestApp, id: &str, secret: &str, body: Value) -> crate::support::app::Response {
    let req = app
        .client()
        .post(format!("{}/events/v1/poll/{id}", app.base))
        .bearer_auth(secret)
        .header("content-type", "application/json")
        .body(body.to_string());
    app.raw(req).await
}

/// The jtis of a poll answer, in order, each SET verified and its claims.
async fn polled(
    app: &TestApp,
    id: &str,
    secret: &str,
    body: Value,
) -> (Vec<(String, Value)>, bool) {
    let r = poll(app, id, secret, body).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let keys = jwks(&app.base).await;
    let audience = format!("{}/events/v1/poll/{id}", app.config.public_root());
    let sets = r.body["sets"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(jti, jws)| {
            let (_, claims) = verify(
                &keys,
                jws.as_str().unwrap(),
                &app.config.events_issuer(),
                &audience,
            )
            .unwrap_or_else(|e| panic!("SET {jti}: {e}"));
            assert_eq!(claims["jti"], jti.as_str());
            (jti.clone(), claims)
        })
        .collect();
    (sets, r.body["moreAvailable"].as_bool().unwrap())
}

/// Polls and acknowledges until nothing is left; every SET's claims in order.
async fn drain(app: &TestApp, id: &str, secret: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut ack: Vec<String> = Vec::new();
    loop {
        let (sets, _) = polled(
            app,
            id,
            secret,
            json!({"ack": ack, "returnImmediately": true}),
        )
        .await;
        if sets.is_empty() {
            return all;
        }
        ack = sets.iter().map(|(jti, _)| jti.clone()).collect();
        all.extend(sets.into_iter().map(|(_, c)| c));
    }
}

async fn subscriptions(app: &TestApp) -> Vec<Value> {
    let admin = app.token_with(&format!("lister-{}", uuid::Uuid::new_v4()), &["admin"]);
    let r = app
        .send(Method::GET, "/admin/v1/subscriptions", Some(&admin), None)
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    r.body["subscriptions"].as_array().unwrap().clone()
}

async fn subscription(app: &TestApp, id: &str) -> Value {
    subscriptions(app)
        .await
        .into_iter()
        .find(|s| s["id"] == id)
        .unwrap()
}

fn patch(ops: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": ops})
}

async fn send_patch(app: &TestApp, path: &str, ops: Value) {
    let r = app
        .send(
            Method::PATCH,
            path,
            Some(&app.token),
            Some(patch(ops).to_string().into_bytes()),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
}

fn seq(claims: &Value) -> i64 {
    claims["txn"].as_str().unwrap().parse().unwrap()
}

/// Polled SETs stay available until acknowledged, in change order; acks
/// may come out of order, `setErrs` acknowledge too and are shown to the
/// admin, `maxEvents` bounds an answer and `moreAvailable` says what
/// waits. RS256 here, verified against the published JWKS.
/// RFC 9967 §4: `securityEvents` in the ServiceProviderConfig names the
/// event URIs a server with a signing key issues, and is absent without one.
async fn service_provider_config_advertises_events_only_when_signed(default: TestApp) {
    let spc = default.get("/ServiceProviderConfig").await.body;
    assert!(spc.get("securityEvents").is_none(), "{spc}");
    let app = start(&default, &SigningKey::rsa(), |_| {}).await;
    let spc = app.get("/ServiceProviderConfig").await.body;
    assert_eq!(spc["securityEvents"]["asyncRequest"], "none", "{spc}");
    let uris: Vec<&str> = spc["securityEvents"]["eventUris"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect();
    for op in [
        "create:full",
        "create:notice",
        "patch:full",
        "put:notice",
        "delete",
        "activate",
        "deactivate",
    ] {
        assert!(
            uris.contains(&format!("{PROV}:{op}").as_str()),
            "{op} in {uris:?}"
        );
    }
}

async fn polled_sets_stay_until_acknowledged(default: TestApp) {
    let key = SigningKey::rsa();
    let app = start(&default, &key, |c| {
        c.webhooks.subscription_batch = 3;
        c.events.poll_wait_ms = 5000;
    })
    .await;
    let published = jwks(&app.base).await;
    assert_eq!(published.keys.len(), 1);
    assert!(matches!(
        published.keys[0].algorithm,
        jsonwebtoken::jwk::AlgorithmParameters::RSA(_)
    ));
    let (id, secret) = add_poll_subscription(&app, "audit", "full").await;
    let mut users = Vec::new();
    for name in ["u1", "u2", "u3", "u4"] {
        users.push(
            app.create_user(name).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }

    let (first, more) = polled(
        &app,
        &id,
        &secret,
        json!({"returnImmediately": true, "maxEvents": 2}),
    )
    .await;
    assert!(more);
    let jtis: Vec<&str> = first.iter().map(|(j, _)| j.as_str()).collect();
    assert_eq!(jtis.len(), 2);
    let claims = &first[0].1;
    assert_eq!(
        claims["sub_id"],
        json!({"format": "scim", "uri": format!("/Users/{}", users[0]), "id": users[0]})
    );
    let created = &claims["events"][format!("{PROV}:create:full")];
    assert_eq!(created["version"], "W/\"1\"");
    assert_eq!(created["data"]["userName"], "u1");
    assert_eq!(created["data"]["id"], users[0].as_str());
    assert_eq!(claims["jti"], format!("{id}:{}", seq(claims)));
    assert!(seq(&first[1].1) > seq(claims), "oldest change first");

    // Not acknowledged: the same SETs again.
    let (again, _) = polled(
        &app,
        &id,
        &secret,
        json!({"returnImmediately": true, "maxEvents": 2}),
    )
    .await;
    let again: Vec<&str> = again.iter().map(|(j, _)| j.as_str()).collect();
    assert_eq!(again, jtis);

    // The second acknowledged alone: the first stays, the third comes.
    let (next, _) = polled(
        &app,
        &id,
        &secret,
        json!({"ack": [jtis[1]], "returnImmediately": true, "maxEvents": 2}),
    )
    .await;
    let next: Vec<String> = next.into_iter().map(|(j, _)| j).collect();
    assert_eq!(next[0], jtis[0]);
    assert_ne!(next[1], jtis[1]);
    let third = next[1].clone();

    let (rest, more) = polled(
        &app,
        &id,
        &secret,
        json!({
            "ack": [jtis[0]],
            "setErrs": {third.clone(): {"err": "invalid_subject", "description": "no such account here"}},
            "returnImmediately": true,
        }),
    )
    .await;
    assert_eq!(rest.len(), 1);
    assert!(!more);
    assert_eq!(rest[0].1["sub_id"]["id"], users[3].as_str());
    let shown = subscription(&app, &id).await;
    let error = shown["lastError"].as_str().unwrap();
    assert!(
        error.contains(&third) && error.contains("invalid_subject: no such account here"),
        "{error}"
    );
    assert_eq!(
        shown["cursor"],
        (seq(&rest[0].1) - 1).to_string(),
        "the acknowledged prefix is behind the cursor"
    );

    let fourth = rest[0].0.clone();
    for _ in 0..2 {
        // A repeated acknowledgement (a lost answer) is no error.
        let (none, more) = polled(
            &app,
            &id,
            &secret,
            json!({"ack": [fourth], "returnImmediately": true}),
        )
        .await;
        assert!(none.is_empty() && !more);
    }
    let latest = app.store.latest_change().unwrap();
    assert_eq!(subscription(&app, &id).await["cursor"], latest.to_string());

    // More than webhooks.subscription_batch asked for: one batch, more waiting.
    for name in ["u5", "u6", "u7", "u8"] {
        app.create_user(name).await;
    }
    let (batch, more) = polled(
        &app,
        &id,
        &secret,
        json!({"returnImmediately": true, "maxEvents": 50}),
    )
    .await;
    assert_eq!(batch.len(), 3);
    assert!(more);
    let (none, more) = polled(
        &app,
        &id,
        &secret,
        json!({"returnImmediately": true, "maxEvents": 0}),
    )
    .await;
    assert!(none.is_empty() && more);
    assert_eq!(drain(&app, &id, &secret).await.len(), 4);

    // Without returnImmediately a poll waits for the next change.
    let waiting = {
        let (base, id, secret) = (app.base.clone(), id.clone(), secret.clone());
        tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("{base}/events/v1/poll/{id}"))
                .bearer_auth(secret)
                .json(&json!({"returnImmediately": false}))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    };
    let late = app.create_user("late").await;
    let answer = waiting.await.unwrap();
    let sets = answer["sets"].as_object().unwrap();
    assert_eq!(sets.len(), 1, "{answer}");
    let jws = sets.values().next().unwrap().as_str().unwrap();
    let audience = format!("{}/events/v1/poll/{id}", app.config.public_root());
    let (header, claims) = verify(&published, jws, &app.config.events_issuer(), &audience).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert_eq!(claims["sub_id"]["id"], late["id"]);
}

/// `full` sends the resource while it is still the version the change
/// made (else a notice); `notice` sends attribute names only; a change of
/// `active` adds activate / deactivate to the same SET; deletions carry
/// nothing; the resource-type scope holds.
async fn full_and_notice_modes_and_activation(default: TestApp) {
    let key = SigningKey::ec();
    let app = start(&default, &key, |_| {}).await;
    let (replica, replica_secret) = add_poll_subscription(&app, "replica", "full").await;
    let admin = app.token_with("crm-admin", &["admin"]);
    let body = json!({"name": "crm", "format": "set", "delivery": "poll", "mode": "notice", "resourceTypes": ["Users"]});
    let r = app
        .send(
            Method::POST,
            "/admin/v1/subscriptions",
            Some(&admin),
            Some(body.to_string().into_bytes()),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let (crm, crm_secret) = (
        r.body["id"].as_str().unwrap().to_string(),
        r.body["secret"].as_str().unwrap().to_string(),
    );

    let mut alice = user_body("alice");
    alice["active"] = json!(true);
    alice["externalId"] = json!("ext-alice");
    let r = app.post("/Users", &alice).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let alice_id = r.body["id"].as_str().unwrap().to_string();
    let path = format!("/Users/{alice_id}");

    let sets = drain(&app, &replica, &replica_secret).await;
    assert_eq!(sets.len(), 1);
    assert_eq!(
        event_uris(&sets[0]),
        [format!("{PROV}:create:full"), format!("{PROV}:activate")]
    );
    assert_eq!(sets[0]["sub_id"]["externalId"], "ext-alice");
    assert_eq!(
        sets[0]["events"][format!("{PROV}:create:full")]["data"]["active"],
        true
    );

    // Two changes before the receiver looks: the first is a notice (the
    // resource has moved on), the second carries the resource.
    send_patch(
        &app,
        &path,
        json!([{"op": "replace", "path": "name.givenName", "value": "Alicia"}]),
    )
    .await;
    send_patch(
        &app,
        &path,
        json!([{"op": "replace", "path": "active", "value": false}]),
    )
    .await;
    let sets = drain(&app, &replica, &replica_secret).await;
    assert_eq!(event_uris(&sets[0]), [format!("{PROV}:patch:notice")]);
    assert_eq!(
        sets[0]["events"][format!("{PROV}:patch:notice")],
        json!({"version": "W/\"2\"", "attributes": ["name"]})
    );
    assert_eq!(
        event_uris(&sets[1]),
        [format!("{PROV}:patch:full"), format!("{PROV}:deactivate")]
    );
    let data = &sets[1]["events"][format!("{PROV}:patch:full")]["data"];
    assert_eq!(
        (data["active"].clone(), data["name"]["givenName"].clone()),
        (json!(false), json!("Alicia"))
    );
    assert_eq!(data["meta"]["version"], "W/\"3\"");

    let mut replaced = user_body("alice");
    replaced["active"] = json!(true);
    replaced["title"] = json!("Engineer");
    let r = app.put(&path, &replaced).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let group = app.create_group("Sales", &[&alice_id]).await;
    let group_id = group["id"].as_str().unwrap();
    assert_eq!(app.delete(&path).await.status.as_u16(), 204);

    let sets = drain(&app, &replica, &replica_secret).await;
    let seen: Vec<(String, Vec<String>)> = sets
        .iter()
        .map(|c| {
            (
                c["sub_id"]["uri"].as_str().unwrap().to_string(),
                event_uris(c),
            )
        })
        .collect();
    let user_uri = format!("/Users/{alice_id}");
    let group_uri = format!("/Groups/{group_id}");
    assert_eq!(
        seen,
        [
            (
                user_uri.clone(),
                vec![format!("{PROV}:put:notice"), format!("{PROV}:activate")]
            ),
            (user_uri.clone(), vec![format!("{PROV}:patch:notice")]),
            (group_uri.clone(), vec![format!("{PROV}:create:notice")]),
            (group_uri.clone(), vec![format!("{PROV}:patch:full")]),
            (user_uri.clone(), vec![format!("{PROV}:delete")]),
        ],
        "{sets:#?}"
    );
    assert_eq!(
        sets[1]["events"][format!("{PROV}:patch:notice")]["attributes"],
        json!(["groups"])
    );
    assert_eq!(sets[4]["events"], json!({format!("{PROV}:delete"): {}}));
    assert_eq!(
        sets[4]["sub_id"],
        json!({"format": "scim", "uri": user_uri, "id": alice_id})
    );
    let txns: Vec<i64> = sets.iter().map(seq).collect();
    assert!(txns.windows(2).all(|w| w[0] < w[1]), "{txns:?}");

    // Notice mode, Users only: names of what changed, never the resource.
    let sets = drain(&app, &crm, &crm_secret).await;
    assert!(
        sets.iter()
            .all(|c| c["sub_id"]["uri"].as_str().unwrap().starts_with("/Users/"))
    );
    let by_uri: Vec<(Vec<String>, Value)> = sets
        .iter()
        .map(|c| {
            let uris = event_uris(c);
            let payload = c["events"][&uris[0]].clone();
            (uris, payload)
        })
        .collect();
    assert_eq!(by_uri.len(), 6, "{sets:#?}");
    assert_eq!(
        by_uri[0].0,
        [format!("{PROV}:create:notice"), format!("{PROV}:activate")]
    );
    let created: Vec<&str> = by_uri[0].1["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for name in ["active", "emails", "externalId", "name", "userName"] {
        assert!(created.contains(&name), "{created:?}");
    }
    assert!(by_uri[0].1.get("data").is_none());
    assert_eq!(
        by_uri[2],
        (
            vec![format!("{PROV}:patch:notice"), format!("{PROV}:deactivate")],
            json!({"version": "W/\"3\"", "attributes": ["active"]})
        )
    );
    let put = &by_uri[3].1["attributes"];
    assert_eq!(put, &json!(["active", "externalId", "name", "title"]));
    assert_eq!(by_uri[5].0, [format!("{PROV}:delete")]);
}

/// Wrong subscription requests and wrong polls are refused with a clear
/// answer, and none of them changes anything.
async fn bad_input_changes_nothing(default: TestApp) {
    let key = SigningKey::ec();
    let app = start(&default, &key, |_| {}).await;
    let admin = app.token_with("bad-admin", &["admin"]);
    let add = |body: Value| {
        let (app, admin) = (&app, admin.clone());
        async move {
            app.send(
                Method::POST,
                "/admin/v1/subscriptions",
                Some(&admin),
                Some(body.to_string().into_bytes()),
            )
            .await
        }
    };
    let refused = [
        (
            json!({"name": "a", "format": "xml", "url": "https://r.example"}),
            "unknown format \"xml\": use webhook or set",
        ),
        (
            json!({"name": "a", "format": "set", "delivery": "pigeon", "url": "https://r.example"}),
            "unknown delivery \"pigeon\": use push or poll",
        ),
        (
            json!({"name": "a", "format": "set", "mode": "brief", "url": "https://r.example"}),
            "unknown mode \"brief\": use full or notice",
        ),
        (
            json!({"name": "a", "delivery": "poll"}),
            "poll delivery is for SCIM events",
        ),
        (
            json!({"name": "a", "url": "https://r.example", "mode": "notice"}),
            "modes are for SCIM events",
        ),
        (
            json!({"name": "a", "format": "set", "delivery": "poll", "url": "https://r.example"}),
            "a poll subscription has no URL",
        ),
        (
            json!({"name": "a", "format": "set"}),
            "needs the receiver's URL",
        ),
        (
            json!({"name": "a", "format": "set", "url": "https://r.example", "secret": "has spaces in it, sixteen+"}),
            "bearer token",
        ),
        (
            json!({"name": "a", "format": "set", "url": "https://r.example", "audience": "x"}),
            "unknown field `audience`",
        ),
    ];
    for (body, expected) in refused {
        let r = add(body.clone()).await;
        r.assert_error(400, Some("invalidValue"));
        assert!(
            r.body["detail"].as_str().unwrap().contains(expected),
            "{body}: {}",
            r.text
        );
    }
    let out = app
        .cli(&[
            "subscription",
            "add",
            "--name",
            "a",
            "--format",
            "xml",
            "--url",
            "https://r.example",
        ])
        .await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unknown format \"xml\""),
        "{out:?}"
    );
    assert!(subscriptions(&app).await.is_empty(), "nothing was added");

    let (id, secret) = add_poll_subscription(&app, "feed", "full").await;
    let r = add(json!({"name": "pushed", "format": "set", "url": "https://r.example", "secret": "pushed-secret-0123456789"})).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let pushed = r.body["id"].as_str().unwrap().to_string();
    app.create_user("someone").await;
    let (expected, _) = polled(&app, &id, &secret, json!({"returnImmediately": true})).await;
    assert_eq!(expected.len(), 1);
    let jti = expected[0].0.clone();
    let before = (app.snapshot(), subscriptions(&app).await);

    let denied = [
        (id.as_str(), Some("not-the-secret-at-all")),
        (id.as_str(), Some(app.token.as_str())),
        (id.as_str(), Some(admin.as_str())),
        (id.as_str(), None),
        ("no-such-subscription", Some(secret.as_str())),
        (pushed.as_str(), Some(secret.as_str())),
    ];
    for (target, credential) in denied {
        let mut req = app
            .client()
            .post(format!("{}/events/v1/poll/{target}", app.base))
            .json(&json!({"ack": [jti], "returnImmediately": true}));
        if let Some(c) = credential {
            req = req.bearer_auth(c);
        }
        let r = app.raw(req).await;
        r.assert_error(401, None);
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer realm=\"scimhub\"")
        );
    }
    let bad_polls = [
        (json!("not an object"), "not a poll request"),
        (
            json!({"ack": jti, "returnImmediately": true}),
            "not a poll request",
        ),
        (json!({"acks": [jti]}), "unknown field `acks`"),
        (
            json!({"ack": [jti, "another-stream:1"]}),
            "\"another-stream:1\" is not a jti of this stream",
        ),
        (
            json!({"ack": [jti, format!("{id}:999999")]}),
            "is not a jti of this stream",
        ),
        (
            json!({"ack": [jti], "setErrs": {jti.clone(): "broken"}}),
            "setErrs",
        ),
        (json!({"maxEvents": -1}), "not a poll request"),
    ];
    for (body, expected) in bad_polls {
        let r = poll(&app, &id, &secret, body.clone()).await;
        assert_eq!(r.status.as_u16(), 400, "{body}: {}", r.text);
        assert_eq!(r.body["err"], "invalid_request", "{}", r.text);
        assert!(
            r.body["description"].as_str().unwrap().contains(expected),
            "{body}: {}",
            r.text
        );
    }
    // A push subscription is not polled, even with its own secret.
    let r = poll(&app, &pushed, "pushed-secret-0123456789", json!({})).await;
    assert_eq!(r.status.as_u16(), 400, "{}", r.text);
    assert!(
        r.body["description"]
            .as_str()
            .unwrap()
            .contains("is not polled"),
        "{}",
        r.text
    );

    assert_eq!(
        (app.snapshot(), subscriptions(&app).await),
        before,
        "nothing changed"
    );
    let (still, _) = polled(&app, &id, &secret, json!({"returnImmediately": true})).await;
    assert_eq!(still[0].0, jti, "nothing was acknowledged");

    // Without a signing key: no SET subscriptions, no published key.
    let unsigned = TestApp::start_with(default.backend, |c| {
        c.secret_key = Some(scimhub::crypto::SecretKey([7; 32]))
    })
    .await
    .unwrap();
    let admin = unsigned.token_with("admin", &["admin"]);
    let body = json!({"name": "a", "format": "set", "delivery": "poll"});
    let r = unsigned
        .send(
            Method::POST,
            "/admin/v1/subscriptions",
            Some(&admin),
            Some(body.to_string().into_bytes()),
        )
        .await;
    r.assert_error(501, None);
    assert!(r.text.contains("events.signing_key_file"), "{}", r.text);
    assert!(unsigned.hooks.list_subscriptions().unwrap().is_empty());
    assert!(jwks(&unsigned.base).await.keys.is_empty());
}

/// A key file that is missing, not a key, or only a public key stops
/// `serve` and the CLI with an error naming `events.signing_key_file`.
async fn a_bad_signing_key_stops_serve_and_the_cli(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let public = dir.path().join("public.pem");
    std::fs::write(
        &public,
        rcgen::KeyPair::generate().unwrap().public_key_pem(),
    )
    .unwrap();
    let missing = dir.path().join("missing.pem");
    for (file, expected) in [
        (&missing, "cannot read it"),
        (&garbage, "not a PEM private key"),
        (&public, "not a PEM private key"),
    ] {
        let file = file.display().to_string();
        let port = crate::support::live::free_port().to_string();
        let listen = format!("127.0.0.1:{port}");
        let runs: [Vec<&str>; 2] = [
            vec!["serve", "--listen", &listen],
            vec![
                "subscription",
                "add",
                "--name",
                "x",
                "--format",
                "set",
                "--delivery",
                "poll",
            ],
        ];
        for args in runs {
            let out = scimhub()
                .args(&args)
                .args(["--database", &app.database_url])
                .env("SCIMHUB_EVENTS_SIGNING_KEY_FILE", &file)
                .env("SCIMHUB_SECRET_KEY", crate::support::live::SECRET_KEY_HEX)
                .env("SCIMHUB_LOG", "error")
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{args:?} with {file}");
            assert!(
                stderr.contains("events.signing_key_file (SCIMHUB_EVENTS_SIGNING_KEY_FILE)")
                    && stderr.contains(&file)
                    && stderr.contains(expected),
                "{args:?}: {stderr}"
            );
        }
    }
    assert!(app.hooks.list_subscriptions().unwrap().is_empty());
}

/// Agents are SCIM events like any resource: a subscription scoped to
/// `Agents` gets the agent's SET (with the resource, in `full` mode) and
/// not a user's.
async fn agent_changes_are_scim_events(default: TestApp) {
    let key = SigningKey::ec();
    let app = start(&default, &key, |_| {}).await;
    let admin = app.token_with("agents-admin", &["admin"]);
    let body = json!({"name": "agents", "format": "set", "delivery": "poll", "mode": "full",
                      "resourceTypes": ["Agents"]});
    let r = app
        .send(
            Method::POST,
            "/admin/v1/subscriptions",
            Some(&admin),
            Some(body.to_string().into_bytes()),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    assert_eq!(r.body["resourceTypes"], json!(["Agent"]));
    let (id, secret) = (
        r.body["id"].as_str().unwrap().to_string(),
        r.body["secret"].as_str().unwrap().to_string(),
    );
    app.create_user("someone").await;
    let agent = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Agent"],
                       "name": "bot", "externalId": "ext-bot"});
    let r = app.post("/Agents", &agent).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let agent_id = r.body["id"].as_str().unwrap().to_string();

    let sets = drain(&app, &id, &secret).await;
    assert_eq!(sets.len(), 1, "{sets:?}");
    assert_eq!(event_uris(&sets[0]), [format!("{PROV}:create:full")]);
    assert_eq!(sets[0]["sub_id"]["uri"], format!("/Agents/{agent_id}"));
    assert_eq!(sets[0]["sub_id"]["externalId"], "ext-bot");
    assert_eq!(
        sets[0]["events"][format!("{PROV}:create:full")]["data"]["name"],
        "bot"
    );
}

on_both_backends!(
    service_provider_config_advertises_events_only_when_signed,
    polled_sets_stay_until_acknowledged,
    full_and_notice_modes_and_activation,
    agent_changes_are_scim_events,
    bad_input_changes_nothing,
    a_bad_signing_key_stops_serve_and_the_cli,
);

const PUSH_SECRET: &str = "push-secret-0123456789abcdef";
const ISSUER: &str = "https://hub.example.test";

/// A live `scimhub serve` pushing SCIM events quickly, signed by `key`.
fn live(db: &str, key: &SigningKey) -> LiveServer {
    LiveServer::start(
        db,
        &[
            ("SCIMHUB_EVENTS_SIGNING_KEY_FILE", key.path.as_str()),
            ("SCIMHUB_EVENTS_ISSUER", ISSUER),
            ("SCIMHUB_WEBHOOK_SUBSCRIPTION_POLL_INTERVAL_MS", "20"),
            ("SCIMHUB_WEBHOOK_RETRY_BASE_MS", "20"),
            ("SCIMHUB_WEBHOOK_RETRY_MAX_MS", "100"),
        ],
    )
}

struct Hub {
    server: LiveServer,
    token: String,
    client: reqwest::Client,
}

impl Hub {
    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .client
            .request(method, format!("{}/scim/v2{path}", self.server.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/scim+json")
                .body(b.to_string());
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "{status}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn user(&self, name: &str) -> String {
        let u = self
            .send(Method::POST, "/Users", Some(user_body(name)))
            .await;
        u["id"].as_str().unwrap().to_string()
    }

    fn subscription(&self, name: &str) -> Value {
        let listed = self.server.cli_json(&["subscription", "list"]);
        listed["subscriptions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()
            .clone()
    }
}

fn add_push(server: &LiveServer, receiver: &SetReceiver) -> String {
    server.cli_ok(&[
        "subscription",
        "add",
        "--name",
        "siem",
        "--format",
        "set",
        "--url",
        &receiver.url,
        "--secret",
        PUSH_SECRET,
    ])
}

async fn wait_for(receiver: &SetReceiver, n: usize) -> Vec<Value> {
    eventually(&format!("{n} SETs at the receiver"), || async {
        let got = receiver.accepted();
        (got.len() >= n).then_some(got)
    })
    .await
}

/// SETs pushed by `serve` to a receiver that verifies each against the
/// JWKS `serve` publishes: claims, order per resource, the sender's token.
async fn pushed_sets_reach_a_verifying_receiver_in_order(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = source_database(backend, &dir) else {
        return;
    };
    let key = SigningKey::ec();
    let server = live(&db, &key);
    let hub = Hub {
        token: admin_token(&server),
        server,
        client: reqwest::Client::new(),
    };
    let receiver = SetReceiver::start(ISSUER, PUSH_SECRET, jwks(&hub.server.base).await);
    let said = add_push(&hub.server, &receiver);
    assert!(said.contains("Added subscription \"siem\""), "{said}");
    let shown = hub.subscription("siem");
    assert_eq!(
        (
            shown["format"].clone(),
            shown["delivery"].clone(),
            shown["mode"].clone()
        ),
        (json!("set"), json!("push"), json!("full"))
    );

    let alice = hub.user("alice").await;
    let got = wait_for(&receiver, 1).await;
    let set = &got[0];
    assert_eq!(set["iss"], ISSUER);
    assert_eq!(set["aud"], receiver.url.as_str());
    assert_eq!(set["sub_id"]["uri"], format!("/Users/{alice}"));
    assert_eq!(
        set["jti"],
        format!("{}:{}", shown["id"].as_str().unwrap(), seq(set))
    );
    let created = &set["events"][format!("{PROV}:create:full")];
    assert_eq!(created["data"]["userName"], "alice");
    assert_eq!(
        created["data"]["meta"]["location"],
        format!("{}/scim/v2/Users/{alice}", hub.server.base)
    );

    let path = format!("/Users/{alice}");
    hub.send(
        Method::PATCH,
        &path,
        Some(patch(
            json!([{"op": "replace", "path": "active", "value": false}]),
        )),
    )
    .await;
    let got = wait_for(&receiver, 2).await;
    assert_eq!(
        event_uris(&got[1]),
        [format!("{PROV}:patch:full"), format!("{PROV}:deactivate")]
    );

    // A burst over two users: every SET arrives once, in change order.
    let bob = hub.user("bob").await;
    for title in ["a", "b", "c"] {
        hub.send(
            Method::PATCH,
            &path,
            Some(patch(
                json!([{"op": "replace", "path": "title", "value": title}]),
            )),
        )
        .await;
        hub.send(
            Method::PATCH,
            &format!("/Users/{bob}"),
            Some(patch(
                json!([{"op": "replace", "path": "title", "value": title}]),
            )),
        )
        .await;
    }
    let got = wait_for(&receiver, 9).await;
    assert_eq!(got.len(), 9);
    let txns: Vec<i64> = got.iter().map(seq).collect();
    assert!(txns.windows(2).all(|w| w[0] < w[1]), "{txns:?}");
    let mut versions: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for set in &got {
        let (uri, payload) = set["events"].as_object().unwrap().iter().next().unwrap();
        let version: i64 = payload["version"]
            .as_str()
            .unwrap()
            .trim_start_matches("W/\"")
            .trim_end_matches('"')
            .parse()
            .unwrap();
        if uri.ends_with(":full") {
            assert_eq!(
                payload["data"]["meta"]["version"], payload["version"],
                "{set}"
            );
        } else {
            assert!(
                uri.ends_with(":notice") && payload["attributes"].is_array(),
                "{set}"
            );
        }
        versions
            .entry(set["sub_id"]["id"].as_str().unwrap().to_string())
            .or_default()
            .push(version);
    }
    assert_eq!(versions[&alice], [1, 2, 3, 4, 5]);
    assert_eq!(versions[&bob], [1, 2, 3, 4]);
    receiver.assert_all_verified();
    let audit = hub.server.cli_ok(&["audit", "list"]);
    assert!(audit.contains("subscription.add"), "{audit}");
}

/// A receiver that refuses (400 with `err`) or fails (503) stops the
/// stream at that SET and is retried; `lastError` says why; after a
/// restart of `serve` every SET arrives, once and in order.
async fn a_failing_receiver_loses_nothing_across_a_restart(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = source_database(backend, &dir) else {
        return;
    };
    let key = SigningKey::ec();
    let server = live(&db, &key);
    let hub = Hub {
        token: admin_token(&server),
        server,
        client: reqwest::Client::new(),
    };
    let receiver = SetReceiver::start(ISSUER, PUSH_SECRET, jwks(&hub.server.base).await);
    add_push(&hub.server, &receiver);

    receiver.answer(Answer::Reject("invalid_audience"));
    let first = hub.user("first").await;
    let error = eventually_blocking("the refusal in lastError", || {
        hub.subscription("siem")["lastError"]
            .as_str()
            .map(str::to_string)
    });
    assert!(
        error.contains("400: invalid_audience: the receiver refuses this SET for now"),
        "{error}"
    );
    receiver.answer(Answer::Fail(503));
    let second = hub.user("second").await;
    let before = receiver.attempts();
    eventually_blocking("retries", || {
        let error = hub.subscription("siem")["lastError"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        (error.contains("503") && receiver.attempts() >= before + 2).then_some(())
    });
    assert!(receiver.accepted().is_empty());

    let Hub {
        server,
        token,
        client,
    } = hub;
    drop(server);
    let hub = Hub {
        server: live(&db, &key),
        token,
        client,
    };
    let third = hub.user("third").await;
    receiver.answer(Answer::Accept);
    let got = wait_for(&receiver, 3).await;
    let subjects: Vec<&str> = got
        .iter()
        .map(|s| s["sub_id"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, [first.as_str(), second.as_str(), third.as_str()]);
    let jtis: std::collections::BTreeSet<&str> =
        got.iter().map(|s| s["jti"].as_str().unwrap()).collect();
    assert_eq!(jtis.len(), 3, "each SET once");
    eventually_blocking("the cursor at the head and no error", || {
        let s = hub.subscription("siem");
        (s["lastError"].is_null() && s["cursor"] == json!(seq(&got[2]).to_string())).then_some(())
    });
    receiver.assert_all_verified();
}

/// Each scenario once with an SQLite store and once with a PostgreSQL one.
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod live_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::support::Backend::Sqlite).await;
                }
            )*
        }
        mod live_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::support::Backend::Postgres).await;
                }
            )*
        }
    };
}

on_both_stores!(
    pushed_sets_reach_a_verifying_receiver_in_order,
    a_failing_receiver_loses_nothing_across_a_restart,
);
