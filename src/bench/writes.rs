//! Write benchmarks: /Bulk user imports (into a fresh store, and again into
//! one holding 100,000 more users), single-member add/remove at several group
//! sizes (interleaved, so machine noise hits every size alike; the cost must
//! not grow with the group), group reads without members, and a 1,000-member
//! add in one PATCH.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Server, ms, seed, summarize};
use crate::service::tokens;
use crate::store::diesel::DieselStore;

#[derive(Debug, Clone)]
pub struct WriteBench {
    /// Group sizes to measure single-member changes at.
    pub sizes: Vec<u64>,
    /// Add/remove pairs timed per size.
    pub changes: usize,
    /// /Bulk requests of 1,000 user creations per phase.
    pub bulk_rounds: usize,
}

pub(super) use crate::scim::patch::PATCH_OP_SCHEMA as PATCH_OP;

pub(super) fn members_op(op: &str, ids: &[String]) -> Value {
    let values: Vec<Value> = ids.iter().map(|id| json!({"value": id})).collect();
    json!({"schemas": [PATCH_OP], "Operations": [{"op": op, "path": "members", "value": values}]})
}

/// Groups by size (size, id), and spare user ids to add and remove.
type Seeded = (Vec<(u64, String)>, Vec<String>);

fn seed_groups(store: &DieselStore, sizes: &[u64]) -> anyhow::Result<Seeded> {
    let largest = sizes.iter().copied().max().unwrap_or(0);
    // The members, plus spare users to add and remove.
    let ids = seed::users(store, 0..largest + 2_000)?;
    let (members, extra) = ids.split_at(largest as usize);
    Ok((seed::groups(store, members, sizes)?, extra.to_vec()))
}

/// Median users/s of `rounds` sequential /Bulk requests of 1,000 user
/// creations each, and how many users they created; `label` keeps the
/// userNames of different calls apart.
pub(super) async fn bulk_rate(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    label: &str,
    rounds: usize,
) -> anyhow::Result<(f64, u64)> {
    let (mut rates, mut created) = (Vec::new(), 0);
    for round in 0..rounds {
        let ops: Vec<Value> = (0..1_000)
            .map(|k| {
                json!({"method": "POST", "bulkId": format!("b{k}"), "path": "/Users",
                    "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": format!("bulk-{label}-{round}-{k}@example.com")}})
            })
            .collect();
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops});
        let t = Instant::now();
        let r = client
            .post(format!("{base}/Bulk"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "bulk: {}", r.status());
        let answer: Value = r.json().await?;
        rates.push(1_000.0 / t.elapsed().as_secs_f64());
        created += answer["Operations"]
            .as_array()
            .map_or(0, |ops| ops.iter().filter(|o| o["status"] == "201").count())
            as u64;
    }
    rates.sort_by(f64::total_cmp);
    Ok((rates.get(rates.len() / 2).copied().unwrap_or(0.0), created))
}

pub fn run_write_bench(args: &WriteBench) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = Arc::new(DieselStore::open(&url, 8)?);
    let token = tokens::create(
        store.as_ref(),
        "bench",
        vec!["scim:read".into(), "scim:write".into()],
        None,
    )?;
    let server = Server::start(store.clone(), &url)?;
    let base = format!("http://{}/scim/v2", server.addr);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result: anyhow::Result<()> = runtime.block_on(async {
        // Idle pooled connections are dropped before the server's idle timeout closes them.
        let client = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(2))
            .build()?;
        println!("scimhub write benchmark (SQLite, sequential requests over loopback)");
        let (fresh, _) = bulk_rate(&client, &base, &token, "fresh", args.bulk_rounds).await?;
        let (groups, extra) = seed_groups(&store, &args.sizes)?;
        let send = |path: String, body: Value| {
            let req = client
                .patch(format!("{base}{path}"))
                .bearer_auth(&token)
                .json(&body);
            async move {
                let t = Instant::now();
                let r = req.send().await?;
                anyhow::ensure!(
                    r.status().is_success(),
                    "{}: {}",
                    r.status(),
                    r.text().await.unwrap_or_default()
                );
                Ok::<Duration, anyhow::Error>(t.elapsed())
            }
        };
        let mut adds = vec![Vec::new(); groups.len()];
        let mut removes = vec![Vec::new(); groups.len()];
        let mut reads = vec![Vec::new(); groups.len()];
        for k in 0..args.changes {
            let who = vec![extra[k % extra.len()].clone()];
            for (g, (_, group)) in groups.iter().enumerate() {
                adds[g].push(send(format!("/Groups/{group}"), members_op("add", &who)).await?);
                removes[g]
                    .push(send(format!("/Groups/{group}"), members_op("remove", &who)).await?);
                let t = Instant::now();
                let r = client
                    .get(format!("{base}/Groups/{group}?excludedAttributes=members"))
                    .bearer_auth(&token)
                    .send()
                    .await?;
                anyhow::ensure!(r.status().is_success(), "GET group: {}", r.status());
                let _: Value = r.json().await?;
                reads[g].push(t.elapsed());
            }
        }
        println!(
            "{:<48} {:>10} {:>10} {:>10}",
            "scenario", "p50 ms", "p99 ms", "mean ms"
        );
        for (g, (size, _)) in groups.iter().enumerate() {
            for (name, samples) in [
                ("member add", &adds[g]),
                ("member remove", &removes[g]),
                ("GET, excludedAttributes=members", &reads[g]),
            ] {
                let (p50, p99, mean) = summarize(samples.clone());
                println!(
                    "{:<48} {:>10} {:>10} {:>10}",
                    format!("{name}, group of {size}"),
                    ms(p50),
                    ms(p99),
                    ms(mean)
                );
            }
        }
        if let Some((size, group)) = groups.last() {
            let thousand: Vec<String> = extra[..1_000.min(extra.len())].to_vec();
            let took = send(format!("/Groups/{group}"), members_op("add", &thousand)).await?;
            println!(
                "{:<48} {:>10}",
                format!("1,000 members in one PATCH (group of {size})"),
                ms(took)
            );
        }
        let (loaded, _) = bulk_rate(&client, &base, &token, "loaded", args.bulk_rounds).await?;
        println!(
            "{:<48} {:>10.0}",
            "/Bulk 1,000-user import into a fresh store, users/s", fresh
        );
        println!(
            "{:<48} {:>10.0}",
            "/Bulk 1,000-user import, 100k users stored, users/s", loaded
        );
        Ok(())
    });
    server.stop();
    result
}
