//! A source run's page: the report (counts, a dry run's four lists, the
//! refused records, what the deletion guard held, with approve and reject)
//! and, while it runs, its progress, kept current by the page's script.

use actix_web::http::Method;
use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde_json::json;

use super::page::{self, Chrome, Page, Signed, see_other, segment, with_notice};
use super::people::names;
use super::source_view::{SourceRunRow, count_cells, run_href};
use super::view::when;
use crate::error::AppError;
use crate::http::AppState;
use crate::http::routes::Endpoint;
use crate::provision::source::report::PlannedRecord;
use crate::provision::source::{ImportReport, RunStatus};
use crate::scim::ResourceKind;

/// Rows shown per list (a report keeps at most 1000 per list).
const SHOWN: usize = 500;

pub fn endpoints() -> Vec<Endpoint> {
    let session = Some(super::SESSION);
    vec![
        Endpoint::new(Method::GET, "/source-runs/{id}", session, show),
        Endpoint::new(Method::GET, "/source-runs/{id}/progress", session, progress),
        Endpoint::new(Method::POST, "/source-runs/{id}/approve", session, approve),
        Endpoint::new(Method::POST, "/source-runs/{id}/reject", session, reject),
    ]
}

/// A local user's or group's page.
fn local_href(kind: &str, id: &str) -> String {
    let path = if kind == "Group" { "groups" } else { "users" };
    format!("/console/{path}/{}", segment(id))
}

/// A record of the plan or of what was held.
pub struct RecordRow {
    pub kind: String,
    pub key: String,
    pub name: String,
    /// The local user's or group's id and page ("" when there is none yet).
    pub local_id: String,
    pub href: String,
}

impl RecordRow {
    fn new(kind: &str, key: &str, name: &str, local_id: Option<&str>) -> Self {
        Self {
            kind: kind.to_string(),
            key: key.to_string(),
            name: name.to_string(),
            local_id: local_id.unwrap_or_default().to_string(),
            href: local_id.map(|id| local_href(kind, id)).unwrap_or_default(),
        }
    }
}

impl From<&PlannedRecord> for RecordRow {
    fn from(p: &PlannedRecord) -> Self {
        Self::new(&p.resource_type, &p.key, &p.name, p.local_id.as_deref())
    }
}

/// One of a dry run's lists.
pub struct PlanList {
    pub action: &'static str,
    pub total: usize,
    pub rows: Vec<RecordRow>,
}

pub struct RefusedRow {
    pub kind: String,
    pub key: String,
    pub locator: String,
    pub reason: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "console/source_run.html")]
struct RunPage {
    chrome: Chrome,
    row: SourceRunRow,
    running: bool,
    awaiting: bool,
    dry_run: bool,
    counts: Vec<(&'static str, usize)>,
    plan: Vec<PlanList>,
    refused: Vec<RefusedRow>,
    refused_total: usize,
    held: Vec<RecordRow>,
    error: Option<String>,
    decided_by: Option<String>,
    progress: String,
    failures_href: String,
}

/// Where a run is, in words: while it runs, its phase and how far through
/// it; afterwards its status.
fn progress_text(r: &ImportReport) -> String {
    if r.status != RunStatus::Running {
        return r.status.as_str().replace('_', " ");
    }
    let Some(p) = &r.progress else {
        return format!("running since {}", when(&r.started));
    };
    let mut text = match p.phase.as_str() {
        "reading" if p.done > 0 => format!("reading the source: {} records", p.done),
        "reading" => "reading the source".to_string(),
        _ if p.total > 0 => format!("{}: {} of {}", p.phase, p.done, p.total),
        phase => phase.to_string(),
    };
    if p.failed > 0 {
        text.push_str(&format!(" · {} refused", p.failed));
    }
    text
}

/// Names the rows that link to a local account but carry no name (what a
/// run would deactivate, what it held); an account gone meanwhile keeps "".
async fn fill_names(state: &AppState, rows: &mut [&mut RecordRow]) -> Result<(), AppError> {
    let unnamed = |kind: &str, rows: &[&mut RecordRow]| -> Vec<String> {
        let mut ids: Vec<String> = rows
            .iter()
            .filter(|r| r.name.is_empty() && !r.local_id.is_empty() && r.kind == kind)
            .map(|r| r.local_id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let users = names(state, ResourceKind::User, unnamed("User", rows)).await?;
    let groups = names(state, ResourceKind::Group, unnamed("Group", rows)).await?;
    for r in rows.iter_mut().filter(|r| r.name.is_empty()) {
        let known = if r.kind == "Group" { &groups } else { &users };
        if let Some(name) = known.get(&r.local_id) {
            r.name = name.clone();
        }
    }
    Ok(())
}

async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    id: web::Path<String>,
) -> Page {
    let r = state.services.sources.report(&id).await?;
    let mut plan: Vec<PlanList> = r
        .plan
        .as_ref()
        .map(|p| {
            [
                ("create", &p.create, r.counts.created),
                ("update", &p.update, r.counts.updated),
                (
                    "deactivate",
                    &p.deactivate,
                    r.counts.deactivated + r.counts.deleted,
                ),
                ("unchanged", &p.unchanged, r.counts.unchanged),
            ]
            .into_iter()
            .map(|(action, list, total)| PlanList {
                action,
                total: total.max(list.len()),
                rows: list.iter().take(SHOWN).map(RecordRow::from).collect(),
            })
            .collect()
        })
        .unwrap_or_default();
    let refused = r
        .failures
        .iter()
        .take(SHOWN)
        .map(|f| RefusedRow {
            kind: f.resource_type.clone(),
            key: f.key.clone().unwrap_or_default(),
            locator: f.locator.clone(),
            reason: super::view::words(&f.reason),
            detail: f.detail.clone(),
        })
        .collect();
    let mut held: Vec<RecordRow> = r
        .held
        .iter()
        .take(SHOWN)
        .map(|h| RecordRow::new(&h.resource_type, &h.key, "", Some(&h.local_id)))
        .collect();
    let mut unnamed: Vec<&mut RecordRow> = held.iter_mut().collect();
    for list in plan.iter_mut().filter(|l| l.action == "deactivate") {
        unnamed.extend(list.rows.iter_mut());
    }
    fill_names(&state, &mut unnamed).await?;
    let row = SourceRunRow::from(&r);
    page::ok(&RunPage {
        chrome: who.chrome(&req, "sources"),
        running: r.status == RunStatus::Running,
        awaiting: r.status == RunStatus::AwaitingApproval,
        dry_run: r.dry_run,
        counts: count_cells(&r.counts),
        plan,
        refused,
        refused_total: r.counts.failed,
        held,
        error: r.error.clone(),
        decided_by: r.decided_by.clone(),
        progress: progress_text(&r),
        failures_href: format!("{}/failures", row.source_href),
        row,
    })
}

/// The run's status and progress for the page's script, in the shape of a
/// target run's: `{"status", "phase", "done", "total", "planned",
/// "completed", "failed", "text"}`.
async fn progress(state: web::Data<AppState>, id: web::Path<String>) -> Page {
    let r = state.services.sources.report(&id).await?;
    let p = r.progress.clone().unwrap_or_default();
    let body = json!({
        "status": r.status.as_str(),
        "phase": p.phase,
        "done": p.done,
        "total": p.total,
        "planned": p.planned,
        "completed": p.completed,
        "failed": p.failed,
        "text": progress_text(&r),
    });
    Ok(HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(body))
}

async fn approve(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    id: web::Path<String>,
) -> Page {
    let r = state
        .services
        .sources
        .approve(&who.actor(&req), &id)
        .await?;
    Ok(see_other(with_notice(&run_href(&r.id), "approved")))
}

async fn reject(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    id: web::Path<String>,
) -> Page {
    let r = state.services.sources.reject(&who.actor(&req), &id).await?;
    Ok(see_other(with_notice(&run_href(&r.id), "rejected")))
}
