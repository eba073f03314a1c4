//! `scimhub bench suite`: one command for issue #8's table. Seeds a fresh
//! database, starts the real server (`scimhub serve`) as a process of its
//! own, and per run drives every scenario with `concurrency` keep-alive
//! connections for `duration`, starting with a static JSON route of the same
//! server (the ceiling each scenario is divided by). Rows report medians
//! over the runs.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::load::{self, Load, MakeRequest, Request};
use super::process::ServerProcess;
use super::report::{Report, Row};
use super::seed;
use super::sync_hooks::{self, HookTarget};
use super::writes::{PATCH_OP, bulk_rate, members_op};
use crate::service::tokens;
use crate::store::diesel::DieselStore;

#[derive(Debug, Clone)]
pub struct SuiteBench {
    pub users: u64,
    pub runs: usize,
    pub concurrency: usize,
    pub duration: Duration,
    /// A database URL (an empty database); a fresh SQLite file when None.
    pub database: Option<String>,
    pub member_sizes: Vec<u64>,
    /// 1,000-user /Bulk requests per run.
    pub bulk_rounds: usize,
    /// Users in the outbound full-sync row.
    pub sync_users: u64,
    /// Only rows whose name contains this (case-insensitive).
    pub only: Option<String>,
    pub json: bool,
    /// `serve` processes on the one database (more than one: PostgreSQL);
    /// the connections are spread over them.
    pub instances: usize,
}

impl SuiteBench {
    fn wants(&self, row: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| row.to_lowercase().contains(&only.to_lowercase()))
    }
}

/// One run's number for one row.
#[derive(Debug, Clone, Copy)]
pub struct Measurement {
    pub value: f64,
    pub unit: &'static str,
    pub p50: Option<Duration>,
    pub p99: Option<Duration>,
    pub cpu_us: Option<f64>,
}

impl From<load::Outcome> for Measurement {
    fn from(o: load::Outcome) -> Self {
        Self {
            value: o.per_second,
            unit: "req/s",
            p50: Some(o.p50),
            p99: Some(o.p99),
            cpu_us: o.cpu_us_per_request,
        }
    }
}

const BULK_ROW: &str = "/Bulk import, 1,000 users per request";
const FULL_SYNC_ROW: &str = "outbound full sync 10k users";
const DOWNSTREAM_ROW: &str = "change → downstream latency";

const RSS_ROWS: [&str; 3] = [
    "peak RSS of the server process",
    "  server RSS after the runs: heap and other anonymous memory",
    "  server RSS after the runs: mapped files",
];

const STORED_ROW: &str = "acknowledged user creations found afterwards";

/// The seeded data the request builders pick from.
struct Seeded {
    /// Users seeded in all (the lookups' plus the spares).
    seeded: u64,
    /// Ids of users `0..users` (userName `user{i}@example.com`).
    users: Arc<Vec<String>>,
    /// (size, group id) for each member size.
    groups: Vec<(u64, String)>,
    /// One user per worker, in no group, to add and remove.
    spares: Arc<Vec<String>>,
}

fn seed_all(store: &DieselStore, args: &SuiteBench) -> anyhow::Result<Seeded> {
    let largest = args.member_sizes.iter().copied().max().unwrap_or(0);
    let needed = args.users.max(largest + args.concurrency as u64);
    let ids = seed::users(store, 0..needed)?;
    let groups = seed::groups(store, &ids[..largest as usize], &args.member_sizes)?;
    let spares = ids[largest as usize..largest as usize + args.concurrency].to_vec();
    let users = ids[..args.users as usize].to_vec();
    Ok(Seeded {
        seeded: needed,
        users: Arc::new(users),
        groups,
        spares: Arc::new(spares),
    })
}

/// A well-spread pseudo-random index in `0..n` for a worker's request.
fn pick(worker: usize, seq: u64, n: usize) -> usize {
    let mut x = ((worker as u64) << 40 | seq).wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((x ^ (x >> 31)) % n.max(1) as u64) as usize
}

/// The request-driven rows, by name: (name, concurrency, builder).
fn scenarios(seeded: &Seeded, run: usize, concurrency: usize) -> Vec<(String, usize, MakeRequest)> {
    let users = seeded.users.clone();
    let by_id: MakeRequest = Arc::new(move |w, s| {
        Request::get(format!("/scim/v2/Users/{}", users[pick(w, s, users.len())]))
    });
    let count = seeded.users.len();
    let eq: MakeRequest = Arc::new(move |w, s| {
        let filter = format!(
            "userName eq \"{}\"",
            seed::user_name(pick(w, s, count) as u64)
        );
        Request::get(format!(
            "/scim/v2/Users?filter={}",
            super::query::q(&filter)
        ))
    });
    let post: MakeRequest = Arc::new(move |w, s| {
        let name = format!("post-{run}-{w}-{s}@example.com");
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": name, "displayName": format!("Posted {w} {s}"),
            "name": {"givenName": "Posted", "familyName": format!("W{w}")},
            "emails": [{"value": name, "type": "work", "primary": true}],
        });
        Request::json("POST", "/scim/v2/Users".into(), &body)
    });
    let users = seeded.users.clone();
    let patch: MakeRequest = Arc::new(move |w, s| {
        let body = json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "replace", "path": "displayName", "value": format!("Renamed {run} {w} {s}")}]});
        let id = &users[pick(w, s, users.len())];
        Request::json("PATCH", format!("/scim/v2/Users/{id}"), &body)
    });
    let auth_only: MakeRequest =
        Arc::new(|_, _| Request::get("/scim/v2/ServiceProviderConfig".into()));
    let mut rows: Vec<(String, usize, MakeRequest)> = vec![
        (
            "GET /ServiceProviderConfig (token check only)".into(),
            concurrency,
            auth_only,
        ),
        ("GET /Users/{id}".into(), concurrency, by_id),
        (
            "GET /Users?filter=userName eq".into(),
            concurrency,
            eq.clone(),
        ),
        ("  the same, 1 client (latency)".into(), 1, eq),
        ("POST /Users".into(), concurrency, post),
        (
            "PATCH /Users/{id} replace displayName".into(),
            concurrency,
            patch,
        ),
    ];
    for (size, group) in &seeded.groups {
        let (spares, path) = (seeded.spares.clone(), format!("/scim/v2/Groups/{group}"));
        // Each worker adds, then removes, its own spare user: the size holds.
        let member: MakeRequest = Arc::new(move |w, s| {
            let op = if s.is_multiple_of(2) { "add" } else { "remove" };
            let who = [spares[w % spares.len()].clone()];
            Request::json("PATCH", path.clone(), &members_op(op, &who))
        });
        rows.push((
            format!("group member add/remove, {size} members"),
            concurrency,
            member,
        ));
    }
    rows
}

pub fn run_suite_bench(args: &SuiteBench) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.runs > 0 && args.concurrency > 0 && args.users > 0 && args.instances > 0,
        "--users, --runs, --concurrency and --instances must be at least 1"
    );
    let dir = tempfile::tempdir()?;
    let url = seed::database_url(args.database.as_deref(), &dir);
    anyhow::ensure!(
        args.instances == 1 || url.starts_with("postgres"),
        "several instances share one PostgreSQL database: give --database postgres://…"
    );
    let (seeded, token) = {
        let store = DieselStore::open(&url, 8)?;
        let seeded = seed_all(&store, args)?;
        let scopes = vec!["scim:read".into(), "scim:write".into()];
        (seeded, tokens::create(&store, "bench", scopes, None)?)
    };
    // Seeding's memory and connections are gone before the servers start.
    let servers = (0..args.instances)
        .map(|_| ServerProcess::start(&url))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let bench = HookTarget {
        addr: servers[0].addr,
        token,
        sync_users: args.sync_users,
    };
    let result = runtime.block_on(measure(args, &seeded, &bench, &servers));
    // Read while the servers still hold their pooled connections: the
    // largest instance.
    let memory = [
        (RSS_ROWS[0], "VmHWM:"),
        (RSS_ROWS[1], "RssAnon:"),
        (RSS_ROWS[2], "RssFile:"),
    ]
    .map(|(name, field)| {
        let largest = servers
            .iter()
            .filter_map(|s| s.memory_mib(field))
            .max_by(f64::total_cmp);
        Row::single(
            name,
            largest.map(|mib| Measurement {
                value: mib,
                unit: "MiB",
                p50: None,
                p99: None,
                cpu_us: None,
            }),
        )
    });
    servers.into_iter().for_each(ServerProcess::stop);
    let mut rows = result?;
    rows.extend(memory);
    let report = Report::new(args, &url, rows);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    Ok(())
}

async fn measure(
    args: &SuiteBench,
    seeded: &Seeded,
    bench: &HookTarget,
    servers: &[ServerProcess],
) -> anyhow::Result<Vec<Row>> {
    let load = Load {
        addrs: servers.iter().map(|s| s.addr).collect(),
        authorization: format!("Bearer {}", bench.token),
        concurrency: args.concurrency,
        warmup: (args.duration / 5).min(Duration::from_secs(1)),
        duration: args.duration,
        server_pids: servers.iter().map(ServerProcess::pid).collect(),
    };
    // Users the servers acknowledged creating, to find them all afterwards.
    let mut created = 0u64;
    let client = reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(2))
        .build()?;
    let base = format!("http://{}/scim/v2", bench.addr);
    let static_route: MakeRequest = Arc::new(|_, _| Request::get("/livez".into()));
    let mut ceiling = Row::new("static JSON GET /livez (ceiling)");
    let mut rows: Vec<Row> = Vec::new();
    let mut bulk = Row::new(BULK_ROW);
    let mut full_sync = Row::new(FULL_SYNC_ROW);
    let mut downstream = Row::new(DOWNSTREAM_ROW);
    for run in 0..args.runs {
        eprintln!("run {} of {}", run + 1, args.runs);
        let top = load::drive(&load, static_route.clone()).await?;
        ceiling.push(top.into(), Some(1.0));
        let chosen = scenarios(seeded, run, args.concurrency)
            .into_iter()
            .filter(|(name, _, _)| args.wants(name));
        for (i, (name, concurrency, make)) in chosen.enumerate() {
            let load = Load {
                concurrency,
                ..load.clone()
            };
            let outcome = load::drive(&load, make).await?;
            if name.starts_with("POST /Users") {
                created += outcome.acknowledged;
            }
            if rows.len() <= i {
                rows.push(Row::new(&name));
            }
            rows[i].push(outcome.into(), Some(outcome.per_second / top.per_second));
        }
        if args.wants(BULK_ROW) {
            let (rate, bulk_created) = bulk_rate(
                &client,
                &base,
                &bench.token,
                &format!("suite{run}"),
                args.bulk_rounds,
            )
            .await?;
            created += bulk_created;
            bulk.push(
                Measurement {
                    value: rate,
                    unit: "users/s",
                    p50: None,
                    p99: None,
                    cpu_us: None,
                },
                None,
            );
        }
        if args.wants(FULL_SYNC_ROW) {
            full_sync.push(sync_hooks::full_sync_10k(bench).await?, None);
        }
        if args.wants(DOWNSTREAM_ROW) {
            downstream.push(sync_hooks::change_to_downstream(bench).await?, None);
        }
    }
    let stored = stored_users(&client, &base, &bench.token).await?;
    let expected = seeded.seeded + created;
    anyhow::ensure!(
        stored == expected,
        "{expected} users acknowledged (seeded and created), {stored} stored: writes were lost"
    );
    let mut all = vec![ceiling];
    all.extend(rows);
    all.extend(
        [bulk, full_sync, downstream]
            .into_iter()
            .filter(|row| args.wants(&row.name)),
    );
    all.push(Row::single(
        STORED_ROW,
        Some(Measurement {
            value: stored as f64,
            unit: "users",
            p50: None,
            p99: None,
            cpu_us: None,
        }),
    ));
    Ok(all)
}

/// How many users the store holds, as a client sees it (any instance
/// answers the same on one database).
async fn stored_users(client: &reqwest::Client, base: &str, token: &str) -> anyhow::Result<u64> {
    let r = client
        .get(format!("{base}/Users?count=0"))
        .bearer_auth(token)
        .send()
        .await?;
    anyhow::ensure!(r.status().is_success(), "counting users: {}", r.status());
    let body: serde_json::Value = r.json().await?;
    body["totalResults"]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("no totalResults in {body}"))
}
