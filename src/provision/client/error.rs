//! What can go wrong talking to a target, and reading a target's SCIM
//! error body (RFC 7644 §3.12) into something short enough to store.

use serde_json::Value;

/// Longest piece of a non-SCIM error body kept in an error.
const EXCERPT_CHARS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// 4xx other than 401/403/404-where-meaningful/408/429: not retried;
    /// carries the target's SCIM error.
    #[error(
        "the target refused the request (HTTP {status}{}): {detail}",
        scim_type_suffix(scim_type)
    )]
    Rejected {
        status: u16,
        scim_type: Option<String>,
        detail: String,
    },
    /// 401/403: credentials refused (the caller quarantines the target later).
    #[error("the target refused the credentials (HTTP {status}): {detail}")]
    Unauthorized { status: u16, detail: String },
    /// Retries exhausted on 5xx / 429 / timeouts / connection errors.
    #[error("the target is unavailable after {attempts} attempts: {last}")]
    Unavailable { attempts: u32, last: String },
    /// The target answered something that is not SCIM (bad JSON, missing id, …).
    #[error("the target's answer is not SCIM: {0}")]
    Protocol(String),
    /// Bad options (URL, header names, credentials).
    #[error("invalid target client options: {0}")]
    Config(String),
}

fn scim_type_suffix(scim_type: &Option<String>) -> String {
    scim_type
        .as_deref()
        .map(|t| format!(", scimType {t}"))
        .unwrap_or_default()
}

impl ClientError {
    /// The target's HTTP status when it answered with a refusal.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Rejected { status, .. } | ClientError::Unauthorized { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }

    /// True when the target could not be reached at all (connection
    /// refused, DNS, TLS, timeouts): no HTTP answer on the last attempt.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, ClientError::Unavailable { last, .. } if !last.starts_with("HTTP "))
    }

    /// True when trying the same request again later cannot help by itself.
    pub fn is_permanent(&self) -> bool {
        !matches!(self, ClientError::Unavailable { .. })
    }

    /// A refusal built from the target's error body.
    pub(crate) fn rejected(status: u16, body: &[u8]) -> Self {
        let (scim_type, detail) = read_error_body(status, body);
        ClientError::Rejected {
            status,
            scim_type,
            detail,
        }
    }

    pub(crate) fn unauthorized(status: u16, body: &[u8]) -> Self {
        let (_, detail) = read_error_body(status, body);
        ClientError::Unauthorized { status, detail }
    }
}

/// `(scimType, detail)` from a SCIM error body; anything else becomes a
/// short excerpt of the body (or the status text when the body is empty).
pub(crate) fn read_error_body(status: u16, body: &[u8]) -> (Option<String>, String) {
    if let Ok(Value::Object(error)) = serde_json::from_slice::<Value>(body) {
        let text = |key: &str| {
            error
                .get(key)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| excerpt(s.as_bytes()))
        };
        let scim_type = text("scimType");
        // OAuth token endpoints answer {"error", "error_description"}.
        let detail = text("detail")
            .or_else(|| text("error_description"))
            .or_else(|| text("error"));
        if let Some(detail) = detail {
            return (scim_type, detail);
        }
        if scim_type.is_some() {
            return (scim_type, status_text(status));
        }
    }
    let text = excerpt(body);
    if text.is_empty() {
        (None, status_text(status))
    } else {
        (None, text)
    }
}

fn status_text(status: u16) -> String {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map_or_else(|| format!("HTTP {status}"), str::to_string)
}

/// The start of a body on one line, at most `EXCERPT_CHARS` characters.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut chars = one_line.chars();
    let mut out: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scim_errors_give_their_detail_and_type() {
        let body = br#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status":"409","scimType":"uniqueness","detail":"userName taken"}"#;
        assert_eq!(
            read_error_body(409, body),
            (Some("uniqueness".into()), "userName taken".into())
        );
        assert_eq!(
            read_error_body(400, br#"{"scimType":"invalidValue"}"#),
            (Some("invalidValue".into()), "Bad Request".into())
        );
        assert_eq!(
            read_error_body(
                401,
                br#"{"error":"invalid_client","error_description":"bad secret"}"#
            ),
            (None, "bad secret".into())
        );
    }

    #[test]
    fn other_bodies_become_a_short_excerpt() {
        let html = format!("<html>\n  <body>{}</body></html>", "x".repeat(10_000));
        let (t, detail) = read_error_body(400, html.as_bytes());
        assert_eq!(t, None);
        assert!(detail.starts_with("<html> <body>xxx"), "{detail}");
        assert_eq!(detail.chars().count(), EXCERPT_CHARS + 1);
        assert_eq!(read_error_body(418, b""), (None, "I'm a teapot".into()));
        assert_eq!(read_error_body(499, b"  "), (None, "HTTP 499".into()));
    }

    #[test]
    fn only_unavailability_is_temporary() {
        let unavailable = ClientError::Unavailable {
            attempts: 3,
            last: "HTTP 503".into(),
        };
        assert!(!unavailable.is_permanent());
        assert_eq!(unavailable.status(), None);
        let rejected = ClientError::rejected(422, br#"{"detail":"no"}"#);
        assert!(rejected.is_permanent());
        assert_eq!(rejected.status(), Some(422));
        assert_eq!(
            rejected.to_string(),
            "the target refused the request (HTTP 422): no"
        );
        assert!(ClientError::Protocol("x".into()).is_permanent());
    }
}
