//! The organization tree's outbound part: a full run of a target that
//! takes departments as groups (the whole tree: every department a group
//! holding its people and sub-departments' groups) into a second scimhub on
//! loopback, then a no-change re-run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Server;
use crate::crypto::SecretKey;
use crate::provision::departments::DepartmentMode;
use crate::provision::runs::report::ActionCounts;
use crate::provision::runs::{RunOptions, RunStatus, SyncEngine};
use crate::provision::target::{self, Credentials, NewTarget, TargetSettings};
use crate::service::tokens;
use crate::store::diesel::DieselStore;

/// One timed run: how long, and what it did.
pub struct Timed {
    pub took: Duration,
    pub counts: ActionCounts,
}

/// Provisions `source`'s users and tree into a fresh scimhub: the full run,
/// then the re-run that must write nothing.
pub fn full_outbound(
    source: Arc<DieselStore>,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<(Timed, Timed)> {
    let dir = tempfile::tempdir()?;
    let target_url = format!("sqlite://{}", dir.path().join("target.db").display());
    let downstream = Arc::new(DieselStore::open(&target_url, 8)?);
    let scopes = vec![
        tokens::SCOPE_READ.to_string(),
        tokens::SCOPE_WRITE.to_string(),
    ];
    let token = tokens::create(downstream.as_ref(), "bench", scopes, None)?;
    let server = Server::start(downstream, &target_url)?;
    let key = {
        use rand::RngCore;
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        SecretKey(k)
    };
    target::add(
        source.as_ref(),
        Some(&key),
        NewTarget {
            name: "tree".into(),
            base_url: format!("http://{}/scim/v2", server.addr),
            credentials: Credentials::Bearer { token },
            mapping: None,
            scope: None,
            settings: TargetSettings {
                max_concurrency: 8,
                departments: DepartmentMode::Groups,
                ..TargetSettings::default()
            },
        },
    )?;
    let engine = SyncEngine::new(source.clone(), source, Some(key));
    let timed = |label: &str| -> anyhow::Result<Timed> {
        let at = Instant::now();
        let report = runtime.block_on(engine.run("tree", RunOptions::default(), None))?;
        let took = at.elapsed();
        anyhow::ensure!(
            report.head.status == RunStatus::Succeeded,
            "{label} ended {}: {:?}",
            report.head.status.as_str(),
            report
                .head
                .error
                .or_else(|| report.failures.first().map(|f| f.detail.clone()))
        );
        Ok(Timed {
            took,
            counts: report.head.counts,
        })
    };
    let full = timed("full outbound sync")?;
    let rerun = timed("no-change re-run")?;
    server.stop();
    Ok((full, rerun))
}
