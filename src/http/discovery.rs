//! `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas` (GET only).

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};

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

async fn service_provider_config(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let body = discovery::service_provider_config(&state.capabilities(), &base_url(&req, &state));
    response::json(StatusCode::OK, &body)
}

async fn resource_types(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    response::json(
        StatusCode::OK,
        &discovery::resource_types(&base_url(&req, &state)),
    )
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
    response::json(StatusCode::OK, &discovery::schemas(&base_url(&req, &state)))
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
