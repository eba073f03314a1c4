//! An optional record of a client's exchanges (method, path, body, answer)
//! for on-demand provisioning, and its dry run: writes are recorded as
//! "would send" and answered here, reads go out (a resource created in the
//! dry run is read back from here).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError};

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde::Serialize;
use serde_json::Value;

use super::ConnectorError;
use super::transport::Reply;

/// One request to the target and what it answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Exchange {
    pub method: String,
    /// Below the target's base URL, with the query decoded.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// False in a dry run: the write was not sent ("would send").
    pub sent: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The resource's id on the target (from the answer, or the path).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<String>,
    /// How many resources a search found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Where recorded exchanges go.
pub trait ExchangeSink: Send + Sync {
    fn record(&self, exchange: Exchange);
}

/// Prefix of the ids a dry run makes up for resources it would create.
pub const DRY_RUN_ID_PREFIX: &str = "dry-run-";

pub(crate) struct Recording {
    sink: std::sync::Arc<dyn ExchangeSink>,
    dry_run: bool,
    /// Dry run: resources it would have created, by URL path.
    drafts: Mutex<HashMap<String, Value>>,
    next_id: AtomicU32,
}

impl Recording {
    pub fn new(sink: std::sync::Arc<dyn ExchangeSink>, dry_run: bool) -> Self {
        Self {
            sink,
            dry_run,
            drafts: Mutex::new(HashMap::new()),
            next_id: AtomicU32::new(1),
        }
    }

    fn drafts(&self) -> std::sync::MutexGuard<'_, HashMap<String, Value>> {
        self.drafts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The dry run's own answer (nothing sent): every write, and reads of
    /// resources it made up. `None`: send the request.
    pub fn dry_answer(
        &self,
        base: &url::Url,
        method: &Method,
        url: &url::Url,
        body: Option<&Value>,
    ) -> Option<Reply> {
        if !self.dry_run {
            return None;
        }
        if *method == Method::GET {
            let draft = self.drafts().get(url.path()).cloned()?;
            return Some(reply(200, Some(&draft)));
        }
        let (status, answer) = if *method == Method::POST {
            let id = format!(
                "{DRY_RUN_ID_PREFIX}{}",
                self.next_id.fetch_add(1, Ordering::Relaxed)
            );
            let mut created = body.cloned().unwrap_or(Value::Null);
            if let Some(o) = created.as_object_mut() {
                o.insert("id".into(), Value::String(id.clone()));
            }
            let path = format!("{}/{id}", url.path().trim_end_matches('/'));
            self.drafts().insert(path, created.clone());
            (201, Some(created))
        } else if *method == Method::PUT {
            let mut replaced = body.cloned().unwrap_or(Value::Null);
            if let (Some(o), Some(id)) = (replaced.as_object_mut(), last_segment(url)) {
                o.insert("id".into(), Value::String(id));
            }
            (200, Some(replaced))
        } else {
            (204, None)
        };
        let mut exchange = exchange(base, method, url, body);
        exchange.sent = false;
        exchange.status = Some(status);
        exchange.remote_id = answer.as_ref().and_then(id_of).or_else(|| resource_id(url));
        self.sink.record(exchange);
        Some(reply(status, answer.as_ref()))
    }

    /// Records a request that was sent and what came of it.
    pub fn sent(
        &self,
        base: &url::Url,
        method: &Method,
        url: &url::Url,
        body: Option<&Value>,
        result: &Result<Reply, ConnectorError>,
    ) {
        let mut exchange = exchange(base, method, url, body);
        match result {
            Ok(reply) => {
                exchange.status = Some(reply.status);
                let answer: Option<Value> = serde_json::from_slice(&reply.body).ok();
                // A list response may leave out an empty `Resources`.
                exchange.found = answer
                    .as_ref()
                    .filter(|a| a.get("totalResults").is_some() || a.get("Resources").is_some())
                    .map(|a| {
                        a.get("Resources")
                            .and_then(Value::as_array)
                            .map_or(0, Vec::len)
                    });
                exchange.remote_id = answer
                    .as_ref()
                    .and_then(id_of)
                    .or_else(|| (reply.status != 404).then(|| resource_id(url)).flatten());
            }
            Err(e) => {
                exchange.status = e.status();
                exchange.error = Some(e.to_string());
            }
        }
        self.sink.record(exchange);
    }
}

fn reply(status: u16, body: Option<&Value>) -> Reply {
    Reply {
        status,
        headers: HeaderMap::new(),
        body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
    }
}

fn id_of(resource: &Value) -> Option<String> {
    resource
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn last_segment(url: &url::Url) -> Option<String> {
    let segment = url.path_segments()?.next_back()?;
    let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
    Some(decoded.into_owned())
}

/// The id in `…/Users/{id}` or `…/Groups/{id}`.
fn resource_id(url: &url::Url) -> Option<String> {
    let mut segments = url.path_segments()?.rev();
    let id = segments.next()?;
    let parent = segments.next()?;
    matches!(parent, "Users" | "Groups").then(|| {
        percent_encoding::percent_decode_str(id)
            .decode_utf8_lossy()
            .into_owned()
    })
}

fn exchange(base: &url::Url, method: &Method, url: &url::Url, body: Option<&Value>) -> Exchange {
    let below = url
        .path()
        .strip_prefix(base.path().trim_end_matches('/'))
        .unwrap_or(url.path());
    let mut path = percent_encoding::percent_decode_str(below)
        .decode_utf8_lossy()
        .into_owned();
    let query: Vec<String> = url.query_pairs().map(|(k, v)| format!("{k}={v}")).collect();
    if !query.is_empty() {
        path = format!("{path}?{}", query.join("&"));
    }
    Exchange {
        method: method.to_string(),
        path,
        body: body.cloned(),
        sent: true,
        status: None,
        remote_id: None,
        found: None,
        error: None,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[derive(Default)]
    struct Collect(Mutex<Vec<Exchange>>);

    impl ExchangeSink for Collect {
        fn record(&self, exchange: Exchange) {
            self.0.lock().unwrap().push(exchange);
        }
    }

    #[test]
    fn a_dry_run_answers_writes_and_reads_back_what_it_created() {
        let sink = Arc::new(Collect::default());
        let recording = Recording::new(sink.clone(), true);
        let base = url::Url::parse("http://t.example/scim/v2").unwrap();
        let users = url::Url::parse("http://t.example/scim/v2/Users").unwrap();
        let body = serde_json::json!({"userName": "alice"});
        let created = recording
            .dry_answer(&base, &Method::POST, &users, Some(&body))
            .unwrap();
        assert_eq!(created.status, 201);
        let created: Value = serde_json::from_slice(&created.body).unwrap();
        let id = created["id"].as_str().unwrap();
        assert!(id.starts_with(DRY_RUN_ID_PREFIX));
        let at = url::Url::parse(&format!("{users}/{id}")).unwrap();
        let read = recording
            .dry_answer(&base, &Method::GET, &at, None)
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&read.body).unwrap(),
            created
        );
        assert!(
            recording
                .dry_answer(&base, &Method::GET, &users, None)
                .is_none()
        );
        let patched = recording
            .dry_answer(&base, &Method::PATCH, &at, Some(&body))
            .unwrap();
        assert_eq!(patched.status, 204);
        let seen = sink.0.lock().unwrap();
        assert_eq!(seen.len(), 2, "reads of drafts are not requests");
        assert_eq!(seen[0].path, "/Users");
        assert!(!seen[0].sent);
        assert_eq!(seen[0].remote_id.as_deref(), Some(id));
        assert_eq!(seen[1].method, "PATCH");
        assert_eq!(seen[1].path, format!("/Users/{id}"));
        assert_eq!(seen[1].remote_id.as_deref(), Some(id));
    }

    #[test]
    fn a_real_recording_sends_everything() {
        let recording = Recording::new(Arc::new(Collect::default()), false);
        let base = url::Url::parse("http://t.example/scim").unwrap();
        let users = url::Url::parse("http://t.example/scim/Users").unwrap();
        assert!(
            recording
                .dry_answer(&base, &Method::POST, &users, None)
                .is_none()
        );
    }

    #[test]
    fn paths_are_shown_below_the_base_with_the_query_decoded() {
        let base = url::Url::parse("http://t.example/scim/v2").unwrap();
        let mut url = url::Url::parse("http://t.example/scim/v2/Users").unwrap();
        url.query_pairs_mut()
            .append_pair("filter", "userName eq \"a b\"");
        let e = exchange(&base, &Method::GET, &url, None);
        assert_eq!(e.path, "/Users?filter=userName eq \"a b\"");
    }
}
