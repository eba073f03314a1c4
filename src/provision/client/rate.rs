//! A target's request rate (`rate_limit`, requests per second): one
//! limiter per target, shared by every client of that target in the
//! process — full runs, the real-time worker, retries — through `RateLimits`.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};

use governor::{DefaultDirectRateLimiter, Quota};

/// Waits for a request's turn; requests are spaced evenly (no burst).
pub type RateLimiter = DefaultDirectRateLimiter;

/// A fresh limiter for `per_second` requests per second; `None` for no limit.
pub fn limiter(per_second: Option<u32>) -> Option<Arc<RateLimiter>> {
    let rate = NonZeroU32::new(per_second?)?;
    // A burst of one keeps every gap at 1/rate, as a target's quota expects.
    let quota = Quota::per_second(rate).allow_burst(NonZeroU32::MIN);
    Some(Arc::new(RateLimiter::direct(quota)))
}

/// A target's limiter and the rate it was made for.
type Shared = (u32, Arc<RateLimiter>);

/// The limiters of one process, by target id. Clones share them.
#[derive(Clone, Default)]
pub struct RateLimits {
    by_target: Arc<Mutex<HashMap<String, Shared>>>,
}

impl RateLimits {
    pub fn new() -> Self {
        Self::default()
    }

    /// The limiter every client of `target_id` shares; a changed rate
    /// replaces it, `None` (no limit) forgets it.
    pub fn for_target(&self, target_id: &str, per_second: Option<u32>) -> Option<Arc<RateLimiter>> {
        // A panic elsewhere cannot leave this map half-written: use it as is.
        let mut map = self
            .by_target
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(rate) = per_second.filter(|r| *r > 0) else {
            map.remove(target_id);
            return None;
        };
        if let Some((known, shared)) = map.get(target_id)
            && *known == rate
        {
            return Some(shared.clone());
        }
        let fresh = limiter(Some(rate))?;
        map.insert(target_id.to_string(), (rate, fresh.clone()));
        Some(fresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_limiter_per_target_and_rate() {
        let limits = RateLimits::new();
        let a = limits.for_target("t1", Some(5)).unwrap();
        let shared = limits.clone().for_target("t1", Some(5)).unwrap();
        assert!(Arc::ptr_eq(&a, &shared));
        let other = limits.for_target("t2", Some(5)).unwrap();
        assert!(!Arc::ptr_eq(&a, &other));
        let changed = limits.for_target("t1", Some(9)).unwrap();
        assert!(!Arc::ptr_eq(&a, &changed));
        assert!(limits.for_target("t1", None).is_none());
        assert!(limits.for_target("t1", Some(0)).is_none());
        assert!(!Arc::ptr_eq(
            &changed,
            &limits.for_target("t1", Some(9)).unwrap()
        ));
    }

    #[test]
    fn no_burst_one_request_at_a_time() {
        let l = limiter(Some(2)).unwrap();
        assert!(l.check().is_ok());
        assert!(l.check().is_err(), "the second request waits half a second");
        assert!(limiter(None).is_none() && limiter(Some(0)).is_none());
    }
}
