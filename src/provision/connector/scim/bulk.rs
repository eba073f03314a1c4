//! Batched writes through SCIM `/Bulk`: requests within the target's
//! limits, each operation's outcome read on its own.

use reqwest::Method;
use serde_json::{Value, json};

use super::{ScimConnector, writes};
use crate::provision::client::{BulkWrite, TargetLimits, created_id};
use crate::provision::connector::{ConnectorError, MemberChange};
use crate::scim::ResourceKind;
use crate::scim::patch::PATCH_OP_SCHEMA;

/// Most writes sent in one `/Bulk` request, whatever the target allows.
pub const MAX_BULK_WRITES: usize = 1000;

/// Room left in a request body for the BulkRequest envelope.
const ENVELOPE_BYTES: usize = 1024;

/// Writes per `/Bulk` request the target takes (0: it offers no bulk).
pub fn bulk_writes(limits: &TargetLimits) -> usize {
    if limits.bulk {
        limits.bulk_max_operations.min(MAX_BULK_WRITES)
    } else {
        0
    }
}

impl ScimConnector {
    /// Creates `objects` through `/Bulk`; the id of each, in order.
    pub(super) async fn create_in_bulk(
        &self,
        limits: &TargetLimits,
        kind: ResourceKind,
        objects: &[Value],
    ) -> Vec<Result<String, ConnectorError>> {
        let writes = objects
            .iter()
            .map(|o| BulkWrite {
                method: Method::POST,
                kind,
                id: None,
                data: o.clone(),
            })
            .collect();
        self.bulk(limits, writes)
            .await
            .into_iter()
            .map(|outcome| {
                outcome.and_then(|op| {
                    created_id(&op).ok_or_else(|| {
                        ConnectorError::Protocol("a bulk create named no resource".into())
                    })
                })
            })
            .collect()
    }

    /// Member PATCHes through `/Bulk`; one outcome per change, in order.
    pub(super) async fn change_members_in_bulk(
        &self,
        limits: &TargetLimits,
        changes: &[MemberChange],
    ) -> Vec<Result<(), ConnectorError>> {
        let mut writes = Vec::new();
        let mut sent = Vec::with_capacity(changes.len());
        for c in changes {
            let ops = writes::member_ops(&c.add, &c.remove);
            sent.push(!ops.is_empty());
            if !ops.is_empty() {
                writes.push(BulkWrite {
                    method: Method::PATCH,
                    kind: ResourceKind::Group,
                    id: Some(c.group_id.clone()),
                    data: json!({"schemas": [PATCH_OP_SCHEMA], "Operations": ops}),
                });
            }
        }
        let mut outcomes = self.bulk(limits, writes).await.into_iter();
        sent.into_iter()
            .map(|was_sent| {
                if !was_sent {
                    return Ok(());
                }
                outcomes.next().map_or_else(
                    || Err(ConnectorError::Protocol("a bulk answer is missing".into())),
                    |o| o.map(drop),
                )
            })
            .collect()
    }

    /// `writes` through `/Bulk`, in requests within the target's limits
    /// (operations and body size). An operation the target found busy
    /// (5xx, 429) is sent again on its own, with the retries of a single
    /// write; a bulk request the target refused as such (a 4xx such as 413
    /// or 405) is sent write by write; one that failed otherwise after its
    /// retries (unavailable, credentials, nonsense) fails each of its writes.
    async fn bulk(
        &self,
        limits: &TargetLimits,
        writes: Vec<BulkWrite>,
    ) -> Vec<Result<Value, ConnectorError>> {
        let most = bulk_writes(limits).max(1);
        let budget = limits
            .bulk_max_payload
            .saturating_sub(ENVELOPE_BYTES)
            .max(1);
        let mut out = Vec::with_capacity(writes.len());
        let mut chunk: Vec<BulkWrite> = Vec::new();
        let mut size = 0;
        // Each write's size once: it serialises the whole resource.
        let mut writes = writes.into_iter().map(|w| (w.size(), w)).peekable();
        while let Some((bytes, w)) = writes.next() {
            size += bytes;
            chunk.push(w);
            let full =
                chunk.len() >= most || writes.peek().is_none_or(|(next, _)| size + next > budget);
            if full {
                out.extend(self.send_chunk(&chunk).await);
                chunk.clear();
                size = 0;
            }
        }
        out
    }

    async fn send_chunk(&self, chunk: &[BulkWrite]) -> Vec<Result<Value, ConnectorError>> {
        match self.client.bulk(chunk).await {
            Ok(outcomes) => {
                let mut out = Vec::with_capacity(chunk.len());
                for (write, outcome) in chunk.iter().zip(outcomes) {
                    out.push(match outcome {
                        Err(ConnectorError::Unavailable { .. }) => {
                            self.client.write_alone(write).await
                        }
                        other => other,
                    });
                }
                out
            }
            Err(ConnectorError::Rejected { status, detail, .. }) => {
                tracing::warn!(status, %detail, writes = chunk.len(), "the target refused a bulk request; sending its writes one by one");
                let mut out = Vec::with_capacity(chunk.len());
                for write in chunk {
                    out.push(self.client.write_alone(write).await);
                }
                out
            }
            Err(e) => chunk.iter().map(|_| Err(e.clone())).collect(),
        }
    }
}
