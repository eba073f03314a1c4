//! Listing groups: SQL parts of `query::Ops` for the groups table.

use chrono::DateTime;
use diesel::prelude::*;

use super::connection::{DbConnection, MultiBackend};
use super::filter_sql::{Pred, Pushdown, group_filter, plan};
use super::groups::{ROW, get_with, load_row};
use super::query::{Ops, Row};
use super::schema::scim_groups;
use crate::scim::ResourceKind;
use crate::scim::filter::Filter;
use crate::scim::sort::{Position, SortSpec, SortValue};
use crate::store::{StoreResult, StoredGroup};

type Query = scim_groups::BoxedQuery<
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

fn and(a: Pred<scim_groups::table>, b: Pred<scim_groups::table>) -> Pred<scim_groups::table> {
    Box::new(a.and(b))
}

fn base(filter: Option<&Filter>) -> (Query, bool) {
    let q = scim_groups::table.select(ROW).into_boxed::<MultiBackend>();
    match filter.map(|f| plan(f, group_filter, and)) {
        None => (q, true),
        Some(Pushdown::Exact(p)) => (q.filter(p), true),
        Some(Pushdown::Narrowed(p)) => (q.filter(p), false),
        Some(Pushdown::Nothing) => (q, false),
    }
}

fn exact(filter: Option<&Filter>) -> bool {
    filter.is_none_or(|f| group_filter(f).is_some())
}

fn count(conn: &mut DbConnection, filter: Option<&Filter>) -> StoreResult<i64> {
    let mut q = scim_groups::table.count().into_boxed::<MultiBackend>();
    if let Some(p) = filter.and_then(group_filter) {
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
                .then_order_by(scim_groups::id.desc())
        } else {
            $q.order_by($col.is_null().asc())
                .then_order_by($col.asc())
                .then_order_by(scim_groups::id.asc())
        }
    };
}

/// The same for NOT NULL columns, without the null-ordering term so an
/// index on the column can serve the order.
macro_rules! order_not_null {
    ($q:expr, $col:expr, $desc:expr) => {
        if $desc {
            $q.order_by($col.desc())
                .then_order_by(scim_groups::id.desc())
        } else {
            $q.order_by($col.asc()).then_order_by(scim_groups::id.asc())
        }
    };
}

fn ordered(q: Query, sort: Option<&SortSpec>) -> Option<Query> {
    let Some(sort) = sort else {
        return Some(
            q.order_by(scim_groups::created.asc())
                .then_order_by(scim_groups::id.asc()),
        );
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
        ("id", None) => order_not_null!(q, scim_groups::id, d),
        ("externalid", None) => order!(q, scim_groups::external_id, d),
        ("displayname", None) => order_not_null!(q, scim_groups::display_name_lower, d),
        ("meta", Some("created")) => order_not_null!(q, scim_groups::created, d),
        ("meta", Some("lastmodified")) => order_not_null!(q, scim_groups::last_modified, d),
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
            scim_groups::created
                .gt(t)
                .or(scim_groups::created.eq(t).and(scim_groups::id.gt(id))),
        )
        .order_by(scim_groups::created.asc())
        .then_order_by(scim_groups::id.asc())
        .limit(limit)
        .load(conn)?
    } else {
        q.filter(
            scim_groups::created
                .lt(t)
                .or(scim_groups::created.eq(t).and(scim_groups::id.lt(id))),
        )
        .order_by(scim_groups::created.desc())
        .then_order_by(scim_groups::id.desc())
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
    Ok(q.filter(scim_groups::id.gt(after.to_string()))
        .order_by(scim_groups::id.asc())
        .limit(limit)
        .load(conn)?)
}

pub fn ops() -> Ops<StoredGroup> {
    Ops {
        kind: ResourceKind::Group,
        exact,
        count,
        page,
        keyset,
        scan,
        load: load_row,
        get: get_with,
        render: |g| g.to_scim(""),
        id: |g| &g.id,
    }
}
