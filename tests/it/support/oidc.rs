//! A minimal OpenID Connect provider on loopback, for the console's
//! external sign-in: discovery, an authorization endpoint that signs in
//! whoever the test says (no login form), a token endpoint that checks the
//! client secret, the redirect URI and the PKCE verifier, and a JWKS with
//! the RS256 key its ID tokens are signed with.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::jwt::{Keys, keys, now};

pub const CLIENT_ID: &str = "scimhub-console";
pub const CLIENT_SECRET: &str = "test-client-secret";

/// Who signs in at the provider next.
#[derive(Debug, Clone)]
pub struct Person {
    pub sub: String,
    pub email: String,
    pub groups: Vec<String>,
}

/// A way the provider misbehaves, to prove the console checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    WrongNonce,
    WrongAudience,
    Expired,
}

struct Grant {
    person: Person,
    nonce: String,
    challenge: String,
    redirect_uri: String,
}

#[derive(Default)]
struct State {
    person: Option<Person>,
    tamper: Option<Tamper>,
    grants: HashMap<String, Grant>,
    /// What the console sent to `/authorize`, last time.
    last_authorize: HashMap<String, String>,
    codes_redeemed: usize,
    discovery_fetches: usize,
    /// After `rotate_keys`: the key ID tokens are signed with now (`k2`),
    /// listed beside the first one; and its modulus.
    rotated: Option<(Keys, String)>,
}

struct Shared {
    issuer: String,
    keys: Keys,
    modulus: String,
    state: Mutex<State>,
}

pub struct Provider {
    pub issuer: String,
    shared: Arc<Shared>,
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
}

/// The RSA modulus of the public key, base64url (for the JWK).
fn modulus(keys: &Keys) -> String {
    let out = std::process::Command::new("openssl")
        .args([
            "rsa",
            "-pubin",
            "-noout",
            "-modulus",
            "-in",
            &keys.public_path,
        ])
        .output()
        .expect("openssl rsa");
    let text = String::from_utf8_lossy(&out.stdout);
    let hex_digits = text.trim().trim_start_matches("Modulus=");
    URL_SAFE_NO_PAD.encode(hex::decode(hex_digits).expect("hex modulus"))
}

fn pairs(text: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

async fn discovery(shared: web::Data<Shared>) -> HttpResponse {
    shared.state.lock().unwrap().discovery_fetches += 1;
    let i = &shared.issuer;
    HttpResponse::Ok().json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "jwks_uri": format!("{i}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

fn jwk(kid: &str, modulus: &str) -> Value {
    json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": modulus, "e": "AQAB"})
}

async fn jwks(shared: web::Data<Shared>) -> HttpResponse {
    let mut keys = vec![jwk("k1", &shared.modulus)];
    if let Some((_, modulus)) = &shared.state.lock().unwrap().rotated {
        keys.push(jwk("k2", modulus));
    }
    HttpResponse::Ok().json(json!({ "keys": keys }))
}

async fn authorize(shared: web::Data<Shared>, req: HttpRequest) -> HttpResponse {
    let q = pairs(req.query_string());
    let mut state = shared.state.lock().unwrap();
    state.last_authorize = q.clone();
    let redirect = q.get("redirect_uri").cloned().unwrap_or_default();
    let back = |params: &[(&str, &str)]| {
        let mut url = url::Url::parse(&redirect).unwrap();
        url.query_pairs_mut().extend_pairs(params);
        HttpResponse::Found()
            .insert_header(("location", url.to_string()))
            .finish()
    };
    let given_state = q.get("state").cloned().unwrap_or_default();
    let ok = q.get("client_id").map(String::as_str) == Some(CLIENT_ID)
        && q.get("response_type").map(String::as_str) == Some("code")
        && q.get("code_challenge_method").map(String::as_str) == Some("S256")
        && q.get("scope")
            .is_some_and(|s| s.split(' ').any(|x| x == "openid"));
    let Some(person) = state.person.clone().filter(|_| ok) else {
        return back(&[("error", "access_denied"), ("state", &given_state)]);
    };
    let code = uuid::Uuid::new_v4().simple().to_string();
    state.grants.insert(
        code.clone(),
        Grant {
            person,
            nonce: q.get("nonce").cloned().unwrap_or_default(),
            challenge: q.get("code_challenge").cloned().unwrap_or_default(),
            redirect_uri: redirect.clone(),
        },
    );
    back(&[("code", &code), ("state", &given_state)])
}

fn invalid(what: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({"error": "invalid_grant", "error_description": what}))
}

async fn token(shared: web::Data<Shared>, req: HttpRequest, body: String) -> HttpResponse {
    let expected = format!(
        "Basic {}",
        STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    if auth != Some(expected.as_str()) {
        return HttpResponse::Unauthorized().json(json!({"error": "invalid_client"}));
    }
    let form = pairs(&body);
    let mut state = shared.state.lock().unwrap();
    let Some(grant) = form.get("code").and_then(|c| state.grants.remove(c)) else {
        return invalid("unknown or used code");
    };
    if form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return invalid("redirect_uri differs");
    }
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != grant.challenge {
        return invalid("PKCE verifier does not match");
    }
    state.codes_redeemed += 1;
    let tamper = state.tamper;
    let mut claims = json!({
        "iss": shared.issuer,
        "aud": if tamper == Some(Tamper::WrongAudience) { "someone-else" } else { CLIENT_ID },
        "sub": grant.person.sub,
        "email": grant.person.email,
        "groups": grant.person.groups,
        "iat": now(),
        "exp": if tamper == Some(Tamper::Expired) { now() - 3600 } else { now() + 300 },
        "nonce": if tamper == Some(Tamper::WrongNonce) { "not-yours".to_string() } else { grant.nonce },
    });
    if let Value::Object(map) = &mut claims {
        map.retain(|_, v| !v.is_null());
    }
    let mut header = Header::new(Algorithm::RS256);
    let private = match &state.rotated {
        Some((keys, _)) => {
            header.kid = Some("k2".into());
            &keys.private_pem
        }
        None => {
            header.kid = Some("k1".into());
            &shared.keys.private_pem
        }
    };
    let id_token = encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_pem(private).unwrap(),
    )
    .unwrap();
    HttpResponse::Ok().json(json!({
        "access_token": "opaque-access-token", "token_type": "Bearer", "expires_in": 300,
        "id_token": id_token,
    }))
}

impl Provider {
    pub fn start() -> Provider {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let keys = keys();
        let shared = Arc::new(Shared {
            modulus: modulus(&keys),
            issuer: issuer.clone(),
            keys,
            state: Mutex::new(State::default()),
        });
        let data = web::Data::from(shared.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .route(
                            "/.well-known/openid-configuration",
                            web::get().to(discovery),
                        )
                        .route("/jwks", web::get().to(jwks))
                        .route("/authorize", web::get().to(authorize))
                        .route("/token", web::post().to(token))
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
        Provider {
            issuer,
            shared,
            handle,
            thread: Some(thread),
        }
    }

    /// The person the provider signs in next (None: it refuses).
    pub fn sign_in_as(&self, person: Option<Person>) {
        self.shared.state.lock().unwrap().person = person;
    }

    pub fn tamper(&self, tamper: Option<Tamper>) {
        self.shared.state.lock().unwrap().tamper = tamper;
    }

    /// The query of the last `/authorize` request.
    pub fn last_authorize(&self) -> HashMap<String, String> {
        self.shared.state.lock().unwrap().last_authorize.clone()
    }

    pub fn codes_redeemed(&self) -> usize {
        self.shared.state.lock().unwrap().codes_redeemed
    }

    /// How often the discovery document was fetched.
    pub fn discovery_fetches(&self) -> usize {
        self.shared.state.lock().unwrap().discovery_fetches
    }

    /// Signs ID tokens with a new key from now on (listed beside the old one).
    pub fn rotate_keys(&self) {
        let keys = keys();
        let modulus = modulus(&keys);
        self.shared.state.lock().unwrap().rotated = Some((keys, modulus));
    }

    /// The console's `[console.oidc]` for this provider.
    pub fn config(&self, console_base: &str) -> scimhub::config::OidcConfig {
        scimhub::config::OidcConfig {
            issuer: self.issuer.clone(),
            client_id: CLIENT_ID.into(),
            client_secret: Some(CLIENT_SECRET.into()),
            redirect_url: format!("{console_base}/console/oidc/callback"),
            name: "Test IdP".into(),
            allowed_subjects: vec!["alice-sub".into()],
            allowed_groups: vec!["scimhub-admins".into()],
            ..Default::default()
        }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
