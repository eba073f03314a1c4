//! A stored target made ready to run: settings parsed, mapping compiled,
//! scope filters parsed, credentials opened into a connector.

use std::sync::Arc;

use anyhow::Context;

use crate::crypto::SecretKey;
use crate::provision::client::{ExchangeSink, RateLimits, ScimClient};
use crate::provision::connector::Connector;
use crate::provision::connector::scim::ScimConnector;
use crate::provision::mapping::{Mapping, MappingFile};
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
        let mapping = match &record.mapping {
            Some(text) => {
                let file: MappingFile =
                    serde_json::from_str(text).context("stored mapping is corrupt")?;
                Mapping::compile(&file).map_err(|e| anyhow::anyhow!("stored mapping: {e}"))?
            }
            None => Mapping::identity(),
        };
        let user_scope = parse_scope(record.scope.as_deref(), "user")?;
        let group_scope = parse_scope(settings.group_scope.as_deref(), "group")?;
        Ok(Self {
            record,
            settings,
            mapping,
            user_scope,
            group_scope,
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
        Ok(PlanOptions {
            user_match,
            deprovision: self.settings.deprovision,
            guard: self.settings.guard,
            max_member_ops,
            orphans: self.settings.orphans,
            ..PlanOptions::default()
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
        recording: Option<(Arc<dyn ExchangeSink>, bool)>,
    ) -> anyhow::Result<Arc<dyn Connector>> {
        let key = key.context(
            "SCIMHUB_SECRET_KEY (secret_key) must be set to open the target's credentials",
        )?;
        let mut client = ScimClient::new(target::client_options(key, &self.record)?)
            .map_err(|e| anyhow::anyhow!("target {:?}: {e}", self.record.name))?
            .with_rate_limit(rates.for_target(&self.record.id, self.settings.rate_limit));
        if let Some((sink, dry_run)) = recording {
            client = client.with_recording(sink, dry_run);
        }
        Ok(Arc::new(ScimConnector::new(client)))
    }
}
