//! The `Authorization` header for a target: fixed (bearer, basic) or an
//! OAuth 2.0 client-credentials token, fetched once and reused until
//! shortly before it expires (or until the target refuses it).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde_json::Value;
use tokio::sync::Mutex;

use super::ConnectorError;
use super::error::read_error_body;
use super::retry::{Attempt, with_retries};
use super::transport::{Reply, Transport};
use crate::provision::target::Credentials;

/// A token is renewed this long before it expires (less for short-lived ones).
const RENEW_BEFORE: Duration = Duration::from_secs(30);

pub(crate) enum Auth {
    Fixed(HeaderValue),
    OAuth2(Box<OAuth2>),
}

pub(crate) struct OAuth2 {
    token_url: url::Url,
    client_id: String,
    client_secret: String,
    scope: Option<String>,
    /// Held while fetching, so concurrent requests wait for one fetch.
    cached: Mutex<Option<CachedToken>>,
    /// The token endpoint refused HTTP basic client authentication but took
    /// the credentials in the form body (RFC 6749 §2.3.1 allows both).
    in_form: AtomicBool,
}

struct CachedToken {
    header: HeaderValue,
    renew_at: Option<Instant>,
}

fn secret_header(value: String) -> Result<HeaderValue, ConnectorError> {
    let mut header = HeaderValue::try_from(value).map_err(|_| {
        ConnectorError::Config("the credentials contain characters not allowed in a header".into())
    })?;
    header.set_sensitive(true);
    Ok(header)
}

fn basic(user: &str, password: &str) -> Result<HeaderValue, ConnectorError> {
    secret_header(format!(
        "Basic {}",
        STANDARD.encode(format!("{user}:{password}"))
    ))
}

fn form_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

impl Auth {
    pub fn new(credentials: &Credentials) -> Result<Self, ConnectorError> {
        credentials.check().map_err(ConnectorError::Config)?;
        Ok(match credentials {
            Credentials::Bearer { token } => Auth::Fixed(secret_header(format!("Bearer {token}"))?),
            Credentials::Basic { username, password } => Auth::Fixed(basic(username, password)?),
            Credentials::OAuth2 {
                token_url,
                client_id,
                client_secret,
                scope,
            } => Auth::OAuth2(Box::new(OAuth2 {
                token_url: super::check_http_url(token_url).map_err(ConnectorError::Config)?,
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
                scope: scope.clone(),
                cached: Mutex::new(None),
                in_form: AtomicBool::new(false),
            })),
            Credentials::None => {
                return Err(ConnectorError::Config(
                    "an HTTP target needs credentials (a token, basic or OAuth2)".into(),
                ));
            }
        })
    }

    /// The header for the next request.
    pub async fn header(&self, transport: &Transport) -> Result<HeaderValue, ConnectorError> {
        match self {
            Auth::Fixed(header) => Ok(header.clone()),
            Auth::OAuth2(oauth) => oauth.header(transport).await,
        }
    }

    /// After the target answered 401 to `used`: drops that token and says
    /// whether a fresh one is worth a try (never for fixed credentials).
    pub async fn refused(&self, used: &HeaderValue) -> bool {
        match self {
            Auth::Fixed(_) => false,
            Auth::OAuth2(oauth) => {
                let mut cached = oauth.cached.lock().await;
                if cached.as_ref().is_some_and(|c| c.header == *used) {
                    *cached = None;
                }
                true
            }
        }
    }
}

impl OAuth2 {
    async fn header(&self, transport: &Transport) -> Result<HeaderValue, ConnectorError> {
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref()
            && token.renew_at.is_none_or(|at| Instant::now() < at)
        {
            return Ok(token.header.clone());
        }
        let token = self.fetch(transport).await?;
        let header = token.header.clone();
        *cached = Some(token);
        Ok(header)
    }

    async fn fetch(&self, transport: &Transport) -> Result<CachedToken, ConnectorError> {
        let host = self.token_url.host_str().unwrap_or("?").to_string();
        let reply = if self.in_form.load(Ordering::Relaxed) {
            self.request(transport, true).await?
        } else {
            let reply = self.request(transport, false).await?;
            if refuses_client(&reply) {
                tracing::debug!(%host, "token endpoint refused HTTP basic client authentication; trying the form body");
                let reply = self.request(transport, true).await?;
                if reply.status < 300 {
                    self.in_form.store(true, Ordering::Relaxed);
                }
                reply
            } else {
                reply
            }
        };
        if !(200..300).contains(&reply.status) {
            let (_, detail) = read_error_body(reply.status, &reply.body);
            tracing::warn!(%host, status = reply.status, %detail, "OAuth token endpoint refused the client credentials");
            return Err(ConnectorError::Unauthorized {
                status: reply.status,
                detail: format!("OAuth token endpoint: {detail}"),
            });
        }
        let (access_token, expires_in) = parse_token(&reply.body)?;
        tracing::debug!(%host, ?expires_in, "fetched an OAuth access token");
        let renew_at = expires_in.map(|lifetime| {
            let margin = RENEW_BEFORE.min(lifetime / 10);
            Instant::now() + lifetime.saturating_sub(margin)
        });
        Ok(CachedToken {
            header: secret_header(format!("Bearer {access_token}"))?,
            renew_at,
        })
    }

    fn form(&self, in_form: bool) -> String {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "client_credentials");
        if let Some(scope) = &self.scope {
            form.append_pair("scope", scope);
        }
        if in_form {
            form.append_pair("client_id", &self.client_id);
            form.append_pair("client_secret", &self.client_secret);
        }
        form.finish()
    }

    /// POSTs the client-credentials grant (retrying transient failures);
    /// returns 2xx and 4xx replies.
    async fn request(&self, transport: &Transport, in_form: bool) -> Result<Reply, ConnectorError> {
        let body = self.form(in_form);
        let client_auth = if in_form {
            None
        } else {
            Some(basic(
                &form_encode(&self.client_id),
                &form_encode(&self.client_secret),
            )?)
        };
        with_retries(&transport.retry, self.token_url.path(), || {
            self.post(transport, &body, client_auth.as_ref())
        })
        .await
    }

    async fn post(
        &self,
        transport: &Transport,
        body: &str,
        client_auth: Option<&HeaderValue>,
    ) -> Result<Reply, Attempt> {
        let mut request = transport
            .http
            .post(self.token_url.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .body(body.to_string());
        if let Some(header) = client_auth {
            request = request.header(AUTHORIZATION, header.clone());
        }
        let reply = transport.send(request).await?;
        if reply.is_transient() {
            return Err(reply.transient());
        }
        if (300..400).contains(&reply.status) {
            return Err(Attempt::Fatal(reply.redirect()));
        }
        Ok(reply)
    }
}

/// 401, or 400 `invalid_client` (RFC 6749 §5.2): the client authentication
/// method may be the problem.
fn refuses_client(reply: &Reply) -> bool {
    match reply.status {
        401 => true,
        400 => serde_json::from_slice::<Value>(&reply.body)
            .ok()
            .is_some_and(|v| v["error"] == "invalid_client"),
        _ => false,
    }
}

/// `(access_token, expires_in)` from a token response.
fn parse_token(body: &[u8]) -> Result<(String, Option<Duration>), ConnectorError> {
    let bad = |what: &str| ConnectorError::Protocol(format!("OAuth token response: {what}"));
    let json: Value = serde_json::from_slice(body).map_err(|_| bad("not JSON"))?;
    let token = json["access_token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| bad("no access_token"))?;
    // Some servers send the number as a string.
    let expires_in = match &json["expires_in"] {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    Ok((token.to_string(), expires_in.map(Duration::from_secs)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_responses_are_read_leniently_but_need_a_token() {
        let (token, expires) =
            parse_token(br#"{"access_token":"abc","token_type":"Bearer","expires_in":"3600"}"#)
                .unwrap();
        assert_eq!(token, "abc");
        assert_eq!(expires, Some(Duration::from_secs(3600)));
        assert_eq!(parse_token(br#"{"access_token":"abc"}"#).unwrap().1, None);
        assert!(matches!(
            parse_token(br#"{"token_type":"Bearer"}"#),
            Err(ConnectorError::Protocol(m)) if m.contains("no access_token")
        ));
        assert!(matches!(
            parse_token(b"<html>"),
            Err(ConnectorError::Protocol(_))
        ));
    }

    #[test]
    fn fixed_headers_are_sensitive_and_basic_is_encoded() {
        let auth = Auth::new(&Credentials::Basic {
            username: "svc".into(),
            password: "pa:ss".into(),
        })
        .unwrap();
        let Auth::Fixed(header) = auth else {
            panic!("basic is fixed")
        };
        assert!(header.is_sensitive());
        assert_eq!(header, "Basic c3ZjOnBhOnNz");
        assert!(format!("{header:?}").contains("Sensitive"));
    }
}
