//! The audit log, filtered by actor, event, object and time.

use actix_web::http::Method;
use actix_web::{HttpRequest, web};
use askama::Template;
use chrono::{DateTime, NaiveDateTime, Utc};

use super::page::{self, Chrome, Page, Signed, query};
use super::view::when;
use crate::http::AppState;
use crate::http::routes::Endpoint;
use crate::scim::render::format_time;
use crate::service::audit;
use crate::store::AuditQuery;

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;

pub fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint::new(
        Method::GET,
        "/audit",
        Some(super::SESSION),
        list,
    )]
}

pub struct Row {
    pub at: String,
    pub event: String,
    pub actor: String,
    pub object: String,
    pub source: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct ListPage {
    chrome: Chrome,
    actor: String,
    event: String,
    resource: String,
    since: String,
    until: String,
    limit: u32,
    rows: Vec<Row>,
}

/// A time from the filter form: RFC 3339, or the browser's
/// `datetime-local` value (`2026-12-12T10:30`), read as UTC.
fn time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .map(|t| t.and_utc())
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
        })
        .ok_or_else(|| format!("{text:?} is not a time (UTC) such as 2026-12-12T10:30"))
}

async fn list(state: web::Data<AppState>, req: HttpRequest, who: Signed) -> Page {
    let mut chrome = who.chrome(&req, "audit");
    let (actor, event, resource) = (
        query(&req, "actor"),
        query(&req, "event"),
        query(&req, "resource"),
    );
    let (since_text, until_text) = (query(&req, "since"), query(&req, "until"));
    let limit = query(&req, "limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(DEFAULT_LIMIT)
        .clamp(1, MAX_LIMIT);
    let mut problems = Vec::new();
    let mut read = |text: &Option<String>| {
        text.as_deref().and_then(|t| match time(t) {
            Ok(t) => Some(t),
            Err(e) => {
                problems.push(e);
                None
            }
        })
    };
    let (since, until) = (read(&since_text), read(&until_text));
    let rows = if problems.is_empty() {
        audit::list(
            &state.services.store,
            AuditQuery {
                since,
                until,
                actor: actor.clone(),
                event_prefix: event.clone(),
                resource_id: resource.clone(),
                limit,
            },
        )
        .await?
    } else {
        chrome = chrome.with_error(problems.join("; "));
        Vec::new()
    };
    let rows = rows
        .into_iter()
        .map(|r| Row {
            at: when(&format_time(&r.at)),
            object: match (&r.resource_type, &r.resource_id) {
                (Some(t), Some(id)) => format!("{t} {id}"),
                (None, Some(id)) => id.clone(),
                _ => String::new(),
            },
            detail: if r.attributes.is_empty() {
                r.detail.unwrap_or_default()
            } else {
                r.attributes.join(", ")
            },
            source: r.source.unwrap_or_default(),
            event: r.event,
            actor: r.actor,
        })
        .collect();
    page::ok(&ListPage {
        chrome,
        actor: actor.unwrap_or_default(),
        event: event.unwrap_or_default(),
        resource: resource.unwrap_or_default(),
        since: since_text.unwrap_or_default(),
        until: until_text.unwrap_or_default(),
        limit,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::time;

    #[test]
    fn filter_times_are_utc() {
        assert_eq!(
            time("2026-12-12T10:30").unwrap().to_rfc3339(),
            "2026-12-12T10:30:00+00:00"
        );
        assert_eq!(
            time("2026-12-12T10:30:00+01:00").unwrap().to_rfc3339(),
            "2026-12-12T09:30:00+00:00"
        );
        assert_eq!(
            time("2026-12-12").unwrap().to_rfc3339(),
            "2026-12-12T00:00:00+00:00"
        );
        assert!(time("yesterday").unwrap_err().contains("\"yesterday\""));
    }
}
