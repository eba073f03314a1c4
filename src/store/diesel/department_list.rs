//! Listing departments: SQL parts of `query::Ops` for the departments table.

use chrono::DateTime;
use diesel::prelude::*;

use super::connection::{DbConnection, MultiBackend};
use super::departments::{ROW, get_with, load_row};
use super::filter_sql::{Pred, Pushdown, department_filter, plan};
use super::list_sql::{list_fns, order, order_not_null};
use super::query::{Ops, Row};
use super::schema::departments;
use crate::scim::ResourceKind;
use crate::scim::filter::Filter;
use crate::scim::registry::DEPARTMENT_SCHEMA;
use crate::scim::sort::{Position, SortSpec, SortValue};
use crate::store::{StoreResult, StoredDepartment};

list_fns!(
    departments,
    department_filter,
    ResourceKind::Department,
    StoredDepartment
);

fn ordered(q: Query, sort: Option<&SortSpec>) -> Option<Query> {
    use departments::dsl as d;
    let Some(sort) = sort else {
        return Some(default_order(q));
    };
    let desc = sort.descending;
    let p = &sort.path;
    if p.uri
        .as_deref()
        .is_some_and(|u| !u.eq_ignore_ascii_case(DEPARTMENT_SCHEMA))
    {
        return None;
    }
    let name = p.name.to_ascii_lowercase();
    let sub = p.sub.as_ref().map(|s| s.to_ascii_lowercase());
    Some(match (name.as_str(), sub.as_deref()) {
        ("id", None) => order_not_null!(q, d::id, d::id, desc),
        ("externalid", None) => order!(q, d::external_id, d::id, desc),
        ("displayname", None) => order_not_null!(q, d::display_name_lower, d::id, desc),
        ("code", None) => order!(q, d::code, d::id, desc),
        ("path", None) => order_not_null!(q, d::path, d::id, desc),
        ("parent", None | Some("value")) => order!(q, d::parent_id, d::id, desc),
        ("meta", Some("created")) => order_not_null!(q, d::created, d::id, desc),
        ("meta", Some("lastmodified")) => order_not_null!(q, d::last_modified, d::id, desc),
        _ => return None,
    })
}
