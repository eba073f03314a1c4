//! Operator notifications: what happened, as the JSON a webhook receives.

use serde_json::{Value, json};

use crate::provision::runs::report::{ActionCounts, RunReport, RunStatus};
use crate::settings::events::{
    GUARD_TRIPPED, QUEUE_GROWING, RUN_COMPLETED_WITH_FAILURES, RUN_FAILED, TARGET_QUARANTINED,
    TARGET_RELEASED,
};

#[derive(Debug, Clone, PartialEq)]
pub enum Notification {
    /// The run could not proceed (target unreachable, credentials refused…).
    RunFailed {
        target: String,
        run_id: String,
        error: Option<String>,
        counts: ActionCounts,
    },
    /// The run applied, but some objects failed.
    RunCompletedWithFailures {
        target: String,
        run_id: String,
        counts: ActionCounts,
    },
    /// The deletion guard held deprovisions back; they await approval.
    GuardTripped {
        target: String,
        run_id: String,
        held: usize,
        counts: ActionCounts,
    },
    /// A target stopped being synced (e.g. it kept failing).
    TargetQuarantined { target: String, reason: String },
    /// A quarantined target is synced again.
    TargetReleased {
        target: String,
        reason: Option<String>,
    },
    /// A target's failure queue keeps growing (or passed the alert depth).
    QueueGrowing {
        target: String,
        /// Entries now.
        depth: u64,
        /// Of which wait for an admin (the target refused them).
        permanent: u64,
        /// Checks in a row at which it grew.
        grew_checks: u32,
    },
}

impl Notification {
    /// The notification a finished run calls for, if any.
    pub fn for_run(report: &RunReport) -> Option<Notification> {
        let (target, run_id, counts) = (
            report.head.target.clone(),
            report.head.id.clone(),
            report.head.counts,
        );
        match report.head.status {
            RunStatus::Failed => Some(Notification::RunFailed {
                target,
                run_id,
                error: report.head.error.clone(),
                counts,
            }),
            RunStatus::CompletedWithFailures => Some(Notification::RunCompletedWithFailures {
                target,
                run_id,
                counts,
            }),
            RunStatus::AwaitingApproval => Some(Notification::GuardTripped {
                target,
                run_id,
                held: report.pending.len(),
                counts,
            }),
            _ => None,
        }
    }

    pub fn event_type(&self) -> &'static str {
        match self {
            Notification::RunFailed { .. } => RUN_FAILED,
            Notification::RunCompletedWithFailures { .. } => RUN_COMPLETED_WITH_FAILURES,
            Notification::GuardTripped { .. } => GUARD_TRIPPED,
            Notification::TargetQuarantined { .. } => TARGET_QUARANTINED,
            Notification::TargetReleased { .. } => TARGET_RELEASED,
            Notification::QueueGrowing { .. } => QUEUE_GROWING,
        }
    }

    /// The event-specific part of the body (`data`).
    pub fn data(&self) -> Value {
        match self {
            Notification::RunFailed {
                target,
                run_id,
                error,
                counts,
            } => json!({"target": target, "runId": run_id, "error": error, "counts": counts}),
            Notification::RunCompletedWithFailures {
                target,
                run_id,
                counts,
            } => {
                json!({"target": target, "runId": run_id, "failed": counts.failed, "counts": counts})
            }
            Notification::GuardTripped {
                target,
                run_id,
                held,
                counts,
            } => json!({"target": target, "runId": run_id, "held": held, "counts": counts}),
            Notification::TargetQuarantined { target, reason } => {
                json!({"target": target, "reason": reason})
            }
            Notification::TargetReleased { target, reason } => {
                json!({"target": target, "reason": reason})
            }
            Notification::QueueGrowing {
                target,
                depth,
                permanent,
                grew_checks,
            } => json!({
                "target": target, "depth": depth, "permanent": permanent,
                "grewChecks": grew_checks,
            }),
        }
    }

    /// The whole body: `{"id", "type", "occurredAt", "data"}`.
    pub fn body(&self, event_id: &str, at: chrono::DateTime<chrono::Utc>) -> Value {
        json!({
            "id": event_id,
            "type": self.event_type(),
            "occurredAt": crate::scim::render::format_time(&at),
            "data": self.data(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Built from JSON so fields added to reports later need no edit here.
    fn report(status: RunStatus) -> RunReport {
        serde_json::from_value(json!({
            "id": "r1", "target": "app", "status": status, "dry_run": false,
            "started": "2026-11-26T00:00:00.000Z", "finished": null,
            "counts": {"failed": 2, "created": 5}, "failures": [], "pending": [],
            "warnings": [], "error": "target unreachable",
        }))
        .unwrap()
    }

    #[test]
    fn runs_map_to_their_event_types_and_successes_to_none() {
        let kind = |s| Notification::for_run(&report(s)).map(|n| n.event_type());
        assert_eq!(kind(RunStatus::Failed), Some(RUN_FAILED));
        assert_eq!(
            kind(RunStatus::CompletedWithFailures),
            Some(RUN_COMPLETED_WITH_FAILURES)
        );
        assert_eq!(kind(RunStatus::AwaitingApproval), Some(GUARD_TRIPPED));
        assert_eq!(kind(RunStatus::Succeeded), None);
        assert_eq!(kind(RunStatus::Planned), None);
        assert_eq!(kind(RunStatus::Rejected), None);
    }

    #[test]
    fn the_body_carries_type_target_run_and_counts() {
        let n = Notification::for_run(&report(RunStatus::Failed)).unwrap();
        let body = n.body("e1", chrono::Utc::now());
        assert_eq!(body["id"], "e1");
        assert_eq!(body["type"], RUN_FAILED);
        assert_eq!(body["data"]["target"], "app");
        assert_eq!(body["data"]["runId"], "r1");
        assert_eq!(body["data"]["error"], "target unreachable");
        assert_eq!(body["data"]["counts"]["created"], 5);
    }
}
