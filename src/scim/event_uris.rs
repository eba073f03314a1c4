//! The SCIM event URIs (RFC 9967 §2.4, registered in its §7.4) scimhub
//! issues, and where the keys that sign them are published.

/// Where a server publishes the keys its SCIM events are signed with.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

pub const PROV: &str = "urn:ietf:params:scim:event:prov";
pub const ACTIVATE: &str = "urn:ietf:params:scim:event:prov:activate";
pub const DEACTIVATE: &str = "urn:ietf:params:scim:event:prov:deactivate";
pub const DELETE: &str = "urn:ietf:params:scim:event:prov:delete";

/// Every event URI scimhub issues.
pub const EVENT_URIS: &[&str] = &[
    "urn:ietf:params:scim:event:prov:create:full",
    "urn:ietf:params:scim:event:prov:create:notice",
    "urn:ietf:params:scim:event:prov:patch:full",
    "urn:ietf:params:scim:event:prov:patch:notice",
    "urn:ietf:params:scim:event:prov:put:full",
    "urn:ietf:params:scim:event:prov:put:notice",
    DELETE,
    ACTIVATE,
    DEACTIVATE,
];
