//! Runs: the list, a run's report (counts, per-object outcomes, a dry
//! run's planned changes) and, while it runs, its live progress.

use std::collections::HashMap;

use actix_web::http::Method;
use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde_json::json;

use super::page::{self, Chrome, Page, Signed, query, segment};
use super::people::names;
use super::view::{RunRow, when};
use crate::error::AppError;
use crate::http::AppState;
use crate::http::routes::Endpoint;
use crate::provision::runs::report::shown;
use crate::provision::runs::{RunReport, RunStatus};
use crate::scim::ResourceKind;

/// Runs listed at once.
const LISTED: u32 = 50;
/// Per-object rows shown on a report (the rest are counted).
const SHOWN: usize = 500;

pub fn endpoints() -> Vec<Endpoint> {
    let session = Some(super::SESSION);
    vec![
        Endpoint::new(Method::GET, "/runs", session, list),
        Endpoint::new(Method::GET, "/runs/{id}", session, show),
        Endpoint::new(Method::GET, "/runs/{id}/progress", session, progress),
    ]
}

const STATUSES: [&str; 7] = [
    "running",
    "succeeded",
    "completed_with_failures",
    "failed",
    "awaiting_approval",
    "rejected",
    "planned",
];

pub struct Choice {
    pub value: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "console/runs.html")]
struct ListPage {
    chrome: Chrome,
    target: String,
    status: String,
    statuses: Vec<Choice>,
    targets: Vec<Choice>,
    runs: Vec<RunRow>,
}

async fn list(state: web::Data<AppState>, req: HttpRequest, who: Signed) -> Page {
    let target = query(&req, "target");
    let status = query(&req, "status");
    let mut chrome = who.chrome(&req, "runs");
    let names: Vec<String> = state
        .services
        .sync
        .targets()
        .await?
        .into_iter()
        .map(|t| t.target.name)
        .collect();
    let runs = match state
        .services
        .sync
        .find_runs(target.clone(), status.as_deref(), LISTED)
        .await
    {
        Ok(runs) => runs.iter().map(RunRow::from).collect(),
        Err(AppError::Scim(e)) => {
            chrome = chrome.with_error(e.detail);
            Vec::new()
        }
        Err(e) => return Err(e.into()),
    };
    let choices = |all: Vec<String>, chosen: &Option<String>| -> Vec<Choice> {
        all.into_iter()
            .map(|value| Choice {
                selected: chosen.as_deref() == Some(value.as_str()),
                value,
            })
            .collect()
    };
    page::ok(&ListPage {
        chrome,
        statuses: choices(STATUSES.iter().map(|s| s.to_string()).collect(), &status),
        targets: choices(names, &target),
        target: target.unwrap_or_default(),
        status: status.unwrap_or_default(),
        runs,
    })
}

/// One object of a report.
pub struct ObjectRow {
    pub kind: String,
    /// The local resource's id ("" when it is none of ours).
    pub local_id: String,
    /// A user a dry run would create or change: "Show the request" applies.
    pub pushable: bool,
    pub href: String,
    pub name: String,
    pub action: String,
    pub detail: String,
    /// An update's attributes: the target's value now and the new one.
    pub diff: Vec<DiffRow>,
}

pub struct DiffRow {
    pub attribute: String,
    pub before: String,
    pub after: String,
}

#[derive(Template)]
#[template(path = "console/run.html")]
struct RunPage {
    chrome: Chrome,
    row: RunRow,
    running: bool,
    awaiting: bool,
    counts: Vec<(&'static str, usize)>,
    changes: Vec<ObjectRow>,
    failures: Vec<ObjectRow>,
    held: Vec<ObjectRow>,
    orphans: Vec<ObjectRow>,
    more: usize,
    warnings: Vec<String>,
    error: Option<String>,
    progress: String,
}

/// Resolves (kind, local id) pairs to names and console links.
struct Namer {
    users: HashMap<String, String>,
    groups: HashMap<String, String>,
}

impl Namer {
    async fn for_ids(state: &AppState, pairs: &[(String, String)]) -> Result<Self, AppError> {
        let ids = |kind: &str| -> Vec<String> {
            let mut v: Vec<String> = pairs
                .iter()
                .filter(|(k, _)| k == kind)
                .map(|(_, id)| id.clone())
                .collect();
            v.sort();
            v.dedup();
            v
        };
        Ok(Self {
            users: names(state, ResourceKind::User, ids("User")).await?,
            groups: names(state, ResourceKind::Group, ids("Group")).await?,
        })
    }

    /// The link and name of a local resource (its id when it is gone).
    fn name(&self, kind: &str, id: &str, known: Option<&str>) -> (String, String) {
        let (names, path) = if kind == "Group" {
            (&self.groups, "groups")
        } else {
            (&self.users, "users")
        };
        match names.get(id) {
            Some(name) => (format!("/console/{path}/{}", segment(id)), name.clone()),
            None => (String::new(), known.unwrap_or(id).to_string()),
        }
    }
}

async fn report_page(state: &AppState, req: &HttpRequest, who: &Signed, r: RunReport) -> Page {
    let mut pairs: Vec<(String, String)> = Vec::new();
    pairs.extend(
        r.changes
            .iter()
            .take(SHOWN)
            .map(|c| (c.resource_type.clone(), c.local_id.clone())),
    );
    pairs.extend(
        r.failures
            .iter()
            .take(SHOWN)
            .map(|f| (f.resource_type.clone(), f.local_id.clone())),
    );
    pairs.extend(
        r.pending
            .iter()
            .take(SHOWN)
            .map(|p| (p.resource_type.clone(), p.local_id.clone())),
    );
    let namer = Namer::for_ids(state, &pairs).await?;
    let changes = r
        .changes
        .iter()
        .take(SHOWN)
        .map(|c| {
            let (href, name) = namer.name(&c.resource_type, &c.local_id, None);
            // Reports stored before diffs were kept name the attributes only.
            let detail = match (&c.reason, c.diff.is_empty() && !c.changed.is_empty()) {
                (Some(reason), _) => reason.clone(),
                (None, true) => format!("attributes: {}", c.changed.join(", ")),
                (None, false) => String::new(),
            };
            ObjectRow {
                diff: c
                    .diff
                    .iter()
                    .map(|d| DiffRow {
                        attribute: d.attribute.clone(),
                        before: shown(&d.before),
                        after: shown(&d.after),
                    })
                    .collect(),
                kind: c.resource_type.clone(),
                local_id: c.local_id.clone(),
                pushable: c.resource_type == "User"
                    && matches!(c.action.as_str(), "create" | "update" | "link"),
                href,
                name,
                action: c.action.clone(),
                detail,
            }
        })
        .collect();
    let failures = r
        .failures
        .iter()
        .take(SHOWN)
        .map(|f| {
            let (href, name) = namer.name(&f.resource_type, &f.local_id, None);
            let status = f.status.map(|s| format!("HTTP {s}: ")).unwrap_or_default();
            ObjectRow {
                kind: f.resource_type.clone(),
                local_id: f.local_id.clone(),
                pushable: false,
                href,
                name,
                action: f.action.clone(),
                detail: format!("{status}{}", f.detail),
                diff: Vec::new(),
            }
        })
        .collect();
    let held = r
        .pending
        .iter()
        .take(SHOWN)
        .map(|p| {
            let (href, name) = namer.name(&p.resource_type, &p.local_id, p.name.as_deref());
            ObjectRow {
                kind: p.resource_type.clone(),
                local_id: p.local_id.clone(),
                pushable: false,
                href,
                name,
                action: super::view::wire_name(&p.mode),
                detail: p.reason.clone(),
                diff: Vec::new(),
            }
        })
        .collect();
    let orphans = r
        .orphans
        .iter()
        .take(SHOWN)
        .map(|o| ObjectRow {
            kind: o.resource_type.clone(),
            local_id: String::new(),
            pushable: false,
            href: String::new(),
            name: o.name.clone().unwrap_or_default(),
            action: "orphan".into(),
            detail: format!("id on the target: {}", o.remote_id),
            diff: Vec::new(),
        })
        .collect();
    let more = [
        r.changes.len(),
        r.failures.len(),
        r.pending.len(),
        r.orphans.len(),
    ]
    .iter()
    .map(|n| n.saturating_sub(SHOWN))
    .sum();
    let c = &r.head.counts;
    let progress = progress_text(&r);
    page::ok(&RunPage {
        chrome: who.chrome(req, "runs"),
        running: r.head.status == RunStatus::Running,
        awaiting: r.head.status == RunStatus::AwaitingApproval,
        counts: vec![
            ("created", c.created),
            ("updated", c.updated),
            ("linked", c.linked),
            ("unchanged", c.unchanged),
            ("deactivated", c.deactivated),
            ("deleted", c.deleted),
            ("skipped", c.skipped),
            ("failed", c.failed),
            ("member updates", c.member_patches),
            ("manager updates", c.manager_updates),
        ],
        changes,
        failures,
        held,
        orphans,
        more,
        warnings: r.warnings.clone(),
        error: r.head.error.clone(),
        progress,
        row: RunRow::from(&r),
    })
}

/// Where a run is, in words: while it runs, its phase and how far through
/// it (and the plan) it got; afterwards its status.
fn progress_text(r: &RunReport) -> String {
    if r.head.status != RunStatus::Running {
        return r.head.status.as_str().replace('_', " ");
    }
    let Some(p) = &r.head.progress else {
        return format!("running since {}", when(&r.head.started));
    };
    let mut text = match p.phase.as_str() {
        "reading" => "reading the target and the directory".to_string(),
        _ if p.total > 0 => format!("{}: {} of {}", p.phase, p.done, p.total),
        phase => phase.to_string(),
    };
    if p.planned > 0 {
        text.push_str(&format!(" · {} of {} planned", p.completed, p.planned));
    }
    if p.failed > 0 {
        text.push_str(&format!(" · {} failed", p.failed));
    }
    text
}

async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    id: web::Path<String>,
) -> Page {
    let report = state.services.sync.report(&id).await?;
    report_page(&state, &req, &who, report).await
}

/// The run's status and progress for the run page's script: `{"status",
/// "phase", "done", "total", "planned", "completed", "failed", "text"}`.
async fn progress(state: web::Data<AppState>, id: web::Path<String>) -> Page {
    let report = state.services.sync.report(&id).await?;
    let p = report.head.progress.clone().unwrap_or_default();
    let body = json!({
        "status": report.head.status.as_str(),
        "phase": p.phase,
        "done": p.done,
        "total": p.total,
        "planned": p.planned,
        "completed": p.completed,
        "failed": p.failed,
        "text": progress_text(&report),
    });
    Ok(HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(body))
}
