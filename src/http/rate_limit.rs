//! Per-credential rate limiting: a token bucket per principal name, refilled
//! continuously. Over the limit a request gets 429 with `Retry-After`.
//!
//! The bucket map stays bounded: a bucket that has refilled to full is the
//! same as no bucket, so those are swept out now and then; and if the map
//! still reaches its cap (many live credentials at once), the least recently
//! used half is dropped.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most buckets kept at once.
const MAX_BUCKETS: usize = 100_000;
/// How often full buckets are swept out.
const SWEEP_EVERY: Duration = Duration::from_secs(10);

struct Bucket {
    tokens: f64,
    last: Instant,
}

struct Buckets {
    map: HashMap<String, Bucket>,
    last_sweep: Instant,
}

pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    max_buckets: usize,
    buckets: Mutex<Buckets>,
}

impl RateLimiter {
    /// `per_second = 0` disables limiting.
    pub fn new(per_second: f64, burst: f64) -> Self {
        Self::with_max_buckets(per_second, burst, MAX_BUCKETS)
    }

    fn with_max_buckets(per_second: f64, burst: f64, max_buckets: usize) -> Self {
        Self {
            per_second,
            burst: burst.max(1.0),
            max_buckets: max_buckets.max(2),
            buckets: Mutex::new(Buckets {
                map: HashMap::new(),
                last_sweep: Instant::now(),
            }),
        }
    }

    /// Takes one token for `key`, or says how long until one is available.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if self.per_second <= 0.0 {
            return Ok(());
        }
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(()); // a poisoned lock must not take the service down
        };
        let due = now.saturating_duration_since(buckets.last_sweep) >= SWEEP_EVERY;
        if due || buckets.map.len() >= self.max_buckets {
            self.sweep(&mut buckets, now);
        }
        let bucket = buckets.map.entry(key.to_string()).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        let refilled = self.refilled(bucket, now);
        bucket.last = now;
        if refilled >= 1.0 {
            bucket.tokens = refilled - 1.0;
            Ok(())
        } else {
            bucket.tokens = refilled;
            Err(Duration::from_secs_f64((1.0 - refilled) / self.per_second))
        }
    }

    /// How long until `key` may go on, when it may not now; takes nothing
    /// (`check` takes a token).
    pub fn blocked(&self, key: &str) -> Option<Duration> {
        if self.per_second <= 0.0 {
            return None;
        }
        let now = Instant::now();
        let buckets = self.buckets.lock().ok()?;
        let refilled = self.refilled(buckets.map.get(key)?, now);
        (refilled < 1.0).then(|| Duration::from_secs_f64((1.0 - refilled) / self.per_second))
    }

    fn refilled(&self, bucket: &Bucket, now: Instant) -> f64 {
        let idle = now.saturating_duration_since(bucket.last).as_secs_f64();
        (bucket.tokens + idle * self.per_second).min(self.burst)
    }

    /// Drops full buckets; at the cap, also the least recently used half.
    fn sweep(&self, buckets: &mut Buckets, now: Instant) {
        buckets.last_sweep = now;
        buckets.map.retain(|_, b| {
            (b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * self.per_second)
                < self.burst
        });
        if buckets.map.len() >= self.max_buckets {
            let mut by_age: Vec<(Instant, String)> = buckets
                .map
                .iter()
                .map(|(k, b)| (b.last, k.clone()))
                .collect();
            by_age.sort_unstable_by_key(|(last, _)| *last);
            let excess = by_age.len() - self.max_buckets / 2;
            for (_, key) in by_age.into_iter().take(excess) {
                buckets.map.remove(&key);
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.buckets.lock().map(|b| b.map.len()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_refuses_then_refills() {
        let limiter = RateLimiter::new(1000.0, 2.0);
        assert!(limiter.check("a").is_ok());
        assert!(limiter.check("a").is_ok());
        let wait = limiter.check("a").unwrap_err();
        assert!(wait <= Duration::from_millis(2));
        assert!(limiter.check("b").is_ok(), "buckets are per key");
        std::thread::sleep(Duration::from_millis(5));
        assert!(limiter.check("a").is_ok());
        assert!(RateLimiter::new(0.0, 0.0).check("x").is_ok());
    }

    #[test]
    fn blocked_looks_without_taking() {
        let limiter = RateLimiter::new(0.001, 2.0);
        assert_eq!(limiter.blocked("a"), None);
        assert!(limiter.check("a").is_ok());
        assert_eq!(limiter.blocked("a"), None, "one token left");
        assert_eq!(limiter.blocked("a"), None, "looking takes none");
        assert!(limiter.check("a").is_ok());
        assert!(limiter.blocked("a").is_some());
        assert_eq!(limiter.blocked("b"), None, "buckets are per key");
    }

    #[test]
    fn refilled_buckets_are_swept_out() {
        // One token per 100 s: an idle bucket needs 100 s to refill.
        let limiter = RateLimiter::new(0.01, 5.0);
        let start = Instant::now();
        for i in 0..1000 {
            assert!(limiter.check_at(&format!("token-{i}"), start).is_ok());
        }
        for _ in 0..5 {
            let _ = limiter.check_at("busy", start + SWEEP_EVERY);
        }
        assert_eq!(limiter.len(), 1001);
        // Later every idle bucket is full again and goes; the busy one stays limited.
        let later = start + Duration::from_secs(200);
        assert!(limiter.check_at("busy", later).is_ok());
        assert_eq!(limiter.len(), 1, "only the bucket in use is kept");
    }

    #[test]
    fn the_map_never_grows_past_its_cap() {
        let limiter = RateLimiter::with_max_buckets(1.0, 1.0, 100);
        let start = Instant::now();
        for i in 0..10_000u64 {
            let now = start + Duration::from_millis(i);
            assert!(limiter.check_at(&format!("jwt:sub-{i}"), now).is_ok());
            assert!(limiter.len() <= 100);
        }
        // The most recently used credential keeps its (empty) bucket.
        let now = start + Duration::from_millis(10_000);
        assert!(limiter.check_at("jwt:sub-9999", now).is_err());
    }
}
