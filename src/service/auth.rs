//! Bearer authentication. API tokens are verified here; other credential
//! kinds (external JWTs) slot in as further branches of `authenticate`.

use std::sync::Arc;

use chrono::{Duration, Utc};

use super::blocking;
use super::tokens::{self, SCOPE_READ, SCOPE_WRITE};
use crate::error::{AppError, AuthError};
use crate::store::Store;
use crate::telemetry::AUDIT;

/// `last_used` is written at most this often per token, so reads stay reads.
const LAST_USED_RESOLUTION: Duration = Duration::seconds(60);

/// Who is calling, and what they may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's name: recorded as the actor of every change.
    pub name: String,
    pub scopes: Vec<String>,
    /// The User this credential acts as (for `/Me`), if any.
    pub user_id: Option<String>,
}

impl Principal {
    pub fn require(&self, scope: &'static str) -> Result<(), AuthError> {
        if self.scopes.iter().any(|s| s == scope) {
            Ok(())
        } else {
            Err(AuthError::InsufficientScope(scope))
        }
    }
}

/// The scope a SCIM request needs: reads (GET, HEAD, and POST to `.search`)
/// need `scim:read`, everything else `scim:write`.
pub fn required_scope(method: &str, path: &str) -> &'static str {
    let read = method.eq_ignore_ascii_case("GET")
        || method.eq_ignore_ascii_case("HEAD")
        || (method.eq_ignore_ascii_case("POST")
            && path.trim_end_matches('/').ends_with("/.search"));
    if read { SCOPE_READ } else { SCOPE_WRITE }
}

#[derive(Clone)]
pub struct Authenticator {
    store: Arc<dyn Store>,
}

impl Authenticator {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Checks an `Authorization` header value. `source` (the peer address)
    /// is only used for the audit trail. Failures never log the token.
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
        source: &str,
    ) -> Result<Principal, AppError> {
        let result = self.verify(authorization).await;
        match &result {
            Ok(p) => tracing::debug!(target: AUDIT, event = "auth.ok", token = %p.name, source),
            Err(AppError::Auth(reason)) => {
                tracing::warn!(target: AUDIT, event = "auth.failed", reason = %reason, source)
            }
            Err(_) => {}
        }
        result
    }

    async fn verify(&self, authorization: Option<&str>) -> Result<Principal, AppError> {
        let header = authorization.ok_or(AuthError::Missing)?;
        let (scheme, credential) = header.trim().split_once(' ').ok_or(AuthError::Malformed)?;
        if !scheme.eq_ignore_ascii_case("Bearer") || credential.trim().is_empty() {
            return Err(AuthError::Malformed.into());
        }
        let parts = tokens::parse(credential.trim()).ok_or(AuthError::Unknown)?;
        let (id, secret) = (parts.id.to_string(), parts.secret.to_string());
        let store = self.store.clone();
        blocking(move || {
            let record = store.find_token(&id)?.ok_or(AuthError::Unknown)?;
            if !tokens::secret_matches(&secret, &record.secret_hash) {
                return Err(AuthError::Unknown.into());
            }
            if record.revoked.is_some() {
                return Err(AuthError::Revoked.into());
            }
            let now = Utc::now();
            if record
                .last_used
                .is_none_or(|t| now - t >= LAST_USED_RESOLUTION)
            {
                store.touch_token(&record.id, now)?;
            }
            Ok(Principal {
                name: record.name,
                scopes: record.scopes,
                user_id: record.user_id,
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_need_read_and_writes_need_write() {
        assert_eq!(required_scope("GET", "/scim/v2/Users"), SCOPE_READ);
        assert_eq!(required_scope("POST", "/scim/v2/Users/.search"), SCOPE_READ);
        assert_eq!(required_scope("POST", "/scim/v2/Users"), SCOPE_WRITE);
        assert_eq!(required_scope("DELETE", "/scim/v2/Users/x"), SCOPE_WRITE);
        assert_eq!(required_scope("PATCH", "/scim/v2/Groups/x"), SCOPE_WRITE);
    }
}
