//! The process's Prometheus metrics (prometheus-client): HTTP requests by
//! route template, refused requests, objects written by the sync center,
//! and — set from the store at each scrape — the database pool, the sync
//! targets and the notification outbox. Label values come from bounded sets
//! (route templates, target names, action words; never a resource id).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// What a scrape reads from the store.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    pub pool_open: u32,
    pub pool_idle: u32,
    /// Check-outs that had to wait for a connection (a running total).
    pub pool_waits: u64,
    /// Outbox rows per status.
    pub outbox: Vec<(String, i64)>,
    pub targets: Vec<TargetGauges>,
    /// Runs per (target name, status).
    pub runs: Vec<(String, String, i64)>,
}

/// One target's gauges.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetGauges {
    pub name: String,
    /// new, active, paused, quarantined, awaiting_approval
    pub state: &'static str,
    pub queue_depth: usize,
    pub lag: i64,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ObjectLabels {
    target: String,
    action: String,
    outcome: &'static str,
}

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

/// Every metric of the process: the HTTP layer and the sync engines record
/// into it, a scrape renders it.
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
    objects: Family<ObjectLabels, Counter>,
    pool_waits: Counter,
    /// The pool's wait total last read, to turn it into counter increments.
    seen_waits: AtomicU64,
    /// The request series already created, by (method, route, status).
    series: RwLock<HashMap<SeriesKey, (Histogram, Counter)>>,
}

type SeriesKey = (&'static str, &'static str, u16);

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
        let objects = Family::<ObjectLabels, Counter>::default();
        registry.register(
            "scimhub_sync_objects",
            "Objects the sync center wrote or tried to, by target, action and outcome",
            objects.clone(),
        );
        let pool_waits = Counter::default();
        registry.register(
            "scimhub_db_pool_waits",
            "Database connection check-outs that had to wait for a free connection",
            pool_waits.clone(),
        );
        Arc::new(Self {
            registry,
            objects,
            pool_waits,
            seen_waits: AtomicU64::new(0),
            series: RwLock::default(),
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

    /// `n` objects of `target` met `action` (created, updated, deactivated,
    /// deleted, linked, unchanged, held, …) with `outcome` (`ok` or `failed`).
    pub fn objects(&self, target: &str, action: &str, outcome: &'static str, n: u64) {
        if n == 0 {
            return;
        }
        self.objects
            .get_or_create(&ObjectLabels {
                target: target.to_string(),
                action: action.to_string(),
                outcome,
            })
            .inc_by(n);
    }

    /// The text exposition, with the store-backed figures of `snapshot`.
    pub fn render(&self, snapshot: Snapshot) -> anyhow::Result<String> {
        let m = self;
        m.pool_connections.set(count(snapshot.pool_open));
        m.pool_idle.set(count(snapshot.pool_idle));
        let before = m.seen_waits.swap(snapshot.pool_waits, Ordering::Relaxed);
        m.pool_waits
            .inc_by(snapshot.pool_waits.saturating_sub(before));
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
        encode(&mut text, &m.registry)?;
        Ok(text)
    }

    /// One answered request: its route template, method, status, time.
    pub fn observe(&self, method: &'static str, route: &'static str, status: u16, seconds: f64) {
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
        let key = (method, route, status);
        let known = self
            .series
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned();
        let (duration, count) = known.unwrap_or_else(|| self.new_series(key));
        duration.observe(seconds);
        count.inc();
    }

    /// The families' series for a (method, route, status) seen for the first
    /// time, remembered so later requests skip the families' label maps.
    fn new_series(&self, key: SeriesKey) -> (Histogram, Counter) {
        let (method, route, status) = key;
        let duration = self
            .durations
            .get_or_create(&RouteLabels {
                method,
                route: route.to_string(),
            })
            .clone();
        let count = self
            .requests
            .get_or_create(&RequestLabels {
                method,
                route: route.to_string(),
                status,
            })
            .clone();
        self.series
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, (duration.clone(), count.clone()));
        (duration, count)
    }
}

fn count(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}
