//! `SyncStore` over the diesel connection pool.

use super::{
    DieselStore, changelog, sync_department_members, sync_deprovisions, sync_leases, sync_links,
    sync_queue, sync_queue_alerts, sync_runs, sync_targets,
};
use chrono::{DateTime, Duration, Utc};

use crate::store::{
    DepartmentMembership, FailureRecord, LinkRecord, QuarantineRecord, QueueDepth, QueueRecord,
    QueueSummary, RunRecord, StoreResult, SyncStore, TargetRecord, TargetState,
};

impl SyncStore for DieselStore {
    fn create_target(&self, target: TargetRecord) -> StoreResult<()> {
        self.write(|c| sync_targets::create(c, target))
    }

    fn find_target(&self, name: &str) -> StoreResult<Option<TargetRecord>> {
        sync_targets::find(&mut *self.conn()?, name)
    }

    fn find_target_by_id(&self, id: &str) -> StoreResult<Option<TargetRecord>> {
        sync_targets::find_by_id(&mut *self.conn()?, id)
    }

    fn list_targets(&self) -> StoreResult<Vec<TargetRecord>> {
        sync_targets::list(&mut *self.conn()?)
    }

    fn delete_target(&self, name: &str) -> StoreResult<bool> {
        self.write(|c| sync_targets::delete(c, name))
    }

    fn update_target(&self, target: &TargetRecord) -> StoreResult<()> {
        self.write(|c| sync_targets::update(c, target))
    }

    fn set_target_state(
        &self,
        target_id: &str,
        state: TargetState,
        cursor: Option<i64>,
    ) -> StoreResult<()> {
        self.write(|c| sync_targets::set_state(c, target_id, state, cursor))
    }

    fn finish_initial_sync(&self, target_id: &str, cursor: i64) -> StoreResult<bool> {
        self.write(|c| sync_targets::finish_initial_sync(c, target_id, cursor))
    }

    fn record_deprovisions(
        &self,
        target_id: &str,
        objects: &[(String, String)],
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.write(|c| sync_deprovisions::record(c, target_id, objects, at))
    }

    fn deprovisions_since(&self, target_id: &str, since: DateTime<Utc>) -> StoreResult<usize> {
        sync_deprovisions::since(&mut *self.conn()?, target_id, since)
    }

    fn clear_deprovisions(&self, target_id: &str) -> StoreResult<()> {
        self.write(|c| sync_deprovisions::clear(c, target_id))
    }

    fn changes_pending(&self, after_seq: i64) -> StoreResult<i64> {
        changelog::pending_after(&mut *self.conn()?, after_seq)
    }

    fn put_links(
        &self,
        target_id: &str,
        resource_type: &str,
        links: &[LinkRecord],
    ) -> StoreResult<()> {
        self.write(|c| sync_links::put_many(c, target_id, resource_type, links))
    }

    fn links_of(
        &self,
        target_id: &str,
        resource_type: &str,
        local_ids: &[String],
    ) -> StoreResult<Vec<LinkRecord>> {
        sync_links::list_of(&mut *self.conn()?, target_id, resource_type, local_ids)
    }

    fn links(&self, target_id: &str, resource_type: &str) -> StoreResult<Vec<LinkRecord>> {
        sync_links::list(&mut *self.conn()?, target_id, resource_type)
    }

    fn count_links(&self, target_id: &str) -> StoreResult<usize> {
        sync_links::count(&mut *self.conn()?, target_id)
    }

    fn put_link(&self, target_id: &str, resource_type: &str, link: &LinkRecord) -> StoreResult<()> {
        self.write(|c| sync_links::put(c, target_id, resource_type, link))
    }

    fn remove_link(&self, target_id: &str, resource_type: &str, local_id: &str) -> StoreResult<()> {
        self.write(|c| sync_links::remove(c, target_id, resource_type, local_id))
    }

    fn create_run(&self, run: &RunRecord) -> StoreResult<()> {
        self.write(|c| sync_runs::create(c, run))
    }

    fn update_run(&self, run: &RunRecord) -> StoreResult<()> {
        self.write(|c| sync_runs::update(c, run))
    }

    fn set_run_progress(&self, id: &str, progress: &str) -> StoreResult<()> {
        self.write(|c| sync_runs::set_progress(c, id, progress))
    }

    fn get_run(&self, id: &str) -> StoreResult<Option<RunRecord>> {
        sync_runs::get(&mut *self.conn()?, id)
    }

    fn list_runs(&self, target_id: &str, limit: u32) -> StoreResult<Vec<RunRecord>> {
        sync_runs::list(&mut *self.conn()?, target_id, limit)
    }

    fn find_runs(
        &self,
        target_id: Option<&str>,
        status: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<RunRecord>> {
        sync_runs::find(&mut *self.conn()?, target_id, status, limit)
    }

    fn run_counts(&self) -> StoreResult<Vec<(String, String, i64)>> {
        sync_runs::counts(&mut *self.conn()?)
    }

    fn add_failure(&self, run_id: &str, failure: &FailureRecord) -> StoreResult<()> {
        self.write(|c| sync_runs::add_failure(c, run_id, failure))
    }

    fn failures(&self, run_id: &str) -> StoreResult<Vec<FailureRecord>> {
        sync_runs::failures(&mut *self.conn()?, run_id)
    }

    fn link(
        &self,
        target_id: &str,
        resource_type: &str,
        local_id: &str,
    ) -> StoreResult<Option<LinkRecord>> {
        sync_links::get(&mut *self.conn()?, target_id, resource_type, local_id)
    }

    fn set_cursor(&self, target_id: &str, seq: i64) -> StoreResult<()> {
        self.write(|c| sync_targets::set_cursor(c, target_id, seq))
    }

    fn queue_put(&self, entry: &QueueRecord) -> StoreResult<()> {
        self.write(|c| sync_queue::put(c, entry))
    }

    fn queue_find(
        &self,
        target_id: &str,
        resource_type: &str,
        local_id: &str,
    ) -> StoreResult<Option<QueueRecord>> {
        sync_queue::find(&mut *self.conn()?, target_id, resource_type, local_id)
    }

    fn queue_due(
        &self,
        target_id: &str,
        now: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<QueueRecord>> {
        sync_queue::due(&mut *self.conn()?, target_id, now, limit)
    }

    fn queue_list(&self, target_id: Option<&str>) -> StoreResult<Vec<QueueRecord>> {
        sync_queue::list(&mut *self.conn()?, target_id)
    }

    fn queue_summary(&self, target_id: &str) -> StoreResult<QueueSummary> {
        sync_queue::summary(&mut *self.conn()?, target_id)
    }

    fn queue_get(&self, id: &str) -> StoreResult<Option<QueueRecord>> {
        sync_queue::get(&mut *self.conn()?, id)
    }

    fn queue_remove(
        &self,
        target_id: &str,
        resource_type: &str,
        local_id: &str,
    ) -> StoreResult<bool> {
        self.write(|c| sync_queue::remove(c, target_id, resource_type, local_id))
    }

    fn queue_remove_id(&self, id: &str) -> StoreResult<bool> {
        self.write(|c| sync_queue::remove_id(c, id))
    }

    fn queue_retry(&self, id: Option<&str>, target_id: Option<&str>) -> StoreResult<usize> {
        self.write(|c| sync_queue::retry(c, id, target_id))
    }

    fn try_lease(&self, name: &str, holder: &str, ttl: Duration) -> StoreResult<bool> {
        self.write(|c| sync_leases::try_lease(c, name, holder, ttl))
    }

    fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()> {
        self.write(|c| sync_leases::release(c, name, holder))
    }

    fn quarantine(&self, target_id: &str) -> StoreResult<Option<QuarantineRecord>> {
        sync_leases::quarantine(&mut *self.conn()?, target_id)
    }

    fn set_quarantine(&self, target_id: &str, reason: Option<&str>) -> StoreResult<()> {
        self.write(|c| sync_leases::set_quarantine(c, target_id, reason))
    }

    fn queue_depths(&self) -> StoreResult<Vec<QueueDepth>> {
        sync_queue_alerts::depths(&mut *self.conn()?)
    }

    fn raise_queue_alert(&self, target_id: &str, depth: i64) -> StoreResult<bool> {
        self.write(|c| sync_queue_alerts::raise(c, target_id, depth))
    }

    fn queue_alerts(&self) -> StoreResult<Vec<String>> {
        sync_queue_alerts::raised(&mut *self.conn()?)
    }

    fn clear_queue_alert(&self, target_id: &str) -> StoreResult<()> {
        self.write(|c| sync_queue_alerts::clear(c, target_id))
    }

    fn department_containers(
        &self,
        target_id: &str,
        member_type: &str,
        member_id: &str,
    ) -> StoreResult<Vec<String>> {
        sync_department_members::containers(&mut *self.conn()?, target_id, member_type, member_id)
    }

    fn set_department_containers(
        &self,
        target_id: &str,
        member_type: &str,
        member_id: &str,
        departments: &[String],
    ) -> StoreResult<()> {
        self.write(|c| {
            sync_department_members::set_containers(
                c,
                target_id,
                member_type,
                member_id,
                departments,
            )
        })
    }

    fn set_department_members(
        &self,
        target_id: &str,
        department_id: &str,
        members: &[DepartmentMembership],
    ) -> StoreResult<()> {
        self.write(|c| sync_department_members::set_members(c, target_id, department_id, members))
    }

    fn department_members(
        &self,
        target_id: &str,
        department_id: &str,
    ) -> StoreResult<Vec<DepartmentMembership>> {
        sync_department_members::members(&mut *self.conn()?, target_id, department_id)
    }

    fn forget_department_group(&self, target_id: &str, department_id: &str) -> StoreResult<()> {
        self.write(|c| sync_department_members::forget(c, target_id, department_id))
    }

    fn replace_department_memberships(
        &self,
        target_id: &str,
        rows: &[DepartmentMembership],
    ) -> StoreResult<()> {
        self.write(|c| sync_department_members::replace_all(c, target_id, rows))
    }
}
