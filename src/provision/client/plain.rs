//! The client speaking to a JSON API that is not SCIM (the REST
//! connector's systems): plain `application/json`, any path under the base
//! URL, and the API's own way of reporting errors inside 2xx answers, with
//! the same credentials, rate limit, retries and recording as SCIM.

use std::sync::Arc;

use reqwest::Method;
use serde_json::Value;

use super::error::excerpt;
use super::retry::Attempt;
use super::transport::Reply;
use super::{ConnectorError, ScimClient};

/// What an answer the API sent with a 2xx status really says.
pub enum AnswerFault {
    /// Try again later (e.g. "frequency out of limit" in the body).
    Transient(String),
    /// Refused for good, read as this HTTP status (409: exists, 404: gone…).
    Rejected { status: u16, detail: String },
    /// The credentials were refused.
    Unauthorized(String),
}

/// Reads an API's own error format out of its 2xx answers.
pub trait AnswerCheck: Send + Sync {
    /// `None` when the answer is a success.
    fn check(&self, body: &[u8]) -> Option<AnswerFault>;
}

/// A JSON API's answer: status (2xx, or 404) and body (`Null` when empty).
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl ScimClient {
    /// Plain JSON from now on, with 2xx answers read by `check`.
    pub fn speaking_json(mut self, check: Arc<dyn AnswerCheck>) -> Self {
        self.plain = Some(check);
        self
    }

    /// One request to `path_and_query` under the base URL.
    pub async fn call(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&Value>,
    ) -> Result<Answer, ConnectorError> {
        let text = format!("{}{}", self.base_url(), path_and_query);
        let url = url::Url::parse(&text)
            .map_err(|_| ConnectorError::Config(format!("{text:?} is not a URL")))?;
        let reply = self.execute(method, url, body).await?;
        let body = if reply.body.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            serde_json::from_slice(&reply.body).map_err(|_| {
                ConnectorError::Protocol(format!(
                    "HTTP {} with a body that is not JSON: {}",
                    reply.status,
                    excerpt(&reply.body)
                ))
            })?
        };
        Ok(Answer {
            status: reply.status,
            body,
        })
    }

    /// The API's verdict on a 2xx reply, as a retry decision.
    pub(super) fn judge(&self, reply: &Reply) -> Option<Attempt> {
        let check = self.plain.as_ref()?;
        if !(200..300).contains(&reply.status) {
            return None;
        }
        Some(match check.check(&reply.body)? {
            AnswerFault::Transient(reason) => Attempt::Transient {
                reason,
                status: None,
                retry_after: None,
            },
            AnswerFault::Rejected { status, detail } => ConnectorError::Rejected {
                status,
                scim_type: None,
                detail,
                http: true,
            }
            .into(),
            AnswerFault::Unauthorized(detail) => ConnectorError::Unauthorized {
                status: 401,
                detail,
            }
            .into(),
        })
    }
}
