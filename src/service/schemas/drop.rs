//! Taking the values of removed or retyped extension attributes out of
//! stored resources, when an administrator forces such a change.

use std::future::Future;
use std::sync::Arc;

use super::SchemaAdmin;
use crate::error::AppError;
use crate::scim::extension_schema::{Dropped, holds, strip};
use crate::scim::{ResourceKind, ScimError};
use crate::service::blocking;
use crate::store::{
    Actor, MembersWrite, PasswordWrite, ResourceWrite, SchemaStore, Store, StoreError, WriteOp,
};

impl SchemaAdmin {
    /// Runs `change` (the definition's write and publication) unless
    /// resources hold `dropped` values and `force` is off (409, naming how
    /// many). Forced, the values are dropped before the change and, for
    /// writes that still used the old definition meanwhile, those of them
    /// the new one does not define (`gone`) once more after it. Answers the
    /// change's result and how many resources were rewritten.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn drop_values<T>(
        &self,
        actor: &Actor,
        kind: ResourceKind,
        urn: &str,
        dropped: &[Dropped],
        gone: &[Dropped],
        force: bool,
        change: impl Future<Output = Result<T, AppError>>,
    ) -> Result<(T, u64), AppError> {
        if dropped.is_empty() {
            return Ok((change.await?, 0));
        }
        let holders = self.holders(kind, urn, dropped).await?;
        if !holders.is_empty() && !force {
            let names: Vec<String> = dropped.iter().map(Dropped::to_string).collect();
            return Err(ScimError::new(
                409,
                None,
                format!(
                    "{} {} resources hold values of {urn}: {}; this change would drop them. \
                     Repeat it with force=true (CLI: --force) to drop them.",
                    holders.len(),
                    kind.as_str(),
                    names.join(", ")
                ),
            )
            .into());
        }
        let mut rewritten = self.strip_all(actor, kind, urn, dropped, holders).await?;
        let outcome = change.await?;
        if !gone.is_empty() {
            let late = self.holders(kind, urn, gone).await?;
            rewritten += self.strip_all(actor, kind, urn, gone, late).await?;
        }
        Ok((outcome, rewritten))
    }

    /// The ids of the `kind` resources holding `dropped` values under `urn`.
    async fn holders(
        &self,
        kind: ResourceKind,
        urn: &str,
        dropped: &[Dropped],
    ) -> Result<Vec<String>, AppError> {
        let schemas: Arc<dyn SchemaStore> = self.schemas.clone();
        let (urn, dropped) = (urn.to_string(), dropped.to_vec());
        blocking(move || {
            Ok(schemas
                .resources_with_extension(kind, &urn)?
                .into_iter()
                .filter(|(_, attributes)| holds(attributes, &urn, &dropped))
                .map(|(id, _)| id)
                .collect())
        })
        .await
    }

    /// Rewrites each of `ids` without the `dropped` values (a change-log
    /// row each); answers how many changed.
    async fn strip_all(
        &self,
        actor: &Actor,
        kind: ResourceKind,
        urn: &str,
        dropped: &[Dropped],
        ids: Vec<String>,
    ) -> Result<u64, AppError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let store: Arc<dyn Store> = self.store.clone();
        let (actor, urn, dropped) = (actor.clone(), urn.to_string(), dropped.to_vec());
        blocking(move || {
            let mut changed = 0;
            for id in ids {
                let (urn, dropped) = (urn.clone(), dropped.clone());
                let without = move |current: &serde_json::Map<String, serde_json::Value>| {
                    let mut attributes = current.clone();
                    strip(&mut attributes, &urn, &dropped);
                    attributes
                };
                let written = match kind {
                    ResourceKind::User => store
                        .replace_user(
                            &id,
                            Box::new(move |u| {
                                Ok(ResourceWrite {
                                    attributes: without(&u.attributes),
                                    members: MembersWrite::default(),
                                    password: PasswordWrite::Keep,
                                })
                            }),
                            &actor,
                            WriteOp::Patch,
                        )
                        .map(drop),
                    ResourceKind::Group => store
                        .replace_group(
                            &id,
                            Box::new(move |g| {
                                Ok(ResourceWrite {
                                    attributes: without(&g.attributes),
                                    // The member rows stay as they are.
                                    members: MembersWrite::Change {
                                        remove_all: false,
                                        remove: Vec::new(),
                                        add: Vec::new(),
                                    },
                                    password: PasswordWrite::Keep,
                                })
                            }),
                            &actor,
                            WriteOp::Patch,
                            false,
                        )
                        .map(drop),
                    ResourceKind::Department | ResourceKind::Plain(_) => Ok(()),
                };
                match written {
                    Ok(()) => changed += 1,
                    // Deleted meanwhile: nothing left to drop.
                    Err(StoreError::NotFound) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(changed)
        })
        .await
    }
}
