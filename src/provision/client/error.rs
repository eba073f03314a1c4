//! Reading a target's SCIM error body (RFC 7644 §3.12) into something
//! short enough to store, and the errors built from it.

use serde_json::Value;

use crate::provision::connector::ConnectorError;

/// Longest piece of a non-SCIM error body kept in an error.
const EXCERPT_CHARS: usize = 200;

/// A refusal built from the target's error body.
pub(crate) fn rejected(status: u16, body: &[u8]) -> ConnectorError {
    let (scim_type, detail) = read_error_body(status, body);
    ConnectorError::Rejected {
        status,
        scim_type,
        detail,
        http: true,
    }
}

pub(crate) fn unauthorized(status: u16, body: &[u8]) -> ConnectorError {
    let (_, detail) = read_error_body(status, body);
    ConnectorError::Unauthorized { status, detail }
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
    fn refusals_read_the_body() {
        let rejected = rejected(422, br#"{"detail":"no"}"#);
        assert_eq!(rejected.status(), Some(422));
        assert_eq!(
            rejected.to_string(),
            "the target refused the request (HTTP 422): no"
        );
    }
}
