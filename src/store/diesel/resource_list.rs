//! Listing the plain resource types: the `query::Ops` of the `resources`
//! table for one type. Filters and sorts on the attributes `resource_search`
//! puts in SQL run there; the rest is the in-memory evaluator's, over the
//! rendered resource (`scim::filter::eval` is the meaning everywhere).

use chrono::DateTime;
use diesel::prelude::*;

use super::connection::{Backend, DbConnection, MultiBackend};
use super::filter_sql::Pushdown;
use super::list_sql::keyset_rows;
use super::page_window::page_window;
use super::query::Ops;
use super::resource_search::{self, Query, backend_of};
use super::resources::{ROW, get, load_row};
use super::schema::resources;
use crate::scim::ResourceKind;
use crate::scim::filter::Filter;
use crate::scim::sort::{Position, SortValue};
use crate::store::{StoreResult, StoredResource};

fn of_type(kind: ResourceKind) -> Query {
    resources::table
        .select(ROW)
        .filter(resources::resource_type.eq(kind.as_str()))
        .into_boxed::<MultiBackend>()
}

/// The rows of `kind` narrowed by what SQL can do of the filter.
fn filtered(conn: &DbConnection, kind: ResourceKind, filter: Option<&Filter>) -> Query {
    let q = of_type(kind);
    match filter.map(|f| resource_search::plan(kind, backend_of(conn), f)) {
        Some(Pushdown::Exact(p) | Pushdown::Narrowed(p)) => q.filter(p),
        None | Some(Pushdown::Nothing) => q,
    }
}

fn count(conn: &mut DbConnection, kind: ResourceKind, filter: Option<&Filter>) -> StoreResult<i64> {
    let mut q = resources::table
        .filter(resources::resource_type.eq(kind.as_str()))
        .count()
        .into_boxed::<MultiBackend>();
    if let Some(p) = filter.and_then(|f| resource_search::translate(kind, backend_of(conn), f)) {
        q = q.filter(p);
    }
    Ok(q.get_result(conn)?)
}

pub fn ops(kind: ResourceKind) -> Ops<StoredResource> {
    Ops {
        kind,
        exact: Box::new(move |filter| {
            filter.is_none_or(|f| resource_search::translate(kind, Backend::Sqlite, f).is_some())
        }),
        count: Box::new(move |conn: &mut DbConnection, filter| count(conn, kind, filter)),
        page: Box::new(
            move |conn: &mut DbConnection, filter, sort, offset, limit| {
                let backend = backend_of(conn);
                let Some(q) =
                    resource_search::ordered(kind, backend, filtered(conn, kind, filter), sort)
                else {
                    return Ok(None);
                };
                Ok(Some(page_window(q, offset, limit).load(conn)?))
            },
        ),
        keyset: Box::new(
            move |conn: &mut DbConnection, filter, at: &Position, forward, limit| {
                keyset_rows!(
                    conn,
                    filtered(conn, kind, filter),
                    resources,
                    at,
                    forward,
                    limit
                )
            },
        ),
        scan: Box::new(move |conn: &mut DbConnection, filter, after: &str, limit| {
            let q = filtered(conn, kind, filter)
                .filter(resources::id.gt(after.to_string()))
                .order_by(resources::id.asc());
            Ok(page_window(q, 0, limit).load(conn)?)
        }),
        load: Box::new(move |_: &mut DbConnection, row, _| load_row(kind, row)),
        get: Box::new(move |conn: &mut DbConnection, id: &str, _| get(conn, kind, id)),
        render: |r| r.to_scim(""),
        id: |r| &r.id,
    }
}
