//! What can go wrong talking to a downstream system, sorted the way the
//! engines act on it: refused for good, credentials refused, unavailable
//! for now, an answer that makes no sense, or bad settings.

#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectorError {
    /// 4xx other than 401/403/404-where-meaningful/408/429: not retried;
    /// carries the target's SCIM error. A directory's, a database's or the
    /// connector's own refusal has a `status` too — how the engines act on
    /// it (409: adopt the existing account; 404: gone) — but no HTTP answer
    /// (`http: false`), so only its own words are shown.
    #[error("the target refused the request{}: {detail}", refusal_label(*status, scim_type, *http))]
    Rejected {
        status: u16,
        scim_type: Option<String>,
        detail: String,
        http: bool,
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

/// A connector's blocking work that died reads as a protocol failure.
impl From<crate::blocking::TaskFailed> for ConnectorError {
    fn from(e: crate::blocking::TaskFailed) -> Self {
        ConnectorError::Protocol(e.to_string())
    }
}

/// ` (HTTP 409, scimType uniqueness)` for an HTTP answer; otherwise the
/// kind of refusal where the detail does not already say it.
fn refusal_label(status: u16, scim_type: &Option<String>, http: bool) -> String {
    match (http, scim_type.as_deref()) {
        (true, Some(t)) => format!(" (HTTP {status}, scimType {t})"),
        (true, None) => format!(" (HTTP {status})"),
        (false, Some(t)) => format!(" ({t})"),
        (false, None) => String::new(),
    }
}

impl ConnectorError {
    /// The target's HTTP status when it answered with a refusal.
    pub fn status(&self) -> Option<u16> {
        match self {
            ConnectorError::Rejected { status, .. }
            | ConnectorError::Unauthorized { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True when the target could not be reached at all (connection
    /// refused, DNS, TLS, timeouts): no answer on the last attempt (an
    /// HTTP status or an LDAP result code is an answer).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, ConnectorError::Unavailable { last, .. }
            if !last.starts_with("HTTP ") && !last.starts_with(super::ldap::ANSWERED))
    }

    /// True when trying the same request again later cannot help by itself.
    pub fn is_permanent(&self) -> bool {
        !matches!(self, ConnectorError::Unavailable { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unavailability_is_temporary() {
        let unavailable = ConnectorError::Unavailable {
            attempts: 3,
            last: "HTTP 503".into(),
        };
        assert!(!unavailable.is_permanent());
        assert_eq!(unavailable.status(), None);
        let rejected = ConnectorError::Rejected {
            status: 422,
            scim_type: None,
            detail: "no".into(),
            http: true,
        };
        assert!(rejected.is_permanent());
        assert_eq!(rejected.status(), Some(422));
        assert_eq!(
            rejected.to_string(),
            "the target refused the request (HTTP 422): no"
        );
        assert!(ConnectorError::Protocol("x".into()).is_permanent());
    }
}
