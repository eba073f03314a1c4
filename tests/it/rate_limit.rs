//! A target's `rate_limit` (requests per second): full runs, real-time
//! workers and the clients one process builds for a target all keep to one
//! shared limiter, and a `Retry-After` still wins. Asserted on the times the
//! mock target received the requests.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use scimhub::crypto::SecretKey;
use scimhub::provision::client::RateLimits;
use scimhub::provision::runs::{LoadedTarget, RunOptions, RunStatus, SyncEngine};
use scimhub::provision::target::{self, Credentials, NewTarget, TargetSettings};
use scimhub::provision::worker::{WorkerContext, Workers};
use scimhub::scim::ResourceKind;
use scimhub::store::diesel::DieselStore;
use scimhub::store::{Store, SyncStore};
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::on_both_backends;
use crate::support::{TestApp, eventually};

fn key() -> SecretKey {
    SecretKey([9; 32])
}

/// A SCIM target that notes when each request arrived: lists are empty,
/// creates echo an id, reads find the user; the first read can answer 429
/// with `Retry-After: 1`.
#[derive(Clone, Default)]
struct Recorder {
    arrivals: Arc<Mutex<Vec<(Instant, String)>>>,
    throttle_first_read: bool,
    throttled: Arc<AtomicBool>,
}

fn scim(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "application/scim+json")
        .set_body_json(body)
}

impl Respond for Recorder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let what = format!("{} {}", request.method, request.url.path());
        self.arrivals
            .lock()
            .unwrap()
            .push((Instant::now(), what.clone()));
        let method = request.method.as_str();
        let path = request.url.path();
        if method == "POST" && path.ends_with("/Users") {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
            let name = body["userName"].as_str().unwrap_or("x");
            return scim(201, json!({"id": format!("r-{name}"), "userName": name}));
        }
        if method == "GET" && (path.ends_with("/Users") || path.ends_with("/Groups")) {
            return scim(200, json!({"totalResults": 0, "Resources": []}));
        }
        if method == "GET" && path.contains("/Users/") {
            if self.throttle_first_read && !self.throttled.swap(true, Ordering::SeqCst) {
                return scim(429, json!({"detail": "slow down"})).insert_header("Retry-After", "1");
            }
            return scim(200, json!({"id": "u1", "userName": "u1"}));
        }
        scim(404, json!({"detail": "no such endpoint"}))
    }
}

impl Recorder {
    async fn serve(&self) -> MockServer {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(self.clone())
            .mount(&server)
            .await;
        server
    }

    fn times(&self) -> Vec<Instant> {
        self.arrivals
            .lock()
            .unwrap()
            .iter()
            .map(|(t, _)| *t)
            .collect()
    }

    fn count(&self, what: &str) -> usize {
        let arrivals = self.arrivals.lock().unwrap();
        arrivals.iter().filter(|(_, w)| w.starts_with(what)).count()
    }
}

/// N requests at R per second span at least (N-1)/R seconds (less half a
/// gap for when each arrived over loopback).
fn assert_kept_to(times: &[Instant], rate: u32) {
    assert!(times.len() >= 4, "only {} requests", times.len());
    let gap = Duration::from_secs(1) / rate;
    let span = *times.last().unwrap() - times[0];
    let least = gap * u32::try_from(times.len() - 1).unwrap();
    assert!(
        span + gap / 2 >= least,
        "{} requests in {span:?}: faster than {rate}/s (at least {least:?})",
        times.len()
    );
}

fn add_target(db: &DieselStore, url: &str, rate_limit: Option<u32>) -> String {
    target::add(
        db,
        Some(&key()),
        NewTarget {
            name: "limited".into(),
            base_url: url.to_string(),
            credentials: Credentials::Bearer { token: "t".into() },
            mapping: None,
            scope: None,
            settings: TargetSettings {
                resource_types: vec!["Users".into()],
                rate_limit,
                ..TargetSettings::default()
            },
        },
    )
    .unwrap();
    db.find_target("limited").unwrap().unwrap().id
}

async fn a_full_run_keeps_to_the_rate_limit(app: TestApp) {
    let recorder = Recorder::default();
    let server = recorder.serve().await;
    let db = Arc::new(DieselStore::open(&app.database_url, 2).unwrap());
    add_target(&db, &format!("{}/scim/v2", server.uri()), Some(5));
    for i in 0..6 {
        app.create_user(&format!("rated-{i}")).await;
    }
    let engine = SyncEngine::new(db.clone() as Arc<dyn Store>, db.clone(), Some(key()));
    let report = engine
        .run("limited", RunOptions { dry_run: false }, None)
        .await
        .unwrap();
    assert_eq!(report.head.status, RunStatus::Succeeded, "{report:?}");
    assert_eq!(recorder.count("POST"), 6);
    assert_kept_to(&recorder.times(), 5);
}

async fn real_time_pushes_keep_to_the_rate_limit(app: TestApp) {
    let recorder = Recorder::default();
    let server = recorder.serve().await;
    let db = Arc::new(DieselStore::open(&app.database_url, 4).unwrap());
    add_target(&db, &format!("{}/scim/v2", server.uri()), Some(8));
    // Real-time sync from the start of the change log (no initial run).
    target::resume(db.as_ref(), "limited", 0).unwrap();
    let config = scimhub::settings::SyncWorkerConfig {
        poll_ms: 20,
        coalesce_ms: 30,
        ..scimhub::settings::SyncWorkerConfig::default()
    };
    let ctx = WorkerContext::new(db.clone(), db.clone(), Some(key()), config)
        .with_rate_limits(RateLimits::new());
    let workers = Workers::start(ctx).unwrap();
    for i in 0..5 {
        app.create_user(&format!("live-{i}")).await;
    }
    eventually("five creates pushed", || async {
        (recorder.count("POST") == 5).then_some(())
    })
    .await;
    workers.stop();
    assert_kept_to(&recorder.times(), 8);
}

on_both_backends!(
    a_full_run_keeps_to_the_rate_limit,
    real_time_pushes_keep_to_the_rate_limit,
);

/// A stored target's record, as runs and workers load it.
async fn loaded(recorder: &Recorder, rate: u32) -> (MockServer, LoadedTarget) {
    let server = recorder.serve().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let db = DieselStore::open(&url, 2).unwrap();
    add_target(&db, &format!("{}/scim/v2", server.uri()), Some(rate));
    let record = db.find_target("limited").unwrap().unwrap();
    (server, LoadedTarget::load(record).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_of_a_target_shares_its_limiter() {
    let recorder = Recorder::default();
    let (_server, target) = loaded(&recorder, 10).await;
    let rates = RateLimits::new();
    // What a run and the worker each build, from the registry the process shares.
    let run_client = target.connector(Some(&key()), &rates, None).unwrap();
    let worker_client = target.connector(Some(&key()), &rates, None).unwrap();
    let reads = |c: std::sync::Arc<dyn scimhub::provision::connector::Connector>| async move {
        for _ in 0..4 {
            c.get(ResourceKind::User, "u1").await.unwrap();
        }
    };
    tokio::join!(reads(run_client), reads(worker_client));
    assert_eq!(recorder.count("GET"), 8);
    assert_kept_to(&recorder.times(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_still_wins_over_the_rate_limit() {
    let recorder = Recorder {
        throttle_first_read: true,
        ..Recorder::default()
    };
    let (_server, target) = loaded(&recorder, 50).await;
    let client = target
        .connector(Some(&key()), &RateLimits::new(), None)
        .unwrap();
    let user = client.get(ResourceKind::User, "u1").await.unwrap();
    assert_eq!(user.unwrap()["id"], "u1");
    let times = recorder.times();
    assert_eq!(times.len(), 2, "one 429, one retry");
    let waited = times[1] - times[0];
    assert!(
        waited >= Duration::from_secs(1),
        "retried after {waited:?}, before the target's Retry-After of 1 s"
    );
}
