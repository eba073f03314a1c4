//! A full run of a department tree into a second scimhub that offers
//! `/Bulk`: the people, department groups and their members arrive exact,
//! and the creates and member changes went in bulk requests.

use std::collections::{BTreeMap, BTreeSet};

use crate::departments_outbound::add_target;
use crate::lifecycle::{Source, groups_of, users_of};
use crate::metrics::{scrape, value};
use crate::on_both_sources;
use crate::support::{Backend, TestApp};

/// Requests the downstream answered for (method, route template), any status.
fn answered(scrape: &prometheus_parse::Scrape, verb: &str, route: &str) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == "scimhub_http_requests_total")
        .filter(|s| s.labels.get("method") == Some(verb) && s.labels.get("route") == Some(route))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

async fn a_tree_goes_downstream_in_bulk_requests(backend: Backend) {
    let Some(source) = Source::start(backend) else {
        return;
    };
    let server = &source.server;
    // Org → three divisions → two teams each; four people per team, one
    // per division, one at the top.
    let org = source.department("Org", None).await;
    let mut want: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut people = BTreeSet::new();
    let mut add = |group: &str, member: String| {
        want.entry(group.to_string()).or_default().insert(member);
    };
    source.person("boss", Some(&org), &[]).await;
    add("Org", "boss".into());
    people.insert("boss".to_string());
    for d in 0..3 {
        let division_name = format!("Division {d}");
        let division = source.department(&division_name, Some(&org)).await;
        add("Org", division_name.clone());
        let head = format!("head{d}");
        source.person(&head, Some(&division), &[]).await;
        add(&division_name, head.clone());
        people.insert(head);
        for t in 0..2 {
            let team_name = format!("Team {d}.{t}");
            let team = source.department(&team_name, Some(&division)).await;
            add(&division_name, team_name.clone());
            for p in 0..4 {
                let name = format!("p{d}{t}{p}");
                source.person(&name, Some(&team), &[]).await;
                add(&team_name, name.clone());
                people.insert(name);
            }
        }
    }
    let downstream = TestApp::start(Backend::Sqlite).await.unwrap();
    add_target(
        server,
        "down",
        &downstream,
        &["--departments", "groups", "--actions", "create,update"],
    );

    let run = server.cli_json(&["sync", "run", "down"]);
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["counts"]["created"], 28 + 10, "{run}");
    assert_eq!(run["counts"]["departments"]["created"], 10, "{run}");
    assert_eq!(run["counts"]["departments"]["member_patches"], 10, "{run}");
    assert_eq!(run["counts"]["failed"], 0, "{run}");
    let arrived = users_of(&downstream).await;
    assert_eq!(
        arrived.keys().cloned().collect::<BTreeSet<_>>(),
        people,
        "every person, once"
    );
    assert!(arrived.values().all(|(active, _)| *active));
    assert_eq!(groups_of(&downstream).await, want);

    // The people and the department groups' members went through /Bulk:
    // no single create of a person, no single member PATCH.
    let admin = downstream.token_with("prometheus", &["admin"]);
    let s = scrape(&downstream, &admin).await;
    let bulk_ok = value(
        &s,
        "scimhub_http_requests_total",
        &[
            ("route", "/scim/v2/Bulk"),
            ("method", "POST"),
            ("status", "200"),
        ],
    );
    assert!(bulk_ok.is_some_and(|n| n >= 2.0), "{bulk_ok:?}");
    assert_eq!(answered(&s, "POST", "/scim/v2/Bulk"), bulk_ok.unwrap());
    assert_eq!(answered(&s, "POST", "/scim/v2/Users"), 0.0);
    assert_eq!(answered(&s, "PATCH", "/scim/v2/Groups/:id"), 0.0);

    // A re-run finds nothing to do.
    let again = server.cli_json(&["sync", "run", "down"]);
    assert_eq!(again["status"], "succeeded", "{again}");
    assert_eq!(again["counts"]["created"], 0, "{again}");
    assert_eq!(again["counts"]["updated"], 0, "{again}");
    assert_eq!(again["counts"]["member_patches"], 0, "{again}");
    assert_eq!(groups_of(&downstream).await, want);
}

on_both_sources!(a_tree_goes_downstream_in_bulk_requests);
