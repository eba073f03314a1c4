//! Inbound benchmarks (issue #17): an HR export of N rows (a share of them
//! invalid, from `tests/data/make_org.py`) imported into an empty store, a
//! no-change re-import, and an incremental import of changes from a real
//! slapd — through the same service as `scimhub source run`.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

use super::machine::Machine;
use super::slapd::{ADMIN_DN, ADMIN_PASSWORD, BASE_DN, Slapd};
use crate::config::Config;
use crate::crypto::SecretKey;
use crate::provision::source::{ImportOptions, ImportReport, RunMode};
use crate::service::Services;
use crate::store::Actor;
use crate::store::diesel::DieselStore;

const MAKE_ORG: &str = include_str!("../../tests/data/make_org.py");
const HR_MAPPING: &str = include_str!("../../tests/data/hr-mapping.toml");

#[derive(Debug, Clone)]
pub struct SourcesBench {
    /// Rows of the HR export.
    pub people: usize,
    /// Share of them that must be refused.
    pub bad: f64,
    /// People in the LDAP directory (0: no LDAP part).
    pub ldap_people: usize,
    /// Entries changed before the incremental LDAP import.
    pub changes: usize,
    /// An empty database (default: a fresh SQLite file per part).
    pub database: Option<String>,
}

/// Writes an organization with make_org.py into `dir`.
fn make_org(dir: &Path, people: usize, bad: f64) -> anyhow::Result<()> {
    let script = dir.join("make_org.py");
    std::fs::write(&script, MAKE_ORG)?;
    let departments = (people / 1000).clamp(60, 500);
    let out = Command::new("python3")
        .arg(&script)
        .arg(dir)
        .args(["--people", &people.to_string()])
        .args(["--departments", &departments.to_string()])
        .args(["--bad", &bad.to_string()])
        .output()
        .context("python3 is needed to write the benchmark's data (Debian: python3)")?;
    if !out.status.success() {
        bail!(
            "make_org.py failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

struct Hub {
    runtime: tokio::runtime::Runtime,
    services: Services,
    actor: Actor,
}

impl Hub {
    fn open(url: &str) -> anyhow::Result<Self> {
        let config = Config {
            database_url: url.to_string(),
            secret_key: Some(SecretKey(rand::random())),
            ..Config::default()
        };
        let store = Arc::new(DieselStore::open(url, 8)?);
        Ok(Self {
            runtime: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?,
            services: Services::new(store, &config)?,
            actor: Actor::system("bench"),
        })
    }

    fn add(&self, body: serde_json::Value) -> anyhow::Result<()> {
        self.runtime
            .block_on(self.services.sources.add(&self.actor, body))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(())
    }

    /// One run, timed.
    fn run(&self, name: &str, mode: RunMode) -> anyhow::Result<(ImportReport, Duration)> {
        let options = ImportOptions {
            mode,
            trigger: "bench".into(),
            ..ImportOptions::default()
        };
        let start = Instant::now();
        let report = self
            .runtime
            .block_on(
                self.services
                    .sources
                    .run_now(&self.actor, name, options, None),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let took = start.elapsed();
        if let Some(e) = &report.error {
            bail!("the {name} run failed: {e}");
        }
        Ok((report, took))
    }
}

fn database(args: &SourcesBench, dir: &Path, part: &str) -> String {
    args.database
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.join(format!("{part}.db")).display()))
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

pub fn run_sources_bench(args: &SourcesBench) -> anyhow::Result<()> {
    println!("{}", Machine::describe().summary());
    let dir = tempfile::tempdir()?;
    let hr_dir = dir.path().join("hr");
    std::fs::create_dir(&hr_dir)?;
    make_org(&hr_dir, args.people, args.bad)?;
    let hub = Hub::open(&database(args, dir.path(), "hr"))?;
    let path = |f: &str| hr_dir.join(f).to_string_lossy().into_owned();
    hub.add(json!({
        "name": "hr", "kind": "file", "mapping": HR_MAPPING,
        "settings": {"path": path("people.csv"), "departments_path": path("departments.csv"),
                     "phone_region": "US", "required": ["name.familyName"]}
    }))?;
    let (first, took) = hub.run("hr", RunMode::Full)?;
    let c = &first.counts;
    println!(
        "HR CSV import into an empty store: {} rows read, {} created, {} refused: {} ({:.0} rows/s)",
        c.read,
        c.created,
        c.failed,
        secs(took),
        c.read as f64 / took.as_secs_f64()
    );
    let (again, took) = hub.run("hr", RunMode::Full)?;
    println!(
        "no-change re-import: {} unchanged, {} written: {}",
        again.counts.unchanged,
        again.counts.created + again.counts.updated + again.counts.member_patches,
        secs(took)
    );
    drop(hub);

    if args.ldap_people == 0 {
        return Ok(());
    }
    let ldap_dir = dir.path().join("ldap");
    std::fs::create_dir(&ldap_dir)?;
    make_org(&ldap_dir, args.ldap_people, args.bad)?;
    let start = Instant::now();
    let slapd = Slapd::start(&ldap_dir.join("org.ldif"))?;
    println!(
        "slapd with {} people loaded: {}",
        args.ldap_people,
        secs(start.elapsed())
    );
    let hub = Hub::open(&database(args, dir.path(), "ldap"))?;
    hub.add(json!({
        "name": "dir", "kind": "ldap",
        "settings": {"url": slapd.url, "base_dn": BASE_DN, "phone_region": "US", "page_size": 1000},
        "credentials": {"kind": "basic", "username": ADMIN_DN, "password": ADMIN_PASSWORD}
    }))?;
    let (full, took) = hub.run("dir", RunMode::Full)?;
    println!(
        "LDAP full import: {} entries read, {} created: {}",
        full.counts.read,
        full.counts.created,
        secs(took)
    );
    // modifyTimestamp counts seconds, and an incremental run reads again
    // what changed in the second its last read ended in (nothing is lost
    // to a write in that same second). Right after a bulk load that second
    // holds the whole directory, so one round of changes and an incremental
    // run come first; the second round is the steady state measured.
    let ldif = std::fs::read_to_string(ldap_dir.join("org.ldif"))?;
    let dns: Vec<&str> = ldif
        .lines()
        .filter_map(|l| l.strip_prefix("dn: "))
        .filter(|dn| dn.starts_with("uid=E"))
        .take(args.changes)
        .collect();
    let mut measured = None;
    for round in ["settling", "measured"] {
        std::thread::sleep(Duration::from_millis(1100));
        let changes: String = dns
            .iter()
            .map(|dn| format!("dn: {dn}\nchangetype: modify\nreplace: title\ntitle: {round}\n\n"))
            .collect();
        slapd.modify(&changes)?;
        measured = Some(hub.run("dir", RunMode::Incremental)?);
    }
    if let Some((inc, took)) = measured {
        println!(
            "LDAP incremental import of {} changes: {} entries read, {} updated: {}",
            dns.len(),
            inc.counts.read,
            inc.counts.updated,
            secs(took)
        );
    }
    Ok(())
}
