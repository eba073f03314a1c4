//! Sources as admins manage them: add (validated, credentials sealed),
//! update in place, list and show (never the credentials), remove — over
//! `SourceStore`, like targets over `SyncStore`.

use anyhow::Context;
use chrono::{SubsecRound, Utc};
use serde::Serialize;

use super::error::SourceError;
use super::report::{ImportReport, RunStatus};
use super::settings::{self, SourceKind, SourceSettings};
use crate::crypto;
use crate::crypto::SecretKey;
use crate::provision::mapping::{MappingFile, Reads};
use crate::provision::target::Credentials;
use crate::store::{SourceRecord, SourceStore, StoreError};

/// What `source add` gets.
#[derive(Debug, Clone)]
pub struct NewSource {
    pub name: String,
    pub kind: SourceKind,
    pub settings: SourceSettings,
    pub credentials: Option<Credentials>,
    /// The mapping file's text (TOML or JSON).
    pub mapping: Option<String>,
}

/// What `source update` changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct SourceChanges {
    /// The whole new settings (the caller merged its changes in).
    pub settings: Option<SourceSettings>,
    /// `Some(None)` drops the credentials.
    pub credentials: Option<Option<Credentials>>,
    /// `Some(None)` drops the mapping.
    pub mapping: Option<Option<String>>,
}

/// A source as shown to people and the admin API: no credentials.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceView {
    pub name: String,
    pub kind: SourceKind,
    pub settings: SourceSettings,
    pub mapping: Option<MappingFile>,
    pub watermark: Option<String>,
    pub created: String,
    pub updated: String,
}

/// The last run, in a listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LastRun {
    pub id: String,
    pub status: RunStatus,
    pub dry_run: bool,
    pub started: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceWithStatus {
    #[serde(flatten)]
    pub source: SourceView,
    pub last_run: Option<LastRun>,
    /// Entries in the failure list.
    pub failures: usize,
}

fn invalid(e: impl std::fmt::Display) -> SourceError {
    SourceError::Invalid(format!("{e:#}"))
}

fn check_name(name: &str) -> Result<(), SourceError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        return Err(SourceError::Invalid(
            "source names are 1-64 letters, digits, '-', '_' or '.'".into(),
        ));
    }
    Ok(())
}

/// Which credentials a kind takes, checked without quoting a secret.
fn check_credentials(kind: SourceKind, c: Option<&Credentials>) -> Result<(), SourceError> {
    match (kind, c) {
        (SourceKind::File, Some(_)) => Err(SourceError::Invalid(
            "file sources take no credentials".into(),
        )),
        (SourceKind::Scim, None) => Err(SourceError::Invalid(
            "a SCIM source needs credentials: a bearer token, basic auth or OAuth client credentials"
                .into(),
        )),
        (SourceKind::Ldap, Some(c)) if !matches!(c, Credentials::Basic { .. }) => {
            Err(SourceError::Invalid(
                "an LDAP source binds with a DN and a password (basic credentials), or anonymously"
                    .into(),
            ))
        }
        (_, Some(c)) => c.check().map_err(SourceError::Invalid),
        _ => Ok(()),
    }
}

fn compile_mapping(text: Option<&str>) -> Result<Option<String>, SourceError> {
    match text {
        Some(text) => {
            let (file, _) = MappingFile::load_for(text, Reads::Records).map_err(invalid)?;
            Ok(Some(
                serde_json::to_string(&file).context("encoding the mapping")?,
            ))
        }
        None => Ok(None),
    }
}

fn settings_json(
    kind: SourceKind,
    s: &SourceSettings,
    auth: Option<&str>,
) -> Result<String, SourceError> {
    let checked = SourceSettings {
        auth: auth.map(str::to_string),
        ..settings::check(kind, s).map_err(SourceError::Invalid)?
    };
    Ok(serde_json::to_string(&checked).context("encoding the settings")?)
}

fn seal(
    key: Option<&SecretKey>,
    c: Option<&Credentials>,
    id: &str,
) -> Result<Option<String>, SourceError> {
    let Some(c) = c else { return Ok(None) };
    let key = key.ok_or(SourceError::NoSecretKey)?;
    let plain = serde_json::to_vec(c).context("encoding the credentials")?;
    Ok(Some(
        crypto::seal(key, &plain, id).context("sealing the credentials")?,
    ))
}

/// Validates everything, seals the credentials and stores the source.
pub fn add(
    sources: &dyn SourceStore,
    key: Option<&SecretKey>,
    new: NewSource,
) -> Result<SourceView, SourceError> {
    check_name(&new.name)?;
    check_credentials(new.kind, new.credentials.as_ref())?;
    let mapping = compile_mapping(new.mapping.as_deref())?;
    let auth = new.credentials.as_ref().map(Credentials::kind);
    let settings = settings_json(new.kind, &new.settings, auth)?;
    let id = uuid::Uuid::new_v4().to_string();
    let credentials = seal(key, new.credentials.as_ref(), &id)?;
    let now = Utc::now().trunc_subsecs(3);
    let record = SourceRecord {
        id,
        name: new.name,
        kind: new.kind.as_str().to_string(),
        settings,
        credentials,
        mapping,
        watermark: None,
        created: now,
        updated: now,
    };
    sources.create_source(record.clone()).map_err(|e| match e {
        StoreError::Rejected(s) => SourceError::Duplicate(s.detail),
        other => other.into(),
    })?;
    Ok(view(&record)?)
}

pub fn kind_of(r: &SourceRecord) -> anyhow::Result<SourceKind> {
    SourceKind::parse(&r.kind)
        .with_context(|| format!("stored source kind {:?} is unknown", r.kind))
}

pub fn settings_of(r: &SourceRecord) -> anyhow::Result<SourceSettings> {
    serde_json::from_str(&r.settings).context("stored source settings are corrupt")
}

/// The source with `changes` applied, everything checked, nothing stored.
pub fn apply(
    mut record: SourceRecord,
    key: Option<&SecretKey>,
    changes: SourceChanges,
) -> Result<SourceRecord, SourceError> {
    let kind = kind_of(&record)?;
    let current = settings_of(&record)?;
    let mut auth = current.auth.clone();
    if let Some(c) = &changes.credentials {
        check_credentials(kind, c.as_ref())?;
        record.credentials = seal(key, c.as_ref(), &record.id)?;
        auth = c.as_ref().map(|c| c.kind().to_string());
    } else if kind == SourceKind::Scim && record.credentials.is_none() {
        check_credentials(kind, None)?;
    }
    if let Some(m) = &changes.mapping {
        record.mapping = compile_mapping(m.as_deref())?;
    }
    let settings = changes.settings.as_ref().unwrap_or(&current);
    record.settings = settings_json(kind, settings, auth.as_deref())?;
    record.updated = Utc::now().trunc_subsecs(3);
    Ok(record)
}

pub fn save(sources: &dyn SourceStore, record: &SourceRecord) -> Result<SourceView, SourceError> {
    sources.update_source(record)?;
    Ok(view(record)?)
}

pub fn find(sources: &dyn SourceStore, name: &str) -> Result<SourceRecord, SourceError> {
    sources
        .find_source(name)?
        .ok_or_else(|| SourceError::Unknown(name.to_string()))
}

pub fn view(r: &SourceRecord) -> anyhow::Result<SourceView> {
    let mapping = match &r.mapping {
        Some(m) => Some(serde_json::from_str(m).context("stored mapping is corrupt")?),
        None => None,
    };
    Ok(SourceView {
        name: r.name.clone(),
        kind: kind_of(r)?,
        settings: settings_of(r)?,
        mapping,
        watermark: r.watermark.clone(),
        created: crate::scim::render::format_time(&r.created),
        updated: crate::scim::render::format_time(&r.updated),
    })
}

fn with_status(
    sources: &dyn SourceStore,
    r: &SourceRecord,
) -> Result<SourceWithStatus, SourceError> {
    let last_run = match sources.list_source_runs(&r.id, 1)?.into_iter().next() {
        Some(run) => {
            let report: ImportReport =
                serde_json::from_str(&run.report).context("stored run report is corrupt")?;
            Some(LastRun {
                id: run.id,
                status: report.status,
                dry_run: run.dry_run,
                started: report.started,
            })
        }
        None => None,
    };
    Ok(SourceWithStatus {
        source: view(r)?,
        last_run,
        failures: sources.source_failures(&r.id)?.len(),
    })
}

pub fn list(sources: &dyn SourceStore) -> Result<Vec<SourceWithStatus>, SourceError> {
    sources
        .list_sources()?
        .iter()
        .map(|r| with_status(sources, r))
        .collect()
}

pub fn show(sources: &dyn SourceStore, name: &str) -> Result<SourceWithStatus, SourceError> {
    with_status(sources, &find(sources, name)?)
}

/// Removes the source with its links, runs and failure list; the users
/// and groups it imported stay.
pub fn remove(sources: &dyn SourceStore, name: &str) -> Result<(), SourceError> {
    if !sources.delete_source(name)? {
        return Err(SourceError::Unknown(name.to_string()));
    }
    Ok(())
}

/// The source's credentials in the clear, for its reader only.
pub fn credentials(
    key: Option<&SecretKey>,
    r: &SourceRecord,
) -> Result<Option<Credentials>, SourceError> {
    let Some(sealed) = &r.credentials else {
        return Ok(None);
    };
    let key = key.ok_or(SourceError::NoSecretKey)?;
    let plain = crypto::open(key, sealed, &r.id).context("opening the source's credentials")?;
    Ok(Some(
        serde_json::from_slice(&plain).context("stored credentials are corrupt")?,
    ))
}
