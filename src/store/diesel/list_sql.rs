//! The SQL side of listing, shared by the users, groups and departments
//! tables: each table module invokes `list_fns!` and supplies its own
//! `ordered` (which columns `sortBy` can use); `keyset_rows!` also serves
//! the plain types' `resources` table.

/// Orders by a nullable column: missing values last ascending, first
/// descending, ties by id, all reversed when descending (as `scim::sort` does).
macro_rules! order {
    ($q:expr, $col:expr, $id:expr, $desc:expr) => {
        if $desc {
            $q.order_by($col.is_null().desc())
                .then_order_by($col.desc())
                .then_order_by($id.desc())
        } else {
            $q.order_by($col.is_null().asc())
                .then_order_by($col.asc())
                .then_order_by($id.asc())
        }
    };
}

/// The same for NOT NULL columns, without the null-ordering term so an
/// index on the column can serve the order.
macro_rules! order_not_null {
    ($q:expr, $col:expr, $id:expr, $desc:expr) => {
        if $desc {
            $q.order_by($col.desc()).then_order_by($id.desc())
        } else {
            $q.order_by($col.asc()).then_order_by($id.asc())
        }
    };
}

/// Rows of `$q` (a query on `$table`) after (`$forward`) or before the
/// position `$at` in the default order (`created`, then `id`), at most
/// `$limit`, in that order; none when the position holds no time.
macro_rules! keyset_rows {
    ($conn:expr, $q:expr, $table:ident, $at:expr, $forward:expr, $limit:expr) => {
        match $at.value {
            SortValue::Time(ms) => match DateTime::from_timestamp_millis(ms) {
                None => Ok(Vec::new()),
                Some(t) => {
                    let (t, id) = (t.naive_utc(), $at.id.clone());
                    let q = $q;
                    let ordered = if $forward {
                        q.filter(
                            $table::created
                                .gt(t)
                                .or($table::created.eq(t).and($table::id.gt(id))),
                        )
                        .order_by($table::created.asc())
                        .then_order_by($table::id.asc())
                    } else {
                        q.filter(
                            $table::created
                                .lt(t)
                                .or($table::created.eq(t).and($table::id.lt(id))),
                        )
                        .order_by($table::created.desc())
                        .then_order_by($table::id.desc())
                    };
                    $crate::store::diesel::page_window::page_window(ordered, 0, $limit)
                        .load($conn)
                        .map_err(Into::into)
                }
            },
            _ => Ok(Vec::new()),
        }
    };
}

/// `base`, `exact`, `count`, `page`, `keyset`, `scan`, `default_order`
/// and `ops` for one table (`$table` is its schema module; `$translate`
/// its filter translation; `$kind` and `$stored` what it holds). The
/// invoking module defines `fn ordered(Query, Option<&SortSpec>) ->
/// Option<Query>` and brings `ROW`, `load_row` and `get_with` in scope.
macro_rules! list_fns {
    ($table:ident, $translate:path, $kind:expr, $stored:ty) => {
        type Query = $table::BoxedQuery<
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

        fn and(a: Pred<$table::table>, b: Pred<$table::table>) -> Pred<$table::table> {
            Box::new(a.and(b))
        }

        fn base(filter: Option<&Filter>) -> (Query, bool) {
            let q = $table::table.select(ROW).into_boxed::<MultiBackend>();
            match filter.map(|f| plan(f, $translate, and)) {
                None => (q, true),
                Some(Pushdown::Exact(p)) => (q.filter(p), true),
                Some(Pushdown::Narrowed(p)) => (q.filter(p), false),
                Some(Pushdown::Nothing) => (q, false),
            }
        }

        fn exact(filter: Option<&Filter>) -> bool {
            filter.is_none_or(|f| $translate(f).is_some())
        }

        fn count(conn: &mut DbConnection, filter: Option<&Filter>) -> StoreResult<i64> {
            let mut q = $table::table.count().into_boxed::<MultiBackend>();
            if let Some(p) = filter.and_then($translate) {
                q = q.filter(p);
            }
            Ok(q.get_result(conn)?)
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
            Ok(Some(
                $crate::store::diesel::page_window::page_window(q, offset, limit).load(conn)?,
            ))
        }

        /// Rows after (`forward`) or before a position in the default order.
        fn keyset(
            conn: &mut DbConnection,
            filter: Option<&Filter>,
            at: &Position,
            forward: bool,
            limit: i64,
        ) -> StoreResult<Vec<Row>> {
            $crate::store::diesel::list_sql::keyset_rows!(
                conn,
                base(filter).0,
                $table,
                at,
                forward,
                limit
            )
        }

        /// The SQL parts of listing this table.
        pub fn ops() -> Ops<$stored> {
            Ops {
                kind: $kind,
                exact: Box::new(exact),
                count: Box::new(count),
                page: Box::new(page),
                keyset: Box::new(keyset),
                scan: Box::new(scan),
                load: Box::new(load_row),
                get: Box::new(get_with),
                render: |r| r.to_scim(""),
                id: |r| &r.id,
            }
        }

        /// The default order: creation time, then id.
        fn default_order(q: Query) -> Query {
            q.order_by($table::created.asc())
                .then_order_by($table::id.asc())
        }

        fn scan(
            conn: &mut DbConnection,
            filter: Option<&Filter>,
            after: &str,
            limit: i64,
        ) -> StoreResult<Vec<Row>> {
            let (q, _) = base(filter);
            let ordered = q
                .filter($table::id.gt(after.to_string()))
                .order_by($table::id.asc());
            Ok($crate::store::diesel::page_window::page_window(ordered, 0, limit).load(conn)?)
        }
    };
}

pub(super) use {keyset_rows, list_fns, order, order_not_null};
