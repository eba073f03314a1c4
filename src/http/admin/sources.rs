//! `/admin/v1/sources`: the organization center's upstream sources, their
//! runs (started in the background: 202, then poll the report), uploads
//! and failure lists. Answers never carry credentials.

use actix_web::http::header::LOCATION;
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::error::AppError;
use crate::http::body::{OptionalJson, ScimJson, Upload};
use crate::http::middleware::actor_of;
use crate::http::routes::Endpoint;
use crate::http::{ADMIN_BASE, AppState};
use crate::provision::source::{FileInput, ImportReport};
use crate::scim::ScimError;
use crate::service::Principal;
use crate::service::source_admin::{self, DEFAULT_PREVIEW, DEFAULT_RUNS, MAX_PREVIEW, MAX_RUNS};
use crate::service::tokens::SCOPE_ADMIN;

type Handled = Result<HttpResponse, AppError>;

pub fn endpoints() -> Vec<Endpoint> {
    let admin = Some(SCOPE_ADMIN);
    vec![
        Endpoint::new(Method::GET, "/sources", admin, list),
        Endpoint::new(Method::POST, "/sources", admin, add),
        Endpoint::new(Method::GET, "/sources/{name}", admin, show),
        Endpoint::new(Method::PATCH, "/sources/{name}", admin, update),
        Endpoint::new(Method::DELETE, "/sources/{name}", admin, remove),
        Endpoint::new(Method::POST, "/sources/{name}/test", admin, test),
        Endpoint::new(Method::POST, "/sources/{name}/runs", admin, start),
        Endpoint::new(Method::GET, "/sources/{name}/runs", admin, runs),
        Endpoint::new(Method::POST, "/sources/{name}/upload", admin, upload),
        Endpoint::new(Method::GET, "/sources/{name}/failures", admin, failures),
        Endpoint::new(Method::GET, "/source-runs/{id}", admin, report),
        Endpoint::new(Method::POST, "/source-runs/{id}/approve", admin, approve),
        Endpoint::new(Method::POST, "/source-runs/{id}/reject", admin, reject),
    ]
}

fn query(req: &HttpRequest, key: &str) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn started(report: &ImportReport) -> HttpResponse {
    HttpResponse::build(StatusCode::ACCEPTED)
        .insert_header((LOCATION, format!("{ADMIN_BASE}/source-runs/{}", report.id)))
        .json(json!({"id": report.id, "status": report.status}))
}

async fn list(state: web::Data<AppState>) -> Handled {
    let sources = state.services.sources.list().await?;
    Ok(HttpResponse::Ok().json(json!({ "sources": sources })))
}

async fn add(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    ScimJson(body): ScimJson,
) -> Handled {
    let view = state
        .services
        .sources
        .add(&actor_of(&caller, &req), body)
        .await?;
    // Source names are letters, digits, '-', '_' and '.': safe in a path.
    let location = format!("{ADMIN_BASE}/sources/{}", view.name);
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header((LOCATION, location))
        .json(view))
}

async fn show(state: web::Data<AppState>, name: web::Path<String>) -> Handled {
    Ok(HttpResponse::Ok().json(state.services.sources.show(&name).await?))
}

async fn update(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    name: web::Path<String>,
    ScimJson(body): ScimJson,
) -> Handled {
    let view = state
        .services
        .sources
        .update(&actor_of(&caller, &req), &name, body)
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn remove(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    name: web::Path<String>,
) -> Handled {
    state
        .services
        .sources
        .remove(&actor_of(&caller, &req), &name)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// 200 with the preview, whether or not the source could be read (`ok`).
async fn test(state: web::Data<AppState>, req: HttpRequest, name: web::Path<String>) -> Handled {
    let limit = source_admin::limit(
        query(&req, "limit").as_deref(),
        DEFAULT_PREVIEW as u32,
        MAX_PREVIEW as u32,
    )?;
    let preview = state
        .services
        .sources
        .test(&name, limit as usize, None)
        .await?;
    Ok(HttpResponse::Ok().json(preview))
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
        .sources
        .start_run(&actor_of(&caller, &req), &name, body)
        .await?;
    Ok(started(&report))
}

async fn runs(state: web::Data<AppState>, req: HttpRequest, name: web::Path<String>) -> Handled {
    let limit = source_admin::limit(query(&req, "limit").as_deref(), DEFAULT_RUNS, MAX_RUNS)?;
    let runs = state.services.sources.runs(&name, limit).await?;
    Ok(HttpResponse::Ok().json(json!({ "runs": runs })))
}

/// `POST /sources/{name}/upload[?dryRun=true]`: the body is the file.
async fn upload(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    name: web::Path<String>,
    Upload(bytes): Upload,
) -> Handled {
    let dry_run = match query(&req, "dryRun").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ScimError::invalid_value(format!(
                "dryRun is true or false, got {other:?}"
            ))
            .into());
        }
    };
    let file = FileInput {
        name: "upload".into(),
        bytes,
    };
    let report = state
        .services
        .sources
        .upload(&actor_of(&caller, &req), &name, file, dry_run)
        .await?;
    Ok(started(&report))
}

async fn failures(state: web::Data<AppState>, name: web::Path<String>) -> Handled {
    let failures = state.services.sources.failures(&name).await?;
    Ok(HttpResponse::Ok().json(json!({ "failures": failures })))
}

async fn report(state: web::Data<AppState>, id: web::Path<String>) -> Handled {
    Ok(HttpResponse::Ok().json(state.services.sources.report(&id).await?))
}

async fn approve(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    id: web::Path<String>,
) -> Handled {
    let report = state
        .services
        .sources
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
        .sources
        .reject(&actor_of(&caller, &req), &id)
        .await?;
    Ok(HttpResponse::Ok().json(report))
}
