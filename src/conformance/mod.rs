//! The conformance suite: data-driven SCIM protocol cases
//! (`conformance/<suite>/*.yaml`, embedded at build time) and a runner that
//! replays them over HTTP against any SCIM server. Protocol logic stays in
//! `scim/`; this module only talks HTTP to a server, ours or not.

pub mod case;
pub mod catalog;
mod check;
pub mod command;
mod http;
mod matcher;
pub mod mutate;
mod path;
pub mod report;
pub mod runner;
mod template;

pub use catalog::{Suite, load};
pub use report::{CaseResult, Outcome, Report};
pub use runner::{Runner, Target};
