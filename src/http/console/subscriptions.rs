//! Change-event webhook subscriptions: list, create (a generated secret is
//! on the answer page only) and remove.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;
use serde_json::json;

use super::forms::given;
use super::page::{self, Chrome, Page, Signed, see_other, with_notice};
use super::view::when;
use crate::error::AppError;
use crate::http::AppState;
use crate::http::routes::Endpoint;
use crate::provision::webhook::transport::shown_url;

pub fn endpoints() -> Vec<Endpoint> {
    let session = Some(super::SESSION);
    vec![
        Endpoint::new(Method::GET, "/subscriptions", session, list),
        Endpoint::new(Method::POST, "/subscriptions", session, create),
        Endpoint::new(Method::POST, "/subscriptions/{id}/remove", session, remove),
    ]
}

pub struct Row {
    pub id: String,
    pub name: String,
    pub url: String,
    pub types: String,
    pub cursor: String,
    pub last_error: Option<String>,
    pub created: String,
}

pub struct Created {
    pub name: String,
    pub secret: Option<String>,
}

#[derive(Template)]
#[template(path = "console/subscriptions.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    created: Option<Created>,
    name: String,
    url: String,
}

async fn render(
    state: &AppState,
    req: &HttpRequest,
    who: &Signed,
    created: Option<Created>,
    error: Option<String>,
    entered: (String, String),
) -> Page {
    let rows = state
        .services
        .subscriptions
        .list()
        .await?
        .into_iter()
        .map(|s| Row {
            url: shown_url(&s.url),
            types: if s.resource_types.is_empty() {
                "all".into()
            } else {
                s.resource_types.join(", ")
            },
            created: when(&s.created),
            id: s.id,
            name: s.name,
            cursor: s.cursor,
            last_error: s.last_error,
        })
        .collect();
    let mut chrome = who.chrome(req, "subscriptions");
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    chrome.error = error;
    page::html(
        status,
        &ListPage {
            chrome,
            rows,
            created,
            name: entered.0,
            url: entered.1,
        },
    )
}

async fn list(state: web::Data<AppState>, req: HttpRequest, who: Signed) -> Page {
    render(&state, &req, &who, None, None, Default::default()).await
}

#[derive(Deserialize)]
struct CreateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    users: Option<String>,
    #[serde(default)]
    groups: Option<String>,
}

async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    web::Form(f): web::Form<CreateForm>,
) -> Page {
    let mut types = Vec::new();
    if f.users.is_some() {
        types.push("User");
    }
    if f.groups.is_some() {
        types.push("Group");
    }
    let body = json!({"name": f.name.trim(), "url": f.url.trim(),
        "secret": given(&f.secret), "resourceTypes": types});
    match state
        .services
        .subscriptions
        .create(&who.actor(&req), body)
        .await
    {
        Ok(created) => {
            let shown = Created {
                name: created.view.name,
                secret: created.secret,
            };
            render(&state, &req, &who, Some(shown), None, Default::default()).await
        }
        Err(AppError::Scim(e)) => {
            render(&state, &req, &who, None, Some(e.detail), (f.name, f.url)).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn remove(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    id: web::Path<String>,
) -> Page {
    state
        .services
        .subscriptions
        .remove(&who.actor(&req), &id)
        .await?;
    Ok(see_other(with_notice(
        "/console/subscriptions",
        "subscription-removed",
    )))
}
