//! The operator events scimhub notifies about, by the names that
//! `[[notify]]` and `[email]` may filter on.

pub const RUN_FAILED: &str = "sync.run.failed";
pub const RUN_COMPLETED_WITH_FAILURES: &str = "sync.run.completed_with_failures";
pub const GUARD_TRIPPED: &str = "sync.guard.tripped";
pub const TARGET_QUARANTINED: &str = "target.quarantined";
pub const TARGET_RELEASED: &str = "target.released";
pub const QUEUE_GROWING: &str = "sync.queue.growing";

/// Every event type an endpoint's `events` filter may name.
pub const EVENT_TYPES: &[&str] = &[
    RUN_FAILED,
    RUN_COMPLETED_WITH_FAILURES,
    GUARD_TRIPPED,
    TARGET_QUARANTINED,
    TARGET_RELEASED,
    QUEUE_GROWING,
];
