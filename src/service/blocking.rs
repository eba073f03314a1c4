use crate::blocking::TaskFailed;
use crate::error::AppError;

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
