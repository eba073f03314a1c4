//! Filters and sorts of the plain resource types in SQL. Their resources are
//! JSON, so each row also carries `search`: its single-valued top-level
//! strings (case-folded as the evaluator folds them) and booleans as one JSON
//! object, read with `json_extract` (SQLite) or `->>` (PostgreSQL, byte
//! order). `id`, `meta.created`, `meta.lastModified` and the unique `name`
//! (`unique_value`) are columns. Anything else stays with the evaluator.

use chrono::{DateTime, NaiveDateTime};
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::sql_types::{Nullable, Text};
use serde_json::{Map, Value};

use super::connection::{Backend, DbConnection, MultiBackend};
use super::filter_sql::{
    self, Node, Pred, Pushdown, always, like_pattern, logic, meta_time, never, node, prefix_end,
    text_leaf, text_present, time_leaf,
};
use super::list_sql::{order, order_not_null};
use super::schema::resources;
use crate::scim::ResourceKind;
use crate::scim::filter::eval::fold;
use crate::scim::filter::{AttrPath, CompValue, CompareOp, Filter};
use crate::scim::registry::registry;
use crate::scim::schema::{AttrType, Uniqueness};
use crate::scim::sort::SortSpec;

const EXTERNAL_ID: &str = "externalId";

/// How an attribute is kept in `search`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// A string, folded unless case-exact.
    Text { case_exact: bool },
    /// A boolean, as the text `true` / `false`.
    Bool,
}

/// The attributes of `kind` kept in `search`: `externalId` and every
/// single-valued top-level string or boolean of the core schema but the
/// unique one (a column of its own).
fn searchable(kind: ResourceKind) -> Vec<(&'static str, Field)> {
    let mut out = vec![(EXTERNAL_ID, Field::Text { case_exact: true })];
    for def in &registry().core_schema(kind).attributes {
        if def.multi_valued || def.uniqueness != Uniqueness::None {
            continue;
        }
        // The name is written into SQL: only plain identifiers qualify.
        if !def.name.chars().all(|c| c.is_ascii_alphanumeric()) {
            continue;
        }
        match def.attr_type {
            AttrType::String => out.push((
                def.name,
                Field::Text {
                    case_exact: def.case_exact,
                },
            )),
            AttrType::Boolean => out.push((def.name, Field::Bool)),
            _ => {}
        }
    }
    out
}

/// The `search` column of a resource of `kind` with these attributes.
pub fn document(kind: ResourceKind, attrs: &Map<String, Value>) -> String {
    let mut doc = Map::new();
    for (name, field) in searchable(kind) {
        let value = match (field, attrs.get(name)) {
            (Field::Text { case_exact }, Some(Value::String(s))) => {
                Value::String(fold(s, case_exact))
            }
            (Field::Bool, Some(Value::Bool(b))) => Value::String(b.to_string()),
            _ => continue,
        };
        doc.insert(name.to_string(), value);
    }
    Value::Object(doc).to_string()
}

/// One key of `search` as text (NULL when absent).
#[derive(Debug, Clone, Copy)]
pub struct SearchKey {
    backend: Backend,
    key: &'static str,
}

impl Expression for SearchKey {
    type SqlType = Nullable<Text>;
}

impl AppearsOnTable<resources::table> for SearchKey {}

impl SelectableExpression<resources::table> for SearchKey {}

impl ValidGrouping<()> for SearchKey {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl QueryId for SearchKey {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<MultiBackend> for SearchKey {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        // The same text as the migration's indexes, so they serve the query;
        // `key` is a schema attribute name (letters and digits only).
        match self.backend {
            Backend::Sqlite => {
                out.push_sql("json_extract(\"resources\".\"search\", '$.");
                out.push_sql(self.key);
                out.push_sql("')");
            }
            Backend::Postgres => {
                out.push_sql("((\"resources\".\"search\"::jsonb ->> '");
                out.push_sql(self.key);
                out.push_sql("') COLLATE \"C\")");
            }
        }
        Ok(())
    }
}

pub fn backend_of(conn: &DbConnection) -> Backend {
    match conn {
        DbConnection::Sqlite(_) => Backend::Sqlite,
        DbConnection::Pg(_) => Backend::Postgres,
    }
}

/// What a single-valued path of `kind` is in SQL.
enum Column {
    Id,
    Unique { case_exact: bool },
    Created,
    LastModified,
    Search(&'static str, Field),
}

fn column(kind: ResourceKind, path: &AttrPath) -> Option<Column> {
    if let Some(uri) = &path.uri
        && !uri.eq_ignore_ascii_case(registry().core_schema(kind).id)
    {
        return None;
    }
    let name = path.name.as_str();
    match path.sub.as_deref() {
        Some(sub) if name.eq_ignore_ascii_case("meta") => {
            if sub.eq_ignore_ascii_case("created") {
                Some(Column::Created)
            } else if sub.eq_ignore_ascii_case("lastModified") {
                Some(Column::LastModified)
            } else {
                None
            }
        }
        Some(_) => None,
        None if name.eq_ignore_ascii_case("id") => Some(Column::Id),
        None => {
            let schema = registry().core_schema(kind);
            if let Some(def) = schema.attribute(name)
                && def.uniqueness != Uniqueness::None
                && def.attr_type == AttrType::String
                && !def.multi_valued
            {
                return Some(Column::Unique {
                    case_exact: def.case_exact,
                });
            }
            searchable(kind)
                .into_iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(n, field)| Column::Search(n, field))
        }
    }
}

/// The filter as a predicate on `resources` rows of `kind`, when SQL gives
/// exactly the evaluator's answer.
pub fn translate(
    kind: ResourceKind,
    backend: Backend,
    filter: &Filter,
) -> Option<Pred<resources::table>> {
    let recurse = |f: &Filter| translate(kind, backend, f);
    match node(kind, filter) {
        Node::Logic => logic!(filter, recurse),
        Node::Undefined => Some(never()),
        Node::ValueFilter => None,
        Node::Leaf { path, op, value } => {
            macro_rules! text {
                ($col:expr, $exact:expr) => {
                    match op {
                        Some(op) => text_leaf!($col, op, value, $exact),
                        None => text_present!($col),
                    }
                };
            }
            match column(kind, path)? {
                Column::Id => text!(resources::id.nullable(), true),
                Column::Unique { case_exact } => text!(resources::unique_value, case_exact),
                Column::Created => meta_time!(op, value, resources::created),
                Column::LastModified => meta_time!(op, value, resources::last_modified),
                Column::Search(key, Field::Text { case_exact }) => {
                    text!(SearchKey { backend, key }, case_exact)
                }
                Column::Search(key, Field::Bool) => {
                    let col = SearchKey { backend, key };
                    match (op, value, value.as_boolean()) {
                        (None, _, _) => text_present!(col),
                        (Some(CompareOp::Eq | CompareOp::Ne), CompValue::Null, _) => {
                            text!(col, true)
                        }
                        (Some(CompareOp::Eq), _, Some(b)) => Some(Box::new(
                            col.is_not_null().and(col.eq(b.to_string())).nullable(),
                        )),
                        (Some(CompareOp::Ne), _, Some(b)) => Some(Box::new(
                            col.is_not_null().and(col.ne(b.to_string())).nullable(),
                        )),
                        // Order comparisons of booleans stay with the evaluator.
                        (
                            Some(CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le),
                            _,
                            Some(_),
                        ) => None,
                        // Anything else never matches a boolean.
                        _ => Some(never()),
                    }
                }
            }
        }
    }
}

/// All of the filter in SQL, an `and`-ed part of it (a superset), or nothing.
pub fn plan(kind: ResourceKind, backend: Backend, filter: &Filter) -> Pushdown<resources::table> {
    filter_sql::plan(
        filter,
        |f| translate(kind, backend, f),
        |a, b| Box::new(a.and(b)),
    )
}

pub type Query = resources::BoxedQuery<
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

/// `q` in the order of `sort` (the default: creation, then id), or None
/// when SQL cannot give the evaluator's order (booleans: left to it).
pub fn ordered(
    kind: ResourceKind,
    backend: Backend,
    q: Query,
    sort: Option<&SortSpec>,
) -> Option<Query> {
    let Some(sort) = sort else {
        return Some(order_not_null!(q, resources::created, resources::id, false));
    };
    let desc = sort.descending;
    let id = resources::id;
    Some(match column(kind, &sort.path)? {
        Column::Id => order_not_null!(q, resources::id, id, desc),
        Column::Created => order_not_null!(q, resources::created, id, desc),
        Column::LastModified => order_not_null!(q, resources::last_modified, id, desc),
        Column::Unique { .. } => order!(q, resources::unique_value, id, desc),
        Column::Search(key, Field::Text { .. }) => order!(q, SearchKey { backend, key }, id, desc),
        Column::Search(_, Field::Bool) => return None,
    })
}
