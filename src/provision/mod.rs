//! The outbound sync center: provisioning downstream SCIM apps from the
//! store. `mapping` and `plan` are pure; the rest does IO through the
//! `store::` seam (never `http::`).

pub mod client;
pub mod connector;
pub mod departments;
pub mod failures;
pub mod mapping;
pub mod on_demand;
pub mod plan;
pub mod runs;
pub mod source;
pub mod target;
pub mod target_check;
pub mod target_status;
pub mod target_test;
pub mod webhook;
pub mod worker;
