//! The incremental sync's failure queue and target quarantine over HTTP.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::error::AppError;
use crate::http::AppState;
use crate::http::middleware::actor_of;
use crate::http::routes::Endpoint;
use crate::service::Principal;
use crate::service::tokens::SCOPE_ADMIN;

type Handled = Result<HttpResponse, AppError>;

pub fn endpoints() -> Vec<Endpoint> {
    let admin = Some(SCOPE_ADMIN);
    vec![
        Endpoint::new(Method::GET, "/failures", admin, list),
        Endpoint::new(Method::POST, "/failures/retry", admin, retry_all),
        Endpoint::new(Method::POST, "/failures/{id}/retry", admin, retry),
        Endpoint::new(Method::DELETE, "/failures/{id}", admin, discard),
        Endpoint::new(Method::POST, "/targets/{name}/release", admin, release),
    ]
}

/// `?target=NAME` narrows to one target.
fn target_param(req: &HttpRequest) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "target")
        .map(|(_, v)| v.into_owned())
}

async fn list(state: web::Data<AppState>, req: HttpRequest) -> Handled {
    let failures = state.services.sync.failures(target_param(&req)).await?;
    Ok(HttpResponse::Ok().json(json!({ "failures": failures })))
}

async fn retry_all(state: web::Data<AppState>, caller: Principal, req: HttpRequest) -> Handled {
    let n = state
        .services
        .sync
        .retry_failures(&actor_of(&caller, &req), target_param(&req))
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "retrying": n })))
}

async fn retry(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    id: web::Path<String>,
) -> Handled {
    state
        .services
        .sync
        .retry_failure(&actor_of(&caller, &req), &id)
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "retrying": 1 })))
}

async fn discard(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    id: web::Path<String>,
) -> Handled {
    state
        .services
        .sync
        .discard_failure(&actor_of(&caller, &req), &id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn release(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    name: web::Path<String>,
) -> Handled {
    let released = state
        .services
        .sync
        .release_target(&actor_of(&caller, &req), &name)
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "released": released })))
}
