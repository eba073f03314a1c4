//! Approvals: the deprovisions the deletion guard held, by name, approved
//! (applied now) or rejected; a source run's held deprovisions are listed
//! too and decided on its page.

use actix_web::http::Method;
use actix_web::{HttpRequest, web};
use askama::Template;

use super::page::{self, Chrome, Page, Signed, see_other, segment, with_notice};
use super::view::when_opt;
use crate::http::AppState;
use crate::http::routes::Endpoint;

pub fn endpoints() -> Vec<Endpoint> {
    let session = Some(super::SESSION);
    vec![
        Endpoint::new(Method::GET, "/approvals", session, list),
        Endpoint::new(Method::POST, "/runs/{id}/approve", session, approve),
        Endpoint::new(Method::POST, "/runs/{id}/reject", session, reject),
    ]
}

pub struct Held {
    pub kind: String,
    pub name: String,
    pub mode: String,
    pub reason: String,
    pub held_at: String,
}

pub struct Pending {
    pub run_id: String,
    pub target: String,
    pub started: String,
    pub held: Vec<Held>,
}

/// A source run awaiting approval.
pub struct SourcePending {
    pub href: String,
    pub source: String,
    pub started: String,
    pub held: usize,
}

#[derive(Template)]
#[template(path = "console/approvals.html")]
struct ListPage {
    chrome: Chrome,
    pending: Vec<Pending>,
    sources: Vec<SourcePending>,
}

async fn list(state: web::Data<AppState>, req: HttpRequest, who: Signed) -> Page {
    let held = state.services.sync.held(None).await?;
    let pending = held
        .iter()
        .map(|r| Pending {
            run_id: r.head.id.clone(),
            target: r.head.target.clone(),
            started: super::view::when(&r.head.started),
            held: r
                .pending
                .iter()
                .map(|p| Held {
                    kind: p.resource_type.clone(),
                    name: p.name.clone().unwrap_or_else(|| p.local_id.clone()),
                    mode: super::view::wire_name(&p.mode),
                    reason: super::view::words(&p.reason),
                    held_at: when_opt(p.held_at.as_deref()),
                })
                .collect(),
        })
        .collect();
    let sources = state
        .services
        .sources
        .held()
        .await?
        .iter()
        .map(|r| SourcePending {
            href: super::source_view::run_href(&r.id),
            source: r.source.clone(),
            started: super::view::when(&r.started),
            held: r.held.len(),
        })
        .collect();
    page::ok(&ListPage {
        chrome: who.chrome(&req, "approvals"),
        pending,
        sources,
    })
}

async fn approve(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    id: web::Path<String>,
) -> Page {
    let report = state.services.sync.approve(&who.actor(&req), &id).await?;
    Ok(see_other(with_notice(
        &format!("/console/runs/{}", segment(&report.head.id)),
        "approved",
    )))
}

async fn reject(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    id: web::Path<String>,
) -> Page {
    state.services.sync.reject(&who.actor(&req), &id).await?;
    Ok(see_other(with_notice("/console/approvals", "rejected")))
}
