//! People and groups: search (a SCIM filter or plain text), paging and
//! sorting; a person's attributes, groups, manager chain and history; a
//! group's members, paged.

use std::collections::HashMap;

use actix_web::http::Method;
use actix_web::{HttpRequest, web};
use askama::Template;
use serde_json::Value;

use super::org_view;
use super::page::{self, Chrome, Page, Signed, query, segment};
use super::view::{pretty, text, when};
use crate::error::AppError;
use crate::http::AppState;
use crate::http::routes::Endpoint;
use crate::scim::ResourceKind;
use crate::scim::filter::{FilterLimits, parse_filter};
use crate::scim::list::ListParams;
use crate::scim::registry::ORGANIZATION_USER_SCHEMA;
use crate::store::AuditQuery;

const PAGE: u64 = 25;
const MEMBERS_PAGE: usize = 50;
const HISTORY: u32 = 50;
/// Ids named per search when ids get their names.
const NAMES_PER_SEARCH: usize = 50;
/// The longest manager chain followed (a cycle stops it sooner).
const MANAGER_DEPTH: usize = 10;
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

pub fn endpoints() -> Vec<Endpoint> {
    let session = Some(super::SESSION);
    vec![
        Endpoint::new(Method::GET, "/users", session, users),
        Endpoint::new(Method::GET, "/users/{id}", session, user),
        Endpoint::new(Method::GET, "/groups", session, groups),
        Endpoint::new(Method::GET, "/groups/{id}", session, group),
    ]
}

/// The filter a search box means: a SCIM filter as typed, or plain text
/// looked for (contains, any case) in the names.
fn search_filter(kind: ResourceKind, q: &str) -> String {
    if parse_filter(q, FilterLimits::default()).is_ok() {
        return q.to_string();
    }
    let quoted = Value::String(q.to_string()).to_string();
    let attributes: &[&str] = match kind {
        ResourceKind::User => &[
            "userName",
            "displayName",
            "name.formatted",
            "name.familyName",
            "name.givenName",
            "emails.value",
            "externalId",
        ],
        ResourceKind::Group => &["displayName", "externalId"],
        ResourceKind::Department => &["displayName", "code", "externalId"],
        ResourceKind::Plain(_) => &["name", "displayName", "externalId"],
    };
    attributes
        .iter()
        .map(|a| format!("{a} co {quoted}"))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// An option of a `<select>`.
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

/// One row of the people or groups list.
pub struct Row {
    pub id: String,
    pub name: String,
    pub display: String,
    pub detail: String,
    pub active: String,
}

/// A list page's search, sort and window, as the form and links carry them.
struct Search {
    q: String,
    sort: String,
    order: String,
    start: u64,
}

impl Search {
    fn from(req: &HttpRequest) -> Self {
        Self {
            q: query(req, "q").unwrap_or_default(),
            sort: query(req, "sort").unwrap_or_default(),
            order: query(req, "order").unwrap_or_else(|| "ascending".into()),
            start: query(req, "start")
                .and_then(|s| s.parse().ok())
                .unwrap_or(1)
                .max(1),
        }
    }

    /// The link to the page starting at `start`.
    fn link(&self, path: &str, start: u64) -> String {
        let pairs = [
            ("q", self.q.as_str()),
            ("sort", self.sort.as_str()),
            ("order", self.order.as_str()),
        ];
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
            out.append_pair(k, v);
        }
        out.append_pair("start", &start.to_string());
        format!("{path}?{}", out.finish())
    }
}

#[derive(Template)]
#[template(path = "console/people.html")]
struct ListPage {
    chrome: Chrome,
    heading: &'static str,
    path: &'static str,
    kind: &'static str,
    q: String,
    descending: bool,
    sorts: Vec<Choice>,
    rows: Vec<Row>,
    total: u64,
    first: u64,
    last: u64,
    previous: Option<String>,
    next: Option<String>,
}

pub(super) fn row(kind: ResourceKind, r: &Value) -> Row {
    match kind {
        ResourceKind::User => {
            let email = r["emails"]
                .as_array()
                .and_then(|all| {
                    all.iter()
                        .find(|e| e["primary"] == true)
                        .or_else(|| all.first())
                })
                .map(|e| text(e, "value"))
                .unwrap_or_default();
            Row {
                id: text(r, "id"),
                name: text(r, "userName"),
                display: display_name(r),
                detail: email,
                active: match r.get("active").and_then(Value::as_bool) {
                    Some(false) => "inactive".into(),
                    _ => "active".into(),
                },
            }
        }
        ResourceKind::Group => Row {
            id: text(r, "id"),
            name: text(r, "displayName"),
            display: text(r, "externalId"),
            detail: String::new(),
            active: String::new(),
        },
        ResourceKind::Department => Row {
            id: text(r, "id"),
            name: text(r, "displayName"),
            display: text(r, "code"),
            detail: text(&r["parent"], "display"),
            active: String::new(),
        },
        ResourceKind::Plain(_) => Row {
            id: text(r, "id"),
            name: text(r, "name"),
            display: text(r, "displayName"),
            detail: text(r, "description"),
            active: String::new(),
        },
    }
}

/// A user's name as people say it.
fn display_name(u: &Value) -> String {
    let shown = text(u, "displayName");
    if !shown.is_empty() {
        return shown;
    }
    let formatted = text(&u["name"], "formatted");
    if !formatted.is_empty() {
        return formatted;
    }
    let parts = [
        text(&u["name"], "givenName"),
        text(&u["name"], "familyName"),
    ];
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) async fn list(
    state: &AppState,
    req: &HttpRequest,
    who: &Signed,
    kind: ResourceKind,
) -> Page {
    let search = Search::from(req);
    let (heading, path, section, sorts): (_, _, _, Vec<(&str, &str)>) = match kind {
        ResourceKind::User => (
            "People",
            "/console/users",
            "users",
            vec![
                ("", "default"),
                ("userName", "user name"),
                ("displayName", "display name"),
                ("name.familyName", "family name"),
                ("meta.lastModified", "last modified"),
            ],
        ),
        ResourceKind::Group => (
            "Groups",
            "/console/groups",
            "groups",
            vec![
                ("", "default"),
                ("displayName", "name"),
                ("meta.lastModified", "last modified"),
            ],
        ),
        ResourceKind::Department => (
            "Departments",
            "/console/departments",
            "departments",
            vec![
                ("", "default"),
                ("displayName", "name"),
                ("path", "tree order"),
            ],
        ),
        // The console has no pages of its own for these (yet): listed from the overview.
        ResourceKind::Plain(t) => (
            t.endpoint,
            "/console",
            "overview",
            vec![("", "default"), ("name", "name")],
        ),
    };
    let params = ListParams {
        filter: (!search.q.is_empty()).then(|| search_filter(kind, &search.q)),
        sort_by: (!search.sort.is_empty()).then(|| search.sort.clone()),
        sort_order: Some(search.order.clone()),
        start_index: Some(search.start.to_string()),
        count: Some(PAGE.to_string()),
        ..ListParams::default()
    };
    let mut chrome = who.chrome(req, section);
    let listed = state
        .services
        .listing
        .list(kind, params, String::new())
        .await;
    let (rows, total) = match listed {
        Ok(body) => {
            let rows: Vec<Row> = body["Resources"]
                .as_array()
                .map(|all| all.iter().map(|r| row(kind, r)).collect())
                .unwrap_or_default();
            (rows, body["totalResults"].as_u64().unwrap_or(0))
        }
        // A bad filter or sort is shown on the page, with the search kept.
        Err(AppError::Scim(e)) => {
            chrome = chrome.with_error(format!("The search could not run: {}", e.detail));
            (Vec::new(), 0)
        }
        Err(e) => return Err(e.into()),
    };
    let shown = rows.len() as u64;
    let first = if shown == 0 { 0 } else { search.start };
    let last = search.start + shown.saturating_sub(1);
    page::ok(&ListPage {
        chrome,
        heading,
        path,
        kind: kind.as_str(),
        previous: (search.start > 1)
            .then(|| search.link(path, search.start.saturating_sub(PAGE).max(1))),
        next: (last < total && shown > 0).then(|| search.link(path, last + 1)),
        descending: search.order.eq_ignore_ascii_case("descending"),
        sorts: sorts
            .iter()
            .map(|(value, label)| Choice {
                value,
                label,
                selected: *value == search.sort,
            })
            .collect(),
        q: search.q,
        rows,
        total,
        first,
        last: if shown == 0 { 0 } else { last },
    })
}

async fn users(state: web::Data<AppState>, req: HttpRequest, who: Signed) -> Page {
    list(&state, &req, &who, ResourceKind::User).await
}

async fn groups(state: web::Data<AppState>, req: HttpRequest, who: Signed) -> Page {
    list(&state, &req, &who, ResourceKind::Group).await
}

pub struct Link {
    pub href: String,
    pub name: String,
    pub note: String,
}

pub struct HistoryRow {
    pub at: String,
    pub event: String,
    pub actor: String,
    pub what: String,
}

#[derive(Template)]
#[template(path = "console/user.html")]
struct UserPage {
    chrome: Chrome,
    id: String,
    user_name: String,
    display: String,
    active: bool,
    attributes: String,
    groups: Vec<Link>,
    managers: Vec<Link>,
    /// The primary department's path, root first.
    department: Vec<Link>,
    other_departments: Vec<Link>,
    history: Vec<HistoryRow>,
}

/// The audit trail of one resource, newest first.
pub(super) async fn history(state: &AppState, id: &str) -> Result<Vec<HistoryRow>, AppError> {
    let rows = crate::service::audit::list(
        &state.services.store,
        AuditQuery {
            resource_id: Some(id.to_string()),
            limit: HISTORY,
            ..AuditQuery::default()
        },
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| HistoryRow {
            at: when(&crate::scim::render::format_time(&r.at)),
            event: r.event,
            actor: r.actor,
            what: if r.attributes.is_empty() {
                r.detail.unwrap_or_default()
            } else {
                r.attributes.join(", ")
            },
        })
        .collect())
}

fn manager_id(u: &Value) -> Option<String> {
    let ext = u
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(ENTERPRISE))?
        .1;
    let value = ext.get("manager")?.get("value")?.as_str()?;
    (!value.is_empty()).then(|| value.to_string())
}

async fn user(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    id: web::Path<String>,
) -> Page {
    let stored = state.services.users.get(&id, true).await?;
    let scim = stored.to_scim("");
    let groups = stored
        .groups
        .iter()
        .map(|g| Link {
            href: format!("/console/groups/{}", segment(&g.group_id)),
            name: g.display.clone().unwrap_or_else(|| g.group_id.clone()),
            note: if g.direct {
                "direct"
            } else {
                "through a nested group"
            }
            .into(),
        })
        .collect();
    let mut managers = Vec::new();
    let mut seen = vec![stored.id.clone()];
    let mut next = manager_id(&scim);
    while let Some(manager) = next.take() {
        if seen.contains(&manager) || managers.len() >= MANAGER_DEPTH {
            break;
        }
        seen.push(manager.clone());
        match state.services.users.get(&manager, false).await {
            Ok(m) => {
                let m = m.to_scim("");
                next = manager_id(&m);
                managers.push(Link {
                    href: format!("/console/users/{}", segment(&manager)),
                    name: text(&m, "userName"),
                    note: display_name(&m),
                });
            }
            Err(AppError::Scim(e)) if e.status == 404 => {
                managers.push(Link {
                    href: String::new(),
                    name: manager,
                    note: "no longer exists".into(),
                });
            }
            Err(e) => return Err(e.into()),
        }
    }
    let organization = &scim[ORGANIZATION_USER_SCHEMA];
    let department = match organization["departmentPath"].as_str() {
        Some(path) => org_view::crumbs(&state, path).await?,
        None => Vec::new(),
    };
    let other_departments = organization["departments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| {
            let id = d["value"].as_str()?;
            Some(Link {
                href: org_view::department_href(id),
                name: d["display"].as_str().unwrap_or(id).to_string(),
                note: String::new(),
            })
        })
        .collect();
    page::ok(&UserPage {
        chrome: who.chrome(&req, "users"),
        department,
        other_departments,
        user_name: text(&scim, "userName"),
        display: display_name(&scim),
        active: scim.get("active").and_then(Value::as_bool) != Some(false),
        attributes: pretty(&scim),
        groups,
        managers,
        history: history(&state, &stored.id).await?,
        id: stored.id,
    })
}

#[derive(Template)]
#[template(path = "console/group.html")]
struct GroupPage {
    chrome: Chrome,
    id: String,
    name: String,
    attributes: String,
    members: Vec<Link>,
    total: usize,
    first: usize,
    last: usize,
    previous: Option<String>,
    next: Option<String>,
    history: Vec<HistoryRow>,
}

/// Names for the ids of one kind, a page of ids per search.
pub async fn names(
    state: &AppState,
    kind: ResourceKind,
    ids: Vec<String>,
) -> Result<HashMap<String, String>, AppError> {
    let key = match kind {
        ResourceKind::User => "userName",
        ResourceKind::Group | ResourceKind::Department => "displayName",
        ResourceKind::Plain(_) => "name",
    };
    let mut out = HashMap::new();
    for chunk in ids.chunks(NAMES_PER_SEARCH) {
        let filter = chunk
            .iter()
            .map(|id| format!("id eq {}", Value::String(id.clone())))
            .collect::<Vec<_>>()
            .join(" or ");
        let params = ListParams {
            filter: Some(filter),
            count: Some(chunk.len().to_string()),
            attributes: Some(key.into()),
            ..ListParams::default()
        };
        let body = state
            .services
            .listing
            .list(kind, params, String::new())
            .await?;
        for r in body["Resources"].as_array().into_iter().flatten() {
            if let (Some(id), Some(name)) = (r["id"].as_str(), r[key].as_str()) {
                out.insert(id.to_string(), name.to_string());
            }
        }
    }
    Ok(out)
}

async fn group(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    id: web::Path<String>,
) -> Page {
    let stored = state.services.groups.get(&id, true).await?;
    let start: usize = query(&req, "start")
        .and_then(|s| s.parse().ok())
        .unwrap_or(1usize)
        .max(1);
    let total = stored.members.len();
    let window: Vec<_> = stored
        .members
        .iter()
        .skip(start - 1)
        .take(MEMBERS_PAGE)
        .collect();
    let ids = |kind: crate::store::MemberKind| -> Vec<String> {
        window
            .iter()
            .filter(|m| m.kind == kind)
            .map(|m| m.id.clone())
            .collect()
    };
    let user_names = names(
        &state,
        ResourceKind::User,
        ids(crate::store::MemberKind::User),
    )
    .await?;
    let group_names = names(
        &state,
        ResourceKind::Group,
        ids(crate::store::MemberKind::Group),
    )
    .await?;
    let members = window
        .iter()
        .map(|m| match m.kind {
            crate::store::MemberKind::User => Link {
                href: format!("/console/users/{}", segment(&m.id)),
                name: user_names
                    .get(&m.id)
                    .cloned()
                    .unwrap_or_else(|| m.id.clone()),
                note: "user".into(),
            },
            crate::store::MemberKind::Group => Link {
                href: format!("/console/groups/{}", segment(&m.id)),
                name: group_names
                    .get(&m.id)
                    .cloned()
                    .unwrap_or_else(|| m.id.clone()),
                note: "group".into(),
            },
        })
        .collect::<Vec<_>>();
    let shown = members.len();
    let base = format!("/console/groups/{}", segment(&stored.id));
    let mut scim = stored.to_scim("");
    // Members are listed below, paged; the attributes block stays short.
    if let Some(obj) = scim.as_object_mut() {
        obj.remove("members");
    }
    page::ok(&GroupPage {
        chrome: who.chrome(&req, "groups"),
        name: text(&scim, "displayName"),
        attributes: pretty(&scim),
        members,
        total,
        first: if shown == 0 { 0 } else { start },
        last: start + shown.saturating_sub(1),
        previous: (start > 1)
            .then(|| format!("{base}?start={}", start.saturating_sub(MEMBERS_PAGE).max(1))),
        next: (shown > 0 && start - 1 + shown < total)
            .then(|| format!("{base}?start={}", start + shown)),
        history: history(&state, &stored.id).await?,
        id: stored.id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_searches_names_and_filters_pass_through() {
        assert_eq!(
            search_filter(ResourceKind::User, "userName sw \"a\""),
            "userName sw \"a\""
        );
        let f = search_filter(ResourceKind::User, "ali \"x\"");
        assert!(
            f.starts_with("userName co \"ali \\\"x\\\"\" or displayName co"),
            "{f}"
        );
        assert!(parse_filter(&f, FilterLimits::default()).is_ok(), "{f}");
        assert_eq!(
            search_filter(ResourceKind::Group, "staff"),
            "displayName co \"staff\" or externalId co \"staff\""
        );
    }
}
