//! LDAP outcomes sorted the way the engines act on them (RFC 4511 result
//! codes): an entry that is gone, an entry that already exists (the full
//! run then adopts it by its matching key), refused credentials or rights
//! (quarantine), a busy server (retried later), or a refusal of the request.

use ldap3::{LdapError, LdapResult};

use crate::provision::connector::ConnectorError;

/// What an `Unavailable` error's `last` starts with when the directory did
/// answer (busy, unavailable): the target is reachable.
pub const ANSWERED: &str = "LDAP ";

/// The library's errors that mean no answer came: the connection failed,
/// broke, or timed out.
pub fn is_connection_error(e: &LdapError) -> bool {
    matches!(
        e,
        LdapError::Io { .. }
            | LdapError::OpSend { .. }
            | LdapError::ResultRecv { .. }
            | LdapError::IdScrubSend { .. }
            | LdapError::MiscSend { .. }
            | LdapError::Timeout { .. }
            | LdapError::EndOfStream
            | LdapError::Rustls { .. }
            | LdapError::DNSName { .. }
    )
}

pub fn from_ldap(e: LdapError) -> ConnectorError {
    match e {
        LdapError::LdapResult { result } => from_result(&result),
        e if is_connection_error(&e) => ConnectorError::Unavailable {
            attempts: 1,
            last: e.to_string(),
        },
        e => ConnectorError::Protocol(e.to_string()),
    }
}

fn name(rc: u32) -> &'static str {
    match rc {
        3 => "timeLimitExceeded",
        7 => "authMethodNotSupported",
        8 => "strongerAuthRequired",
        11 => "adminLimitExceeded",
        13 => "confidentialityRequired",
        16 => "noSuchAttribute",
        17 => "undefinedAttributeType",
        19 => "constraintViolation",
        20 => "attributeOrValueExists",
        21 => "invalidAttributeSyntax",
        32 => "noSuchObject",
        34 => "invalidDNSyntax",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        64 => "namingViolation",
        65 => "objectClassViolation",
        66 => "notAllowedOnNonLeaf",
        67 => "notAllowedOnRDN",
        68 => "entryAlreadyExists",
        69 => "objectClassModsProhibited",
        80 => "other",
        _ => "error",
    }
}

/// The result's code, name and the server's text, e.g.
/// `objectClassViolation (65): object class 'inetOrgPerson' requires attribute 'sn'`.
pub fn describe(r: &LdapResult) -> String {
    let mut out = format!("{} ({})", name(r.rc), r.rc);
    if !r.text.is_empty() {
        out.push_str(": ");
        out.push_str(&r.text);
    }
    out
}

pub fn from_result(r: &LdapResult) -> ConnectorError {
    let detail = describe(r);
    let rejected = |status: u16| ConnectorError::Rejected {
        status,
        scim_type: Some(name(r.rc).to_string()),
        detail: format!("LDAP {detail}"),
        http: false,
    };
    match r.rc {
        32 => rejected(404),
        68 => rejected(409),
        7 | 8 | 13 | 48 | 49 => ConnectorError::Unauthorized {
            status: 401,
            detail: format!("LDAP {detail}"),
        },
        50 => ConnectorError::Unauthorized {
            status: 403,
            detail: format!("LDAP {detail}"),
        },
        3 | 11 | 51 | 52 | 80 => ConnectorError::Unavailable {
            attempts: 1,
            last: format!("{ANSWERED}{detail}"),
        },
        _ => rejected(400),
    }
}

/// A refusal the connector makes itself, before sending anything.
pub fn refused(detail: impl Into<String>) -> ConnectorError {
    ConnectorError::Rejected {
        status: 400,
        scim_type: None,
        detail: detail.into(),
        http: false,
    }
}

/// No entry with that id (an update or member change of something gone).
pub fn gone(what: &str) -> ConnectorError {
    ConnectorError::Rejected {
        status: 404,
        scim_type: Some("noSuchObject".into()),
        detail: format!("no entry {what} on the target"),
        http: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(rc: u32) -> LdapError {
        LdapError::LdapResult {
            result: LdapResult {
                rc,
                matched: String::new(),
                text: "why".into(),
                refs: Vec::new(),
                ctrls: Vec::new(),
            },
        }
    }

    #[test]
    fn result_codes_follow_the_engines_policies() {
        let status = |rc| from_ldap(result(rc)).status();
        assert_eq!(status(32), Some(404));
        assert_eq!(status(68), Some(409));
        assert_eq!(status(65), Some(400));
        assert!(matches!(
            from_ldap(result(49)),
            ConnectorError::Unauthorized { status: 401, .. }
        ));
        assert!(matches!(
            from_ldap(result(50)),
            ConnectorError::Unauthorized { status: 403, .. }
        ));
        let busy = from_ldap(result(51));
        assert!(!busy.is_permanent());
        assert!(!busy.is_unreachable(), "the directory answered: {busy}");
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let down = from_ldap(LdapError::from(io));
        assert!(down.is_unreachable() && !down.is_permanent(), "{down}");
        assert!(
            from_ldap(result(65))
                .to_string()
                .contains("objectClassViolation (65): why")
        );
        // A directory's refusal is not dressed up as an HTTP answer.
        assert_eq!(
            from_ldap(result(68)).to_string(),
            "the target refused the request (entryAlreadyExists): LDAP entryAlreadyExists (68): why"
        );
    }
}
