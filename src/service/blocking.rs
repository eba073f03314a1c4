use std::sync::Arc;

use crate::blocking::TaskFailed;
use crate::error::AppError;
use crate::store::{Store, StoreError, WriteJob};

impl From<TaskFailed> for AppError {
    fn from(e: TaskFailed) -> Self {
        AppError::Internal(e.into())
    }
}

/// `crate::blocking::blocking` for use cases (errors are `AppError`s).
pub async fn blocking<T, F>(work: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, AppError> + Send + 'static,
{
    crate::blocking::blocking(work).await
}

/// Runs `work`, whose store calls write, where the store runs writes best:
/// on its write lane (SQLite: queued to the writer thread, no hand-off to
/// the blocking pool, one commit shared with the writes queued beside it)
/// or else on the blocking pool. The outcome arrives only after the commit
/// that holds the writes; a batch that does not commit fails all of them.
pub async fn writing<T, F>(store: &Arc<dyn Store>, work: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, AppError> + Send + 'static,
{
    let (answer, outcome) = tokio::sync::oneshot::channel();
    let job: WriteJob = Box::new(move || {
        let result = work();
        Box::new(move |committed| {
            // A refusal too may rest on a write of the batch that was undone.
            let settled = if committed {
                result
            } else {
                Err(StoreError::Aborted.into())
            };
            let _ = answer.send(settled);
        })
    });
    if let Err(job) = store.submit_write(job) {
        // Its writes committed one by one, each in its own transaction.
        blocking(move || {
            job()(true);
            Ok(())
        })
        .await?;
    }
    outcome
        .await
        .map_err(|_| AppError::Internal(anyhow::anyhow!("a write ended without an outcome")))?
}
