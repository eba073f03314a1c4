//! `<query> LIMIT <n> OFFSET ?` with the limit written into the SQL. SQLite
//! plans with a bound LIMIT's value and re-prepares the statement whenever
//! that parameter is bound again, so a bound LIMIT is never served from the
//! statement cache; a literal one is (one cached statement per page size,
//! which `max_page_size` bounds). The offset stays a parameter.

use diesel::RunQueryDsl;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::sql_types::BigInt;

use super::connection::MultiBackend;

pub struct PageWindow<Q> {
    query: Q,
    limit: i64,
    offset: i64,
}

/// `query` (without its own LIMIT/OFFSET) restricted to `limit` rows after
/// skipping `offset`.
pub fn page_window<Q>(query: Q, offset: i64, limit: i64) -> PageWindow<Q> {
    PageWindow {
        query,
        limit: limit.max(0),
        offset: offset.max(0),
    }
}

impl<Q: Query> Query for PageWindow<Q> {
    type SqlType = Q::SqlType;
}

impl<Q> QueryId for PageWindow<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: QueryFragment<MultiBackend>> QueryFragment<MultiBackend> for PageWindow<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        self.query.walk_ast(out.reborrow())?;
        // An i64 formatted by Rust: digits and at most a sign, never text
        // from a client.
        out.push_sql(&format!(" LIMIT {} OFFSET ", self.limit));
        out.push_bind_param::<BigInt, i64>(&self.offset)?;
        Ok(())
    }
}

impl<Q, Conn> RunQueryDsl<Conn> for PageWindow<Q> {}
