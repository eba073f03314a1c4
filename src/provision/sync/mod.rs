//! Full sync runs: read both sides, plan, hold back what the deletion guard
//! stops, apply the rest, and persist the report. Also approval and
//! rejection of held runs.

mod apply;
mod engine;
mod error;
pub mod guard_window;
pub mod history;
mod lease;
mod loaded;
mod persist;
pub mod report;
pub(crate) mod source;
pub mod text;

pub use apply::Progress;
pub use engine::{RunOptions, SyncEngine};
pub use error::SyncError;
pub use loaded::LoadedTarget;
pub use report::{RunReport, RunStatus};

/// Runs store work on the blocking pool (diesel is blocking).
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, SyncError> + Send + 'static,
) -> Result<T, SyncError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| SyncError::Internal(anyhow::anyhow!("blocking task failed: {e}")))?
}
