//! `/Users` and `/Groups`: the same handlers, told apart by the
//! `ResourceKind` each scope carries.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::AppState;
use super::body::ScimJson;
use super::response::{self, base_url};
use crate::error::AppError;
use crate::scim::list::{PageRequest, list_response};
use crate::scim::render::ResourceMeta;
use crate::scim::{ResourceKind, ScimError};
use crate::service::{Principal, views};

type Handled = Result<HttpResponse, AppError>;

pub fn configure(cfg: &mut web::ServiceConfig, kind: ResourceKind) {
    cfg.service(
        web::scope(&format!("/{}", kind.endpoint()))
            .app_data(web::Data::new(kind))
            .service(
                web::resource("")
                    .route(web::get().to(list))
                    .route(web::post().to(create))
                    .default_service(web::to(super::method_not_allowed)),
            )
            .service(web::resource("/.search").to(super::not_implemented))
            .service(
                web::resource("/{id}")
                    .route(web::get().to(get))
                    .route(web::put().to(replace))
                    .route(web::delete().to(delete))
                    .route(web::patch().to(super::not_implemented))
                    .default_service(web::to(super::method_not_allowed)),
            ),
    );
}

/// Reads one resource of either kind as (JSON, meta).
async fn fetch(
    state: &AppState,
    kind: ResourceKind,
    id: &str,
    base: &str,
) -> Result<(Value, ResourceMeta), AppError> {
    Ok(match kind {
        ResourceKind::User => {
            let u = state.services.users.get(id).await?;
            (views::user(&u, base), u.meta)
        }
        ResourceKind::Group => {
            let g = state.services.groups.get(id).await?;
            (views::group(&g, base), g.meta)
        }
    })
}

async fn get(
    state: web::Data<AppState>,
    kind: web::Data<ResourceKind>,
    id: web::Path<String>,
    req: HttpRequest,
) -> Handled {
    let base = base_url(&req, &state);
    let (body, meta) = fetch(&state, **kind, &id, &base).await?;
    Ok(response::resource(StatusCode::OK, &body, &meta))
}

async fn create(
    state: web::Data<AppState>,
    kind: web::Data<ResourceKind>,
    caller: Principal,
    req: HttpRequest,
    ScimJson(body): ScimJson,
) -> Handled {
    let base = base_url(&req, &state);
    let (body, meta) = match **kind {
        ResourceKind::User => {
            let u = state.services.users.create(&caller.name, body).await?;
            (views::user(&u, &base), u.meta)
        }
        ResourceKind::Group => {
            let g = state.services.groups.create(&caller.name, body).await?;
            (views::group(&g, &base), g.meta)
        }
    };
    Ok(response::resource(StatusCode::CREATED, &body, &meta))
}

async fn replace(
    state: web::Data<AppState>,
    kind: web::Data<ResourceKind>,
    id: web::Path<String>,
    caller: Principal,
    req: HttpRequest,
    ScimJson(body): ScimJson,
) -> Handled {
    let base = base_url(&req, &state);
    let (body, meta) = match **kind {
        ResourceKind::User => {
            let u = state
                .services
                .users
                .replace(&caller.name, &id, body)
                .await?;
            (views::user(&u, &base), u.meta)
        }
        ResourceKind::Group => {
            let g = state
                .services
                .groups
                .replace(&caller.name, &id, body)
                .await?;
            (views::group(&g, &base), g.meta)
        }
    };
    Ok(response::resource(StatusCode::OK, &body, &meta))
}

async fn delete(
    state: web::Data<AppState>,
    kind: web::Data<ResourceKind>,
    id: web::Path<String>,
    caller: Principal,
) -> Handled {
    match **kind {
        ResourceKind::User => state.services.users.delete(&caller.name, &id).await?,
        ResourceKind::Group => state.services.groups.delete(&caller.name, &id).await?,
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Query parameters by name, ignoring case (clients differ in spelling).
fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

async fn list(
    state: web::Data<AppState>,
    kind: web::Data<ResourceKind>,
    req: HttpRequest,
) -> Handled {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    if param(&pairs, "filter").is_some() {
        // Never answer a filter with unfiltered rows.
        return Err(
            ScimError::invalid_filter("filtering is not supported by this server yet").into(),
        );
    }
    let page = PageRequest::from_params(
        param(&pairs, "startIndex"),
        param(&pairs, "count"),
        state.default_page_size,
        state.max_page_size,
    )?;
    let base = base_url(&req, &state);
    let (total, resources) = match **kind {
        ResourceKind::User => {
            let p = state.services.users.list(page).await?;
            (
                p.total,
                p.items.iter().map(|u| views::user(u, &base)).collect(),
            )
        }
        ResourceKind::Group => {
            let p = state.services.groups.list(page).await?;
            (
                p.total,
                p.items.iter().map(|g| views::group(g, &base)).collect(),
            )
        }
    };
    Ok(response::json(
        StatusCode::OK,
        &list_response(total, page, resources),
    ))
}
