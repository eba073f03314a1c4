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
use crate::service::sync_admin::run_limit;
use crate::service::tokens::SCOPE_ADMIN;

type Handled = Result<HttpResponse, AppError>;

pub fn endpoints() -> Vec<Endpoint> {
    let admin = Some(SCOPE_ADMIN);
    vec![
        Endpoint::new(Method::POST, "/targets/{name}/runs", admin, start),
        Endpoint::new(Method::GET, "/targets/{name}/runs", admin, list),
        Endpoint::new(Method::GET, "/runs", admin, find),
        Endpoint::new(Method::GET, "/approvals", admin, approvals),
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
        .insert_header((LOCATION, format!("{ADMIN_BASE}/runs/{}", report.head.id)))
        .json(json!({"id": report.head.id, "status": report.head.status})))
}

fn query(req: &HttpRequest, key: &str) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// `GET /runs[?target=NAME][&status=STATUS][&limit=N]`: every target's runs.
async fn find(state: web::Data<AppState>, req: HttpRequest) -> Handled {
    let limit = run_limit(query(&req, "limit").as_deref())?;
    let status = query(&req, "status");
    let runs = state
        .services
        .sync
        .find_runs(query(&req, "target"), status.as_deref(), limit)
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "runs": runs })))
}

/// `GET /approvals[?target=NAME]`: pending approvals with each held account.
async fn approvals(state: web::Data<AppState>, req: HttpRequest) -> Handled {
    let held = state.services.sync.held(query(&req, "target")).await?;
    Ok(HttpResponse::Ok().json(json!({ "approvals": held })))
}

async fn list(state: web::Data<AppState>, req: HttpRequest, name: web::Path<String>) -> Handled {
    let limit = query(&req, "limit");
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
