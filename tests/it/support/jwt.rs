//! Signing keys and JWTs for the external-JWT tests.

use std::process::Command;

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

pub const RSA_ISSUER: &str = "https://idp.example.test";
pub const HMAC_ISSUER: &str = "https://scripts.example.test";

pub struct Keys {
    _dir: tempfile::TempDir,
    pub private_pem: Vec<u8>,
    pub public_pem: Vec<u8>,
    pub public_path: String,
    pub secret_path: String,
}

pub fn keys() -> Keys {
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("private.pem");
    let public = dir.path().join("public.pem");
    let ok = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&private)
        .output()
        .unwrap()
        .status
        .success();
    assert!(ok, "openssl genpkey");
    let ok = Command::new("openssl")
        .arg("pkey")
        .arg("-in")
        .arg(&private)
        .arg("-pubout")
        .arg("-out")
        .arg(&public)
        .status()
        .unwrap()
        .success();
    assert!(ok, "openssl pkey");
    let secret = dir.path().join("hmac.secret");
    std::fs::write(&secret, "a-long-random-hmac-secret-for-tests-only\n").unwrap();
    Keys {
        private_pem: std::fs::read(&private).unwrap(),
        public_pem: std::fs::read(&public).unwrap(),
        public_path: public.display().to_string(),
        secret_path: secret.display().to_string(),
        _dir: dir,
    }
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub fn claims(iss: &str, aud: &str, sub: &str, exp: i64, extra: Value) -> Value {
    let mut c = json!({"iss": iss, "aud": aud, "sub": sub, "exp": exp, "iat": now()});
    if let (Some(map), Value::Object(more)) = (c.as_object_mut(), extra) {
        map.extend(more);
    }
    c
}

pub fn rs256(keys: &Keys, claims: &Value) -> String {
    encode(
        &Header::new(Algorithm::RS256),
        claims,
        &EncodingKey::from_rsa_pem(&keys.private_pem).unwrap(),
    )
    .unwrap()
}

pub fn hs256(secret: &[u8], claims: &Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

/// An unsigned token (`alg: none`) with these claims.
pub fn alg_none(claims: &Value) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let head = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
    format!("{head}.{}.", b64.encode(claims.to_string()))
}

/// The RS256 issuer trusted for audience `scimhub`.
pub fn rsa_issuer(keys: &Keys) -> scimhub::config::JwtIssuerConfig {
    scimhub::config::JwtIssuerConfig {
        issuer: RSA_ISSUER.into(),
        audiences: vec!["scimhub".into()],
        algorithms: vec!["RS256".into()],
        key_files: vec![keys.public_path.clone()],
        jwks_file: None,
        secret_env: None,
        secret_file: None,
        leeway_secs: 5,
        subject: None,
    }
}
