//! Recently verified API tokens, so a request does not need a database read
//! (and a hop to the blocking pool) just to check its credential.
//!
//! The price is staleness, bounded by the time to live: a revocation made
//! through this process (the admin API) takes effect at once; one made
//! elsewhere (the CLI, another instance) within `ttl`. A TTL of zero turns
//! the cache off.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::auth::Principal;
use super::tokens;

/// More entries than this and the cache starts over: it holds one entry per
/// live token, so only a very large fleet of tokens ever reaches it.
const MAX_ENTRIES: usize = 10_000;

/// What a token's database row said when it was read.
#[derive(Debug, Clone)]
pub struct Verified {
    pub secret_hash: String,
    pub revoked: bool,
    pub principal: Principal,
}

/// The answer the cache can give for a presented token.
#[derive(Debug, PartialEq, Eq)]
pub enum Cached {
    /// Read recently; the secret matched and the token was live.
    Valid(Principal),
    /// Read recently; the secret matched and the token was revoked.
    Revoked,
    /// Not known, expired, or the secret did not match what was read: ask the
    /// database (it is the authority on unknown secrets).
    Ask,
}

#[derive(Debug, Clone, Default)]
pub struct TokenCache {
    ttl: Duration,
    entries: Arc<Mutex<HashMap<String, Entry>>>,
}

#[derive(Debug)]
struct Entry {
    read: Instant,
    /// The stored hash as bytes: a hit compares digests without hex text.
    digest: [u8; 32],
    verified: Verified,
}

impl TokenCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Arc::default(),
        }
    }

    pub fn lookup(&self, id: &str, secret: &str) -> Cached {
        if self.ttl.is_zero() {
            return Cached::Ask;
        }
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(id) {
            Some(e) if e.read.elapsed() < self.ttl && tokens::digest_matches(secret, &e.digest) => {
                if e.verified.revoked {
                    Cached::Revoked
                } else {
                    Cached::Valid(e.verified.principal.clone())
                }
            }
            _ => Cached::Ask,
        }
    }

    /// Remembers a row whose secret the caller has just checked.
    pub fn remember(&self, id: &str, verified: Verified) {
        if self.ttl.is_zero() {
            return;
        }
        let Some(digest) = tokens::digest_of_hash(&verified.secret_hash) else {
            return;
        };
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(id) {
            entries.retain(|_, e| e.read.elapsed() < self.ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        let entry = Entry {
            read: Instant::now(),
            digest,
            verified,
        };
        entries.insert(id.to_string(), entry);
    }

    /// Drops a token (revoked here): its next use reads the database.
    pub fn forget(&self, id: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verified(secret: &str, revoked: bool) -> Verified {
        Verified {
            secret_hash: tokens::hash_secret(secret),
            revoked,
            principal: Principal {
                name: "ci".into(),
                scopes: vec!["scim:read".into()],
                user_id: None,
            },
        }
    }

    #[test]
    fn answers_only_for_the_right_secret_within_the_ttl() {
        let cache = TokenCache::new(Duration::from_secs(60));
        assert_eq!(cache.lookup("t1", "s3cret"), Cached::Ask);
        cache.remember("t1", verified("s3cret", false));
        assert!(matches!(cache.lookup("t1", "s3cret"), Cached::Valid(p) if p.name == "ci"));
        assert_eq!(cache.lookup("t1", "wrong"), Cached::Ask);
        assert_eq!(cache.lookup("t2", "s3cret"), Cached::Ask);
        cache.forget("t1");
        assert_eq!(cache.lookup("t1", "s3cret"), Cached::Ask);
    }

    #[test]
    fn remembers_revocations_and_expires() {
        let cache = TokenCache::new(Duration::from_millis(30));
        cache.remember("t1", verified("s3cret", true));
        assert_eq!(cache.lookup("t1", "s3cret"), Cached::Revoked);
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(cache.lookup("t1", "s3cret"), Cached::Ask);
    }

    #[test]
    fn a_zero_ttl_caches_nothing() {
        let cache = TokenCache::new(Duration::ZERO);
        cache.remember("t1", verified("s3cret", false));
        assert_eq!(cache.lookup("t1", "s3cret"), Cached::Ask);
    }

    #[test]
    fn stays_bounded() {
        let cache = TokenCache::new(Duration::from_secs(60));
        for i in 0..MAX_ENTRIES + 5 {
            cache.remember(&format!("t{i}"), verified("s", false));
        }
        let size = cache.entries.lock().unwrap().len();
        assert!(size <= MAX_ENTRIES, "{size} entries");
    }
}
