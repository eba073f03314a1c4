//! When to try a request again and how long to wait: exponential backoff
//! with full jitter, and a target's `Retry-After` (capped) on 429/503.

use std::time::{Duration, SystemTime};

use rand::Rng;

use super::ConnectorError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included (at least 1).
    pub max_attempts: u32,
    /// The backoff window of the first retry; it doubles per attempt…
    pub base_delay: Duration,
    /// …up to this cap, which also caps a target's `Retry-After`.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `failed + 1`: a random point in
    /// `[0, min(cap, base·2^(failed-1))]` ("full jitter"), so many workers
    /// hitting one target do not retry in lockstep.
    pub fn backoff(&self, failed: u32) -> Duration {
        let window = self.window(failed);
        let millis = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::rng().random_range(0..=millis))
    }

    /// The upper bound of `backoff(failed)`.
    pub fn window(&self, failed: u32) -> Duration {
        let doublings = failed.saturating_sub(1).min(31);
        self.base_delay
            .saturating_mul(1u32 << doublings)
            .min(self.max_delay)
    }
}

/// One try's result as the retry loop sees it.
pub(crate) enum Attempt {
    /// Not worth repeating.
    Fatal(ConnectorError),
    /// 5xx, 408, 429, timeouts, connection errors.
    Transient {
        reason: String,
        status: Option<u16>,
        /// What the target asked for (`Retry-After`), before capping.
        retry_after: Option<Duration>,
    },
    /// Repeat at once without counting an attempt (fresh credentials).
    Reauthenticate,
}

impl From<ConnectorError> for Attempt {
    fn from(e: ConnectorError) -> Self {
        Attempt::Fatal(e)
    }
}

/// Runs `op` until it succeeds, fails for good or uses up the attempts.
/// `path` names the request in logs (never a query string or a secret).
/// (`op` is a plain closure returning a future, not an async closure, so
/// the whole future stays `Send` for spawned tasks.)
pub(crate) async fn with_retries<T, F, Fut>(
    policy: &RetryPolicy,
    path: &str,
    mut op: F,
) -> Result<T, ConnectorError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Attempt>>,
{
    let max_attempts = policy.max_attempts.max(1);
    let mut attempt = 1;
    loop {
        match op().await {
            Ok(value) => return Ok(value),
            Err(Attempt::Fatal(e)) => return Err(e),
            Err(Attempt::Reauthenticate) => continue,
            Err(Attempt::Transient {
                reason,
                status,
                retry_after,
            }) => {
                if attempt >= max_attempts {
                    tracing::warn!(path, status, attempts = attempt, %reason, "target unavailable, giving up");
                    return Err(ConnectorError::Unavailable {
                        attempts: attempt,
                        last: reason,
                    });
                }
                let wait = retry_after
                    .map(|d| d.min(policy.max_delay))
                    .unwrap_or_else(|| policy.backoff(attempt));
                tracing::warn!(
                    path,
                    status,
                    attempt,
                    wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                    %reason,
                    "target request failed, retrying"
                );
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
        }
    }
}

/// A `Retry-After` value: delay-seconds or an HTTP date (past dates mean now).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let at = SystemTime::from(at.with_timezone(&chrono::Utc));
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_stays_inside_its_window() {
        let p = RetryPolicy::default();
        assert_eq!(p.window(1), Duration::from_millis(200));
        assert_eq!(p.window(2), Duration::from_millis(400));
        assert_eq!(p.window(4), Duration::from_millis(1600));
        assert_eq!(p.window(20), Duration::from_secs(30));
        assert_eq!(p.window(u32::MAX), Duration::from_secs(30));
        for failed in 1..10 {
            assert!(p.backoff(failed) <= p.window(failed));
        }
        let spread: std::collections::HashSet<_> = (0..50).map(|_| p.backoff(5)).collect();
        assert!(spread.len() > 1, "jittered");
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_470); // 07:27:50 GMT
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }
}
