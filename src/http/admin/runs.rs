//! Sync runs over HTTP: start one in the background (202, then poll its
//! report), list a target's runs, read a report, approve or reject the
//! deprovisions a run held back.

use actix_web::http::header::LOCATION;
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::error::AppError;
use crate::http::body::OptionalJson;
use crate::http::middleware::actor_of;
use crate::http::routes::Endpoint;
use crate::http::{ADMIN_BASE, AppState};
use crate::service::Principal;
use crate::service::tokens::SCOPE_ADMIN;

type Handled = Result<HttpResponse, AppError>;

pub fn endpoints() -> Vec<Endpoint> {
    let admin = Some(SCOPE_ADMIN);
    vec![
        Endpoint::new(Method::POST, "/targets/{name}/runs", admin, start),
        Endpoint::new(Method::GET, "/targets/{name}/runs", admin, list),
        Endpoint::new(Method::GET, "/runs/{id}", admin, show),
        Endpoint::new(Method::POST, "/runs/{id}/approve", admin, approve),
        Endpoint::new(Method::POST, "/runs/{id}/reject", admin, reject),
    ]
}

async fn start(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    name: web::Path<String>,
    OptionalJson(body): OptionalJson,
) -> Handled {
    let report = state
        .services
        .sync
        .start_run(&actor_of(&caller, &req), &name, body)
        .await?;
    Ok(HttpResponse::build(StatusCode::ACCEPTED)
        .insert_header((LOCATION, format!("{ADMIN_BASE}/runs/{}", report.id)))
        .json(json!({"id": report.id, "status": report.status})))
}

async fn list(state: web::Data<AppState>, req: HttpRequest, name: web::Path<String>) -> Handled {
    let limit = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "limit")
        .map(|(_, v)| v.into_owned());
    let runs = state.services.sync.runs(&name, limit.as_deref()).await?;
    Ok(HttpResponse::Ok().json(json!({ "runs": runs })))
}

async fn show(state: web::Data<AppState>, id: web::Path<String>) -> Handled {
    let report = state.services.sync.report(&id).await?;
    Ok(HttpResponse::Ok().json(report))
}

async fn approve(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    id: web::Path<String>,
) -> Handled {
    let report = state
        .services
        .sync
        .approve(&actor_of(&caller, &req), &id)
        .await?;
    Ok(HttpResponse::Ok().json(report))
}

async fn reject(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    id: web::Path<String>,
) -> Handled {
    let report = state
        .services
        .sync
        .reject(&actor_of(&caller, &req), &id)
        .await?;
    Ok(HttpResponse::Ok().json(report))
}
