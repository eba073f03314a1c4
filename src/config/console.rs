//! The web console (`[console]`, `SCIMHUB_CONSOLE_*`): whether `serve`
//! offers it at `/console`, how long a session lasts, and how many failed
//! sign-ins a client address gets.

use anyhow::{Context, bail};
use serde::Deserialize;

use super::values::{at_least, comma_list, from_env as parse};

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
    /// Sign-in with an external OpenID Connect provider (`[console.oidc]`).
    pub oidc: Option<OidcConfig>,
}

/// An OpenID Connect provider the console signs people in with
/// (authorization code flow with PKCE).
#[derive(Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OidcConfig {
    /// The provider's issuer URL (its discovery document is read from it).
    pub issuer: String,
    pub client_id: String,
    /// The client secret itself (prefer `client_secret_file` or the environment)…
    pub client_secret: Option<String>,
    /// …or a file holding it.
    pub client_secret_file: Option<String>,
    /// Where the provider sends the browser back: this server's
    /// `/console/oidc/callback`, as registered with the provider.
    pub redirect_url: String,
    /// The sign-in button says "Sign in with NAME".
    pub name: String,
    /// Subjects (`sub`) allowed in…
    pub allowed_subjects: Vec<String>,
    /// …and members of these groups (the `groups_claim` of the ID token).
    pub allowed_groups: Vec<String>,
    /// The ID token claim listing the person's groups.
    pub groups_claim: String,
    /// Scopes asked for besides `openid`.
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The client secret stays out of debug output.
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret_file", &self.client_secret_file)
            .field("redirect_url", &self.redirect_url)
            .field("allowed_subjects", &self.allowed_subjects)
            .field("allowed_groups", &self.allowed_groups)
            .finish_non_exhaustive()
    }
}

impl OidcConfig {
    /// The client secret, read from the file when configured that way.
    pub fn secret(&self) -> anyhow::Result<String> {
        match (&self.client_secret, &self.client_secret_file) {
            (Some(s), None) => Ok(s.clone()),
            (None, Some(path)) => Ok(std::fs::read_to_string(path)
                .with_context(|| format!("cannot read console.oidc.client_secret_file {path}"))?
                .trim()
                .to_string()),
            _ => bail!(
                "console.oidc: set exactly one of client_secret (SCIMHUB_CONSOLE_OIDC_CLIENT_SECRET) \
                 and client_secret_file"
            ),
        }
    }

    fn apply_env(&mut self, key: &str, name: &str, value: &str) {
        let list = |v: &str| -> Vec<String> { comma_list(v).map(str::to_string).collect() };
        match name {
            "CONSOLE_OIDC_ISSUER" => self.issuer = value.to_string(),
            "CONSOLE_OIDC_CLIENT_ID" => self.client_id = value.to_string(),
            "CONSOLE_OIDC_CLIENT_SECRET" => self.client_secret = Some(value.to_string()),
            "CONSOLE_OIDC_CLIENT_SECRET_FILE" => self.client_secret_file = Some(value.to_string()),
            "CONSOLE_OIDC_REDIRECT_URL" => self.redirect_url = value.to_string(),
            "CONSOLE_OIDC_NAME" => self.name = value.to_string(),
            "CONSOLE_OIDC_ALLOWED_SUBJECTS" => self.allowed_subjects = list(value),
            "CONSOLE_OIDC_ALLOWED_GROUPS" => self.allowed_groups = list(value),
            "CONSOLE_OIDC_GROUPS_CLAIM" => self.groups_claim = value.to_string(),
            "CONSOLE_OIDC_SCOPES" => self.scopes = list(value),
            _ => tracing::debug!(variable = key, "unknown console OIDC variable ignored"),
        }
    }

    fn check(&self) -> anyhow::Result<()> {
        for (key, value) in [
            ("issuer", &self.issuer),
            ("client_id", &self.client_id),
            ("redirect_url", &self.redirect_url),
        ] {
            if value.trim().is_empty() {
                bail!("console.oidc.{key} is required when console.oidc is set");
            }
        }
        for (key, value) in [
            ("issuer", &self.issuer),
            ("redirect_url", &self.redirect_url),
        ] {
            url::Url::parse(value)
                .map_err(|e| anyhow::anyhow!("console.oidc.{key} {value:?} is not a URL: {e}"))?;
        }
        self.secret()?;
        if self.allowed_subjects.is_empty() && self.allowed_groups.is_empty() {
            bail!(
                "console.oidc: name the allowed_subjects or allowed_groups that may sign in \
                 (with neither, no one could)"
            );
        }
        Ok(())
    }

    /// The label, claim and scopes with their defaults filled in.
    pub fn with_defaults(mut self) -> Self {
        if self.name.trim().is_empty() {
            self.name = "single sign-on".into();
        }
        if self.groups_claim.trim().is_empty() {
            self.groups_claim = "groups".into();
        }
        if self.scopes.is_empty() {
            self.scopes = vec!["email".into(), "profile".into()];
        }
        self
    }
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            idle_timeout_secs: 30 * 60,
            absolute_timeout_secs: 12 * 60 * 60,
            sign_in_failures_per_minute: 5,
            oidc: None,
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
            n if n.starts_with("CONSOLE_OIDC_") => self
                .oidc
                .get_or_insert_with(OidcConfig::default)
                .apply_env(key, n, value),
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
        )?;
        match &self.oidc {
            Some(oidc) => oidc.check(),
            None => Ok(()),
        }
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

    #[test]
    fn oidc_needs_a_client_and_someone_allowed_and_never_prints_its_secret() {
        let env = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let full = [
            ("SCIMHUB_CONSOLE_OIDC_ISSUER", "https://login.example.com"),
            ("SCIMHUB_CONSOLE_OIDC_CLIENT_ID", "scimhub"),
            ("SCIMHUB_CONSOLE_OIDC_CLIENT_SECRET", "hunter2-secret"),
            (
                "SCIMHUB_CONSOLE_OIDC_REDIRECT_URL",
                "https://scim.example.com/console/oidc/callback",
            ),
            ("SCIMHUB_CONSOLE_OIDC_ALLOWED_GROUPS", "admins, ops"),
        ];
        let c = Config::load(None, &env(&full), &Overrides::default()).unwrap();
        let oidc = c.console.oidc.clone().unwrap();
        assert_eq!(oidc.allowed_groups, ["admins", "ops"]);
        assert_eq!(oidc.secret().unwrap(), "hunter2-secret");
        assert!(!format!("{c:?}").contains("hunter2"));
        let oidc = oidc.with_defaults();
        assert_eq!(
            (oidc.groups_claim.as_str(), oidc.name.as_str()),
            ("groups", "single sign-on")
        );
        let err = Config::load(None, &env(&full[..4]), &Overrides::default()).unwrap_err();
        assert!(
            format!("{err:#}").contains("allowed_subjects or allowed_groups"),
            "{err:#}"
        );
        let err = Config::load(None, &env(&full[1..]), &Overrides::default()).unwrap_err();
        assert!(
            format!("{err:#}").contains("console.oidc.issuer is required"),
            "{err:#}"
        );
        let mut no_secret = full.to_vec();
        no_secret.remove(2);
        let err = Config::load(None, &env(&no_secret), &Overrides::default()).unwrap_err();
        assert!(format!("{err:#}").contains("client_secret"), "{err:#}");
    }
}
