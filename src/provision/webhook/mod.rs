//! Signed webhooks: operator notifications through a durable outbox
//! (`notifier` → `webhook_deliveries` → `deliverer`, to webhook URLs and by
//! e-mail through `mail`) and change-event subscriptions pushed from the
//! change log (`subscription_worker`).

pub mod deliverer;
pub mod mail;
pub mod notification;
pub mod notifier;
pub mod signing;
pub mod subscription_worker;
pub mod subscriptions;
pub mod transport;
pub mod workers;

pub use deliverer::Deliverer;
pub use notification::Notification;
pub use notifier::Notifier;
pub use workers::Workers;
