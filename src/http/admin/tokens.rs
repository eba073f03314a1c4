//! `/admin/v1/tokens`: list, create (the secret is in this one answer
//! only) and revoke API tokens.

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::error::AppError;
use crate::http::AppState;
use crate::http::body::ScimJson;
use crate::http::middleware::actor_of;
use crate::http::routes::Endpoint;
use crate::service::Principal;
use crate::service::tokens::SCOPE_ADMIN;

type Handled = Result<HttpResponse, AppError>;

pub fn endpoints() -> Vec<Endpoint> {
    let admin = Some(SCOPE_ADMIN);
    vec![
        Endpoint::new(Method::GET, "/tokens", admin, list),
        Endpoint::new(Method::POST, "/tokens", admin, create),
        Endpoint::new(Method::DELETE, "/tokens/{id}", admin, revoke),
    ]
}

async fn list(state: web::Data<AppState>) -> Handled {
    let tokens = state.services.tokens.list().await?;
    Ok(HttpResponse::Ok().json(json!({ "tokens": tokens })))
}

async fn create(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    ScimJson(body): ScimJson,
) -> Handled {
    let created = state
        .services
        .tokens
        .create(&actor_of(&caller, &req), body)
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED)
        // The answer carries a secret: no cache may keep it.
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(created))
}

async fn revoke(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    id: web::Path<String>,
) -> Handled {
    state
        .services
        .tokens
        .revoke(&actor_of(&caller, &req), &id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
