//! Testing a target before trusting it (`scimhub target test`, `POST
//! /admin/v1/targets/{name}/test`, and `target add` unless told not to):
//! reachability, authentication, `/ServiceProviderConfig`, `/Schemas`, and
//! the mapping type-checked against the published schemas and on a few
//! local resources (an LDAP target: `ldap`). Each request is tried once, so
//! the report says what happened rather than what a retry hid.

mod generic;
mod ldap;
mod report;

use std::sync::Arc;

use serde_json::Value;

pub use report::{Status, Step, StepReport, TestReport};

use super::client::{
    ClientOptions, PublishedSchemas, RateLimiter, RateLimits, RetryPolicy, ScimClient,
    TargetLimits, limiter,
};
use super::connector::{ConnectorError, TargetKind};
use super::mapping::Mapping;
use super::mapping::typecheck::{self, Sample, Severity, TypeProblem};
use super::runs::LoadedTarget;
use super::target::{self, NewTarget, TargetChanges, TargetError, TargetSettings, TargetView};
use super::target_check::{check_filter, check_settings};
use crate::crypto::SecretKey;
use crate::scim::ResourceKind;
use crate::scim::filter::{self, Filter, FilterLimits};
use crate::store::{ListQuery, Store, StoreError, SyncStore, TargetRecord, Window};

/// Local users (and groups) the mapping is tried on.
pub const SAMPLE_SIZE: u64 = 5;

/// Everything a test needs, from a stored target or from one being added.
pub struct TestSubject {
    pub name: String,
    pub options: ClientOptions,
    pub settings: TargetSettings,
    pub mapping: Mapping,
    pub user_scope: Option<Filter>,
    pub group_scope: Option<Filter>,
    pub rate: Option<Arc<RateLimiter>>,
}

fn invalid(e: impl std::fmt::Display) -> TargetError {
    TargetError::Invalid(format!("{e:#}"))
}

fn parse_scope(text: Option<&str>) -> Result<Option<Filter>, TargetError> {
    text.map(|t| {
        filter::parse_filter(t, FilterLimits::default())
            .map_err(|e| TargetError::Invalid(format!("invalid scope: {}", e.detail)))
    })
    .transpose()
}

impl TestSubject {
    /// A stored target, sharing its rate limiter with the process's other clients.
    pub fn stored(
        target: &LoadedTarget,
        key: &SecretKey,
        rates: &RateLimits,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            name: target.record.name.clone(),
            options: target::client_options(key, &target.record)?,
            settings: target.settings.clone(),
            mapping: target.mapping.clone(),
            user_scope: target.user_scope.clone(),
            group_scope: target.group_scope.clone(),
            rate: rates.for_target(&target.record.id, target.settings.rate_limit),
        })
    }

    /// A target about to be added, checked as `target::add` checks it.
    pub fn new_target(new: &NewTarget) -> Result<Self, TargetError> {
        let kind = new.settings.kind;
        let base_url = kind
            .check_url(&new.base_url)
            .map_err(TargetError::Invalid)?;
        new.credentials.check().map_err(TargetError::Invalid)?;
        kind.check_credentials(&new.credentials)
            .map_err(TargetError::Invalid)?;
        let settings = check_settings(&new.settings).map_err(invalid)?;
        let (_, mapping) = kind
            .mapping(&settings, new.mapping.as_deref())
            .map_err(TargetError::Invalid)?;
        if let Some(scope) = &new.scope {
            check_filter(scope, ResourceKind::User, "scope").map_err(invalid)?;
        }
        Ok(Self {
            name: new.name.clone(),
            options: ClientOptions::for_target(&base_url, new.credentials.clone(), &settings),
            user_scope: parse_scope(new.scope.as_deref())?,
            group_scope: parse_scope(settings.group_scope.as_deref())?,
            rate: limiter(settings.rate_limit),
            settings,
            mapping,
        })
    }

    pub(crate) fn kinds(&self) -> Vec<ResourceKind> {
        [ResourceKind::User, ResourceKind::Group]
            .into_iter()
            .filter(|k| {
                self.settings
                    .resource_types
                    .iter()
                    .any(|t| t.eq_ignore_ascii_case(k.endpoint()))
            })
            .collect()
    }
}

/// Runs every step it can and reports each.
pub async fn test_target(subject: &TestSubject, store: Arc<dyn Store>) -> TestReport {
    match subject.settings.kind {
        TargetKind::Scim => test_scim(subject, store).await,
        TargetKind::Ldap => ldap::test(subject, store).await,
        TargetKind::Sql | TargetKind::Rest => generic::test(subject, store).await,
    }
}

async fn test_scim(subject: &TestSubject, store: Arc<dyn Store>) -> TestReport {
    let base_url = subject.options.base_url.clone();
    let finish = |steps, why| TestReport::finish(&subject.name, &base_url, &Step::SCIM, steps, why);
    let once = ClientOptions {
        retry: RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        },
        ..subject.options.clone()
    };
    let client = match ScimClient::new(once) {
        Ok(c) => c.with_rate_limit(subject.rate.clone()),
        Err(e) => {
            let step = StepReport::new(Step::Reachability, Status::Failed, e.to_string());
            return finish(vec![step], Some("the client cannot be built"));
        }
    };
    let mut steps = Vec::new();
    match client.reach().await {
        Ok(status) => steps.push(StepReport::new(
            Step::Reachability,
            Status::Ok,
            format!("the target answers (HTTP {status} to GET /ServiceProviderConfig without credentials)"),
        )),
        Err(e) => {
            let mut step = StepReport::new(Step::Reachability, Status::Failed, e.to_string());
            step.unreachable = Some(e.kind);
            steps.push(step);
            return finish(steps, Some("the target cannot be reached"));
        }
    }
    let kinds = subject.kinds();
    let probe_kind = kinds.first().copied().unwrap_or(ResourceKind::User);
    let access = client.check_access(probe_kind).await;
    let refused = matches!(access, Err(ConnectorError::Unauthorized { .. }));
    steps.push(authentication(access, probe_kind));
    if refused {
        return finish(steps, Some("the target refused the credentials"));
    }
    steps.push(service_provider_config(
        client.service_provider_config().await,
    ));
    let (step, published) = schemas(client.schemas().await);
    steps.push(step);
    let step = match published {
        None => StepReport::new(
            Step::Mapping,
            Status::Skipped,
            "needs the target's /Schemas",
        ),
        Some(published) => mapping(subject, &kinds, &published, store).await,
    };
    steps.push(step);
    finish(steps, None)
}

fn authentication(access: Result<(), ConnectorError>, kind: ResourceKind) -> StepReport {
    let endpoint = kind.endpoint();
    match access {
        Ok(()) => StepReport::new(
            Step::Authentication,
            Status::Ok,
            format!("the credentials are accepted (GET /{endpoint}?count=1)"),
        ),
        Err(e @ ConnectorError::Unauthorized { .. }) => {
            StepReport::new(Step::Authentication, Status::Failed, e.to_string())
        }
        Err(e) => StepReport::new(
            Step::Authentication,
            Status::Failed,
            format!("GET /{endpoint}?count=1 failed: {e}"),
        ),
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn service_provider_config(spc: Result<Option<TargetLimits>, ConnectorError>) -> StepReport {
    match spc {
        Ok(Some(l)) => {
            let bulk = if l.bulk {
                format!("yes (up to {} operations)", l.bulk_max_operations)
            } else {
                "no".into()
            };
            let filter = if l.filter {
                format!("yes (pages of {})", l.max_results)
            } else {
                "no".into()
            };
            let detail = format!(
                "PATCH {}, bulk {bulk}, filter {filter}, ETags {}",
                yes_no(l.patch),
                yes_no(l.etag)
            );
            let mut step = StepReport::new(Step::ServiceProviderConfig, Status::Ok, detail);
            step.features = Some(l);
            step
        }
        Ok(None) => StepReport::new(
            Step::ServiceProviderConfig,
            Status::Warning,
            "the target has no /ServiceProviderConfig (404): scimhub assumes no PATCH, bulk, \
             filter or ETags",
        ),
        Err(e) => StepReport::new(Step::ServiceProviderConfig, Status::Failed, e.to_string()),
    }
}

fn schemas(
    answer: Result<Option<Value>, ConnectorError>,
) -> (StepReport, Option<PublishedSchemas>) {
    let body = match answer {
        Ok(Some(body)) => body,
        Ok(None) => {
            let detail = "the target has no /Schemas (404): the mapping cannot be checked \
                          against its types";
            return (
                StepReport::new(Step::Schemas, Status::Warning, detail),
                None,
            );
        }
        Err(e) => {
            return (
                StepReport::new(Step::Schemas, Status::Failed, e.to_string()),
                None,
            );
        }
    };
    match PublishedSchemas::parse(&body) {
        Ok(published) => {
            let ids: Vec<String> = published.schemas.iter().map(|s| s.id.clone()).collect();
            let detail = format!("{} schemas published", ids.len());
            let mut step = StepReport::new(Step::Schemas, Status::Ok, detail);
            step.schemas = ids;
            (step, Some(published))
        }
        Err(m) => {
            let detail = format!("the /Schemas answer cannot be read: {m}");
            (StepReport::new(Step::Schemas, Status::Failed, detail), None)
        }
    }
}

/// The first few local resources of each kind in the target's scope, as SCIM JSON.
fn read_samples(
    store: &dyn Store,
    user_scope: Option<Filter>,
    group_scope: Option<Filter>,
    kinds: &[ResourceKind],
) -> Result<Vec<(ResourceKind, Value)>, StoreError> {
    let query = |filter: Option<Filter>| ListQuery {
        filter,
        window: Window::Index {
            offset: 0,
            count: SAMPLE_SIZE,
        },
        with_members: false,
        with_groups: true,
        ..ListQuery::all()
    };
    let mut out = Vec::new();
    if kinds.contains(&ResourceKind::User) {
        let users = store.list_users(&query(user_scope))?.items;
        out.extend(users.iter().map(|u| (ResourceKind::User, u.to_scim(""))));
    }
    if kinds.contains(&ResourceKind::Group) {
        let groups = store.list_groups(&query(group_scope))?.items;
        out.extend(groups.iter().map(|g| (ResourceKind::Group, g.to_scim(""))));
    }
    Ok(out)
}

pub(crate) fn sample_label(kind: ResourceKind, resource: &Value) -> String {
    let name = match kind {
        ResourceKind::User => &resource["userName"],
        ResourceKind::Group | ResourceKind::Department | ResourceKind::Plain(_) => {
            &resource["displayName"]
        }
    };
    match name.as_str().or_else(|| resource["id"].as_str()) {
        Some(s) => format!("{s:?}"),
        None => "(unnamed)".into(),
    }
}

/// `read_samples` on the blocking pool.
pub(crate) async fn samples(
    subject: &TestSubject,
    kinds: &[ResourceKind],
    store: Arc<dyn Store>,
) -> Result<Vec<(ResourceKind, Value)>, String> {
    let (users, groups, wanted) = (
        subject.user_scope.clone(),
        subject.group_scope.clone(),
        kinds.to_vec(),
    );
    crate::blocking::blocking(move || {
        read_samples(store.as_ref(), users, groups, &wanted).map_err(anyhow::Error::from)
    })
    .await
    .map_err(|e| e.to_string())
}

async fn mapping(
    subject: &TestSubject,
    kinds: &[ResourceKind],
    published: &PublishedSchemas,
    store: Arc<dyn Store>,
) -> StepReport {
    let samples = match samples(subject, kinds, store).await {
        Ok(samples) => samples,
        Err(e) => {
            let detail = format!("cannot read local resources to try the mapping on: {e}");
            return StepReport::new(Step::Mapping, Status::Failed, detail);
        }
    };
    let mut problems: Vec<TypeProblem> = Vec::new();
    let mut rules = 0;
    for &kind in kinds {
        let rm = subject.mapping.for_kind(kind);
        rules += rm.rules.len();
        let mine: Vec<Sample<'_>> = samples
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(k, r)| Sample {
                label: sample_label(*k, r),
                resource: r,
            })
            .collect();
        problems.extend(typecheck::check(rm, published, &mine));
    }
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    let warnings = problems.len() - errors;
    let status = match (errors, warnings) {
        (0, 0) => Status::Ok,
        (0, _) => Status::Warning,
        _ => Status::Failed,
    };
    let detail = format!(
        "{rules} rules checked against the target's schemas and tried on {} local resources: \
         {errors} errors, {warnings} warnings",
        samples.len()
    );
    let mut step = StepReport::new(Step::Mapping, status, detail);
    step.problems = problems;
    step
}

/// Tests a stored target, sharing its rate limiter with the process's
/// runs and workers (`rates`).
pub async fn test_stored(
    store: Arc<dyn Store>,
    sync: Arc<dyn SyncStore>,
    key: Option<&SecretKey>,
    rates: &RateLimits,
    name: &str,
) -> Result<TestReport, TargetError> {
    let owned = name.to_string();
    let record = blocking(move || Ok(sync.find_target(&owned)?))
        .await?
        .ok_or_else(|| TargetError::Unknown(name.to_string()))?;
    let key = key.ok_or(TargetError::NoSecretKey)?;
    let loaded = LoadedTarget::load(record)?;
    let subject = TestSubject::stored(&loaded, key, rates)?;
    Ok(test_target(&subject, store).await)
}

/// Why a tested add or update stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum TestedError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(
        "the target test failed, so nothing was stored (fix it, or add it untested with \
         --no-test / \"test\": false): {}",
        .0.failures()
    )]
    AddFailed(Box<TestReport>),
    #[error(
        "the target test failed, so nothing was changed (fix it, or update it untested with \
         --no-test / \"test\": false): {}",
        .0.failures()
    )]
    UpdateFailed(Box<TestReport>),
}

/// `target add`: tests the new target first (unless `test` is false) and
/// stores it only when no step failed.
pub async fn add_tested(
    store: Arc<dyn Store>,
    sync: Arc<dyn SyncStore>,
    key: Option<SecretKey>,
    new: NewTarget,
    test: bool,
) -> Result<TargetView, TestedError> {
    let checked =
        check_settings(&new.settings).map_err(|e| TargetError::Invalid(format!("{e:#}")))?;
    check_departments(&store, &checked).await?;
    if test {
        if key.is_none() {
            return Err(TargetError::NoSecretKey.into());
        }
        let report = test_target(&TestSubject::new_target(&new)?, store).await;
        if !report.ok {
            return Err(TestedError::AddFailed(Box::new(report)));
        }
    }
    Ok(blocking(move || target::add(sync.as_ref(), key.as_ref(), new)).await?)
}

/// `target update`: applies `changes` to `before` and, when they give the
/// target a new URL or new credentials (and `test` is true), tests the
/// changed target before storing it; a failed step changes nothing.
pub async fn update_tested(
    store: Arc<dyn Store>,
    sync: Arc<dyn SyncStore>,
    key: Option<SecretKey>,
    rates: &RateLimits,
    before: TargetRecord,
    changes: TargetChanges,
    test: bool,
) -> Result<TargetView, TestedError> {
    let new_credentials = changes.credentials.is_some();
    let after = target::apply(before.clone(), key.as_ref(), changes)?;
    let settings = target::view(&after)
        .map_err(TargetError::Internal)?
        .settings;
    check_departments(&store, &settings).await?;
    let reaches_differently = new_credentials || after.base_url != before.base_url;
    if test && (reaches_differently || after.mapping != before.mapping) {
        let key = key.as_ref().ok_or(TargetError::NoSecretKey)?;
        let loaded = LoadedTarget::load(after.clone()).map_err(TargetError::Internal)?;
        let subject = TestSubject::stored(&loaded, key, rates).map_err(TargetError::Internal)?;
        let report = test_target(&subject, store).await;
        if !report.ok {
            return Err(TestedError::UpdateFailed(Box::new(report)));
        }
    }
    Ok(blocking(move || target::save(sync.as_ref(), &after)).await?)
}

/// The departments the settings name exist (checked before anything else
/// is tried or stored).
async fn check_departments(
    store: &Arc<dyn Store>,
    settings: &TargetSettings,
) -> Result<(), TargetError> {
    let (store, settings) = (store.clone(), settings.clone());
    blocking(move || crate::provision::departments::check(store.as_ref(), &settings)).await
}

/// `crate::blocking::blocking` with target errors.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, TargetError> + Send + 'static,
) -> Result<T, TargetError> {
    crate::blocking::blocking(work).await
}
