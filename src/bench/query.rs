//! The query benchmark: seeds N users, then times the filters real clients
//! send, end to end over HTTP, one request at a time (latency).

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::Value;

use super::{ms, seed, summarize};
use crate::service::tokens;
use crate::store::diesel::DieselStore;

#[derive(Debug, Clone)]
pub struct QueryBench {
    pub users: u64,
    pub requests: usize,
    /// A database URL; a fresh SQLite file in a temp dir when None.
    pub database: Option<String>,
}

/// A named request path, built from a random user number.
type Scenario = (&'static str, Box<dyn Fn(u64) -> String>);

pub(super) fn q(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub fn run_query_bench(args: &QueryBench) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = seed::database_url(args.database.as_deref(), &dir);
    let store = Arc::new(DieselStore::open(&url, 8)?);
    seed::users(&store, 0..args.users)?;
    let token = tokens::create(store.as_ref(), "bench", vec!["scim:read".into()], None)?;
    let server = super::Server::start(store.clone(), &url)?;
    let addr = server.addr;
    let base = format!("http://{addr}/scim/v2");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let users = args.users.max(1);
    let scenarios: Vec<Scenario> = vec![
        (
            "userName eq",
            Box::new(|i| {
                format!(
                    "/Users?filter={}",
                    q(&format!("userName eq \"USER{i}@example.com\""))
                )
            }),
        ),
        (
            "externalId eq",
            Box::new(|i| format!("/Users?filter={}", q(&format!("externalId eq \"ext-{i}\"")))),
        ),
        (
            "emails[type eq \"work\"].value eq",
            Box::new(|i| {
                format!(
                    "/Users?filter={}",
                    q(&format!(
                        "emails[type eq \"work\"].value eq \"user{i}@example.com\""
                    ))
                )
            }),
        ),
        (
            "name.familyName sw (count=10)",
            Box::new(|i| {
                format!(
                    "/Users?count=10&filter={}",
                    q(&format!("name.familyName sw \"fam{}\"", i % 100_000))
                )
            }),
        ),
        (
            "sortBy=userName page (count=100)",
            Box::new(|i| {
                format!(
                    "/Users?sortBy=userName&count=100&startIndex={}",
                    i % 10_000 + 1
                )
            }),
        ),
        (
            "GET /Users/{id}-like by userName eq, attributes=id",
            Box::new(|i| {
                format!(
                    "/Users?attributes=id&filter={}",
                    q(&format!("userName eq \"user{i}@example.com\""))
                )
            }),
        ),
    ];
    println!(
        "scimhub query benchmark: {} users, {} sequential requests per scenario",
        args.users, args.requests
    );
    println!(
        "{:<48} {:>10} {:>10} {:>10} {:>10}",
        "scenario", "p50 ms", "p99 ms", "mean ms", "req/s"
    );
    let result: anyhow::Result<()> = runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut rng = rand::rng();
        for (name, path) in &scenarios {
            // Warm up, then measure.
            for _ in 0..20 {
                client
                    .get(format!("{base}{}", path(rng.random_range(0..users))))
                    .bearer_auth(&token)
                    .send()
                    .await?;
            }
            let mut samples: Vec<Duration> = Vec::with_capacity(args.requests);
            for _ in 0..args.requests {
                let url = format!("{base}{}", path(rng.random_range(0..users)));
                let t = Instant::now();
                let resp = client.get(url).bearer_auth(&token).send().await?;
                let status = resp.status();
                let body: Value = resp.json().await?;
                samples.push(t.elapsed());
                anyhow::ensure!(status.is_success(), "{name}: {status} {body}");
            }
            let total: Duration = samples.iter().sum();
            let (p50, p99, mean) = summarize(samples);
            let rps = args.requests as f64 / total.as_secs_f64();
            println!(
                "{name:<48} {:>10} {:>10} {:>10} {rps:>10.0}",
                ms(p50),
                ms(p99),
                ms(mean)
            );
        }
        Ok(())
    });
    server.stop();
    result
}
