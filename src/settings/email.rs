//! E-mail notifications (`[email]`, `SCIMHUB_EMAIL_*`): the SMTP relay, the
//! sender, the recipients and which events go by mail.

use std::str::FromStr;

use anyhow::{Context, bail};
use lettre::message::Mailbox;
use serde::Deserialize;

/// How the connection to the SMTP relay is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain SMTP (a relay on the same host or network only).
    None,
    /// Plain connection upgraded with STARTTLS, required.
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
}

impl SmtpSecurity {
    /// The port this security usually runs on.
    pub fn default_port(self) -> u16 {
        match self {
            Self::None => 25,
            Self::Starttls => 587,
            Self::Tls => 465,
        }
    }
}

/// The SMTP password: never logged, never in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpPassword(String);

impl SmtpPassword {
    pub fn new(password: String) -> Self {
        Self(password)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SmtpPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmtpPassword(redacted)")
    }
}

#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailConfig {
    /// The relay; e-mail is off while unset.
    pub smtp_host: Option<String>,
    /// Default: 25, 587 or 465 by `security`.
    pub smtp_port: Option<u16>,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    /// From `SCIMHUB_EMAIL_PASSWORD` only (never the file).
    #[serde(skip)]
    pub password: Option<SmtpPassword>,
    /// A file holding the password (a mounted secret).
    pub password_file: Option<String>,
    /// The sender, e.g. `scimhub <scimhub@example.com>`.
    pub from: Option<String>,
    /// Recipients; each gets its own message (and its own retries).
    pub to: Vec<String>,
    /// Event types to send (e.g. `target.quarantined`); empty is all.
    pub events: Vec<String>,
}

impl std::fmt::Debug for EmailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailConfig")
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password_set", &self.password.is_some())
            .field("password_file", &self.password_file)
            .field("from", &self.from)
            .field("to", &self.to)
            .field("events", &self.events)
            .finish()
    }
}

impl EmailConfig {
    /// Whether e-mail notifications are on.
    pub fn enabled(&self) -> bool {
        self.smtp_host.is_some()
    }

    pub fn port(&self) -> u16 {
        self.smtp_port
            .unwrap_or_else(|| self.security.default_port())
    }

    /// Whether `event` goes by mail.
    pub fn wants(&self, event: &str) -> bool {
        self.events.is_empty() || self.events.iter().any(|e| e == event)
    }

    /// The password from `SCIMHUB_EMAIL_PASSWORD` or `password_file`, read
    /// now (start-up), so a missing file stops the server, not a delivery.
    pub fn password(&self) -> anyhow::Result<Option<SmtpPassword>> {
        if let Some(p) = &self.password {
            return Ok(Some(p.clone()));
        }
        let Some(path) = &self.password_file else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("email.password_file: cannot read {path}"))?;
        let text = text.trim_end_matches(['\r', '\n']).to_string();
        if text.is_empty() {
            bail!("email.password_file: {path} is empty");
        }
        Ok(Some(SmtpPassword(text)))
    }

    /// The sender, parsed (call after `check`).
    pub fn from_mailbox(&self) -> anyhow::Result<Mailbox> {
        mailbox("email.from (SCIMHUB_EMAIL_FROM)", self.from.as_deref())
    }

    /// The recipients, parsed (call after `check`).
    pub fn recipients(&self) -> anyhow::Result<Vec<Mailbox>> {
        self.to
            .iter()
            .map(|t| mailbox("email.to (SCIMHUB_EMAIL_TO)", Some(t)))
            .collect()
    }
}

/// One address (`ops@example.com` or `Ops <ops@example.com>`), parsed the
/// way it will be sent.
fn mailbox(key: &str, value: Option<&str>) -> anyhow::Result<Mailbox> {
    let Some(value) = value else {
        bail!("{key} is required to send e-mail");
    };
    Mailbox::from_str(value.trim())
        .map_err(|e| anyhow::anyhow!("{key}: {value:?} is not an e-mail address ({e})"))
}
