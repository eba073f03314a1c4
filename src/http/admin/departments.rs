//! `/admin/v1/departments`: the organization tree for administrators, over
//! the same use cases (change log and audit trail) as `/Departments` and
//! `scimhub dept`. Departments are answered in their SCIM representation.

use actix_web::http::header::LOCATION;
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::error::AppError;
use crate::http::body::ScimJson;
use crate::http::middleware::actor_of;
use crate::http::response::base_url;
use crate::http::routes::Endpoint;
use crate::http::{ADMIN_BASE, AppState};
use crate::scim::ScimError;
use crate::service::Principal;
use crate::service::tokens::SCOPE_ADMIN;

type Handled = Result<HttpResponse, AppError>;

pub fn endpoints() -> Vec<Endpoint> {
    let admin = Some(SCOPE_ADMIN);
    vec![
        Endpoint::new(Method::GET, "/departments", admin, tree),
        Endpoint::new(Method::POST, "/departments", admin, add),
        Endpoint::new(Method::GET, "/departments/{id}", admin, show),
        Endpoint::new(Method::PATCH, "/departments/{id}", admin, update),
        Endpoint::new(Method::DELETE, "/departments/{id}", admin, remove),
        Endpoint::new(Method::POST, "/departments/{id}/move", admin, move_to),
    ]
}

fn query_pairs(req: &HttpRequest) -> Vec<(String, String)> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect()
}

fn fields(body: Value) -> Result<serde_json::Map<String, Value>, AppError> {
    match body {
        Value::Object(map) => Ok(map),
        _ => Err(ScimError::invalid_syntax("the request body must be a JSON object").into()),
    }
}

/// The tree (or `?root=ID`'s subtree), nested, with head counts.
async fn tree(state: web::Data<AppState>, req: HttpRequest) -> Handled {
    let root = query_pairs(&req)
        .into_iter()
        .find(|(k, _)| k == "root")
        .map(|(_, v)| v);
    let tree = state.services.departments.tree(root).await?;
    Ok(HttpResponse::Ok().json(json!({ "departments": tree })))
}

async fn add(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    ScimJson(body): ScimJson,
) -> Handled {
    let d = state
        .services
        .departments
        .add(&actor_of(&caller, &req), fields(body)?)
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header((LOCATION, format!("{ADMIN_BASE}/departments/{}", d.id)))
        .json(d.to_scim(&base_url(&req, &state))))
}

async fn show(state: web::Data<AppState>, req: HttpRequest, id: web::Path<String>) -> Handled {
    let d = state.services.departments.get(&id, true).await?;
    Ok(HttpResponse::Ok().json(d.to_scim(&base_url(&req, &state))))
}

async fn update(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    id: web::Path<String>,
    ScimJson(body): ScimJson,
) -> Handled {
    let d = state
        .services
        .departments
        .update(&actor_of(&caller, &req), &id, fields(body)?)
        .await?;
    Ok(HttpResponse::Ok().json(d.to_scim(&base_url(&req, &state))))
}

/// `{"parent": ID}` moves the department (with its subtree) there;
/// `{"parent": null}` makes it a root.
async fn move_to(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    id: web::Path<String>,
    ScimJson(body): ScimJson,
) -> Handled {
    let parent = match body.get("parent") {
        Some(Value::String(p)) => Some(p.clone()),
        Some(Value::Null) => None,
        _ => {
            return Err(ScimError::invalid_value(
                "give \"parent\": the id of the new parent, or null for the root",
            )
            .into());
        }
    };
    let d = state
        .services
        .departments
        .move_to(&actor_of(&caller, &req), &id, parent)
        .await?;
    Ok(HttpResponse::Ok().json(d.to_scim(&base_url(&req, &state))))
}

/// `?cascade=true` or `?moveTo=ID` for a department that still has
/// sub-departments or people; answers what was removed and changed.
async fn remove(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    id: web::Path<String>,
) -> Handled {
    let mode = crate::http::resources::remove_mode(&query_pairs(&req))?;
    let removal = state
        .services
        .departments
        .delete(&actor_of(&caller, &req), &id, None, mode)
        .await?;
    Ok(HttpResponse::Ok().json(removal))
}
