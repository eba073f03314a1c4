//! The failure queue: per target, reason and attempts; retry one or all,
//! discard.

use actix_web::http::Method;
use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;

use super::page::{self, Chrome, Page, Signed, query, see_other, with_notice};
use super::view::{pretty, when};
use crate::error::AppError;
use crate::http::AppState;
use crate::http::routes::Endpoint;

pub fn endpoints() -> Vec<Endpoint> {
    let session = Some(super::SESSION);
    vec![
        Endpoint::new(Method::GET, "/failures", session, list),
        Endpoint::new(Method::POST, "/failures/retry", session, retry_all),
        Endpoint::new(Method::POST, "/failures/{id}/retry", session, retry),
        Endpoint::new(Method::POST, "/failures/{id}/discard", session, discard),
    ]
}

pub struct Row {
    pub id: String,
    pub target: String,
    pub kind: String,
    pub local_id: String,
    pub operation: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt: String,
    pub error: String,
    pub payload: Option<String>,
}

pub struct Choice {
    pub value: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "console/failures.html")]
struct ListPage {
    chrome: Chrome,
    target: String,
    targets: Vec<Choice>,
    rows: Vec<Row>,
}

async fn list(state: web::Data<AppState>, req: HttpRequest, who: Signed) -> Page {
    let target = query(&req, "target");
    let mut chrome = who.chrome(&req, "failures");
    let rows = match state.services.sync.failures(target.clone()).await {
        Ok(all) => all
            .into_iter()
            .map(|f| Row {
                kind: f.resource_type,
                local_id: f.local_id,
                operation: f.operation,
                status: f.status,
                attempts: f.attempts,
                next_attempt: when(&f.next_attempt),
                error: match f.last_status {
                    Some(s) => format!("HTTP {s}: {}", f.last_error),
                    None => f.last_error,
                },
                payload: f.payload.as_ref().map(pretty),
                id: f.id,
                target: f.target,
            })
            .collect(),
        Err(AppError::Scim(e)) => {
            chrome = chrome.with_error(e.detail);
            Vec::new()
        }
        Err(e) => return Err(e.into()),
    };
    let targets = state
        .services
        .sync
        .targets()
        .await?
        .into_iter()
        .map(|t| Choice {
            selected: target.as_deref() == Some(t.target.name.as_str()),
            value: t.target.name,
        })
        .collect();
    page::ok(&ListPage {
        chrome,
        target: target.unwrap_or_default(),
        targets,
        rows,
    })
}

/// The list the form came from (its target filter kept).
#[derive(Deserialize)]
struct Back {
    #[serde(default)]
    target: String,
}

fn back(target: &str, notice: &str) -> actix_web::HttpResponse {
    let path = if target.is_empty() {
        "/console/failures".to_string()
    } else {
        format!("/console/failures?target={}", page::segment(target))
    };
    see_other(with_notice(&path, notice))
}

async fn retry_all(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    web::Form(f): web::Form<Back>,
) -> Page {
    let target = super::forms::given(&f.target);
    state
        .services
        .sync
        .retry_failures(&who.actor(&req), target)
        .await?;
    Ok(back(&f.target, "retrying-all"))
}

async fn retry(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    id: web::Path<String>,
    web::Form(f): web::Form<Back>,
) -> Page {
    state
        .services
        .sync
        .retry_failure(&who.actor(&req), &id)
        .await?;
    Ok(back(&f.target, "retrying"))
}

async fn discard(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    id: web::Path<String>,
    web::Form(f): web::Form<Back>,
) -> Page {
    state
        .services
        .sync
        .discard_failure(&who.actor(&req), &id)
        .await?;
    Ok(back(&f.target, "discarded"))
}
