//! Operator notifications by e-mail: each recipient gets its own outbox row
//! (endpoint `mailto:ADDRESS`, body the rendered message), sent by the same
//! deliverer as the webhooks, with the same retries and dead letters.

pub mod message;
pub mod transport;

pub use message::{ApiBase, MailText};
pub use transport::{MAILTO, Mailer};
