//! Console sessions: an admin-scope credential exchanged for a server-side
//! session. The cookie carries a random secret; the database holds only its
//! SHA-256, so every instance knows every session and a database copy signs
//! no one in. Sessions end when idle too long, when too old, at sign-out,
//! and when the API token they were opened with is revoked.

pub mod oidc;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::auth::Authenticator;
use super::tokens::{self, SCOPE_ADMIN};
use super::{audit, blocking};
use crate::config::ConsoleConfig;
use crate::error::{AppError, AuthError};
use crate::store::{Actor, ConsoleStore, SessionRecord, Store};

/// How an actor is named in the audit trail when acting through the console.
pub const ACTOR_PREFIX: &str = "console:";

/// A session's secret as the cookie holds it, and the session.
pub struct SignedIn {
    pub secret: String,
    pub session: Session,
}

/// A live session, as a request sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id_hash: String,
    /// `console:<credential name>`: the audit actor of every action.
    pub actor: String,
    /// The token every form must send back (derived from the cookie's secret).
    pub csrf: String,
}

impl Session {
    fn from_secret(secret: &str, actor: String) -> Self {
        Self {
            id_hash: tokens::hash_secret(secret),
            actor,
            csrf: csrf_token(secret),
        }
    }

    /// Whether `presented` is this session's CSRF token (constant time).
    pub fn csrf_matches(&self, presented: &str) -> bool {
        self.csrf.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

/// The CSRF token of the session whose cookie holds `secret`: only someone
/// holding the cookie's secret can make it, and the server stores nothing.
fn csrf_token(secret: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(b"scimhub console csrf");
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[derive(Clone)]
pub struct ConsoleAuth {
    store: Arc<dyn Store>,
    sessions: Arc<dyn ConsoleStore>,
    auth: Authenticator,
    idle: Duration,
    absolute: Duration,
    oidc: Option<oidc::OidcLogin>,
}

/// `last_seen` is written at most this often per session (and at least a
/// few times per idle period), so page views stay reads.
fn touch_every(idle: Duration) -> Duration {
    (idle / 10).min(Duration::from_secs(60))
}

impl ConsoleAuth {
    pub fn new(
        store: Arc<dyn Store>,
        sessions: Arc<dyn ConsoleStore>,
        auth: Authenticator,
        config: &ConsoleConfig,
    ) -> anyhow::Result<Self> {
        let oidc = config
            .oidc
            .as_ref()
            .map(|o| oidc::OidcLogin::new(o, store.clone(), sessions.clone()))
            .transpose()?;
        Ok(Self {
            store,
            sessions,
            auth,
            idle: Duration::from_secs(config.idle_timeout_secs),
            absolute: Duration::from_secs(config.absolute_timeout_secs),
            oidc,
        })
    }

    /// The external sign-in, when one is configured.
    pub fn oidc(&self) -> Option<&oidc::OidcLogin> {
        self.oidc.as_ref()
    }

    /// Exchanges an admin-scope API token (or JWT) for a session. An unknown
    /// or revoked credential is refused and audited (`auth.failed`), one
    /// without the admin scope too (`console.sign_in.denied`); the error
    /// never says which.
    pub async fn sign_in_with_token(
        &self,
        credential: &str,
        source: &str,
    ) -> Result<SignedIn, AppError> {
        let credential = credential.trim();
        if credential.is_empty() {
            return Err(AuthError::Missing.into());
        }
        let principal = self
            .auth
            .authenticate(Some(&format!("Bearer {credential}")), || source.to_string())
            .await?;
        if principal.require(SCOPE_ADMIN).is_err() {
            let actor = Actor {
                name: principal.name.clone(),
                request_id: None,
                source: Some(source.to_string()),
            };
            let detail = "a credential without the admin scope cannot sign in to the console";
            audit::record(&self.store, "console.sign_in.denied", &actor, detail.into()).await?;
            return Err(AuthError::Unknown.into());
        }
        let token_id = tokens::parse(credential).map(|p| p.id.to_string());
        let detail = "signed in with an API token".to_string();
        self.open(&principal.name, token_id, source, detail).await
    }

    /// Opens a session for `name` (a token name, or an OIDC identity);
    /// `detail` goes into the audit row.
    async fn open(
        &self,
        name: &str,
        token_id: Option<String>,
        source: &str,
        detail: String,
    ) -> Result<SignedIn, AppError> {
        let secret = new_secret();
        let session = Session::from_secret(&secret, format!("{ACTOR_PREFIX}{name}"));
        let now = Utc::now();
        let record = SessionRecord {
            id_hash: session.id_hash.clone(),
            actor: session.actor.clone(),
            token_id,
            created: now,
            last_seen: now,
        };
        let (sessions, idle, absolute) = (self.sessions.clone(), self.idle, self.absolute);
        blocking(move || {
            sessions.delete_expired_sessions(now - idle, now - absolute)?;
            Ok(sessions.create_session(&record)?)
        })
        .await?;
        let actor = Actor {
            name: session.actor.clone(),
            request_id: None,
            source: Some(source.to_string()),
        };
        audit::record(&self.store, "console.sign_in", &actor, detail).await?;
        Ok(SignedIn { secret, session })
    }

    /// The live session whose cookie holds `secret`, if any. An expired
    /// session, or one whose token was revoked, is removed.
    pub async fn session(&self, secret: &str) -> Result<Option<Session>, AppError> {
        if secret.is_empty() || secret.len() > 128 {
            return Ok(None);
        }
        let id_hash = tokens::hash_secret(secret);
        let (sessions, store) = (self.sessions.clone(), self.store.clone());
        let (idle, absolute) = (self.idle, self.absolute);
        let record = blocking(move || {
            let Some(record) = sessions.find_session(&id_hash)? else {
                return Ok(None);
            };
            let now = Utc::now();
            let expired = record.last_seen + idle <= now || record.created + absolute <= now;
            let token_gone = match &record.token_id {
                Some(id) => store.find_token(id)?.is_none_or(|t| t.revoked.is_some()),
                None => false,
            };
            if expired || token_gone {
                sessions.delete_session(&id_hash)?;
                return Ok(None);
            }
            if record.last_seen + touch_every(idle) <= now {
                sessions.touch_session(&id_hash, now)?;
            }
            Ok(Some(record))
        })
        .await?;
        Ok(record.map(|r| Session::from_secret(secret, r.actor)))
    }

    /// Ends a session (audited as `console.sign_out`).
    pub async fn sign_out(&self, session: &Session, actor: &Actor) -> Result<(), AppError> {
        let (sessions, id_hash) = (self.sessions.clone(), session.id_hash.clone());
        blocking(move || Ok(sessions.delete_session(&id_hash)?)).await?;
        audit::record(&self.store, "console.sign_out", actor, "signed out".into()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_belong_to_their_session() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        let session = Session::from_secret(&a, "console:x".into());
        assert!(session.csrf_matches(&csrf_token(&a)));
        assert!(!session.csrf_matches(&csrf_token(&b)));
        assert!(!session.csrf_matches(""));
        assert_ne!(session.csrf, a, "the token is not the cookie's secret");
        assert_ne!(
            session.id_hash, a,
            "the stored id is not the cookie's secret"
        );
    }

    #[test]
    fn last_seen_is_written_a_few_times_per_idle_period() {
        assert_eq!(
            touch_every(Duration::from_secs(1800)),
            Duration::from_secs(60)
        );
        assert_eq!(touch_every(Duration::from_secs(10)), Duration::from_secs(1));
    }
}
