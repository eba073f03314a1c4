//! Successful SCIM responses.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;

use super::AppState;
use crate::scim::render::ResourceMeta;

pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";

pub fn json(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, SCIM_CONTENT_TYPE))
        .body(body.to_string())
}

/// A body already rendered to JSON text.
pub fn json_text(status: StatusCode, body: Vec<u8>) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, SCIM_CONTENT_TYPE))
        .body(body)
}

/// A single resource: carries its version as a weak ETag.
pub fn resource(status: StatusCode, body: &Value, meta: &ResourceMeta) -> HttpResponse {
    let mut response = json(status, body);
    with_etag(&mut response, meta);
    if status == StatusCode::CREATED {
        let location = body["meta"]["location"].as_str().unwrap_or_default();
        if let Ok(v) = header::HeaderValue::from_str(location) {
            response.headers_mut().insert(header::LOCATION, v);
        }
    }
    response
}

/// A single resource already rendered to JSON text, with its `Location`
/// when it was just created.
pub fn resource_text(
    status: StatusCode,
    body: Vec<u8>,
    meta: &ResourceMeta,
    location: Option<&str>,
) -> HttpResponse {
    let mut response = json_text(status, body);
    with_etag(&mut response, meta);
    if let Some(v) = location.and_then(|l| header::HeaderValue::from_str(l).ok()) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// An answer without a body that still names the resource's version (304
/// to a conditional GET, 204 to a group PATCH).
pub fn etag_only(status: StatusCode, meta: &ResourceMeta) -> HttpResponse {
    let mut response = HttpResponse::build(status).finish();
    with_etag(&mut response, meta);
    response
}

fn with_etag(response: &mut HttpResponse, meta: &ResourceMeta) {
    if let Ok(v) = header::HeaderValue::from_str(&meta.etag()) {
        response.headers_mut().insert(header::ETAG, v);
    }
}

/// The absolute SCIM base URL for links: the configured public URL, or the
/// scheme and host the request came in on.
pub fn base_url(req: &HttpRequest, state: &AppState) -> String {
    match &state.public_url {
        Some(url) => format!("{}/scim/v2", url.trim_end_matches('/')),
        None => {
            let origin = super::origin::of(req, &state.trusted_proxies);
            format!("{}://{}/scim/v2", origin.scheme, origin.host)
        }
    }
}
