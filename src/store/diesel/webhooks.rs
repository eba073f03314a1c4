//! `WebhookStore` over the diesel connection pool.

use chrono::{DateTime, Utc};

use super::{DieselStore, webhook_deliveries, webhook_subscriptions};
use crate::store::{DeliveryRecord, DeliveryUpdate, StoreResult, SubscriptionRecord, WebhookStore};

impl WebhookStore for DieselStore {
    fn enqueue_delivery(&self, delivery: &DeliveryRecord) -> StoreResult<()> {
        self.write(|c| webhook_deliveries::insert(c, delivery))
    }

    fn claim_due_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryRecord>> {
        self.write(|c| webhook_deliveries::claim_due(c, now, lease_until, limit))
    }

    fn update_delivery(&self, id: &str, update: &DeliveryUpdate) -> StoreResult<()> {
        self.write(|c| webhook_deliveries::update(c, id, update))
    }

    fn delivery_counts(&self) -> StoreResult<Vec<(String, i64)>> {
        webhook_deliveries::counts(&mut *self.conn()?)
    }

    fn list_deliveries(&self, limit: u32) -> StoreResult<Vec<DeliveryRecord>> {
        webhook_deliveries::list(&mut *self.conn()?, limit)
    }

    fn create_subscription(&self, subscription: &SubscriptionRecord) -> StoreResult<()> {
        self.write(|c| webhook_subscriptions::create(c, subscription))
    }

    fn list_subscriptions(&self) -> StoreResult<Vec<SubscriptionRecord>> {
        webhook_subscriptions::list(&mut *self.conn()?)
    }

    fn delete_subscription(&self, id_or_name: &str) -> StoreResult<bool> {
        self.write(|c| webhook_subscriptions::delete(c, id_or_name))
    }

    fn advance_subscription(&self, id: &str, from: i64, to: i64) -> StoreResult<bool> {
        self.write(|c| webhook_subscriptions::advance(c, id, from, to))
    }

    fn set_subscription_error(&self, id: &str, error: Option<&str>) -> StoreResult<()> {
        self.write(|c| webhook_subscriptions::set_error(c, id, error))
    }

    fn ack_events(&self, subscription_id: &str, seqs: &[i64]) -> StoreResult<()> {
        self.write(|c| webhook_subscriptions::ack(c, subscription_id, seqs))
    }

    fn acked_events(
        &self,
        subscription_id: &str,
        after: i64,
        through: i64,
    ) -> StoreResult<Vec<i64>> {
        webhook_subscriptions::acked(&mut *self.conn()?, subscription_id, after, through)
    }
}
