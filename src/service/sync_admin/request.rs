//! The admin API's request bodies for the sync center, read strictly:
//! unknown fields are refused, and no error message quotes a credential.

use serde::Deserialize;
use serde_json::Value;

use crate::provision::sync::RunOptions;
use crate::provision::target::{Credentials, NewTarget, TargetError, TargetSettings};

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
            "mapping: TOML or JSON text, or a JSON object (see the README's mapping file)",
        )),
    }
}

/// The new target a request describes (validated further by `target::add`).
pub fn new_target(body: Value) -> Result<NewTarget, TargetError> {
    let request: TargetRequest =
        serde_json::from_value(body).map_err(|e| invalid(format!("bad target request: {e}")))?;
    Ok(NewTarget {
        name: request.name,
        base_url: request.url,
        credentials: credentials(request.credentials)?,
        mapping: mapping(request.mapping)?,
        scope: request.scope,
        settings: request.settings,
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn base() -> Value {
        json!({"name": "app", "url": "https://app.example/scim/v2",
               "credentials": {"kind": "bearer", "token": "s3cret-token"}})
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

    #[test]
    fn run_requests_are_optional_and_strict() {
        assert!(!run_options(None).unwrap().dry_run);
        assert!(run_options(Some(json!({"dryRun": true}))).unwrap().dry_run);
        assert!(run_options(Some(json!({"dry_run": true}))).unwrap().dry_run);
        assert!(run_options(Some(json!({"dryRun": "yes"}))).is_err());
        assert!(run_options(Some(json!({"force": true}))).is_err());
    }
}
