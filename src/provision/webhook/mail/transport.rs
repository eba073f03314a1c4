//! One e-mail over SMTP (lettre) and what the relay's answer means:
//! delivered, worth retrying (4xx, timeouts, connection and TLS errors) or
//! refused for good (5xx).

use std::collections::HashMap;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::message::MailText;
use crate::provision::webhook::transport::{Outcome, error_chain};
use crate::settings::{EmailConfig, SmtpSecurity};

/// The prefix of an outbox row's endpoint that goes by mail.
pub const MAILTO: &str = "mailto:";

/// The outbox endpoint of one recipient.
pub fn endpoint(recipient: &Mailbox) -> String {
    format!("{MAILTO}{}", recipient.email)
}

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// Bare address (as in the endpoint) → the configured mailbox.
    recipients: HashMap<String, Mailbox>,
}

impl Mailer {
    /// Builds the SMTP client and reads the password now (start-up).
    /// `None` when e-mail is off.
    pub fn from_config(config: &EmailConfig, timeout: Duration) -> anyhow::Result<Option<Self>> {
        let Some(host) = &config.smtp_host else {
            return Ok(None);
        };
        let builder = match config.security {
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?,
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
        };
        let mut builder = builder.port(config.port()).timeout(Some(timeout));
        if let (Some(user), Some(password)) = (&config.username, config.password()?) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            ));
        }
        let recipients = config
            .recipients()?
            .into_iter()
            .map(|m| (m.email.to_string(), m))
            .collect();
        Ok(Some(Self {
            transport: builder.build(),
            from: config.from_mailbox()?,
            recipients,
        }))
    }

    /// Sends one stored message to `address` (the endpoint without
    /// `mailto:`). The delivery id is the Message-ID, the same on every
    /// retry, so a mailbox can drop a duplicate.
    pub async fn send(&self, address: &str, delivery_id: &str, body: &str) -> Outcome {
        let Some(to) = self.recipients.get(address) else {
            return Outcome::Refused {
                reason: "the recipient is no longer configured".into(),
            };
        };
        let Ok(mail) = serde_json::from_str::<MailText>(body) else {
            return Outcome::Refused {
                reason: "the stored message is not readable".into(),
            };
        };
        let message = Message::builder()
            .from(self.from.clone())
            .to(to.clone())
            .subject(mail.subject)
            .message_id(Some(format!(
                "<{delivery_id}@{}>",
                self.from.email.domain()
            )))
            .header(ContentType::TEXT_PLAIN)
            .body(mail.text);
        let message = match message {
            Ok(m) => m,
            Err(e) => {
                return Outcome::Refused {
                    reason: format!("the message could not be built: {e}"),
                };
            }
        };
        match self.transport.send(message).await {
            Ok(_) => Outcome::Delivered,
            Err(e) if e.is_permanent() => Outcome::Refused {
                reason: format!("the mail server refused it: {e}"),
            },
            Err(e) => Outcome::Retry {
                reason: format!("could not be sent: {}", error_chain(&e)),
                retry_after: None,
            },
        }
    }
}
