//! E-mail notifications (`[email]`, `SCIMHUB_EMAIL_*`): the SMTP relay, the
//! sender, the recipients and which events go by mail.

use anyhow::bail;

use crate::settings::{EmailConfig, SmtpPassword, SmtpSecurity};

fn security(value: &str) -> Option<SmtpSecurity> {
    match value.trim().to_ascii_lowercase().as_str() {
        "none" => Some(SmtpSecurity::None),
        "starttls" => Some(SmtpSecurity::Starttls),
        "tls" => Some(SmtpSecurity::Tls),
        _ => None,
    }
}

fn list(value: &str) -> Vec<String> {
    super::values::comma_list(value).map(String::from).collect()
}

impl EmailConfig {
    /// `name` is the variable without `SCIMHUB_`; unknown ones are ignored.
    pub fn apply_env(&mut self, key: &str, name: &str, value: &str) -> anyhow::Result<()> {
        match name {
            "EMAIL_SMTP_HOST" => self.smtp_host = Some(value.trim().to_string()),
            "EMAIL_SMTP_PORT" => {
                self.smtp_port = Some(value.trim().parse().map_err(|_| {
                    anyhow::anyhow!(
                        "environment variable {key} has an invalid value {}: expected a port (1-65535)",
                        super::values::shown(value)
                    )
                })?)
            }
            "EMAIL_SECURITY" => {
                self.security = security(value).ok_or_else(|| {
                    anyhow::anyhow!(
                        "environment variable {key} has an invalid value {}: expected none, starttls or tls",
                        super::values::shown(value)
                    )
                })?
            }
            "EMAIL_USERNAME" => self.username = Some(value.to_string()),
            "EMAIL_PASSWORD" => self.password = Some(SmtpPassword::new(value.to_string())),
            "EMAIL_PASSWORD_FILE" => self.password_file = Some(value.to_string()),
            "EMAIL_FROM" => self.from = Some(value.to_string()),
            "EMAIL_TO" => self.to = list(value),
            "EMAIL_EVENTS" => self.events = list(value),
            _ => {}
        }
        Ok(())
    }

    /// Refuses settings that cannot work, naming the key, at start-up.
    pub fn check(&self, known_events: &[&str]) -> anyhow::Result<()> {
        let Some(host) = &self.smtp_host else {
            let stray = self.smtp_port.is_some()
                || self.username.is_some()
                || self.password.is_some()
                || self.password_file.is_some()
                || self.from.is_some()
                || !self.to.is_empty()
                || !self.events.is_empty();
            if stray {
                bail!(
                    "email.smtp_host (SCIMHUB_EMAIL_SMTP_HOST) is not set, but other email settings are; set it to send e-mail"
                );
            }
            return Ok(());
        };
        let host_ok = !host.is_empty()
            && !host.contains("://")
            && !host.contains(['/', ' ', '@'])
            && url::Host::parse(host.trim_start_matches('[').trim_end_matches(']')).is_ok();
        if !host_ok {
            bail!("email.smtp_host (SCIMHUB_EMAIL_SMTP_HOST): {host:?} is not a host name");
        }
        if self.smtp_port == Some(0) {
            bail!("email.smtp_port (SCIMHUB_EMAIL_SMTP_PORT) must be 1-65535");
        }
        self.from_mailbox()?;
        if self.to.is_empty() {
            bail!("email.to (SCIMHUB_EMAIL_TO) needs at least one recipient");
        }
        let mut seen = std::collections::HashSet::new();
        for mailbox in self.recipients()? {
            if !seen.insert(mailbox.email.to_string().to_ascii_lowercase()) {
                bail!(
                    "email.to (SCIMHUB_EMAIL_TO): {} is listed twice",
                    mailbox.email
                );
            }
        }
        if let Some(unknown) = self
            .events
            .iter()
            .find(|e| !known_events.contains(&e.as_str()))
        {
            bail!(
                "email.events (SCIMHUB_EMAIL_EVENTS): unknown event {unknown:?} (known: {})",
                known_events.join(", ")
            );
        }
        let has_password = self.password.is_some() || self.password_file.is_some();
        if self.password.is_some() && self.password_file.is_some() {
            bail!("email.password_file: set it or SCIMHUB_EMAIL_PASSWORD, not both");
        }
        match (&self.username, has_password) {
            (Some(_), false) => bail!(
                "email.username (SCIMHUB_EMAIL_USERNAME) needs a password: SCIMHUB_EMAIL_PASSWORD or email.password_file"
            ),
            (None, true) => {
                bail!("email.username (SCIMHUB_EMAIL_USERNAME) is not set, but a password is")
            }
            (Some(_), true) if self.security == SmtpSecurity::None => bail!(
                "email.security (SCIMHUB_EMAIL_SECURITY): credentials need starttls or tls, not none (they would cross the network in the clear)"
            ),
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::config::{Config, Overrides};

    fn load(toml: &str, env: &[(&str, &str)]) -> anyhow::Result<Config> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("c.toml");
        std::fs::write(&file, toml)?;
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load(Some(&file), &env, &Overrides::default())
    }

    const GOOD: &str = "[email]\nsmtp_host = \"smtp.example.com\"\nfrom = \"scimhub <hub@example.com>\"\nto = [\"ops@example.com\", \"Second <second@example.com>\"]\n";

    #[test]
    fn email_loads_from_file_and_env_and_never_prints_the_password() {
        let c = load(
            GOOD,
            &[
                ("SCIMHUB_EMAIL_SECURITY", "tls"),
                ("SCIMHUB_EMAIL_USERNAME", "hub"),
                ("SCIMHUB_EMAIL_PASSWORD", "pa55-w0rd-secret"),
                (
                    "SCIMHUB_EMAIL_EVENTS",
                    "target.quarantined, sync.queue.growing",
                ),
            ],
        )
        .unwrap();
        let e = &c.email;
        assert!(e.enabled());
        assert_eq!((e.security, e.port()), (super::SmtpSecurity::Tls, 465));
        assert_eq!(e.recipients().unwrap().len(), 2);
        assert!(e.wants("target.quarantined") && !e.wants("sync.run.failed"));
        assert_eq!(e.password().unwrap().unwrap().expose(), "pa55-w0rd-secret");
        assert!(!format!("{c:?}").contains("pa55"));

        let c = load("", &[]).unwrap();
        assert!(!c.email.enabled(), "off by default");
        let c = load(
            "",
            &[
                ("SCIMHUB_EMAIL_SMTP_HOST", "127.0.0.1"),
                ("SCIMHUB_EMAIL_SMTP_PORT", "2525"),
                ("SCIMHUB_EMAIL_SECURITY", "none"),
                ("SCIMHUB_EMAIL_FROM", "hub@example.com"),
                ("SCIMHUB_EMAIL_TO", "a@example.com,b@example.com"),
            ],
        )
        .unwrap();
        assert_eq!(c.email.port(), 2525);
        assert_eq!(c.email.to, ["a@example.com", "b@example.com"]);
        assert!(c.email.wants("sync.run.failed"), "every event by default");
    }

    #[test]
    fn the_password_file_is_read_and_trimmed_of_its_newline() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "from a file \n").unwrap();
        let text = format!(
            "{GOOD}username = \"hub\"\npassword_file = \"{}\"\n",
            file.display()
        );
        let c = load(&text, &[]).unwrap();
        assert_eq!(
            c.email.password().unwrap().unwrap().expose(),
            "from a file "
        );
    }

    #[test]
    fn bad_email_settings_are_refused_naming_the_key() {
        type Env<'a> = &'a [(&'a str, &'a str)];
        let cases: &[(&str, Env, &str)] = &[
            ("[email]\nsmtp_hots = \"x\"\n", &[], "smtp_hots"),
            ("[email]\nsecurity = \"ssl\"\n", &[], "security"),
            ("[email]\npassword = \"inline\"\n", &[], "password"),
            (
                "",
                &[("SCIMHUB_EMAIL_SECURITY", "ssl")],
                "SCIMHUB_EMAIL_SECURITY",
            ),
            (
                "",
                &[("SCIMHUB_EMAIL_SMTP_PORT", "99999")],
                "SCIMHUB_EMAIL_SMTP_PORT",
            ),
            (
                "[email]\nto = [\"ops@example.com\"]\n",
                &[],
                "email.smtp_host",
            ),
            (
                "[email]\nsmtp_host = \"smtp://x\"\nfrom = \"a@b.c\"\nto = [\"o@b.c\"]\n",
                &[],
                "email.smtp_host",
            ),
            (
                "[email]\nsmtp_host = \"x\"\nto = [\"o@b.c\"]\n",
                &[],
                "email.from",
            ),
            (
                "[email]\nsmtp_host = \"x\"\nfrom = \"not an address\"\nto = [\"o@b.c\"]\n",
                &[],
                "email.from",
            ),
            (
                "[email]\nsmtp_host = \"x\"\nfrom = \"a@b.c\"\n",
                &[],
                "email.to",
            ),
            (
                "[email]\nsmtp_host = \"x\"\nfrom = \"a@b.c\"\nto = [\"o@b.c\", \"nobody\"]\n",
                &[],
                "email.to",
            ),
            (
                "[email]\nsmtp_host = \"x\"\nfrom = \"a@b.c\"\nto = [\"o@b.c\", \"O@b.c\"]\n",
                &[],
                "email.to",
            ),
            (
                "[email]\nsmtp_host = \"x\"\nfrom = \"a@b.c\"\nto = [\"o@b.c\"]\nevents = [\"sync.run.exploded\"]\n",
                &[],
                "email.events",
            ),
            (
                "[email]\nsmtp_host = \"x\"\nfrom = \"a@b.c\"\nto = [\"o@b.c\"]\nusername = \"u\"\n",
                &[],
                "email.username",
            ),
            (
                "[email]\nsmtp_host = \"x\"\nfrom = \"a@b.c\"\nto = [\"o@b.c\"]\nsecurity = \"none\"\nusername = \"u\"\n",
                &[("SCIMHUB_EMAIL_PASSWORD", "p")],
                "email.security",
            ),
        ];
        for (toml, env, key) in cases {
            let err = load(toml, env).expect_err(toml);
            let text = format!("{err:#}");
            assert!(text.contains(key), "{toml} {env:?}: {text}");
        }
    }
}
