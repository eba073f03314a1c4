//! Filters as SQL: every leaf over an indexed column becomes a parameterized,
//! never-NULL predicate (so `NOT` keeps two-valued logic, like the
//! evaluator). Anything else is left to the in-memory evaluator.
//!
//! Case-insensitive attributes are compared on `*_lower` columns against a
//! Rust-lower-cased literal; PostgreSQL columns use `COLLATE "C"` and SQLite
//! LIKE is case-sensitive, so both order and match bytes exactly as Rust does.

use chrono::{DateTime, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable};

use super::connection::MultiBackend;
use super::schema::{
    departments, group_members, scim_groups, user_departments, user_emails, users,
};
use super::subquery::{Constant, InSubquery};
use crate::scim::ResourceKind;
use crate::scim::filter::eval::{fold, resolve};
use crate::scim::filter::{AttrPath, CompValue, CompareOp, Filter};
use crate::scim::registry::{ENTERPRISE_USER_SCHEMA, ORGANIZATION_USER_SCHEMA, registry};

pub type Pred<T> = Box<dyn BoxableExpression<T, MultiBackend, SqlType = Nullable<Bool>>>;

/// How much of a filter SQL answers.
pub enum Pushdown<T> {
    /// SQL gives exactly the filter's result.
    Exact(Pred<T>),
    /// SQL narrows to a superset; the evaluator must check each candidate.
    Narrowed(Pred<T>),
    /// SQL cannot help; every row is a candidate.
    Nothing,
}

/// Which schema an attribute path is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Core,
    /// The enterprise extension of User.
    Enterprise,
    /// The organization extension of User.
    Organization,
}

/// The attribute a root path names, in a canonical spelling:
/// (its schema, lower-case name, lower-case sub).
fn key(kind: ResourceKind, path: &AttrPath) -> Option<(Scope, String, Option<String>)> {
    let user = kind == ResourceKind::User;
    let scope = match &path.uri {
        None => Scope::Core,
        Some(u) if u.eq_ignore_ascii_case(registry().core_schema(kind).id) => Scope::Core,
        Some(u) if user && u.eq_ignore_ascii_case(ENTERPRISE_USER_SCHEMA) => Scope::Enterprise,
        Some(u) if user && u.eq_ignore_ascii_case(ORGANIZATION_USER_SCHEMA) => Scope::Organization,
        Some(_) => return None,
    };
    Some((
        scope,
        path.name.to_ascii_lowercase(),
        path.sub.as_ref().map(|s| s.to_ascii_lowercase()),
    ))
}

pub(super) fn like_pattern(op: CompareOp, s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    match op {
        CompareOp::Co => format!("%{escaped}%"),
        CompareOp::Sw => format!("{escaped}%"),
        _ => format!("%{escaped}"),
    }
}

/// The smallest string greater than every string starting with `prefix`
/// (byte order): the prefix with its last character incremented. None when
/// that is impossible (empty, or ending in the last code point).
pub(super) fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    let last = chars.pop()?;
    let next = (u32::from(last) + 1..=0x10FFFF).find_map(char::from_u32)?;
    chars.push(next);
    Some(chars.into_iter().collect())
}

/// A comparison on a text column; `present` means non-NULL and non-empty.
macro_rules! text_leaf {
    ($col:expr, $op:expr, $value:expr, $case_exact:expr) => {{
        let col = $col;
        let pred: Pred<_> = match $value {
            CompValue::Null => match $op {
                CompareOp::Eq => Box::new(col.is_null().or(col.eq("")).nullable()),
                CompareOp::Ne => Box::new(col.is_not_null().and(col.ne("")).nullable()),
                _ => return Some(never()),
            },
            CompValue::String(s) => {
                let lit = fold(s, $case_exact);
                match $op {
                    CompareOp::Eq => Box::new(col.is_not_null().and(col.eq(lit)).nullable()),
                    CompareOp::Ne => Box::new(col.is_not_null().and(col.ne(lit)).nullable()),
                    CompareOp::Gt => Box::new(col.is_not_null().and(col.gt(lit)).nullable()),
                    CompareOp::Ge => Box::new(col.is_not_null().and(col.ge(lit)).nullable()),
                    CompareOp::Lt => Box::new(col.is_not_null().and(col.lt(lit)).nullable()),
                    CompareOp::Le => Box::new(col.is_not_null().and(col.le(lit)).nullable()),
                    // A prefix is a range of the index: [p, successor(p)).
                    CompareOp::Sw if prefix_end(&lit).is_some() => {
                        let end = prefix_end(&lit).unwrap_or_default();
                        Box::new(
                            col.is_not_null()
                                .and(col.ge(lit))
                                .and(col.lt(end))
                                .nullable(),
                        )
                    }
                    op @ (CompareOp::Co | CompareOp::Sw | CompareOp::Ew) => Box::new(
                        col.is_not_null()
                            .and(col.like(like_pattern(op, &lit)).escape('\\'))
                            .nullable(),
                    ),
                }
            }
            // A number or boolean never equals a string attribute.
            _ => return Some(never()),
        };
        Some(pred)
    }};
}

macro_rules! text_present {
    ($col:expr) => {{
        let col = $col;
        let pred: Pred<_> = Box::new(col.is_not_null().and(col.ne("")).nullable());
        Some(pred)
    }};
}

/// A comparison on a NOT NULL timestamp column (`meta.created` / `lastModified`).
macro_rules! time_leaf {
    ($col:expr, $op:expr, $value:expr) => {{
        let col = $col;
        let CompValue::String(s) = $value else {
            return Some(never());
        };
        let Ok(t) = DateTime::parse_from_rfc3339(s) else {
            return Some(never());
        };
        let t: NaiveDateTime = t.naive_utc();
        let pred: Pred<_> = match $op {
            CompareOp::Eq => Box::new(col.eq(t).nullable()),
            CompareOp::Ne => Box::new(col.ne(t).nullable()),
            CompareOp::Gt => Box::new(col.gt(t).nullable()),
            CompareOp::Ge => Box::new(col.ge(t).nullable()),
            CompareOp::Lt => Box::new(col.lt(t).nullable()),
            CompareOp::Le => Box::new(col.le(t).nullable()),
            // Substring matching on dateTimes works on the rendered text.
            CompareOp::Co | CompareOp::Sw | CompareOp::Ew => return None,
        };
        Some(pred)
    }};
}

pub(super) fn never<T: 'static>() -> Pred<T> {
    Box::new(Constant(false))
}

pub(super) fn always<T: 'static>() -> Pred<T> {
    Box::new(Constant(true))
}

fn users_with_email(inner: Pred<user_emails::table>) -> Pred<users::table> {
    Box::new(InSubquery {
        outer: "\"users\".\"id\"",
        select: "SELECT \"user_emails\".\"user_id\" FROM \"user_emails\"",
        predicate: inner,
    })
}

fn groups_with_member(inner: Pred<group_members::table>) -> Pred<scim_groups::table> {
    Box::new(InSubquery {
        outer: "\"scim_groups\".\"id\"",
        select: "SELECT \"group_members\".\"group_id\" FROM \"group_members\"",
        predicate: inner,
    })
}

/// `meta.created` / `meta.lastModified` (always present).
macro_rules! meta_time {
    ($op:expr, $value:expr, $col:expr) => {
        match ($op, $value) {
            (None, _) | (Some(CompareOp::Ne), CompValue::Null) => Some(always()),
            (Some(_), CompValue::Null) => Some(never()),
            (Some(op), value) => time_leaf!($col, op, value),
        }
    };
}

/// Combines translated parts; None anywhere means "not translatable".
macro_rules! logic {
    ($filter:expr, $recurse:expr) => {
        match $filter {
            Filter::And(a, b) => Some(Box::new($recurse(a)?.and($recurse(b)?)) as Pred<_>),
            Filter::Or(a, b) => Some(Box::new($recurse(a)?.or($recurse(b)?)) as Pred<_>),
            Filter::Not(inner) => Some(Box::new(diesel::dsl::not($recurse(inner)?)) as Pred<_>),
            _ => unreachable!("logic! is only called for And, Or and Not"),
        }
    };
}

/// How a per-column translation sees one node of a filter.
pub(super) enum Node<'f> {
    /// `and`, `or`, `not`: translate both sides (`logic!`).
    Logic,
    /// A leaf on an attribute the schema does not define: false.
    Undefined,
    /// A value filter (`emails[...]`): not a column comparison.
    ValueFilter,
    /// `path op value`, or `path pr` (no operator, value null).
    Leaf {
        path: &'f AttrPath,
        op: Option<CompareOp>,
        value: &'f CompValue,
    },
}

pub(super) fn node<'f>(kind: ResourceKind, filter: &'f Filter) -> Node<'f> {
    match filter {
        Filter::And(..) | Filter::Or(..) | Filter::Not(..) => Node::Logic,
        Filter::ValuePath { path, .. } | Filter::Present(path) | Filter::Compare { path, .. }
            if undefined(kind, path) =>
        {
            Node::Undefined
        }
        Filter::ValuePath { .. } => Node::ValueFilter,
        Filter::Present(path) => Node::Leaf {
            path,
            op: None,
            value: &CompValue::Null,
        },
        Filter::Compare { path, op, value } => Node::Leaf {
            path,
            op: Some(*op),
            value,
        },
    }
}

/// Leaves on attributes the schema does not define are unassigned: false.
fn undefined(kind: ResourceKind, path: &AttrPath) -> bool {
    resolve(kind, path, None).is_none()
}

pub fn user_filter(filter: &Filter) -> Option<Pred<users::table>> {
    use users::dsl as u;
    let kind = ResourceKind::User;
    match filter {
        Filter::And(..) | Filter::Or(..) | Filter::Not(..) => logic!(filter, user_filter),
        Filter::ValuePath { path, filter } => match key(kind, path)? {
            (Scope::Core, name, None) if name == "emails" => {
                let inner = email_filter(filter)?;
                Some(users_with_email(inner))
            }
            (Scope::Organization, name, None) if name == "departments" => {
                let inner = link_filter(filter)?;
                Some(users_in_departments(inner))
            }
            _ if undefined(kind, path) => Some(never()),
            _ => None,
        },
        Filter::Present(path) | Filter::Compare { path, .. } => {
            if undefined(kind, path) {
                return Some(never());
            }
            let (op, value) = match filter {
                Filter::Compare { op, value, .. } => (Some(*op), value),
                _ => (None, &CompValue::Null),
            };
            let (scope, name, sub) = key(kind, path)?;
            macro_rules! text {
                ($col:expr, $exact:expr) => {
                    match op {
                        Some(op) => text_leaf!($col, op, value, $exact),
                        None => text_present!($col),
                    }
                };
            }
            use Scope::{Core, Enterprise, Organization};
            match (scope, name.as_str(), sub.as_deref()) {
                (Core, "id", None) => text!(u::id.nullable(), true),
                (Core, "externalid", None) => text!(u::external_id, true),
                (Core, "username", None) => text!(u::user_name_lower.nullable(), false),
                (Core, "displayname", None) => text!(u::display_name_lower, false),
                (Core, "title", None) => text!(u::title_lower, false),
                (Core, "name", Some("givenname")) => text!(u::given_name_lower, false),
                (Core, "name", Some("familyname")) => text!(u::family_name_lower, false),
                (Enterprise, "employeenumber", None) => text!(u::employee_number_lower, false),
                (Enterprise, "department", None) => text!(u::department_lower, false),
                (Enterprise, "costcenter", None) => text!(u::cost_center_lower, false),
                (Enterprise, "manager", Some("value")) => text!(u::manager_id, false),
                (Organization, "departmentpath", None) => text!(u::department_path, true),
                (Organization, "primarydepartment", None | Some("value")) => {
                    text!(u::department_id, true)
                }
                (Organization, "departments", None | Some("value")) => any_link(op, value),
                (Core, "active", None) => match (op, value.as_boolean(), value) {
                    (None, _, _) => Some(always()),
                    (Some(CompareOp::Eq), Some(b), _) => Some(Box::new(u::active.eq(b).nullable())),
                    (Some(CompareOp::Ne), Some(b), _) => Some(Box::new(u::active.ne(b).nullable())),
                    (Some(CompareOp::Ne), None, CompValue::Null) => Some(always()),
                    _ => Some(never()),
                },
                (Core, "meta", Some("created")) => meta_time!(op, value, u::created),
                (Core, "meta", Some("lastmodified")) => meta_time!(op, value, u::last_modified),
                (Core, "emails", None | Some("value")) => any_email(op, value, "value"),
                (Core, "emails", Some("type")) => any_email(op, value, "type"),
                _ => None,
            }
        }
    }
}

fn users_in_departments(inner: Pred<user_departments::table>) -> Pred<users::table> {
    Box::new(InSubquery {
        outer: "\"users\".\"id\"",
        select: "SELECT \"user_departments\".\"user_id\" FROM \"user_departments\"",
        predicate: inner,
    })
}

/// One further department of a user (ids are case-exact).
fn link_leaf(op: Option<CompareOp>, value: &CompValue) -> Option<Pred<user_departments::table>> {
    use user_departments::dsl as l;
    match op {
        Some(op) => text_leaf!(l::department_id.nullable(), op, value, true),
        None => text_present!(l::department_id.nullable()),
    }
}

/// Users with any further department matching, read as `any_email` reads emails.
fn any_link(op: Option<CompareOp>, value: &CompValue) -> Option<Pred<users::table>> {
    match (op, value) {
        (Some(CompareOp::Eq), CompValue::Null) => Some(Box::new(diesel::dsl::not(
            users_in_departments(link_leaf(None, value)?),
        ))),
        (Some(CompareOp::Ne), CompValue::Null) => {
            Some(users_in_departments(link_leaf(None, value)?))
        }
        _ => Some(users_in_departments(link_leaf(op, value)?)),
    }
}

/// The inside of `departments[...]`: only `value` is a column.
fn link_filter(filter: &Filter) -> Option<Pred<user_departments::table>> {
    match filter {
        Filter::And(..) | Filter::Or(..) | Filter::Not(..) => logic!(filter, link_filter),
        Filter::Compare { path, op, value }
            if path.uri.is_none()
                && path.sub.is_none()
                && path.name.eq_ignore_ascii_case("value") =>
        {
            link_leaf(Some(*op), value)
        }
        Filter::Present(path)
            if path.uri.is_none()
                && path.sub.is_none()
                && path.name.eq_ignore_ascii_case("value") =>
        {
            link_leaf(None, &CompValue::Null)
        }
        _ => None,
    }
}

/// Users with any email matching; `eq null` means no email has the
/// sub-attribute present (as the evaluator reads a multi-valued attribute).
fn any_email(op: Option<CompareOp>, value: &CompValue, sub: &str) -> Option<Pred<users::table>> {
    match (op, value) {
        (Some(CompareOp::Eq), CompValue::Null) => Some(Box::new(diesel::dsl::not(
            users_with_email(email_leaf(None, value, sub)?),
        ))),
        (Some(CompareOp::Ne), CompValue::Null) => {
            Some(users_with_email(email_leaf(None, value, sub)?))
        }
        _ => Some(users_with_email(email_leaf(op, value, sub)?)),
    }
}

/// One email row: `value` / `type` (primary and display stay in memory:
/// the row cannot tell "false" from "absent").
fn email_leaf(
    op: Option<CompareOp>,
    value: &CompValue,
    sub: &str,
) -> Option<Pred<user_emails::table>> {
    use user_emails::dsl as e;
    match (sub, op) {
        ("value", Some(op)) => text_leaf!(e::value_lower, op, value, false),
        ("value", None) => text_present!(e::value_lower),
        ("type", Some(op)) => text_leaf!(e::type_lower, op, value, false),
        ("type", None) => text_present!(e::type_lower),
        _ => None,
    }
}

/// The inside of `emails[...]`: conditions on one and the same row.
fn email_filter(filter: &Filter) -> Option<Pred<user_emails::table>> {
    match filter {
        Filter::And(..) | Filter::Or(..) | Filter::Not(..) => logic!(filter, email_filter),
        Filter::Compare { path, op, value } if path.uri.is_none() && path.sub.is_none() => {
            email_leaf(Some(*op), value, &path.name.to_ascii_lowercase())
        }
        Filter::Present(path) if path.uri.is_none() && path.sub.is_none() => {
            email_leaf(None, &CompValue::Null, &path.name.to_ascii_lowercase())
        }
        _ => None,
    }
}

pub fn group_filter(filter: &Filter) -> Option<Pred<scim_groups::table>> {
    use scim_groups::dsl as g;
    let kind = ResourceKind::Group;
    match filter {
        Filter::And(..) | Filter::Or(..) | Filter::Not(..) => logic!(filter, group_filter),
        Filter::ValuePath { path, filter } => match key(kind, path)? {
            (Scope::Core, name, None) if name == "members" => {
                let inner = member_filter(filter)?;
                Some(groups_with_member(inner))
            }
            _ if undefined(kind, path) => Some(never()),
            _ => None,
        },
        Filter::Present(path) | Filter::Compare { path, .. } => {
            if undefined(kind, path) {
                return Some(never());
            }
            let (op, value) = match filter {
                Filter::Compare { op, value, .. } => (Some(*op), value),
                _ => (None, &CompValue::Null),
            };
            let (_, name, sub) = key(kind, path)?;
            macro_rules! text {
                ($col:expr, $exact:expr) => {
                    match op {
                        Some(op) => text_leaf!($col, op, value, $exact),
                        None => text_present!($col),
                    }
                };
            }
            match (name.as_str(), sub.as_deref()) {
                ("id", None) => text!(g::id.nullable(), true),
                ("externalid", None) => text!(g::external_id, true),
                ("displayname", None) => text!(g::display_name_lower.nullable(), false),
                ("meta", Some("created")) => meta_time!(op, value, g::created),
                ("meta", Some("lastmodified")) => meta_time!(op, value, g::last_modified),
                ("members", None | Some("value")) => match (op, value) {
                    // `eq null` on a multi-valued attribute: no value is present.
                    (Some(CompareOp::Eq), CompValue::Null) => Some(Box::new(diesel::dsl::not(
                        groups_with_member(member_leaf(None, value)?),
                    ))),
                    (Some(CompareOp::Ne), CompValue::Null) => {
                        Some(groups_with_member(member_leaf(None, value)?))
                    }
                    _ => Some(groups_with_member(member_leaf(op, value)?)),
                },
                _ => None,
            }
        }
    }
}

/// Member ids are server-assigned lower-case UUIDs, so the folded literal
/// compares directly with the stored id.
fn member_leaf(op: Option<CompareOp>, value: &CompValue) -> Option<Pred<group_members::table>> {
    use group_members::dsl as m;
    match op {
        Some(op) => text_leaf!(m::member_id.nullable(), op, value, false),
        None => text_present!(m::member_id.nullable()),
    }
}

fn member_filter(filter: &Filter) -> Option<Pred<group_members::table>> {
    match filter {
        Filter::And(..) | Filter::Or(..) | Filter::Not(..) => logic!(filter, member_filter),
        Filter::Compare { path, op, value }
            if path.uri.is_none()
                && path.sub.is_none()
                && path.name.eq_ignore_ascii_case("value") =>
        {
            member_leaf(Some(*op), value)
        }
        Filter::Present(path)
            if path.uri.is_none()
                && path.sub.is_none()
                && path.name.eq_ignore_ascii_case("value") =>
        {
            member_leaf(None, &CompValue::Null)
        }
        _ => None,
    }
}

pub fn department_filter(filter: &Filter) -> Option<Pred<departments::table>> {
    use departments::dsl as d;
    let kind = ResourceKind::Department;
    match node(kind, filter) {
        Node::Logic => logic!(filter, department_filter),
        Node::Undefined => Some(never()),
        Node::ValueFilter => None,
        Node::Leaf { path, op, value } => {
            let (_, name, sub) = key(kind, path)?;
            macro_rules! text {
                ($col:expr, $exact:expr) => {
                    match op {
                        Some(op) => text_leaf!($col, op, value, $exact),
                        None => text_present!($col),
                    }
                };
            }
            match (name.as_str(), sub.as_deref()) {
                ("id", None) => text!(d::id.nullable(), true),
                ("externalid", None) => text!(d::external_id, true),
                ("displayname", None) => text!(d::display_name_lower.nullable(), false),
                ("code", None) => text!(d::code, true),
                ("path", None) => text!(d::path.nullable(), true),
                ("parent", None | Some("value")) => text!(d::parent_id, true),
                ("meta", Some("created")) => meta_time!(op, value, d::created),
                ("meta", Some("lastmodified")) => meta_time!(op, value, d::last_modified),
                _ => None,
            }
        }
    }
}

/// Splits a filter into what SQL can do: all of it, some `and`-ed part of
/// it (a superset), or nothing.
pub fn plan<T: 'static>(
    filter: &Filter,
    translate: impl Fn(&Filter) -> Option<Pred<T>>,
    and: impl Fn(Pred<T>, Pred<T>) -> Pred<T>,
) -> Pushdown<T> {
    if let Some(p) = translate(filter) {
        return Pushdown::Exact(p);
    }
    let mut conjuncts = Vec::new();
    collect_conjuncts(filter, &mut conjuncts);
    let narrowing = conjuncts.into_iter().filter_map(translate).reduce(and);
    match narrowing {
        Some(p) => Pushdown::Narrowed(p),
        None => Pushdown::Nothing,
    }
}

fn collect_conjuncts<'f>(filter: &'f Filter, out: &mut Vec<&'f Filter>) {
    match filter {
        Filter::And(a, b) => {
            collect_conjuncts(a, out);
            collect_conjuncts(b, out);
        }
        other => out.push(other),
    }
}

// The plain resource types' translation (resource_search.rs) reuses the leaves.
pub(super) use {logic, meta_time, text_leaf, text_present, time_leaf};
