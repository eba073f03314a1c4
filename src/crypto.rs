//! Secrets at rest (target and source credentials, subscription secrets):
//! XChaCha20-Poly1305 under the configured key, a random 192-bit nonce per
//! seal, and the owner's id as associated data so a ciphertext cannot be
//! moved to another row.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use serde::Deserialize;

const NONCE_LEN: usize = 24;

/// A 256-bit key whose `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(pub [u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(redacted)")
    }
}

impl std::str::FromStr for SecretKey {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bytes = hex::decode(s)
            .ok()
            .filter(|b| b.len() == 32)
            .or_else(|| STANDARD.decode(s).ok())
            .ok_or("expected 32 bytes as 64 hex digits or base64")?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "expected 32 bytes as 64 hex digits or base64")?;
        Ok(SecretKey(key))
    }
}

impl<'de> Deserialize<'de> for SecretKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("encryption failed")]
    Seal,
    /// Wrong key, another target's row, or tampering: indistinguishable by design.
    #[error("stored credentials cannot be decrypted with the configured SCIMHUB_SECRET_KEY")]
    Open,
}

pub fn seal(key: &SecretKey, plaintext: &[u8], aad: &str) -> Result<String, CryptoError> {
    let cipher = XChaCha20Poly1305::new((&key.0).into());
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    let sealed = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| CryptoError::Seal)?;
    let mut out = nonce.to_vec();
    out.extend(sealed);
    Ok(STANDARD.encode(out))
}

pub fn open(key: &SecretKey, sealed: &str, aad: &str) -> Result<Vec<u8>, CryptoError> {
    let bytes = STANDARD.decode(sealed).map_err(|_| CryptoError::Open)?;
    if bytes.len() < NONCE_LEN {
        return Err(CryptoError::Open);
    }
    let (nonce, body) = bytes.split_at(NONCE_LEN);
    XChaCha20Poly1305::new((&key.0).into())
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| CryptoError::Open)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_wrong_key_target_or_tampering() {
        let key = SecretKey([7; 32]);
        let sealed = seal(&key, b"s3cret", "t1").unwrap();
        assert!(!sealed.contains("s3cret"));
        assert_ne!(sealed, seal(&key, b"s3cret", "t1").unwrap(), "fresh nonce");
        assert_eq!(open(&key, &sealed, "t1").unwrap(), b"s3cret");
        assert_eq!(
            open(&SecretKey([8; 32]), &sealed, "t1"),
            Err(CryptoError::Open)
        );
        assert_eq!(open(&key, &sealed, "t2"), Err(CryptoError::Open));
        let mut bytes = STANDARD.decode(&sealed).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(
            open(&key, &STANDARD.encode(bytes), "t1"),
            Err(CryptoError::Open)
        );
        assert_eq!(open(&key, "AAAA", "t1"), Err(CryptoError::Open));
    }

    #[test]
    fn keys_parse_from_hex_or_base64_and_never_print() {
        let hex: SecretKey = "00".repeat(32).parse().unwrap();
        let b64: SecretKey = STANDARD.encode([0u8; 32]).parse().unwrap();
        assert_eq!(hex, b64);
        assert!("abcd".parse::<SecretKey>().is_err());
        assert_eq!(format!("{hex:?}"), "SecretKey(redacted)");
    }
}
