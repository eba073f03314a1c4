//! Seeding shared by the benchmarks: realistic users inserted in batches
//! straight through the store, and groups of given sizes.

use std::ops::Range;
use std::time::Instant;

use serde_json::{Map, json};

use crate::scim::registry::ENTERPRISE_USER_SCHEMA;
use crate::store::diesel::DieselStore;
use crate::store::{Actor, MemberRef, MembersWrite, PasswordWrite, ResourceWrite, Store};

/// User number `i`: `userName` is `user{i}@example.com`.
pub fn user(i: u64) -> ResourceWrite {
    let mut attrs = Map::new();
    attrs.insert("userName".into(), json!(user_name(i)));
    attrs.insert("externalId".into(), json!(format!("ext-{i}")));
    attrs.insert(
        "name".into(),
        json!({"givenName": format!("Given{i}"), "familyName": format!("Fam{}", i % 100_000)}),
    );
    attrs.insert("displayName".into(), json!(format!("User {i}")));
    attrs.insert("active".into(), json!(true));
    attrs.insert(
        "emails".into(),
        json!([{"value": user_name(i), "type": "work", "primary": true}]),
    );
    attrs.insert(
        ENTERPRISE_USER_SCHEMA.into(),
        json!({"employeeNumber": format!("{i}"), "department": format!("Dept{}", i % 50)}),
    );
    ResourceWrite {
        attributes: attrs,
        members: MembersWrite::default(),
        password: PasswordWrite::Keep,
    }
}

pub fn user_name(i: u64) -> String {
    format!("user{i}@example.com")
}

/// Inserts users `range` in batches and returns their ids in order; reports
/// progress on stderr every 100,000 users.
pub fn users(store: &DieselStore, range: Range<u64>) -> anyhow::Result<Vec<String>> {
    let started = Instant::now();
    let mut ids = Vec::with_capacity((range.end - range.start) as usize);
    let mut i = range.start;
    while i < range.end {
        let n = 5_000.min(range.end - i);
        ids.extend(store.insert_users((i..i + n).map(user).collect(), &Actor::system("bench"))?);
        i += n;
        if i.is_multiple_of(100_000) {
            eprintln!(
                "seeded {i} users ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(ids)
}

/// One group per size, its members the first `size` of `members`; returns
/// (size, group id) pairs.
pub fn groups(
    store: &DieselStore,
    members: &[String],
    sizes: &[u64],
) -> anyhow::Result<Vec<(u64, String)>> {
    let mut groups = Vec::new();
    for &size in sizes {
        let chosen = members.get(..size as usize).ok_or_else(|| {
            anyhow::anyhow!(
                "a group of {size} needs {size} users, only {} seeded",
                members.len()
            )
        })?;
        let refs = chosen
            .iter()
            .map(|id| MemberRef {
                id: id.clone(),
                kind: None,
            })
            .collect();
        let write = ResourceWrite {
            attributes: serde_json::from_value(json!({"displayName": format!("Size {size}")}))?,
            members: MembersWrite::Set(refs),
            password: PasswordWrite::Keep,
        };
        let id = store.create_group(write, &Actor::system("bench"))?.id;
        groups.push((size, id));
    }
    Ok(groups)
}

/// The database to benchmark: `database`, or a fresh SQLite file in `dir`.
pub fn database_url(database: Option<&str>, dir: &tempfile::TempDir) -> String {
    database.map_or_else(
        || format!("sqlite://{}", dir.path().join("bench.db").display()),
        str::to_string,
    )
}
