//! The outbound SCIM client: one target's API (RFC 7644) over reqwest,
//! with its credentials, extra headers, per-request timeout, retries
//! (`retry`) and paging (`listing`). Errors are sorted for the caller:
//! refused for good, credentials refused, or unavailable for now.

mod auth;
mod bulk;
mod discovery;
mod error;
mod headers;
mod listing;
mod plain;
mod probe;
mod rate;
mod recording;
mod retry;
mod schemas;
mod transport;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap};
use serde_json::{Value, json};

use crate::provision::connector::ConnectorError;
use crate::scim::patch::PATCH_OP_SCHEMA;
pub use bulk::{BulkWrite, created_id};
pub use discovery::{DEFAULT_PAGE_SIZE, TargetLimits};
pub use headers::extra_headers;
pub use plain::{Answer, AnswerCheck, AnswerFault};
pub use probe::{Unreachable, UnreachableKind};
pub use rate::{RateLimiter, RateLimits, limiter};
pub use recording::{DRY_RUN_ID_PREFIX, Exchange, ExchangeSink};
pub use retry::{RetryPolicy, parse_retry_after};
pub use schemas::{PublishedAttribute, PublishedSchema, PublishedSchemas};

use auth::Auth;
use recording::Recording;
use retry::{Attempt, with_retries};
use transport::{Reply, Transport};

use crate::provision::target::{Credentials, TargetSettings};
use crate::scim::ResourceKind;
use crate::settings::check_http_url;

const SCIM_JSON: &str = "application/scim+json";
const ACCEPT_SCIM: &str = "application/scim+json, application/json";
const PLAIN_JSON: &str = "application/json";

/// `list_all` gives up on a target that is still paging after this many pages.
pub const DEFAULT_MAX_PAGES: usize = 10_000;

#[derive(Clone)]
pub struct ClientOptions {
    /// No trailing slash.
    pub base_url: String,
    pub credentials: Credentials,
    pub headers: BTreeMap<String, String>,
    /// Per request (connecting, sending and reading the reply).
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl ClientOptions {
    /// The options a stored target asks for, with the default retry policy.
    pub fn for_target(base_url: &str, credentials: Credentials, settings: &TargetSettings) -> Self {
        Self {
            base_url: base_url.to_string(),
            credentials,
            headers: settings.headers.clone(),
            timeout: Duration::from_secs(settings.timeout_secs),
            retry: RetryPolicy::default(),
        }
    }
}

impl std::fmt::Debug for ClientOptions {
    /// Header names only: a value could be a key someone put there anyway.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("base_url", &self.base_url)
            .field("credentials", &self.credentials)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish()
    }
}

/// A client for one target; clones share the connection pool, the
/// cached OAuth token and the rate limiter.
#[derive(Clone)]
pub struct ScimClient {
    inner: Arc<Inner>,
    max_pages: usize,
    rate: Option<Arc<RateLimiter>>,
    recording: Option<Arc<Recording>>,
    /// Set for JSON APIs that are not SCIM: how their 2xx answers read.
    plain: Option<Arc<dyn AnswerCheck>>,
}

struct Inner {
    transport: Transport,
    base: url::Url,
    auth: Auth,
    headers: HeaderMap,
}

/// A SCIM base URL: http(s), no credentials, query or fragment; trailing
/// slashes dropped.
pub fn check_base_url(text: &str) -> Result<url::Url, String> {
    let url = check_http_url(text.trim_end_matches('/'))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{text:?}: the URL must not have a query or fragment"
        ));
    }
    Ok(url)
}

fn check_id(id: &str) -> Result<(), ConnectorError> {
    if id.is_empty() || id == "." || id == ".." {
        return Err(ConnectorError::Config(format!(
            "{id:?} is not a resource id"
        )));
    }
    Ok(())
}

impl ScimClient {
    pub fn new(opts: ClientOptions) -> Result<Self, ConnectorError> {
        let base = check_base_url(&opts.base_url).map_err(ConnectorError::Config)?;
        let headers = extra_headers(&opts.headers).map_err(ConnectorError::Config)?;
        let auth = Auth::new(&opts.credentials)?;
        let transport = Transport::new(opts.timeout, opts.retry)?;
        Ok(Self {
            inner: Arc::new(Inner {
                transport,
                base,
                auth,
                headers,
            }),
            max_pages: DEFAULT_MAX_PAGES,
            rate: None,
            recording: None,
            plain: None,
        })
    }

    /// Every request (retries too) first waits for its turn at `rate`,
    /// which other clients of the same target may share.
    pub fn with_rate_limit(mut self, rate: Option<Arc<RateLimiter>>) -> Self {
        self.rate = rate;
        self
    }

    /// Every exchange from now on goes to `sink`; with `dry_run` no write
    /// is sent (each is recorded as "would send" and answered as the
    /// target would, with made-up ids for created resources).
    pub fn with_recording(mut self, sink: Arc<dyn ExchangeSink>, dry_run: bool) -> Self {
        self.recording = Some(Arc::new(Recording::new(sink, dry_run)));
        self
    }

    /// Waits until the target's rate limit lets one more request go.
    async fn pace(&self) {
        if let Some(rate) = &self.rate {
            rate.until_ready().await;
        }
    }

    /// Changes where `list_all` gives up on a target that never stops paging.
    pub fn with_max_pages(mut self, pages: usize) -> Self {
        self.max_pages = pages.max(1);
        self
    }

    /// Whether exchanges go to a recording (on-demand provisioning).
    pub fn is_recording(&self) -> bool {
        self.recording.is_some()
    }

    /// The base URL without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.inner.base.as_str().trim_end_matches('/')
    }

    /// GET /ServiceProviderConfig; a target without one (404) gets conservative defaults.
    pub async fn discover(&self) -> Result<TargetLimits, ConnectorError> {
        match self.service_provider_config().await? {
            Some(limits) => Ok(limits),
            None => {
                tracing::info!(
                    url = self.base_url(),
                    "target has no ServiceProviderConfig; assuming no PATCH, bulk, filter or ETags"
                );
                Ok(TargetLimits::default())
            }
        }
    }

    /// GET /ServiceProviderConfig read; `None` when the target has none (404).
    pub async fn service_provider_config(&self) -> Result<Option<TargetLimits>, ConnectorError> {
        let reply = self
            .execute(Method::GET, self.url(&["ServiceProviderConfig"]), None)
            .await?;
        if reply.status == 404 {
            return Ok(None);
        }
        Ok(Some(TargetLimits::from_service_provider_config(
            &json_body(&reply)?,
        )))
    }

    pub async fn get(&self, kind: ResourceKind, id: &str) -> Result<Option<Value>, ConnectorError> {
        check_id(id)?;
        let reply = self
            .execute(Method::GET, self.url(&[kind.endpoint(), id]), None)
            .await?;
        if reply.status == 404 {
            return Ok(None);
        }
        resource(&reply).map(Some)
    }

    pub async fn create(&self, kind: ResourceKind, body: &Value) -> Result<Value, ConnectorError> {
        let reply = self
            .execute(Method::POST, self.url(&[kind.endpoint()]), Some(body))
            .await?;
        found(&reply)?;
        resource(&reply)
    }

    pub async fn replace(
        &self,
        kind: ResourceKind,
        id: &str,
        body: &Value,
    ) -> Result<Value, ConnectorError> {
        check_id(id)?;
        let reply = self
            .execute(Method::PUT, self.url(&[kind.endpoint(), id]), Some(body))
            .await?;
        found(&reply)?;
        resource(&reply)
    }

    /// PATCH with the given Operations array; Ok(None) on 204.
    pub async fn patch(
        &self,
        kind: ResourceKind,
        id: &str,
        operations: Vec<Value>,
    ) -> Result<Option<Value>, ConnectorError> {
        check_id(id)?;
        let body = json!({"schemas": [PATCH_OP_SCHEMA], "Operations": operations});
        let reply = self
            .execute(Method::PATCH, self.url(&[kind.endpoint(), id]), Some(&body))
            .await?;
        found(&reply)?;
        if reply.status == 204 || reply.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        resource(&reply).map(Some)
    }

    /// 404 counts as success (already gone).
    pub async fn delete(&self, kind: ResourceKind, id: &str) -> Result<(), ConnectorError> {
        check_id(id)?;
        self.execute(Method::DELETE, self.url(&[kind.endpoint(), id]), None)
            .await?;
        Ok(())
    }

    fn url(&self, segments: &[&str]) -> url::Url {
        let mut url = self.inner.base.clone();
        // `base_url` accepted only http(s) URLs, which always have a path.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// Sends one request with retries (recorded, or answered by the dry
    /// run, when there is a recording). Returns 2xx replies and 404 (whose
    /// meaning depends on the call); everything else is an error.
    async fn execute(
        &self,
        method: Method,
        url: url::Url,
        body: Option<&Value>,
    ) -> Result<Reply, ConnectorError> {
        let Some(recording) = &self.recording else {
            return self.send(&method, &url, body).await;
        };
        let base = &self.inner.base;
        if let Some(reply) = recording.dry_answer(base, &method, &url, body) {
            return Ok(reply);
        }
        let result = self.send(&method, &url, body).await;
        recording.sent(base, &method, &url, body, &result);
        result
    }

    async fn send(
        &self,
        method: &Method,
        url: &url::Url,
        body: Option<&Value>,
    ) -> Result<Reply, ConnectorError> {
        let inner = &*self.inner;
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| ConnectorError::Config(format!("cannot encode the request body: {e}")))?;
        let path = url.path().to_string();
        let refreshed = AtomicBool::new(false);
        with_retries(&inner.transport.retry, &path, || {
            self.attempt(method, url, body.as_deref(), &refreshed)
        })
        .await
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &url::Url,
        body: Option<&[u8]>,
        refreshed: &AtomicBool,
    ) -> Result<Reply, Attempt> {
        let inner = &*self.inner;
        let path = url.path();
        let authorization = inner.auth.header(&inner.transport).await?;
        self.pace().await;
        let mut request = inner
            .transport
            .http
            .request(method.clone(), url.clone())
            .headers(inner.headers.clone())
            .header(AUTHORIZATION, authorization.clone())
            .header(
                ACCEPT,
                if self.plain.is_some() {
                    PLAIN_JSON
                } else {
                    ACCEPT_SCIM
                },
            );
        if let Some(body) = body {
            let media = if self.plain.is_some() {
                PLAIN_JSON
            } else {
                SCIM_JSON
            };
            request = request.header(CONTENT_TYPE, media).body(body.to_vec());
        }
        let reply = inner.transport.send(request).await?;
        tracing::debug!(%method, path, status = reply.status, "target answered");
        if let Some(verdict) = self.judge(&reply) {
            return Err(verdict);
        }
        match reply.status {
            200..=299 | 404 => Ok(reply),
            // One fresh token per request: a second 401 means the credentials are refused.
            401 if !refreshed.swap(true, Ordering::Relaxed)
                && inner.auth.refused(&authorization).await =>
            {
                tracing::info!(path, "target refused the access token; fetching a new one");
                Err(Attempt::Reauthenticate)
            }
            401 | 403 => {
                tracing::warn!(%method, path, status = reply.status, "target refused the credentials");
                Err(error::unauthorized(reply.status, &reply.body).into())
            }
            _ if reply.is_transient() => Err(reply.transient()),
            300..=399 => Err(reply.redirect().into()),
            status => Err(error::rejected(status, &reply.body).into()),
        }
    }
}

/// A 404 where the resource must exist is a refusal like any other.
fn found(reply: &Reply) -> Result<(), ConnectorError> {
    if reply.status == 404 {
        return Err(error::rejected(404, &reply.body));
    }
    Ok(())
}

fn json_body(reply: &Reply) -> Result<Value, ConnectorError> {
    serde_json::from_slice(&reply.body).map_err(|_| {
        ConnectorError::Protocol(format!(
            "HTTP {} with a body that is not JSON: {}",
            reply.status,
            error::excerpt(&reply.body)
        ))
    })
}

/// A resource: a JSON object with a non-empty string `id`.
fn resource(reply: &Reply) -> Result<Value, ConnectorError> {
    let value = json_body(reply)?;
    check_resource(&value)?;
    Ok(value)
}

fn check_resource(value: &Value) -> Result<(), ConnectorError> {
    match value.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => Ok(()),
        _ => Err(ConnectorError::Protocol(format!(
            "a resource without an id: {}",
            error::excerpt(value.to_string().as_bytes())
        ))),
    }
}
