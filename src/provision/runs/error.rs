//! What the sync center's front ends (CLI, admin API) must tell apart.

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("no target named {0:?}")]
    UnknownTarget(String),
    #[error("no sync run {0:?}")]
    UnknownRun(String),
    #[error("no user with the id or userName {0:?}")]
    UnknownUser(String),
    /// The request does not fit the run's state (e.g. approving a finished run).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<crate::store::StoreError> for SyncError {
    fn from(e: crate::store::StoreError) -> Self {
        SyncError::Internal(e.into())
    }
}
