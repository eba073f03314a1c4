//! Console sessions' storage seam, kept apart from `Store` like
//! `SyncStore` and `WebhookStore`.

use chrono::{DateTime, Utc};

use super::StoreResult;

/// A signed-in console session. `id_hash` is the SHA-256 (hex) of the
/// secret in the cookie; the secret itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id_hash: String,
    /// Who acts in this session (audited as the actor of every action).
    pub actor: String,
    /// The API token it was opened with; it ends when the token is revoked.
    pub token_id: Option<String>,
    pub created: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

/// An OpenID Connect sign-in between its start and its callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRecord {
    /// SHA-256 (hex) of the secret in the browser's login cookie.
    pub id_hash: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// The console page to go to afterwards.
    pub next: String,
    pub created: DateTime<Utc>,
}

pub trait ConsoleStore: Send + Sync + 'static {
    fn create_session(&self, session: &SessionRecord) -> StoreResult<()>;
    fn find_session(&self, id_hash: &str) -> StoreResult<Option<SessionRecord>>;
    fn touch_session(&self, id_hash: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// False when there was no such session.
    fn delete_session(&self, id_hash: &str) -> StoreResult<bool>;
    /// Removes sessions last seen before `idle_before` or opened before
    /// `opened_before`; returns how many went.
    fn delete_expired_sessions(
        &self,
        idle_before: DateTime<Utc>,
        opened_before: DateTime<Utc>,
    ) -> StoreResult<usize>;
    /// Stores a sign-in under way, first removing those begun before `stale_before`.
    fn create_login(&self, login: &LoginRecord, stale_before: DateTime<Utc>) -> StoreResult<()>;
    /// Removes and returns a sign-in under way (each is used once).
    fn take_login(&self, id_hash: &str) -> StoreResult<Option<LoginRecord>>;
}
