//! External JWT bearer tokens from configured trusted issuers. Each issuer
//! has its audiences, allowed algorithms and keys (PEM public keys, a JWKS
//! file, or an HS256 secret). `alg: none`, algorithms outside the issuer's
//! list and key-family confusion are refused by construction: a token is
//! only checked with keys of the issuer it names, under that issuer's list.

use std::collections::HashSet;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;

use super::tokens::ALL_SCOPES;
use crate::config::JwtIssuerConfig;

/// How a verified token's `sub` names a User (for `/Me`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectIs {
    None,
    UserId,
    UserName,
    ExternalId,
}

struct Issuer {
    issuer: String,
    audiences: Vec<String>,
    algorithms: Vec<Algorithm>,
    keys: Vec<(Option<String>, DecodingKey)>,
    leeway_secs: u64,
    subject: SubjectIs,
}

/// A token that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedJwt {
    pub issuer: String,
    pub subject: String,
    pub scopes: Vec<String>,
    pub subject_is: SubjectIs,
}

#[derive(Clone, Default)]
pub struct JwtVerifier {
    issuers: std::sync::Arc<Vec<Issuer>>,
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    scp: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct IssuerOnly {
    iss: Option<String>,
}

fn read(path: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {path}: {e}"))
}

fn pem_key(alg: Algorithm, pem: &[u8]) -> anyhow::Result<DecodingKey> {
    use Algorithm::*;
    Ok(match alg {
        RS256 | RS384 | RS512 | PS256 | PS384 | PS512 => DecodingKey::from_rsa_pem(pem)?,
        ES256 | ES384 => DecodingKey::from_ec_pem(pem)?,
        EdDSA => DecodingKey::from_ed_pem(pem)?,
        other => anyhow::bail!("a PEM key cannot verify {other:?}"),
    })
}

impl JwtVerifier {
    /// Builds the verifier once at start-up; a bad issuer entry stops start-up.
    pub fn from_config(configs: &[JwtIssuerConfig]) -> anyhow::Result<Self> {
        let mut issuers = Vec::new();
        for c in configs {
            let algorithms = c
                .algorithms
                .iter()
                .map(|a| {
                    a.parse::<Algorithm>()
                        .map_err(|_| anyhow::anyhow!("unknown JWT algorithm {a:?}"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            anyhow::ensure!(
                !algorithms.is_empty(),
                "issuer {} lists no algorithms",
                c.issuer
            );
            anyhow::ensure!(
                !c.audiences.is_empty(),
                "issuer {} lists no audiences",
                c.issuer
            );
            let hmac = algorithms
                .iter()
                .any(|a| matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512));
            let asymmetric = algorithms
                .iter()
                .any(|a| !matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512));
            // Never mix families: a public key must not double as an HMAC secret.
            anyhow::ensure!(
                !(hmac && asymmetric),
                "issuer {} mixes HMAC and public-key algorithms",
                c.issuer
            );
            let mut keys = Vec::new();
            if hmac {
                let secret = c.hmac_secret()?.ok_or_else(|| {
                    anyhow::anyhow!("issuer {} needs secret_env or secret_file", c.issuer)
                })?;
                keys.push((None, DecodingKey::from_secret(secret.as_bytes())));
            } else {
                for path in &c.key_files {
                    keys.push((None, pem_key(algorithms[0], &read(path)?)?));
                }
                if let Some(path) = &c.jwks_file {
                    let set: JwkSet = serde_json::from_slice(&read(path)?)?;
                    for jwk in &set.keys {
                        keys.push((jwk.common.key_id.clone(), DecodingKey::from_jwk(jwk)?));
                    }
                }
                anyhow::ensure!(
                    !keys.is_empty(),
                    "issuer {} has no key_files or jwks_file",
                    c.issuer
                );
            }
            let subject = match c.subject.as_deref() {
                None | Some("none") => SubjectIs::None,
                Some("id") => SubjectIs::UserId,
                Some("userName") => SubjectIs::UserName,
                Some("externalId") => SubjectIs::ExternalId,
                Some(other) => anyhow::bail!(
                    "issuer {}: subject must be id, userName or externalId, not {other:?}",
                    c.issuer
                ),
            };
            issuers.push(Issuer {
                issuer: c.issuer.clone(),
                audiences: c.audiences.clone(),
                algorithms,
                keys,
                leeway_secs: c.leeway_secs,
                subject,
            });
        }
        Ok(Self {
            issuers: std::sync::Arc::new(issuers),
        })
    }

    pub fn is_enabled(&self) -> bool {
        !self.issuers.is_empty()
    }

    /// Verifies a compact JWS. None for any failure (the caller answers 401
    /// without saying which check failed).
    pub fn verify(&self, token: &str) -> Option<VerifiedJwt> {
        let header = decode_header(token).ok()?;
        // Which issuer to check against comes from the (not yet trusted)
        // `iss`; the signature check below is what makes it trusted.
        let claimed: IssuerOnly = jsonwebtoken::dangerous::insecure_decode(token).ok()?.claims;
        let issuer = self
            .issuers
            .iter()
            .find(|i| Some(&i.issuer) == claimed.iss.as_ref())?;
        if !issuer.algorithms.contains(&header.alg) {
            return None;
        }
        let mut validation = Validation::new(header.alg);
        validation.algorithms = vec![header.alg];
        validation.set_issuer(&[&issuer.issuer]);
        validation.set_audience(&issuer.audiences);
        validation.leeway = issuer.leeway_secs;
        validation.validate_nbf = true;
        validation.required_spec_claims = HashSet::from([
            "exp".to_string(),
            "iss".to_string(),
            "aud".to_string(),
            "sub".to_string(),
        ]);
        let candidates = issuer
            .keys
            .iter()
            .filter(|(kid, _)| kid.is_none() || header.kid.is_none() || *kid == header.kid);
        for (_, key) in candidates {
            if let Ok(data) = decode::<Claims>(token, key, &validation) {
                let claims = data.claims;
                return Some(VerifiedJwt {
                    issuer: claims.iss,
                    subject: claims.sub.unwrap_or_default(),
                    scopes: scopes(claims.scope.as_deref(), claims.scp.as_ref()),
                    subject_is: issuer.subject,
                });
            }
        }
        None
    }
}

/// `scope` (space-separated) or `scp` (array or string), kept to ours.
fn scopes(scope: Option<&str>, scp: Option<&serde_json::Value>) -> Vec<String> {
    let mut raw: Vec<String> = scope
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    match scp {
        Some(serde_json::Value::String(s)) => raw.extend(s.split_whitespace().map(str::to_string)),
        Some(serde_json::Value::Array(items)) => {
            raw.extend(items.iter().filter_map(|v| v.as_str().map(str::to_string)))
        }
        _ => {}
    }
    let mut out: Vec<String> = Vec::new();
    for s in raw {
        if ALL_SCOPES.contains(&s.as_str()) && !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scopes_come_from_scope_or_scp_and_unknown_ones_are_dropped() {
        assert_eq!(
            scopes(Some("scim:read openid admin"), None),
            vec!["scim:read", "admin"]
        );
        assert_eq!(
            scopes(None, Some(&json!(["scim:write", "x"]))),
            vec!["scim:write"]
        );
        assert_eq!(
            scopes(None, Some(&json!("scim:read scim:read"))),
            vec!["scim:read"]
        );
    }
}
