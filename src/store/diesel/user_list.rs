//! Listing users: SQL parts of `query::Ops` for the users table.

use chrono::DateTime;
use diesel::prelude::*;

use super::connection::{DbConnection, MultiBackend};
use super::filter_sql::{Pred, Pushdown, plan, user_filter};
use super::list_sql::{list_fns, order, order_not_null};
use super::query::{Ops, Row};
use super::schema::users;
use super::users::{ROW, get_with, load_row};
use crate::scim::ResourceKind;
use crate::scim::filter::Filter;
use crate::scim::registry::ENTERPRISE_USER_SCHEMA;
use crate::scim::sort::{Position, SortSpec, SortValue};
use crate::store::{StoreResult, StoredUser};

list_fns!(users, user_filter, ResourceKind::User, StoredUser);

fn ordered(q: Query, sort: Option<&SortSpec>) -> Option<Query> {
    let Some(sort) = sort else {
        return Some(default_order(q));
    };
    let d = sort.descending;
    let p = &sort.path;
    let enterprise = match &p.uri {
        None => false,
        Some(u) if u.eq_ignore_ascii_case(crate::scim::registry::USER_SCHEMA) => false,
        Some(u) if u.eq_ignore_ascii_case(ENTERPRISE_USER_SCHEMA) => true,
        Some(_) => return None,
    };
    let name = p.name.to_ascii_lowercase();
    let sub = p.sub.as_ref().map(|s| s.to_ascii_lowercase());
    Some(match (enterprise, name.as_str(), sub.as_deref()) {
        (false, "id", None) => order_not_null!(q, users::id, users::id, d),
        (false, "externalid", None) => order!(q, users::external_id, users::id, d),
        (false, "username", None) => order_not_null!(q, users::user_name_lower, users::id, d),
        (false, "displayname", None) => order!(q, users::display_name_lower, users::id, d),
        (false, "title", None) => order!(q, users::title_lower, users::id, d),
        (false, "active", None) => order_not_null!(q, users::active, users::id, d),
        (false, "name", Some("givenname")) => order!(q, users::given_name_lower, users::id, d),
        (false, "name", Some("familyname")) => order!(q, users::family_name_lower, users::id, d),
        (false, "meta", Some("created")) => order_not_null!(q, users::created, users::id, d),
        (false, "meta", Some("lastmodified")) => {
            order_not_null!(q, users::last_modified, users::id, d)
        }
        (true, "employeenumber", None) => order!(q, users::employee_number_lower, users::id, d),
        (true, "department", None) => order!(q, users::department_lower, users::id, d),
        (true, "costcenter", None) => order!(q, users::cost_center_lower, users::id, d),
        _ => return None,
    })
}
