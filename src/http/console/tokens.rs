//! API tokens: list, create (the secret is on the answer page only) and
//! revoke.

use actix_web::http::Method;
use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;
use serde_json::json;

use super::page::{self, Chrome, Page, Signed, see_other, with_notice};
use super::view::when;
use crate::error::AppError;
use crate::http::AppState;
use crate::http::routes::Endpoint;
use crate::scim::render::format_time;
use crate::service::tokens::ALL_SCOPES;

pub fn endpoints() -> Vec<Endpoint> {
    let session = Some(super::SESSION);
    vec![
        Endpoint::new(Method::GET, "/tokens", session, list),
        Endpoint::new(Method::POST, "/tokens", session, create),
        Endpoint::new(Method::POST, "/tokens/{id}/revoke", session, revoke),
    ]
}

pub struct Row {
    pub id: String,
    pub name: String,
    pub scopes: String,
    pub created: String,
    pub last_used: String,
    pub revoked: Option<String>,
}

/// A token just made: shown this once.
pub struct Created {
    pub name: String,
    pub secret: String,
}

#[derive(Template)]
#[template(path = "console/tokens.html")]
struct ListPage {
    chrome: Chrome,
    scopes: [&'static str; 3],
    rows: Vec<Row>,
    created: Option<Created>,
    name: String,
}

async fn render(
    state: &AppState,
    req: &HttpRequest,
    who: &Signed,
    created: Option<Created>,
    error: Option<String>,
    name: String,
) -> Page {
    let tokens = state.services.tokens.list().await?;
    let rows = tokens
        .into_iter()
        .map(|t| Row {
            scopes: t.scopes.join(", "),
            created: when(&format_time(&t.created)),
            last_used: t
                .last_used
                .map(|u| when(&format_time(&u)))
                .unwrap_or_else(|| "never".into()),
            revoked: t.revoked.map(|r| when(&format_time(&r))),
            id: t.id,
            name: t.name,
        })
        .collect();
    let mut chrome = who.chrome(req, "tokens");
    let status = if error.is_some() {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        actix_web::http::StatusCode::OK
    };
    chrome.error = error;
    page::html(
        status,
        &ListPage {
            chrome,
            scopes: ALL_SCOPES,
            rows,
            created,
            name,
        },
    )
}

async fn list(state: web::Data<AppState>, req: HttpRequest, who: Signed) -> Page {
    render(&state, &req, &who, None, None, String::new()).await
}

#[derive(Deserialize)]
struct CreateForm {
    #[serde(default)]
    name: String,
    #[serde(default, rename = "scim:read")]
    read: Option<String>,
    #[serde(default, rename = "scim:write")]
    write: Option<String>,
    #[serde(default)]
    admin: Option<String>,
}

async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    web::Form(f): web::Form<CreateForm>,
) -> Page {
    let scopes: Vec<&str> = [
        (f.read.is_some(), "scim:read"),
        (f.write.is_some(), "scim:write"),
        (f.admin.is_some(), "admin"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, s)| *s)
    .collect();
    let body = json!({"name": f.name.trim(), "scopes": scopes});
    match state.services.tokens.create(&who.actor(&req), body).await {
        Ok(created) => {
            let shown = Created {
                name: created.view.name,
                secret: created.token,
            };
            render(&state, &req, &who, Some(shown), None, String::new()).await
        }
        Err(AppError::Scim(e)) => render(&state, &req, &who, None, Some(e.detail), f.name).await,
        Err(e) => Err(e.into()),
    }
}

async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    id: web::Path<String>,
) -> Page {
    state.services.tokens.revoke(&who.actor(&req), &id).await?;
    Ok(see_other(with_notice("/console/tokens", "token-revoked")))
}
