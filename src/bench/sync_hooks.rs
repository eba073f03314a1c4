//! The sync center's two suite rows, measured by `bench sync` (its own
//! source and a second scimhub as the target, both on loopback; the
//! suite's server is not involved).

use std::net::SocketAddr;

use super::suite::Measurement;
use super::sync::{SyncBench, run_sync_bench};

/// What a sync hook can use: the server under test and a token with
/// `scim:read` and `scim:write` (unused: the sync rows bring their own).
pub struct HookTarget {
    pub addr: SocketAddr,
    pub token: String,
    /// Users in the full-sync row (10,000 for the documented number).
    pub sync_users: u64,
}

async fn measure(args: SyncBench) -> anyhow::Result<super::sync::SyncNumbers> {
    crate::blocking::blocking(move || run_sync_bench(&args)).await
}

/// "outbound full sync 10k users": `sync_users` users (10,000) and 100
/// groups of 200 members pushed to an empty scimhub; users/s of the run.
pub async fn full_sync_10k(target: &HookTarget) -> anyhow::Result<Measurement> {
    let users = target.sync_users;
    let groups = (users / 100).clamp(1, 100);
    let n = measure(SyncBench {
        users,
        groups,
        members: 200.min(users),
        propagation_samples: 0,
        print: false,
    })
    .await?;
    Ok(Measurement {
        value: users as f64 / n.full.as_secs_f64(),
        unit: "users/s",
        p50: None,
        p99: None,
        cpu_us: None,
    })
}

/// "change → downstream latency": a POST on the source until the user is
/// on the target, through the real-time worker with default settings.
pub async fn change_to_downstream(target: &HookTarget) -> anyhow::Result<Measurement> {
    let n = measure(SyncBench {
        users: 100,
        groups: 1,
        members: 10,
        propagation_samples: if target.sync_users < 1000 { 3 } else { 30 },
        print: false,
    })
    .await?;
    Ok(Measurement {
        value: n.propagation_p50.as_secs_f64() * 1000.0,
        unit: "ms p50",
        p50: Some(n.propagation_p50),
        p99: Some(n.propagation_p99),
        cpu_us: None,
    })
}
