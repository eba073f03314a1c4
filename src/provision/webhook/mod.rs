//! Signed webhooks: operator notifications through a durable outbox
//! (`notifier` → `webhook_deliveries` → `deliverer`, to webhook URLs and by
//! e-mail through `mail`) and change-event subscriptions from the change
//! log: JSON batches and pushed SCIM events sent by `subscription_worker`,
//! polled SCIM events answered by `set::poll`.

pub mod deliverer;
pub mod mail;
pub mod notification;
pub mod notifier;
pub mod set;
pub mod signing;
pub mod subscription_worker;
pub mod subscriptions;
pub mod transport;
pub mod workers;

pub use deliverer::Deliverer;
pub use notification::Notification;
pub use notifier::Notifier;
pub use workers::Workers;
