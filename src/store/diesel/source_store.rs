//! `SourceStore` over the diesel connection pool.

use super::{DieselStore, source_links, source_runs, sources};
use crate::store::{
    SourceFailureRecord, SourceLinkRecord, SourceRecord, SourceRunRecord, SourceStore, StoreResult,
    UserFacts,
};

impl SourceStore for DieselStore {
    fn user_facts(&self) -> StoreResult<(Vec<UserFacts>, Vec<String>)> {
        source_links::user_facts(&mut *self.conn()?)
    }

    fn department_ids(&self) -> StoreResult<Vec<String>> {
        source_links::department_ids(&mut *self.conn()?)
    }

    fn create_source(&self, source: SourceRecord) -> StoreResult<()> {
        self.write(|c| sources::create(c, source))
    }

    fn find_source(&self, name: &str) -> StoreResult<Option<SourceRecord>> {
        sources::find(&mut *self.conn()?, name)
    }

    fn list_sources(&self) -> StoreResult<Vec<SourceRecord>> {
        sources::list(&mut *self.conn()?)
    }

    fn update_source(&self, source: &SourceRecord) -> StoreResult<()> {
        self.write(|c| sources::update(c, source))
    }

    fn delete_source(&self, name: &str) -> StoreResult<bool> {
        self.write(|c| sources::delete(c, name))
    }

    fn set_watermark(&self, source_id: &str, watermark: Option<&str>) -> StoreResult<()> {
        self.write(|c| sources::set_watermark(c, source_id, watermark))
    }

    fn source_links(
        &self,
        source_id: &str,
        resource_type: &str,
    ) -> StoreResult<Vec<SourceLinkRecord>> {
        source_links::list(&mut *self.conn()?, source_id, resource_type)
    }

    fn source_link_owners(&self, resource_type: &str) -> StoreResult<Vec<(String, String)>> {
        source_links::owners(&mut *self.conn()?, resource_type)
    }

    fn put_source_links(&self, source_id: &str, links: &[SourceLinkRecord]) -> StoreResult<()> {
        self.write(|c| source_links::put(c, source_id, links))
    }

    fn create_source_run(&self, run: &SourceRunRecord) -> StoreResult<()> {
        self.write(|c| source_runs::create_run(c, run))
    }

    fn update_source_run(&self, run: &SourceRunRecord) -> StoreResult<()> {
        self.write(|c| source_runs::update_run(c, run))
    }

    fn get_source_run(&self, id: &str) -> StoreResult<Option<SourceRunRecord>> {
        source_runs::get_run(&mut *self.conn()?, id)
    }

    fn list_source_runs(&self, source_id: &str, limit: u32) -> StoreResult<Vec<SourceRunRecord>> {
        source_runs::list_runs(&mut *self.conn()?, source_id, limit)
    }

    fn source_runs_in_status(&self, status: &str, limit: u32) -> StoreResult<Vec<SourceRunRecord>> {
        source_runs::runs_in_status(&mut *self.conn()?, status, limit)
    }

    fn replace_source_failures(
        &self,
        source_id: &str,
        failures: &[SourceFailureRecord],
    ) -> StoreResult<()> {
        self.write(|c| source_runs::replace_failures(c, source_id, failures))
    }

    fn merge_source_failures(
        &self,
        source_id: &str,
        failures: &[SourceFailureRecord],
        cleared: &[(String, String)],
    ) -> StoreResult<()> {
        self.write(|c| source_runs::merge_failures(c, source_id, failures, cleared))
    }

    fn source_failures(&self, source_id: &str) -> StoreResult<Vec<SourceFailureRecord>> {
        source_runs::failures(&mut *self.conn()?, source_id)
    }
}
