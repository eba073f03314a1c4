//! Bearer authentication. API tokens are verified here; other credential
//! kinds (external JWTs) slot in as further branches of `authenticate`.

use std::sync::Arc;

use chrono::{Duration, Utc};

use super::blocking;
use super::jwt::{JwtVerifier, SubjectIs};
use super::token_cache::{Cached, TokenCache, Verified};
use super::tokens::{self, SCOPE_READ, SCOPE_WRITE};
use crate::error::{AppError, AuthError};
use crate::store::{Actor, AuditEvent, ListQuery, Store, Window};
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
    jwt: JwtVerifier,
    cache: TokenCache,
}

/// The credential of an `Authorization: Bearer …` header.
pub fn bearer(authorization: Option<&str>) -> Result<&str, AuthError> {
    let header = authorization.ok_or(AuthError::Missing)?;
    let (scheme, credential) = header.trim().split_once(' ').ok_or(AuthError::Malformed)?;
    if !scheme.eq_ignore_ascii_case("Bearer") || credential.trim().is_empty() {
        return Err(AuthError::Malformed);
    }
    Ok(credential.trim())
}

impl Authenticator {
    pub fn new(store: Arc<dyn Store>, jwt: JwtVerifier, cache: TokenCache) -> Self {
        Self { store, jwt, cache }
    }

    /// Checks an `Authorization` header value. `source` gives the peer
    /// address, only for the audit trail (asked only when it is written).
    /// Failures never log the token.
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
        source: impl Fn() -> String,
    ) -> Result<Principal, AppError> {
        let result = self.verify(authorization).await;
        match &result {
            Ok(p) => {
                tracing::debug!(target: AUDIT, event = "auth.ok", token = %p.name, source = %source());
            }
            Err(AppError::Auth(reason)) => {
                let source = source();
                tracing::warn!(target: AUDIT, event = "auth.failed", reason = %reason, source);
                let event = AuditEvent {
                    event: "auth.failed".into(),
                    actor: Actor {
                        name: "-".into(),
                        request_id: None,
                        source: Some(source.to_string()),
                    },
                    detail: Some(reason.to_string()),
                };
                let store = self.store.clone();
                // Best effort: a failing audit write must not turn a 401 into a 500.
                let _ = blocking(move || Ok(store.record_audit(event)?))
                    .await
                    .map_err(|e| {
                        tracing::error!(error = %e, "could not record an authentication failure");
                    });
            }
            Err(_) => {}
        }
        result
    }

    async fn verify(&self, authorization: Option<&str>) -> Result<Principal, AppError> {
        let credential = bearer(authorization)?;
        if !credential.starts_with("scimhub_") && self.jwt.is_enabled() {
            return self.verify_jwt(credential).await;
        }
        let parts = tokens::parse(credential).ok_or(AuthError::Unknown)?;
        match self.cache.lookup(parts.id, parts.secret) {
            Cached::Valid(principal) => return Ok(principal),
            Cached::Revoked => return Err(AuthError::Revoked.into()),
            Cached::Ask => {}
        }
        let (id, secret) = (parts.id.to_string(), parts.secret.to_string());
        let (store, cache) = (self.store.clone(), self.cache.clone());
        blocking(move || {
            let record = store.find_token(&id)?.ok_or(AuthError::Unknown)?;
            if !tokens::secret_matches(&secret, &record.secret_hash) {
                return Err(AuthError::Unknown.into());
            }
            let principal = Principal {
                name: record.name,
                scopes: record.scopes,
                user_id: record.user_id,
            };
            cache.remember(
                &id,
                Verified {
                    secret_hash: record.secret_hash,
                    revoked: record.revoked.is_some(),
                    principal: principal.clone(),
                },
            );
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
            Ok(principal)
        })
        .await
    }
}

impl Authenticator {
    async fn verify_jwt(&self, credential: &str) -> Result<Principal, AppError> {
        let verified = self.jwt.verify(credential).ok_or(AuthError::Unknown)?;
        let store = self.store.clone();
        let subject = verified.subject.clone();
        let user_id = match verified.subject_is {
            SubjectIs::None => None,
            SubjectIs::UserId => Some(subject),
            kind => {
                blocking(move || {
                    let text = match kind {
                        SubjectIs::UserName => {
                            format!("userName eq {}", serde_json::Value::String(subject))
                        }
                        _ => format!("externalId eq {}", serde_json::Value::String(subject)),
                    };
                    let filter = crate::scim::filter::parse_filter(&text, Default::default())?;
                    let query = ListQuery {
                        filter: Some(filter),
                        sort: None,
                        window: Window::Index {
                            offset: 0,
                            count: 2,
                        },
                        with_members: false,
                        with_groups: false,
                    };
                    let page = store.list_users(&query)?;
                    // A subject that names no single user maps to none.
                    Ok((page.items.len() == 1).then(|| page.items[0].id.clone()))
                })
                .await?
            }
        };
        Ok(Principal {
            name: format!("jwt:{}:{}", verified.issuer, verified.subject),
            scopes: verified.scopes,
            user_id,
        })
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
