//! Sending one step's request and reading the whole response.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap};
use serde_json::Value;

/// What a step sends, with every placeholder already rendered.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: reqwest::Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub bearer: Option<String>,
    pub body: Option<Vec<u8>>,
}

/// A response as the checks see it.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    /// The body as JSON, or `null` when it is empty or not JSON.
    pub body: Value,
}

impl Exchange {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A client that never follows redirects: a redirect would carry the token
/// to another address, and a SCIM server has no reason to send one.
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
}

pub async fn send(client: &reqwest::Client, request: Request) -> Result<Exchange, String> {
    let mut builder = client.request(request.method, &request.url);
    let has = |name: &str| {
        request
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(name))
    };
    // An explicit Authorization header (a malformed one, say) replaces the token.
    if let (Some(token), false) = (&request.bearer, has(AUTHORIZATION.as_str())) {
        builder = builder.bearer_auth(token);
    }
    if request.body.is_some() && !has(CONTENT_TYPE.as_str()) {
        builder = builder.header(CONTENT_TYPE, "application/scim+json");
    }
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    if let Some(body) = request.body {
        builder = builder.body(body);
    }
    let response = builder.send().await.map_err(describe)?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.map_err(describe)?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok(Exchange {
        status,
        headers,
        text,
        body,
    })
}

/// The error and its causes on one line (reqwest's own message is terse).
fn describe(e: reqwest::Error) -> String {
    let mut message = format!("request failed: {e}");
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    message
}
