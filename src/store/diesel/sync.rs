//! `SyncStore` over the diesel connection pool.

use super::connection::write_tx;
use super::{DieselStore, sync_links, sync_runs, sync_targets};
use crate::store::{FailureRecord, LinkRecord, RunRecord, StoreResult, SyncStore, TargetRecord};

impl SyncStore for DieselStore {
    fn create_target(&self, target: TargetRecord) -> StoreResult<()> {
        write_tx(&mut *self.conn()?, |c| sync_targets::create(c, target))
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
        write_tx(&mut *self.conn()?, |c| sync_targets::delete(c, name))
    }

    fn links(&self, target_id: &str, resource_type: &str) -> StoreResult<Vec<LinkRecord>> {
        sync_links::list(&mut *self.conn()?, target_id, resource_type)
    }

    fn put_link(&self, target_id: &str, resource_type: &str, link: &LinkRecord) -> StoreResult<()> {
        write_tx(&mut *self.conn()?, |c| {
            sync_links::put(c, target_id, resource_type, link)
        })
    }

    fn remove_link(&self, target_id: &str, resource_type: &str, local_id: &str) -> StoreResult<()> {
        write_tx(&mut *self.conn()?, |c| {
            sync_links::remove(c, target_id, resource_type, local_id)
        })
    }

    fn create_run(&self, run: &RunRecord) -> StoreResult<()> {
        write_tx(&mut *self.conn()?, |c| sync_runs::create(c, run))
    }

    fn update_run(&self, run: &RunRecord) -> StoreResult<()> {
        write_tx(&mut *self.conn()?, |c| sync_runs::update(c, run))
    }

    fn get_run(&self, id: &str) -> StoreResult<Option<RunRecord>> {
        sync_runs::get(&mut *self.conn()?, id)
    }

    fn add_failure(&self, run_id: &str, failure: &FailureRecord) -> StoreResult<()> {
        write_tx(&mut *self.conn()?, |c| {
            sync_runs::add_failure(c, run_id, failure)
        })
    }

    fn failures(&self, run_id: &str) -> StoreResult<Vec<FailureRecord>> {
        sync_runs::failures(&mut *self.conn()?, run_id)
    }
}
