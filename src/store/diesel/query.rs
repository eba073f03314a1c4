//! Executes list requests: SQL answers what it can exactly (filter, order,
//! page); otherwise SQL narrows the candidates and the in-memory evaluator
//! (the reference semantics) decides, then the window is cut from positions.

use std::cmp::Ordering;

use chrono::NaiveDateTime;
use serde_json::Value;

use super::connection::DbConnection;
use crate::scim::ResourceKind;
use crate::scim::filter::{Filter, matches};
use crate::scim::sort::{Position, SortSpec, sort_value};
use crate::store::{ListPage, ListQuery, StoreResult, Window};

/// `(id, data, created, last_modified, version)` of a users or groups row.
pub type Row = (String, String, NaiveDateTime, NaiveDateTime, i64);

/// Rows scanned per batch on the in-memory path.
pub const SCAN_BATCH: i64 = 1000;

/// The table-specific parts of listing (closures: the generic table's
/// capture the resource type they list).
type ExactFn = Box<dyn Fn(Option<&Filter>) -> bool>;
type CountFn = Box<dyn Fn(&mut DbConnection, Option<&Filter>) -> StoreResult<i64>>;
type PageFn = Box<
    dyn Fn(
        &mut DbConnection,
        Option<&Filter>,
        Option<&SortSpec>,
        i64,
        i64,
    ) -> StoreResult<Option<Vec<Row>>>,
>;
type KeysetFn =
    Box<dyn Fn(&mut DbConnection, Option<&Filter>, &Position, bool, i64) -> StoreResult<Vec<Row>>>;
type ScanFn = Box<dyn Fn(&mut DbConnection, Option<&Filter>, &str, i64) -> StoreResult<Vec<Row>>>;
type LoadFn<T> = Box<dyn Fn(&mut DbConnection, Row, bool) -> StoreResult<T>>;
type GetFn<T> = Box<dyn Fn(&mut DbConnection, &str, bool) -> StoreResult<T>>;

pub struct Ops<T> {
    pub kind: ResourceKind,
    /// Whether SQL answers this filter exactly (None: no filter).
    pub exact: ExactFn,
    pub count: CountFn,
    /// A page in SQL order; None when the sort cannot be done in SQL.
    pub page: PageFn,
    /// Default-order (created, id) rows after or before a position.
    pub keyset: KeysetFn,
    /// Candidate rows (narrowed by SQL where it can) with `id > after`, by id.
    pub scan: ScanFn,
    pub load: LoadFn<T>,
    pub get: GetFn<T>,
    pub render: fn(&T) -> Value,
    pub id: fn(&T) -> &str,
}

/// Where a rendered item stands: under `sort`, or in the default order
/// (creation time, then id).
fn position_of(
    kind: ResourceKind,
    sort: Option<&SortSpec>,
    rendered: &Value,
    id: &str,
) -> Position {
    let path = match sort {
        Some(s) => s.path.clone(),
        None => crate::scim::filter::AttrPath::with_sub("meta", "created"),
    };
    Position {
        value: sort_value(kind, rendered, &path),
        id: id.to_string(),
    }
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub fn list<T>(conn: &mut DbConnection, ops: &Ops<T>, q: &ListQuery) -> StoreResult<ListPage<T>> {
    let flag = q.with_members || q.with_groups;
    let filter = q.filter.as_ref();
    let sort = q.sort.as_ref();
    if (ops.exact)(filter) {
        match &q.window {
            Window::Index { offset, count } => {
                let total = (ops.count)(conn, filter)?;
                let rows = if *count == 0 {
                    Some(Vec::new())
                } else {
                    (ops.page)(conn, filter, sort, clamp(*offset), clamp(*count))?
                };
                if let Some(rows) = rows {
                    // Index paging needs no positions (they are cursor material).
                    let more = (*offset > 0, offset + count < total as u64);
                    return finish(conn, ops, None, rows, total, more, flag);
                }
            }
            Window::After { after, count } if sort.is_none() => {
                let total = (ops.count)(conn, filter)?;
                let mut rows = match after {
                    Some(p) => (ops.keyset)(conn, filter, p, true, clamp(*count) + 1)?,
                    None => {
                        (ops.page)(conn, filter, None, 0, clamp(*count) + 1)?.unwrap_or_default()
                    }
                };
                let more_after = rows.len() as u64 > *count;
                rows.truncate(*count as usize);
                let more_before = match after {
                    Some(p) => !(ops.keyset)(conn, filter, p, false, 1)?.is_empty(),
                    None => false,
                };
                return finish(
                    conn,
                    ops,
                    Some(sort),
                    rows,
                    total,
                    (more_before, more_after),
                    flag,
                );
            }
            Window::Before { before, count } if sort.is_none() => {
                let total = (ops.count)(conn, filter)?;
                let mut rows = (ops.keyset)(conn, filter, before, false, clamp(*count) + 1)?;
                let more_before = rows.len() as u64 > *count;
                rows.truncate(*count as usize);
                rows.reverse();
                let more_after = !(ops.keyset)(conn, filter, before, true, 1)?.is_empty()
                    || rows.iter().any(|r| r.0 == before.id);
                return finish(
                    conn,
                    ops,
                    Some(sort),
                    rows,
                    total,
                    (more_before, more_after),
                    flag,
                );
            }
            _ => {}
        }
    }
    in_memory(conn, ops, q)
}

/// Loads the page's items; `positions_under` (the sort, for cursor pages)
/// asks for their positions too.
fn finish<T>(
    conn: &mut DbConnection,
    ops: &Ops<T>,
    positions_under: Option<Option<&SortSpec>>,
    rows: Vec<Row>,
    total: i64,
    (more_before, more_after): (bool, bool),
    with_derived: bool,
) -> StoreResult<ListPage<T>> {
    let items = rows
        .into_iter()
        .map(|r| (ops.load)(conn, r, with_derived))
        .collect::<StoreResult<Vec<T>>>()?;
    let positions = match positions_under {
        Some(sort) => items
            .iter()
            .map(|i| position_of(ops.kind, sort, &(ops.render)(i), (ops.id)(i)))
            .collect(),
        None => Vec::new(),
    };
    Ok(ListPage {
        total: u64::try_from(total).unwrap_or(0),
        items,
        positions,
        more_before,
        more_after,
    })
}

/// Scans the candidates, keeps the positions of those the evaluator accepts,
/// orders them, cuts the window and loads only the window's items.
fn in_memory<T>(conn: &mut DbConnection, ops: &Ops<T>, q: &ListQuery) -> StoreResult<ListPage<T>> {
    let filter = q.filter.as_ref();
    let sort = q.sort.as_ref();
    // Derived attributes are needed to evaluate only when the filter or sort names them.
    let needs_derived = filter.is_some_and(|f| mentions_derived(&f.to_string()))
        || sort.is_some_and(|s| mentions_derived(&s.path.to_string()));
    let mut positions: Vec<Position> = Vec::new();
    let mut after = String::new();
    loop {
        let rows = (ops.scan)(conn, filter, &after, SCAN_BATCH)?;
        let Some(last) = rows.last() else { break };
        after = last.0.clone();
        let done = (rows.len() as i64) < SCAN_BATCH;
        for row in rows {
            let item = (ops.load)(conn, row, needs_derived)?;
            let rendered = (ops.render)(&item);
            if filter.is_none_or(|f| matches(f, ops.kind, &rendered)) {
                positions.push(position_of(ops.kind, sort, &rendered, (ops.id)(&item)));
            }
        }
        if done {
            break;
        }
    }
    let descending = sort.is_some_and(|s| s.descending);
    positions.sort_by(|a, b| a.cmp_in(b, descending));
    let total = positions.len();
    let (start, end) = cut(&positions, &q.window, descending);
    let window: Vec<Position> = positions[start..end].to_vec();
    let items = window
        .iter()
        .map(|p| (ops.get)(conn, &p.id, q.with_members || q.with_groups))
        .collect::<StoreResult<Vec<T>>>()?;
    Ok(ListPage {
        total: total as u64,
        items,
        positions: window,
        more_before: start > 0,
        more_after: end < total,
    })
}

fn mentions_derived(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("groups") || lower.contains("members")
}

/// The `[start, end)` range a window selects from sorted positions.
fn cut(sorted: &[Position], window: &Window, descending: bool) -> (usize, usize) {
    let len = sorted.len();
    match window {
        Window::Index { offset, count } => {
            let start = usize::try_from(*offset).unwrap_or(usize::MAX).min(len);
            let end = start
                .saturating_add(usize::try_from(*count).unwrap_or(usize::MAX))
                .min(len);
            (start, end)
        }
        Window::After { after, count } => {
            let start = match after {
                None => 0,
                Some(p) => sorted.partition_point(|x| x.cmp_in(p, descending) != Ordering::Greater),
            };
            (start, start.saturating_add(*count as usize).min(len))
        }
        Window::Before { before, count } => {
            let end = sorted.partition_point(|x| x.cmp_in(before, descending) == Ordering::Less);
            (end.saturating_sub(*count as usize), end)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::scim::sort::SortValue;

    fn p(v: &str) -> Position {
        Position {
            value: SortValue::Text(v.into()),
            id: v.into(),
        }
    }

    #[test]
    fn windows_cut_by_position_even_when_the_anchor_is_gone() {
        let sorted = vec![p("a"), p("b"), p("d"), p("e")];
        assert_eq!(
            cut(
                &sorted,
                &Window::Index {
                    offset: 1,
                    count: 2
                },
                false
            ),
            (1, 3)
        );
        assert_eq!(
            cut(
                &sorted,
                &Window::After {
                    after: Some(p("c")),
                    count: 5
                },
                false
            ),
            (2, 4)
        );
        assert_eq!(
            cut(
                &sorted,
                &Window::After {
                    after: Some(p("b")),
                    count: 1
                },
                false
            ),
            (2, 3)
        );
        assert_eq!(
            cut(
                &sorted,
                &Window::Before {
                    before: p("d"),
                    count: 1
                },
                false
            ),
            (1, 2)
        );
        assert_eq!(
            cut(
                &sorted,
                &Window::Before {
                    before: p("c"),
                    count: 9
                },
                false
            ),
            (0, 2)
        );
    }
}
