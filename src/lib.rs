//! scimhub: a SCIM 2.0 service provider and outbound provisioning hub.

pub mod allocator;
pub mod bench;
pub mod blocking;
pub mod cli;
pub mod config;
pub mod conformance;
pub mod crypto;
pub mod error;
pub mod http;
pub mod metrics;
pub mod provision;
pub mod scim;
pub mod service;
pub mod settings;
pub mod store;
pub mod telemetry;
