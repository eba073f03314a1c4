//! `[events]` from the environment (`SCIMHUB_EVENTS_*`) and what it refuses
//! before start-up. The key file itself is read where the signer is built
//! (`provision::webhook::set::signer`), which names this key when it fails.

use anyhow::bail;

use crate::settings::ScimEventsConfig;

impl ScimEventsConfig {
    /// `name` is the variable without `SCIMHUB_`; unknown ones are ignored.
    pub fn apply_env(&mut self, key: &str, name: &str, value: &str) -> anyhow::Result<()> {
        use super::values::from_env as parse;
        match name {
            "EVENTS_SIGNING_KEY_FILE" => self.signing_key_file = Some(value.to_string()),
            "EVENTS_KID" => self.kid = Some(value.to_string()),
            "EVENTS_ISSUER" => self.issuer = Some(value.to_string()),
            "EVENTS_POLL_WAIT_MS" => self.poll_wait_ms = parse(key, value)?,
            _ => {}
        }
        Ok(())
    }

    pub fn check(&self) -> anyhow::Result<()> {
        for (key, env, value) in [
            (
                "events.signing_key_file",
                "SCIMHUB_EVENTS_SIGNING_KEY_FILE",
                &self.signing_key_file,
            ),
            ("events.kid", "SCIMHUB_EVENTS_KID", &self.kid),
            ("events.issuer", "SCIMHUB_EVENTS_ISSUER", &self.issuer),
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                bail!("{key} ({env}) is empty: expected a value or no setting at all");
            }
        }
        if self.signing_key_file.is_none() && self.kid.is_some() {
            bail!("events.kid (SCIMHUB_EVENTS_KID) is set but events.signing_key_file is not");
        }
        if self.poll_wait_ms > 60_000 {
            bail!(
                "events.poll_wait_ms (SCIMHUB_EVENTS_POLL_WAIT_MS) is {}: expected at most 60000",
                self.poll_wait_ms
            );
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

    #[test]
    fn events_come_from_the_file_and_the_environment() {
        let c = load(
            "public_url = \"https://hub.example/\"\n[events]\nsigning_key_file = \"/k.pem\"\n",
            &[
                ("SCIMHUB_EVENTS_KID", "k1"),
                ("SCIMHUB_EVENTS_POLL_WAIT_MS", "50"),
            ],
        )
        .unwrap();
        assert_eq!(c.events.signing_key_file.as_deref(), Some("/k.pem"));
        assert_eq!(c.events.kid.as_deref(), Some("k1"));
        assert_eq!(c.events.poll_wait_ms, 50);
        assert_eq!(c.events_issuer(), "https://hub.example");
        let c = load("", &[("SCIMHUB_EVENTS_ISSUER", "urn:example:hub")]).unwrap();
        assert_eq!(c.events_issuer(), "urn:example:hub");
        assert_eq!(
            load("", &[]).unwrap().events_issuer(),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn bad_events_settings_name_the_key() {
        for (toml, env, expected) in [
            (
                "[events]\nkid = \"k\"\n",
                vec![],
                "events.kid (SCIMHUB_EVENTS_KID) is set",
            ),
            (
                "",
                vec![("SCIMHUB_EVENTS_ISSUER", " ")],
                "events.issuer (SCIMHUB_EVENTS_ISSUER) is empty",
            ),
            (
                "",
                vec![("SCIMHUB_EVENTS_POLL_WAIT_MS", "soon")],
                "SCIMHUB_EVENTS_POLL_WAIT_MS has an invalid value \"soon\"",
            ),
            (
                "[events]\npoll_wait_ms = 600000\n",
                vec![],
                "is 600000: expected at most 60000",
            ),
            ("[events]\nkey_file = \"k\"\n", vec![], "key_file"),
        ] {
            let err = format!("{:#}", load(toml, &env).unwrap_err());
            assert!(err.contains(expected), "{toml} {env:?}: {err}");
        }
    }
}
