//! The admin API's request bodies for sources, read strictly: unknown
//! fields are refused, and no error message quotes a credential.

use serde::Deserialize;
use serde_json::Value;

use crate::provision::source::{
    ImportOptions, NewSource, RunMode, SourceChanges, SourceError, SourceKind, SourceSettings,
};
use crate::provision::target::Credentials;

fn invalid(detail: impl Into<String>) -> SourceError {
    SourceError::Invalid(detail.into())
}

/// `POST /admin/v1/sources`: what `scimhub source add` takes, as JSON.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceRequest {
    name: String,
    kind: String,
    #[serde(default)]
    settings: SourceSettings,
    /// Read on its own so a type error cannot echo a secret.
    #[serde(default)]
    credentials: Option<Value>,
    /// TOML or JSON text, or the mapping as a JSON object.
    #[serde(default)]
    mapping: Option<Value>,
}

fn credentials(value: Value) -> Result<Option<Credentials>, SourceError> {
    if value.is_null() {
        return Ok(None);
    }
    serde_json::from_value(value).map(Some).map_err(|e| {
        let message = e.to_string();
        // Type and value errors quote the offending value, which may be a secret.
        if message.starts_with("invalid type") || message.starts_with("invalid value") {
            invalid(
                "credentials: an object with \"kind\" (bearer, basic or oauth2) and its \
                 fields, each a string",
            )
        } else {
            invalid(format!("credentials: {message}"))
        }
    })
}

fn mapping(value: Option<Value>) -> Result<Option<String>, SourceError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(object @ Value::Object(_)) => Ok(Some(object.to_string())),
        Some(_) => Err(invalid(
            "mapping: TOML or JSON text, or a JSON object (see docs/sources.md, \"Mapping\")",
        )),
    }
}

pub fn add_request(body: Value) -> Result<NewSource, SourceError> {
    let r: SourceRequest =
        serde_json::from_value(body).map_err(|e| invalid(format!("bad source request: {e}")))?;
    let kind = SourceKind::parse(&r.kind)
        .ok_or_else(|| invalid(format!("kind {:?} is none of file, scim, ldap", r.kind)))?;
    Ok(NewSource {
        name: r.name,
        kind,
        settings: r.settings,
        credentials: r.credentials.map(credentials).transpose()?.flatten(),
        mapping: mapping(r.mapping)?,
    })
}

/// `PATCH /admin/v1/sources/{name}`: only the fields given change;
/// `settings` is merged key by key (RFC 7396).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourcePatch {
    #[serde(default)]
    settings: Option<Value>,
    /// `null` drops them.
    #[serde(default, deserialize_with = "crate::scim::json::given")]
    credentials: Option<Value>,
    /// `null` drops the mapping.
    #[serde(default, deserialize_with = "crate::scim::json::given")]
    mapping: Option<Value>,
}

/// RFC 7396 JSON merge patch.
fn merge(into: &mut Value, patch: &Value) {
    match (into, patch) {
        (Value::Object(into), Value::Object(patch)) => {
            for (k, v) in patch {
                if v.is_null() {
                    into.remove(k);
                } else {
                    merge(into.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (into, patch) => *into = patch.clone(),
    }
}

pub fn update_request(body: Value, current: &SourceSettings) -> Result<SourceChanges, SourceError> {
    let patch: SourcePatch =
        serde_json::from_value(body).map_err(|e| invalid(format!("bad source update: {e}")))?;
    let settings = match patch.settings {
        None => None,
        Some(changes) => {
            if !changes.is_object() {
                return Err(invalid("settings: an object of the settings to change"));
            }
            let mut merged =
                serde_json::to_value(current).map_err(|e| SourceError::Internal(e.into()))?;
            merge(&mut merged, &changes);
            Some(serde_json::from_value(merged).map_err(|e| invalid(format!("settings: {e}")))?)
        }
    };
    let changes = SourceChanges {
        settings,
        credentials: patch.credentials.map(credentials).transpose()?,
        mapping: patch.mapping.map(|m| mapping(Some(m))).transpose()?,
    };
    if changes.settings.is_none() && changes.credentials.is_none() && changes.mapping.is_none() {
        return Err(invalid(
            "nothing to change: give settings, credentials or mapping",
        ));
    }
    Ok(changes)
}

/// `POST /admin/v1/sources/{name}/runs`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RunRequest {
    #[serde(default)]
    mode: RunMode,
    #[serde(default, alias = "dry_run")]
    dry_run: bool,
}

pub fn run_options(body: Option<Value>, trigger: &str) -> Result<ImportOptions, SourceError> {
    let r: RunRequest = match body {
        Some(v) => {
            serde_json::from_value(v).map_err(|e| invalid(format!("bad run request: {e}")))?
        }
        None => RunRequest::default(),
    };
    Ok(ImportOptions {
        mode: r.mode,
        dry_run: r.dry_run,
        trigger: trigger.to_string(),
        upload: None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_credential_in_a_bad_request_is_never_echoed() {
        let e = add_request(json!({"name": "a", "kind": "scim",
            "credentials": {"kind": "bearer", "token": 12345678}}))
        .unwrap_err();
        assert!(!e.to_string().contains("12345678"), "{e}");
        assert!(
            add_request(json!({"name": "a", "kind": "nfs"}))
                .unwrap_err()
                .to_string()
                .contains("nfs")
        );
    }

    #[test]
    fn updates_merge_settings_and_may_drop_the_mapping() {
        let current = SourceSettings::default();
        let c = update_request(
            json!({"settings": {"guard": {"max_percent": 5}}, "mapping": null}),
            &current,
        )
        .unwrap();
        let s = c.settings.unwrap();
        assert_eq!(s.guard.max_percent, 5.0);
        assert_eq!(s.guard.min_count, current.guard.min_count);
        assert_eq!(c.mapping, Some(None));
        assert!(update_request(json!({}), &current).is_err());
    }
}
