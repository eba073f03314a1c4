//! Why a source use case failed; the front ends map each kind to their own
//! answer (exit message, HTTP status).

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Bad input: nothing was stored.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Duplicate(String),
    #[error("no source named {0:?}")]
    Unknown(String),
    #[error("no import run with id {0:?}")]
    UnknownRun(String),
    /// The request does not fit the state (a run is going on, nothing is held).
    #[error("{0}")]
    Conflict(String),
    #[error(
        "SCIMHUB_SECRET_KEY (secret_key) must be set to store or use source credentials: \
         32 random bytes as hex, e.g. from `openssl rand -hex 32`"
    )]
    NoSecretKey,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<crate::blocking::TaskFailed> for SourceError {
    fn from(e: crate::blocking::TaskFailed) -> Self {
        SourceError::Internal(e.into())
    }
}

impl From<StoreError> for SourceError {
    fn from(e: StoreError) -> Self {
        SourceError::Internal(e.into())
    }
}

/// `crate::blocking::blocking` with `SourceError`s.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, SourceError> + Send + 'static,
) -> Result<T, SourceError> {
    crate::blocking::blocking(work).await
}
