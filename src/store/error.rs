use crate::scim::ScimError;

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The addressed resource does not exist.
    #[error("not found")]
    NotFound,
    /// The request breaks a protocol rule that only the store can check
    /// (uniqueness, unknown member, membership cycle): shown to the client.
    #[error(transparent)]
    Rejected(#[from] ScimError),
    #[error("database error: {0}")]
    Database(#[from] ::diesel::result::Error),
    #[error("connection pool error: {0}")]
    Pool(String),
    /// The write succeeded but the transaction it shared with others could
    /// not commit: nothing of it was stored.
    #[error("the transaction holding this write could not commit")]
    Aborted,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}
