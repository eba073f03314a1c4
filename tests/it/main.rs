//! The one integration-test binary: every test drives a real scimhub over
//! HTTP, on SQLite and (when it can be started) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod access;
mod admin;
mod admin_failures;
mod admin_sync;
mod audit;
mod auth;
mod bad_input;
mod bench;
mod bulk;
mod changelog;
mod changes;
mod chaos;
mod cli;
mod client;
mod conformance;
mod crash;
mod discovery;
mod email;
mod groups;
mod jwt;
mod lifecycle;
mod limits;
mod listen;
mod manager_reference;
mod migrations;
mod patch;
mod pushdown;
mod query;
mod rate_limit;
mod realtime;
mod sync;
mod sync_faults;
mod target_test;
mod targets;
mod token_cli;
mod tolerance;
mod user_groups_etag;
mod users;
mod webhooks;
