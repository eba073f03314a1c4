//! Listing groups: SQL parts of `query::Ops` for the groups table.

use chrono::DateTime;
use diesel::prelude::*;

use super::connection::{DbConnection, MultiBackend};
use super::filter_sql::{Pred, Pushdown, group_filter, plan};
use super::groups::{ROW, get_with, load_row};
use super::list_sql::{list_fns, order, order_not_null};
use super::query::{Ops, Row};
use super::schema::scim_groups;
use crate::scim::ResourceKind;
use crate::scim::filter::Filter;
use crate::scim::sort::{Position, SortSpec, SortValue};
use crate::store::{StoreResult, StoredGroup};

list_fns!(scim_groups, group_filter, ResourceKind::Group, StoredGroup);

fn ordered(q: Query, sort: Option<&SortSpec>) -> Option<Query> {
    let Some(sort) = sort else {
        return Some(default_order(q));
    };
    let d = sort.descending;
    let p = &sort.path;
    if p.uri
        .as_deref()
        .is_some_and(|u| !u.eq_ignore_ascii_case(crate::scim::registry::GROUP_SCHEMA))
    {
        return None;
    }
    let name = p.name.to_ascii_lowercase();
    let sub = p.sub.as_ref().map(|s| s.to_ascii_lowercase());
    Some(match (name.as_str(), sub.as_deref()) {
        ("id", None) => order_not_null!(q, scim_groups::id, scim_groups::id, d),
        ("externalid", None) => order!(q, scim_groups::external_id, scim_groups::id, d),
        ("displayname", None) => {
            order_not_null!(q, scim_groups::display_name_lower, scim_groups::id, d)
        }
        ("meta", Some("created")) => order_not_null!(q, scim_groups::created, scim_groups::id, d),
        ("meta", Some("lastmodified")) => {
            order_not_null!(q, scim_groups::last_modified, scim_groups::id, d)
        }
        _ => return None,
    })
}
