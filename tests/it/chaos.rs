//! A target failing 30% of requests at random (500, 429 with Retry-After,
//! timeouts after the write happened): once the faults stop, the target
//! converges to the source with no lost change and no duplicate account.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::Method;
use scimhub::provision::target::{self, Credentials, NewTarget, TargetSettings};
use scimhub::provision::worker::{WorkerContext, Workers};
use scimhub::settings::SyncWorkerConfig;
use scimhub::store::diesel::DieselStore;
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::{Backend, TestApp};
use crate::sync::key;
use crate::sync_faults::{error, scim};

/// A small stateful SCIM target (users only) with fault injection.
#[derive(Default)]
struct FlakyTarget {
    users: Mutex<HashMap<String, Value>>,
    faults: AtomicBool,
    creates: Mutex<HashMap<String, usize>>,
}

fn list(users: Vec<Value>) -> Value {
    json!({"totalResults": users.len(), "startIndex": 1, "itemsPerPage": users.len(), "Resources": users})
}

impl FlakyTarget {
    fn handle(&self, r: &Request) -> ResponseTemplate {
        let path = r.url.path().trim_start_matches("/scim/v2");
        let mut users = self.users.lock().unwrap();
        let body: Value = serde_json::from_slice(&r.body).unwrap_or_default();
        match (r.method.as_str(), path) {
            ("GET", "/ServiceProviderConfig") => scim(
                200,
                json!({"patch": {"supported": true}, "filter": {"supported": true, "maxResults": 100}}),
            ),
            ("GET", "/Users") => {
                let wanted = r
                    .url
                    .query_pairs()
                    .find(|(k, _)| k == "filter")
                    .and_then(|(_, f)| f.split('"').nth(1).map(str::to_lowercase));
                let start: usize = r
                    .url
                    .query_pairs()
                    .find(|(k, _)| k == "startIndex")
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(1);
                let all: Vec<Value> = users
                    .values()
                    .filter(|u| {
                        wanted.as_ref().is_none_or(|w| {
                            u["userName"].as_str().unwrap_or_default().to_lowercase() == *w
                        })
                    })
                    .cloned()
                    .collect();
                let total = all.len();
                let page: Vec<Value> = all.into_iter().skip(start - 1).take(100).collect();
                let mut l = list(page);
                l["totalResults"] = json!(total);
                l["startIndex"] = json!(start);
                scim(200, l)
            }
            ("POST", "/Users") => {
                let name = body["userName"].as_str().unwrap_or_default().to_lowercase();
                if users
                    .values()
                    .any(|u| u["userName"].as_str().unwrap_or_default().to_lowercase() == name)
                {
                    return error(409, "uniqueness", "userName taken");
                }
                let id = format!("r{}", users.len() + 1);
                let mut user = body.clone();
                user["id"] = json!(id);
                users.insert(id, user.clone());
                *self.creates.lock().unwrap().entry(name).or_default() += 1;
                scim(201, user)
            }
            ("PATCH", p) if p.starts_with("/Users/") => {
                let Some(user) = users.get_mut(&p["/Users/".len()..]) else {
                    return error(404, "", "no such user");
                };
                for op in body["Operations"].as_array().into_iter().flatten() {
                    if let Some(values) = op["value"].as_object() {
                        for (k, v) in values {
                            user[k] = v.clone();
                        }
                    }
                }
                scim(200, user.clone())
            }
            _ => error(404, "", "unsupported"),
        }
    }
}

struct Flaky(Arc<FlakyTarget>);

impl Respond for Flaky {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        if self.0.faults.load(Ordering::SeqCst) && rand::rng().random_bool(0.3) {
            return match rand::rng().random_range(0..3) {
                0 => error(500, "", "boom"),
                1 => error(429, "", "slow down").insert_header("retry-after", "1"),
                // The write happens, but the answer comes too late.
                _ => self.0.handle(r).set_delay(Duration::from_millis(1500)),
            };
        }
        self.0.handle(r)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flaky_target_converges_without_loss() {
    let state = Arc::new(FlakyTarget::default());
    state.faults.store(true, Ordering::SeqCst);
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(Flaky(state.clone()))
        .mount(&server)
        .await;
    let source = TestApp::start(Backend::Sqlite).await.unwrap();
    let db = Arc::new(DieselStore::open(&source.database_url, 4).unwrap());
    target::add(
        db.as_ref(),
        Some(&key()),
        NewTarget {
            name: "flaky".into(),
            base_url: format!("{}/scim/v2", server.uri()),
            credentials: Credentials::Bearer { token: "t".into() },
            mapping: None,
            scope: None,
            settings: TargetSettings {
                resource_types: vec!["Users".into()],
                timeout_secs: 1,
                ..TargetSettings::default()
            },
        },
    )
    .unwrap();
    // Worker tests follow the change log from its start.
    target::resume(db.as_ref(), "flaky", 0).unwrap();
    let config = SyncWorkerConfig {
        poll_ms: 20,
        coalesce_ms: 20,
        retry_base_secs: 1,
        retry_cap_secs: 2,
        // Faults alone must not quarantine this target.
        quarantine_failure_share: 1.0,
        ..SyncWorkerConfig::default()
    };
    let workers = Workers::start(WorkerContext::new(
        db.clone(),
        db.clone(),
        Some(key()),
        config,
    ))
    .unwrap();
    let mut ids = Vec::new();
    for i in 0..40 {
        ids.push(
            source.create_user(&format!("chaos-{i}")).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    for (i, id) in ids.iter().enumerate().step_by(2) {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "displayName", "value": format!("changed {i}")}]});
        let r = source
            .send(
                Method::PATCH,
                &format!("/Users/{id}"),
                Some(&source.token),
                Some(body.to_string().into_bytes()),
            )
            .await;
        assert_eq!(r.status, 200);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    state.faults.store(false, Ordering::SeqCst);

    let start = Instant::now();
    loop {
        let converged = {
            let users = state.users.lock().unwrap();
            (0..40).all(|i| {
                let name = format!("chaos-{i}");
                let want = if i % 2 == 0 {
                    json!(format!("changed {i}"))
                } else {
                    Value::Null
                };
                users
                    .values()
                    .filter(|u| u["userName"] == name.as_str())
                    .any(|u| want.is_null() || u["displayName"] == want)
            })
        };
        if converged {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "did not converge"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    workers.stop();
    let users = state.users.lock().unwrap();
    assert_eq!(users.len(), 40, "one account per user");
    assert!(state.creates.lock().unwrap().values().all(|n| *n == 1));
}
