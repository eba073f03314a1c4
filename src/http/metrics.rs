//! Prometheus metrics at `/metrics` (admin scope): HTTP requests by route
//! template, method and status with latency histograms, refused requests,
//! and — read from the store at each scrape — the database pool, the sync
//! center per target and the notification outbox. Label values come from
//! bounded sets (route templates, never ids).

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::AppState;
use super::routes::Endpoint;
use crate::error::AppError;
use crate::service::tokens::SCOPE_ADMIN;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TargetLabels {
    target: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TargetStateLabels {
    target: String,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    target: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// The target states a state gauge is written for (one is 1, the others 0).
const TARGET_STATES: [&str; 5] = [
    "new",
    "active",
    "paused",
    "quarantined",
    "awaiting_approval",
];

fn latency_histogram() -> Histogram {
    // 0.25 ms to about 8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

/// Every metric; one per server, shared by its workers.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: HistogramFamily<RouteLabels>,
    unauthenticated: Counter,
    forbidden: Counter,
    rate_limited: Counter,
    pool_connections: Gauge,
    pool_idle: Gauge,
    target_state: Family<TargetStateLabels, Gauge>,
    queue_depth: Family<TargetLabels, Gauge>,
    lag: Family<TargetLabels, Gauge>,
    runs: Family<RunLabels, Gauge>,
    outbox: Family<StatusLabels, Gauge>,
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "scimhub_http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        let durations: HistogramFamily<RouteLabels> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "scimhub_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method",
            durations.clone(),
        );
        let unauthenticated = Counter::default();
        registry.register(
            "scimhub_auth_failures",
            "Requests refused for a missing, invalid or revoked credential (401)",
            unauthenticated.clone(),
        );
        let forbidden = Counter::default();
        registry.register(
            "scimhub_auth_denied",
            "Requests refused for a credential lacking the scope (403)",
            forbidden.clone(),
        );
        let rate_limited = Counter::default();
        registry.register(
            "scimhub_rate_limited_requests",
            "Requests refused by the per-credential rate limit (429)",
            rate_limited.clone(),
        );
        let pool_connections = Gauge::default();
        registry.register(
            "scimhub_db_pool_connections",
            "Open database connections of this instance",
            pool_connections.clone(),
        );
        let pool_idle = Gauge::default();
        registry.register(
            "scimhub_db_pool_idle_connections",
            "Idle database connections of this instance",
            pool_idle.clone(),
        );
        let target_state = Family::<TargetStateLabels, Gauge>::default();
        registry.register(
            "scimhub_sync_target_state",
            "1 for the state each sync target is in",
            target_state.clone(),
        );
        let queue_depth = Family::<TargetLabels, Gauge>::default();
        registry.register(
            "scimhub_sync_failure_queue_depth",
            "Objects waiting in a target's failure queue",
            queue_depth.clone(),
        );
        let lag = Family::<TargetLabels, Gauge>::default();
        registry.register(
            "scimhub_sync_change_log_lag",
            "Change-log entries a target's real-time sync has not read yet",
            lag.clone(),
        );
        let runs = Family::<RunLabels, Gauge>::default();
        registry.register(
            "scimhub_sync_runs",
            "Full sync runs in the history, by target and outcome",
            runs.clone(),
        );
        let outbox = Family::<StatusLabels, Gauge>::default();
        registry.register(
            "scimhub_notification_outbox",
            "Notification and subscription deliveries in the outbox, by status",
            outbox.clone(),
        );
        Arc::new(Self {
            registry,
            requests,
            durations,
            unauthenticated,
            forbidden,
            rate_limited,
            pool_connections,
            pool_idle,
            target_state,
            queue_depth,
            lag,
            runs,
            outbox,
        })
    }

    fn observe(&self, method: &'static str, route: String, status: u16, seconds: f64) {
        match status {
            401 => {
                self.unauthenticated.inc();
            }
            403 => {
                self.forbidden.inc();
            }
            429 => {
                self.rate_limited.inc();
            }
            _ => {}
        }
        self.durations
            .get_or_create(&RouteLabels {
                method,
                route: route.clone(),
            })
            .observe(seconds);
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
    }
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts and times every request by the route template it matched.
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = method_label(req.method());
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone());
    let res = next.call(req).await?;
    if let Some(metrics) = metrics {
        // `/Users/{id}` as `/Users/:id`: braces in label values trip
        // some exposition parsers.
        let route = res.request().match_pattern().map_or_else(
            || "unmatched".to_string(),
            |p| p.replace('{', ":").replace('}', ""),
        );
        let seconds = started.elapsed().as_secs_f64();
        metrics.observe(method, route, res.status().as_u16(), seconds);
    }
    Ok(res)
}

pub fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint::new(Method::GET, "", Some(SCOPE_ADMIN), scrape)]
}

fn count(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

/// The text exposition, with the store-backed gauges read now.
async fn scrape(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let snapshot = state.services.operations.snapshot().await?;
    let m = &state.metrics;
    m.pool_connections.set(count(snapshot.pool_open));
    m.pool_idle.set(count(snapshot.pool_idle));
    // Removed targets and drained statuses must not linger.
    m.target_state.clear();
    m.queue_depth.clear();
    m.lag.clear();
    m.runs.clear();
    m.outbox.clear();
    for t in &snapshot.targets {
        for s in TARGET_STATES {
            let labels = TargetStateLabels {
                target: t.name.clone(),
                state: s,
            };
            m.target_state
                .get_or_create(&labels)
                .set(i64::from(t.state == s));
        }
        let labels = TargetLabels {
            target: t.name.clone(),
        };
        m.queue_depth
            .get_or_create(&labels)
            .set(count(t.queue_depth));
        m.lag.get_or_create(&labels).set(t.lag);
    }
    for (target, status, n) in snapshot.runs {
        m.runs.get_or_create(&RunLabels { target, status }).set(n);
    }
    for (status, n) in snapshot.outbox {
        m.outbox.get_or_create(&StatusLabels { status }).set(n);
    }
    let mut text = String::new();
    encode(&mut text, &m.registry).map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}
