//! The web console (`[console]`, `SCIMHUB_CONSOLE_*`): whether `serve`
//! offers it at `/console`, how long a session lasts, and how many failed
//! sign-ins a client address gets.

use serde::Deserialize;

use super::values::{at_least, from_env as parse};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleConfig {
    /// Serve the console at `/console`.
    pub enabled: bool,
    /// A session unused this long ends…
    pub idle_timeout_secs: u64,
    /// …and every session ends this long after sign-in.
    pub absolute_timeout_secs: u64,
    /// Failed sign-ins one client address may make per minute (burst and rate).
    pub sign_in_failures_per_minute: u32,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            idle_timeout_secs: 30 * 60,
            absolute_timeout_secs: 12 * 60 * 60,
            sign_in_failures_per_minute: 5,
        }
    }
}

impl ConsoleConfig {
    pub(super) fn apply_env(&mut self, key: &str, name: &str, value: &str) -> anyhow::Result<()> {
        match name {
            "CONSOLE_ENABLED" => self.enabled = parse(key, value)?,
            "CONSOLE_IDLE_TIMEOUT_SECS" => self.idle_timeout_secs = parse(key, value)?,
            "CONSOLE_ABSOLUTE_TIMEOUT_SECS" => self.absolute_timeout_secs = parse(key, value)?,
            "CONSOLE_SIGN_IN_FAILURES_PER_MINUTE" => {
                self.sign_in_failures_per_minute = parse(key, value)?
            }
            _ => {}
        }
        Ok(())
    }

    pub(super) fn check(&self) -> anyhow::Result<()> {
        at_least(
            "console.idle_timeout_secs",
            "SCIMHUB_CONSOLE_IDLE_TIMEOUT_SECS",
            self.idle_timeout_secs,
            1,
        )?;
        at_least(
            "console.absolute_timeout_secs",
            "SCIMHUB_CONSOLE_ABSOLUTE_TIMEOUT_SECS",
            self.absolute_timeout_secs,
            1,
        )?;
        at_least(
            "console.sign_in_failures_per_minute",
            "SCIMHUB_CONSOLE_SIGN_IN_FAILURES_PER_MINUTE",
            self.sign_in_failures_per_minute,
            1,
        )
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::config::{Config, Overrides};

    #[test]
    fn console_settings_come_from_file_and_env_and_are_checked() {
        let env: HashMap<String, String> = [
            ("SCIMHUB_CONSOLE_IDLE_TIMEOUT_SECS", "60"),
            ("SCIMHUB_CONSOLE_ENABLED", "false"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let c = Config::load(None, &env, &Overrides::default()).unwrap();
        assert_eq!(c.console.idle_timeout_secs, 60);
        assert!(!c.console.enabled);
        assert_eq!(c.console.absolute_timeout_secs, 12 * 60 * 60);

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[console]\nabsolute_timeout_secs = 0\n").unwrap();
        let err = Config::load(Some(&file), &HashMap::new(), &Overrides::default()).unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "console.absolute_timeout_secs (SCIMHUB_CONSOLE_ABSOLUTE_TIMEOUT_SECS) is 0: \
             expected at least 1"
        );
    }
}
