//! Webhook settings: notification endpoints (`[[notify]]`) and the
//! delivery timing (`[webhooks]`, `SCIMHUB_WEBHOOK_*`).

use anyhow::bail;

use crate::settings::{NotifyEndpoint, WebhookConfig, check_http_url};

impl WebhookConfig {
    /// `name` is the variable without `SCIMHUB_`; unknown ones are ignored.
    pub fn apply_env(&mut self, key: &str, name: &str, value: &str) -> anyhow::Result<()> {
        use super::values::from_env as parse;
        match name {
            "WEBHOOK_POLL_INTERVAL_MS" => self.poll_interval_ms = parse(key, value)?,
            "WEBHOOK_MAX_ATTEMPTS" => self.max_attempts = parse(key, value)?,
            "WEBHOOK_RETRY_BASE_MS" => self.retry_base_ms = parse(key, value)?,
            "WEBHOOK_RETRY_MAX_MS" => self.retry_max_ms = parse(key, value)?,
            "WEBHOOK_TIMEOUT_MS" => self.timeout_ms = parse(key, value)?,
            "WEBHOOK_SUBSCRIPTION_POLL_INTERVAL_MS" => {
                self.subscription_poll_interval_ms = parse(key, value)?
            }
            "WEBHOOK_SUBSCRIPTION_BATCH" => self.subscription_batch = parse(key, value)?,
            _ => {}
        }
        Ok(())
    }

    pub fn check(&self) -> anyhow::Result<()> {
        use super::values::at_least;
        for (key, env, value) in [
            (
                "webhooks.poll_interval_ms",
                "SCIMHUB_WEBHOOK_POLL_INTERVAL_MS",
                self.poll_interval_ms,
            ),
            (
                "webhooks.subscription_poll_interval_ms",
                "SCIMHUB_WEBHOOK_SUBSCRIPTION_POLL_INTERVAL_MS",
                self.subscription_poll_interval_ms,
            ),
            (
                "webhooks.timeout_ms",
                "SCIMHUB_WEBHOOK_TIMEOUT_MS",
                self.timeout_ms,
            ),
            (
                "webhooks.retry_base_ms",
                "SCIMHUB_WEBHOOK_RETRY_BASE_MS",
                self.retry_base_ms,
            ),
            (
                "webhooks.max_attempts",
                "SCIMHUB_WEBHOOK_MAX_ATTEMPTS",
                u64::from(self.max_attempts),
            ),
            (
                "webhooks.subscription_batch",
                "SCIMHUB_WEBHOOK_SUBSCRIPTION_BATCH",
                u64::from(self.subscription_batch),
            ),
        ] {
            at_least(key, env, value, 1)?;
        }
        at_least(
            "webhooks.retry_max_ms (at least webhooks.retry_base_ms)",
            "SCIMHUB_WEBHOOK_RETRY_MAX_MS",
            self.retry_max_ms,
            self.retry_base_ms,
        )?;
        Ok(())
    }
}

/// Refuses endpoints that cannot work, at start-up rather than at the
/// first notification.
pub fn check_endpoints(endpoints: &[NotifyEndpoint], known_events: &[&str]) -> anyhow::Result<()> {
    let mut seen = std::collections::HashSet::new();
    for e in endpoints {
        check_http_url(&e.url).map_err(|m| anyhow::anyhow!("notify endpoint: {m}"))?;
        if !seen.insert(e.url.as_str()) {
            bail!("notify endpoint {} is configured twice", e.url);
        }
        if e.secret.is_some() == e.secret_file.is_some() {
            bail!(
                "notify endpoint {}: set exactly one of secret and secret_file",
                e.url
            );
        }
        if let Some(unknown) = e
            .events
            .iter()
            .find(|ev| !known_events.contains(&ev.as_str()))
        {
            bail!(
                "notify endpoint {}: unknown event {unknown:?} (known: {})",
                e.url,
                known_events.join(", ")
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, Overrides};
    use std::collections::HashMap;

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

    #[test]
    fn notify_endpoints_load_and_never_print_their_secret() {
        let c = load(
            "[[notify]]\nurl = \"https://ops.example/hook\"\nsecret = \"hush-hush-hush\"\nevents = [\"sync.run.failed\"]\n",
            &[],
        )
        .unwrap();
        assert_eq!(c.notify.len(), 1);
        assert_eq!(c.notify[0].secret_bytes().unwrap(), b"hush-hush-hush");
        assert!(c.notify[0].wants("sync.run.failed"));
        assert!(!c.notify[0].wants("target.released"));
        assert!(!format!("{c:?}").contains("hush"));
    }

    #[test]
    fn bad_endpoints_are_refused_at_load() {
        let bad = [
            "[[notify]]\nurl = \"ftp://x\"\nsecret = \"s\"\n",
            "[[notify]]\nurl = \"https://x\"\n",
            "[[notify]]\nurl = \"https://x\"\nsecret = \"s\"\nsecret_file = \"/f\"\n",
            "[[notify]]\nurl = \"https://x\"\nsecret = \"s\"\nevents = [\"sync.run.exploded\"]\n",
            "[[notify]]\nurl = \"https://x\"\nsecret = \"s\"\n[[notify]]\nurl = \"https://x\"\nsecret = \"t\"\n",
            "[webhooks]\nmax_attempts = 0\n",
            "[webhooks]\nretry_base_ms = 10\nretry_max_ms = 5\n",
        ];
        for text in bad {
            assert!(load(text, &[]).is_err(), "{text}");
        }
    }

    #[test]
    fn secret_files_are_read_and_timing_comes_from_env() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("s");
        std::fs::write(&secret, "from-a-file\n").unwrap();
        let text = format!(
            "[[notify]]\nurl = \"https://x\"\nsecret_file = \"{}\"\n",
            secret.display()
        );
        let c = load(
            &text,
            &[
                ("SCIMHUB_WEBHOOK_MAX_ATTEMPTS", "4"),
                ("SCIMHUB_WEBHOOK_SUBSCRIPTION_BATCH", "7"),
            ],
        )
        .unwrap();
        assert_eq!(c.notify[0].secret_bytes().unwrap(), b"from-a-file");
        assert_eq!(
            (c.webhooks.max_attempts, c.webhooks.subscription_batch),
            (4, 7)
        );
        assert!(load("", &[("SCIMHUB_WEBHOOK_TIMEOUT_MS", "soon")]).is_err());
    }
}
