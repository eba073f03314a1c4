//! Outbound benchmarks: a full sync of N users and G groups (M members
//! each) into a second scimhub on loopback, a no-change re-run, and the
//! latency from a SCIM write on the source to the object on the target
//! through the real-time worker (default worker settings).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::seed::user;
use super::{Server, ms, summarize};
use crate::crypto::SecretKey;
use crate::provision::runs::{RunOptions, RunStatus, SyncEngine};
use crate::provision::target::{self, Credentials, NewTarget, TargetSettings};
use crate::provision::worker::{WorkerContext, Workers};
use crate::scim::filter::{AttrPath, CompValue, CompareOp, Filter};
use crate::service::tokens;
use crate::settings::SyncWorkerConfig;
use crate::store::diesel::DieselStore;
use crate::store::{
    Actor, ListQuery, MemberRef, MembersWrite, PasswordWrite, ResourceWrite, Store,
};

#[derive(Debug, Clone)]
pub struct SyncBench {
    pub users: u64,
    pub groups: u64,
    pub members: u64,
    /// Source writes timed until they appear on the target.
    pub propagation_samples: usize,
    /// Print progress and results (off inside the suite, which prints a table).
    pub print: bool,
}

#[derive(Debug, Clone)]
pub struct SyncNumbers {
    pub full: Duration,
    pub rerun: Duration,
    pub propagation_p50: Duration,
    pub propagation_p99: Duration,
}

fn seed(store: &DieselStore, args: &SyncBench) -> anyhow::Result<()> {
    let actor = Actor::system("bench");
    let mut ids = Vec::new();
    let mut i = 0;
    while i < args.users {
        let n = 5_000.min(args.users - i);
        ids.extend(store.insert_users((i..i + n).map(user).collect(), &actor)?);
        i += n;
    }
    let step = (ids.len() as u64 / args.groups.max(1)).max(1) as usize;
    for g in 0..args.groups as usize {
        // Overlapping slices: each group starts `step` after the previous.
        let members = (0..args.members as usize)
            .map(|k| MemberRef {
                id: ids[(g * step + k) % ids.len().max(1)].clone(),
                kind: None,
            })
            .collect();
        let write = ResourceWrite {
            attributes: serde_json::from_value(json!({"displayName": format!("Team {g}")}))?,
            members: MembersWrite::Set(members),
            password: PasswordWrite::Keep,
        };
        store.create_group(write, &actor)?;
    }
    Ok(())
}

fn say(print: bool, line: String) {
    if print {
        println!("{line}");
    }
}

fn found(target: &DieselStore, user_name: &str) -> anyhow::Result<bool> {
    let query = ListQuery {
        filter: Some(Filter::Compare {
            path: AttrPath::new("userName"),
            op: CompareOp::Eq,
            value: CompValue::String(user_name.into()),
        }),
        with_groups: false,
        with_members: false,
        ..ListQuery::all()
    };
    Ok(target.list_users(&query)?.total > 0)
}

pub fn run_sync_bench(args: &SyncBench) -> anyhow::Result<SyncNumbers> {
    let dir = tempfile::tempdir()?;
    let source_url = format!("sqlite://{}", dir.path().join("source.db").display());
    let target_url = format!("sqlite://{}", dir.path().join("target.db").display());
    let source = Arc::new(DieselStore::open(&source_url, 8)?);
    let target = Arc::new(DieselStore::open(&target_url, 8)?);
    let started = Instant::now();
    seed(&source, args)?;
    say(
        args.print,
        format!(
            "seeded {} users and {} groups of {} members in {:.1} s",
            args.users,
            args.groups,
            args.members,
            started.elapsed().as_secs_f64()
        ),
    );
    let scopes = vec![
        tokens::SCOPE_READ.to_string(),
        tokens::SCOPE_WRITE.to_string(),
    ];
    let token = tokens::create(target.as_ref(), "bench", scopes.clone(), None)?;
    let target_server = Server::start(target.clone(), &target_url)?;
    let key = {
        use rand::RngCore;
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        SecretKey(k)
    };
    target::add(
        source.as_ref(),
        Some(&key),
        NewTarget {
            name: "bench".into(),
            base_url: format!("http://{}/scim/v2", target_server.addr),
            credentials: Credentials::Bearer { token },
            mapping: None,
            scope: None,
            settings: TargetSettings {
                max_concurrency: 8,
                ..TargetSettings::default()
            },
        },
    )?;
    let engine = SyncEngine::new(source.clone(), source.clone(), Some(key.clone()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let timed = |label: &str| -> anyhow::Result<Duration> {
        let at = Instant::now();
        let report = runtime.block_on(engine.run("bench", RunOptions::default(), None))?;
        let took = at.elapsed();
        anyhow::ensure!(
            report.head.status == RunStatus::Succeeded,
            "{label} ended {}: {:?}",
            report.head.status.as_str(),
            report
                .head
                .error
                .or_else(|| report.failures.first().map(|f| f.detail.clone()))
        );
        let c = report.head.counts;
        say(
            args.print,
            format!(
                "{label:<22} {:>8.2} s   created {} updated {} unchanged {} member patches {}",
                took.as_secs_f64(),
                c.created,
                c.updated,
                c.unchanged,
                c.member_patches
            ),
        );
        Ok(took)
    };
    let full = timed("full sync")?;
    let rerun = timed("no-change re-run")?;

    if args.propagation_samples == 0 {
        target_server.stop();
        return Ok(SyncNumbers {
            full,
            rerun,
            propagation_p50: Duration::ZERO,
            propagation_p99: Duration::ZERO,
        });
    }
    // Propagation: the source serves SCIM, its worker follows the log.
    let source_server = Server::start(source.clone(), &source_url)?;
    let source_token = tokens::create(source.as_ref(), "bench-writer", scopes, None)?;
    let workers = Workers::start(WorkerContext::new(
        source.clone(),
        source.clone(),
        Some(key),
        SyncWorkerConfig::default(),
    ))?;
    let client = reqwest::Client::new();
    let base = format!("http://{}/scim/v2", source_server.addr);
    let mut samples = Vec::new();
    // Sample 0 warms up (the supervisor starting the worker) and is not counted.
    for i in 0..=args.propagation_samples {
        let name = format!("propagation-{i}@example.com");
        let at = Instant::now();
        let body =
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name});
        let status = runtime.block_on(async {
            client
                .post(format!("{base}/Users"))
                .bearer_auth(&source_token)
                .json(&body)
                .send()
                .await
                .map(|r| r.status())
        })?;
        anyhow::ensure!(status.as_u16() == 201, "source answered {status}");
        while !found(&target, &name)? {
            anyhow::ensure!(
                at.elapsed() < Duration::from_secs(30),
                "{name} never arrived"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        if i > 0 {
            samples.push(at.elapsed());
        }
        // Spaced out: each sample measures an idle worker picking a change up.
        std::thread::sleep(Duration::from_millis(100));
    }
    workers.stop();
    source_server.stop();
    target_server.stop();
    let (p50, p99, _) = summarize(samples);
    say(
        args.print,
        format!(
            "change → target        p50 {} ms   p99 {} ms   ({} samples; poll {} ms, coalesce {} ms)",
            ms(p50),
            ms(p99),
            args.propagation_samples,
            SyncWorkerConfig::default().poll_ms,
            SyncWorkerConfig::default().coalesce_ms
        ),
    );
    Ok(SyncNumbers {
        full,
        rerun,
        propagation_p50: p50,
        propagation_p99: p99,
    })
}
