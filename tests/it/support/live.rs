//! A live `scimhub serve` process (workers on, as admins run it) and the
//! CLI pointed at the same database: the way an admin drives the product.

use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

use super::poll::eventually_blocking;

/// The key sealing target credentials in every live test.
pub const SECRET_KEY_HEX: &str = "0101010101010101010101010101010101010101010101010101010101010101";

/// `scimhub` with a clean environment for tests (no colour, no inherited
/// database or listen address).
pub fn scimhub() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scimhub"));
    cmd.env_remove("SCIMHUB_DATABASE_URL")
        .env_remove("SCIMHUB_LISTEN")
        .env_remove("SCIMHUB_CONFIG")
        .env("NO_COLOR", "1");
    cmd
}

/// A free loopback port (bound and released; the server binds it next).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

pub struct LiveServer {
    pub database_url: String,
    pub base: String,
    /// Extra `SCIMHUB_*` settings both the server and `cli` get.
    env: Vec<(String, String)>,
    child: Child,
}

/// Fast worker settings, so tests wait milliseconds, not seconds.
pub fn fast_sync_env() -> Vec<(String, String)> {
    [
        ("SCIMHUB_SYNC_POLL_MS", "20"),
        ("SCIMHUB_SYNC_COALESCE_MS", "30"),
        ("SCIMHUB_SYNC_LEASE_SECS", "2"),
        ("SCIMHUB_SYNC_PROBE_SECS", "1"),
        ("SCIMHUB_SYNC_RETRY_BASE_SECS", "1"),
        ("SCIMHUB_SYNC_RETRY_CAP_SECS", "1"),
        ("SCIMHUB_RATE_LIMIT_PER_SECOND", "0"),
        ("SCIMHUB_SECRET_KEY", SECRET_KEY_HEX),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

impl LiveServer {
    /// Starts `scimhub serve` on `database_url` with the fast sync settings
    /// plus `extra`, and waits until `/healthz` answers.
    pub fn start(database_url: &str, extra: &[(&str, &str)]) -> LiveServer {
        let mut env = fast_sync_env();
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut cmd = scimhub();
        cmd.args(["serve", "--listen", &listen, "--database", database_url])
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("SCIMHUB_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd.spawn().expect("start scimhub serve");
        let server = LiveServer {
            database_url: database_url.to_string(),
            base: format!("http://{listen}"),
            env,
            child,
        };
        eventually_blocking("scimhub serve to answer /healthz", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        });
        server
    }

    /// Runs a CLI command against this server's database and environment.
    pub fn cli(&self, args: &[&str]) -> Output {
        scimhub()
            .args(args)
            .args(["--database", &self.database_url])
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("SCIMHUB_LOG", "warn")
            .output()
            .expect("run scimhub")
    }

    /// Starts a CLI command against this server's database without waiting
    /// for it (its output is discarded).
    pub fn cli_spawn(&self, args: &[&str]) -> std::process::Child {
        scimhub()
            .args(args)
            .args(["--database", &self.database_url])
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("SCIMHUB_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run scimhub")
    }

    /// `cli`, asserting success; returns stdout.
    #[track_caller]
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "scimhub {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `cli` with `--json`, parsed.
    #[track_caller]
    pub fn cli_json(&self, args: &[&str]) -> Value {
        let mut all: Vec<&str> = args.to_vec();
        all.push("--json");
        let text = self.cli_ok(&all);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }
}

impl Drop for LiveServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
