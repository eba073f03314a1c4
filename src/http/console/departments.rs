//! The organization tree: its top levels with head counts (or a search by
//! name), and a department's page: its place, sub-departments, people
//! (paged) and history, with Move and Rename through the department use
//! cases.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::forms::given;
use super::org_view::{self, Listed, TreeRow, department_href};
use super::page::{self, Chrome, Page, Signed, query, see_other, with_notice};
use super::people::{self, HistoryRow, Link, Row};
use super::view::{text, when};
use crate::error::AppError;
use crate::http::AppState;
use crate::http::routes::Endpoint;
use crate::scim::list::ListParams;
use crate::scim::registry::ORGANIZATION_USER_SCHEMA;
use crate::scim::render::format_time;
use crate::scim::{ResourceKind, ScimError};
use crate::service::departments::TreeNode;

/// People listed per page of a department.
const PEOPLE_PAGE: u64 = 25;
/// Departments offered in the Move form's list at most; beyond it the new
/// parent is given by id.
const MAX_CHOICES: usize = 1000;

pub fn endpoints() -> Vec<Endpoint> {
    let session = Some(super::SESSION);
    vec![
        Endpoint::new(Method::GET, "/departments", session, tree),
        Endpoint::new(Method::GET, "/departments/{id}", session, show),
        Endpoint::new(Method::POST, "/departments/{id}/move", session, move_to),
        Endpoint::new(Method::POST, "/departments/{id}/rename", session, rename),
    ]
}

#[derive(Template)]
#[template(path = "console/departments.html")]
struct TreePage {
    chrome: Chrome,
    total: usize,
    rows: Vec<TreeRow>,
    not_listed: usize,
}

/// The tree's top levels; with `?q=` a search of departments by name.
async fn tree(state: web::Data<AppState>, req: HttpRequest, who: Signed) -> Page {
    if query(&req, "q").is_some() {
        return people::list(&state, &req, &who, ResourceKind::Department).await;
    }
    let nodes = state.services.departments.tree(None).await?;
    let Listed { rows, not_listed } = org_view::list(&nodes);
    page::ok(&TreePage {
        chrome: who.chrome(&req, "departments"),
        total: nodes.iter().map(|n| 1 + org_view::descendants(n)).sum(),
        rows,
        not_listed,
    })
}

/// A department the Move form offers as the new parent.
pub struct Choice {
    pub id: String,
    /// Its path of names, `Acme / R&D / Platform`.
    pub label: String,
}

/// Every department but `moved` and those under it, in tree order.
fn choices(nodes: &[TreeNode], moved: &str, above: &str, out: &mut Vec<Choice>) {
    for n in nodes.iter().filter(|n| n.id != moved) {
        let label = if above.is_empty() {
            n.display_name.clone()
        } else {
            format!("{above} / {}", n.display_name)
        };
        out.push(Choice {
            id: n.id.clone(),
            label: label.clone(),
        });
        choices(&n.children, moved, &label, out);
    }
}

/// The Move form's list, by path of names.
fn parent_choices(nodes: &[TreeNode], moved: &str) -> Vec<Choice> {
    let mut out = Vec::new();
    choices(nodes, moved, "", &mut out);
    out.sort_by_key(|c| c.label.to_lowercase());
    out
}

/// Whose people the page lists: the department's own, or everyone under it.
#[derive(PartialEq, Eq, Clone, Copy)]
enum Who {
    Direct,
    InAll,
}

impl Who {
    fn filter(self, id: &str, path: &str) -> String {
        let (attribute, op, value) = match self {
            Self::Direct => ("primaryDepartment.value", "eq", id),
            Self::InAll => ("departmentPath", "sw", path),
        };
        format!(
            "{ORGANIZATION_USER_SCHEMA}:{attribute} {op} {}",
            Value::String(value.to_string())
        )
    }

    fn link(self, id: &str, start: u64) -> String {
        let everyone = if self == Self::InAll {
            "&people=all"
        } else {
            ""
        };
        format!("{}?start={start}{everyone}#people", department_href(id))
    }
}

#[derive(Template)]
#[template(path = "console/department.html")]
struct DepartmentPage {
    chrome: Chrome,
    id: String,
    href: String,
    name: String,
    code: String,
    external_id: String,
    ordering: i64,
    crumbs: Vec<Link>,
    created: String,
    modified: String,
    people: u64,
    people_in_all: u64,
    subs: Vec<TreeRow>,
    subs_not_listed: usize,
    everyone: bool,
    direct_href: String,
    all_href: String,
    members: Vec<Row>,
    members_total: u64,
    first: u64,
    last: u64,
    previous: Option<String>,
    next: Option<String>,
    choices: Vec<Choice>,
    too_many: bool,
    is_root: bool,
    history: Vec<HistoryRow>,
}

/// A page of the people of a department: (rows, total).
async fn members(
    state: &AppState,
    who: Who,
    id: &str,
    path: &str,
    start: u64,
) -> Result<(Vec<Row>, u64), AppError> {
    let params = ListParams {
        filter: Some(who.filter(id, path)),
        sort_by: Some("userName".into()),
        start_index: Some(start.to_string()),
        count: Some(PEOPLE_PAGE.to_string()),
        ..ListParams::default()
    };
    let body = state
        .services
        .listing
        .list(ResourceKind::User, params, String::new())
        .await?;
    let rows = body["Resources"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|r| people::row(ResourceKind::User, r))
                .collect()
        })
        .unwrap_or_default();
    Ok((rows, body["totalResults"].as_u64().unwrap_or(0)))
}

async fn show_page(
    state: &AppState,
    req: &HttpRequest,
    signed: &Signed,
    id: &str,
    error: Option<String>,
) -> Page {
    let departments = &state.services.departments;
    let d = departments.get(id, true).await?;
    let nodes = departments.tree(None).await?;
    let here = org_view::find(&nodes, &d.id);
    let subs = here.map(|n| org_view::list(&n.children)).unwrap_or(Listed {
        rows: Vec::new(),
        not_listed: 0,
    });
    let total: usize = nodes.iter().map(|n| 1 + org_view::descendants(n)).sum();
    let who = match query(req, "people").as_deref() {
        Some("all") => Who::InAll,
        _ => Who::Direct,
    };
    let start: u64 = query(req, "start")
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
        .max(1);
    let (rows, members_total) = members(state, who, &d.id, d.path(), start).await?;
    let shown = rows.len() as u64;
    let last = start + shown.saturating_sub(1);
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut chrome = signed.chrome(req, "departments");
    chrome.error = error;
    let attribute = |name: &str| text(&Value::Object(d.attributes.clone()), name);
    page::html(
        status,
        &DepartmentPage {
            chrome,
            href: department_href(&d.id),
            name: d.display_name().to_string(),
            code: attribute("code"),
            external_id: attribute("externalId"),
            ordering: d.ordering(),
            crumbs: org_view::crumbs(state, d.path()).await?,
            created: when(&format_time(&d.meta.created)),
            modified: when(&format_time(&d.meta.last_modified)),
            people: here.map_or(0, |n| n.people),
            people_in_all: here.map_or(0, |n| n.people_in_all),
            subs: subs.rows,
            subs_not_listed: subs.not_listed,
            everyone: who == Who::InAll,
            direct_href: Who::Direct.link(&d.id, 1),
            all_href: Who::InAll.link(&d.id, 1),
            members: rows,
            members_total,
            first: if shown == 0 { 0 } else { start },
            last: if shown == 0 { 0 } else { last },
            previous: (start > 1)
                .then(|| who.link(&d.id, start.saturating_sub(PEOPLE_PAGE).max(1))),
            next: (shown > 0 && last < members_total).then(|| who.link(&d.id, last + 1)),
            choices: if total <= MAX_CHOICES {
                parent_choices(&nodes, &d.id)
            } else {
                Vec::new()
            },
            too_many: total > MAX_CHOICES,
            is_root: d.parent_id().is_none(),
            history: people::history(state, &d.id).await?,
            id: d.id,
        },
    )
}

async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    id: web::Path<String>,
) -> Page {
    show_page(&state, &req, &who, &id, None).await
}

/// After a change: back to the department with a notice, or the same page
/// with the use case's refusal (an unknown department stays a 404 page).
async fn answer<T>(
    state: &AppState,
    req: &HttpRequest,
    who: &Signed,
    id: &str,
    done: Result<T, AppError>,
    notice: &str,
) -> Page {
    match done {
        Ok(_) => Ok(see_other(with_notice(&department_href(id), notice))),
        Err(AppError::Scim(e)) if e.status != 404 => {
            show_page(state, req, who, id, Some(e.detail)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct MoveForm {
    /// The new parent's id, typed.
    #[serde(default)]
    parent_id: String,
    /// The new parent, chosen from the list.
    #[serde(default)]
    parent: String,
    /// Make it a root instead.
    #[serde(default)]
    root: Option<String>,
}

impl MoveForm {
    /// The new parent (None: a root); a typed id wins over the list.
    fn parent(&self) -> Result<Option<String>, AppError> {
        if self.root.is_some() {
            return Ok(None);
        }
        given(&self.parent_id)
            .or_else(|| given(&self.parent))
            .map(Some)
            .ok_or_else(|| {
                ScimError::invalid_value(
                    "Choose the new parent from the list or give its id (or make it a root).",
                )
                .into()
            })
    }
}

/// Moves the department, with everything under it.
async fn move_to(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    id: web::Path<String>,
    web::Form(form): web::Form<MoveForm>,
) -> Page {
    let done = match form.parent() {
        Ok(parent) => {
            state
                .services
                .departments
                .move_to(&who.actor(&req), &id, parent)
                .await
        }
        Err(e) => Err(e),
    };
    answer(&state, &req, &who, &id, done, "department-moved").await
}

#[derive(Deserialize)]
struct RenameForm {
    #[serde(default)]
    name: String,
}

async fn rename(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    id: web::Path<String>,
    web::Form(form): web::Form<RenameForm>,
) -> Page {
    let done = match given(&form.name) {
        Some(name) => {
            let fields: Map<String, Value> = [("displayName".to_string(), json!(name))]
                .into_iter()
                .collect();
            state
                .services
                .departments
                .update(&who.actor(&req), &id, fields)
                .await
        }
        None => Err(ScimError::invalid_value("Give the department a name.").into()),
    };
    answer(&state, &req, &who, &id, done, "department-renamed").await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, name: &str, children: Vec<TreeNode>) -> TreeNode {
        TreeNode {
            id: id.into(),
            display_name: name.into(),
            code: None,
            ordering: 0,
            path: String::new(),
            people: 0,
            people_in_all: 0,
            children,
        }
    }

    #[test]
    fn the_move_list_leaves_out_the_department_and_what_is_under_it() {
        let tree = vec![node(
            "a",
            "Acme",
            vec![
                node("r", "R&D", vec![node("p", "Platform", vec![])]),
                node("s", "Sales", vec![]),
            ],
        )];
        let offered: Vec<(String, String)> = parent_choices(&tree, "r")
            .into_iter()
            .map(|c| (c.id, c.label))
            .collect();
        assert_eq!(
            offered,
            [
                ("a".to_string(), "Acme".to_string()),
                ("s".to_string(), "Acme / Sales".to_string())
            ]
        );
    }

    #[test]
    fn people_filters_quote_what_they_compare() {
        assert_eq!(
            Who::Direct.filter("x\"y", "/a/"),
            format!("{ORGANIZATION_USER_SCHEMA}:primaryDepartment.value eq \"x\\\"y\"")
        );
        assert_eq!(
            Who::InAll.filter("x", "/a/x/"),
            format!("{ORGANIZATION_USER_SCHEMA}:departmentPath sw \"/a/x/\"")
        );
        assert_eq!(
            Who::InAll.link("x", 26),
            "/console/departments/x?start=26&people=all#people"
        );
    }

    #[test]
    fn a_move_needs_a_parent_or_the_root() {
        let form = |parent_id: &str, parent: &str, root: bool| MoveForm {
            parent_id: parent_id.into(),
            parent: parent.into(),
            root: root.then(|| "on".into()),
        };
        assert_eq!(form(" b ", "c", false).parent().unwrap(), Some("b".into()));
        assert_eq!(form("", "c", false).parent().unwrap(), Some("c".into()));
        assert_eq!(form("b", "c", true).parent().unwrap(), None);
        assert!(form(" ", "", false).parent().is_err());
    }
}
