//! One HTTP exchange with a target: send, read a bounded body, and sort
//! transport failures and statuses into "try again" or not.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, LOCATION, RETRY_AFTER};

use super::ConnectorError;
use super::error::read_error_body;
use super::retry::{Attempt, RetryPolicy, parse_retry_after};

/// Largest response body read from a target (a page of 100 big users is far below).
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

pub(crate) struct Transport {
    pub http: reqwest::Client,
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

pub(crate) struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Transport {
    pub fn new(timeout: Duration, retry: RetryPolicy) -> Result<Self, ConnectorError> {
        if timeout.is_zero() {
            return Err(ConnectorError::Config(
                "the timeout must be positive".into(),
            ));
        }
        let http = reqwest::Client::builder()
            // A redirect could carry the credentials elsewhere; targets get their exact URL.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout)
            .build()
            .map_err(|e| ConnectorError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            timeout,
            retry,
        })
    }

    /// Sends `request` (the per-request timeout added) and reads the whole reply.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<Reply, Attempt> {
        let mut response = request
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| self.failure(e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.failure(e))? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(Attempt::Fatal(ConnectorError::Protocol(format!(
                    "response body larger than {MAX_BODY_BYTES} bytes"
                ))));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    fn failure(&self, e: reqwest::Error) -> Attempt {
        // The URL is logged apart, as a path: its query may hold filter values.
        let e = e.without_url();
        if e.is_builder() {
            return Attempt::Fatal(ConnectorError::Config(describe(&e)));
        }
        let reason = if e.is_timeout() {
            format!("timed out after {:?}", self.timeout)
        } else {
            describe(&e)
        };
        Attempt::Transient {
            reason,
            status: None,
            retry_after: None,
        }
    }
}

impl Reply {
    /// 408, 429 and 5xx: the target may answer differently later.
    pub fn is_transient(&self) -> bool {
        matches!(self.status, 408 | 429) || self.status >= 500
    }

    pub fn transient(&self) -> Attempt {
        let (_, detail) = read_error_body(self.status, &self.body);
        let retry_after = self
            .headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        Attempt::Transient {
            reason: format!("HTTP {}: {detail}", self.status),
            status: Some(self.status),
            retry_after,
        }
    }

    pub fn redirect(&self) -> ConnectorError {
        let to = self
            .headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("?");
        ConnectorError::Protocol(format!(
            "unexpected redirect (HTTP {}) to {to}; check the base URL",
            self.status
        ))
    }
}

/// The error and its causes on one line (reqwest's own message is terse).
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
