//! Any connector with on-demand provisioning's record around it: every
//! operation noted in the journal, and in a dry run the writes noted as
//! "would send" and not made (an object the dry run adds is read back from
//! the journal). For systems whose connector keeps no record of its own.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::journal::Journal;
use super::{Capabilities, Connector, ConnectorError};
use crate::provision::client::ExchangeSink;
use crate::provision::plan::MatchKey;
use crate::scim::ResourceKind;

pub struct Recorded {
    inner: Arc<dyn Connector>,
    journal: Journal,
}

impl Recorded {
    pub fn new(inner: Arc<dyn Connector>, sink: Arc<dyn ExchangeSink>, dry_run: bool) -> Self {
        Self {
            inner,
            journal: Journal::new(sink, dry_run),
        }
    }

    fn place(kind: ResourceKind, id: &str) -> String {
        format!("{}/{id}", kind.endpoint())
    }

    /// A write: noted, and made only outside a dry run.
    async fn write<F>(
        &self,
        operation: &str,
        place: String,
        body: Option<Value>,
        send: F,
    ) -> Result<(), ConnectorError>
    where
        F: std::future::Future<Output = Result<(), ConnectorError>>,
    {
        if self.journal.dry_run() {
            self.journal.note(operation, &place, body, false, Ok(None));
            return Ok(());
        }
        let result = send.await;
        self.journal
            .note(operation, &place, body, true, result.as_ref().map(|_| None));
        result
    }
}

#[async_trait]
impl Connector for Recorded {
    async fn capabilities(&self) -> Result<Capabilities, ConnectorError> {
        // Every write is journalled on its own.
        let inner = self.inner.capabilities().await?;
        Ok(Capabilities { batch: 1, ..inner })
    }

    async fn probe(&self) -> Result<(), ConnectorError> {
        self.inner.probe().await
    }

    async fn list(&self, kind: ResourceKind) -> Result<Vec<Value>, ConnectorError> {
        let result = self.inner.list(kind).await;
        let outcome = result.as_ref().map(|l| Some(l.len()));
        self.journal
            .note("LIST", kind.endpoint(), None, true, outcome);
        result
    }

    async fn get(&self, kind: ResourceKind, id: &str) -> Result<Option<Value>, ConnectorError> {
        if let Some(draft) = self.journal.drafted(id) {
            return Ok(Some(draft));
        }
        let result = self.inner.get(kind, id).await;
        let outcome = result.as_ref().map(|o| Some(usize::from(o.is_some())));
        self.journal
            .note("GET", &Self::place(kind, id), None, true, outcome);
        result
    }

    async fn find(
        &self,
        kind: ResourceKind,
        key: &MatchKey,
        value: &str,
    ) -> Result<Vec<Value>, ConnectorError> {
        let result = self.inner.find(kind, key, value).await;
        let place = format!("{} where {} = {value:?}", kind.endpoint(), key.path.attr);
        let outcome = result.as_ref().map(|f| Some(f.len()));
        self.journal.note("FIND", &place, None, true, outcome);
        result
    }

    async fn create(&self, kind: ResourceKind, object: &Value) -> Result<String, ConnectorError> {
        if self.journal.dry_run() {
            let id = self.journal.draft(object.clone());
            self.journal.note(
                "CREATE",
                kind.endpoint(),
                Some(object.clone()),
                false,
                Ok(None),
            );
            return Ok(id);
        }
        let result = self.inner.create(kind, object).await;
        let outcome = result.as_ref().map(|_| None);
        self.journal.note(
            "CREATE",
            kind.endpoint(),
            Some(object.clone()),
            true,
            outcome,
        );
        result
    }

    async fn update(
        &self,
        kind: ResourceKind,
        id: &str,
        object: &Value,
        changed: Option<&[String]>,
    ) -> Result<(), ConnectorError> {
        let send = self.inner.update(kind, id, object, changed);
        self.write("UPDATE", Self::place(kind, id), Some(object.clone()), send)
            .await
    }

    async fn set_manager(&self, user_id: &str, manager_id: &str) -> Result<(), ConnectorError> {
        let place = Self::place(ResourceKind::User, user_id);
        let body = json!({"manager": manager_id});
        let send = self.inner.set_manager(user_id, manager_id);
        self.write("SET MANAGER", place, Some(body), send).await
    }

    async fn deactivate(&self, user_id: &str) -> Result<(), ConnectorError> {
        let place = Self::place(ResourceKind::User, user_id);
        let send = self.inner.deactivate(user_id);
        self.write("DEACTIVATE", place, None, send).await
    }

    async fn delete(&self, kind: ResourceKind, id: &str) -> Result<(), ConnectorError> {
        let send = self.inner.delete(kind, id);
        self.write("DELETE", Self::place(kind, id), None, send)
            .await
    }

    async fn change_members(
        &self,
        group_id: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<(), ConnectorError> {
        let place = Self::place(ResourceKind::Group, group_id);
        let body = json!({"add": add, "remove": remove});
        let send = self.inner.change_members(group_id, add, remove);
        self.write("MEMBERS", place, Some(body), send).await
    }
}
