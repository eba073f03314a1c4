//! The SCIM 2.0 connector (RFC 7644): a target's API through the outbound
//! `client`, with PATCH where the target offers it and PUT otherwise.

mod bulk;
mod writes;

use async_trait::async_trait;
use serde_json::{Map, Value, json};
use tokio::sync::OnceCell;

use super::{
    Capabilities, Connector, ConnectorError, DEFAULT_MEMBER_BATCH, MemberChange, change_each,
    create_each, object_id,
};
use crate::provision::client::{ScimClient, TargetLimits};
use crate::provision::plan::MatchKey;
use crate::provision::plan::managers::ENTERPRISE;
use crate::scim::ResourceKind;

/// Largest member batch sent in one PATCH, whatever the target allows.
const MAX_MEMBER_BATCH: usize = 1000;

pub struct ScimConnector {
    client: ScimClient,
    limits: OnceCell<TargetLimits>,
}

impl ScimConnector {
    pub fn new(client: ScimClient) -> Self {
        Self {
            client,
            limits: OnceCell::new(),
        }
    }

    /// The target's ServiceProviderConfig, read once.
    async fn limits(&self) -> Result<TargetLimits, ConnectorError> {
        self.limits
            .get_or_try_init(|| self.client.discover())
            .await
            .copied()
    }

    /// Whether to PATCH (else PUT); a target whose features cannot be
    /// read gets the conservative answer.
    async fn patches(&self) -> bool {
        self.limits().await.is_ok_and(|l| l.patch)
    }

    /// The target's limits when writes may go through `/Bulk`: it offers
    /// bulk, and no recording wants each write as an exchange of its own.
    async fn bulk_limits(&self) -> Option<TargetLimits> {
        let limits = self.limits().await.ok()?;
        (limits.bulk && !self.client.is_recording()).then_some(limits)
    }

    /// GET, change, PUT back: the way to edit on targets without PATCH.
    async fn replace_with(
        &self,
        kind: ResourceKind,
        id: &str,
        edit: impl FnOnce(&mut Map<String, Value>),
    ) -> Result<(), ConnectorError> {
        let Some(mut current) = self.client.get(kind, id).await? else {
            return Ok(());
        };
        if let Some(o) = current.as_object_mut() {
            o.remove("meta");
            edit(o);
        }
        self.client.replace(kind, id, &current).await.map(drop)
    }
}

/// Member batches: the target's bulk limit when it states one.
fn member_batch(limits: &TargetLimits) -> usize {
    if limits.bulk && limits.bulk_max_operations > 0 {
        limits.bulk_max_operations.min(MAX_MEMBER_BATCH)
    } else {
        DEFAULT_MEMBER_BATCH
    }
}

#[async_trait]
impl Connector for ScimConnector {
    async fn capabilities(&self) -> Result<Capabilities, ConnectorError> {
        let limits = self.limits().await?;
        Ok(Capabilities {
            lookup: limits.filter,
            member_batch: member_batch(&limits),
            batch: self
                .bulk_limits()
                .await
                .map_or(1, |l| bulk::bulk_writes(&l).max(1)),
        })
    }

    async fn probe(&self) -> Result<(), ConnectorError> {
        match self
            .client
            .search(ResourceKind::User, "userName eq \"scimhub-probe\"")
            .await
        {
            Ok(_) | Err(ConnectorError::Rejected { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn list(&self, kind: ResourceKind) -> Result<Vec<Value>, ConnectorError> {
        let limits = self.limits().await?;
        match limits.cursor_page {
            Some(page) => self.client.list_all_by_cursor(kind, page).await,
            None => self.client.list_all(kind, limits.max_results).await,
        }
    }

    async fn get(&self, kind: ResourceKind, id: &str) -> Result<Option<Value>, ConnectorError> {
        self.client.get(kind, id).await
    }

    async fn find(
        &self,
        kind: ResourceKind,
        key: &MatchKey,
        value: &str,
    ) -> Result<Vec<Value>, ConnectorError> {
        let Some(filter) = writes::match_filter(key, value) else {
            return Ok(Vec::new());
        };
        self.client.search(kind, &filter).await
    }

    async fn create(&self, kind: ResourceKind, object: &Value) -> Result<String, ConnectorError> {
        let created = self.client.create(kind, object).await?;
        object_id(&created)
            .map(str::to_string)
            .ok_or_else(|| ConnectorError::Protocol("the created resource has no id".into()))
    }

    /// One path-less PATCH replace, or a PUT of the whole resource on
    /// targets without PATCH.
    async fn update(
        &self,
        kind: ResourceKind,
        id: &str,
        object: &Value,
        changed: Option<&[String]>,
    ) -> Result<(), ConnectorError> {
        if !self.patches().await {
            return self.client.replace(kind, id, object).await.map(drop);
        }
        let values: Map<String, Value> = object
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("schemas"))
            .filter(|(k, _)| changed.is_none_or(|c| c.iter().any(|n| n == *k)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let op = json!({"op": "replace", "value": values});
        self.client.patch(kind, id, vec![op]).await.map(drop)
    }

    async fn set_manager(&self, user_id: &str, manager_id: &str) -> Result<(), ConnectorError> {
        let kind = ResourceKind::User;
        let manager = json!({"value": manager_id});
        if self.patches().await {
            let path = format!("{ENTERPRISE}:manager");
            let op = json!({"op": "replace", "path": path, "value": manager});
            return self.client.patch(kind, user_id, vec![op]).await.map(drop);
        }
        self.replace_with(kind, user_id, |o| {
            let ext = o
                .entry(ENTERPRISE)
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(ext) = ext.as_object_mut() {
                ext.insert("manager".into(), manager);
            }
        })
        .await
    }

    async fn deactivate(&self, user_id: &str) -> Result<(), ConnectorError> {
        let kind = ResourceKind::User;
        if self.patches().await {
            let op = json!({"op": "replace", "value": {"active": false}});
            return self.client.patch(kind, user_id, vec![op]).await.map(drop);
        }
        self.replace_with(kind, user_id, |o| {
            o.insert("active".into(), Value::Bool(false));
        })
        .await
    }

    async fn delete(&self, kind: ResourceKind, id: &str) -> Result<(), ConnectorError> {
        self.client.delete(kind, id).await
    }

    /// Through `/Bulk` when the target offers it, else one by one.
    async fn create_many(
        &self,
        kind: ResourceKind,
        objects: &[Value],
    ) -> Vec<Result<String, ConnectorError>> {
        match self.bulk_limits().await {
            Some(limits) if objects.len() > 1 => self.create_in_bulk(&limits, kind, objects).await,
            _ => create_each(self, kind, objects).await,
        }
    }

    /// Member PATCHes through `/Bulk` when the target offers it.
    async fn change_members_many(
        &self,
        changes: &[MemberChange],
    ) -> Vec<Result<(), ConnectorError>> {
        match self.bulk_limits().await {
            Some(limits) if limits.patch && changes.len() > 1 => {
                self.change_members_in_bulk(&limits, changes).await
            }
            _ => change_each(self, changes).await,
        }
    }

    async fn change_members(
        &self,
        group_id: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<(), ConnectorError> {
        let ops = writes::member_ops(add, remove);
        if ops.is_empty() {
            return Ok(());
        }
        if !self.patches().await {
            return Err(ConnectorError::Protocol(
                "the target does not support PATCH".into(),
            ));
        }
        self.client
            .patch(ResourceKind::Group, group_id, ops)
            .await
            .map(drop)
    }
}
