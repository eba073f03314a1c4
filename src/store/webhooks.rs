//! Webhook storage seam: the notification outbox and change-event
//! subscriptions. Kept apart from `Store` like `SyncStore`.

use chrono::{DateTime, Utc};

use super::StoreResult;

/// Where an outbox row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    /// Refused for good or out of attempts; kept for inspection.
    Dead,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(DeliveryStatus::Pending),
            "delivered" => Some(DeliveryStatus::Delivered),
            "dead" => Some(DeliveryStatus::Dead),
            _ => None,
        }
    }
}

/// One notification on its way to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// Also the `X-Scimhub-Delivery` header: the same on every retry.
    pub id: String,
    /// The endpoint's configured URL (its secret stays in the config).
    pub endpoint: String,
    pub event: String,
    /// The JSON body, sent byte for byte as stored (it is what is signed).
    pub body: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub status: DeliveryStatus,
    pub created: DateTime<Utc>,
}

/// The outcome of one attempt, written back to the outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryUpdate {
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

/// What a subscription's receiver gets: scimhub's signed JSON batches
/// (`webhook`) or Security Event Tokens (`set`, RFC 8417 / RFC 9967).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventFormat {
    Webhook,
    Set,
}

/// How SETs travel: POSTed to the receiver (RFC 8935) or fetched by it (RFC 8936).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Push,
    Poll,
}

/// A SET with the resource (`full`) or the changed attribute names (`notice`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventMode {
    Full,
    Notice,
}

/// `as_str` / `parse` over the words stored and accepted for an enum.
macro_rules! words {
    ($ty:ident { $($variant:ident => $word:literal),* $(,)? }) => {
        impl $ty {
            pub const WORDS: &'static [&'static str] = &[$($word),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $word,)*
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($word => Some($ty::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

words!(EventFormat { Webhook => "webhook", Set => "set" });
words!(Delivery { Push => "push", Poll => "poll" });
words!(EventMode { Full => "full", Notice => "notice" });

/// A change-event subscription. `secret` is sealed (see `provision::crypto`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRecord {
    pub id: String,
    pub name: String,
    /// The receiver's URL; empty for poll subscriptions.
    pub url: String,
    pub secret: String,
    pub format: EventFormat,
    pub delivery: Delivery,
    pub mode: EventMode,
    /// Resource types to send (`User`, `Group`); empty is all.
    pub resource_types: Vec<String>,
    /// Last change-log `seq` the receiver acknowledged with a 2xx.
    pub change_cursor: i64,
    pub last_error: Option<String>,
    pub created: DateTime<Utc>,
}

impl SubscriptionRecord {
    /// Whether changes of this resource type (`User`, `Group`) are sent.
    pub fn wants(&self, resource_type: &str) -> bool {
        self.resource_types.is_empty() || self.resource_types.iter().any(|t| t == resource_type)
    }
}

pub trait WebhookStore: Send + Sync + 'static {
    fn enqueue_delivery(&self, delivery: &DeliveryRecord) -> StoreResult<()>;
    /// Pending deliveries due at `now` (oldest first, at most `limit`), each
    /// leased until `lease_until` so another instance does not send it too.
    fn claim_due_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryRecord>>;
    fn update_delivery(&self, id: &str, update: &DeliveryUpdate) -> StoreResult<()>;
    /// Outbox rows per status (`pending`, `delivered`, `dead`).
    fn delivery_counts(&self) -> StoreResult<Vec<(String, i64)>>;
    /// Newest first.
    fn list_deliveries(&self, limit: u32) -> StoreResult<Vec<DeliveryRecord>>;

    /// Fails with a `uniqueness` rejection when the name is taken.
    fn create_subscription(&self, subscription: &SubscriptionRecord) -> StoreResult<()>;
    /// By name.
    fn list_subscriptions(&self) -> StoreResult<Vec<SubscriptionRecord>>;
    /// Removes the subscription with this id or name; false when there is none.
    fn delete_subscription(&self, id_or_name: &str) -> StoreResult<bool>;
    /// Moves the cursor from `from` to `to` only if it is still at `from`
    /// (a removed or concurrently advanced subscription is left alone);
    /// clears `last_error`. True when it moved.
    fn advance_subscription(&self, id: &str, from: i64, to: i64) -> StoreResult<bool>;
    fn set_subscription_error(&self, id: &str, error: Option<&str>) -> StoreResult<()>;

    /// Records SETs (by change `seq`) a poll receiver acknowledged; those
    /// at or below the subscription's cursor are already behind it.
    fn ack_events(&self, subscription_id: &str, seqs: &[i64]) -> StoreResult<()>;
    /// The acknowledged `seq`s in `(after, through]`, ascending.
    fn acked_events(
        &self,
        subscription_id: &str,
        after: i64,
        through: i64,
    ) -> StoreResult<Vec<i64>>;
}
