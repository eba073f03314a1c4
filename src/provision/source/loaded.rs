//! A stored source made ready to read: settings parsed, mapping compiled,
//! and the reader of its kind.

use std::collections::BTreeSet;

use super::error::SourceError;
use super::file::{FileInput, FileReader};
use super::headers::HeaderMapping;
use super::intake::RecordMapping;
use super::ldap::{DEFAULT_MAPPING, LdapReader};
use super::manage;
use super::reader::{RawRecord, ReadError, SourceReader};
use super::scim::ScimReader;
use super::settings::{SourceKind, SourceSettings};
use crate::crypto::SecretKey;
use crate::provision::mapping::{Mapping, MappingFile, Reads, ResourceMapping};
use crate::scim::ResourceKind;
use crate::store::SourceRecord;

#[derive(Clone)]
pub struct LoadedSource {
    pub record: SourceRecord,
    pub kind: SourceKind,
    pub settings: SourceSettings,
    /// The source's own mapping, if it has one.
    pub mapping: Option<Mapping>,
}

impl LoadedSource {
    pub fn load(record: SourceRecord) -> Result<Self, SourceError> {
        let kind = manage::kind_of(&record)?;
        let settings = manage::settings_of(&record)?;
        let mapping =
            match &record.mapping {
                Some(text) => {
                    let mut file: MappingFile = serde_json::from_str(text).map_err(|e| {
                        SourceError::Internal(anyhow::anyhow!("stored mapping is corrupt: {e}"))
                    })?;
                    // An LDAP mapping without departments maps OUs the default way.
                    if kind == SourceKind::Ldap && file.departments.is_none() {
                        file.departments = MappingFile::parse(DEFAULT_MAPPING)
                            .ok()
                            .and_then(|d| d.departments);
                    }
                    Some(Mapping::compile_for(&file, Reads::Records).map_err(|e| {
                        SourceError::Internal(anyhow::anyhow!("stored mapping: {e}"))
                    })?)
                }
                None if kind == SourceKind::Ldap => Some(
                    MappingFile::load_for(DEFAULT_MAPPING, Reads::Records)
                        .map(|(_, m)| m)
                        .map_err(|e| {
                            SourceError::Internal(anyhow::anyhow!("default LDAP mapping: {e}"))
                        })?,
                ),
                None => None,
            };
        Ok(Self {
            record,
            kind,
            settings,
            mapping,
        })
    }

    /// How records of `kind` become resources: the mapping, else (files)
    /// the SCIM paths their header names, else (SCIM) the identity.
    pub fn record_mapping(
        &self,
        kind: ResourceKind,
        records: &[RawRecord],
    ) -> Result<RecordMapping, String> {
        if let Some(m) = &self.mapping {
            return Ok(RecordMapping::Rules(m.for_kind(kind).clone()));
        }
        match self.kind {
            SourceKind::File => {
                let names: BTreeSet<&String> = records
                    .iter()
                    .filter(|r| r.kind == kind)
                    .flat_map(|r| r.fields.keys())
                    .collect();
                HeaderMapping::detect(kind, names).map(RecordMapping::Headers)
            }
            _ => Ok(RecordMapping::Rules(ResourceMapping::identity_for(
                kind,
                Reads::Records,
            ))),
        }
    }

    /// The reader of this source's kind; `since` makes it incremental
    /// (files are always read whole). Opening a file reads it: call this
    /// off the async workers.
    pub fn reader(
        &self,
        key: Option<&SecretKey>,
        since: Option<&str>,
        upload: Option<FileInput>,
    ) -> Result<Box<dyn SourceReader>, ReadError> {
        let credentials = manage::credentials(key, &self.record).map_err(|e| match e {
            SourceError::NoSecretKey => ReadError::Config(e.to_string()),
            other => ReadError::Config(format!("{other:#}")),
        })?;
        Ok(match self.kind {
            SourceKind::File => Box::new(FileReader::open(&self.settings, upload)?),
            SourceKind::Scim => {
                let credentials = credentials.ok_or_else(|| {
                    ReadError::Config("the SCIM source has no credentials".into())
                })?;
                Box::new(ScimReader::new(&self.settings, credentials, since)?)
            }
            SourceKind::Ldap => Box::new(LdapReader::new(&self.settings, credentials, since)),
        })
    }
}
