//! Logging setup. Security-relevant events (authentication, token changes,
//! every resource change) go to the `audit` target.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

pub const AUDIT: &str = "audit";

/// Installs the global subscriber. `filter` uses `tracing` directive syntax;
/// `RUST_LOG`, when set, takes precedence.
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
