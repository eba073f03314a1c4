//! The import engine: one run of a source (read, intake, plan, apply
//! through `IntakeWrites`, failure list, report), approval or rejection of
//! the deprovisions a run held back, and the preview `source test` shows.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::apply::Apply;
use super::authority::{OwnedKey, owned_keys};
use super::error::{SourceError, blocking};
use super::file::FileInput;
use super::index;
use super::intake::{self, IntakeRules, Prepared, Reason, RecordMapping, Refusal};
use super::live;
use super::loaded::LoadedSource;
use super::plan::{self, Action, PlanRules};
use super::reader::{RawRecord, ReadError, read_all};
use super::report::{
    HeldRecord, ImportCounts, ImportReport, KeptRecord, LIST_LIMIT, PlanLists, PlannedRecord,
    RefusedRecord, RunStatus,
};
use super::settings::{RunMode, SourceKind};
use super::writes::{WriteError, WritesFor};
use crate::crypto::SecretKey;
use crate::provision::mapping::cleanse;
use crate::provision::runs::live::Recorder;
use crate::provision::runs::{Progress, Tick};
use crate::scim::ResourceKind;
use crate::scim::registry::ORGANIZATION_USER_SCHEMA;
use crate::scim::render::format_time;
use crate::store::{
    SourceFailureRecord, SourceLinkRecord, SourceRunRecord, SourceStore, Store, SyncStore,
};

/// A run blocks the next one of its source for at most this long if it dies.
const RUN_LEASE: std::time::Duration = std::time::Duration::from_secs(900);

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub mode: RunMode,
    /// Plan and report; write nothing (not even the failure list).
    pub dry_run: bool,
    /// Who or what started it: `cli`, `api`, `console`, `upload`, `schedule`, `watch`.
    pub trigger: String,
    /// A file to import instead of the file source's `path`.
    pub upload: Option<FileInput>,
}

/// What `source test` shows of one record: the resource it maps to, or why
/// it would be refused.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewRecord {
    pub resource_type: String,
    pub locator: String,
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    pub source: String,
    /// The source could be read and its records mapped.
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub records: Vec<PreviewRecord>,
}

#[derive(Clone)]
pub struct ImportEngine {
    store: Arc<dyn Store>,
    sources: Arc<dyn SourceStore>,
    sync: Arc<dyn SyncStore>,
    key: Option<SecretKey>,
    writes: WritesFor,
}

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

fn no_progress() -> Progress {
    Arc::new(|_| {})
}

/// The actor imported changes carry in the change log and audit trail.
pub fn actor_of(source: &str) -> String {
    format!("source:{source}")
}

fn lease_name(source_id: &str) -> String {
    format!("source-run:{source_id}")
}

/// The failure list's entry for a refusal; a duplicate id gets its place
/// in the key, so it does not stand in for the record that holds the id.
fn failure_record(r: &Refusal, run_id: &str, at: DateTime<Utc>) -> SourceFailureRecord {
    let record_key = match (&r.key, r.reason) {
        (Some(k), Reason::DuplicateId) => format!("{k} @ {}", r.locator),
        (Some(k), _) => k.clone(),
        (None, _) => r.locator.clone(),
    };
    SourceFailureRecord {
        resource_type: r.kind.as_str().to_string(),
        record_key,
        locator: r.locator.clone(),
        reason: r.reason.as_str().to_string(),
        detail: r.detail.clone(),
        raw: r.raw.to_string(),
        run_id: run_id.to_string(),
        first_seen: at,
        last_seen: at,
    }
}

/// The mappings and rules of one run.
struct Intake {
    users: RecordMapping,
    groups: RecordMapping,
    departments: RecordMapping,
    user_keys: Vec<OwnedKey>,
    group_keys: Vec<OwnedKey>,
    department_keys: Vec<OwnedKey>,
}

impl Intake {
    fn mapping(&self, kind: ResourceKind) -> &RecordMapping {
        match kind {
            ResourceKind::User => &self.users,
            ResourceKind::Group => &self.groups,
            ResourceKind::Department | ResourceKind::Plain(_) => &self.departments,
        }
    }
}

/// Maps and checks every record (CPU work: run it off the async workers).
fn prepare_all(
    source: &LoadedSource,
    intake: &Intake,
    records: Vec<RawRecord>,
) -> (Vec<Prepared>, Vec<Refusal>) {
    let region = source
        .settings
        .phone_region
        .as_deref()
        .and_then(cleanse::region);
    let rules = |kind: ResourceKind| IntakeRules {
        mapping: intake.mapping(kind),
        key_field: source.settings.key_field(source.kind, kind),
        region,
        required: &source.settings.required,
    };
    let (users, groups, departments) = (
        rules(ResourceKind::User),
        rules(ResourceKind::Group),
        rules(ResourceKind::Department),
    );
    let mut prepared = Vec::with_capacity(records.len());
    let mut refused = Vec::new();
    // The first record with an id stands, refused or not; later ones are duplicates.
    let mut seen: HashSet<(ResourceKind, String)> = HashSet::new();
    for r in records {
        let rules = match r.kind {
            ResourceKind::User => &users,
            ResourceKind::Group => &groups,
            ResourceKind::Department | ResourceKind::Plain(_) => &departments,
        };
        let outcome = intake::prepare(rules, r);
        let (kind, key) = match &outcome {
            Ok(p) => (p.kind, Some(p.key.clone())),
            Err(e) => (e.kind, e.key.clone()),
        };
        if let Some(key) = key
            && !seen.insert((kind, key.clone()))
        {
            let mut duplicate = match outcome {
                Ok(p) => p.refuse(Reason::DuplicateId, String::new()),
                Err(e) => *e,
            };
            duplicate.reason = Reason::DuplicateId;
            duplicate.detail = format!("an earlier record of this import has the id {key:?}");
            refused.push(duplicate);
            continue;
        }
        match outcome {
            Ok(p) => prepared.push(p),
            Err(e) => refused.push(*e),
        }
    }
    (prepared, refused)
}

fn planned_record(p: &Prepared, local_id: Option<&str>) -> PlannedRecord {
    PlannedRecord {
        resource_type: p.kind.as_str().to_string(),
        key: p.key.clone(),
        name: p.name(),
        local_id: local_id.map(str::to_string),
    }
}

/// A run failed as a whole: its message for the report.
struct RunFailed(String);

impl From<ReadError> for RunFailed {
    fn from(e: ReadError) -> Self {
        RunFailed(e.to_string())
    }
}

impl From<SourceError> for RunFailed {
    fn from(e: SourceError) -> Self {
        tracing::error!(error = %format!("{e:#}"), "an import run failed");
        RunFailed(format!("{e:#}"))
    }
}

impl ImportEngine {
    pub fn new(
        store: Arc<dyn Store>,
        sources: Arc<dyn SourceStore>,
        sync: Arc<dyn SyncStore>,
        key: Option<SecretKey>,
        writes: WritesFor,
    ) -> Self {
        Self {
            store,
            sources,
            sync,
            key,
            writes,
        }
    }

    async fn load(&self, name: &str) -> Result<LoadedSource, SourceError> {
        let (sources, owned) = (self.sources.clone(), name.to_string());
        let record = blocking(move || Ok(sources.find_source(&owned)?)).await?;
        let record = record.ok_or_else(|| SourceError::Unknown(name.to_string()))?;
        LoadedSource::load(record)
    }

    async fn save(
        &self,
        report: &ImportReport,
        source_id: &str,
        create: bool,
    ) -> Result<(), SourceError> {
        let record =
            live::run_record(report, source_id).map_err(|e| SourceError::Internal(e.into()))?;
        let sources = self.sources.clone();
        blocking(move || {
            if create {
                sources.create_source_run(&record)?;
            } else {
                sources.update_source_run(&record)?;
            }
            Ok(())
        })
        .await
    }

    /// Stores the run as `running`, holding the source's run lease (dry
    /// runs hold none).
    async fn start(
        &self,
        source: &LoadedSource,
        options: &ImportOptions,
    ) -> Result<ImportReport, SourceError> {
        let id = uuid::Uuid::new_v4().to_string();
        // Files are read whole every time.
        let mode = if source.kind == SourceKind::File {
            RunMode::Full
        } else {
            options.mode
        };
        if !options.dry_run {
            let (sync, name, holder) =
                (self.sync.clone(), lease_name(&source.record.id), id.clone());
            let ttl =
                chrono::Duration::from_std(RUN_LEASE).unwrap_or(chrono::Duration::minutes(15));
            let got = blocking(move || Ok(sync.try_lease(&name, &holder, ttl)?)).await?;
            if !got {
                return Err(SourceError::Conflict(format!(
                    "a run of source {:?} is going on; wait for it to end",
                    source.record.name
                )));
            }
        }
        let report = ImportReport {
            id,
            source: source.record.name.clone(),
            mode,
            trigger: options.trigger.clone(),
            dry_run: options.dry_run,
            status: RunStatus::Running,
            started: format_time(&now()),
            finished: None,
            counts: ImportCounts::default(),
            failures: Vec::new(),
            plan: None,
            held: Vec::new(),
            kept: Vec::new(),
            error: None,
            decided_by: None,
            progress: None,
        };
        self.save(&report, &source.record.id, true).await?;
        Ok(report)
    }

    /// Carries out a started run to its end and stores the report.
    async fn finish(
        &self,
        source: LoadedSource,
        mut report: ImportReport,
        options: ImportOptions,
        progress: Progress,
    ) -> Result<ImportReport, SourceError> {
        let sink = live::progress_sink(
            self.sources.clone(),
            report.clone(),
            source.record.id.clone(),
        );
        let recorder = Recorder::start_with(report.id.clone(), sink);
        let progress = recorder.hook(progress);
        let executed = self.execute(&source, &mut report, options, progress).await;
        // No progress is written after this: the report below is the last word.
        recorder.finish().await;
        if let Err(RunFailed(message)) = executed {
            report.status = RunStatus::Failed;
            report.error = Some(message);
        }
        report.finished = Some(format_time(&now()));
        let saved = self.save(&report, &source.record.id, false).await;
        if !report.dry_run {
            let (sync, name, holder) = (
                self.sync.clone(),
                lease_name(&source.record.id),
                report.id.clone(),
            );
            let _ = blocking(move || Ok(sync.release_lease(&name, &holder)?)).await;
        }
        saved?;
        Ok(report)
    }

    /// Runs an import now, to its end.
    pub async fn run(
        &self,
        name: &str,
        options: ImportOptions,
        progress: Option<Progress>,
    ) -> Result<ImportReport, SourceError> {
        let source = self.load(name).await?;
        let report = self.start(&source, &options).await?;
        self.finish(
            source,
            report,
            options,
            progress.unwrap_or_else(no_progress),
        )
        .await
    }

    /// Starts an import on a spawned task; the report says `running`.
    pub async fn spawn(
        &self,
        name: &str,
        options: ImportOptions,
    ) -> Result<ImportReport, SourceError> {
        let source = self.load(name).await?;
        let report = self.start(&source, &options).await?;
        let (engine, shown) = (self.clone(), report.clone());
        tokio::spawn(async move {
            if let Err(e) = engine.finish(source, report, options, no_progress()).await {
                tracing::error!(error = %format!("{e:#}"), "an import run could not be finished");
            }
        });
        Ok(shown)
    }

    /// The mappings and owned attributes of a run. A source that reads no
    /// departments leaves people's departments alone.
    fn intake(
        &self,
        source: &LoadedSource,
        records: &[RawRecord],
        reads_departments: bool,
    ) -> Result<Intake, ReadError> {
        let mapping = |kind: ResourceKind| {
            source
                .record_mapping(kind, records)
                .map_err(|m| ReadError::Config(format!("source {:?}: {m}", source.record.name)))
        };
        let users = mapping(ResourceKind::User)?;
        let groups = mapping(ResourceKind::Group)?;
        let departments = mapping(ResourceKind::Department)?;
        let owns = &source.settings.owns;
        let mut user_keys = owned_keys(ResourceKind::User, owns, &users.targets());
        if !reads_departments {
            user_keys.retain(|k| {
                !matches!(k, OwnedKey::Extension { uri, .. } if uri == ORGANIZATION_USER_SCHEMA)
            });
        }
        Ok(Intake {
            user_keys,
            group_keys: owned_keys(ResourceKind::Group, owns, &groups.targets()),
            department_keys: owned_keys(ResourceKind::Department, owns, &departments.targets()),
            users,
            groups,
            departments,
        })
    }

    /// Reads every record of the source (or what changed since the watermark).
    async fn read(
        &self,
        source: &LoadedSource,
        mode: RunMode,
        upload: Option<FileInput>,
        progress: &Progress,
    ) -> Result<(Box<dyn super::reader::SourceReader>, Vec<RawRecord>), RunFailed> {
        let since = match mode {
            RunMode::Incremental => source.record.watermark.clone(),
            RunMode::Full => None,
        };
        let key = self.key.clone();
        let loaded = source.clone();
        let mut reader = crate::blocking::blocking(move || {
            loaded.reader(key.as_ref(), since.as_deref(), upload)
        })
        .await?;
        let shown = progress.clone();
        let records = read_all(reader.as_mut(), |n| {
            shown(Tick {
                phase: "reading",
                done: n,
                total: 0,
                failed: 0,
            })
        })
        .await?;
        Ok((reader, records))
    }

    async fn execute(
        &self,
        source: &LoadedSource,
        report: &mut ImportReport,
        options: ImportOptions,
        progress: Progress,
    ) -> Result<(), RunFailed> {
        let timed = |phase: &str, since: std::time::Instant| {
            let ms = since.elapsed().as_millis() as u64;
            tracing::debug!(source = %source.record.name, phase, ms, "import phase");
        };
        let at = std::time::Instant::now();
        let (mut reader, records) = self
            .read(source, report.mode, options.upload, &progress)
            .await?;
        timed("reading", at);
        progress(Tick {
            phase: "planning",
            done: 0,
            total: 0,
            failed: 0,
        });
        let at = std::time::Instant::now();
        report.counts.read = records.len();
        let intake = self.intake(source, &records, reader.reads(ResourceKind::Department))?;
        let loaded = source.clone();
        let (intake, mut prepared, refused) = blocking(move || {
            let (p, r) = prepare_all(&loaded, &intake, records);
            Ok((intake, p, r))
        })
        .await?;
        // References written the source's way (DNs) become record ids.
        let refs: Vec<String> = prepared
            .iter()
            .flat_map(|p| {
                p.manager
                    .iter()
                    .chain(&p.groups)
                    .chain(&p.members)
                    .chain(&p.parent)
                    .chain(&p.primary_department)
                    .chain(&p.departments)
            })
            .filter(|r| r.contains('='))
            .cloned()
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if !refs.is_empty() {
            let keys = reader.resolve(refs).await?;
            let key = |r: &mut String| {
                if let Some(k) = keys.get(r.as_str()) {
                    *r = k.clone();
                }
            };
            for p in &mut prepared {
                p.manager.iter_mut().for_each(key);
                p.groups.iter_mut().for_each(key);
                p.members.iter_mut().for_each(key);
                p.parent.iter_mut().for_each(key);
                p.primary_department.iter_mut().for_each(key);
                p.departments.iter_mut().for_each(key);
            }
        }
        timed("intake", at);
        let at = std::time::Instant::now();
        let complete = reader.complete();
        let (reads_users, reads_groups, reads_departments) = (
            reader.reads(ResourceKind::User),
            reader.reads(ResourceKind::Group),
            reader.reads(ResourceKind::Department),
        );
        let (sources, record) = (self.sources.clone(), source.record.clone());
        let settings = source.settings.clone();
        let (intake, index, plan) = blocking(move || {
            let index = index::load(sources.as_ref(), &record)?;
            let rules = PlanRules {
                user_keys: &intake.user_keys,
                group_keys: &intake.group_keys,
                department_keys: &intake.department_keys,
                complete,
                join_existing: settings.join_existing,
                reads_users,
                reads_groups,
                reads_departments,
            };
            let plan = plan::plan(&rules, prepared, refused, &index);
            Ok((intake, index, plan))
        })
        .await?;

        timed("index and plan", at);
        let hold = !report.dry_run
            && source.settings.guard.trips(
                plan.withdrawn.len(),
                index.links.values().filter(|l| !l.hash.is_empty()).count(),
            );
        if report.dry_run {
            self.report_plan(report, &plan);
            report.status = RunStatus::Planned;
            return Ok(());
        }
        let writes = (self.writes)(&actor_of(&source.record.name));
        let apply = Apply {
            writes: writes.as_ref(),
            store: self.store.clone(),
            sources: self.sources.clone(),
            source_id: source.record.id.clone(),
            user_keys: &intake.user_keys,
            group_keys: &intake.group_keys,
            department_keys: &intake.department_keys,
            complete,
            progress,
        };
        let applied = apply.run(&plan, &index, hold).await?;
        let mut refusals = plan.refusals;
        refusals.extend(applied.refusals);
        report.counts = ImportCounts {
            read: report.counts.read,
            failed: refusals.len(),
            held: if hold { plan.withdrawn.len() } else { 0 },
            ..applied.counts
        };
        report.failures = refusals
            .iter()
            .take(LIST_LIMIT)
            .map(RefusedRecord::from)
            .collect();
        if hold {
            report.held = plan.withdrawn.iter().map(HeldRecord::from).collect();
        }
        report.kept = applied.kept;
        let at = std::time::Instant::now();
        self.keep_failures(source, &report.id, &refusals, complete, applied.imported)
            .await?;
        timed("failure list", at);
        if let Some(mark) = reader.watermark() {
            let (sources, id) = (self.sources.clone(), source.record.id.clone());
            blocking(move || Ok(sources.set_watermark(&id, Some(&mark))?)).await?;
        }
        report.status = if hold {
            RunStatus::AwaitingApproval
        } else if refusals.is_empty() {
            RunStatus::Succeeded
        } else {
            RunStatus::CompletedWithFailures
        };
        Ok(())
    }

    /// A dry run's lists and refusals.
    fn report_plan(&self, report: &mut ImportReport, plan: &plan::Plan) {
        let mut lists = PlanLists::default();
        let c = &mut report.counts;
        let put = |list: &mut Vec<PlannedRecord>, count: &mut usize, p: &plan::Planned| {
            *count += 1;
            if list.len() < LIST_LIMIT {
                list.push(planned_record(&p.record, p.action.local_id()));
            }
        };
        let d = &mut c.departments;
        for p in &plan.departments {
            // A department may be renamed and moved at once.
            if p.moved {
                put(&mut lists.moves, &mut d.moved, p);
            }
            match p.action {
                Action::Create => d.created += 1,
                Action::Unchanged(_) => d.unchanged += 1,
                _ => d.updated += usize::from(p.attributes_changed),
            }
        }
        for p in plan
            .departments
            .iter()
            .chain(&plan.groups)
            .chain(&plan.users)
        {
            // Only moved: in the totals, not in the update list.
            if p.moved && !p.attributes_changed {
                c.updated += 1;
                continue;
            }
            let (list, count) = match &p.action {
                Action::Create => (&mut lists.create, &mut c.created),
                Action::Adopt(_) => (&mut lists.update, &mut c.linked),
                Action::Update(_) => (&mut lists.update, &mut c.updated),
                Action::Unchanged(_) => (&mut lists.unchanged, &mut c.unchanged),
            };
            put(list, count, p);
        }
        for w in &plan.withdrawn {
            match w.resource_kind() {
                ResourceKind::User => c.deactivated += 1,
                ResourceKind::Group => c.deleted += 1,
                ResourceKind::Department | ResourceKind::Plain(_) => {
                    c.deleted += 1;
                    c.departments.deleted += 1;
                }
            }
            if lists.deactivate.len() < LIST_LIMIT {
                lists.deactivate.push(PlannedRecord {
                    resource_type: w.kind.to_string(),
                    key: w.key.clone(),
                    name: String::new(),
                    local_id: Some(w.local_id.clone()),
                });
            }
        }
        c.failed = plan.refusals.len();
        report.failures = plan
            .refusals
            .iter()
            .take(LIST_LIMIT)
            .map(RefusedRecord::from)
            .collect();
        report.plan = Some(lists);
    }

    /// A full read replaces the failure list; an incremental one refreshes
    /// what it saw and drops what it imported.
    async fn keep_failures(
        &self,
        source: &LoadedSource,
        run_id: &str,
        refusals: &[Refusal],
        complete: bool,
        imported: Vec<(ResourceKind, String)>,
    ) -> Result<(), SourceError> {
        let at = now();
        let mut keys = HashSet::new();
        let mut failures: Vec<SourceFailureRecord> = Vec::with_capacity(refusals.len());
        for r in refusals {
            let mut f = failure_record(r, run_id, at);
            // One entry per key: a second one is told apart by where it was.
            if !keys.insert((f.resource_type.clone(), f.record_key.clone())) {
                f.record_key = format!("{} @ {}", f.record_key, f.locator);
                if !keys.insert((f.resource_type.clone(), f.record_key.clone())) {
                    continue;
                }
            }
            failures.push(f);
        }
        let (sources, id) = (self.sources.clone(), source.record.id.clone());
        blocking(move || {
            if complete {
                sources.replace_source_failures(&id, &failures)?;
            } else {
                let cleared: Vec<(String, String)> = imported
                    .into_iter()
                    .map(|(k, key)| (k.as_str().to_string(), key))
                    .collect();
                sources.merge_source_failures(&id, &failures, &cleared)?;
            }
            Ok(())
        })
        .await
    }

    pub async fn report(&self, run_id: &str) -> Result<ImportReport, SourceError> {
        Ok(self.run_record(run_id).await?.1)
    }

    async fn run_record(
        &self,
        run_id: &str,
    ) -> Result<(SourceRunRecord, ImportReport), SourceError> {
        let (sources, id) = (self.sources.clone(), run_id.to_string());
        let record = blocking(move || Ok(sources.get_source_run(&id)?))
            .await?
            .ok_or_else(|| SourceError::UnknownRun(run_id.to_string()))?;
        let report = serde_json::from_str(&record.report).map_err(|e| {
            SourceError::Internal(anyhow::anyhow!("stored run report is corrupt: {e}"))
        })?;
        Ok((record, report))
    }

    /// A source's runs, newest first.
    pub async fn runs(&self, name: &str, limit: u32) -> Result<Vec<ImportReport>, SourceError> {
        let source = self.load(name).await?;
        let (sources, id) = (self.sources.clone(), source.record.id.clone());
        let runs = blocking(move || Ok(sources.list_source_runs(&id, limit)?)).await?;
        runs.iter()
            .map(|r| {
                let mut report: ImportReport =
                    serde_json::from_str(&r.report).map_err(|e| SourceError::Internal(e.into()))?;
                // Lists are for the run's own report.
                report.failures.clear();
                report.plan = None;
                report.held.clear();
                report.kept.clear();
                Ok(report)
            })
            .collect()
    }

    /// Every source's runs awaiting approval, newest first, at most `limit`.
    pub async fn held(&self, limit: u32) -> Result<Vec<ImportReport>, SourceError> {
        let sources = self.sources.clone();
        let status = RunStatus::AwaitingApproval.as_str();
        let runs = blocking(move || Ok(sources.source_runs_in_status(status, limit)?)).await?;
        runs.iter()
            .map(|r| serde_json::from_str(&r.report).map_err(|e| SourceError::Internal(e.into())))
            .collect()
    }

    async fn held_run(&self, run_id: &str) -> Result<(SourceRunRecord, ImportReport), SourceError> {
        let (record, report) = self.run_record(run_id).await?;
        if report.status != RunStatus::AwaitingApproval {
            return Err(SourceError::Conflict(format!(
                "import run {run_id} is {}, not awaiting approval",
                report.status.as_str()
            )));
        }
        Ok((record, report))
    }

    /// Applies the deprovisions a run held back — those still supplied by
    /// nobody: a record that came back meanwhile is left alone.
    pub async fn approve(&self, run_id: &str, actor: &str) -> Result<ImportReport, SourceError> {
        let (record, mut report) = self.held_run(run_id).await?;
        let (sources, id) = (self.sources.clone(), record.source_id.clone());
        let links = blocking(move || {
            let mut all = HashMap::new();
            for kind in [
                ResourceKind::User,
                ResourceKind::Group,
                ResourceKind::Department,
            ] {
                for l in sources.source_links(&id, kind.as_str())? {
                    all.insert((kind.as_str().to_string(), l.external_key.clone()), l);
                }
            }
            Ok(all)
        })
        .await?;
        let writes = (self.writes)(&actor_of(&report.source));
        let mut withdrawn = Vec::new();
        for h in &report.held {
            let still = links
                .get(&(h.resource_type.clone(), h.key.clone()))
                .is_some_and(|l| l.local_id == h.local_id && !l.state_hash.is_empty());
            if !still {
                continue;
            }
            // Held in the run's order: departments last, deepest first.
            let kind = ResourceKind::parse(&h.resource_type).unwrap_or(ResourceKind::User);
            let result = match kind {
                ResourceKind::User => {
                    let ops = vec![json!({"op": "replace", "path": "active", "value": false})];
                    writes.patch_user(h.local_id.clone(), ops).await
                }
                ResourceKind::Group => writes.delete_group(h.local_id.clone()).await,
                ResourceKind::Department | ResourceKind::Plain(_) => {
                    writes.delete_department(h.local_id.clone()).await
                }
            };
            match result {
                Ok(()) => {
                    let c = &mut report.counts;
                    match kind {
                        ResourceKind::User => c.deactivated += 1,
                        ResourceKind::Group => c.deleted += 1,
                        ResourceKind::Department | ResourceKind::Plain(_) => {
                            c.deleted += 1;
                            c.departments.deleted += 1;
                        }
                    }
                    withdrawn.push(SourceLinkRecord {
                        resource_type: h.resource_type.clone(),
                        external_key: h.key.clone(),
                        local_id: h.local_id.clone(),
                        state_hash: String::new(),
                        refs: None,
                    });
                }
                Err(WriteError::Refused(detail)) if kind == ResourceKind::Department => {
                    report.counts.departments.kept += 1;
                    report.kept.push(KeptRecord {
                        resource_type: h.resource_type.clone(),
                        key: h.key.clone(),
                        local_id: h.local_id.clone(),
                        detail,
                    });
                }
                Err(WriteError::Refused(d)) => {
                    tracing::warn!(key = %h.key, error = %d, "an approved deprovision was refused");
                }
                Err(WriteError::Failed(e)) => return Err(e.into()),
            }
        }
        let (sources, id) = (self.sources.clone(), record.source_id.clone());
        blocking(move || Ok(sources.put_source_links(&id, &withdrawn)?)).await?;
        report.status = if report.counts.failed > 0 {
            RunStatus::CompletedWithFailures
        } else {
            RunStatus::Succeeded
        };
        report.counts.held = 0;
        report.decided_by = Some(actor.to_string());
        self.save(&report, &record.source_id, false).await?;
        Ok(report)
    }

    /// Leaves the held deprovisions undone.
    pub async fn reject(&self, run_id: &str, actor: &str) -> Result<ImportReport, SourceError> {
        let (record, mut report) = self.held_run(run_id).await?;
        report.status = RunStatus::Rejected;
        report.decided_by = Some(actor.to_string());
        self.save(&report, &record.source_id, false).await?;
        Ok(report)
    }

    /// Reads the source and maps its first `limit` records, writing nothing.
    pub async fn preview(
        &self,
        name: &str,
        limit: usize,
        upload: Option<FileInput>,
    ) -> Result<Preview, SourceError> {
        let source = self.load(name).await?;
        let mut preview = Preview {
            source: name.to_string(),
            ok: true,
            error: None,
            records: Vec::new(),
        };
        let (reader, records) = match self
            .read(&source, RunMode::Full, upload, &no_progress())
            .await
        {
            Ok(read) => read,
            Err(RunFailed(message)) => {
                preview.ok = false;
                preview.error = Some(message);
                return Ok(preview);
            }
        };
        let intake = match self.intake(&source, &records, reader.reads(ResourceKind::Department)) {
            Ok(i) => i,
            Err(e) => {
                preview.ok = false;
                preview.error = Some(e.to_string());
                return Ok(preview);
            }
        };
        let first: Vec<RawRecord> = records.into_iter().take(limit).collect();
        let (prepared, refused) = prepare_all(&source, &intake, first);
        for p in prepared {
            let mut resource = intake::with_schemas(p.kind, p.attributes.clone());
            if let Some(m) = &p.manager {
                resource.insert("manager (reference)".into(), json!(m));
            }
            if !p.groups.is_empty() {
                resource.insert("groups (references)".into(), json!(p.groups));
            }
            if !p.members.is_empty() {
                resource.insert("members (references)".into(), json!(p.members));
            }
            if let Some(parent) = &p.parent {
                resource.insert("parent (reference)".into(), json!(parent));
            }
            if let Some(d) = &p.primary_department {
                resource.insert("primaryDepartment (reference)".into(), json!(d));
            }
            if !p.departments.is_empty() {
                resource.insert("departments (references)".into(), json!(p.departments));
            }
            preview.records.push(PreviewRecord {
                resource_type: p.kind.as_str().to_string(),
                locator: p.locator,
                key: Some(p.key),
                resource: Some(Value::Object(resource)),
                reason: None,
                detail: None,
            });
        }
        for r in refused {
            preview.records.push(PreviewRecord {
                resource_type: r.kind.as_str().to_string(),
                locator: r.locator,
                key: r.key,
                resource: None,
                reason: Some(r.reason.as_str().to_string()),
                detail: Some(r.detail),
            });
        }
        Ok(preview)
    }
}
