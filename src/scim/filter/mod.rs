//! SCIM filters: AST, parser, and the in-memory evaluator that defines
//! their meaning (the SQL translation in `store` must agree with it).

pub mod ast;
pub mod eval;
pub mod parser;

pub use ast::{AttrPath, CompValue, CompareOp, Filter};
pub use eval::{check, matches, matches_value};
pub use parser::{FilterLimits, parse_attr_path, parse_filter, parse_path_prefix};
