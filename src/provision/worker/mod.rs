//! Real-time incremental sync: one worker per target follows the change
//! log from the target's saved cursor, coalesces bursts, pushes each
//! changed object's current state, queues failures for retry, and
//! quarantines a target that refuses credentials or fails too much.

mod pass;
mod push;
pub mod queue;
mod supervisor;

pub use supervisor::{WorkerContext, Workers};
