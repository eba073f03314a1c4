//! The claims of one SCIM event (RFC 9967 §2 over RFC 8417): pure, from a
//! change-log row and what is known of the resource now.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::scim::ResourceKind;
use crate::store::{ChangeRecord, EventMode};

pub use crate::scim::event_uris::{ACTIVATE, DEACTIVATE, DELETE, EVENT_URIS, PROV};

/// The resource as it is now, when it still exists.
pub use crate::store::Current;

/// Who a SET is for and who issued it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    pub jti: &'a str,
    pub issuer: &'a str,
    pub audience: &'a str,
    pub issued_at: DateTime<Utc>,
}

/// The RFC 9967 event name of a change-log operation. `update` is a
/// membership change another write caused (a user's `groups`, a group's
/// `members` losing a deleted member): a patch of that attribute.
fn event_name(operation: &str) -> Option<&'static str> {
    match operation {
        "create" => Some("create"),
        "replace" => Some("put"),
        "patch" | "update" => Some("patch"),
        "delete" => Some("delete"),
        _ => None,
    }
}

/// Whether a change-log operation becomes a SCIM event.
pub fn issues(operation: &str) -> bool {
    event_name(operation).is_some()
}

/// The SET claims for `change`. In `full` mode `data` is the resource as it
/// is now, sent only while that is still the version the change made; a
/// resource changed again since (or gone) is a notice, with the attribute
/// names. Deletions carry no payload. A change of `active` adds the
/// activate / deactivate event to the same SET (same change, same subject).
pub fn claims(
    envelope: &Envelope<'_>,
    change: &ChangeRecord,
    current: Option<&Current>,
    mode: EventMode,
) -> Option<Value> {
    let name = event_name(&change.operation)?;
    let version = format!("W/\"{}\"", change.version);
    let mut events = Map::new();
    if name == "delete" {
        events.insert(DELETE.into(), json!({}));
    } else {
        let full = current.filter(|c| mode == EventMode::Full && c.version == change.version);
        let (uri, payload) = match full {
            Some(c) => (
                format!("{PROV}:{name}:full"),
                json!({"version": version, "data": c.representation}),
            ),
            None => (
                format!("{PROV}:{name}:notice"),
                json!({"version": version, "attributes": change.attributes}),
            ),
        };
        events.insert(uri, payload);
    }
    match change.active {
        Some(true) => events.insert(ACTIVATE.into(), json!({})),
        Some(false) => events.insert(DEACTIVATE.into(), json!({})),
        None => None,
    };
    let endpoint = match ResourceKind::parse(&change.resource_type) {
        Some(kind) => kind.endpoint(),
        None => change.resource_type.as_str(),
    };
    let mut subject = json!({
        "format": "scim",
        "uri": format!("/{endpoint}/{}", change.resource_id),
        "id": change.resource_id,
    });
    if let Some(external_id) = current.and_then(|c| c.external_id.as_deref()) {
        subject["externalId"] = json!(external_id);
    }
    Some(json!({
        "jti": envelope.jti,
        "iss": envelope.issuer,
        "aud": envelope.audience,
        "iat": envelope.issued_at.timestamp(),
        "toe": change.changed_at.timestamp(),
        "txn": change.seq.to_string(),
        "sub_id": subject,
        "events": events,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(
        operation: &str,
        version: i64,
        attributes: &[&str],
        active: Option<bool>,
    ) -> ChangeRecord {
        ChangeRecord {
            seq: 42,
            resource_type: "User".into(),
            resource_id: "u1".into(),
            operation: operation.into(),
            version,
            changed_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            actor: "test".into(),
            attributes: attributes.iter().map(|a| a.to_string()).collect(),
            active,
        }
    }

    fn current(version: i64) -> Current {
        Current {
            version,
            external_id: Some("ext-1".into()),
            representation: json!({"id": "u1", "userName": "alice"}),
        }
    }

    fn envelope() -> Envelope<'static> {
        Envelope {
            jti: "sub:42",
            issuer: "https://hub.example",
            audience: "https://receiver.example/events",
            issued_at: DateTime::from_timestamp(1_700_000_100, 0).unwrap(),
        }
    }

    #[test]
    fn a_full_create_carries_the_resource_and_the_envelope() {
        let c = claims(
            &envelope(),
            &change("create", 1, &["userName"], None),
            Some(&current(1)),
            EventMode::Full,
        )
        .unwrap();
        assert_eq!(
            c,
            json!({
                "jti": "sub:42",
                "iss": "https://hub.example",
                "aud": "https://receiver.example/events",
                "iat": 1_700_000_100,
                "toe": 1_700_000_000,
                "txn": "42",
                "sub_id": {"format": "scim", "uri": "/Users/u1", "id": "u1", "externalId": "ext-1"},
                "events": {
                    "urn:ietf:params:scim:event:prov:create:full": {
                        "version": "W/\"1\"",
                        "data": {"id": "u1", "userName": "alice"},
                    }
                },
            })
        );
    }

    #[test]
    fn notice_mode_and_a_newer_resource_send_attribute_names() {
        let row = change("replace", 2, &["name", "title"], None);
        let notice = json!({"version": "W/\"2\"", "attributes": ["name", "title"]});
        for (current, mode) in [
            (Some(current(2)), EventMode::Notice),
            (Some(current(3)), EventMode::Full),
            (None, EventMode::Full),
        ] {
            let c = claims(&envelope(), &row, current.as_ref(), mode).unwrap();
            assert_eq!(
                c["events"],
                json!({"urn:ietf:params:scim:event:prov:put:notice": notice})
            );
        }
    }

    #[test]
    fn activation_is_a_second_event_and_deletion_has_no_payload() {
        let c = claims(
            &envelope(),
            &change("patch", 4, &["active"], Some(false)),
            Some(&current(4)),
            EventMode::Notice,
        )
        .unwrap();
        let uris: Vec<&String> = c["events"].as_object().unwrap().keys().collect();
        assert_eq!(
            uris,
            ["urn:ietf:params:scim:event:prov:patch:notice", DEACTIVATE]
        );
        let c = claims(
            &envelope(),
            &change("update", 5, &["groups"], None),
            None,
            EventMode::Full,
        )
        .unwrap();
        assert!(
            c["events"]
                .get("urn:ietf:params:scim:event:prov:patch:notice")
                .is_some()
        );
        let c = claims(
            &envelope(),
            &change("create", 1, &["active"], Some(true)),
            Some(&current(1)),
            EventMode::Full,
        )
        .unwrap();
        assert_eq!(c["events"][ACTIVATE], json!({}));
        let c = claims(
            &envelope(),
            &change("delete", 6, &[], None),
            None,
            EventMode::Full,
        )
        .unwrap();
        assert_eq!(c["events"], json!({DELETE: {}}));
        assert_eq!(
            c["sub_id"],
            json!({"format": "scim", "uri": "/Users/u1", "id": "u1"})
        );
        assert!(
            claims(
                &envelope(),
                &change("rename", 1, &[], None),
                None,
                EventMode::Full
            )
            .is_none()
        );
    }
}
