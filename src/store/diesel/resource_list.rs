//! Listing the plain resource types: the `query::Ops` of the `resources`
//! table for one type. SQL pages only the unfiltered default order; every
//! filter and sort is the in-memory evaluator's, over the rendered resource
//! (the same semantics as everywhere: `scim::filter::eval` is the meaning).

use chrono::DateTime;
use diesel::prelude::*;

use super::connection::{DbConnection, MultiBackend};
use super::list_sql::keyset_rows;
use super::page_window::page_window;
use super::query::Ops;
use super::resources::{ROW, get, load_row};
use super::schema::resources;
use crate::scim::ResourceKind;
use crate::scim::sort::{Position, SortValue};
use crate::store::StoredResource;

type Query = resources::BoxedQuery<
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

fn of_type(kind: ResourceKind) -> Query {
    resources::table
        .select(ROW)
        .filter(resources::resource_type.eq(kind.as_str()))
        .into_boxed::<MultiBackend>()
}

pub fn ops(kind: ResourceKind) -> Ops<StoredResource> {
    Ops {
        kind,
        exact: Box::new(|filter| filter.is_none()),
        count: Box::new(move |conn: &mut DbConnection, _| {
            Ok(resources::table
                .filter(resources::resource_type.eq(kind.as_str()))
                .count()
                .get_result(conn)?)
        }),
        page: Box::new(move |conn: &mut DbConnection, _, sort, offset, limit| {
            if sort.is_some() {
                return Ok(None);
            }
            let q = of_type(kind)
                .order_by(resources::created.asc())
                .then_order_by(resources::id.asc());
            Ok(Some(page_window(q, offset, limit).load(conn)?))
        }),
        keyset: Box::new(
            move |conn: &mut DbConnection, _, at: &Position, forward, limit| {
                keyset_rows!(conn, of_type(kind), resources, at, forward, limit)
            },
        ),
        scan: Box::new(move |conn: &mut DbConnection, _, after: &str, limit| {
            let q = of_type(kind)
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
