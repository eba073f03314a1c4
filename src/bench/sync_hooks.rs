//! The seam for the sync center's two suite rows. Each hook gets the running
//! server and answers a measurement, or `None` while the outbound engine
//! cannot be driven yet (the suite then prints "not measured yet").

use std::net::SocketAddr;

use super::suite::Measurement;

/// What a sync hook can use: the server under test (it already holds the
/// seeded users) and a token with `scim:read` and `scim:write`.
pub struct HookTarget {
    pub addr: SocketAddr,
    pub token: String,
}

/// "outbound full sync 10k users": push 10,000 users to a downstream SCIM
/// app from scratch; answer users/s (the `value`, unit "users/s").
pub async fn full_sync_10k(_target: &HookTarget) -> anyhow::Result<Option<Measurement>> {
    Ok(None)
}

/// "change → downstream latency": time from an inbound change being
/// answered to the downstream app receiving it; answer p50/p99.
pub async fn change_to_downstream(_target: &HookTarget) -> anyhow::Result<Option<Measurement>> {
    Ok(None)
}
