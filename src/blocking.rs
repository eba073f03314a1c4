//! The one bridge from async code to blocking work (diesel, argon2): the
//! work runs on tokio's blocking pool, never on an async worker thread.
//! Each layer's error type says how a failed task reads (`From<TaskFailed>`).

/// The blocking task itself died (it panicked or was cancelled).
#[derive(Debug, thiserror::Error)]
#[error("blocking task failed: {0}")]
pub struct TaskFailed(String);

/// Runs `work` on the blocking pool and hands back its result.
pub async fn blocking<T, E, F>(work: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<TaskFailed> + Send + 'static,
    F: FnOnce() -> Result<T, E> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| E::from(TaskFailed(e.to_string())))?
}
