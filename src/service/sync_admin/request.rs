//! The admin API's request bodies for the sync center, read strictly:
//! unknown fields are refused, and no error message quotes a credential.

use serde::Deserialize;
use serde_json::Value;

use crate::provision::on_demand::ProvisionOptions;
use crate::provision::runs::RunOptions;
use crate::provision::target::{
    Credentials, NewTarget, TargetChanges, TargetError, TargetSettings,
};

/// `POST /admin/v1/targets`: what `scimhub target add` takes, as JSON.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetRequest {
    name: String,
    url: String,
    /// Read on its own so a type error cannot echo a secret.
    credentials: Value,
    /// TOML or JSON text, or the mapping as a JSON object.
    #[serde(default)]
    mapping: Option<Value>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    settings: TargetSettings,
    /// Test the target before storing it (`false` skips the test).
    #[serde(default = "yes")]
    test: bool,
}

fn yes() -> bool {
    true
}

/// What `POST /admin/v1/targets` asks for.
#[derive(Debug)]
pub struct AddRequest {
    pub target: NewTarget,
    /// Run the target test first and store nothing when it fails.
    pub test: bool,
}

/// `POST /admin/v1/targets/{name}/runs`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RunRequest {
    #[serde(default, alias = "dry_run")]
    dry_run: bool,
}

fn invalid(detail: impl Into<String>) -> TargetError {
    TargetError::Invalid(detail.into())
}

fn credentials(value: Value) -> Result<Credentials, TargetError> {
    serde_json::from_value(value).map_err(|e| {
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

fn mapping(value: Option<Value>) -> Result<Option<String>, TargetError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(object @ Value::Object(_)) => Ok(Some(object.to_string())),
        Some(_) => Err(invalid(
            "mapping: TOML or JSON text, or a JSON object (see docs/sync-center.md, \"Mapping file\")",
        )),
    }
}

/// The new target a request describes (validated further by `target::add`).
pub fn add_request(body: Value) -> Result<AddRequest, TargetError> {
    let request: TargetRequest =
        serde_json::from_value(body).map_err(|e| invalid(format!("bad target request: {e}")))?;
    Ok(AddRequest {
        target: NewTarget {
            name: request.name,
            base_url: request.url,
            credentials: credentials(request.credentials)?,
            mapping: mapping(request.mapping)?,
            scope: request.scope,
            settings: request.settings,
        },
        test: request.test,
    })
}

/// `PATCH /admin/v1/targets/{name}` (and `scimhub target update`): only
/// the fields given change; `settings` is merged key by key (RFC 7396), so
/// `{"settings": {"guard": {"max_percent": 5}}}` changes one number.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetPatch {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    credentials: Option<Value>,
    /// `null` goes back to the identity mapping.
    #[serde(default, deserialize_with = "crate::scim::json::given")]
    mapping: Option<Value>,
    /// `null` is every user.
    #[serde(default, deserialize_with = "crate::scim::json::given")]
    scope: Option<Value>,
    #[serde(default)]
    settings: Option<Value>,
    /// Test a new URL or new credentials before storing them (`false`
    /// skips the test). Never stored.
    #[serde(default = "yes")]
    test: bool,
}

/// What `PATCH /admin/v1/targets/{name}` asks for.
#[derive(Debug)]
pub struct UpdateRequest {
    pub changes: TargetChanges,
    /// Run the target test on a new URL or new credentials first.
    pub test: bool,
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

/// The changes a patch asks for, its settings merged over `current`.
pub fn update_request(body: Value, current: &TargetSettings) -> Result<UpdateRequest, TargetError> {
    let patch: TargetPatch =
        serde_json::from_value(body).map_err(|e| invalid(format!("bad target update: {e}")))?;
    let settings = match patch.settings {
        None => None,
        Some(changes) => {
            if !changes.is_object() {
                return Err(invalid("settings: an object of the settings to change"));
            }
            let mut merged =
                serde_json::to_value(current).map_err(|e| TargetError::Internal(e.into()))?;
            merge(&mut merged, &changes);
            Some(serde_json::from_value(merged).map_err(|e| invalid(format!("settings: {e}")))?)
        }
    };
    let scope = match patch.scope {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(s)),
        Some(_) => {
            return Err(invalid(
                "scope: a SCIM filter string, or null for every user",
            ));
        }
    };
    let changes = TargetChanges {
        base_url: patch.url,
        credentials: patch.credentials.map(credentials).transpose()?,
        mapping: patch.mapping.map(|m| mapping(Some(m))).transpose()?,
        scope,
        settings,
    };
    Ok(UpdateRequest {
        changes,
        test: patch.test,
    })
}

/// The run options a request asks for; no body is a full (not dry) run.
pub fn run_options(body: Option<Value>) -> Result<RunOptions, TargetError> {
    let request: RunRequest = match body {
        Some(value) => {
            serde_json::from_value(value).map_err(|e| invalid(format!("bad run request: {e}")))?
        }
        None => RunRequest::default(),
    };
    Ok(RunOptions {
        dry_run: request.dry_run,
    })
}

/// `POST /admin/v1/targets/{name}/provision`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ProvisionRequest {
    /// A userName or an id.
    user: String,
    #[serde(default, alias = "dry_run")]
    dry_run: bool,
    #[serde(default)]
    force: bool,
}

/// The user (userName or id) and the options of an on-demand push.
pub fn provision_request(body: Value) -> Result<(String, ProvisionOptions), TargetError> {
    let request: ProvisionRequest =
        serde_json::from_value(body).map_err(|e| invalid(format!("bad provision request: {e}")))?;
    if request.user.trim().is_empty() {
        return Err(invalid("user: a userName or an id"));
    }
    let options = ProvisionOptions {
        dry_run: request.dry_run,
        force: request.force,
    };
    Ok((request.user, options))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn base() -> Value {
        json!({"name": "app", "url": "https://app.example/scim/v2",
               "credentials": {"kind": "bearer", "token": "s3cret-token"}})
    }

    fn new_target(body: Value) -> Result<NewTarget, TargetError> {
        add_request(body).map(|r| r.target)
    }

    fn error(body: Value) -> String {
        match new_target(body) {
            Err(TargetError::Invalid(m)) => m,
            other => panic!("expected an invalid request, got {other:?}"),
        }
    }

    #[test]
    fn every_credential_kind_and_mapping_form_is_read() {
        let t = new_target(base()).unwrap();
        assert_eq!(
            t.credentials,
            Credentials::Bearer {
                token: "s3cret-token".into()
            }
        );
        assert_eq!(t.settings, TargetSettings::default());
        assert_eq!(t.mapping, None);
        assert!(
            add_request(base()).unwrap().test,
            "tested unless told not to"
        );
        let mut untested = base();
        untested["test"] = json!(false);
        assert!(!add_request(untested).unwrap().test);
        let mut body = base();
        body["credentials"] = json!({"kind": "oauth2", "token_url": "https://login.example/t",
                                     "client_id": "id", "client_secret": "x"});
        body["mapping"] = json!({"users": {"base": "identity"}});
        body["settings"] = json!({"guard": {"max_percent": 5.0, "min_count": 1}});
        let t = new_target(body).unwrap();
        assert_eq!(t.credentials.kind(), "oauth2");
        assert_eq!(
            t.mapping.as_deref(),
            Some(r#"{"users":{"base":"identity"}}"#)
        );
        assert_eq!(t.settings.guard.max_percent, 5.0);
        let mut body = base();
        body["mapping"] = json!("[users]\nbase = \"identity\"\n");
        assert!(
            new_target(body)
                .unwrap()
                .mapping
                .unwrap()
                .starts_with("[users]")
        );
    }

    #[test]
    fn an_ldap_target_is_a_kind_with_its_own_settings() {
        let mut body = base();
        body["url"] = json!("ldaps://ldap.example.org");
        body["credentials"] = json!({"kind": "basic", "username": "cn=admin,dc=x",
                                     "password": "pw"});
        body["settings"] = json!({"kind": "ldap", "ldap": {"base_dn": "dc=x",
            "users": {"dn": "uid={uid},dc=x"}, "deactivate": {"by": "account_control"}}});
        let t = new_target(body).unwrap();
        let ldap = t.settings.ldap.unwrap();
        assert_eq!(t.settings.kind.as_str(), "ldap");
        assert_eq!(ldap.users.dn, "uid={uid},dc=x");
        assert_eq!(ldap.id_attribute, "entryUUID", "defaults fill the rest");
        let mut body = base();
        body["settings"] = json!({"kind": "ldap", "ldap": {"base": "dc=x"}});
        assert!(error(body).contains("unknown field `base`"));
        let mut body = base();
        body["settings"] = json!({"kind": "x500"});
        assert!(error(body).contains("unknown variant `x500`"));
    }

    #[test]
    fn bad_requests_are_refused_without_quoting_secrets() {
        let mut body = base();
        body["extra"] = json!(1);
        assert!(error(body).contains("unknown field `extra`"));
        let mut body = base();
        body["credentials"] = json!("s3cret-token");
        assert!(!error(body).contains("s3cret"));
        let mut body = base();
        body["credentials"] = json!({"kind": "basic", "username": "u", "password": 12345});
        assert!(!error(body).contains("12345"));
        let mut body = base();
        body["credentials"] = json!({"kind": "bearer", "token": "t", "secret": "s3cret-x"});
        let message = error(body);
        assert!(message.contains("unknown field `secret`") && !message.contains("s3cret"));
        let mut body = base();
        body["mapping"] = json!(7);
        assert!(error(body).starts_with("mapping:"));
        let mut body = base();
        body["settings"] = json!({"timeout": 5});
        assert!(error(body).contains("unknown field `timeout`"));
    }

    fn target_changes(body: Value, current: &TargetSettings) -> Result<TargetChanges, TargetError> {
        update_request(body, current).map(|r| r.changes)
    }

    #[test]
    fn updates_change_only_what_they_name() {
        let current = TargetSettings::default();
        let c = target_changes(
            json!({"settings": {"guard": {"max_percent": 5.0}}}),
            &current,
        )
        .unwrap();
        let s = c.settings.unwrap();
        assert_eq!(s.guard.max_percent, 5.0);
        assert_eq!(s.guard.min_count, current.guard.min_count);
        assert_eq!(s.matching, current.matching);
        assert!(c.base_url.is_none() && c.credentials.is_none() && c.mapping.is_none());
        let c = target_changes(json!({"scope": null, "mapping": null}), &current).unwrap();
        assert_eq!(c.scope, Some(None));
        assert_eq!(c.mapping, Some(None));
        let c = target_changes(
            json!({"credentials": {"kind": "bearer", "token": "t2"}}),
            &current,
        )
        .unwrap();
        assert_eq!(c.credentials.unwrap().kind(), "bearer");
        assert!(target_changes(json!({"name": "x"}), &current).is_err());
        assert!(target_changes(json!({"settings": {"timeout": 1}}), &current).is_err());
        assert!(target_changes(json!({"scope": 3}), &current).is_err());
        // `test` is the request's, never a setting.
        assert!(
            update_request(json!({"url": "https://x.example"}), &current)
                .unwrap()
                .test
        );
        let untested = update_request(json!({"url": "https://x.example", "test": false}), &current);
        assert!(!untested.unwrap().test);
        assert!(target_changes(json!({"settings": {"test": false}}), &current).is_err());
        assert!(target_changes(json!({"test": "no"}), &current).is_err());
    }

    #[test]
    fn run_requests_are_optional_and_strict() {
        assert!(!run_options(None).unwrap().dry_run);
        assert!(run_options(Some(json!({"dryRun": true}))).unwrap().dry_run);
        assert!(run_options(Some(json!({"dry_run": true}))).unwrap().dry_run);
        assert!(run_options(Some(json!({"dryRun": "yes"}))).is_err());
        assert!(run_options(Some(json!({"force": true}))).is_err());
    }

    #[test]
    fn provision_requests_name_a_user_and_nothing_unknown() {
        let (user, options) = provision_request(json!({"user": "alice", "dryRun": true})).unwrap();
        assert_eq!(user, "alice");
        assert!(options.dry_run && !options.force);
        let (_, options) = provision_request(json!({"user": "a", "force": true})).unwrap();
        assert!(options.force && !options.dry_run);
        for bad in [
            json!({}),
            json!({"user": "  "}),
            json!({"user": "a", "dryrun": true}),
            json!({"user": 7}),
        ] {
            let e = provision_request(bad.clone()).unwrap_err();
            assert!(matches!(e, TargetError::Invalid(_)), "{bad}: {e:?}");
        }
    }
}
