//! Upstream sources (issue #17): HR files, another SCIM server and LDAP,
//! driven through the CLI and the admin API of a real server on both
//! backends, checked against the truth `make_org.py` writes.

mod departments;
mod files;
mod hr;
mod ldap;
mod manage;
mod schedule;
mod scim;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::TestApp;
use crate::support::org::{Org, data};

/// Runs `scimhub ARGS --json` and parses what it printed, whether it exited
/// 0 or 1 (a run with refused records exits 1 with its report).
pub(crate) async fn cli_report(app: &TestApp, args: &[&str]) -> (bool, Value) {
    let mut all = args.to_vec();
    all.push("--json");
    let out = app.cli(&all).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let parsed = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "scimhub {all:?} printed no JSON ({e}): {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.success(), parsed)
}

/// Runs the CLI, asserting success; returns stdout and stderr together.
pub(crate) async fn cli_ok(app: &TestApp, args: &[&str]) -> String {
    let out = app.cli(args).await;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "scimhub {args:?} failed: {text}");
    text
}

/// Every user (or group) of the server by its externalId.
/// The stored `departmentPath` of a user as SCIM showed it (the path is
/// returned only on request).
pub(crate) fn stored_path(app: &TestApp, user: &Value) -> Value {
    let id = user["id"].as_str().expect("a user id");
    let stored = app.store.get_user(id, false).expect("the user");
    stored.attributes[ORGANIZATION]["departmentPath"].clone()
}

pub(crate) async fn by_external_id(app: &TestApp, endpoint: &str) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mut start = 1;
    loop {
        let page = app
            .get(&format!("/{endpoint}?startIndex={start}&count=1000"))
            .await;
        let items = page.body["Resources"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if items.is_empty() {
            return out;
        }
        start += items.len();
        for r in items {
            if let Some(ext) = r["externalId"].as_str() {
                out.insert(ext.to_string(), r.clone());
            }
        }
    }
}

/// `source add --name hr` for a seeded organization with the HR mapping.
pub(crate) async fn add_hr_source(app: &TestApp, org: &Org, extra: &[&str]) {
    let (people, departments, mapping) = (
        org.path("people.csv"),
        org.path("departments.csv"),
        data("hr-mapping.toml"),
    );
    let mut args = vec![
        "source",
        "add",
        "--name",
        "hr",
        "--kind",
        "file",
        "--path",
        &people,
        "--departments-path",
        &departments,
        "--mapping",
        &mapping,
        "--phone-region",
        "US",
        "--require",
        "name.familyName",
    ];
    args.extend_from_slice(extra);
    cli_ok(app, &args).await;
}

pub(crate) const ENTERPRISE: &str = crate::support::ENTERPRISE;
pub(crate) const ORGANIZATION: &str =
    "urn:scimhub:params:scim:schemas:extension:organization:2.0:User";

/// The key sealing source credentials in these tests.
pub(crate) fn with_key(config: &mut scimhub::config::Config) {
    config.secret_key = Some(scimhub::crypto::SecretKey([9; 32]));
}
