//! `uniqueness: server` (or `global`) on admin-defined extension
//! attributes: checked with a query before a write. It is no database
//! constraint, so two writes of one value at the same moment can both pass.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::error::AppError;
use crate::scim::ResourceKind;
use crate::scim::ScimError;
use crate::scim::filter::{AttrPath, CompValue, CompareOp, Filter};
use crate::scim::registry::registry;
use crate::scim::schema::{AttrType, Uniqueness};
use crate::service::blocking;
use crate::store::{ListQuery, Store, Window};

/// One value a write would hold of a unique extension attribute.
struct Claim {
    path: AttrPath,
    value: CompValue,
}

/// The unique extension values in `attributes` (none for most kinds and
/// writes, answered without a look at the store).
fn claims(kind: ResourceKind, attributes: &Map<String, Value>) -> Vec<Claim> {
    let mut out = Vec::new();
    for ext in registry().extensions(kind) {
        let Some(Value::Object(values)) = attributes.get(ext.id) else {
            continue;
        };
        let unique = ext
            .attributes
            .iter()
            .filter(|a| a.uniqueness != Uniqueness::None && a.attr_type != AttrType::Complex);
        for def in unique {
            let items = match values.get(def.name) {
                Some(Value::Array(items)) => items.iter().collect(),
                Some(v) => vec![v],
                None => Vec::new(),
            };
            for item in items {
                let value = match item {
                    Value::String(s) => CompValue::String(s.clone()),
                    Value::Number(n) => CompValue::Number(n.clone()),
                    _ => continue,
                };
                out.push(Claim {
                    path: AttrPath {
                        uri: Some(ext.id.to_string()),
                        name: def.name.to_string(),
                        sub: None,
                    },
                    value,
                });
            }
        }
    }
    out
}

/// Whether `kind` has unique extension attributes at all.
pub fn any_unique(kind: ResourceKind) -> bool {
    registry().extensions(kind).any(|ext| {
        ext.attributes
            .iter()
            .any(|a| a.uniqueness != Uniqueness::None)
    })
}

/// Refuses (409 `uniqueness`) a write of `attributes` to the `kind`
/// resource `except` (None: a new one) when another resource holds one of
/// its unique extension values.
pub async fn check(
    store: &Arc<dyn Store>,
    kind: ResourceKind,
    attributes: &Map<String, Value>,
    except: Option<&str>,
) -> Result<(), AppError> {
    let claims = claims(kind, attributes);
    if claims.is_empty() {
        return Ok(());
    }
    let (store, except) = (store.clone(), except.map(str::to_string));
    blocking(move || {
        for claim in claims {
            let query = ListQuery {
                filter: Some(Filter::Compare {
                    path: claim.path.clone(),
                    op: CompareOp::Eq,
                    value: claim.value.clone(),
                }),
                sort: None,
                window: Window::Index {
                    offset: 0,
                    count: 2,
                },
                with_members: false,
                with_groups: false,
            };
            let ids: Vec<String> = match kind {
                ResourceKind::User => store
                    .list_users(&query)?
                    .items
                    .into_iter()
                    .map(|u| u.id)
                    .collect(),
                ResourceKind::Group => store
                    .list_groups(&query)?
                    .items
                    .into_iter()
                    .map(|g| g.id)
                    .collect(),
                ResourceKind::Department | ResourceKind::Plain(_) => Vec::new(),
            };
            if ids.iter().any(|id| Some(id) != except.as_ref()) {
                let shown = match &claim.value {
                    CompValue::String(s) => format!("{s:?}"),
                    CompValue::Number(n) => n.to_string(),
                    _ => String::new(),
                };
                return Err(ScimError::uniqueness(format!(
                    "'{}' {shown} is already taken by another {}",
                    claim.path,
                    kind.as_str()
                ))
                .into());
            }
        }
        Ok(())
    })
    .await
}

/// `check` for a PATCH: its outcome on the current state (read first,
/// only when `kind` has unique extension attributes). A PATCH that fails
/// is left to the write, which reports why.
pub async fn check_patch(
    store: &Arc<dyn Store>,
    kind: ResourceKind,
    id: &str,
    ops: &[crate::scim::patch::PatchOp],
) -> Result<(), AppError> {
    if !any_unique(kind) {
        return Ok(());
    }
    let (reader, owned) = (store.clone(), id.to_string());
    let current = blocking(move || {
        let read = match kind {
            ResourceKind::User => reader.get_user(&owned, false).map(|u| u.attributes),
            ResourceKind::Group => reader.get_group(&owned, false).map(|g| g.attributes),
            ResourceKind::Department | ResourceKind::Plain(_) => return Ok(None),
        };
        match read {
            Ok(attributes) => Ok(Some(attributes)),
            Err(crate::store::StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    let Some(current) = current else {
        return Ok(());
    };
    match crate::scim::patch::apply(kind, &current, ops) {
        Ok(outcome) => check(store, kind, &outcome.attributes, Some(id)).await,
        Err(_) => Ok(()),
    }
}
