//! The key that signs SCIM events: read once from `events.signing_key_file`
//! (RSA → RS256, EC P-256 → ES256), its public half published as a JWKS.

use anyhow::Context;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::Value;

use crate::settings::ScimEventsConfig;

/// The media type of a SET (RFC 8417 §2.3), also its JWS `typ`.
pub const SET_MEDIA_TYPE: &str = "application/secevent+jwt";

pub struct SetSigner {
    key: EncodingKey,
    header: Header,
    jwks: JwkSet,
}

impl std::fmt::Debug for SetSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetSigner")
            .field("alg", &self.header.alg)
            .field("kid", &self.header.kid)
            .finish_non_exhaustive()
    }
}

impl SetSigner {
    /// The configured signer; `None` when no key is configured. A key that
    /// cannot be read or used stops start-up with the key's name.
    pub fn load(settings: &ScimEventsConfig) -> anyhow::Result<Option<Self>> {
        let Some(path) = &settings.signing_key_file else {
            return Ok(None);
        };
        let what = || format!("events.signing_key_file (SCIMHUB_EVENTS_SIGNING_KEY_FILE) {path}");
        let pem = std::fs::read(path).with_context(|| format!("{}: cannot read it", what()))?;
        let signer = Self::from_pem(&pem, settings.kid.as_deref())
            .map_err(|e| anyhow::anyhow!("{}: {e}", what()))?;
        Ok(Some(signer))
    }

    /// A signer for a PEM private key; `kid` defaults to the RFC 7638
    /// thumbprint of its public key.
    pub fn from_pem(pem: &[u8], kid: Option<&str>) -> Result<Self, String> {
        let (key, alg) = if let Ok(key) = EncodingKey::from_rsa_pem(pem) {
            (key, Algorithm::RS256)
        } else if let Ok(key) = EncodingKey::from_ec_pem(pem) {
            (key, Algorithm::ES256)
        } else {
            return Err(
                "not a PEM private key scimhub can sign with: expected an RSA key (PKCS#1 or \
                 PKCS#8) for RS256 or an EC P-256 key (PKCS#8) for ES256"
                    .into(),
            );
        };
        let mut jwk = Jwk::from_encoding_key(&key, alg).map_err(|e| {
            format!("its public key cannot be derived ({e}); for ES256 the curve must be P-256")
        })?;
        let kid = match kid {
            Some(kid) => kid.to_string(),
            None => jwk
                .thumbprint(ThumbprintHash::SHA256)
                .map_err(|e| format!("no thumbprint for its key: {e}"))?,
        };
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        let mut header = Header::new(alg);
        header.typ = Some("secevent+jwt".into());
        header.kid = Some(kid);
        let signer = Self {
            key,
            header,
            jwks: JwkSet { keys: vec![jwk] },
        };
        // A key of the right family that still cannot sign (e.g. an EC key on
        // another curve) is refused now rather than at the first event.
        signer
            .sign(&serde_json::json!({"probe": true}))
            .map_err(|e| {
                format!("it cannot sign {alg:?} ({e}); for ES256 the curve must be P-256")
            })?;
        Ok(signer)
    }

    /// A compact JWS of `claims`.
    pub fn sign(&self, claims: &Value) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(&self.header, claims, &self.key)
    }

    pub fn algorithm(&self) -> Algorithm {
        self.header.alg
    }

    pub fn kid(&self) -> &str {
        self.header.kid.as_deref().unwrap_or_default()
    }

    /// The public key, as `GET /.well-known/jwks.json` answers.
    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};

    use super::*;

    fn ec_pem() -> String {
        rcgen::KeyPair::generate().unwrap().serialize_pem()
    }

    #[test]
    fn an_ec_key_signs_es256_verifiable_with_the_published_jwk() {
        let signer = SetSigner::from_pem(ec_pem().as_bytes(), None).unwrap();
        assert_eq!(signer.algorithm(), Algorithm::ES256);
        let jws = signer
            .sign(&serde_json::json!({"jti": "a", "aud": "r"}))
            .unwrap();
        let header = decode_header(&jws).unwrap();
        assert_eq!(header.typ.as_deref(), Some("secevent+jwt"));
        assert_eq!(header.kid.as_deref(), Some(signer.kid()));
        let jwk = signer.jwks().find(signer.kid()).unwrap();
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&["r"]);
        validation.set_required_spec_claims::<&str>(&[]);
        let verified =
            decode::<Value>(&jws, &DecodingKey::from_jwk(jwk).unwrap(), &validation).unwrap();
        assert_eq!(verified.claims["jti"], "a");
        let other = SetSigner::from_pem(ec_pem().as_bytes(), Some("other")).unwrap();
        let other_key = DecodingKey::from_jwk(&other.jwks().keys[0]).unwrap();
        assert!(decode::<Value>(&jws, &other_key, &validation).is_err());
        assert_eq!(other.kid(), "other");
        let public = serde_json::to_value(other.jwks()).unwrap();
        assert!(public["keys"][0].get("d").is_none(), "no private part");
    }

    #[test]
    fn what_is_not_a_usable_private_key_is_refused() {
        for pem in [
            "not a key".to_string(),
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".to_string(),
            rcgen::KeyPair::generate().unwrap().public_key_pem(),
        ] {
            let err = SetSigner::from_pem(pem.as_bytes(), None).unwrap_err();
            assert!(err.contains("RS256") || err.contains("P-256"), "{err}");
        }
        let missing = ScimEventsConfig {
            signing_key_file: Some("/no/such/key.pem".into()),
            ..ScimEventsConfig::default()
        };
        let err = format!("{:#}", SetSigner::load(&missing).unwrap_err());
        assert!(
            err.contains("events.signing_key_file") && err.contains("/no/such/key.pem"),
            "{err}"
        );
        assert!(
            SetSigner::load(&ScimEventsConfig::default())
                .unwrap()
                .is_none()
        );
    }
}
