//! SCIM events in tests: signing keys for `[events]`, poll subscriptions,
//! and a SET receiver (an actix server on loopback) that verifies every
//! pushed SET against the hub's published JWKS with a JOSE library.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Header, Validation, decode, decode_header};
use reqwest::Method;
use scimhub::config::Config;
use scimhub::crypto::SecretKey;
use serde_json::{Value, json};

use super::TestApp;

/// A PEM private key in a file, for `events.signing_key_file`.
#[derive(Clone)]
pub struct SigningKey {
    pub path: String,
    _dir: Arc<tempfile::TempDir>,
}

impl SigningKey {
    fn in_file(pem: Vec<u8>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events-key.pem");
        std::fs::write(&path, &pem).unwrap();
        SigningKey {
            path: path.display().to_string(),
            _dir: Arc::new(dir),
        }
    }

    /// An EC P-256 key (ES256).
    pub fn ec() -> Self {
        Self::in_file(
            rcgen::KeyPair::generate()
                .unwrap()
                .serialize_pem()
                .into_bytes(),
        )
    }

    /// An RSA key (RS256), made by openssl like the JWT tests' keys.
    pub fn rsa() -> Self {
        Self::in_file(super::jwt::keys().private_pem)
    }

    /// Signs events with this key (and seals secrets with a test key).
    pub fn configure(&self, config: &mut Config) {
        config.events.signing_key_file = Some(self.path.clone());
        config.secret_key.get_or_insert(SecretKey([7; 32]));
    }
}

/// Adds a poll subscription of SCIM events over the admin API; its id and
/// (generated) secret.
pub async fn add_poll_subscription(app: &TestApp, name: &str, mode: &str) -> (String, String) {
    let admin = app.token_with(&format!("{name}-admin"), &["admin"]);
    let body = json!({"name": name, "format": "set", "delivery": "poll", "mode": mode});
    let r = app
        .send(
            Method::POST,
            "/admin/v1/subscriptions",
            Some(&admin),
            Some(body.to_string().into_bytes()),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["pollPath"], format!("/events/v1/poll/{id}"));
    (id, r.body["secret"].as_str().unwrap().to_string())
}

/// The hub's published signing keys (no credential needed).
pub async fn jwks(base: &str) -> JwkSet {
    let r = reqwest::get(format!("{base}/.well-known/jwks.json"))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/jwk-set+json"
    );
    r.json().await.unwrap()
}

/// A SET checked against `jwks`: header and claims, or why it failed.
pub fn verify(
    jwks: &JwkSet,
    jws: &str,
    issuer: &str,
    audience: &str,
) -> Result<(Header, Value), String> {
    let header = decode_header(jws).map_err(|e| format!("header: {e}"))?;
    let kid = header.kid.clone().ok_or("no kid")?;
    let jwk = jwks
        .find(&kid)
        .ok_or_else(|| format!("no key {kid} in the JWKS"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("key: {e}"))?;
    let mut validation = Validation::new(header.alg);
    // A SET has no `exp` (RFC 8417 §2.2); iss and aud must be right.
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["iss", "aud"]);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    let claims = decode::<Value>(jws, &key, &validation)
        .map_err(|e| format!("signature or claims: {e}"))?
        .claims;
    if header.typ.as_deref() != Some("secevent+jwt") {
        return Err(format!("typ {:?}", header.typ));
    }
    Ok((header, claims))
}

/// How the receiver answers the next SETs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Accept,
    /// A transient failure with this status.
    Fail(u16),
    /// RFC 8935 §2.3: 400 with this `err`.
    Reject(&'static str),
}

struct Shared {
    url: String,
    issuer: String,
    secret: String,
    jwks: JwkSet,
    answer: Mutex<Answer>,
    /// Verified and accepted SETs, in arrival order.
    accepted: Mutex<Vec<Value>>,
    /// Requests that failed verification (they must never happen).
    bad: Mutex<Vec<String>>,
    attempts: Mutex<u32>,
}

/// An RFC 8935 receiver: checks the media type, the sender's bearer
/// token and the SET's signature, `iss` and `aud` before it accepts.
pub struct SetReceiver {
    pub url: String,
    shared: Arc<Shared>,
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
}

async fn receive(shared: web::Data<Shared>, req: HttpRequest, body: String) -> HttpResponse {
    *shared.attempts.lock().unwrap() += 1;
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let mut problems = Vec::new();
    if header("content-type") != "application/secevent+jwt" {
        problems.push(format!("content-type {}", header("content-type")));
    }
    if header("authorization") != format!("Bearer {}", shared.secret) {
        problems.push("wrong bearer token".into());
    }
    let checked = verify(&shared.jwks, &body, &shared.issuer, &shared.url);
    let claims = match checked {
        Ok((_, claims)) if problems.is_empty() => claims,
        Ok(_) => {
            shared.bad.lock().unwrap().extend(problems);
            return HttpResponse::Unauthorized().finish();
        }
        Err(e) => {
            shared.bad.lock().unwrap().push(e.clone());
            return HttpResponse::BadRequest()
                .json(json!({"err": "invalid_key", "description": e}));
        }
    };
    let answer = *shared.answer.lock().unwrap();
    match answer {
        Answer::Accept => {
            shared.accepted.lock().unwrap().push(claims);
            HttpResponse::Accepted().finish()
        }
        Answer::Fail(status) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
        }
        Answer::Reject(err) => HttpResponse::BadRequest()
            .json(json!({"err": err, "description": "the receiver refuses this SET for now"})),
    }
}

impl SetReceiver {
    /// Listens on a free loopback port; SETs must come from `issuer`, be
    /// signed by a key in `jwks` and carry `secret` as bearer token.
    pub fn start(issuer: &str, secret: &str, jwks: JwkSet) -> SetReceiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/set", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            url: url.clone(),
            issuer: issuer.to_string(),
            secret: secret.to_string(),
            jwks,
            answer: Mutex::new(Answer::Accept),
            accepted: Mutex::new(Vec::new()),
            bad: Mutex::new(Vec::new()),
            attempts: Mutex::new(0),
        });
        let data = web::Data::from(shared.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .route("/set", web::post().to(receive))
                })
                .workers(1)
                .listen(listener)
                .unwrap()
                .run();
                tx.send(server.handle()).unwrap();
                let _ = server.await;
            });
        });
        let handle = rx.recv().unwrap();
        SetReceiver {
            url,
            shared,
            handle,
            thread: Some(thread),
        }
    }

    pub fn answer(&self, answer: Answer) {
        *self.shared.answer.lock().unwrap() = answer;
    }

    /// The accepted SETs' claims, in arrival order.
    pub fn accepted(&self) -> Vec<Value> {
        self.shared.accepted.lock().unwrap().clone()
    }

    pub fn attempts(&self) -> u32 {
        *self.shared.attempts.lock().unwrap()
    }

    /// Requests that failed verification: none, ever.
    #[track_caller]
    pub fn assert_all_verified(&self) {
        let bad = self.shared.bad.lock().unwrap();
        assert!(bad.is_empty(), "unverifiable requests: {bad:?}");
    }
}

impl Drop for SetReceiver {
    fn drop(&mut self) {
        // The stop command is sent at call time; the server thread then exits.
        drop(self.handle.stop(false));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The event URIs of a SET, in order.
pub fn event_uris(claims: &Value) -> Vec<String> {
    claims["events"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}
