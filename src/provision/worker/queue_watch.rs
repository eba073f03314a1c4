//! Notices a failure queue that keeps growing: every `sync.queue_check_secs`
//! the supervisor compares each target's queue depth with the last check;
//! one that grew at `sync.queue_alert_checks` checks in a row (or holds
//! `sync.queue_alert_depth` entries) raises an alert, notified once. The
//! alert is stored, so neither a restart nor another instance notifies it
//! again; it is cleared when the queue has drained.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use super::supervisor::WorkerContext;
use crate::provision::runs::{SyncError, blocking};
use crate::provision::webhook::Notification;
use crate::settings::SyncWorkerConfig;
use crate::store::TargetRecord;

/// A target's queue as of the last check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Trend {
    pub depth: i64,
    /// Checks in a row at which the depth grew.
    pub grew: u32,
}

impl Trend {
    /// The trend after a check that found `depth` (the first check of a
    /// target only sets the baseline).
    pub fn next(previous: Option<Trend>, depth: i64) -> Trend {
        let grew = match previous {
            Some(p) if depth > p.depth => p.grew.saturating_add(1),
            _ => 0,
        };
        Trend { depth, grew }
    }

    /// Whether this calls for the alert.
    pub fn alarming(&self, config: &SyncWorkerConfig) -> bool {
        let deep = config.queue_alert_depth > 0
            && u64::try_from(self.depth).unwrap_or(0) >= config.queue_alert_depth;
        self.depth > 0 && (self.grew >= config.queue_alert_checks || deep)
    }
}

pub struct QueueWatch {
    every: Duration,
    last: Option<Instant>,
    /// Target id → its queue as of the last check.
    trends: HashMap<String, Trend>,
}

impl QueueWatch {
    pub fn new(config: &SyncWorkerConfig) -> Self {
        Self {
            every: Duration::from_secs(config.queue_check_secs),
            last: None,
            trends: HashMap::new(),
        }
    }

    /// Checks `targets` if `sync.queue_check_secs` passed since the last
    /// check. Errors are logged: a missed check only delays an alert.
    pub async fn tick(&mut self, ctx: &WorkerContext, targets: &[TargetRecord]) {
        if self.last.is_some_and(|at| at.elapsed() < self.every) {
            return;
        }
        self.last = Some(Instant::now());
        if let Err(e) = self.check(ctx, targets).await {
            tracing::warn!(error = %e, "failure queue check failed");
        }
    }

    /// One check of every target's queue depth.
    pub async fn check(
        &mut self,
        ctx: &WorkerContext,
        targets: &[TargetRecord],
    ) -> Result<(), SyncError> {
        let sync = ctx.sync.clone();
        let (depths, raised) =
            blocking(move || Ok((sync.queue_depths()?, sync.queue_alerts()?))).await?;
        let depths: HashMap<String, (i64, i64)> = depths
            .into_iter()
            .map(|d| (d.target_id, (d.depth, d.permanent)))
            .collect();
        let raised: HashSet<String> = raised.into_iter().collect();
        self.trends
            .retain(|id, _| targets.iter().any(|t| &t.id == id));
        for target in targets {
            let (depth, permanent) = depths.get(&target.id).copied().unwrap_or((0, 0));
            let trend = Trend::next(self.trends.get(&target.id).copied(), depth);
            self.trends.insert(target.id.clone(), trend);
            let is_raised = raised.contains(&target.id);
            if depth == 0 && is_raised {
                let (sync, id) = (ctx.sync.clone(), target.id.clone());
                blocking(move || Ok(sync.clear_queue_alert(&id)?)).await?;
                tracing::info!(target: "audit", target = %target.name, "failure queue drained; its alert is cleared");
            } else if !is_raised && trend.alarming(&ctx.config) {
                self.raise(ctx, target, trend, permanent).await?;
            }
        }
        Ok(())
    }

    async fn raise(
        &self,
        ctx: &WorkerContext,
        target: &TargetRecord,
        trend: Trend,
        permanent: i64,
    ) -> Result<(), SyncError> {
        let (sync, id) = (ctx.sync.clone(), target.id.clone());
        let won = blocking(move || Ok(sync.raise_queue_alert(&id, trend.depth)?)).await?;
        if !won {
            return Ok(());
        }
        tracing::warn!(target: "audit", target = %target.name, depth = trend.depth, permanent, grew_checks = trend.grew, "alert: failure queue keeps growing");
        if let Some(notifier) = &ctx.notifier {
            notifier
                .notify_async(Notification::QueueGrowing {
                    target: target.name.clone(),
                    depth: u64::try_from(trend.depth).unwrap_or(0),
                    permanent: u64::try_from(permanent).unwrap_or(0),
                    grew_checks: trend.grew,
                })
                .await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(checks: u32, depth: u64) -> SyncWorkerConfig {
        SyncWorkerConfig {
            queue_alert_checks: checks,
            queue_alert_depth: depth,
            ..SyncWorkerConfig::default()
        }
    }

    fn walk(depths: &[i64]) -> Vec<Trend> {
        let mut previous = None;
        depths
            .iter()
            .map(|d| {
                let t = Trend::next(previous, *d);
                previous = Some(t);
                t
            })
            .collect()
    }

    #[test]
    fn growth_counts_consecutive_rises_and_any_pause_restarts_it() {
        let grew: Vec<u32> = walk(&[3, 4, 6, 6, 7, 2, 5])
            .iter()
            .map(|t| t.grew)
            .collect();
        assert_eq!(grew, [0, 1, 2, 0, 1, 0, 1]);
    }

    #[test]
    fn the_alert_needs_enough_rises_or_the_depth_threshold() {
        let c = config(3, 100);
        let trends = walk(&[1, 2, 3, 4]);
        assert!(!trends[2].alarming(&c), "two rises");
        assert!(trends[3].alarming(&c), "three rises");
        assert!(
            Trend {
                depth: 100,
                grew: 0
            }
            .alarming(&c)
        );
        assert!(!Trend { depth: 99, grew: 0 }.alarming(&c));
        assert!(
            !Trend {
                depth: 5000,
                grew: 0
            }
            .alarming(&config(3, 0)),
            "0: no threshold"
        );
        assert!(
            !Trend { depth: 0, grew: 9 }.alarming(&c),
            "an empty queue never alarms"
        );
    }
}
