//! `/metrics`: Prometheus text a real parser reads, with route templates
//! (never ids) as labels, refused requests, and the sync center per target.

use prometheus_parse::{Scrape, Value};
use reqwest::Method;

use crate::on_both_backends;
use crate::support::TestApp;

pub(crate) async fn scrape(app: &TestApp, token: &str) -> Scrape {
    let r = app.send(Method::GET, "/metrics", Some(token), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.header("content-type")
            .unwrap_or_default()
            .starts_with("text/plain"),
        "content type"
    );
    let lines = r.text.lines().map(|l| Ok(l.to_string()));
    Scrape::parse(lines).expect("Prometheus text format")
}

pub(crate) fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(k).is_some_and(|l| l == *v))
        })
        .and_then(|s| match s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => Some(v),
            _ => None,
        })
}

async fn requests_and_refusals_are_counted_by_route_template(app: TestApp) {
    let admin = app.token_with("prometheus", &["admin"]);
    let id = app.create_user("metered").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..3 {
        assert_eq!(app.get(&format!("/Users/{id}")).await.status, 200);
    }
    assert_eq!(
        app.send(Method::GET, "/Users", Some("scimhub_0_nope"), None)
            .await
            .status,
        401
    );
    // Without the admin scope, or a token at all, no metrics.
    assert_eq!(app.get("/metrics").await.status, 403);
    assert_eq!(
        app.send(Method::GET, "/metrics", None, None).await.status,
        401
    );

    let s = scrape(&app, &admin).await;
    let gets = value(
        &s,
        "scimhub_http_requests_total",
        &[
            ("route", "/scim/v2/Users/:id"),
            ("method", "GET"),
            ("status", "200"),
        ],
    );
    assert_eq!(gets, Some(3.0));
    assert!(
        s.samples
            .iter()
            .all(|x| x.labels.values().all(|v| !v.contains(&id))),
        "no resource id in any label"
    );
    assert!(value(&s, "scimhub_auth_failures_total", &[]).unwrap() >= 2.0);
    assert!(value(&s, "scimhub_auth_denied_total", &[]).unwrap() >= 1.0);
    let count = value(
        &s,
        "scimhub_http_request_duration_seconds_count",
        &[("route", "/scim/v2/Users/:id"), ("method", "GET")],
    );
    assert_eq!(count, Some(3.0));
    assert!(value(&s, "scimhub_db_pool_connections", &[]).unwrap() >= 1.0);

    // The sync center per target, read at each scrape.
    let db = scimhub::store::diesel::DieselStore::open(&app.database_url, 1).unwrap();
    scimhub::provision::target::add(
        &db,
        Some(&crate::sync::key()),
        scimhub::provision::target::NewTarget {
            name: "crm".into(),
            base_url: "http://127.0.0.1:9/scim/v2".into(),
            credentials: scimhub::provision::target::Credentials::Bearer { token: "t".into() },
            mapping: None,
            scope: None,
            settings: Default::default(),
        },
    )
    .unwrap();
    let s = scrape(&app, &admin).await;
    let state = |st: &str| {
        value(
            &s,
            "scimhub_sync_target_state",
            &[("target", "crm"), ("state", st)],
        )
    };
    assert_eq!(state("new"), Some(1.0));
    assert_eq!(state("active"), Some(0.0));
    assert_eq!(
        value(&s, "scimhub_sync_failure_queue_depth", &[("target", "crm")]),
        Some(0.0)
    );
}

on_both_backends!(requests_and_refusals_are_counted_by_route_template);

/// `metrics_listen`: a token-less scrape address that answers only
/// `/metrics`, and the objects the real-time worker pushed, by action.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_address_counts_what_the_workers_push() {
    use crate::support::live::{LiveServer, free_port};
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let server = LiveServer::start(&db, &[("SCIMHUB_METRICS_LISTEN", addr.as_str())]);
    let downstream = TestApp::start(crate::support::Backend::Sqlite)
        .await
        .unwrap();
    let url = format!("{}/scim/v2", downstream.base);
    server.cli_ok(&[
        "target",
        "add",
        "--name",
        "down",
        "--url",
        &url,
        "--token",
        &downstream.token,
    ]);
    server.cli_ok(&["target", "resume", "down"]);
    let token = server
        .cli_ok(&["token", "create", "--name", "writer"])
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string();
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{}/scim/v2/Users", server.base))
        .bearer_auth(&token)
        .header("content-type", "application/scim+json")
        .body(crate::support::user_body("counted").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let metrics_url = format!("http://{addr}/metrics");
    let scraped = crate::support::eventually("the push counted", || async {
        let text = client
            .get(&metrics_url)
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        let s = Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).ok()?;
        let n = value(
            &s,
            "scimhub_sync_objects_total",
            &[("target", "down"), ("action", "created"), ("outcome", "ok")],
        )?;
        (n >= 1.0).then_some(s)
    })
    .await;
    assert!(value(&scraped, "scimhub_db_pool_waits_total", &[]).is_some());
    // Only /metrics there; the main address still wants the admin scope.
    let other = client
        .get(format!("http://{addr}/scim/v2/Users"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    let main = client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(main.status(), 401);
}
