//! Which error type lives where: `scim::ScimError` for protocol failures the
//! client caused, `store::StoreError` inside storage, `AuthError` for
//! authentication, and `AppError` at the service boundary. Only `http::error`
//! turns an `AppError` into a response; unknown errors become a generic 500.

use crate::scim::ScimError;
use crate::store::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token was sent")]
    Missing,
    #[error("the Authorization header is not a bearer token")]
    Malformed,
    #[error("the bearer token is not valid")]
    Unknown,
    #[error("the bearer token has been revoked")]
    Revoked,
    #[error("the token lacks the {0} scope")]
    InsufficientScope(&'static str),
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Scim(#[from] ScimError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Over the per-credential request rate: 429 with `Retry-After`.
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    /// Anything the client did not cause: logged in full, answered generically.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Rejected(scim) => AppError::Scim(scim),
            StoreError::NotFound => AppError::Scim(ScimError::not_found("resource not found")),
            other => AppError::Internal(other.into()),
        }
    }
}
