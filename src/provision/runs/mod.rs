//! Full sync runs: read both sides, plan, hold back what the deletion guard
//! stops, apply the rest, and persist the report. Also approval and
//! rejection of held runs.

mod apply;
mod engine;
mod error;
pub mod guard_window;
pub mod history;
mod lease;
pub mod live;
mod loaded;
mod persist;
pub mod report;
pub(crate) mod source;
pub mod text;

pub use apply::{Progress, Tick};
pub use engine::{RunOptions, SyncEngine};
pub use error::SyncError;
pub use loaded::LoadedTarget;
pub use report::{RunReport, RunStatus};

impl From<crate::blocking::TaskFailed> for SyncError {
    fn from(e: crate::blocking::TaskFailed) -> Self {
        SyncError::Internal(e.into())
    }
}

/// `crate::blocking::blocking` for the sync engines (errors are `SyncError`s).
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, SyncError> + Send + 'static,
) -> Result<T, SyncError> {
    crate::blocking::blocking(work).await
}
