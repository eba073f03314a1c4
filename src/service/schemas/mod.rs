//! Admin-defined extension schemas for the admin API and `scimhub schema …`
//! alike: the configured ones (read-only here) and the stored ones, merged
//! and published as the registry in force (`scim::registry::Publisher`);
//! changes are checked, audited, and refused while they would drop stored
//! values unless forced.

mod drop;
pub mod unique;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::{audit, blocking};
use crate::config::Config;
use crate::error::AppError;
use crate::scim::extension_schema::{self, Dropped};
use crate::scim::registry::{Extension, Publisher};
use crate::scim::{ResourceKind, ScimError};
use crate::store::{Actor, SchemaRecord, SchemaStore, Store, StoreError};

/// Where a schema was declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `[[schemas]]` in the configuration: changed only there.
    Configuration,
    /// The admin API or the CLI: stored in the database.
    Database,
}

/// A schema as the admin API and the CLI show it.
#[derive(Debug, Clone)]
pub struct SchemaView {
    pub extension: Extension,
    pub origin: Origin,
    /// The stored row (None for configured schemas).
    pub record: Option<SchemaRecord>,
}

impl SchemaView {
    /// The definition document with a `meta` saying where it comes from.
    pub fn to_json(&self) -> Value {
        let mut doc = extension_schema::document(&self.extension);
        let mut meta = json!({
            "source": match self.origin {
                Origin::Configuration => "configuration",
                Origin::Database => "admin",
            },
        });
        if let Some(r) = &self.record {
            meta["version"] = json!(r.version);
            meta["created"] = json!(r.created);
            meta["lastModified"] = json!(r.updated);
        }
        doc["meta"] = meta;
        doc
    }
}

/// What a forced change or removal took out of stored resources.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Removal {
    pub id: String,
    /// Resources whose values were dropped (one change-log row each).
    pub resources_changed: u64,
}

/// The stored schemas as last read, parsed (a row is parsed again only
/// when its version changed: parsing leaks the definition's strings).
#[derive(Default)]
struct Loaded {
    generation: Option<i64>,
    stored: Vec<(SchemaRecord, Extension)>,
}

#[derive(Clone)]
pub struct SchemaAdmin {
    store: Arc<dyn Store>,
    schemas: Arc<dyn SchemaStore>,
    configured: Arc<Vec<Extension>>,
    publisher: Arc<Publisher>,
    loaded: Arc<Mutex<Loaded>>,
}

impl SchemaAdmin {
    /// Checks the configured schemas, reads the stored ones and publishes
    /// them all (a stored schema that no longer parses is left out, logged).
    pub fn start(
        store: Arc<dyn Store>,
        schemas: Arc<dyn SchemaStore>,
        config: &Config,
    ) -> anyhow::Result<Self> {
        let mut configured: Vec<Extension> = Vec::new();
        for entry in &config.schemas {
            for document in entry.documents()? {
                let ext = extension_schema::parse(&document)
                    .map_err(|e| anyhow::anyhow!("[[schemas]]: {}", e.detail))?;
                if configured
                    .iter()
                    .any(|c| c.schema.id.eq_ignore_ascii_case(ext.schema.id))
                {
                    anyhow::bail!("[[schemas]]: {:?} is declared twice", ext.schema.id);
                }
                configured.push(ext);
            }
        }
        let admin = Self {
            store,
            schemas,
            configured: Arc::new(configured),
            publisher: Publisher::new(),
            loaded: Arc::new(Mutex::new(Loaded::default())),
        };
        admin.reload()?;
        Ok(admin)
    }

    /// Publishes the configured and stored schemas if the stored ones
    /// changed since the last look (blocking: call it off the async workers).
    fn reload(&self) -> Result<(), StoreError> {
        let generation = self.schemas.schema_generation()?;
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if loaded.generation == Some(generation) {
            return Ok(());
        }
        let mut known: HashMap<String, (SchemaRecord, Extension)> = loaded
            .stored
            .drain(..)
            .map(|(r, ext)| (r.id.clone(), (r, ext)))
            .collect();
        let mut stored = Vec::new();
        for record in self.schemas.schema_extensions()? {
            if self.configured_named(&record.id).is_some() {
                tracing::warn!(schema = %record.id, "a stored extension schema is also configured: the configuration wins");
                continue;
            }
            let unchanged = known
                .remove(&record.id)
                .filter(|(r, _)| r.version == record.version)
                .map(|(_, ext)| ext);
            match unchanged.map_or_else(|| parse_record(&record), Ok) {
                Ok(ext) => stored.push((record, ext)),
                Err(e) => {
                    tracing::warn!(schema = %record.id, error = %e, "a stored extension schema is left out")
                }
            }
        }
        let published = self
            .configured
            .iter()
            .cloned()
            .chain(stored.iter().map(|(_, ext)| ext.clone()))
            .collect();
        self.publisher.publish(published);
        *loaded = Loaded {
            generation: Some(generation),
            stored,
        };
        Ok(())
    }

    /// Reloads when another instance or the CLI changed the stored schemas.
    pub async fn refresh(&self) -> Result<(), AppError> {
        let me = self.clone();
        blocking(move || Ok(me.reload()?)).await
    }

    /// Checks for changes every `every` until the process ends.
    pub async fn keep_fresh(self, every: std::time::Duration) {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(e) = self.refresh().await {
                tracing::warn!(error = %e, "could not check for changed extension schemas");
            }
        }
    }

    fn configured_named(&self, id: &str) -> Option<&Extension> {
        self.configured
            .iter()
            .find(|c| c.schema.id.eq_ignore_ascii_case(id))
    }

    /// Every extension schema: the configured ones, then the stored ones.
    pub async fn list(&self) -> Result<Vec<SchemaView>, AppError> {
        self.refresh().await?;
        let loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        let configured = self.configured.iter().map(|ext| SchemaView {
            extension: ext.clone(),
            origin: Origin::Configuration,
            record: None,
        });
        let stored = loaded.stored.iter().map(|(record, ext)| SchemaView {
            extension: ext.clone(),
            origin: Origin::Database,
            record: Some(record.clone()),
        });
        Ok(configured.chain(stored).collect())
    }

    /// One schema by its id (ignoring case).
    pub async fn get(&self, id: &str) -> Result<SchemaView, AppError> {
        self.list()
            .await?
            .into_iter()
            .find(|v| v.extension.schema.id.eq_ignore_ascii_case(id))
            .ok_or_else(|| not_found(id))
    }

    /// The stored schema `id`, refusing configured and unknown ones.
    async fn stored(&self, id: &str) -> Result<(SchemaRecord, Extension), AppError> {
        let view = self.get(id).await?;
        match (view.origin, view.record) {
            (Origin::Database, Some(record)) => Ok((record, view.extension)),
            _ => Err(ScimError::new(
                409,
                None,
                format!(
                    "extension schema {:?} is declared in the configuration file ([[schemas]]); \
                     change it there",
                    view.extension.schema.id
                ),
            )
            .into()),
        }
    }

    pub async fn add(&self, actor: &Actor, body: Value) -> Result<SchemaView, AppError> {
        let ext = extension_schema::parse(&body)?;
        let id = ext.schema.id;
        if self.configured_named(id).is_some() {
            return Err(ScimError::uniqueness(format!(
                "an extension schema {id:?} already exists (schema ids ignore case)"
            ))
            .into());
        }
        let definition = extension_schema::document(&ext).to_string();
        let (schemas, kind) = (self.schemas.clone(), ext.kind.as_str());
        let record =
            blocking(move || Ok(schemas.add_schema_extension(id, kind, &definition)?)).await?;
        self.refresh().await?;
        let detail = format!(
            "extension schema {id:?} for {} ({} attributes)",
            ext.kind.as_str(),
            ext.schema.attributes.len()
        );
        audit::record(&self.store, "schema.add", actor, detail).await?;
        Ok(SchemaView {
            extension: ext,
            origin: Origin::Database,
            record: Some(record),
        })
    }

    /// Replaces a stored schema's definition. Attributes that are removed
    /// or change type (and sub-attributes likewise) while resources hold
    /// values for them are refused, unless `force`: then those values are
    /// dropped from the resources (a change-log row each).
    pub async fn update(
        &self,
        actor: &Actor,
        id: &str,
        mut body: Value,
        force: bool,
    ) -> Result<(SchemaView, Removal), AppError> {
        let (record, old) = self.stored(id).await?;
        if let Some(given) = body.get("id").and_then(Value::as_str)
            && !given.trim().eq_ignore_ascii_case(&record.id)
        {
            return Err(ScimError::invalid_value(format!(
                "the body's id {given:?} does not match the schema {:?} addressed by the URL",
                record.id
            ))
            .into());
        }
        // Stored values sit under the id as first written.
        if let Value::Object(fields) = &mut body {
            fields.insert("id".into(), json!(record.id));
        }
        let new = extension_schema::parse(&body)?;
        if new.kind != old.kind {
            return Err(ScimError::invalid_value(format!(
                "{:?} extends {}: to extend {} instead, remove it and add it again",
                record.id,
                old.kind.as_str(),
                new.kind.as_str()
            ))
            .into());
        }
        let dropped = extension_schema::dropped(&old.schema, Some(&new.schema));
        let gone = extension_schema::undefined(&dropped, Some(&new.schema));
        let definition = extension_schema::document(&new).to_string();
        let (schemas, owned, version) = (self.schemas.clone(), record.id.clone(), record.version);
        let changed = self
            .drop_values(actor, new.kind, &record.id, &dropped, &gone, force, async {
                let record = blocking(move || {
                    Ok(schemas.replace_schema_extension(&owned, version, &definition)?)
                })
                .await?;
                self.refresh().await?;
                Ok(record)
            })
            .await?;
        let (stored, resources_changed) = changed;
        let detail = format!(
            "extension schema {:?} version {}{}",
            record.id,
            stored.version,
            dropped_detail(&dropped, resources_changed)
        );
        audit::record(&self.store, "schema.update", actor, detail).await?;
        Ok((
            SchemaView {
                extension: new,
                origin: Origin::Database,
                record: Some(stored),
            },
            Removal {
                id: record.id,
                resources_changed,
            },
        ))
    }

    /// Removes a stored schema; refused while resources hold values for it,
    /// unless `force` (then the values are dropped, a change-log row each).
    pub async fn remove(&self, actor: &Actor, id: &str, force: bool) -> Result<Removal, AppError> {
        let (record, old) = self.stored(id).await?;
        let dropped = extension_schema::dropped(&old.schema, None);
        let (schemas, owned, version) = (self.schemas.clone(), record.id.clone(), record.version);
        let (_, resources_changed) = self
            .drop_values(
                actor,
                old.kind,
                &record.id,
                &dropped,
                &dropped,
                force,
                async {
                    blocking(move || Ok(schemas.remove_schema_extension(&owned, version)?)).await?;
                    self.refresh().await
                },
            )
            .await?;
        let detail = format!(
            "extension schema {:?}{}",
            record.id,
            dropped_detail(&dropped, resources_changed)
        );
        audit::record(&self.store, "schema.remove", actor, detail).await?;
        Ok(Removal {
            id: record.id,
            resources_changed,
        })
    }
}

fn dropped_detail(dropped: &[Dropped], resources: u64) -> String {
    if resources == 0 {
        return String::new();
    }
    let names: Vec<String> = dropped.iter().map(Dropped::to_string).collect();
    format!(
        ", values of {} dropped from {resources} resources",
        names.join(", ")
    )
}

fn not_found(id: &str) -> AppError {
    ScimError::not_found(format!("no extension schema {id:?}")).into()
}

fn parse_record(record: &SchemaRecord) -> Result<Extension, String> {
    let document: Value = serde_json::from_str(&record.definition).map_err(|e| e.to_string())?;
    let ext = extension_schema::parse(&document).map_err(|e| e.detail)?;
    match ResourceKind::parse(&record.resource_type) {
        Some(kind) if kind == ext.kind => Ok(ext),
        _ => Err(format!("stored for {:?}", record.resource_type)),
    }
}
