//! The id map written in batches: `put_links` replaces rows as `put_link`
//! does (a local id re-linked, a remote id now held by another local id),
//! on both backends, and more rows than one insert statement holds.

use scimhub::provision::target::{self, Credentials, NewTarget};
use scimhub::store::diesel::DieselStore;
use scimhub::store::{LinkRecord, SyncStore};

use crate::on_both_backends;
use crate::support::TestApp;

fn link(local: &str, remote: &str, hash: &str) -> LinkRecord {
    LinkRecord {
        local_id: local.into(),
        remote_id: remote.into(),
        state_hash: hash.into(),
    }
}

fn rows(db: &DieselStore, target: &str) -> Vec<(String, String, String)> {
    let mut all: Vec<_> = db
        .links(target, "User")
        .unwrap()
        .into_iter()
        .map(|l| (l.local_id, l.remote_id, l.state_hash))
        .collect();
    all.sort();
    all
}

async fn links_written_in_batches_replace_like_single_ones(app: TestApp) {
    let db = DieselStore::open(&app.database_url, 1).unwrap();
    target::add(
        &db,
        Some(&crate::sync::key()),
        NewTarget {
            name: "crm".into(),
            base_url: "http://127.0.0.1:9/scim/v2".into(),
            credentials: Credentials::Bearer { token: "t".into() },
            mapping: None,
            scope: None,
            settings: Default::default(),
        },
    )
    .unwrap();
    let target = db.find_target("crm").unwrap().unwrap().id;
    let target = target.as_str();
    db.put_link(target, "User", &link("l1", "r1", "h1"))
        .unwrap();
    db.put_link(target, "User", &link("l2", "r2", "h2"))
        .unwrap();
    db.put_link(target, "Group", &link("l1", "g1", "h"))
        .unwrap();

    // l1 re-linked to r9; r2 now belongs to l3 (l2's row goes); l4 new.
    let batch = [
        link("l1", "r9", "h1b"),
        link("l3", "r2", "h3"),
        link("l4", "r4", "h4"),
    ];
    db.put_links(target, "User", &batch).unwrap();
    let want = |v: &[(&str, &str, &str)]| -> Vec<(String, String, String)> {
        v.iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect()
    };
    assert_eq!(
        rows(&db, target),
        want(&[("l1", "r9", "h1b"), ("l3", "r2", "h3"), ("l4", "r4", "h4")])
    );
    assert_eq!(
        db.links(target, "Group").unwrap().len(),
        1,
        "other kinds stay"
    );

    // Many rows at once: every one lands.
    let many: Vec<LinkRecord> = (0..1_234)
        .map(|i| link(&format!("m{i}"), &format!("rm{i}"), "h"))
        .collect();
    db.put_links(target, "User", &many).unwrap();
    assert_eq!(rows(&db, target).len(), 3 + 1_234);
    assert_eq!(db.count_links(target).unwrap(), 3 + 1_234 + 1);
}

on_both_backends!(links_written_in_batches_replace_like_single_ones);
