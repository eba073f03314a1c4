//! Reloads the certificate on SIGHUP and when its files change, so renewed
//! certificates are served without a restart.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::certificate::Certificate;

/// How often the files' modification times are compared.
const CHECK_EVERY: Duration = Duration::from_secs(2);

/// What identifies a version of the files: modification time and size.
type Stamp = Vec<Option<(SystemTime, u64)>>;

fn stamp(certificate: &Certificate) -> Stamp {
    certificate
        .files()
        .iter()
        .map(|f| {
            let meta = std::fs::metadata(f).ok()?;
            Some((meta.modified().ok()?, meta.len()))
        })
        .collect()
}

/// Starts the watcher on the current (actix) runtime. The SIGHUP handler is
/// installed before this returns, so a signal sent once the port answers
/// reloads rather than ends the process.
pub fn spawn(certificate: Arc<Certificate>) -> anyhow::Result<()> {
    #[cfg(unix)]
    let mut hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    // Read before the task starts: a file changed right after the port
    // answers is then a change, however late the task first runs.
    let mut loaded = stamp(&certificate);
    actix_web::rt::spawn(async move {
        let mut last_seen = loaded.clone();
        let mut ticks = tokio::time::interval(CHECK_EVERY);
        loop {
            #[cfg(unix)]
            let cause = tokio::select! {
                _ = hangups.recv() => "SIGHUP",
                _ = ticks.tick() => "file change",
            };
            #[cfg(not(unix))]
            let cause = {
                ticks.tick().await;
                "file change"
            };
            let now = stamp(&certificate);
            if cause == "file change" {
                // Wait one more check after a change, so a certificate and
                // key written one after the other are read as a pair.
                let settled = now == last_seen;
                last_seen = now.clone();
                if !settled || now == loaded {
                    continue;
                }
            }
            // Remembered even when the reload fails: one error per change.
            (loaded, last_seen) = (now.clone(), now);
            match certificate.reload() {
                Ok(()) => tracing::info!(cause, "TLS certificate reloaded"),
                Err(e) => tracing::error!(
                    cause,
                    error = %format!("{e:#}"),
                    "TLS certificate not reloaded; still serving the previous one"
                ),
            }
        }
    });
    Ok(())
}
