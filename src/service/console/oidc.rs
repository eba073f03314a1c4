//! Console sign-in with an external OpenID Connect provider: the
//! authorization code flow with PKCE (the `openidconnect` crate), the ID
//! token's signature, issuer, audience, expiry and nonce checked, and the
//! person let in when their subject or one of their groups is allowed.
//!
//! The sign-in under way is stored (`console_logins`), keyed by a hash of
//! a secret in a short-lived browser cookie: the callback may reach another
//! instance, and a callback without the browser that started it is refused.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdTokenClaims, CoreProviderMetadata,
};
use openidconnect::{
    AsyncHttpClient, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpRequest, HttpResponse, IssuerUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde_json::Value;
use subtle::ConstantTimeEq;

use super::{ConsoleAuth, SignedIn, new_secret};
use crate::config::OidcConfig;
use crate::error::{AppError, AuthError};
use crate::scim::ScimError;
use crate::service::{audit, blocking, tokens};
use crate::store::{Actor, ConsoleStore, LoginRecord, Store};

/// How long a sign-in may take at the provider.
pub const LOGIN_TTL: chrono::Duration = chrono::Duration::minutes(10);

/// How long the provider's discovery document (and its signing keys) is
/// used before it is fetched again. An ID token signed with a key the
/// cached set lacks (the provider rotated its keys) fetches it at once.
pub const DISCOVERY_TTL: Duration = Duration::from_secs(300);

type Provider = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The provider's HTTP calls, over reqwest, following no redirects.
struct Http(reqwest::Client);

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpFailure(String);

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = HttpFailure;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpFailure>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let resp = self
                .0
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(|e| HttpFailure(e.to_string()))?;
            let (status, headers) = (resp.status(), resp.headers().clone());
            let body = resp.bytes().await.map_err(|e| HttpFailure(e.to_string()))?;
            let mut out = openidconnect::http::Response::new(body.to_vec());
            *out.status_mut() = status;
            *out.headers_mut() = headers;
            Ok(out)
        })
    }
}

/// A sign-in begun: where to send the browser, and the secret its login
/// cookie holds.
pub struct Started {
    pub authorize_url: String,
    pub cookie_secret: String,
}

/// Who the provider says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub subject: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
}

/// The discovery document last fetched, and when.
type Discovered = Option<(CoreProviderMetadata, Instant)>;

#[derive(Clone)]
pub struct OidcLogin {
    config: OidcConfig,
    secret: String,
    http: Arc<Http>,
    store: Arc<dyn Store>,
    sessions: Arc<dyn ConsoleStore>,
    discovered: Arc<Mutex<Discovered>>,
}

fn provider_error(what: &str, e: impl std::fmt::Display) -> AppError {
    tracing::warn!(error = %e, "OpenID Connect {what} failed");
    ScimError::new(
        502,
        None,
        format!("The sign-in provider could not be used ({what}); see the server log."),
    )
    .into()
}

impl OidcLogin {
    pub fn new(
        config: &OidcConfig,
        store: Arc<dyn Store>,
        sessions: Arc<dyn ConsoleStore>,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()?;
        Ok(Self {
            secret: config.secret()?,
            config: config.clone().with_defaults(),
            http: Arc::new(Http(http)),
            store,
            sessions,
            discovered: Arc::new(Mutex::new(None)),
        })
    }

    /// The button label ("Sign in with NAME").
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The provider's discovery document: the one fetched within
    /// `DISCOVERY_TTL`, unless `fresh`.
    async fn metadata(&self, fresh: bool) -> Result<CoreProviderMetadata, AppError> {
        let cached = self
            .discovered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .filter(|(_, at)| !fresh && at.elapsed() < DISCOVERY_TTL)
            .map(|(metadata, _)| metadata.clone());
        if let Some(metadata) = cached {
            return Ok(metadata);
        }
        let issuer = IssuerUrl::new(self.config.issuer.clone())
            .map_err(|e| provider_error("issuer URL", e))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, self.http.as_ref())
            .await
            .map_err(|e| provider_error("discovery", e))?;
        *self
            .discovered
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some((metadata.clone(), Instant::now()));
        Ok(metadata)
    }

    /// The provider as its discovery document describes it.
    async fn provider(&self, fresh: bool) -> Result<Provider, AppError> {
        let metadata = self.metadata(fresh).await?;
        let redirect = RedirectUrl::new(self.config.redirect_url.clone())
            .map_err(|e| provider_error("redirect URL", e))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.secret.clone())),
        )
        .set_redirect_uri(redirect))
    }

    /// Begins a sign-in that comes back to `next`.
    pub async fn start(&self, next: String) -> Result<Started, AppError> {
        let provider = self.provider(false).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = provider.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in &self.config.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        let cookie_secret = new_secret();
        let now = Utc::now();
        let login = LoginRecord {
            id_hash: tokens::hash_secret(&cookie_secret),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            next,
            created: now,
        };
        let sessions = self.sessions.clone();
        blocking(move || Ok(sessions.create_login(&login, now - LOGIN_TTL)?)).await?;
        Ok(Started {
            authorize_url: url.to_string(),
            cookie_secret,
        })
    }

    /// Ends a sign-in at the provider's callback: the browser's login
    /// cookie, the `state` and `code` the provider sent. Returns the
    /// session and where to go. Refusals are audited.
    pub async fn finish(
        &self,
        console: &ConsoleAuth,
        cookie_secret: &str,
        state: &str,
        code: &str,
        source: &str,
    ) -> Result<(SignedIn, String), AppError> {
        let (sessions, id_hash) = (self.sessions.clone(), tokens::hash_secret(cookie_secret));
        let login = blocking(move || Ok(sessions.take_login(&id_hash)?)).await?;
        let login = login
            .filter(|l| l.created + LOGIN_TTL > Utc::now())
            .filter(|l| bool::from(l.state.as_bytes().ct_eq(state.as_bytes())))
            .ok_or_else(|| {
                ScimError::new(
                    400,
                    None,
                    "This sign-in was not started here or took too long: start it again.",
                )
            })?;
        let identity = self.identity(&login, code).await?;
        if !self.allowed(&identity) {
            let actor = Actor {
                name: format!("oidc:{}", identity.subject),
                request_id: None,
                source: Some(source.to_string()),
            };
            let detail = "not among console.oidc.allowed_subjects or allowed_groups".to_string();
            audit::record(&self.store, "console.sign_in.denied", &actor, detail).await?;
            return Err(AuthError::Unknown.into());
        }
        let who = identity
            .email
            .as_deref()
            .map_or(String::new(), |e| format!(" as {e}"));
        let detail = format!("signed in with {}{who}", self.config.name);
        let signed = console
            .open(&format!("oidc:{}", identity.subject), None, source, detail)
            .await?;
        Ok((signed, login.next))
    }

    /// The code exchanged (with the PKCE verifier) and the ID token checked.
    async fn identity(&self, login: &LoginRecord, code: &str) -> Result<Identity, AppError> {
        let provider = self.provider(false).await?;
        let response = provider
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| provider_error("token endpoint", e))?
            .set_pkce_verifier(PkceCodeVerifier::new(login.pkce_verifier.clone()))
            .request_async(self.http.as_ref())
            .await
            .map_err(|e| provider_error("code exchange", e))?;
        let id_token = response
            .id_token()
            .ok_or_else(|| provider_error("code exchange", "no ID token in the answer"))?;
        let nonce = Nonce::new(login.nonce.clone());
        let checked = match id_token.claims(&provider.id_token_verifier(), &nonce) {
            // Perhaps signed with a key newer than the cached ones.
            Err(ClaimsVerificationError::SignatureVerification(_)) => {
                let fresh = self.provider(true).await?;
                id_token
                    .claims(&fresh.id_token_verifier(), &nonce)
                    .map(subject_and_email)
            }
            other => other.map(subject_and_email),
        };
        let (subject, email) = checked.map_err(|e| provider_error("ID token check", e))?;
        Ok(Identity {
            subject,
            email,
            groups: groups(&id_token.to_string(), &self.config.groups_claim),
        })
    }

    fn allowed(&self, who: &Identity) -> bool {
        self.config.allowed_subjects.contains(&who.subject)
            || who
                .groups
                .iter()
                .any(|g| self.config.allowed_groups.contains(g))
    }
}

fn subject_and_email(claims: &CoreIdTokenClaims) -> (String, Option<String>) {
    (
        claims.subject().as_str().to_string(),
        claims.email().map(|e| e.as_str().to_string()),
    )
}

/// The groups claim of an ID token whose signature was already checked: a
/// list of strings (or one string).
fn groups(compact: &str, claim: &str) -> Vec<String> {
    let payload = compact
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
    match payload.as_ref().and_then(|p| p.get(claim)) {
        Some(Value::Array(all)) => all
            .iter()
            .filter_map(|g| g.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_come_from_the_configured_claim() {
        let body = URL_SAFE_NO_PAD.encode(br#"{"sub":"a","groups":["admins","x"],"role":"ops"}"#);
        let token = format!("h.{body}.s");
        assert_eq!(groups(&token, "groups"), ["admins", "x"]);
        assert_eq!(groups(&token, "role"), ["ops"]);
        assert!(groups(&token, "missing").is_empty());
        assert!(groups("garbage", "groups").is_empty());
    }
}
