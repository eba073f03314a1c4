//! API tokens: `scimhub_<id>_<secret>`. The id finds the row; only a SHA-256
//! of the 256-bit random secret is stored and it is compared in constant time.
//! A fast hash is right here: the secret has full entropy, so there is nothing
//! for a slow password hash (argon2) to protect against, and verifying must
//! stay cheap on every request.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::AppError;
use crate::scim::ScimError;
use crate::store::{Actor, AuditEvent, NewToken, Store, TokenRecord};
use crate::telemetry::AUDIT;

pub const SCOPE_READ: &str = "scim:read";
pub const SCOPE_WRITE: &str = "scim:write";
pub const SCOPE_ADMIN: &str = "admin";
pub const ALL_SCOPES: [&str; 3] = [SCOPE_READ, SCOPE_WRITE, SCOPE_ADMIN];

const PREFIX: &str = "scimhub_";
const ID_BYTES: usize = 8;
const SECRET_BYTES: usize = 32;

/// A presented token split into its lookup id and its secret.
#[derive(Debug, PartialEq, Eq)]
pub struct TokenParts<'a> {
    pub id: &'a str,
    pub secret: &'a str,
}

pub fn parse(token: &str) -> Option<TokenParts<'_>> {
    let rest = token.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let id_ok = id.len() == ID_BYTES * 2 && id.bytes().all(|b| b.is_ascii_hexdigit());
    let secret_ok = !secret.is_empty() && secret.len() <= 64;
    (id_ok && secret_ok).then_some(TokenParts { id, secret })
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Constant-time comparison of a presented secret with a stored hash.
pub fn secret_matches(secret: &str, stored_hash: &str) -> bool {
    hash_secret(secret)
        .as_bytes()
        .ct_eq(stored_hash.as_bytes())
        .into()
}

/// A stored hash (`hash_secret`) as the digest bytes; None if malformed.
pub fn digest_of_hash(stored_hash: &str) -> Option<[u8; 32]> {
    let mut digest = [0u8; 32];
    hex::decode_to_slice(stored_hash, &mut digest).ok()?;
    Some(digest)
}

/// `secret_matches` against the digest bytes: no hex text per check.
pub fn digest_matches(secret: &str, digest: &[u8; 32]) -> bool {
    Sha256::digest(secret.as_bytes())
        .as_slice()
        .ct_eq(digest)
        .into()
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@".contains(&b))
}

/// Parses `scim:read,scim:write` into a checked, de-duplicated list.
pub fn parse_scopes(list: &str) -> Result<Vec<String>, AppError> {
    let mut scopes: Vec<String> = Vec::new();
    for s in list
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if !ALL_SCOPES.contains(&s) {
            return Err(ScimError::invalid_value(format!(
                "unknown scope \"{s}\"; known scopes: {}",
                ALL_SCOPES.join(", ")
            ))
            .into());
        }
        if !scopes.iter().any(|x| x == s) {
            scopes.push(s.to_string());
        }
    }
    if scopes.is_empty() {
        return Err(ScimError::invalid_value("a token needs at least one scope").into());
    }
    Ok(scopes)
}

/// Creates a token as the system itself (benchmarks, test set-up) and
/// returns its one and only cleartext copy.
pub fn create(
    store: &dyn Store,
    name: &str,
    scopes: Vec<String>,
    user_id: Option<String>,
) -> Result<String, AppError> {
    create_by(store, &Actor::system("system"), name, scopes, user_id).map(|(_, token)| token)
}

/// Creates a token on behalf of `actor`; returns its id and its one and only
/// cleartext copy.
pub fn create_by(
    store: &dyn Store,
    actor: &Actor,
    name: &str,
    scopes: Vec<String>,
    user_id: Option<String>,
) -> Result<(String, String), AppError> {
    if !valid_name(name) {
        return Err(ScimError::invalid_value(
            "a token name is 1-64 characters of letters, digits, '.', '_', '-' or '@'",
        )
        .into());
    }
    let mut rng = rand::rng();
    let mut id = [0u8; ID_BYTES];
    let mut secret = [0u8; SECRET_BYTES];
    rng.fill_bytes(&mut id);
    rng.fill_bytes(&mut secret);
    let id = hex::encode(id);
    let secret = URL_SAFE_NO_PAD.encode(secret);
    store.create_token(NewToken {
        id: id.clone(),
        name: name.to_string(),
        secret_hash: hash_secret(&secret),
        scopes: scopes.clone(),
        user_id,
    })?;
    tracing::info!(target: AUDIT, operation = "token.create", token = name, scopes = %scopes.join(" "), actor = %actor.name);
    store.record_audit(AuditEvent {
        event: "token.create".into(),
        actor: actor.clone(),
        detail: Some(format!("token {name:?} with scopes {}", scopes.join(" "))),
    })?;
    let token = format!("{PREFIX}{id}_{secret}");
    Ok((id, token))
}

pub fn list(store: &dyn Store) -> Result<Vec<TokenRecord>, AppError> {
    Ok(store.list_tokens()?)
}

/// Revokes the live token with this name on behalf of `actor` (the CLI).
pub fn revoke(store: &dyn Store, actor: &Actor, name: &str) -> Result<(), AppError> {
    if !store.revoke_token(name)? {
        return Err(ScimError::not_found(format!("no live token named \"{name}\"")).into());
    }
    tracing::info!(target: AUDIT, operation = "token.revoke", token = name, actor = %actor.name);
    store.record_audit(AuditEvent {
        event: "token.revoke".into(),
        actor: actor.clone(),
        detail: Some(format!("token {name:?}")),
    })?;
    Ok(())
}

/// Revokes the live token with this id on behalf of `actor`.
pub fn revoke_id(store: &dyn Store, actor: &Actor, id: &str) -> Result<(), AppError> {
    if !store.revoke_token_id(id)? {
        return Err(ScimError::not_found(format!("no live token with id \"{id}\"")).into());
    }
    let name = store.find_token(id)?.map(|t| t.name).unwrap_or_default();
    tracing::info!(target: AUDIT, operation = "token.revoke", token = %name, token_id = id, actor = %actor.name);
    store.record_audit(AuditEvent {
        event: "token.revoke".into(),
        actor: actor.clone(),
        detail: Some(format!("token {name:?} (id {id})")),
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_format_round_trips() {
        let parts = parse("scimhub_0123456789abcdef_c2VjcmV0_with-underscore").unwrap();
        assert_eq!(parts.id, "0123456789abcdef");
        assert_eq!(parts.secret, "c2VjcmV0_with-underscore");
        assert!(parse("scimhub_xyz_secret").is_none());
        assert!(parse("Bearer abc").is_none());
        assert!(parse("scimhub_0123456789abcdef_").is_none());
    }

    #[test]
    fn secrets_compare_by_hash() {
        let h = hash_secret("abc");
        assert!(secret_matches("abc", &h));
        assert!(!secret_matches("abd", &h));
        let digest = digest_of_hash(&h).unwrap();
        assert!(digest_matches("abc", &digest));
        assert!(!digest_matches("abd", &digest));
        assert_eq!(digest_of_hash("not hex"), None);
    }

    #[test]
    fn scopes_are_checked() {
        assert_eq!(
            parse_scopes("scim:read, scim:read").unwrap(),
            vec!["scim:read"]
        );
        assert!(parse_scopes("scim:root").is_err());
        assert!(parse_scopes("").is_err());
    }
}
