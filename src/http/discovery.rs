//! `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas` (GET only).

use std::collections::HashMap;
use std::sync::Mutex;

use actix_web::http::{Method, StatusCode, header};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::AppState;
use super::response::{self, base_url};
use super::routes::Endpoint;
use crate::error::AppError;
use crate::scim::{ScimError, discovery};
use crate::service::tokens::SCOPE_READ;

/// Discovery documents, GET only, with `scim:read`.
pub fn endpoints() -> Vec<Endpoint> {
    let read = Some(SCOPE_READ);
    vec![
        Endpoint::new(
            Method::GET,
            "/ServiceProviderConfig",
            read,
            service_provider_config,
        ),
        Endpoint::new(Method::GET, "/ResourceTypes", read, resource_types),
        Endpoint::new(Method::GET, "/ResourceTypes/{id}", read, resource_type),
        Endpoint::new(Method::GET, "/Schemas", read, schemas),
        Endpoint::new(Method::GET, "/Schemas/{id}", read, schema),
    ]
}

/// The discovery documents as last rendered, each with the base URL it was
/// rendered for: they only change with the base (the capabilities come from
/// the configuration), so most requests send stored bytes. One entry per
/// document, so a client varying `Host` cannot grow it.
#[derive(Debug, Default)]
pub struct Rendered(Mutex<HashMap<&'static str, (String, Bytes)>>);

impl Rendered {
    fn get(&self, document: &'static str, base: &str, render: impl FnOnce() -> Value) -> Bytes {
        let mut known = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((for_base, bytes)) = known.get(document)
            && for_base == base
        {
            return bytes.clone();
        }
        let bytes = Bytes::from(render().to_string());
        known.insert(document, (base.to_string(), bytes.clone()));
        bytes
    }
}

fn rendered(status: StatusCode, body: Bytes) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, response::SCIM_CONTENT_TYPE))
        .body(body)
}

async fn service_provider_config(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let base = base_url(&req, &state);
    let body = state.discovery.get("ServiceProviderConfig", &base, || {
        discovery::service_provider_config(&state.capabilities(), &base)
    });
    rendered(StatusCode::OK, body)
}

async fn resource_types(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let base = base_url(&req, &state);
    let body = state
        .discovery
        .get("ResourceTypes", &base, || discovery::resource_types(&base));
    rendered(StatusCode::OK, body)
}

async fn resource_type(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let body = discovery::resource_type(&id, &base_url(&req, &state))
        .ok_or_else(|| ScimError::not_found(format!("resource type \"{id}\" not found")))?;
    Ok(response::json(StatusCode::OK, &body))
}

async fn schemas(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let base = base_url(&req, &state);
    let body = state
        .discovery
        .get("Schemas", &base, || discovery::schemas(&base));
    rendered(StatusCode::OK, body)
}

async fn schema(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let body = discovery::schema(&id, &base_url(&req, &state))
        .ok_or_else(|| ScimError::not_found(format!("schema \"{id}\" not found")))?;
    Ok(response::json(StatusCode::OK, &body))
}
