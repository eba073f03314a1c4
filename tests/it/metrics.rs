//! `/metrics`: Prometheus text a real parser reads, with route templates
//! (never ids) as labels, refused requests, and the sync center per target.

use prometheus_parse::{Scrape, Value};
use reqwest::Method;

use crate::on_both_backends;
use crate::support::TestApp;

async fn scrape(app: &TestApp, token: &str) -> Scrape {
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

fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
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
