//! Change-event subscriptions: adding (validated, secret sealed, generated
//! when not given), listing and removing — never showing a stored secret.
//! A subscription sends scimhub's JSON webhooks or SCIM events (SETs),
//! pushed or, for SETs, polled.

use chrono::{SubsecRound, Utc};
use rand::RngCore;
use serde::Serialize;

use crate::crypto;
use crate::crypto::SecretKey;
use crate::error::AppError;
use crate::scim::{ResourceKind, ScimError};
use crate::store::{Delivery, EventFormat, EventMode, Store, SubscriptionRecord, WebhookStore};

/// What `subscription add` and `POST /admin/v1/subscriptions` get.
#[derive(Debug, Clone, Default)]
pub struct NewSubscription {
    pub name: String,
    /// Where to push; none for poll subscriptions.
    pub url: Option<String>,
    /// `webhook` (default) or `set`.
    pub format: Option<String>,
    /// `push` (default) or `poll` (SETs only).
    pub delivery: Option<String>,
    /// `full` (default) or `notice` (SETs only).
    pub mode: Option<String>,
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
    /// Empty for poll subscriptions.
    pub url: String,
    pub format: &'static str,
    pub delivery: &'static str,
    pub mode: &'static str,
    /// Where a poll receiver fetches its SETs (under the server's root).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poll_path: Option<String>,
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
        format: r.format.as_str(),
        delivery: r.delivery.as_str(),
        mode: r.mode.as_str(),
        poll_path: (r.delivery == Delivery::Poll).then(|| super::set::poll_path(&r.id)),
        resource_types: r.resource_types.clone(),
        cursor: r.change_cursor.to_string(),
        last_error: r.last_error.clone(),
        created: crate::scim::render::format_time(&r.created),
    }
}

fn invalid(message: impl Into<String>) -> AppError {
    ScimError::invalid_value(message).into()
}

/// A resource type of the registry by its name or endpoint (`User`, `Users`,
/// `Agents`, any case).
fn resource_type(name: &str) -> Result<&'static str, AppError> {
    let name = name.trim();
    let types = &crate::scim::registry::registry().resource_types;
    ResourceKind::parse(name)
        .or_else(|| ResourceKind::by_endpoint(name))
        .map(|k| k.as_str())
        .ok_or_else(|| {
            let known: Vec<&str> = types.iter().map(|rt| rt.kind.endpoint()).collect();
            invalid(format!(
                "unknown resource type {name:?}: use {}",
                known.join(", ")
            ))
        })
}

/// One of an enum's words, or an error listing them.
fn word<T>(
    what: &str,
    given: Option<&str>,
    default: T,
    parse: fn(&str) -> Option<T>,
    words: &[&str],
) -> Result<T, AppError> {
    let Some(given) = given else {
        return Ok(default);
    };
    parse(&given.trim().to_ascii_lowercase()).ok_or_else(|| {
        invalid(format!(
            "unknown {what} {given:?}: use {}",
            words.join(" or ")
        ))
    })
}

/// Format, delivery and mode, and the URL they call for.
fn shape(
    new: &NewSubscription,
    sets_signable: bool,
) -> Result<(EventFormat, Delivery, EventMode, String), AppError> {
    let format = word(
        "format",
        new.format.as_deref(),
        EventFormat::Webhook,
        EventFormat::parse,
        EventFormat::WORDS,
    )?;
    let delivery = word(
        "delivery",
        new.delivery.as_deref(),
        Delivery::Push,
        Delivery::parse,
        Delivery::WORDS,
    )?;
    let mode = word(
        "mode",
        new.mode.as_deref(),
        EventMode::Full,
        EventMode::parse,
        EventMode::WORDS,
    )?;
    if format == EventFormat::Webhook {
        if delivery == Delivery::Poll {
            return Err(invalid(
                "poll delivery is for SCIM events: use --format set",
            ));
        }
        if new.mode.is_some() {
            return Err(invalid(
                "full and notice modes are for SCIM events: use --format set",
            ));
        }
    }
    if format == EventFormat::Set && !sets_signable {
        return Err(ScimError::new(
            501,
            None,
            "SCIM events are signed: set events.signing_key_file              (SCIMHUB_EVENTS_SIGNING_KEY_FILE) to a PEM private key first",
        )
        .into());
    }
    let url = match (delivery, &new.url) {
        (Delivery::Push, Some(url)) => {
            crate::settings::check_http_url(url).map_err(invalid)?;
            url.clone()
        }
        (Delivery::Push, None) => {
            return Err(invalid("a push subscription needs the receiver's URL"));
        }
        (Delivery::Poll, Some(_)) => {
            return Err(invalid(
                "a poll subscription has no URL: its receiver fetches SETs from scimhub",
            ));
        }
        (Delivery::Poll, None) => String::new(),
    };
    Ok((format, delivery, mode, url))
}

fn generated_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("whsec_{}", hex::encode(bytes))
}

/// Validates, seals the secret and stores the subscription. It starts at
/// the newest change: the receiver gets what happens from now on.
/// `sets_signable`: an events signing key is configured.
pub fn add(
    store: &dyn Store,
    hooks: &dyn WebhookStore,
    key: Option<&SecretKey>,
    sets_signable: bool,
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
    let (format, delivery, mode, url) = shape(&new, sets_signable)?;
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
        Some(s)
            if format == EventFormat::Set && !s.trim().chars().all(|c| c.is_ascii_graphic()) =>
        {
            return Err(invalid(
                "a SCIM events secret is sent as a bearer token: use ASCII letters, digits and \
                 punctuation, no spaces",
            ));
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
        url,
        format,
        delivery,
        mode,
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

/// The secret in the clear, for signing and for checking a poll's bearer token only.
pub fn secret(key: &SecretKey, r: &SubscriptionRecord) -> Result<Vec<u8>, crypto::CryptoError> {
    crypto::open(key, &r.secret, &r.id)
}
