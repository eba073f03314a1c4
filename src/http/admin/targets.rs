//! `/admin/v1/targets`: the sync center's downstream targets. Answers never
//! carry credentials (`TargetView` has none).

use actix_web::http::header::LOCATION;
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::error::AppError;
use crate::http::body::ScimJson;
use crate::http::middleware::actor_of;
use crate::http::routes::Endpoint;
use crate::http::{ADMIN_BASE, AppState};
use crate::service::Principal;
use crate::service::tokens::SCOPE_ADMIN;

type Handled = Result<HttpResponse, AppError>;

pub fn endpoints() -> Vec<Endpoint> {
    let admin = Some(SCOPE_ADMIN);
    vec![
        Endpoint::new(Method::GET, "/targets", admin, list),
        Endpoint::new(Method::POST, "/targets", admin, add),
        Endpoint::new(Method::GET, "/targets/{name}", admin, show),
        Endpoint::new(Method::PATCH, "/targets/{name}", admin, update),
        Endpoint::new(Method::DELETE, "/targets/{name}", admin, remove),
        Endpoint::new(Method::POST, "/targets/{name}/pause", admin, pause),
        Endpoint::new(Method::POST, "/targets/{name}/resume", admin, resume),
        Endpoint::new(Method::POST, "/targets/{name}/test", admin, test),
        Endpoint::new(Method::POST, "/targets/{name}/provision", admin, provision),
    ]
}

async fn list(state: web::Data<AppState>) -> Handled {
    let targets = state.services.sync.targets().await?;
    Ok(HttpResponse::Ok().json(json!({ "targets": targets })))
}

async fn add(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    ScimJson(body): ScimJson,
) -> Handled {
    let view = state
        .services
        .sync
        .add_target(&actor_of(&caller, &req), body)
        .await?;
    // Target names are letters, digits, '-', '_' and '.': safe in a path.
    let location = format!("{ADMIN_BASE}/targets/{}", view.name);
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header((LOCATION, location))
        .json(view))
}

async fn show(state: web::Data<AppState>, name: web::Path<String>) -> Handled {
    let view = state.services.sync.target(&name).await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn update(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    name: web::Path<String>,
    ScimJson(body): ScimJson,
) -> Handled {
    let updated = state
        .services
        .sync
        .update_target(&actor_of(&caller, &req), &name, body)
        .await?;
    Ok(HttpResponse::Ok().json(updated))
}

async fn pause(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    name: web::Path<String>,
) -> Handled {
    let view = state
        .services
        .sync
        .pause(&actor_of(&caller, &req), &name)
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn resume(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    name: web::Path<String>,
) -> Handled {
    let view = state
        .services
        .sync
        .resume(&actor_of(&caller, &req), &name)
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// 200 with the step-by-step report, whether or not the target passed.
async fn test(state: web::Data<AppState>, name: web::Path<String>) -> Handled {
    let report = state.services.sync.test_target(&name).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// 200 with the step-by-step report, whether or not a step failed (`ok`).
async fn provision(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    name: web::Path<String>,
    ScimJson(body): ScimJson,
) -> Handled {
    let report = state
        .services
        .sync
        .provision_from_request(&actor_of(&caller, &req), &name, body)
        .await?;
    Ok(HttpResponse::Ok().json(report))
}

async fn remove(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    name: web::Path<String>,
) -> Handled {
    state
        .services
        .sync
        .remove_target(&actor_of(&caller, &req), &name)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
