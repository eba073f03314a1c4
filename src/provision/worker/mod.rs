//! Real-time incremental sync: one worker per target follows the change
//! log from the target's saved cursor, coalesces bursts, pushes each
//! changed object's current state, queues failures for retry, and
//! quarantines a target that refuses credentials or fails too much; the
//! supervisor also watches the failure queues' depths (`queue_watch`).

mod departments;
mod pass;
mod push;
pub mod queue;
pub mod queue_watch;
mod supervisor;

pub use push::{PushError, Pushed, Session};
pub use supervisor::{WorkerContext, Workers};
