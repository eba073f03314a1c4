//! `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas` (GET only).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::AppState;
use super::response::{self, base_url};
use crate::error::AppError;
use crate::scim::{ScimError, discovery};

fn get_only<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler))
        .default_service(web::to(super::method_not_allowed))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get_only("/ServiceProviderConfig", service_provider_config))
        .service(get_only("/ResourceTypes", resource_types))
        .service(get_only("/ResourceTypes/{id}", resource_type))
        .service(get_only("/Schemas", schemas))
        .service(get_only("/Schemas/{id}", schema));
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
