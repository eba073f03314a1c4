//! The HTTP front end (actix-web only). Handlers are thin: they extract,
//! call `service`, and render; `error.rs` is the only place errors become
//! responses.

mod admin;
mod body;
mod canonical_path;
mod console;
mod discovery;
mod error;
mod events;
mod me;
mod metrics;
mod middleware;
mod origin;
mod rate_limit;
mod resources;
mod response;
mod routes;
mod strict_json;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::STRICT_TRANSPORT_SECURITY;
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::json;

use crate::config::Config;
use crate::error::AppError;
use crate::scim::ScimError;
use crate::scim::discovery::Capabilities;
use crate::service::tokens::{SCOPE_READ, SCOPE_WRITE};
use crate::service::{Services, blocking};
use routes::Endpoint;

pub use events::SUBSCRIPTION_SECRET;
pub use middleware::REQUEST_ID;
pub use routes::RouteRule;

/// Shared, read-only state of every worker.
pub struct AppState {
    pub services: Services,
    pub public_url: Option<String>,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub max_body_bytes: usize,
    pub default_page_size: u64,
    pub max_page_size: u64,
    pub rate_limiter: rate_limit::RateLimiter,
    /// Failed console sign-ins, per client address.
    pub console_sign_ins: rate_limit::RateLimiter,
    /// Serve the console at `/console`.
    pub console_enabled: bool,
    /// The external sign-in offered on the console's sign-in page, if any.
    pub console_oidc_name: Option<String>,
    pub max_url_bytes: usize,
    pub max_header_bytes: usize,
    /// Discovery documents as last rendered (they are constant per base URL).
    pub discovery: discovery::Rendered,
}

impl AppState {
    pub fn new(config: &Config, services: Services) -> Self {
        Self {
            console_oidc_name: services.console.oidc().map(|o| o.name().to_string()),
            services,
            public_url: config.public_url.clone(),
            trusted_proxies: config.trusted_proxies.clone(),
            max_body_bytes: config.max_body_bytes,
            default_page_size: config.default_page_size,
            max_page_size: config.max_page_size,
            rate_limiter: rate_limit::RateLimiter::new(
                config.rate_limit_per_second,
                config.rate_limit_burst,
            ),
            console_sign_ins: rate_limit::RateLimiter::new(
                f64::from(config.console.sign_in_failures_per_minute) / 60.0,
                f64::from(config.console.sign_in_failures_per_minute),
            ),
            console_enabled: config.console.enabled,
            max_url_bytes: config.max_url_bytes,
            max_header_bytes: config.max_header_bytes,
            discovery: discovery::Rendered::default(),
        }
    }

    pub fn capabilities(&self) -> Capabilities {
        Capabilities {
            max_results: self.max_page_size,
            max_payload_bytes: self.max_body_bytes as u64,
            default_page_size: self.services.listing.limits().default_page_size,
            bulk_max_operations: self.services.bulk.max_operations as u64,
            cursor_timeout_secs: self.services.listing.cursor_timeout_secs(),
            security_events: self.services.events.publisher().is_some(),
        }
    }
}

/// Where the SCIM API and the admin API are mounted.
pub const SCIM_BASE: &str = "/scim/v2";
pub const ADMIN_BASE: &str = "/admin/v1";
pub const EVENTS_BASE: &str = "/events/v1";
pub const METRICS_PATH: &str = "/metrics";

fn public_endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/healthz", None, healthz),
        Endpoint::new(Method::GET, "/livez", None, livez),
    ]
    .into_iter()
    .chain(events::public_endpoints())
    .collect()
}

fn scim_endpoints() -> Vec<Endpoint> {
    let (read, write) = (Some(SCOPE_READ), Some(SCOPE_WRITE));
    let mut all = discovery::endpoints();
    for rt in &crate::scim::registry::registry().resource_types {
        all.extend(resources::endpoints(rt.kind));
    }
    all.push(Endpoint::new(Method::POST, "/Bulk", write, bulk));
    all.extend(me::endpoints());
    all.push(Endpoint::new(Method::GET, "/Changes", read, changes));
    all.push(Endpoint::new(
        Method::POST,
        "/.search",
        read,
        resources::search_all,
    ));
    all
}

/// Registers every route. `/scim/v2` and `/admin/v1` each sit behind bearer
/// auth as a whole, so a route added there later cannot be reached without
/// a token carrying the scope its guard asks for.
pub fn routes(cfg: &mut web::ServiceConfig) {
    routes::mount(cfg, "", public_endpoints());
    cfg.service(
        web::scope(SCIM_BASE)
            .wrap(from_fn(middleware::require_token))
            .configure(|c| routes::mount(c, SCIM_BASE, scim_endpoints()))
            .default_service(web::to(not_found)),
    )
    .service(
        web::scope(ADMIN_BASE)
            .wrap(from_fn(middleware::require_admin))
            .configure(|c| routes::mount(c, ADMIN_BASE, admin::endpoints()))
            .default_service(web::to(not_found)),
    )
    .service(
        // Each route checks its own credential (the subscription's secret).
        web::scope(EVENTS_BASE)
            .configure(|c| routes::mount(c, EVENTS_BASE, events::endpoints()))
            .default_service(web::to(not_found)),
    )
    .service(
        web::scope(METRICS_PATH)
            .wrap(from_fn(middleware::require_admin))
            .configure(|c| routes::mount(c, METRICS_PATH, metrics::endpoints())),
    );
}

/// Every console route with what it needs: `None` (sign-in, assets) or
/// `console::SESSION` (for the console access tests and docs/console.md).
pub fn console_route_table() -> Vec<RouteRule> {
    console::route_table()
}

/// Every registered route with the scope it needs, from the same
/// declarations `routes` mounts (for the access tests and docs/admin-api.md).
pub fn route_table() -> Vec<RouteRule> {
    let mut all = routes::rules("", public_endpoints());
    all.extend(routes::rules(SCIM_BASE, scim_endpoints()));
    all.extend(routes::rules(ADMIN_BASE, admin::endpoints()));
    all.extend(routes::rules(EVENTS_BASE, events::endpoints()));
    all.extend(routes::rules(METRICS_PATH, metrics::endpoints()));
    all
}

/// The application every worker runs. `hsts_max_age`: sent as
/// `Strict-Transport-Security` on every response (HTTPS only).
fn app(
    state: web::Data<AppState>,
    hsts_max_age: Option<u64>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let console = state.console_enabled;
    let mut always = DefaultHeaders::new();
    if let Some(age) = hsts_max_age {
        always = always.add((STRICT_TRANSPORT_SECURITY, format!("max-age={age}")));
    }
    App::new()
        .app_data(state)
        .wrap(from_fn(canonical_path::rewrite))
        .wrap(from_fn(metrics::track))
        .wrap(from_fn(middleware::request_id))
        .wrap(always)
        .configure(|c| {
            if console {
                console::mount(c);
            }
            routes(c);
        })
        .default_service(web::to(not_found))
}

/// Binds the listener and returns the server (to await) and its address;
/// HTTPS when `tls.cert_file` and `tls.key_file` are set.
pub fn bind(config: &Config, services: Services) -> anyhow::Result<(Server, SocketAddr)> {
    bind_with(config, services, tls::load(&config.tls)?)
}

/// `bind` with the certificate already loaded (`serve` loads it before it
/// opens the database, so a bad certificate stops it early).
pub fn bind_with(
    config: &Config,
    services: Services,
    certificate: Option<Arc<tls::Certificate>>,
) -> anyhow::Result<(Server, SocketAddr)> {
    let addrs = config.listen_addrs()?;
    // Extension schemas changed by another instance or the CLI are picked
    // up within this long.
    actix_web::rt::spawn(
        services
            .schemas
            .clone()
            .keep_fresh(Duration::from_secs(config.schema_refresh_secs.max(1))),
    );
    let state = web::Data::new(AppState::new(config, services));
    let hsts_max_age = certificate.as_ref().and(config.tls.hsts_max_age_secs);
    let factory = move || app(state.clone(), hsts_max_age);
    if let Some(certificate) = certificate {
        return tls::bind(config, &addrs, certificate, factory);
    }
    let mut server = HttpServer::new(factory)
        .shutdown_timeout(config.shutdown_timeout_secs)
        .client_request_timeout(Duration::from_secs(config.request_timeout_secs.max(1)))
        .keep_alive(Duration::from_secs(config.idle_timeout_secs.max(1)));
    if let Some(workers) = config.workers {
        server = server.workers(workers.max(1));
    }
    let server = server
        .bind(addrs.as_slice())
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
    let bound = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| anyhow::anyhow!("cannot listen on {}", config.listen))?;
    Ok((server.run(), bound))
}

/// The metrics-only listener (`metrics_listen`): `GET /metrics` without a
/// token, nothing else; its address is its protection.
pub fn bind_metrics(
    config: &Config,
    services: Services,
    addr: &str,
) -> anyhow::Result<(Server, SocketAddr)> {
    let state = web::Data::new(AppState::new(config, services));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route(METRICS_PATH, web::get().to(metrics::scrape))
            .default_service(web::to(not_found))
    })
    .workers(1)
    .shutdown_timeout(config.shutdown_timeout_secs)
    .bind(addr)
    .map_err(|e| anyhow::anyhow!("cannot listen on {addr} (metrics_listen): {e}"))?;
    let bound = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| anyhow::anyhow!("cannot listen on {addr} (metrics_listen)"))?;
    Ok((server.run(), bound))
}

async fn bulk(
    state: web::Data<AppState>,
    caller: crate::service::Principal,
    req: actix_web::HttpRequest,
    body::ScimJson(body): body::ScimJson,
) -> Result<HttpResponse, AppError> {
    let base = response::base_url(&req, &state);
    let result = state
        .services
        .bulk
        .run(&middleware::actor_of(&caller, &req), &body, &base)
        .await?;
    Ok(response::json(StatusCode::OK, &result))
}

/// `GET /Changes?since=CURSOR&count=N`: the downstream pull API.
async fn changes(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, AppError> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let base = response::base_url(&req, &state);
    let body = state
        .services
        .changes
        .pull(get("since").as_deref(), get("count").as_deref(), base)
        .await?;
    Ok(response::json(StatusCode::OK, &body))
}

async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let store = state.services.store.clone();
    match blocking(move || Ok(store.ping()?)).await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ok"})),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            HttpResponse::build(StatusCode::SERVICE_UNAVAILABLE)
                .json(json!({"status": "unavailable"}))
        }
    }
}

/// Liveness: a constant answer that touches no database. Besides probes,
/// `scimhub bench suite` uses it as the server's throughput ceiling.
async fn livez() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"status":"ok"}"#)
}

type Refused = Result<HttpResponse, AppError>;

async fn not_found() -> Refused {
    Err(ScimError::not_found("no such endpoint").into())
}

async fn method_not_allowed() -> Refused {
    Err(ScimError::new(405, None, "method not allowed on this endpoint").into())
}
