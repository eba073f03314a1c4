//! The organization tree benchmark: seeds a tree (10 top-level
//! departments, 20 under each, the rest spread under those) and people
//! spread evenly over it, then times, end to end over HTTP, "everyone under
//! a top-level department" (one page of 100 and the total) and moving a
//! second-level department with its subtree (about 500 people with the
//! defaults) under another top-level department; then (unless told not
//! to) a full outbound sync of the whole tree, departments as nested
//! groups, into a second scimhub (`departments_sync`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::query::q;
use super::{ms, seed, summarize};
use crate::scim::registry::{DEPARTMENT_SCHEMA, ENTERPRISE_USER_SCHEMA, ORGANIZATION_USER_SCHEMA};
use crate::service::tokens;
use crate::store::diesel::DieselStore;
use crate::store::{Actor, ResourceWrite, Store};

#[derive(Debug, Clone)]
pub struct DepartmentBench {
    pub departments: u64,
    pub people: u64,
    /// Sequential "everyone under" requests.
    pub requests: usize,
    /// Subtree moves timed.
    pub moves: usize,
    /// A database URL; a fresh SQLite file in a temp dir when None.
    pub database: Option<String>,
    /// Also time the full outbound sync of the tree into a second scimhub.
    pub outbound: bool,
}

const TOP: u64 = 10;
const PER_TOP: u64 = 20;

struct Seeded {
    /// (id, path) of the top-level departments.
    top: Vec<(String, String)>,
    /// (id, people in its subtree) of the second-level ones.
    second: Vec<(String, u64)>,
}

fn department(name: String, parent: Option<&str>) -> anyhow::Result<ResourceWrite> {
    let mut attrs = json!({"displayName": name});
    if let Some(p) = parent {
        attrs["parent"] = json!({"value": p});
    }
    Ok(ResourceWrite {
        attributes: serde_json::from_value(attrs)?,
        ..ResourceWrite::default()
    })
}

/// Person `i` in department `d` (id, name, path), with everything the
/// store derives already filled in (seeding trusts its input).
fn person(i: u64, d: &(String, String, String)) -> ResourceWrite {
    let mut write = seed::user(i);
    let (id, name, path) = d;
    write.attributes.insert(
        ORGANIZATION_USER_SCHEMA.into(),
        json!({"primaryDepartment": {"value": id, "display": name}, "departmentPath": path}),
    );
    if let Some(Value::Object(e)) = write.attributes.get_mut(ENTERPRISE_USER_SCHEMA) {
        e.insert("department".into(), Value::String(name.clone()));
    }
    write
}

fn seed_tree(store: &DieselStore, args: &DepartmentBench) -> anyhow::Result<Seeded> {
    let actor = Actor::system("bench");
    let started = Instant::now();
    let tops = store.insert_departments(
        (0..TOP)
            .map(|t| department(format!("Top {t}"), None))
            .collect::<anyhow::Result<_>>()?,
        &actor,
    )?;
    let mut seconds = Vec::new();
    for (t, top) in tops.iter().enumerate() {
        seconds.extend(
            store.insert_departments(
                (0..PER_TOP)
                    .map(|s| department(format!("Unit {t}.{s}"), Some(top)))
                    .collect::<anyhow::Result<_>>()?,
                &actor,
            )?,
        );
    }
    let rest = args.departments.saturating_sub(TOP + TOP * PER_TOP);
    let mut third = Vec::new();
    for n in 0..rest {
        let parent = &seconds[(n % seconds.len() as u64) as usize];
        third.push(department(format!("Team {n}"), Some(parent))?);
    }
    for chunk in third.chunks(1_000) {
        store.insert_departments(chunk.to_vec(), &actor)?;
    }
    let all: Vec<(String, String, String, Option<String>)> = store
        .department_subtree(None)?
        .into_iter()
        .map(|d| {
            let parent = d.parent_id().map(str::to_string);
            (
                d.id.clone(),
                d.display_name().to_string(),
                d.path().to_string(),
                parent,
            )
        })
        .collect();
    eprintln!(
        "seeded {} departments ({:.1} s)",
        all.len(),
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let places: Vec<(String, String, String)> = all
        .iter()
        .map(|(id, name, path, _)| (id.clone(), name.clone(), path.clone()))
        .collect();
    let mut heads: HashMap<&str, u64> = HashMap::new();
    let mut i = 0;
    while i < args.people {
        let n = 5_000.min(args.people - i);
        let batch: Vec<ResourceWrite> = (i..i + n)
            .map(|k| {
                let d = &places[(k % places.len() as u64) as usize];
                *heads.entry(d.0.as_str()).or_default() += 1;
                person(k, d)
            })
            .collect();
        store.insert_users(batch, &actor)?;
        i += n;
    }
    eprintln!(
        "seeded {} people ({:.1} s)",
        args.people,
        started.elapsed().as_secs_f64()
    );
    let under = |root: &str| -> u64 {
        all.iter()
            .filter(|(id, _, _, parent)| id == root || parent.as_deref() == Some(root))
            .map(|(id, ..)| heads.get(id.as_str()).copied().unwrap_or(0))
            .sum()
    };
    Ok(Seeded {
        top: all
            .iter()
            .filter(|(_, _, _, parent)| parent.is_none())
            .map(|(id, _, path, _)| (id.clone(), path.clone()))
            .collect(),
        second: seconds.iter().map(|s| (s.clone(), under(s))).collect(),
    })
}

pub fn run_department_bench(args: &DepartmentBench) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.departments >= TOP + TOP * PER_TOP,
        "--departments must be at least {}",
        TOP + TOP * PER_TOP
    );
    let dir = tempfile::tempdir()?;
    let url = seed::database_url(args.database.as_deref(), &dir);
    let store = Arc::new(DieselStore::open(&url, 8)?);
    let seeded = seed_tree(&store, args)?;
    let scopes = vec!["scim:read".into(), "scim:write".into()];
    let token = tokens::create(store.as_ref(), "bench", scopes, None)?;
    let server = super::Server::start(store.clone(), &url)?;
    let base = format!("http://{}/scim/v2", server.addr);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    println!(
        "scimhub organization tree benchmark: {} departments, {} people ({})",
        args.departments,
        args.people,
        if url.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    let result = runtime.block_on(async {
        let client = reqwest::Client::new();
        // Everyone under a top-level department: a page of 100 and the total.
        let under = |i: usize| {
            let (_, path) = &seeded.top[i % seeded.top.len()];
            let filter = format!("{ORGANIZATION_USER_SCHEMA}:departmentPath sw \"{path}\"");
            format!("{base}/Users?count=100&filter={}", q(&filter))
        };
        let mut samples = Vec::with_capacity(args.requests);
        let mut total = 0;
        for i in 0..args.requests + 10 {
            let t = Instant::now();
            let resp = client.get(under(i)).bearer_auth(&token).send().await?;
            let status = resp.status();
            let body: Value = resp.json().await?;
            let took = t.elapsed();
            anyhow::ensure!(status.is_success(), "everyone under: {status} {body}");
            total = body["totalResults"].as_u64().unwrap_or(0);
            if i >= 10 {
                samples.push(took);
            }
        }
        let (p50, p99, mean) = summarize(samples);
        println!(
            "{:<58} {:>10} {:>10} {:>10}",
            "scenario", "p50 ms", "p99 ms", "mean ms"
        );
        println!(
            "{:<58} {:>10} {:>10} {:>10}",
            format!("everyone under a top-level department (~{total}, page of 100)"),
            ms(p50),
            ms(p99),
            ms(mean)
        );
        // Moves: each second-level department under the next top-level one.
        let mut samples: Vec<Duration> = Vec::with_capacity(args.moves);
        let mut moved_people = Vec::new();
        for k in 0..args.moves {
            let (id, people) = &seeded.second[(k * 7) % seeded.second.len()];
            let (to, _) = &seeded.top[(k + 1) % seeded.top.len()];
            let body = json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "parent", "value": {"value": to}}],
            });
            let t = Instant::now();
            let resp = client
                .patch(format!("{base}/Departments/{id}"))
                .bearer_auth(&token)
                .header("content-type", "application/scim+json")
                .body(body.to_string())
                .send()
                .await?;
            let status = resp.status();
            let text = resp.text().await?;
            samples.push(t.elapsed());
            anyhow::ensure!(status.is_success(), "move: {status} {text}");
            anyhow::ensure!(
                text.contains(DEPARTMENT_SCHEMA),
                "move answered without the department"
            );
            moved_people.push(*people);
        }
        let people = moved_people.iter().sum::<u64>() / moved_people.len().max(1) as u64;
        let (p50, _, mean) = summarize(samples.clone());
        let max = samples.iter().max().copied().unwrap_or_default();
        println!(
            "{:<58} {:>10} {:>10} {:>10}",
            format!("move a subtree of ~{people} people (p50, max, mean)"),
            ms(p50),
            ms(max),
            ms(mean)
        );
        Ok(())
    });
    server.stop();
    if result.is_ok() && args.outbound {
        outbound(store, args)?;
    }
    let machine = super::machine::Machine::describe();
    println!(
        "machine: {} ({} cores), {} MiB RAM, {}, rustc {}, {} build",
        machine.cpu,
        machine.cores,
        machine.ram_mib.unwrap_or(0),
        machine.os,
        machine.rustc,
        machine.profile
    );
    result
}

/// The full outbound sync of the tree and its no-change re-run, printed.
fn outbound(store: Arc<DieselStore>, args: &DepartmentBench) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (full, rerun) = super::departments_sync::full_outbound(store, &runtime)?;
    for (label, run) in [
        (
            format!(
                "full outbound sync of the tree ({} departments, {} people)",
                args.departments, args.people
            ),
            &full,
        ),
        ("no-change re-run".to_string(), &rerun),
    ] {
        let c = &run.counts;
        println!(
            "{label:<58} {:>9.2} s   created {} (department groups {}), unchanged {}, \
             member patches {} (department groups {})",
            run.took.as_secs_f64(),
            c.created,
            c.departments.created,
            c.unchanged,
            c.member_patches,
            c.departments.member_patches
        );
    }
    println!("target: full outbound sync of the tree ≤ 30 s");
    Ok(())
}
