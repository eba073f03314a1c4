//! SCIM events (RFC 9967): change-log rows as signed Security Event Tokens
//! (RFC 8417) for subscriptions of format `set`, pushed to the receiver
//! (`push`, RFC 8935, from `subscription_worker`) or fetched by it
//! (`poll`, RFC 8936). `event` builds the claims, `signer` signs them.

pub mod event;
pub mod poll;
pub mod push;
pub mod signer;

use std::sync::Arc;

use chrono::Utc;

use crate::scim::ResourceKind;
use crate::store::{ChangeRecord, Delivery, Store, StoreError, SubscriptionRecord};
use event::{Current, Envelope};
pub use signer::SetSigner;

/// Where a poll receiver fetches its SETs, under the public root.
pub fn poll_path(subscription_id: &str) -> String {
    format!("/events/v1/poll/{subscription_id}")
}

#[derive(Debug, thiserror::Error)]
pub enum SetError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot sign the SET: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// Issues the SETs of every subscription: the signer plus what every SET
/// names besides its change.
#[derive(Debug, Clone)]
pub struct Publisher {
    signer: Arc<SetSigner>,
    /// `iss`.
    issuer: String,
    /// scheme://host[:port]: the poll endpoint (a poll stream's `aud`)…
    public_root: String,
    /// …and `/scim/v2` under it, for `meta.location` in `data`.
    scim_base: String,
}

impl Publisher {
    pub fn new(signer: SetSigner, issuer: String, public_root: &str) -> Self {
        let root = public_root.trim_end_matches('/').to_string();
        Self {
            signer: Arc::new(signer),
            issuer,
            scim_base: format!("{root}/scim/v2"),
            public_root: root,
        }
    }

    pub fn signer(&self) -> &SetSigner {
        &self.signer
    }

    /// `aud`: the receiver's URL for push, the stream's poll URL for poll.
    pub fn audience(&self, sub: &SubscriptionRecord) -> String {
        match sub.delivery {
            Delivery::Push => sub.url.clone(),
            Delivery::Poll => format!("{}{}", self.public_root, poll_path(&sub.id)),
        }
    }

    /// The SET of one change for one subscription (reads the resource as
    /// it is now); `None` for an operation no SCIM event stands for.
    pub fn issue(
        &self,
        store: &dyn Store,
        sub: &SubscriptionRecord,
        change: &ChangeRecord,
    ) -> Result<Option<String>, SetError> {
        if !event::issues(&change.operation) {
            return Ok(None);
        }
        let current = if change.operation == "delete" {
            None
        } else {
            self.current(store, change)?
        };
        let jti = jti(sub, change.seq);
        let audience = self.audience(sub);
        let envelope = Envelope {
            jti: &jti,
            issuer: &self.issuer,
            audience: &audience,
            issued_at: Utc::now(),
        };
        match event::claims(&envelope, change, current.as_ref(), sub.mode) {
            Some(claims) => Ok(Some(self.signer.sign(&claims)?)),
            None => Ok(None),
        }
    }

    fn current(
        &self,
        store: &dyn Store,
        change: &ChangeRecord,
    ) -> Result<Option<Current>, StoreError> {
        match ResourceKind::parse(&change.resource_type) {
            Some(kind) => crate::store::current(store, kind, &change.resource_id, &self.scim_base),
            None => Ok(None),
        }
    }
}

/// The SET's id: one per (subscription, change), the same on every retry.
pub fn jti(sub: &SubscriptionRecord, seq: i64) -> String {
    format!("{}:{seq}", sub.id)
}

/// The change `seq` a `jti` of this subscription names.
pub fn seq_of(sub: &SubscriptionRecord, jti: &str) -> Option<i64> {
    let (id, seq) = jti.rsplit_once(':')?;
    let seq: i64 = seq.parse().ok()?;
    (id == sub.id && seq > 0).then_some(seq)
}
