//! Console sign-in with an external OpenID Connect provider (a minimal one
//! on loopback): the code flow with PKCE end to end, allowed subjects and
//! groups, and refusals — another browser's callback, a replayed one, a
//! person not allowed, ID tokens with a wrong nonce, audience or expiry.

use reqwest::StatusCode;
use scimhub::store::{AuditQuery, AuditRecord};

use crate::support::console::{ConsoleClient, session_cookie};
use crate::support::live::free_port;
use crate::support::oidc::{CLIENT_ID, Person, Provider, Tamper};
use crate::support::{Backend, TestApp};

fn person(sub: &str, groups: &[&str]) -> Person {
    Person {
        sub: sub.into(),
        email: format!("{sub}@example.com"),
        groups: groups.iter().map(|g| g.to_string()).collect(),
    }
}

fn audit(app: &TestApp) -> Vec<AuditRecord> {
    app.store
        .audit(&AuditQuery {
            limit: 1000,
            ..AuditQuery::default()
        })
        .unwrap()
}

/// What the browser carries through a sign-in: the login cookie from
/// `start`, and the callback URL the provider sent it to.
struct Flow {
    login_cookie: String,
    callback: String,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn begin(app: &TestApp, next: &str) -> Flow {
    let http = client();
    let start = http
        .get(format!("{}/console/oidc/start?next={next}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let cookie = start
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("scimhub_console_login="))
        .unwrap()
        .to_string();
    for attribute in [
        "HttpOnly",
        "SameSite=Lax",
        "Path=/console/oidc",
        "Max-Age=600",
    ] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let authorize = start.headers()["location"].to_str().unwrap().to_string();
    let at_provider = http.get(&authorize).send().await.unwrap();
    assert_eq!(at_provider.status(), StatusCode::FOUND);
    Flow {
        login_cookie: cookie.split(';').next().unwrap().to_string(),
        callback: at_provider.headers()["location"]
            .to_str()
            .unwrap()
            .to_string(),
    }
}

async fn finish(flow: &Flow, with_cookie: bool) -> reqwest::Response {
    let mut req = client().get(&flow.callback);
    if with_cookie {
        req = req.header("cookie", &flow.login_cookie);
    }
    req.send().await.unwrap()
}

async fn start(backend: Backend) -> Option<(Provider, TestApp)> {
    let provider = Provider::start();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let oidc = provider.config(&base);
    let app = TestApp::start_with(backend, move |c| {
        c.listen = format!("127.0.0.1:{port}");
        c.console.oidc = Some(oidc);
    })
    .await?;
    assert_eq!(app.base, base);
    Some((provider, app))
}

async fn people_sign_in_with_the_provider(backend: Backend) {
    let Some((provider, app)) = start(backend).await else {
        return;
    };
    let page = ConsoleClient::new(&app.base).get("/console/sign-in").await;
    assert!(page.body.contains("Sign in with Test IdP"), "{}", page.body);

    // An allowed subject: the code flow with PKCE, back to where they were going.
    provider.sign_in_as(Some(person("alice-sub", &[])));
    let flow = begin(&app, "%2Fconsole%2Ftargets").await;
    let sent = provider.last_authorize();
    assert_eq!(sent["client_id"], CLIENT_ID);
    assert_eq!(sent["code_challenge_method"], "S256");
    assert!(sent["code_challenge"].len() >= 43 && !sent["nonce"].is_empty());
    assert_eq!(
        sent["redirect_uri"],
        format!("{}/console/oidc/callback", app.base)
    );
    let done = finish(&flow, true).await;
    assert_eq!(done.status(), StatusCode::OK);
    let (session, header) = session_cookie(done.headers()).unwrap();
    assert!(
        header.contains("SameSite=Strict") && header.contains("HttpOnly"),
        "{header}"
    );
    let cleared = done
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.starts_with("scimhub_console_login=;"));
    assert!(cleared, "the login cookie is removed");
    let body = done.text().await.unwrap();
    assert!(
        body.contains("content=\"0;url=/console/targets\""),
        "{body}"
    );
    assert_eq!(provider.codes_redeemed(), 1);
    let mut console = ConsoleClient::new(&app.base);
    console.cookie = Some(session);
    let page = console.get("/console/targets").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("console:oidc:alice-sub"));
    let rows = audit(&app);
    let signed_in = rows.iter().find(|r| r.event == "console.sign_in").unwrap();
    assert_eq!(signed_in.actor, "console:oidc:alice-sub");
    assert!(
        signed_in
            .detail
            .as_deref()
            .unwrap()
            .contains("alice-sub@example.com")
    );

    // The same callback again (a replay) opens nothing.
    let replay = finish(&flow, true).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert!(session_cookie(replay.headers()).is_none());

    // A member of an allowed group.
    provider.sign_in_as(Some(person("carol-sub", &["staff", "scimhub-admins"])));
    let done = finish(&begin(&app, "").await, true).await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(session_cookie(done.headers()).is_some());
    assert!(done.text().await.unwrap().contains("url=/console\""));
    assert_eq!(
        provider.discovery_fetches(),
        1,
        "two sign-ins, one discovery"
    );

    // The provider rotates its signing key: the new key is fetched at once.
    provider.rotate_keys();
    provider.sign_in_as(Some(person("alice-sub", &[])));
    let done = finish(&begin(&app, "").await, true).await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(session_cookie(done.headers()).is_some());
    assert_eq!(provider.discovery_fetches(), 2);
}

async fn the_provider_alone_does_not_let_anyone_in(backend: Backend) {
    let Some((provider, app)) = start(backend).await else {
        return;
    };
    // Signed in at the provider, but neither subject nor group is allowed.
    provider.sign_in_as(Some(person("bob-sub", &["staff"])));
    let refused = finish(&begin(&app, "").await, true).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(session_cookie(refused.headers()).is_none());
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("not allowed into this console")
    );
    let denied = audit(&app)
        .into_iter()
        .find(|r| r.event == "console.sign_in.denied")
        .unwrap();
    assert_eq!(denied.actor, "oidc:bob-sub");

    // A callback in a browser that did not start the sign-in.
    provider.sign_in_as(Some(person("alice-sub", &[])));
    let flow = begin(&app, "").await;
    let foreign = finish(&flow, false).await;
    assert_eq!(foreign.status(), StatusCode::BAD_REQUEST);
    assert!(session_cookie(foreign.headers()).is_none());
    // A tampered state.
    let flow = begin(&app, "").await;
    let tampered = Flow {
        callback: flow.callback.replace("state=", "state=x"),
        login_cookie: flow.login_cookie.clone(),
    };
    assert_eq!(
        finish(&tampered, true).await.status(),
        StatusCode::BAD_REQUEST
    );

    // ID tokens the console must not believe.
    for tamper in [Tamper::WrongNonce, Tamper::WrongAudience, Tamper::Expired] {
        provider.tamper(Some(tamper));
        let refused = finish(&begin(&app, "").await, true).await;
        assert_eq!(refused.status(), StatusCode::BAD_GATEWAY, "{tamper:?}");
        assert!(session_cookie(refused.headers()).is_none(), "{tamper:?}");
    }
    provider.tamper(None);
    // The provider refusing is shown as such.
    provider.sign_in_as(None);
    let refused = finish(&begin(&app, "").await, true).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused.text().await.unwrap().contains("access_denied"));
    assert!(!audit(&app).iter().any(|r| r.event == "console.sign_in"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_people_sign_in_with_the_provider() {
    people_sign_in_with_the_provider(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_people_sign_in_with_the_provider() {
    people_sign_in_with_the_provider(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_the_provider_alone_does_not_let_anyone_in() {
    the_provider_alone_does_not_let_anyone_in(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_the_provider_alone_does_not_let_anyone_in() {
    the_provider_alone_does_not_let_anyone_in(Backend::Postgres).await;
}
