//! SCIM events over HTTP: the public signing key (`/.well-known/jwks.json`,
//! public key material, no credential) and the poll endpoint (RFC 8936),
//! whose credential is the subscription's own secret as a bearer token.

use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::AppState;
use super::middleware::client_address;
use super::routes::Endpoint;
use crate::error::AppError;
use crate::service::event_feed::PollFailure;

/// The credential a route under `/events/v1` needs, as the route table
/// and docs/admin-api.md name it: not a token scope.
pub const SUBSCRIPTION_SECRET: &str = "subscription secret";
use crate::scim::event_uris::JWKS_PATH;

pub fn public_endpoints() -> Vec<Endpoint> {
    vec![Endpoint::new(Method::GET, JWKS_PATH, None, jwks)]
}

/// Mounted under `EVENTS_BASE`.
pub fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint::new(
        Method::POST,
        "/poll/{id}",
        Some(SUBSCRIPTION_SECRET),
        poll,
    )]
}

async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .insert_header(CacheControl(vec![CacheDirective::MaxAge(300)]))
        .body(state.services.events.jwks().to_string())
}

async fn poll(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or_default());
    let source = client_address(&req).unwrap_or_else(|| "unknown".into());
    let events = &state.services.events;
    let sub = events.authenticate(&id, authorization, &source).await?;
    // Like API tokens, each subscription's receiver has its own budget.
    if let Err(wait) = state
        .rate_limiter
        .check(&format!("subscription:{}", sub.id))
    {
        let retry_after_secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        return Err(AppError::RateLimited { retry_after_secs });
    }
    match events.poll(sub, &body).await {
        Ok(answer) => Ok(HttpResponse::Ok()
            // SETs are not to be kept by caches on the way.
            .insert_header(CacheControl(vec![CacheDirective::NoStore]))
            .json(answer)),
        // RFC 8935 §2.3's error shape, which SET receivers understand.
        Err(PollFailure::InvalidRequest(description)) => {
            Ok(HttpResponse::build(StatusCode::BAD_REQUEST)
                .json(json!({"err": "invalid_request", "description": description})))
        }
        Err(PollFailure::App(e)) => Err(e),
    }
}
