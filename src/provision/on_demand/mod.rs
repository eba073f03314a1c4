//! Provisioning one user on demand (`scimhub sync user`, `POST
//! /admin/v1/targets/{name}/provision`): the user, then each group it is a
//! direct member of, pushed now through the real-time worker's `Session`
//! with a step recorder — whatever the schedule or the target's state
//! (a quarantined target only when forced). The id map is updated as the
//! worker would, so the worker does not push them again. A dry run shows
//! the same steps and writes nothing (neither the target nor the id map).
//!
//! Unlike the worker, it never deprovisions: a user out of scope is
//! reported and left as it is.

mod recorder;
mod report;
pub mod text;

use std::sync::Arc;

pub use recorder::Recorder;
pub use report::{MatchHow, ObjectReport, Outcome, ProvisionReport, Step};

use crate::crypto::SecretKey;
use crate::provision::client::{ExchangeSink, RateLimits};
use crate::provision::runs::source::LocalOne;
use crate::provision::runs::{LoadedTarget, SyncError, blocking};
use crate::provision::worker::queue;
use crate::provision::worker::{PushError, Pushed, Session};
use crate::scim::ResourceKind;
use crate::scim::filter::{AttrPath, CompValue, CompareOp, Filter};
use crate::store::{
    ListQuery, QuarantineRecord, Store, StoreError, StoredUser, SyncStore, TargetRecord,
    TargetState,
};

#[derive(Debug, Clone, Copy, Default)]
pub struct ProvisionOptions {
    /// Show the steps; write nothing.
    pub dry_run: bool,
    /// Push to a quarantined target too.
    pub force: bool,
}

/// The user by id, else by userName (with its groups).
fn find_user(store: &dyn Store, user: &str) -> Result<Option<StoredUser>, StoreError> {
    match store.get_user(user, true) {
        Ok(found) => return Ok(Some(found)),
        Err(StoreError::NotFound) => {}
        Err(e) => return Err(e),
    }
    let query = ListQuery {
        filter: Some(Filter::Compare {
            path: AttrPath::new("userName"),
            op: CompareOp::Eq,
            value: CompValue::String(user.to_string()),
        }),
        with_groups: true,
        ..ListQuery::all()
    };
    Ok(store.list_users(&query)?.items.into_iter().next())
}

fn user_name(user: &StoredUser) -> Option<String> {
    let name = user.attributes.get("userName")?.as_str()?;
    Some(name.to_string())
}

/// Notes on the target's state; an error for a quarantined one unless forced.
fn state_notes(
    record: &TargetRecord,
    quarantine: Option<&QuarantineRecord>,
    force: bool,
) -> Result<(String, Vec<String>), SyncError> {
    let name = &record.name;
    if let Some(q) = quarantine {
        if !force {
            return Err(SyncError::Conflict(format!(
                "target {name:?} is quarantined ({}); nothing was pushed. Release it \
                 (scimhub target release {name}) or push anyway with --force (\"force\": true)",
                q.reason
            )));
        }
        let note = format!(
            "target {name:?} is quarantined ({}): pushed anyway (forced)",
            q.reason
        );
        return Ok(("quarantined".into(), vec![note]));
    }
    let note = match record.state {
        TargetState::New => Some(format!(
            "target {name:?} is new (its initial full run has not happened): pushed anyway; \
             that run finds these objects linked"
        )),
        TargetState::Paused => Some(format!(
            "target {name:?} is paused: real-time pushes wait behind its cursor; this one \
             goes now"
        )),
        TargetState::Active => None,
    };
    Ok((record.state.as_str().into(), note.into_iter().collect()))
}

fn outcome_of(pushed: &Pushed) -> Outcome {
    match pushed {
        Pushed::Created => Outcome::Created,
        Pushed::Linked => Outcome::Linked,
        Pushed::Unchanged => Outcome::Unchanged,
        Pushed::Nothing => Outcome::NotAllowed,
        // `upsert` never deprovisions; these come from `push` only.
        Pushed::Updated | Pushed::Deactivated | Pushed::Deleted | Pushed::Held(_) => {
            Outcome::Updated
        }
    }
}

/// Pushes one object (if in scope) and reports its steps.
async fn push_object(
    session: &Session,
    recorder: &Recorder,
    kind: ResourceKind,
    local_id: &str,
    name: Option<String>,
) -> Result<ObjectReport, SyncError> {
    let local = session.load(kind, local_id).await?;
    recorder.note(Step::scope(&session.target, kind, &local));
    let link = session.link(kind, local_id).await?;
    let outcome = match local {
        LocalOne::InScope(source) => match session.upsert(kind, source, link).await {
            Ok(pushed) => outcome_of(&pushed),
            Err(PushError::Target(failure)) => {
                recorder.note(Step::Failed {
                    operation: failure.operation.to_string(),
                    error: failure.error.to_string(),
                });
                Outcome::Failed
            }
            Err(PushError::Internal(e)) => return Err(e),
        },
        LocalOne::OutOfScope(_) | LocalOne::Gone => {
            let reason = match &link {
                Some(l) => format!(
                    "linked to {}; left as it is (the real-time worker or a full run \
                     deprovisions it)",
                    l.remote_id
                ),
                None => "not on the target: nothing to send".into(),
            };
            recorder.note(Step::Skipped { reason });
            match local {
                LocalOne::Gone => Outcome::Gone,
                _ => Outcome::OutOfScope,
            }
        }
    };
    if outcome.on_target() && !recorder.dry_run() {
        // In sync now: a queued retry of it has nothing left to do.
        queue::resolve(&session.sync, &session.target.record.id, kind, local_id).await?;
    }
    let remote_id = session.link(kind, local_id).await?.map(|l| l.remote_id);
    Ok(ObjectReport {
        resource_type: kind.as_str().to_string(),
        local_id: local_id.to_string(),
        name,
        outcome,
        remote_id,
        steps: recorder.take(),
    })
}

/// Pushes `user` (a userName or id) and its direct groups in scope to
/// `target_name` now, step by step.
pub async fn provision_user(
    store: Arc<dyn Store>,
    sync: Arc<dyn SyncStore>,
    key: Option<&SecretKey>,
    rates: &RateLimits,
    target_name: &str,
    user: &str,
    options: ProvisionOptions,
) -> Result<ProvisionReport, SyncError> {
    let (reader, sync_reader) = (store.clone(), sync.clone());
    let (name, wanted) = (target_name.to_string(), user.to_string());
    let (record, quarantine, found) = blocking(move || {
        let record = sync_reader
            .find_target(&name)?
            .ok_or(SyncError::UnknownTarget(name))?;
        let quarantine = sync_reader.quarantine(&record.id)?;
        let found = find_user(reader.as_ref(), &wanted)?;
        Ok((record, quarantine, found))
    })
    .await?;
    let found = found.ok_or_else(|| SyncError::UnknownUser(user.to_string()))?;
    let (target_state, mut notes) = state_notes(&record, quarantine.as_ref(), options.force)?;
    let target = Arc::new(LoadedTarget::load(record)?);
    let recorder = Arc::new(Recorder::new(options.dry_run));
    let recording: (Arc<dyn ExchangeSink>, bool) = (recorder.clone(), options.dry_run);
    let connector = target.connector(key, rates, Some(recording))?;
    let session = Session::open(target.clone(), connector, store, sync)
        .await?
        .with_recorder(recorder.clone());
    // Reading the target's capabilities to open the session is no object's step.
    recorder.take();

    let kind = ResourceKind::User;
    let user_report = push_object(&session, &recorder, kind, &found.id, user_name(&found)).await?;
    let user_on_target = user_report.outcome.on_target();
    let mut objects = vec![user_report];
    let groups: Vec<_> = found.groups.iter().filter(|g| g.direct).collect();
    if !user_on_target && !groups.is_empty() {
        notes.push(format!(
            "its {} group(s) were not pushed: the user was not",
            groups.len()
        ));
    }
    if user_on_target {
        for group in groups {
            let kind = ResourceKind::Group;
            let report = push_object(
                &session,
                &recorder,
                kind,
                &group.group_id,
                group.display.clone(),
            )
            .await?;
            objects.push(report);
        }
    }
    Ok(ProvisionReport {
        target: target.record.name.clone(),
        target_state,
        dry_run: options.dry_run,
        notes,
        ok: objects.iter().all(|o| o.outcome != Outcome::Failed),
        objects,
    })
}
