//! SCIM events (RFC 9967) settings, `[events]` / `SCIMHUB_EVENTS_*`: the key
//! that signs the Security Event Tokens and how poll requests wait.

use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScimEventsConfig {
    /// A PEM private key (PKCS#8, or PKCS#1 for RSA): RSA signs RS256, an
    /// EC P-256 key ES256. Unset: no SET subscriptions.
    pub signing_key_file: Option<String>,
    /// The `kid` in every SET header and in the JWKS (default: the key's
    /// RFC 7638 thumbprint).
    pub kid: Option<String>,
    /// The `iss` claim (default: `public_url`, else `http://` + `listen`).
    pub issuer: Option<String>,
    /// How long a poll with `returnImmediately: false` waits for a SET.
    pub poll_wait_ms: u64,
}

impl Default for ScimEventsConfig {
    fn default() -> Self {
        Self {
            signing_key_file: None,
            kid: None,
            issuer: None,
            poll_wait_ms: 10_000,
        }
    }
}

impl ScimEventsConfig {
    pub fn poll_wait(&self) -> Duration {
        Duration::from_millis(self.poll_wait_ms)
    }
}
