//! Change-event subscriptions: adding (validated, secret sealed, generated
//! when not given), listing and removing — never showing a stored secret.

use chrono::{SubsecRound, Utc};
use rand::RngCore;
use serde::Serialize;

use crate::crypto;
use crate::crypto::SecretKey;
use crate::error::AppError;
use crate::scim::ScimError;
use crate::store::{Store, SubscriptionRecord, WebhookStore};

/// What `subscription add` and `POST /admin/v1/subscriptions` get.
#[derive(Debug, Clone, Default)]
pub struct NewSubscription {
    pub name: String,
    pub url: String,
    /// `None`: a random one is made and shown once.
    pub secret: Option<String>,
    /// `Users`, `Groups` (or `User`, `Group`); empty is all.
    pub resource_types: Vec<String>,
}

/// A subscription as shown: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionView {
    pub id: String,
    pub name: String,
    pub url: String,
    /// `User`, `Group`; empty is all.
    pub resource_types: Vec<String>,
    /// The change-log cursor the receiver has acknowledged.
    pub cursor: String,
    pub last_error: Option<String>,
    pub created: String,
}

/// A new subscription; `secret` only when scimhub made it (shown this once).
#[derive(Debug, Serialize)]
pub struct CreatedSubscription {
    #[serde(flatten)]
    pub view: SubscriptionView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

fn view(r: &SubscriptionRecord) -> SubscriptionView {
    SubscriptionView {
        id: r.id.clone(),
        name: r.name.clone(),
        url: r.url.clone(),
        resource_types: r.resource_types.clone(),
        cursor: r.change_cursor.to_string(),
        last_error: r.last_error.clone(),
        created: crate::scim::render::format_time(&r.created),
    }
}

fn invalid(message: impl Into<String>) -> AppError {
    ScimError::invalid_value(message).into()
}

/// `Users`/`User` → `User`, `Groups`/`Group` → `Group` (as the change log names them).
fn resource_type(name: &str) -> Result<&'static str, AppError> {
    match name.trim().to_ascii_lowercase().as_str() {
        "user" | "users" => Ok("User"),
        "group" | "groups" => Ok("Group"),
        _ => Err(invalid(format!(
            "unknown resource type {name:?}: use Users and/or Groups"
        ))),
    }
}

fn generated_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("whsec_{}", hex::encode(bytes))
}

/// Validates, seals the secret and stores the subscription. It starts at
/// the newest change: the receiver gets what happens from now on.
pub fn add(
    store: &dyn Store,
    hooks: &dyn WebhookStore,
    key: Option<&SecretKey>,
    new: NewSubscription,
) -> Result<CreatedSubscription, AppError> {
    let key = key.ok_or_else(|| {
        ScimError::new(
            501,
            None,
            "SCIMHUB_SECRET_KEY (secret_key) must be set to store subscription secrets",
        )
    })?;
    let name_ok = !new.name.is_empty()
        && new.name.len() <= 64
        && new
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !name_ok {
        return Err(invalid(
            "subscription names are 1-64 letters, digits, '-', '_' or '.'",
        ));
    }
    crate::settings::check_http_url(&new.url).map_err(invalid)?;
    let mut types = Vec::new();
    for t in &new.resource_types {
        let t = resource_type(t)?;
        if !types.contains(&t) {
            types.push(t);
        }
    }
    let (secret, shown) = match new.secret {
        Some(s) if s.trim().len() < 16 => {
            return Err(invalid("the secret must be at least 16 characters"));
        }
        Some(s) => (s.trim().to_string(), None),
        None => {
            let s = generated_secret();
            (s.clone(), Some(s))
        }
    };
    let id = uuid::Uuid::new_v4().to_string();
    let record = SubscriptionRecord {
        secret: crypto::seal(key, secret.as_bytes(), &id).map_err(anyhow::Error::from)?,
        id,
        name: new.name,
        url: new.url,
        resource_types: types.into_iter().map(str::to_string).collect(),
        change_cursor: store.latest_change()?,
        last_error: None,
        created: Utc::now().trunc_subsecs(3),
    };
    hooks.create_subscription(&record)?;
    Ok(CreatedSubscription {
        view: view(&record),
        secret: shown,
    })
}

pub fn list(hooks: &dyn WebhookStore) -> Result<Vec<SubscriptionView>, AppError> {
    Ok(hooks.list_subscriptions()?.iter().map(view).collect())
}

/// Removes by id or name.
pub fn remove(hooks: &dyn WebhookStore, id_or_name: &str) -> Result<(), AppError> {
    if !hooks.delete_subscription(id_or_name)? {
        return Err(ScimError::not_found(format!("no subscription {id_or_name:?}")).into());
    }
    Ok(())
}

/// The secret in the clear, for signing only.
pub fn secret(key: &SecretKey, r: &SubscriptionRecord) -> Result<Vec<u8>, crypto::CryptoError> {
    crypto::open(key, &r.secret, &r.id)
}
