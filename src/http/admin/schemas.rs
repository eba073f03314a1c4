//! `/admin/v1/schemas`: extension schemas for Users and Groups, defined by
//! administrators (the configured ones are shown, changed only in the
//! configuration). A change that would drop stored values is refused
//! unless `?force=true`.

use actix_web::http::header::LOCATION;
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::error::AppError;
use crate::http::body::ScimJson;
use crate::http::middleware::actor_of;
use crate::http::routes::Endpoint;
use crate::http::{ADMIN_BASE, AppState};
use crate::scim::ScimError;
use crate::service::Principal;
use crate::service::schemas::SchemaView;
use crate::service::tokens::SCOPE_ADMIN;

type Handled = Result<HttpResponse, AppError>;

pub fn endpoints() -> Vec<Endpoint> {
    let admin = Some(SCOPE_ADMIN);
    vec![
        Endpoint::new(Method::GET, "/schemas", admin, list),
        Endpoint::new(Method::POST, "/schemas", admin, add),
        Endpoint::new(Method::GET, "/schemas/{id}", admin, show),
        Endpoint::new(Method::PUT, "/schemas/{id}", admin, update),
        Endpoint::new(Method::DELETE, "/schemas/{id}", admin, remove),
    ]
}

/// Schema ids are URNs (letters, digits, `:`, `.`, `_`, `-`): safe in a path.
fn location(view: &SchemaView) -> String {
    format!("{ADMIN_BASE}/schemas/{}", view.extension.schema.id)
}

fn shown(view: &SchemaView) -> Value {
    let mut json = view.to_json();
    json["meta"]["location"] = json!(location(view));
    json
}

/// `?force=true`: drop the values a change takes away.
fn force(req: &HttpRequest) -> Result<bool, AppError> {
    let given = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "force")
        .map(|(_, v)| v.into_owned());
    match given.as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => {
            Err(ScimError::invalid_value(format!("force={other:?}: expected true or false")).into())
        }
    }
}

async fn list(state: web::Data<AppState>) -> Handled {
    let schemas: Vec<Value> = state
        .services
        .schemas
        .list()
        .await?
        .iter()
        .map(shown)
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "schemas": schemas })))
}

async fn add(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    ScimJson(body): ScimJson,
) -> Handled {
    let view = state
        .services
        .schemas
        .add(&actor_of(&caller, &req), body)
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header((LOCATION, location(&view)))
        .json(shown(&view)))
}

async fn show(state: web::Data<AppState>, id: web::Path<String>) -> Handled {
    let view = state.services.schemas.get(&id).await?;
    Ok(HttpResponse::Ok().json(shown(&view)))
}

/// Replaces the definition; the answer says how many resources lost values.
async fn update(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    id: web::Path<String>,
    ScimJson(body): ScimJson,
) -> Handled {
    let force = force(&req)?;
    let (view, removal) = state
        .services
        .schemas
        .update(&actor_of(&caller, &req), &id, body, force)
        .await?;
    let mut json = shown(&view);
    json["meta"]["resourcesChanged"] = json!(removal.resources_changed);
    Ok(HttpResponse::Ok().json(json))
}

async fn remove(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    id: web::Path<String>,
) -> Handled {
    let force = force(&req)?;
    let removal = state
        .services
        .schemas
        .remove(&actor_of(&caller, &req), &id, force)
        .await?;
    Ok(HttpResponse::Ok().json(removal))
}
