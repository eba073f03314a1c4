//! Sources: the list, a source's page (settings without credentials,
//! recent runs, run and dry run) and its failure list with each refused
//! record as read.

use std::collections::HashSet;

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;
use serde_json::{Value, json};

use super::page::{self, Chrome, Page, Signed, see_other};
use super::source_view::{SourceRow, SourceRunRow, run_href, source_href};
use super::view::{pretty, when};
use crate::error::AppError;
use crate::http::AppState;
use crate::http::routes::Endpoint;
use crate::provision::source::{ImportOptions, SourceKind};
use crate::service::source_admin::{DEFAULT_RUNS, FailureView};

pub fn endpoints() -> Vec<Endpoint> {
    let session = Some(super::SESSION);
    vec![
        Endpoint::new(Method::GET, "/sources", session, list),
        Endpoint::new(Method::GET, "/sources/{name}", session, show),
        Endpoint::new(Method::POST, "/sources/{name}/runs", session, run),
        Endpoint::new(Method::GET, "/sources/{name}/failures", session, failures),
    ]
}

/// Every source as a row.
async fn rows(state: &AppState) -> Result<Vec<SourceRow>, AppError> {
    let sources = state.services.sources.list().await?;
    let held: HashSet<String> = state
        .services
        .sources
        .held()
        .await?
        .into_iter()
        .map(|r| r.source)
        .collect();
    Ok(sources.iter().map(|s| SourceRow::new(s, &held)).collect())
}

#[derive(Template)]
#[template(path = "console/sources.html")]
struct ListPage {
    chrome: Chrome,
    sources: Vec<SourceRow>,
}

async fn list(state: web::Data<AppState>, req: HttpRequest, who: Signed) -> Page {
    page::ok(&ListPage {
        chrome: who.chrome(&req, "sources"),
        sources: rows(&state).await?,
    })
}

/// Which credentials a source has, never what they are.
fn credentials(kind: SourceKind, auth: Option<&str>) -> &'static str {
    match (auth, kind) {
        (Some("bearer"), _) => "a bearer token (stored sealed)",
        (Some("basic"), SourceKind::Ldap) => "a bind DN and password (stored sealed)",
        (Some("basic"), _) => "a user name and password (stored sealed)",
        (Some("oauth2"), _) => "OAuth client credentials (stored sealed)",
        (_, SourceKind::Ldap) => "none: binds anonymously",
        _ => "none",
    }
}

#[derive(Template)]
#[template(path = "console/source.html")]
struct ShowPage {
    chrome: Chrome,
    row: SourceRow,
    credentials: &'static str,
    created: String,
    updated: String,
    watermark: Option<String>,
    held_run: Option<String>,
    runs: Vec<SourceRunRow>,
    settings: String,
    mapping: String,
}

async fn show_page(
    state: &AppState,
    req: &HttpRequest,
    who: &Signed,
    name: &str,
    error: Option<String>,
) -> Page {
    let sources = &state.services.sources;
    let source = sources.show(name).await?;
    let runs = sources.runs(name, DEFAULT_RUNS).await?;
    let held_runs = sources.held().await?;
    let held: HashSet<String> = held_runs.iter().map(|r| r.source.clone()).collect();
    let held_run = held_runs
        .iter()
        .find(|r| r.source == source.source.name)
        .map(|r| run_href(&r.id));
    let v = &source.source;
    let mut chrome = who.chrome(req, "sources");
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    chrome.error = error;
    page::html(
        status,
        &ShowPage {
            chrome,
            credentials: credentials(v.kind, v.settings.auth.as_deref()),
            created: when(&v.created),
            updated: when(&v.updated),
            watermark: v.watermark.clone(),
            held_run,
            runs: runs.iter().map(SourceRunRow::from).collect(),
            settings: pretty(&json!(v.settings)),
            mapping: v
                .mapping
                .as_ref()
                .map(|m| toml::to_string(m).unwrap_or_else(|_| pretty(&json!(m))))
                .unwrap_or_else(|| "none: the records' fields are SCIM attribute paths".into()),
            row: SourceRow::new(&source, &held),
        },
    )
}

async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    name: web::Path<String>,
) -> Page {
    show_page(&state, &req, &who, &name, None).await
}

#[derive(Deserialize)]
struct RunForm {
    #[serde(default)]
    dry_run: Option<String>,
}

/// Starts a run (or a dry run) in the background and shows its page.
async fn run(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    name: web::Path<String>,
    web::Form(form): web::Form<RunForm>,
) -> Page {
    let options = ImportOptions {
        dry_run: form.dry_run.is_some(),
        trigger: "console".into(),
        ..ImportOptions::default()
    };
    match state
        .services
        .sources
        .start(&who.actor(&req), &name, options)
        .await
    {
        Ok(report) => Ok(see_other(run_href(&report.id))),
        // Unknown source: the 404 page; a run already going on: said on the page.
        Err(AppError::Scim(e)) if e.status != 404 => {
            show_page(&state, &req, &who, &name, Some(e.detail)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// One field of a raw record.
pub struct Field {
    pub name: String,
    pub value: String,
}

/// One entry of the failure list.
pub struct FailureRow {
    pub kind: String,
    pub key: String,
    pub locator: String,
    pub reason: String,
    pub detail: String,
    /// An object record's fields, in the order read.
    pub fields: Vec<Field>,
    /// Any other record, as JSON text.
    pub raw: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
    pub run_href: String,
}

/// A field's value as text: strings as they are, anything else as JSON.
fn field_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl From<FailureView> for FailureRow {
    fn from(f: FailureView) -> Self {
        let (fields, raw) = match &f.record {
            Value::Object(map) => (
                map.iter()
                    .map(|(k, v)| Field {
                        name: k.clone(),
                        value: field_text(v),
                    })
                    .collect(),
                None,
            ),
            other => (Vec::new(), Some(pretty(other))),
        };
        Self {
            kind: f.resource_type,
            key: f.key,
            locator: f.locator,
            reason: super::view::words(&f.reason),
            detail: f.detail,
            fields,
            raw,
            first_seen: when(&f.first_seen),
            last_seen: when(&f.last_seen),
            run_href: run_href(&f.run_id),
        }
    }
}

#[derive(Template)]
#[template(path = "console/source_failures.html")]
struct FailuresPage {
    chrome: Chrome,
    name: String,
    href: String,
    rows: Vec<FailureRow>,
    more: usize,
}

/// Failure-list entries shown at once.
const LISTED: usize = 500;

async fn failures(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    name: web::Path<String>,
) -> Page {
    let all = state.services.sources.failures(&name).await?;
    page::ok(&FailuresPage {
        chrome: who.chrome(&req, "sources"),
        href: source_href(&name),
        more: all.len().saturating_sub(LISTED),
        name: name.into_inner(),
        rows: all.into_iter().take(LISTED).map(FailureRow::from).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_named_by_kind_only() {
        assert_eq!(
            credentials(SourceKind::Ldap, Some("basic")),
            "a bind DN and password (stored sealed)"
        );
        assert_eq!(credentials(SourceKind::File, None), "none");
        assert_eq!(
            credentials(SourceKind::Ldap, None),
            "none: binds anonymously"
        );
    }

    #[test]
    fn a_raw_record_keeps_its_fields_in_order_and_as_text() {
        let record: Value = serde_json::from_str(
            r#"{"employee_id": "E1", "displayName": "<script>alert(1)</script>", "n": 3}"#,
        )
        .unwrap();
        let row = FailureRow::from(FailureView {
            resource_type: "User".into(),
            key: "E1".into(),
            locator: "people.csv line 2".into(),
            reason: "invalid_email".into(),
            detail: "not an e-mail address".into(),
            record,
            run_id: "r1".into(),
            first_seen: "2026-12-12T10:31:05Z".into(),
            last_seen: "2026-12-12T10:31:05Z".into(),
        });
        let fields: Vec<(&str, &str)> = row
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.value.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("employee_id", "E1"),
                ("displayName", "<script>alert(1)</script>"),
                ("n", "3")
            ]
        );
        assert_eq!(row.reason, "invalid email");
        assert_eq!(row.run_href, "/console/source-runs/r1");
    }
}
