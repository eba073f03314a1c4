//! The overview: counts (users, groups, departments), every target's and source's state, recent runs
//! and what awaits approval.

use std::collections::HashSet;

use actix_web::http::Method;
use actix_web::{HttpRequest, web};
use askama::Template;

use super::page::{self, Chrome, Page, Signed};
use super::source_view::{SourceRow, run_href};
use super::view::{RunRow, TargetRow};
use crate::http::AppState;
use crate::http::routes::Endpoint;
use crate::scim::ResourceKind;
use crate::scim::list::ListParams;

pub fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint::new(Method::GET, "", Some(super::SESSION), show)]
}

pub struct Approval {
    pub run_id: String,
    pub target: String,
    pub held: usize,
    pub names: String,
}

/// A source run whose deprovisions await approval.
pub struct SourceApproval {
    pub href: String,
    pub source: String,
    pub held: usize,
}

#[derive(Template)]
#[template(path = "console/overview.html")]
struct Overview {
    chrome: Chrome,
    users: u64,
    groups: u64,
    departments: u64,
    targets: Vec<TargetRow>,
    sources: Vec<SourceRow>,
    runs: Vec<RunRow>,
    approvals: Vec<Approval>,
    source_approvals: Vec<SourceApproval>,
}

impl Overview {
    fn pending(&self) -> usize {
        self.approvals.len() + self.source_approvals.len()
    }
}

/// How many resources of a kind there are (a page of none, counted).
pub async fn total(state: &AppState, kind: ResourceKind) -> Result<u64, crate::error::AppError> {
    let params = ListParams {
        count: Some("0".into()),
        ..ListParams::default()
    };
    let body = state
        .services
        .listing
        .list(kind, params, String::new())
        .await?;
    Ok(body["totalResults"].as_u64().unwrap_or(0))
}

async fn show(state: web::Data<AppState>, req: HttpRequest, who: Signed) -> Page {
    let sync = &state.services.sync;
    let targets = sync.targets().await?;
    let runs = sync.find_runs(None, None, 10).await?;
    let held = sync.held(None).await?;
    let approvals = held
        .iter()
        .map(|r| Approval {
            run_id: r.head.id.clone(),
            target: r.head.target.clone(),
            held: r.pending.len(),
            names: r
                .pending
                .iter()
                .take(5)
                .map(|p| p.name.clone().unwrap_or_else(|| p.local_id.clone()))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let held_sources = state.services.sources.held().await?;
    let awaiting: HashSet<String> = held_sources.iter().map(|r| r.source.clone()).collect();
    let sources = state.services.sources.list().await?;
    let source_approvals = held_sources
        .iter()
        .map(|r| SourceApproval {
            href: run_href(&r.id),
            source: r.source.clone(),
            held: r.held.len(),
        })
        .collect();
    page::ok(&Overview {
        chrome: who.chrome(&req, "overview"),
        users: total(&state, ResourceKind::User).await?,
        groups: total(&state, ResourceKind::Group).await?,
        departments: total(&state, ResourceKind::Department).await?,
        targets: targets.iter().map(TargetRow::from).collect(),
        sources: sources
            .iter()
            .map(|s| SourceRow::new(s, &awaiting))
            .collect(),
        runs: runs.iter().map(RunRow::from).collect(),
        approvals,
        source_approvals,
    })
}
