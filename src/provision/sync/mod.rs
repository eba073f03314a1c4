//! Full sync runs: read both sides, plan, hold back what the deletion guard
//! stops, apply the rest, and persist the report. Also approval and
//! rejection of held runs.

mod apply;
pub mod command;
mod engine;
mod error;
mod loaded;
mod persist;
pub mod report;
mod source;
mod text;

pub use apply::Progress;
pub use engine::{RunOptions, SyncEngine};
pub use error::SyncError;
pub use loaded::LoadedTarget;
pub use report::{RunReport, RunStatus};
