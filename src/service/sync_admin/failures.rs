//! The failure queue and quarantine over the admin API, audited with the caller.

use super::SyncAdmin;
use crate::error::AppError;
use crate::provision::failures::{self, FailureView};
use crate::provision::target;
use crate::service::blocking;
use crate::store::Actor;

impl SyncAdmin {
    pub async fn failures(&self, target: Option<String>) -> Result<Vec<FailureView>, AppError> {
        let sync = self.sync.clone();
        blocking(move || Ok(failures::list(sync.as_ref(), target.as_deref())?)).await
    }

    pub async fn retry_failure(&self, actor: &Actor, id: &str) -> Result<(), AppError> {
        let (sync, owned) = (self.sync.clone(), id.to_string());
        blocking(move || Ok(failures::retry_one(sync.as_ref(), &owned)?)).await?;
        self.audit("sync.failure.retry", actor, format!("failure {id}"))
            .await
    }

    pub async fn retry_failures(
        &self,
        actor: &Actor,
        target: Option<String>,
    ) -> Result<usize, AppError> {
        let (sync, t) = (self.sync.clone(), target.clone());
        let n = blocking(move || Ok(failures::retry_all(sync.as_ref(), t.as_deref())?)).await?;
        let scope = target.map_or("every target".to_string(), |t| format!("target {t:?}"));
        self.audit(
            "sync.failure.retry",
            actor,
            format!("{n} failure(s) of {scope}"),
        )
        .await?;
        Ok(n)
    }

    pub async fn discard_failure(&self, actor: &Actor, id: &str) -> Result<(), AppError> {
        let (sync, owned) = (self.sync.clone(), id.to_string());
        blocking(move || Ok(failures::discard(sync.as_ref(), &owned)?)).await?;
        self.audit("sync.failure.discard", actor, format!("failure {id}"))
            .await
    }

    /// Ends a target's quarantine; false when it was not quarantined.
    pub async fn release_target(&self, actor: &Actor, name: &str) -> Result<bool, AppError> {
        let (sync, owned) = (self.sync.clone(), name.to_string());
        let released = blocking(move || Ok(target::release(sync.as_ref(), &owned)?)).await?;
        if released {
            self.audit("sync.target.release", actor, format!("target {name:?}"))
                .await?;
        }
        Ok(released)
    }
}
