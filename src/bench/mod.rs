//! `scimhub bench …`: reproducible benchmarks that print numbers. They run
//! the real server on loopback over a fresh database: in-process, or as a
//! process of its own where its memory is measured (`bench suite`).

mod departments;
mod departments_sync;
mod load;
mod machine;
mod process;
mod query;
mod report;
mod seed;
pub mod slapd;
mod sources;
mod suite;
mod sync;
mod sync_hooks;
mod writes;

pub use departments::{DepartmentBench, run_department_bench};
pub use query::{QueryBench, run_query_bench};
pub use sources::{SourcesBench, run_sources_bench};
pub use suite::{SuiteBench, run_suite_bench};
pub use sync::{SyncBench, SyncNumbers, run_sync_bench};
pub use writes::{WriteBench, run_write_bench};

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;

use crate::config::Config;
use crate::service::Services;
use crate::store::diesel::DieselStore;

/// The real HTTP server on a loopback port, on its own thread.
pub struct Server {
    pub addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    thread: JoinHandle<()>,
}

impl Server {
    pub fn start(store: Arc<DieselStore>, url: &str) -> anyhow::Result<Self> {
        let config = Config {
            listen: "127.0.0.1:0".into(),
            database_url: url.to_string(),
            workers: Some(2),
            // Benchmarks measure the server, not the limiter.
            rate_limit_per_second: 0.0,
            ..Config::default()
        };
        let services = Services::new(store, &config)?;
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                match crate::http::bind(&config, services) {
                    Ok((server, addr)) => {
                        let _ = tx.send(Ok((server.handle(), addr)));
                        let _ = server.await;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            });
        });
        let (handle, addr) = rx.recv().context("server did not start")??;
        Ok(Self {
            addr,
            handle,
            thread,
        })
    }

    pub fn stop(self) {
        drop(self.handle.stop(true));
        let _ = self.thread.join();
    }
}

/// p50 / p99 / mean of latencies.
pub fn summarize(mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    if samples.is_empty() {
        return (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    (at(0.50), at(0.99), mean)
}

pub fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}
