//! Request ids and bearer authentication.

use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest, web};
use tracing::Instrument;

use super::AppState;
use crate::error::{AppError, AuthError};
use crate::service::Principal;
use crate::service::auth::required_scope;
use crate::service::tokens::SCOPE_ADMIN;
use crate::store::Actor;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request's id, left in the extensions for the audit trail.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The actor of a change made by this request: the caller, the request id
/// and the peer address.
pub fn actor_of(caller: &Principal, req: &HttpRequest) -> Actor {
    actor_named(&caller.name, req)
}

/// The actor `name` acting in this request (the console's session actor).
pub fn actor_named(name: &str, req: &HttpRequest) -> Actor {
    Actor {
        name: name.to_string(),
        request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
        source: client_address(req),
    }
}

/// The client's address (behind trusted proxies, the forwarded one).
pub fn client_address(req: &HttpRequest) -> Option<String> {
    let proxies = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.trusted_proxies.as_slice())
        .unwrap_or_default();
    super::origin::client(req, proxies).map(|ip| ip.to_string())
}

/// 414 / 431 for a request target or headers over the configured bounds.
fn oversized_head(req: &ServiceRequest) -> Option<AppError> {
    let state = req.app_data::<web::Data<AppState>>()?;
    let target = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if target > state.max_url_bytes {
        let detail = format!(
            "the request target is longer than {} bytes",
            state.max_url_bytes
        );
        return Some(crate::scim::ScimError::new(414, None, detail).into());
    }
    let headers: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if headers > state.max_header_bytes {
        let detail = format!(
            "the request headers are larger than {} bytes",
            state.max_header_bytes
        );
        return Some(crate::scim::ScimError::new(431, None, detail).into());
    }
    None
}

/// Longest incoming request id kept.
const MAX_REQUEST_ID: usize = 128;

/// The caller's `X-Request-Id` when it is a plain token (letters, digits,
/// `-`, `_`, `.`, `:`; at most 128), so a proxy's or client's id follows
/// the request through our logs; anything else is replaced.
fn incoming_request_id(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get(&REQUEST_ID)?.to_str().ok()?;
    let ok = !value.is_empty()
        && value.len() <= MAX_REQUEST_ID
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    ok.then(|| value.to_string())
}

/// A new request id: 32 hex digits, a random per-process prefix and a
/// counter (unique without asking the OS for randomness per request).
fn new_request_id() -> String {
    static PREFIX: std::sync::LazyLock<u64> =
        std::sync::LazyLock::new(|| uuid::Uuid::new_v4().as_u64_pair().0);
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{:016x}{n:016x}", *PREFIX)
}

/// Gives every request an id (kept from a valid incoming `X-Request-Id`,
/// else new; span field and response header) and logs its outcome.
pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let id = incoming_request_id(&req).unwrap_or_else(new_request_id);
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.path());
    let started = Instant::now();
    req.extensions_mut().insert(RequestId(id.clone()));
    if let Some(too_big) = oversized_head(&req) {
        let mut res = req.error_response(too_big).map_into_right_body();
        if let Ok(v) = HeaderValue::from_str(&id) {
            res.headers_mut().insert(REQUEST_ID, v);
        }
        return Ok(res);
    }
    let mut res = next
        .call(req)
        .instrument(span.clone())
        .await?
        .map_into_left_body();
    span.in_scope(|| {
        tracing::info!(
            status = res.status().as_u16(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request finished"
        );
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    Ok(res)
}

/// Guards `/scim/v2`: a valid token carrying the scope the method needs
/// (`service::auth::required_scope`); the caller's `Principal` is left in
/// the request extensions.
pub async fn require_token(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let scope = required_scope(req.method().as_str(), req.path());
    authorize(req, next, scope).await
}

/// Guards `/admin/v1`: every route there needs the `admin` scope.
pub async fn require_admin(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    authorize(req, next, SCOPE_ADMIN).await
}

/// Authenticates the bearer token, checks `scope` and the rate limit.
async fn authorize(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
    scope: &'static str,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        let err = AppError::Internal(anyhow::anyhow!("application state missing"));
        return Ok(req.error_response(err).map_into_right_body());
    };
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or_default());
    let source = || client_address(req.request()).unwrap_or_else(|| "unknown".into());
    let principal = match state
        .services
        .auth
        .authenticate(authorization, &source)
        .await
    {
        Ok(p) => p,
        Err(err) => return Ok(req.error_response(err).map_into_right_body()),
    };
    if let Err(denied) = principal.require(scope) {
        tracing::warn!(target: crate::telemetry::AUDIT, event = "auth.denied", token = %principal.name, scope, source = %source());
        return Ok(req
            .error_response(AppError::from(denied))
            .map_into_right_body());
    }
    if let Err(wait) = state.rate_limiter.check(&principal.name) {
        let retry_after_secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        tracing::warn!(target: crate::telemetry::AUDIT, event = "rate_limited", token = %principal.name, source = %source());
        return Ok(req
            .error_response(AppError::RateLimited { retry_after_secs })
            .map_into_right_body());
    }
    req.extensions_mut().insert(principal);
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

impl FromRequest for Principal {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Only routes behind `require_token` may ask for the caller.
        std::future::ready(
            req.extensions()
                .get::<Principal>()
                .cloned()
                .ok_or(AppError::Auth(AuthError::Missing)),
        )
    }
}
