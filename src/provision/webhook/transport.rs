//! One signed POST and what its answer means: delivered, worth retrying
//! (5xx, 408, 429, timeouts, connection errors) or refused for good
//! (any other answer, e.g. a 400 or a redirect).

use std::time::{Duration, SystemTime};

use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};

use super::signing::{self, DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::provision::client::{RetryPolicy, parse_retry_after};
use crate::settings::WebhookConfig;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Retry {
        reason: String,
        /// What the receiver asked for (`Retry-After`), before capping.
        retry_after: Option<Duration>,
    },
    Refused {
        reason: String,
    },
}

/// The backoff between attempts (exponential with full jitter, capped).
pub fn retry_policy(config: &WebhookConfig) -> RetryPolicy {
    RetryPolicy {
        max_attempts: config.max_attempts,
        base_delay: Duration::from_millis(config.retry_base_ms),
        max_delay: Duration::from_millis(config.retry_max_ms),
    }
}

/// A client for webhooks: no redirects (a signed body is not re-sent
/// elsewhere), one timeout per request.
pub fn http_client(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .user_agent(concat!("scimhub-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

/// One signed request; what goes to the receiver.
pub struct SignedPost<'a> {
    pub url: &'a str,
    pub secret: &'a [u8],
    pub event: &'a str,
    pub delivery_id: &'a str,
    pub body: &'a str,
}

pub async fn post(client: &reqwest::Client, p: SignedPost<'_>) -> Outcome {
    let timestamp = chrono::Utc::now().timestamp();
    let signature = signing::sign(p.secret, timestamp, p.body.as_bytes());
    let sent = client
        .post(p.url)
        .header(CONTENT_TYPE, "application/json")
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(SIGNATURE_HEADER, signature)
        .header(EVENT_HEADER, p.event)
        .header(DELIVERY_HEADER, p.delivery_id)
        .body(p.body.to_string())
        .send()
        .await;
    outcome(sent).await
}

/// What an answer (or the failure to get one) means. A refusal names the
/// receiver's `err` and `description` when it sent them (RFC 8935 §2.3).
pub async fn outcome(sent: reqwest::Result<reqwest::Response>) -> Outcome {
    let response = match sent {
        Ok(r) => r,
        Err(e) if e.is_timeout() => {
            return Outcome::Retry {
                reason: "timed out".into(),
                retry_after: None,
            };
        }
        Err(e) => {
            return Outcome::Retry {
                reason: format!("could not be sent: {}", error_chain(&e.without_url())),
                retry_after: None,
            };
        }
    };
    let status = response.status();
    if status.is_success() {
        return Outcome::Delivered;
    }
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()));
    let mut reason = format!("the receiver answered {}", status.as_u16());
    if status.is_server_error() || matches!(status.as_u16(), 408 | 429) {
        return Outcome::Retry {
            reason,
            retry_after,
        };
    }
    if let Ok(body) = response.json::<serde_json::Value>().await
        && let Some(err) = body.get("err").and_then(|e| e.as_str())
    {
        let description = body.get("description").and_then(|d| d.as_str());
        reason = format!("{reason}: {}", clipped(err));
        if let Some(d) = description {
            reason = format!("{reason}: {}", clipped(d));
        }
    }
    Outcome::Refused { reason }
}

/// A receiver's text, bounded for logs and `lastError`.
fn clipped(text: &str) -> String {
    text.chars().take(200).collect()
}

/// The error with its causes (reqwest's top line alone says little).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The URL for logs: no query string (it may carry a token).
pub fn shown_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => "(invalid URL)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_backoff_runs_from_a_second_to_an_hour() {
        let policy = retry_policy(&WebhookConfig::default());
        assert_eq!(policy.window(1), Duration::from_secs(1));
        assert_eq!(policy.window(2), Duration::from_secs(2));
        assert_eq!(policy.window(13), Duration::from_secs(3600));
        assert_eq!(policy.window(40), Duration::from_secs(3600));
        for failed in 1..20 {
            assert!(policy.backoff(failed) <= policy.window(failed));
        }
    }
}
