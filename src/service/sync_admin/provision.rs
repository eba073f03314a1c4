//! Provisioning one user on demand over the admin API and the CLI alike,
//! audited as `sync.provision` with the actor.

use serde_json::Value;

use super::{SyncAdmin, no_key, request};
use crate::error::AppError;
use crate::provision::on_demand::{self, ProvisionOptions, ProvisionReport};
use crate::store::Actor;

const NO_KEY_FOR_PUSH: &str = "SCIMHUB_SECRET_KEY (secret_key) is not set on this server: \
     target credentials cannot be opened, so nothing can be pushed";

/// `user "alice" (ID) to target "crm": created; groups: staff created, …`
fn audit_detail(report: &ProvisionReport, user: &str) -> String {
    let kind = if report.dry_run { "dry run: " } else { "" };
    let outcome = |o: &on_demand::ObjectReport| {
        let outcome = serde_json::to_value(o.outcome).unwrap_or(Value::Null);
        let name = o.name.as_deref().unwrap_or(&o.local_id);
        format!("{name} {}", outcome.as_str().unwrap_or("?"))
    };
    let objects: Vec<String> = report.objects.iter().map(outcome).collect();
    format!(
        "{kind}user {user:?} to target {:?}: {}",
        report.target,
        objects.join(", ")
    )
}

impl SyncAdmin {
    /// Pushes a user (userName or id) and its groups to a target now; a
    /// failed step is in the report (`ok: false`), not an error.
    pub async fn provision_user(
        &self,
        actor: &Actor,
        target: &str,
        user: &str,
        options: ProvisionOptions,
    ) -> Result<ProvisionReport, AppError> {
        if self.key.is_none() {
            // An unknown target is still a 404.
            self.target(target).await?;
            return Err(no_key(NO_KEY_FOR_PUSH));
        }
        let report = on_demand::provision_user(
            self.store.clone(),
            self.sync.clone(),
            self.key.as_ref(),
            self.engine.rate_limits(),
            target,
            user,
            options,
        )
        .await?;
        self.audit("sync.provision", actor, audit_detail(&report, user))
            .await?;
        Ok(report)
    }

    /// `provision_user` with the admin API's body (`{"user", "dryRun", "force"}`).
    pub async fn provision_from_request(
        &self,
        actor: &Actor,
        target: &str,
        body: Value,
    ) -> Result<ProvisionReport, AppError> {
        let (user, options) = request::provision_request(body)?;
        self.provision_user(actor, target, &user, options).await
    }
}
