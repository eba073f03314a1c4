//! Webhook signatures: `v1=` hex HMAC-SHA256 over `"<timestamp>.<body>"`,
//! so a captured request cannot be replayed with a new timestamp and the
//! receiver can refuse old ones.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const TIMESTAMP_HEADER: &str = "X-Scimhub-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Scimhub-Signature";
pub const EVENT_HEADER: &str = "X-Scimhub-Event";
pub const DELIVERY_HEADER: &str = "X-Scimhub-Delivery";

const VERSION: &str = "v1=";

/// The `X-Scimhub-Signature` value for `body` sent at `timestamp` (unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!(
        "{VERSION}{}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the timestamp is not a number of seconds")]
    BadTimestamp,
    #[error("the timestamp is outside the allowed tolerance")]
    Stale,
    #[error("the signature does not match")]
    Mismatch,
}

/// What a receiver does: checks the timestamp is within `tolerance_secs`
/// of `now` and the signature matches (constant-time compare).
pub fn verify(
    secret: &[u8],
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::BadTimestamp)?;
    if (now - ts).abs() > tolerance_secs {
        return Err(VerifyError::Stale);
    }
    let given = signature
        .trim()
        .strip_prefix(VERSION)
        .and_then(|h| hex::decode(h).ok())
        .ok_or(VerifyError::Mismatch)?;
    mac(secret, ts, body)
        .verify_slice(&given)
        .map_err(|_| VerifyError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_790_000_000;

    #[test]
    fn a_signature_verifies_with_its_secret_body_and_time() {
        let sig = sign(b"s3cret", NOW, br#"{"a":1}"#);
        assert!(sig.starts_with("v1=") && sig.len() == 3 + 64, "{sig}");
        assert_eq!(
            verify(
                b"s3cret",
                &NOW.to_string(),
                &sig,
                br#"{"a":1}"#,
                NOW + 10,
                300
            ),
            Ok(())
        );
    }

    #[test]
    fn a_known_vector_matches_openssl() {
        // printf '1790000000.{"a":1}' | openssl dgst -sha256 -hmac key
        assert_eq!(
            sign(b"key", NOW, br#"{"a":1}"#),
            "v1=7a4d26944722100249410c8c7f2e76c3cc6e9735fcc98b39e44a122da5490ffc"
        );
    }

    #[test]
    fn verify_refuses_a_wrong_secret_a_changed_body_or_an_old_timestamp() {
        let body = br#"{"event":"x"}"#;
        let sig = sign(b"right", NOW, body);
        let ts = NOW.to_string();
        assert_eq!(
            verify(b"wrong", &ts, &sig, body, NOW, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(b"right", &ts, &sig, br#"{"event":"y"}"#, NOW, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(b"right", &ts, &sig, body, NOW + 301, 300),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            verify(b"right", &ts, &sig, body, NOW - 301, 300),
            Err(VerifyError::Stale)
        );
        // The timestamp is signed: moving it breaks the signature.
        let moved = (NOW + 1).to_string();
        assert_eq!(
            verify(b"right", &moved, &sig, body, NOW, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(b"right", "soon", &sig, body, NOW, 300),
            Err(VerifyError::BadTimestamp)
        );
        assert_eq!(
            verify(b"right", &ts, "v0=abc", body, NOW, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(b"right", &ts, "v1=zz", body, NOW, 300),
            Err(VerifyError::Mismatch)
        );
    }
}
