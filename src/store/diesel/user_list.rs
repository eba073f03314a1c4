//! Listing users: SQL parts of `query::Ops` for the users table.

use chrono::DateTime;
use diesel::prelude::*;

use super::connection::{DbConnection, MultiBackend};
use super::filter_sql::{Pred, Pushdown, plan, user_filter};
use super::query::{Ops, Row};
use super::schema::users;
use super::users::{ROW, get_with, load_row};
use crate::scim::ResourceKind;
use crate::scim::filter::Filter;
use crate::scim::registry::ENTERPRISE_USER_SCHEMA;
use crate::scim::sort::{Position, SortSpec, SortValue};
use crate::store::{StoreResult, StoredUser};

type Query = users::BoxedQuery<
    'static,
    MultiBackend,
    (
        diesel::sql_types::Text,
        diesel::sql_types::Text,
        diesel::sql_types::Timestamp,
        diesel::sql_types::Timestamp,
        diesel::sql_types::BigInt,
    ),
>;

fn and(a: Pred<users::table>, b: Pred<users::table>) -> Pred<users::table> {
    Box::new(a.and(b))
}

fn base(filter: Option<&Filter>) -> (Query, bool) {
    let q = users::table.select(ROW).into_boxed::<MultiBackend>();
    match filter.map(|f| plan(f, user_filter, and)) {
        None => (q, true),
        Some(Pushdown::Exact(p)) => (q.filter(p), true),
        Some(Pushdown::Narrowed(p)) => (q.filter(p), false),
        Some(Pushdown::Nothing) => (q, false),
    }
}

fn exact(filter: Option<&Filter>) -> bool {
    filter.is_none_or(|f| user_filter(f).is_some())
}

fn count(conn: &mut DbConnection, filter: Option<&Filter>) -> StoreResult<i64> {
    let mut q = users::table.count().into_boxed::<MultiBackend>();
    if let Some(p) = filter.and_then(user_filter) {
        q = q.filter(p);
    }
    Ok(q.get_result(conn)?)
}

/// Orders by a column: missing values last ascending, first descending,
/// ties by id, all reversed when descending (as `scim::sort` does).
macro_rules! order {
    ($q:expr, $col:expr, $desc:expr) => {
        if $desc {
            $q.order_by($col.is_null().desc())
                .then_order_by($col.desc())
                .then_order_by(users::id.desc())
        } else {
            $q.order_by($col.is_null().asc())
                .then_order_by($col.asc())
                .then_order_by(users::id.asc())
        }
    };
}

/// The same for NOT NULL columns, without the null-ordering term so an
/// index on the column can serve the order.
macro_rules! order_not_null {
    ($q:expr, $col:expr, $desc:expr) => {
        if $desc {
            $q.order_by($col.desc()).then_order_by(users::id.desc())
        } else {
            $q.order_by($col.asc()).then_order_by(users::id.asc())
        }
    };
}

fn ordered(q: Query, sort: Option<&SortSpec>) -> Option<Query> {
    let Some(sort) = sort else {
        return Some(
            q.order_by(users::created.asc())
                .then_order_by(users::id.asc()),
        );
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
        (false, "id", None) => order_not_null!(q, users::id, d),
        (false, "externalid", None) => order!(q, users::external_id, d),
        (false, "username", None) => order_not_null!(q, users::user_name_lower, d),
        (false, "displayname", None) => order!(q, users::display_name_lower, d),
        (false, "title", None) => order!(q, users::title_lower, d),
        (false, "active", None) => order_not_null!(q, users::active, d),
        (false, "name", Some("givenname")) => order!(q, users::given_name_lower, d),
        (false, "name", Some("familyname")) => order!(q, users::family_name_lower, d),
        (false, "meta", Some("created")) => order_not_null!(q, users::created, d),
        (false, "meta", Some("lastmodified")) => order_not_null!(q, users::last_modified, d),
        (true, "employeenumber", None) => order!(q, users::employee_number_lower, d),
        (true, "department", None) => order!(q, users::department_lower, d),
        (true, "costcenter", None) => order!(q, users::cost_center_lower, d),
        _ => return None,
    })
}

fn page(
    conn: &mut DbConnection,
    filter: Option<&Filter>,
    sort: Option<&SortSpec>,
    offset: i64,
    limit: i64,
) -> StoreResult<Option<Vec<Row>>> {
    let (q, _) = base(filter);
    let Some(q) = ordered(q, sort) else {
        return Ok(None);
    };
    Ok(Some(q.offset(offset).limit(limit).load(conn)?))
}

/// Rows after (`forward`) or before a position in the default order.
fn keyset(
    conn: &mut DbConnection,
    filter: Option<&Filter>,
    at: &Position,
    forward: bool,
    limit: i64,
) -> StoreResult<Vec<Row>> {
    let SortValue::Time(ms) = at.value else {
        return Ok(Vec::new());
    };
    let Some(t) = DateTime::from_timestamp_millis(ms).map(|t| t.naive_utc()) else {
        return Ok(Vec::new());
    };
    let (q, _) = base(filter);
    let id = at.id.clone();
    let rows = if forward {
        q.filter(
            users::created
                .gt(t)
                .or(users::created.eq(t).and(users::id.gt(id))),
        )
        .order_by(users::created.asc())
        .then_order_by(users::id.asc())
        .limit(limit)
        .load(conn)?
    } else {
        q.filter(
            users::created
                .lt(t)
                .or(users::created.eq(t).and(users::id.lt(id))),
        )
        .order_by(users::created.desc())
        .then_order_by(users::id.desc())
        .limit(limit)
        .load(conn)?
    };
    Ok(rows)
}

fn scan(
    conn: &mut DbConnection,
    filter: Option<&Filter>,
    after: &str,
    limit: i64,
) -> StoreResult<Vec<Row>> {
    let (q, _) = base(filter);
    Ok(q.filter(users::id.gt(after.to_string()))
        .order_by(users::id.asc())
        .limit(limit)
        .load(conn)?)
}

pub fn ops() -> Ops<StoredUser> {
    Ops {
        kind: ResourceKind::User,
        exact,
        count,
        page,
        keyset,
        scan,
        load: load_row,
        get: get_with,
        render: |u| u.to_scim(""),
        id: |u| &u.id,
    }
}
