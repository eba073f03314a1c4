//! One typed configuration, built once at start-up from defaults, an optional
//! TOML file, `SCIMHUB_*` environment variables and command-line flags (in
//! that order of precedence, last wins), then passed to whoever needs it.

use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::crypto::SecretKey;
use crate::settings::{
    EmailConfig, NotifyEndpoint, ScimEventsConfig, SyncWorkerConfig, WebhookConfig,
};

mod console;
mod email;
#[cfg(test)]
mod reference;
mod schemas;
mod scim_events;
mod tls;
mod values;
mod webhooks;
pub use console::{ConsoleConfig, OidcConfig};
pub use schemas::SchemaConfig;
pub use tls::TlsConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// A trusted issuer of external JWT bearer tokens (`[[jwt_issuers]]` in the
/// config file).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtIssuerConfig {
    /// Must equal the token's `iss`.
    pub issuer: String,
    /// The token's `aud` must contain one of these.
    pub audiences: Vec<String>,
    /// Allowed `alg` values, e.g. ["RS256"]; HMAC and public-key ones never mix.
    pub algorithms: Vec<String>,
    /// PEM public keys (RSA, EC or Ed25519).
    #[serde(default)]
    pub key_files: Vec<String>,
    /// A JWKS document (keys chosen by `kid`).
    #[serde(default)]
    pub jwks_file: Option<String>,
    /// For HS256: the environment variable holding the secret…
    #[serde(default)]
    pub secret_env: Option<String>,
    /// …or a file holding it.
    #[serde(default)]
    pub secret_file: Option<String>,
    /// Clock skew allowed on `exp` / `nbf`, in seconds.
    #[serde(default = "default_leeway")]
    pub leeway_secs: u64,
    /// How `sub` names a User for /Me: "id", "userName", "externalId" (default: none).
    #[serde(default)]
    pub subject: Option<String>,
}

fn default_leeway() -> u64 {
    30
}

impl std::fmt::Debug for JwtIssuerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets stay out of debug output; only where they come from shows.
        f.debug_struct("JwtIssuerConfig")
            .field("issuer", &self.issuer)
            .field("audiences", &self.audiences)
            .field("algorithms", &self.algorithms)
            .field("key_files", &self.key_files)
            .field("jwks_file", &self.jwks_file)
            .field("secret_env", &self.secret_env)
            .field("secret_file", &self.secret_file)
            .finish_non_exhaustive()
    }
}

impl JwtIssuerConfig {
    /// The HMAC secret from the environment or a file, if configured.
    pub fn hmac_secret(&self) -> anyhow::Result<Option<String>> {
        if let Some(var) = &self.secret_env {
            let value = std::env::var(var)
                .map_err(|_| anyhow::anyhow!("environment variable {var} is not set"))?;
            return Ok(Some(value));
        }
        if let Some(path) = &self.secret_file {
            let value =
                std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
            return Ok(Some(value.trim().to_string()));
        }
        Ok(None)
    }
}

/// A CIDR range, or a bare address (a /32 or /128).
fn proxy_net(s: &str) -> Result<ipnet::IpNet, String> {
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| {
            format!("{s:?} is not an IP address or CIDR range (e.g. 10.0.0.0/8, 192.168.1.5)")
        })
}

/// `SCIMHUB_TRUSTED_PROXIES=10.0.0.0/8, 192.168.1.5`.
fn trusted_proxies(key: &str, value: &str) -> anyhow::Result<Vec<ipnet::IpNet>> {
    values::comma_list(value)
        .map(|s| proxy_net(s).map_err(|e| anyhow::anyhow!("environment variable {key}: {e}")))
        .collect()
}

/// `trusted_proxies = ["10.0.0.0/8", "192.168.1.5"]` in the file.
fn proxy_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ipnet::IpNet>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|s| proxy_net(s.trim()).map_err(serde::de::Error::custom))
        .collect()
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server binds.
    pub listen: String,
    /// A second, plain-HTTP address answering only `GET /metrics`, without a
    /// token (bind it where only the metrics scraper can reach it).
    pub metrics_listen: Option<String>,
    /// Built-in HTTPS (`[tls]` in the file).
    pub tls: TlsConfig,
    /// `postgres://…` selects PostgreSQL; `sqlite://PATH` or a plain path selects SQLite.
    pub database_url: String,
    /// External base URL (scheme://host[:port]) used in `meta.location`; when
    /// unset it is taken from each request's Host header.
    pub public_url: Option<String>,
    /// Addresses (IPs or CIDR ranges) of reverse proxies whose
    /// `X-Forwarded-Proto/Host/For` are believed; from anyone else they are ignored.
    #[serde(deserialize_with = "proxy_list")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Largest accepted request body, in bytes (larger → 413).
    pub max_body_bytes: usize,
    /// Page size when a list request gives no `count`.
    pub default_page_size: u64,
    /// Largest page a list request can get (`filter.maxResults`).
    pub max_page_size: u64,
    /// Database connections per instance.
    pub pool_size: u32,
    /// HTTP worker threads (default: one per core).
    pub workers: Option<usize>,
    /// Seconds a client has to send a request's head (then 408).
    pub request_timeout_secs: u64,
    /// Seconds an idle keep-alive connection stays open.
    pub idle_timeout_secs: u64,
    /// Longest accepted request target (path and query), in bytes (then 414).
    pub max_url_bytes: usize,
    /// Largest accepted total of request header bytes (then 431).
    pub max_header_bytes: usize,
    /// Seconds in-flight requests get to finish on SIGTERM / Ctrl-C.
    pub shutdown_timeout_secs: u64,
    /// Most operations one /Bulk request may carry (advertised `maxOperations`).
    pub bulk_max_operations: usize,
    /// Most operations one PATCH request may carry.
    pub max_patch_operations: usize,
    /// Longest accepted filter, in bytes.
    pub filter_max_length: usize,
    /// Deepest accepted nesting of parentheses, `not` and `[...]` in a filter.
    pub filter_max_depth: usize,
    /// Key that signs pagination cursors. Instances behind one load balancer
    /// must share it; when unset each process makes a random one.
    pub cursor_secret: Option<String>,
    /// Seconds a cursor stays valid (advertised as `cursorTimeout`).
    pub cursor_timeout_secs: i64,
    /// Key (32 bytes, as 64 hex digits or base64) that encrypts sync-target
    /// credentials at rest. Never logged; required to add or use a target.
    pub secret_key: Option<SecretKey>,
    /// Requests per second one credential may make (0 = unlimited)…
    pub rate_limit_per_second: f64,
    /// …with bursts up to this many.
    pub rate_limit_burst: f64,
    /// Seconds a verified API token is trusted without reading the database
    /// again (0 = always read). Revocations through this instance's admin API
    /// apply at once; those made elsewhere (CLI, other instances) within this.
    pub token_cache_secs: u64,
    /// Trusted issuers of external JWT bearer tokens.
    pub jwt_issuers: Vec<JwtIssuerConfig>,
    /// The incremental sync workers (`[sync]` in the file).
    pub sync: SyncWorkerConfig,
    /// Webhook URLs that receive operator notifications (`[[notify]]`).
    pub notify: Vec<NotifyEndpoint>,
    /// Webhook delivery timing (`[webhooks]`; e-mail uses it too).
    pub webhooks: WebhookConfig,
    /// Operator notifications by e-mail (`[email]`).
    pub email: EmailConfig,
    /// The web console at `/console` (`[console]`).
    pub console: ConsoleConfig,
    /// SCIM events as signed Security Event Tokens (`[events]`).
    pub events: ScimEventsConfig,
    /// Extension schemas declared here (`[[schemas]]`); more can be added
    /// over the admin API.
    pub schemas: Vec<SchemaConfig>,
    /// Seconds between checks for extension schemas changed by another
    /// instance or the CLI.
    pub schema_refresh_secs: u64,
    pub log_format: LogFormat,
    /// A tracing filter such as `info` or `scimhub=debug,audit=info`.
    pub log_filter: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            metrics_listen: None,
            tls: TlsConfig::default(),
            database_url: "sqlite://scimhub.db".into(),
            public_url: None,
            trusted_proxies: Vec::new(),
            max_body_bytes: 1024 * 1024,
            default_page_size: 100,
            max_page_size: 1000,
            pool_size: 8,
            workers: None,
            shutdown_timeout_secs: 30,
            request_timeout_secs: 10,
            idle_timeout_secs: 5,
            max_url_bytes: 8192,
            max_header_bytes: 16384,
            bulk_max_operations: 1000,
            max_patch_operations: 1000,
            filter_max_length: 4096,
            filter_max_depth: 32,
            cursor_secret: None,
            cursor_timeout_secs: 600,
            rate_limit_per_second: 2000.0,
            rate_limit_burst: 4000.0,
            token_cache_secs: 5,
            jwt_issuers: Vec::new(),
            notify: Vec::new(),
            webhooks: WebhookConfig::default(),
            email: EmailConfig::default(),
            console: ConsoleConfig::default(),
            events: ScimEventsConfig::default(),
            schemas: Vec::new(),
            schema_refresh_secs: 5,
            secret_key: None,
            sync: SyncWorkerConfig::default(),
            log_format: LogFormat::Text,
            log_filter: "info".into(),
        }
    }
}

/// Values given on the command line; they win over everything else.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<String>,
    pub database_url: Option<String>,
}

impl Config {
    /// The SCIM root that change events name resources under: the public
    /// URL, else the listen address.
    pub fn scim_base_url(&self) -> String {
        format!("{}/scim/v2", self.public_root())
    }

    /// scheme://host[:port] the server is reached at: the public URL, else
    /// the listen address.
    pub fn public_root(&self) -> String {
        let root = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen));
        root.trim_end_matches('/').to_string()
    }

    /// The `iss` of SCIM events: `events.issuer`, else the public URL, else
    /// the listen address.
    pub fn events_issuer(&self) -> String {
        match (&self.events.issuer, &self.public_url) {
            (Some(issuer), _) => issuer.clone(),
            (None, _) => self.public_root(),
        }
    }

    /// Builds the configuration. `env` is passed in (not read here) so the
    /// precedence rules can be tested without touching the process.
    pub fn load(
        file: Option<&Path>,
        env: &HashMap<String, String>,
        overrides: &Overrides,
    ) -> anyhow::Result<Self> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?;
                values::from_toml(&text)
                    .with_context(|| format!("invalid config file {}", path.display()))?
            }
            None => Config::default(),
        };
        config.apply_env(env)?;
        if let Some(listen) = &overrides.listen {
            config.listen = listen.clone();
        }
        if let Some(url) = &overrides.database_url {
            config.database_url = url.clone();
        }
        config.check()?;
        Ok(config)
    }

    fn apply_env(&mut self, env: &HashMap<String, String>) -> anyhow::Result<()> {
        use values::from_env as parse;
        for (key, value) in env {
            let Some(name) = key.strip_prefix("SCIMHUB_") else {
                continue;
            };
            match name {
                "LISTEN" => self.listen = value.clone(),
                "METRICS_LISTEN" => self.metrics_listen = Some(value.clone()),
                "DATABASE_URL" => self.database_url = value.clone(),
                "PUBLIC_URL" => self.public_url = Some(value.clone()),
                "TRUSTED_PROXIES" => self.trusted_proxies = trusted_proxies(key, value)?,
                "MAX_BODY_BYTES" => self.max_body_bytes = parse(key, value)?,
                "DEFAULT_PAGE_SIZE" => self.default_page_size = parse(key, value)?,
                "MAX_PAGE_SIZE" => self.max_page_size = parse(key, value)?,
                "POOL_SIZE" => self.pool_size = parse(key, value)?,
                "WORKERS" => self.workers = Some(parse(key, value)?),
                "SHUTDOWN_TIMEOUT_SECS" => self.shutdown_timeout_secs = parse(key, value)?,
                "REQUEST_TIMEOUT_SECS" => self.request_timeout_secs = parse(key, value)?,
                "IDLE_TIMEOUT_SECS" => self.idle_timeout_secs = parse(key, value)?,
                "MAX_URL_BYTES" => self.max_url_bytes = parse(key, value)?,
                "MAX_HEADER_BYTES" => self.max_header_bytes = parse(key, value)?,
                "BULK_MAX_OPERATIONS" => self.bulk_max_operations = parse(key, value)?,
                "MAX_PATCH_OPERATIONS" => self.max_patch_operations = parse(key, value)?,
                "FILTER_MAX_LENGTH" => self.filter_max_length = parse(key, value)?,
                "FILTER_MAX_DEPTH" => self.filter_max_depth = parse(key, value)?,
                "RATE_LIMIT_PER_SECOND" => self.rate_limit_per_second = parse(key, value)?,
                "RATE_LIMIT_BURST" => self.rate_limit_burst = parse(key, value)?,
                "TOKEN_CACHE_SECS" => self.token_cache_secs = parse(key, value)?,
                "SCHEMA_REFRESH_SECS" => self.schema_refresh_secs = parse(key, value)?,
                "CURSOR_SECRET" => self.cursor_secret = Some(value.clone()),
                // Secrets may also come from a file (a mounted secret).
                "CURSOR_SECRET_FILE" => {
                    let text = std::fs::read_to_string(value)
                        .with_context(|| format!("cannot read {key}"))?;
                    self.cursor_secret = Some(text.trim().to_string());
                }
                // The value is a secret: the error says what is expected, never what was sent.
                "SECRET_KEY" => {
                    self.secret_key = Some(value.parse().map_err(|e| {
                        anyhow::anyhow!("environment variable {key} has an invalid value: {e}")
                    })?)
                }
                "CURSOR_TIMEOUT_SECS" => self.cursor_timeout_secs = parse(key, value)?,
                "LOG_FORMAT" => {
                    self.log_format = match value.to_ascii_lowercase().as_str() {
                        "text" => LogFormat::Text,
                        "json" => LogFormat::Json,
                        _ => bail!(
                            "environment variable {key} has an invalid value {}: expected text or json",
                            values::shown(value)
                        ),
                    }
                }
                "LOG" => self.log_filter = value.clone(),
                "SYNC_ENABLED" => self.sync.enabled = parse(key, value)?,
                "SYNC_POLL_MS" => self.sync.poll_ms = parse(key, value)?,
                "SYNC_COALESCE_MS" => self.sync.coalesce_ms = parse(key, value)?,
                "SYNC_BATCH" => self.sync.batch = parse(key, value)?,
                "SYNC_LEASE_SECS" => self.sync.lease_secs = parse(key, value)?,
                "SYNC_PROBE_SECS" => self.sync.probe_secs = parse(key, value)?,
                "SYNC_DOWN_QUARANTINE_SECS" => self.sync.down_quarantine_secs = parse(key, value)?,
                "SYNC_RUN_LEASE_SECS" => self.sync.run_lease_secs = parse(key, value)?,
                "SYNC_RETRY_BASE_SECS" => self.sync.retry_base_secs = parse(key, value)?,
                "SYNC_RETRY_CAP_SECS" => self.sync.retry_cap_secs = parse(key, value)?,
                "SYNC_QUARANTINE_FAILURE_SHARE" => {
                    self.sync.quarantine_failure_share = parse(key, value)?
                }
                "SYNC_QUARANTINE_MIN_WRITES" => {
                    self.sync.quarantine_min_writes = parse(key, value)?
                }
                "SYNC_QUEUE_CHECK_SECS" => self.sync.queue_check_secs = parse(key, value)?,
                "SYNC_QUEUE_ALERT_CHECKS" => self.sync.queue_alert_checks = parse(key, value)?,
                "SYNC_QUEUE_ALERT_DEPTH" => self.sync.queue_alert_depth = parse(key, value)?,
                n if n.starts_with("WEBHOOK_") => self.webhooks.apply_env(key, n, value)?,
                n if n.starts_with("EMAIL_") => self.email.apply_env(key, n, value)?,
                n if n.starts_with("TLS_") => self.tls.apply_env(key, n, value)?,
                n if n.starts_with("CONSOLE_") => self.console.apply_env(key, n, value)?,
                n if n.starts_with("EVENTS_") => self.events.apply_env(key, n, value)?,
                // Variables the tests and CI use for themselves.
                _ => {}
            }
        }
        Ok(())
    }

    fn check(&self) -> anyhow::Result<()> {
        use values::at_least;
        self.check_listen()?;
        self.tls.check()?;
        let env = |key: &str| format!("SCIMHUB_{}", key.replace('.', "_").to_ascii_uppercase());
        let positive: [(&str, u64); 12] = [
            ("default_page_size", self.default_page_size),
            ("schema_refresh_secs", self.schema_refresh_secs),
            ("max_page_size", self.max_page_size),
            ("filter_max_length", self.filter_max_length as u64),
            ("filter_max_depth", self.filter_max_depth as u64),
            ("sync.poll_ms", self.sync.poll_ms),
            ("sync.batch", u64::from(self.sync.batch)),
            ("sync.lease_secs", self.sync.lease_secs),
            ("sync.probe_secs", self.sync.probe_secs),
            ("sync.run_lease_secs", self.sync.run_lease_secs),
            ("sync.queue_check_secs", self.sync.queue_check_secs),
            (
                "sync.queue_alert_checks",
                u64::from(self.sync.queue_alert_checks),
            ),
        ];
        for (key, value) in positive {
            at_least(key, &env(key), value, 1)?;
        }
        at_least(
            "max_body_bytes",
            &env("max_body_bytes"),
            self.max_body_bytes,
            1024,
        )?;
        at_least(
            "cursor_timeout_secs",
            &env("cursor_timeout_secs"),
            self.cursor_timeout_secs,
            1,
        )?;
        let share = self.sync.quarantine_failure_share;
        if !(0.0..=1.0).contains(&share) {
            bail!(
                "sync.quarantine_failure_share (SCIMHUB_SYNC_QUARANTINE_FAILURE_SHARE) is {share}: expected a number from 0 to 1"
            );
        }
        self.webhooks.check()?;
        self.console.check()?;
        self.events.check()?;
        webhooks::check_endpoints(&self.notify, crate::settings::events::EVENT_TYPES)?;
        self.email.check(crate::settings::events::EVENT_TYPES)?;
        if let Some(url) = &self.public_url {
            url::Url::parse(url).with_context(|| format!("public_url {url:?} is not a URL"))?;
        }
        for entry in &self.schemas {
            entry.documents()?;
        }
        Ok(())
    }

    /// The cursor signing key: the configured secret, or random per process.
    pub fn cursor_key(&self) -> Vec<u8> {
        match &self.cursor_secret {
            Some(secret) => secret.as_bytes().to_vec(),
            None => {
                use rand::RngCore;
                let mut key = vec![0u8; 32];
                rand::rng().fill_bytes(&mut key);
                key
            }
        }
    }

    /// `listen` is HOST:PORT, the host an IP address or a name; checked
    /// without a lookup, so commands that never listen need no DNS.
    fn check_listen(&self) -> anyhow::Result<()> {
        if self.listen.parse::<SocketAddr>().is_ok() {
            return Ok(());
        }
        match self.listen.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(()),
            _ => bail!("listen address {:?} is not HOST:PORT", self.listen),
        }
    }

    /// The addresses `listen` names (a host name may resolve to several,
    /// e.g. `localhost` to 127.0.0.1 and ::1; all are bound).
    pub fn listen_addrs(&self) -> anyhow::Result<Vec<SocketAddr>> {
        self.check_listen()?;
        let addrs: Vec<SocketAddr> = self
            .listen
            .to_socket_addrs()
            .with_context(|| format!("listen address {:?} does not resolve", self.listen))?
            .collect();
        if addrs.is_empty() {
            bail!("listen address {:?} resolves to no address", self.listen);
        }
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_then_env_then_flags() {
        let c = Config::load(None, &env(&[]), &Overrides::default()).unwrap();
        assert_eq!(c.listen, "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite://scimhub.db");

        let e = env(&[
            ("SCIMHUB_LISTEN", "127.0.0.1:9000"),
            ("SCIMHUB_MAX_PAGE_SIZE", "50"),
        ]);
        let c = Config::load(None, &e, &Overrides::default()).unwrap();
        assert_eq!((c.listen.as_str(), c.max_page_size), ("127.0.0.1:9000", 50));

        let o = Overrides {
            listen: Some("127.0.0.1:9100".into()),
            database_url: Some("postgres://x/y".into()),
        };
        let c = Config::load(None, &e, &o).unwrap();
        assert_eq!(
            (c.listen.as_str(), c.database_url.as_str()),
            ("127.0.0.1:9100", "postgres://x/y")
        );
    }

    #[test]
    fn trusted_proxies_take_ranges_and_addresses_from_file_and_env() {
        let e = env(&[("SCIMHUB_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.5,::1")]);
        let c = Config::load(None, &e, &Overrides::default()).unwrap();
        let shown: Vec<String> = c.trusted_proxies.iter().map(|n| n.to_string()).collect();
        assert_eq!(shown, ["10.0.0.0/8", "192.168.1.5/32", "::1/128"]);
        let bad = env(&[("SCIMHUB_TRUSTED_PROXIES", "10.0.0.0/8,proxy.local")]);
        let err = Config::load(None, &bad, &Overrides::default()).unwrap_err();
        let message = format!("{err:#}");
        assert!(
            message.contains("SCIMHUB_TRUSTED_PROXIES") && message.contains("proxy.local"),
            "{message}"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "trusted_proxies = [\"172.16.0.0/12\", \"127.0.0.1\"]\n",
        )
        .unwrap();
        let c = Config::load(Some(&file), &env(&[]), &Overrides::default()).unwrap();
        assert_eq!(c.trusted_proxies.len(), 2);
        std::fs::write(&file, "trusted_proxies = [\"nope\"]\n").unwrap();
        let err = Config::load(Some(&file), &env(&[]), &Overrides::default()).unwrap_err();
        assert!(format!("{err:#}").contains("nope"), "{err:#}");
    }

    #[test]
    fn file_is_read_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.toml");
        std::fs::write(&good, "listen = \"127.0.0.1:7000\"\nmax_page_size = 20\n").unwrap();
        let c = Config::load(Some(&good), &env(&[]), &Overrides::default()).unwrap();
        assert_eq!((c.listen.as_str(), c.max_page_size), ("127.0.0.1:7000", 20));

        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "lisen = \"x\"\n").unwrap();
        assert!(Config::load(Some(&bad), &env(&[]), &Overrides::default()).is_err());
    }

    #[test]
    fn jwt_issuers_come_from_the_file_and_never_print_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jwt.toml");
        std::fs::write(
            &file,
            "[[jwt_issuers]]\nissuer = \"https://idp\"\naudiences = [\"scimhub\"]\nalgorithms = [\"HS256\"]\nsecret_env = \"MY_SECRET\"\n",
        )
        .unwrap();
        let c = Config::load(Some(&file), &env(&[]), &Overrides::default()).unwrap();
        assert_eq!(c.jwt_issuers.len(), 1);
        assert_eq!(c.jwt_issuers[0].leeway_secs, 30);
        assert!(
            !format!("{:?}", c.jwt_issuers[0]).contains("leeway"),
            "debug output is limited"
        );
    }

    #[test]
    fn tls_files_come_from_file_and_env_and_must_come_in_pairs() {
        let e = env(&[
            ("SCIMHUB_TLS_CERT_FILE", "/etc/scimhub/chain.pem"),
            ("SCIMHUB_TLS_KEY_FILE", "/etc/scimhub/key.pem"),
            ("SCIMHUB_TLS_HSTS_MAX_AGE_SECS", "600"),
        ]);
        let c = Config::load(None, &e, &Overrides::default()).unwrap();
        let (cert, key) = c.tls.files().unwrap();
        assert_eq!(cert.to_str(), Some("/etc/scimhub/chain.pem"));
        assert_eq!(key.to_str(), Some("/etc/scimhub/key.pem"));
        assert_eq!(c.tls.hsts_max_age_secs, Some(600));
        assert_eq!(Config::default().tls.files(), None);

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tls.toml");
        std::fs::write(
            &file,
            "[tls]\ncert_file = \"c.pem\"\nkey_file = \"k.pem\"\n",
        )
        .unwrap();
        let c = Config::load(Some(&file), &env(&[]), &Overrides::default()).unwrap();
        assert!(c.tls.files().is_some() && c.tls.hsts_max_age_secs.is_none());

        let refused = [
            (
                vec![("SCIMHUB_TLS_CERT_FILE", "c.pem")],
                "tls.key_file is not",
            ),
            (
                vec![("SCIMHUB_TLS_KEY_FILE", "k.pem")],
                "tls.cert_file is not",
            ),
            (
                vec![("SCIMHUB_TLS_HSTS_MAX_AGE_SECS", "60")],
                "needs tls.cert_file",
            ),
        ];
        for (pairs, expected) in refused {
            let err = Config::load(None, &env(&pairs), &Overrides::default()).unwrap_err();
            assert!(format!("{err:#}").contains(expected), "{err:#}");
        }
        let e = env(&[
            ("SCIMHUB_TLS_CERT_FILE", "c.pem"),
            ("SCIMHUB_TLS_KEY_FILE", "k.pem"),
            ("SCIMHUB_TLS_HSTS_MAX_AGE_SECS", "a year"),
        ]);
        let err = Config::load(None, &e, &Overrides::default()).unwrap_err();
        assert!(
            format!("{err:#}").contains("SCIMHUB_TLS_HSTS_MAX_AGE_SECS"),
            "{err:#}"
        );
    }

    #[test]
    fn bad_values_are_refused() {
        let e = env(&[("SCIMHUB_MAX_PAGE_SIZE", "many")]);
        assert!(Config::load(None, &e, &Overrides::default()).is_err());
        for listen in ["nowhere", "host:", ":8080", "host:http"] {
            let e = env(&[("SCIMHUB_LISTEN", listen)]);
            assert!(
                Config::load(None, &e, &Overrides::default()).is_err(),
                "{listen}"
            );
        }
    }

    /// A bad value names the key, the value and what was expected, from
    /// the environment, from the file and in the range checks after both;
    /// a secret's value is never repeated.
    #[test]
    fn bad_values_name_the_key_the_value_and_what_was_expected() {
        let error = |file: Option<&str>, pairs: &[(&str, &str)]| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("scimhub.toml");
            if let Some(text) = file {
                std::fs::write(&path, text).unwrap();
            }
            let loaded = Config::load(
                file.map(|_| path.as_path()),
                &env(pairs),
                &Overrides::default(),
            );
            format!("{:#}", loaded.unwrap_err())
        };
        let err = error(None, &[("SCIMHUB_DEFAULT_PAGE_SIZE", "abc")]);
        assert_eq!(
            err,
            "environment variable SCIMHUB_DEFAULT_PAGE_SIZE has an invalid value \"abc\": \
             expected a whole number, 0 or more"
        );
        let err = error(None, &[("SCIMHUB_SYNC_QUARANTINE_FAILURE_SHARE", "half")]);
        assert!(
            err.contains("\"half\": expected a number such as 2.5"),
            "{err}"
        );
        let err = error(None, &[("SCIMHUB_WEBHOOK_MAX_ATTEMPTS", "-1")]);
        assert!(
            err.contains("SCIMHUB_WEBHOOK_MAX_ATTEMPTS has an invalid value \"-1\""),
            "{err}"
        );
        let err = error(None, &[("SCIMHUB_LOG_FORMAT", "xml")]);
        assert!(err.ends_with("\"xml\": expected text or json"), "{err}");
        let err = error(None, &[("SCIMHUB_EMAIL_SMTP_PORT", "smtp")]);
        assert!(err.contains("\"smtp\": expected a port"), "{err}");
        let err = error(None, &[("SCIMHUB_SECRET_KEY", "hunter2-not-a-key")]);
        assert!(
            err.contains("SCIMHUB_SECRET_KEY") && err.contains("expected 32 bytes"),
            "{err}"
        );
        assert!(!err.contains("hunter2"), "{err}");

        let err = error(
            Some("listen = \"127.0.0.1:7000\"\ndefault_page_size = \"abc\"\n"),
            &[],
        );
        assert!(err.starts_with("invalid config file "), "{err}");
        assert!(err.contains("key default_page_size: "), "{err}");
        assert!(err.contains("line 2"), "{err}");
        assert!(
            err.contains("invalid type: string \"abc\", expected a whole number, 0 or more"),
            "{err}"
        );
        let err = error(Some("[sync]\npoll_ms = 1.5\n"), &[]);
        assert!(err.contains("key sync.poll_ms: "), "{err}");
        assert!(err.contains("1.5"), "{err}");

        let err = error(Some("default_page_size = 0\n"), &[]);
        assert_eq!(
            err,
            "default_page_size (SCIMHUB_DEFAULT_PAGE_SIZE) is 0: expected at least 1"
        );
        let err = error(None, &[("SCIMHUB_SYNC_POLL_MS", "0")]);
        assert_eq!(
            err,
            "sync.poll_ms (SCIMHUB_SYNC_POLL_MS) is 0: expected at least 1"
        );
        let err = error(
            Some("[webhooks]\nretry_base_ms = 10\nretry_max_ms = 5\n"),
            &[],
        );
        assert!(
            err.contains("(SCIMHUB_WEBHOOK_RETRY_MAX_MS) is 5: expected at least 10"),
            "{err}"
        );
        let err = error(None, &[("SCIMHUB_MAX_BODY_BYTES", "10")]);
        assert!(err.contains("is 10: expected at least 1024"), "{err}");
    }

    #[test]
    fn listen_takes_host_names() {
        let e = env(&[("SCIMHUB_LISTEN", "localhost:8080")]);
        let c = Config::load(None, &e, &Overrides::default()).unwrap();
        let addrs = c.listen_addrs().unwrap();
        assert!(
            addrs
                .iter()
                .all(|a| a.ip().is_loopback() && a.port() == 8080)
        );

        // Loading needs no lookup; listening does, and says which address failed.
        let e = env(&[("SCIMHUB_LISTEN", "no-such-host.invalid:8080")]);
        let c = Config::load(None, &e, &Overrides::default()).unwrap();
        let err = format!("{:#}", c.listen_addrs().unwrap_err());
        assert!(
            err.contains("\"no-such-host.invalid:8080\" does not resolve"),
            "{err}"
        );
    }
}
