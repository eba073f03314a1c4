//! Downstream targets: adding (validated, credentials sealed), listing,
//! showing (never the credentials) and removing, over `SyncStore`.

use std::collections::BTreeMap;

use anyhow::Context;
use chrono::{SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use super::client::ClientOptions;
use super::connector::TargetKind;
use super::connector::ldap::LdapSettings;
use super::connector::rest::RestSettings;
use super::connector::sql::SqlSettings;
use super::departments::DepartmentMode;
use super::mapping::MappingFile;
use super::plan::{DeletionGuard, DeprovisionMode, OrphanPolicy};
use super::target_check::{check_filter, check_settings};
use crate::crypto;
use crate::crypto::SecretKey;
use crate::scim::ResourceKind;
use crate::store::{StoreError, SyncStore, TargetRecord, TargetState};

/// Why a target use case failed; the front ends map each kind to their
/// own answer (exit message, HTTP status).
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// Bad input: nothing was stored.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Duplicate(String),
    #[error("no target named {0:?}")]
    Unknown(String),
    /// Something else the request names does not exist.
    #[error("{0}")]
    Missing(String),
    #[error(
        "SCIMHUB_SECRET_KEY (secret_key) must be set to store target credentials: \
         32 random bytes as hex, e.g. from `openssl rand -hex 32`"
    )]
    NoSecretKey,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<crate::blocking::TaskFailed> for TargetError {
    fn from(e: crate::blocking::TaskFailed) -> Self {
        TargetError::Internal(e.into())
    }
}

impl From<StoreError> for TargetError {
    fn from(e: StoreError) -> Self {
        TargetError::Internal(e.into())
    }
}

fn invalid(e: impl std::fmt::Display) -> TargetError {
    TargetError::Invalid(format!("{e:#}"))
}

/// How scimhub authenticates to the target (sealed as JSON).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Credentials {
    Bearer {
        token: String,
    },
    /// HTTP basic (RFC 7617).
    Basic {
        username: String,
        password: String,
    },
    /// OAuth 2.0 client credentials grant (RFC 6749 §4.4).
    #[serde(rename = "oauth2")]
    OAuth2 {
        token_url: String,
        client_id: String,
        client_secret: String,
        scope: Option<String>,
    },
    /// Nothing to present: a database that trusts the connection (SQL
    /// targets only; every HTTP and LDAP target needs credentials).
    None,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Bearer { .. } => f.write_str("Bearer(redacted)"),
            Credentials::Basic { .. } => f.write_str("Basic(redacted)"),
            Credentials::OAuth2 { .. } => f.write_str("OAuth2(redacted)"),
            Credentials::None => f.write_str("None"),
        }
    }
}

impl Credentials {
    pub fn kind(&self) -> &'static str {
        match self {
            Credentials::Bearer { .. } => "bearer",
            Credentials::Basic { .. } => "basic",
            Credentials::OAuth2 { .. } => "oauth2",
            Credentials::None => "none",
        }
    }

    /// Why these credentials cannot work (never quoting a secret).
    pub fn check(&self) -> Result<(), String> {
        let blank = |s: &str| s.trim().is_empty();
        match self {
            Credentials::Bearer { token } if blank(token) => Err("the token is empty".into()),
            Credentials::Basic { username, .. } if blank(username) => {
                Err("the basic-auth user name is empty".into())
            }
            Credentials::Basic { username, .. } if username.contains(':') => {
                Err("the basic-auth user name cannot contain ':' (RFC 7617)".into())
            }
            Credentials::OAuth2 {
                token_url,
                client_id,
                client_secret,
                scope,
            } => {
                crate::settings::check_http_url(token_url)
                    .map_err(|e| format!("OAuth token URL: {e}"))?;
                if blank(client_id) {
                    return Err("the OAuth client id is empty".into());
                }
                if blank(client_secret) {
                    return Err("the OAuth client secret is empty".into());
                }
                if scope.as_deref().is_some_and(blank) {
                    return Err("the OAuth scope is empty (leave it out instead)".into());
                }
                Ok(())
            }
            Credentials::Bearer { .. } | Credentials::Basic { .. } | Credentials::None => Ok(()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AllowedActions {
    pub create: bool,
    pub update: bool,
    pub deactivate: bool,
    pub delete: bool,
}

impl Default for AllowedActions {
    fn default() -> Self {
        Self {
            create: true,
            update: true,
            deactivate: true,
            delete: false,
        }
    }
}

/// Everything about a target that is not secret (stored as JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TargetSettings {
    /// What kind of system the target is (settings stored before kinds existed are SCIM).
    pub kind: TargetKind,
    /// An LDAP target's own settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ldap: Option<LdapSettings>,
    /// A SQL target's tables and columns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sql: Option<SqlSettings>,
    /// A REST target's request templates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rest: Option<RestSettings>,
    pub auth: String,
    pub resource_types: Vec<String>,
    pub actions: AllowedActions,
    pub deprovision: DeprovisionMode,
    /// The matching attribute that links existing accounts.
    pub matching: String,
    pub guard: DeletionGuard,
    pub timeout_secs: u64,
    pub max_concurrency: usize,
    /// Extra non-secret request headers.
    pub headers: BTreeMap<String, String>,
    /// A SCIM filter choosing the groups in scope; `None` is every group.
    pub group_scope: Option<String>,
    /// Only users who are members of these groups (display names); empty is no restriction.
    pub scope_groups: Vec<String>,
    /// Seconds between scheduled full reconciles (drift repair); none when unset.
    pub reconcile_secs: Option<u64>,
    /// Target accounts no local resource accounts for: reported, or deprovisioned.
    pub orphans: OrphanPolicy,
    /// Most requests per second to the target from this process; none when unset.
    pub rate_limit: Option<u32>,
    /// Only this department's subtree is provisioned: its departments, and
    /// only the people under it. None: the whole tree and everyone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_department: Option<String>,
    /// People only under one of these departments (ids; their subtrees).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub department_scope: Vec<String>,
    /// How departments reach the target: groups, attribute (the people's
    /// `department` string) or none.
    pub departments: DepartmentMode,
}

impl Default for TargetSettings {
    fn default() -> Self {
        Self {
            kind: TargetKind::Scim,
            ldap: None,
            sql: None,
            rest: None,
            auth: "bearer".into(),
            resource_types: vec!["Users".into(), "Groups".into()],
            actions: AllowedActions::default(),
            deprovision: DeprovisionMode::Deactivate,
            matching: "userName".into(),
            guard: DeletionGuard::default(),
            timeout_secs: 30,
            max_concurrency: 4,
            headers: BTreeMap::new(),
            group_scope: None,
            scope_groups: Vec::new(),
            reconcile_secs: None,
            orphans: OrphanPolicy::Report,
            rate_limit: None,
            root_department: None,
            department_scope: Vec::new(),
            departments: DepartmentMode::Attribute,
        }
    }
}

/// What `target add` gets.
#[derive(Debug, Clone)]
pub struct NewTarget {
    pub name: String,
    pub base_url: String,
    pub credentials: Credentials,
    /// The mapping file's text (TOML or JSON); `None` is the identity mapping.
    pub mapping: Option<String>,
    pub scope: Option<String>,
    pub settings: TargetSettings,
}

/// A target as shown to people and the admin API: no credentials.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetView {
    pub name: String,
    pub base_url: String,
    pub scope: Option<String>,
    pub mapping: Option<MappingFile>,
    pub settings: TargetSettings,
    /// `new` (nothing pushed until the initial full run), `active`, `paused`.
    pub state: TargetState,
    pub change_cursor: i64,
    pub created: String,
    pub updated: String,
}

/// What `target update` changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct TargetChanges {
    pub base_url: Option<String>,
    pub credentials: Option<Credentials>,
    /// `Some(None)` goes back to the identity mapping.
    pub mapping: Option<Option<String>>,
    /// `Some(None)` is every user.
    pub scope: Option<Option<String>>,
    /// The whole new settings (the caller merged its changes in).
    pub settings: Option<TargetSettings>,
}

impl TargetChanges {
    /// Changes that alter who or what is provisioned: existing accounts
    /// follow only through a reconcile.
    pub fn needs_reconcile(&self, before: &TargetView) -> bool {
        self.mapping.is_some()
            || self.scope.is_some()
            || self.settings.as_ref().is_some_and(|s| {
                s.resource_types != before.settings.resource_types
                    || s.group_scope != before.settings.group_scope
                    || s.scope_groups != before.settings.scope_groups
                    || s.matching != before.settings.matching
                    || s.ldap != before.settings.ldap
                    || s.root_department != before.settings.root_department
                    || s.department_scope != before.settings.department_scope
                    || s.departments != before.settings.departments
            })
    }
}

fn check_name(name: &str) -> Result<(), TargetError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        return Err(TargetError::Invalid(
            "target names are 1-64 letters, digits, '-', '_' or '.'".into(),
        ));
    }
    Ok(())
}

/// Validates everything, seals the credentials and stores the target.
pub fn add(
    store: &dyn SyncStore,
    key: Option<&SecretKey>,
    new: NewTarget,
) -> Result<TargetView, TargetError> {
    let key = key.ok_or(TargetError::NoSecretKey)?;
    check_name(&new.name)?;
    let kind = new.settings.kind;
    let base_url = kind
        .check_url(&new.base_url)
        .map_err(TargetError::Invalid)?;
    check_credentials(kind, &new.credentials)?;
    let checked = checked_settings(&new.settings, new.credentials.kind())?;
    let mapping = compile_mapping(&checked, new.mapping.as_deref())?;
    check_scope(new.scope.as_deref())?;
    let settings = encode_settings(&checked)?;
    let id = uuid::Uuid::new_v4().to_string();
    let credentials = seal(key, &new.credentials, &id)?;
    let now = Utc::now().trunc_subsecs(3);
    let record = TargetRecord {
        id,
        name: new.name,
        base_url,
        credentials,
        settings,
        mapping,
        scope: new.scope,
        change_cursor: 0,
        created: now,
        updated: now,
        state: TargetState::New,
    };
    store.create_target(record.clone()).map_err(|e| match e {
        StoreError::Rejected(s) => TargetError::Duplicate(s.detail),
        other => other.into(),
    })?;
    tracing::info!(target: "audit", name = %record.name, url = %record.base_url, "sync target added");
    Ok(view(&record)?)
}

fn check_credentials(kind: TargetKind, credentials: &Credentials) -> Result<(), TargetError> {
    credentials.check().map_err(TargetError::Invalid)?;
    kind.check_credentials(credentials)
        .map_err(TargetError::Invalid)
}

/// The mapping file as stored (JSON), checked for the target's kind.
fn compile_mapping(
    settings: &TargetSettings,
    text: Option<&str>,
) -> Result<Option<String>, TargetError> {
    let (file, _) = settings
        .kind
        .mapping(settings, text)
        .map_err(TargetError::Invalid)?;
    match file {
        Some(file) => Ok(Some(
            serde_json::to_string(&file).context("encoding the mapping")?,
        )),
        None => Ok(None),
    }
}

fn check_scope(scope: Option<&str>) -> Result<(), TargetError> {
    if let Some(scope) = scope {
        check_filter(scope, ResourceKind::User, "scope").map_err(invalid)?;
    }
    Ok(())
}

/// The settings checked, with the credentials' auth kind.
fn checked_settings(settings: &TargetSettings, auth: &str) -> Result<TargetSettings, TargetError> {
    Ok(TargetSettings {
        auth: auth.to_string(),
        ..check_settings(settings).map_err(invalid)?
    })
}

fn encode_settings(settings: &TargetSettings) -> Result<String, TargetError> {
    Ok(serde_json::to_string(settings).context("encoding the settings")?)
}

fn seal(key: &SecretKey, credentials: &Credentials, id: &str) -> Result<String, TargetError> {
    let plaintext = serde_json::to_vec(credentials).context("encoding the credentials")?;
    Ok(crypto::seal(key, &plaintext, id).context("sealing the credentials")?)
}

/// The target with `changes` applied, everything checked, nothing
/// stored (`save` stores it). Its id map, runs, queue, held approvals and
/// cursor stay as they are.
pub fn apply(
    mut record: TargetRecord,
    key: Option<&SecretKey>,
    changes: TargetChanges,
) -> Result<TargetRecord, TargetError> {
    let current: TargetSettings =
        serde_json::from_str(&record.settings).context("stored settings are corrupt")?;
    let wanted = changes.settings.as_ref().unwrap_or(&current);
    let kind = current.kind;
    if wanted.kind != kind {
        return Err(TargetError::Invalid(format!(
            "a target's kind cannot change ({} to {}): add a new target",
            kind.as_str(),
            wanted.kind.as_str()
        )));
    }
    if let Some(url) = &changes.base_url {
        record.base_url = kind.check_url(url).map_err(TargetError::Invalid)?;
    }
    let new_auth = match changes.credentials {
        Some(c) => {
            check_credentials(kind, &c)?;
            let key = key.ok_or(TargetError::NoSecretKey)?;
            record.credentials = seal(key, &c, &record.id)?;
            Some(c.kind())
        }
        None => None,
    };
    let auth = new_auth.unwrap_or(&current.auth);
    let settings = checked_settings(wanted, auth)?;
    let stored_mapping = view(&record)?.mapping.map(|m| serde_json::to_string(&m));
    let mapping_text = match &changes.mapping {
        Some(mapping) => mapping.clone(),
        None => stored_mapping.transpose().context("encoding the mapping")?,
    };
    // A mapping is checked against the settings it will run with.
    record.mapping = compile_mapping(&settings, mapping_text.as_deref())?;
    if let Some(scope) = changes.scope {
        check_scope(scope.as_deref())?;
        record.scope = scope;
    }
    record.settings = encode_settings(&settings)?;
    record.updated = Utc::now().trunc_subsecs(3);
    Ok(record)
}

/// Stores a target changed by `apply`.
pub fn save(store: &dyn SyncStore, record: &TargetRecord) -> Result<TargetView, TargetError> {
    store.update_target(record)?;
    tracing::info!(target: "audit", name = %record.name, url = %record.base_url, "sync target updated");
    Ok(view(record)?)
}

/// A stored target by name.
pub fn find(store: &dyn SyncStore, name: &str) -> Result<TargetRecord, TargetError> {
    store
        .find_target(name)?
        .ok_or_else(|| TargetError::Unknown(name.to_string()))
}

/// Stops the real-time worker pushing to the target; changes wait behind
/// its cursor.
pub fn pause(store: &dyn SyncStore, name: &str) -> Result<TargetView, TargetError> {
    let mut record = find(store, name)?;
    if record.state == TargetState::New {
        return Err(TargetError::Invalid(format!(
            "target {name:?} has not been synced yet, so nothing is pushed to it: run \
             `scimhub sync run {name}` (after `--dry-run`) or `scimhub target resume {name}`"
        )));
    }
    store.set_target_state(&record.id, TargetState::Paused, None)?;
    record.state = TargetState::Paused;
    Ok(view(&record)?)
}

/// Lets the worker push again. A paused target continues from its cursor
/// (what changed meanwhile is delivered); a new, never synced one starts
/// from `head` — its existing accounts follow only with a full run.
pub fn resume(store: &dyn SyncStore, name: &str, head: i64) -> Result<TargetView, TargetError> {
    let mut record = find(store, name)?;
    let cursor = (record.state == TargetState::New).then_some(head);
    store.set_target_state(&record.id, TargetState::Active, cursor)?;
    record.state = TargetState::Active;
    if let Some(c) = cursor {
        record.change_cursor = record.change_cursor.max(c);
    }
    Ok(view(&record)?)
}

pub fn view(r: &TargetRecord) -> anyhow::Result<TargetView> {
    let mapping = match &r.mapping {
        Some(m) => Some(serde_json::from_str(m).context("stored mapping is corrupt")?),
        None => None,
    };
    Ok(TargetView {
        name: r.name.clone(),
        base_url: r.base_url.clone(),
        scope: r.scope.clone(),
        mapping,
        settings: serde_json::from_str(&r.settings).context("stored settings are corrupt")?,
        state: r.state,
        change_cursor: r.change_cursor,
        created: crate::scim::render::format_time(&r.created),
        updated: crate::scim::render::format_time(&r.updated),
    })
}

pub fn list(store: &dyn SyncStore) -> Result<Vec<TargetView>, TargetError> {
    Ok(store
        .list_targets()?
        .iter()
        .map(view)
        .collect::<anyhow::Result<_>>()?)
}

pub fn show(store: &dyn SyncStore, name: &str) -> Result<TargetView, TargetError> {
    Ok(view(&find(store, name)?)?)
}

pub fn remove(store: &dyn SyncStore, name: &str) -> Result<(), TargetError> {
    if !store.delete_target(name)? {
        return Err(TargetError::Unknown(name.to_string()));
    }
    tracing::info!(target: "audit", name, "sync target removed");
    Ok(())
}

/// The outbound client's options for a stored target (credentials opened,
/// default retry policy).
pub fn client_options(key: &SecretKey, r: &TargetRecord) -> anyhow::Result<ClientOptions> {
    let settings: TargetSettings =
        serde_json::from_str(&r.settings).context("stored settings are corrupt")?;
    Ok(ClientOptions::for_target(
        &r.base_url,
        credentials(key, r)?,
        &settings,
    ))
}

/// Ends a target's quarantine; false when it was not quarantined.
pub fn release(store: &dyn SyncStore, name: &str) -> Result<bool, TargetError> {
    let r = store
        .find_target(name)
        .map_err(anyhow::Error::from)?
        .ok_or_else(|| TargetError::Unknown(name.to_string()))?;
    if store
        .quarantine(&r.id)
        .map_err(anyhow::Error::from)?
        .is_none()
    {
        return Ok(false);
    }
    store
        .set_quarantine(&r.id, None)
        .map_err(anyhow::Error::from)?;
    tracing::info!(target: "audit", name, "sync target released from quarantine by an admin");
    Ok(true)
}

/// The target's credentials in the clear, for the outbound client only.
pub fn credentials(key: &SecretKey, r: &TargetRecord) -> anyhow::Result<Credentials> {
    let plain = crypto::open(key, &r.credentials, &r.id)?;
    serde_json::from_slice(&plain).context("stored credentials are corrupt")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn client_options_open_the_credentials_and_carry_the_settings() {
        let key = SecretKey([3; 32]);
        let credentials = Credentials::OAuth2 {
            token_url: "https://login.example/token".into(),
            client_id: "id".into(),
            client_secret: "secret".into(),
            scope: None,
        };
        let settings = TargetSettings {
            timeout_secs: 7,
            headers: BTreeMap::from([("X-Tenant".into(), "acme".into())]),
            ..TargetSettings::default()
        };
        let now = Utc::now();
        let record = TargetRecord {
            id: "t1".into(),
            name: "app".into(),
            base_url: "https://app.example/scim".into(),
            credentials: crypto::seal(&key, &serde_json::to_vec(&credentials).unwrap(), "t1")
                .unwrap(),
            settings: serde_json::to_string(&settings).unwrap(),
            mapping: None,
            scope: None,
            change_cursor: 0,
            created: now,
            updated: now,
            state: TargetState::Active,
        };
        let opts = client_options(&key, &record).unwrap();
        assert_eq!(opts.credentials, credentials);
        assert_eq!(opts.base_url, "https://app.example/scim");
        assert_eq!(opts.timeout, Duration::from_secs(7));
        assert_eq!(opts.headers, settings.headers);
        assert!(client_options(&SecretKey([4; 32]), &record).is_err());
        assert_eq!(format!("{credentials:?}"), "OAuth2(redacted)");
    }

    #[test]
    fn settings_stored_before_the_scope_options_still_read() {
        let old = r#"{"auth":"bearer","resource_types":["Users"],"matching":"userName"}"#;
        let settings: TargetSettings = serde_json::from_str(old).unwrap();
        assert_eq!(
            settings.kind,
            TargetKind::Scim,
            "settings from before target kinds"
        );
        assert_eq!(settings.ldap, None);
        assert_eq!(settings.group_scope, None);
        assert!(settings.scope_groups.is_empty());
    }
}
