//! The deletion guard: a run that would deprovision too much stops for a
//! person to approve (a broken scope or source must not empty a target).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeletionGuard {
    /// Trips above this share of linked accounts…
    pub max_percent: f64,
    /// …when at least this many would go.
    pub min_count: usize,
    /// Trips above this many whatever the share.
    pub max_count: Option<usize>,
    /// The window over which real-time and run deprovisions add up.
    pub window_secs: u64,
}

impl Default for DeletionGuard {
    fn default() -> Self {
        Self {
            max_percent: 20.0,
            min_count: 10,
            max_count: None,
            window_secs: 3600,
        }
    }
}

impl DeletionGuard {
    pub fn trips(&self, deprovisions: usize, linked: usize) -> bool {
        let share = if linked == 0 {
            if deprovisions > 0 { 100.0 } else { 0.0 }
        } else {
            deprovisions as f64 * 100.0 / linked as f64
        };
        let by_share = share > self.max_percent && deprovisions >= self.min_count;
        let by_count = self.max_count.is_some_and(|n| deprovisions > n);
        by_share || by_count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_needs_both_share_and_count() {
        let g = DeletionGuard::default();
        assert!(!g.trips(9, 10)); // 90% but fewer than 10
        assert!(g.trips(10, 49)); // 20.4%
        assert!(!g.trips(10, 50)); // exactly 20%: not more than
        assert!(!g.trips(0, 0));
        assert!(!g.trips(199, 1000));
        assert!(g.trips(201, 1000));
    }

    #[test]
    fn absolute_count_trips_alone() {
        let g = DeletionGuard {
            max_count: Some(5),
            ..DeletionGuard::default()
        };
        assert!(g.trips(6, 10_000));
        assert!(!g.trips(5, 10_000));
    }
}
