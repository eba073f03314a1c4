//! The mapping editor's preview: what a mapping (not yet stored) makes of
//! one user, as a target would be sent it.

use serde_json::Value;

use super::SyncAdmin;
use crate::error::AppError;
use crate::provision::mapping::{Mapping, MappingFile};
use crate::scim::ScimError;
use crate::scim::filter::{AttrPath, CompValue, CompareOp, Filter};
use crate::service::blocking;
use crate::store::{ListQuery, StoreError};

impl SyncAdmin {
    /// Maps the user `user` (an id or a userName) with `mapping` (TOML or
    /// JSON text; blank is the identity mapping). The manager reference is
    /// shown as the source holds it: the id map rewrites it when pushed.
    pub async fn preview_mapping(&self, mapping: &str, user: &str) -> Result<Value, AppError> {
        let mapping = if mapping.trim().is_empty() {
            Mapping::identity()
        } else {
            MappingFile::load(mapping)
                .map_err(|e| ScimError::invalid_value(e.to_string()))?
                .1
        };
        let (store, wanted) = (self.store.clone(), user.trim().to_string());
        let found = blocking(move || {
            match store.get_user(&wanted, true) {
                Ok(found) => return Ok(Some(found)),
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
            let query = ListQuery {
                filter: Some(Filter::Compare {
                    path: AttrPath::new("userName"),
                    op: CompareOp::Eq,
                    value: CompValue::String(wanted),
                }),
                ..ListQuery::all()
            };
            Ok(store.list_users(&query)?.items.into_iter().next())
        })
        .await?;
        let found = found.ok_or_else(|| {
            ScimError::not_found(format!("no user {:?} (an id or a userName)", user.trim()))
        })?;
        Ok(mapping.users.apply(&found.to_scim("")))
    }
}
