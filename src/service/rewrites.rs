//! The state a PUT or PATCH computes from the stored one, inside the write
//! transaction: the same for Groups (PUT), Departments and every plain
//! resource type. Users add their own rules (kept `active`, passwords).

use crate::scim::ResourceKind;
use crate::scim::etag::TagList;
use crate::scim::patch::{PatchOp, apply};
use crate::scim::resource::check_immutable;
use crate::store::{ResourceWrite, StoreResult, Versioned};

/// PUT: `write` replaces the stored state while the ETag matches and no
/// immutable attribute changes.
pub(super) fn replacing<T: Versioned>(
    kind: ResourceKind,
    write: ResourceWrite,
    if_match: Option<TagList>,
) -> impl FnOnce(&T) -> StoreResult<ResourceWrite> + Send + 'static {
    move |current| {
        if let Some(tags) = &if_match {
            tags.require(current.meta())?;
        }
        check_immutable(kind, current.attributes(), &write.attributes)?;
        Ok(write)
    }
}

/// PATCH: `ops` applied to the stored attributes while the ETag matches.
pub(super) fn patching<T: Versioned>(
    kind: ResourceKind,
    ops: Vec<PatchOp>,
    if_match: Option<TagList>,
) -> impl FnOnce(&T) -> StoreResult<ResourceWrite> + Send + 'static {
    move |current| {
        if let Some(tags) = &if_match {
            tags.require(current.meta())?;
        }
        Ok(ResourceWrite {
            attributes: apply(kind, current.attributes(), &ops)?.attributes,
            ..ResourceWrite::default()
        })
    }
}
