//! `outer_id IN (SELECT key FROM table WHERE <predicate>)` as an expression
//! node: diesel's multi-backend cannot type-check a subquery whose WHERE is a
//! boxed predicate, so this node writes the fixed SQL itself and lets the
//! predicate write its own (parameterized) part.

use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::sql_types::{Bool, Nullable};

use super::connection::MultiBackend;

pub struct InSubquery<P> {
    /// Quoted outer column, e.g. `"users"."id"`.
    pub outer: &'static str,
    /// Quoted `SELECT … FROM …` of the subquery, without WHERE.
    pub select: &'static str,
    pub predicate: P,
}

impl<P> Expression for InSubquery<P> {
    type SqlType = Nullable<Bool>;
}

impl<P, QS> AppearsOnTable<QS> for InSubquery<P> {}

impl<P, QS> SelectableExpression<QS> for InSubquery<P> {}

impl<P> ValidGrouping<()> for InSubquery<P> {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl<P> QueryId for InSubquery<P> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<P: QueryFragment<MultiBackend>> QueryFragment<MultiBackend> for InSubquery<P> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        out.push_sql(self.outer);
        out.push_sql(" IN (");
        out.push_sql(self.select);
        out.push_sql(" WHERE ");
        self.predicate.walk_ast(out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}

/// A constant condition (`1 = 1` / `1 = 0`) usable on any table.
pub struct Constant(pub bool);

impl Expression for Constant {
    type SqlType = Nullable<Bool>;
}

impl<QS> AppearsOnTable<QS> for Constant {}

impl<QS> SelectableExpression<QS> for Constant {}

impl ValidGrouping<()> for Constant {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl QueryId for Constant {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<MultiBackend> for Constant {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        out.push_sql(if self.0 { "(1 = 1)" } else { "(1 = 0)" });
        Ok(())
    }
}
