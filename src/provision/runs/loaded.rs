//! A stored target made ready to run: settings parsed, mapping compiled,
//! scope filters parsed, credentials opened into a connector.

use std::sync::Arc;

use anyhow::Context;

use crate::crypto::SecretKey;
use crate::provision::client::RateLimits;
use crate::provision::connector::{Connector, Recording};
use crate::provision::departments::DepartmentScope;
use crate::provision::mapping::Mapping;
use crate::provision::plan::{MatchKey, PlanOptions};
use crate::provision::target::{self, TargetSettings};
use crate::scim::filter::{self, Filter, FilterLimits};
use crate::store::TargetRecord;

pub struct LoadedTarget {
    pub record: TargetRecord,
    pub settings: TargetSettings,
    pub mapping: Mapping,
    pub user_scope: Option<Filter>,
    pub group_scope: Option<Filter>,
    /// The root department, department scope and how departments go.
    pub departments: DepartmentScope,
}

fn parse_scope(text: Option<&str>, what: &str) -> anyhow::Result<Option<Filter>> {
    text.map(|t| {
        filter::parse_filter(t, FilterLimits::default())
            .map_err(|e| anyhow::anyhow!("the stored {what} scope is invalid: {}", e.detail))
    })
    .transpose()
}

impl LoadedTarget {
    pub fn load(record: TargetRecord) -> anyhow::Result<Self> {
        let settings: TargetSettings =
            serde_json::from_str(&record.settings).context("stored target settings are corrupt")?;
        let (_, mapping) = settings
            .kind
            .mapping(&settings, record.mapping.as_deref())
            .map_err(|e| anyhow::anyhow!("stored mapping: {e}"))?;
        let user_scope = parse_scope(record.scope.as_deref(), "user")?;
        let group_scope = parse_scope(settings.group_scope.as_deref(), "group")?;
        let departments = DepartmentScope::of(&settings);
        Ok(Self {
            record,
            settings,
            mapping,
            user_scope,
            group_scope,
            departments,
        })
    }

    pub fn syncs(&self, resource_type: &str) -> bool {
        self.settings
            .resource_types
            .iter()
            .any(|t| t.eq_ignore_ascii_case(resource_type))
    }

    pub fn plan_options(&self, max_member_ops: usize) -> anyhow::Result<PlanOptions> {
        let user_match = MatchKey::parse(&self.settings.matching)
            .map_err(|m| anyhow::anyhow!("stored matching attribute: {m}"))?;
        let group_match = self
            .settings
            .kind
            .group_match(&self.settings)
            .unwrap_or_else(|| PlanOptions::default().group_match);
        Ok(PlanOptions {
            user_match,
            group_match,
            deprovision: self.settings.deprovision,
            guard: self.settings.guard,
            max_member_ops,
            orphans: self.settings.orphans,
            department_match: crate::provision::departments::match_key(&self.settings),
        })
    }

    /// The target's connector, with the credentials opened just for it
    /// and the target's rate limiter from `rates` (shared by its other
    /// connections). With `recording`, every exchange goes to its sink
    /// (and in its dry run no write is sent).
    pub fn connector(
        &self,
        key: Option<&SecretKey>,
        rates: &RateLimits,
        recording: Recording,
    ) -> anyhow::Result<Arc<dyn Connector>> {
        let key = key.context(
            "SCIMHUB_SECRET_KEY (secret_key) must be set to open the target's credentials",
        )?;
        let credentials = target::credentials(key, &self.record)?;
        let rate = rates.for_target(&self.record.id, self.settings.rate_limit);
        self.settings
            .kind
            .connector(
                &self.record.base_url,
                credentials,
                &self.settings,
                rate,
                recording,
            )
            .with_context(|| format!("target {:?}", self.record.name))
    }
}
