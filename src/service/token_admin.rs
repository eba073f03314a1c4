//! Token management for the admin API: the same use cases as
//! `scimhub token …` (`tokens.rs`), with the caller as the audit actor and
//! strictly checked JSON requests.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::blocking;
use super::token_cache::TokenCache;
use super::tokens;
use crate::error::AppError;
use crate::scim::ScimError;
use crate::store::{Actor, Store, TokenRecord};

/// `POST /admin/v1/tokens`: anything else in the body is refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRequest {
    name: String,
    scopes: Vec<String>,
}

/// A token as listed: never its secret or the secret's hash.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub scopes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub created: DateTime<Utc>,
    pub last_used: Option<DateTime<Utc>>,
    pub revoked: Option<DateTime<Utc>>,
}

impl From<TokenRecord> for TokenView {
    fn from(t: TokenRecord) -> Self {
        Self {
            id: t.id,
            name: t.name,
            scopes: t.scopes,
            user_id: t.user_id,
            created: t.created,
            last_used: t.last_used,
            revoked: t.revoked,
        }
    }
}

/// A new token: its view plus the cleartext, shown this once.
#[derive(Debug, Serialize)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub view: TokenView,
    pub token: String,
}

#[derive(Clone)]
pub struct TokenAdmin {
    store: Arc<dyn Store>,
    /// Revocations here reach this process's authenticator at once.
    verified: TokenCache,
}

impl TokenAdmin {
    pub fn new(store: Arc<dyn Store>, verified: TokenCache) -> Self {
        Self { store, verified }
    }

    pub async fn list(&self) -> Result<Vec<TokenView>, AppError> {
        let store = self.store.clone();
        let tokens = blocking(move || tokens::list(store.as_ref())).await?;
        Ok(tokens.into_iter().map(TokenView::from).collect())
    }

    /// Checks the whole request before anything is written.
    pub async fn create(&self, actor: &Actor, body: Value) -> Result<CreatedToken, AppError> {
        let request: CreateRequest = serde_json::from_value(body)
            .map_err(|e| ScimError::invalid_value(format!("bad token request: {e}")))?;
        if request
            .scopes
            .iter()
            .any(|s| s.is_empty() || s.contains([',', ' ']))
        {
            return Err(
                ScimError::invalid_value("each scope is one name, e.g. \"scim:read\"").into(),
            );
        }
        let scopes = tokens::parse_scopes(&request.scopes.join(","))?;
        let (store, actor) = (self.store.clone(), actor.clone());
        blocking(move || {
            let (id, token) =
                tokens::create_by(store.as_ref(), &actor, &request.name, scopes, None)?;
            let record = store
                .find_token(&id)?
                .ok_or_else(|| anyhow::anyhow!("token {id} vanished after creation"))?;
            Ok(CreatedToken {
                view: record.into(),
                token,
            })
        })
        .await
    }

    pub async fn revoke(&self, actor: &Actor, id: &str) -> Result<(), AppError> {
        let (store, actor, token) = (self.store.clone(), actor.clone(), id.to_string());
        let revoked = blocking(move || tokens::revoke_id(store.as_ref(), &actor, &token)).await;
        self.verified.forget(id);
        revoked
    }
}
