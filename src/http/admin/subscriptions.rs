//! `/admin/v1/subscriptions`: list, create (a generated secret is in this
//! one answer only) and remove change-event webhook subscriptions.

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
use crate::service::subscription_admin::SubscriptionAdmin;
use crate::service::tokens::SCOPE_ADMIN;

type Handled = Result<HttpResponse, AppError>;

pub fn endpoints() -> Vec<Endpoint> {
    let admin = Some(SCOPE_ADMIN);
    vec![
        Endpoint::new(Method::GET, "/subscriptions", admin, list),
        Endpoint::new(Method::POST, "/subscriptions", admin, create),
        Endpoint::new(Method::DELETE, "/subscriptions/{id}", admin, remove),
    ]
}

fn admin(state: &AppState) -> &SubscriptionAdmin {
    &state.services.subscriptions
}

async fn list(state: web::Data<AppState>) -> Handled {
    let subscriptions = admin(&state).list().await?;
    Ok(HttpResponse::Ok().json(json!({ "subscriptions": subscriptions })))
}

async fn create(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    ScimJson(body): ScimJson,
) -> Handled {
    let created = admin(&state).create(&actor_of(&caller, &req), body).await?;
    Ok(HttpResponse::build(StatusCode::CREATED)
        // The answer may carry a secret: no cache may keep it.
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(created))
}

async fn remove(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    id: web::Path<String>,
) -> Handled {
    admin(&state).remove(&actor_of(&caller, &req), &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
