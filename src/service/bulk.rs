//! `/Bulk`: runs the operations of a BulkRequest in dependency order, each
//! in its own transaction (RFC 7644 §3.7 is not atomic), and reports each.

use std::collections::{HashMap, HashSet};

use futures_util::future::join_all;

use serde_json::{Value, json};

use super::resources::Resources;
use super::schemas::unique::any_unique;
use super::users::Users;
use crate::error::AppError;
use crate::scim::bulk::references;
use crate::scim::bulk::{
    BULK_RESPONSE, BulkMethod, BulkOp, execution_order, parse_bulk_request, parse_target,
    substitute,
};
use crate::scim::etag::TagList;
use crate::scim::render::{ResourceMeta, location};
use crate::scim::{ResourceKind, ScimError};
use crate::store::{Actor, RemoveMode};

#[derive(Clone)]
pub struct Bulk {
    users: Users,
    resources: Resources,
    pub max_operations: usize,
    /// The store runs queued writes in submission order (SQLite's write
    /// lane): a run of group PATCHes is queued at once and shares commits.
    queue_group_patches: bool,
}

/// What one operation produced.
struct Done {
    status: u16,
    id: Option<String>,
    meta: Option<ResourceMeta>,
}

impl Bulk {
    pub fn new(
        users: Users,
        resources: Resources,
        max_operations: usize,
        queue_group_patches: bool,
    ) -> Self {
        Self {
            users,
            resources,
            max_operations,
            queue_group_patches,
        }
    }

    pub async fn run(
        &self,
        actor: &Actor,
        body: &Value,
        base_url: &str,
    ) -> Result<Value, AppError> {
        let request = parse_bulk_request(body, self.max_operations)?;
        let (order, cyclic) = execution_order(&request.ops);
        let mut results: Vec<Option<Value>> = vec![None; request.ops.len()];
        for i in cyclic {
            let err = ScimError::new(
                409,
                None,
                "this operation is part of a circular bulkId reference",
            );
            results[i] = Some(report(&request.ops[i], Err(err.into()), base_url));
        }
        let mut created: HashMap<String, String> = HashMap::new();
        let mut errors = results.iter().filter(|r| r.is_some()).count() as u64;
        let mut pending = order.into_iter().peekable();
        while let Some(i) = pending.next() {
            if request.fail_on_errors.is_some_and(|limit| errors >= limit) {
                break;
            }
            // Consecutive reference-free user creations run as one batch.
            if request.fail_on_errors.is_none() && batchable(&request.ops[i]) {
                let mut batch = vec![i];
                while batch.len() < BATCH
                    && let Some(&next) = pending.peek()
                    && batchable(&request.ops[next])
                {
                    batch.push(next);
                    pending.next();
                }
                let bodies = batch
                    .iter()
                    .map(|&k| request.ops[k].data.clone().unwrap_or(Value::Null))
                    .collect();
                let outcomes = self.users.create_many(actor, bodies).await?;
                for (k, outcome) in batch.into_iter().zip(outcomes) {
                    let op = &request.ops[k];
                    let outcome = outcome.map(|(id, meta)| Done {
                        status: 201,
                        id: Some(id),
                        meta: Some(meta),
                    });
                    if let (Ok(done), Some(bulk_id)) = (&outcome, &op.bulk_id)
                        && let Some(id) = &done.id
                    {
                        created.insert(bulk_id.clone(), id.clone());
                    }
                    if outcome.is_err() {
                        errors += 1;
                    }
                    results[k] = Some(report(op, outcome, base_url));
                }
                continue;
            }
            // Consecutive PATCHes of distinct groups, referring to no other
            // operation, are queued together: the write lane still runs
            // them one by one in this order, but they share its commits.
            if request.fail_on_errors.is_none()
                && self.queue_group_patches
                && let Some(first) = queueable_group_patch(&request.ops[i])
            {
                let mut window = vec![i];
                let mut groups = HashSet::from([first]);
                while window.len() < BATCH
                    && let Some(&next) = pending.peek()
                    && let Some(group) = queueable_group_patch(&request.ops[next])
                    && groups.insert(group)
                {
                    window.push(next);
                    pending.next();
                }
                let outcomes = join_all(
                    window
                        .iter()
                        .map(|&k| self.execute(actor, &request.ops[k], &created)),
                )
                .await;
                for (k, outcome) in window.into_iter().zip(outcomes) {
                    if outcome.is_err() {
                        errors += 1;
                    }
                    results[k] = Some(report(&request.ops[k], outcome, base_url));
                }
                continue;
            }
            let op = &request.ops[i];
            let outcome = self.execute(actor, op, &created).await;
            if let (Ok(done), Some(bulk_id)) = (&outcome, &op.bulk_id)
                && let Some(id) = &done.id
            {
                created.insert(bulk_id.clone(), id.clone());
            }
            if outcome.is_err() {
                errors += 1;
            }
            results[i] = Some(report(op, outcome, base_url));
        }
        let operations: Vec<Value> = results.into_iter().flatten().collect();
        Ok(json!({"schemas": [BULK_RESPONSE], "Operations": operations}))
    }

    async fn execute(
        &self,
        actor: &Actor,
        op: &BulkOp,
        created: &HashMap<String, String>,
    ) -> Result<Done, AppError> {
        let unresolved = |id: String| -> AppError {
            ScimError::new(
                409,
                Some(crate::scim::ScimType::InvalidValue),
                format!("bulkId \"{id}\" was not created in this request"),
            )
            .into()
        };
        let mut data = op.data.clone().unwrap_or(Value::Null);
        substitute(&mut data, created).map_err(unresolved)?;
        // Only the id segment of a path can be a reference (`/Users/bulkId:x`).
        let path = match op.path.rsplit_once('/') {
            Some((head, last)) => {
                let mut segment = Value::String(last.to_string());
                substitute(&mut segment, created).map_err(unresolved)?;
                format!("{head}/{}", segment.as_str().unwrap_or_default())
            }
            None => op.path.clone(),
        };
        let (kind, id) = parse_target(&path)?;
        let if_match = op.version.as_deref().map(TagList::parse).transpose()?;
        let need_id = || {
            id.clone().ok_or_else(|| {
                AppError::from(ScimError::bad_request(
                    crate::scim::ScimType::InvalidPath,
                    format!("{} needs a resource id in its path", op.method.as_str()),
                ))
            })
        };
        let (status, stored) = match (op.method, kind) {
            (BulkMethod::Post, _) if id.is_some() => {
                return Err(ScimError::bad_request(
                    crate::scim::ScimType::InvalidPath,
                    "POST goes to a resource type's endpoint, without an id",
                )
                .into());
            }
            (_, ResourceKind::Department) => {
                return Err(ScimError::bad_request(
                    crate::scim::ScimType::InvalidPath,
                    "/Bulk writes Users, Groups and the agent types; write Departments at /Departments",
                )
                .into());
            }
            (BulkMethod::Post, _) => (201, self.resources.create(kind, actor, data).await?),
            (BulkMethod::Put, _) => {
                let id = need_id()?;
                let written = self
                    .resources
                    .replace(kind, actor, &id, data, if_match, false);
                (200, written.await?)
            }
            (BulkMethod::Patch, _) => {
                let id = need_id()?;
                let written = self
                    .resources
                    .patch(kind, actor, &id, data, if_match, false);
                (200, written.await?)
            }
            (BulkMethod::Delete, _) => {
                let id = need_id()?;
                let mode = RemoveMode::Refuse;
                self.resources
                    .delete(kind, actor, &id, if_match, mode)
                    .await?;
                return Ok(Done {
                    status: 204,
                    id: Some(id),
                    meta: None,
                });
            }
        };
        Ok(Done {
            status,
            id: Some(stored.id().to_string()),
            meta: Some(stored.meta().clone()),
        })
    }
}

/// Most user creations one batch transaction carries.
const BATCH: usize = 1000;

/// A `POST /Users` whose data refers to no other operation.
fn batchable(op: &BulkOp) -> bool {
    op.method == BulkMethod::Post
        && matches!(parse_target(&op.path), Ok((ResourceKind::User, None)))
        && references(op).is_empty()
}

/// The group id of a `PATCH /Groups/{id}` that refers to no other operation
/// and needs no uniqueness read before its write (which would let a later
/// PATCH overtake it); None for any other operation.
fn queueable_group_patch(op: &BulkOp) -> Option<String> {
    if op.method != BulkMethod::Patch || any_unique(ResourceKind::Group) {
        return None;
    }
    match parse_target(&op.path) {
        Ok((ResourceKind::Group, Some(id))) if references(op).is_empty() => Some(id),
        _ => None,
    }
}

/// One entry of the BulkResponse.
fn report(op: &BulkOp, outcome: Result<Done, AppError>, base_url: &str) -> Value {
    let mut entry = json!({"method": op.method.as_str()});
    let map = entry.as_object_mut();
    let Some(map) = map else { return entry };
    if let Some(b) = &op.bulk_id {
        map.insert("bulkId".into(), json!(b));
    }
    match outcome {
        Ok(done) => {
            if let (Some(id), Ok((kind, _))) = (&done.id, parse_target(&op.path)) {
                map.insert("location".into(), json!(location(base_url, kind, id)));
            }
            if let Some(meta) = &done.meta {
                map.insert("version".into(), json!(meta.etag()));
            }
            map.insert("status".into(), json!(done.status.to_string()));
        }
        Err(e) => {
            let scim = match e {
                AppError::Scim(s) => s,
                AppError::Auth(a) => ScimError::new(403, None, a.to_string()),
                AppError::RateLimited { .. } => ScimError::new(429, None, "too many requests"),
                AppError::Internal(cause) => {
                    tracing::error!(error = format!("{cause:#}"), "bulk operation failed");
                    ScimError::new(500, None, "internal server error")
                }
            };
            map.insert("status".into(), json!(scim.status.to_string()));
            map.insert("response".into(), scim.to_json());
        }
    }
    entry
}
