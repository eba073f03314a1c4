//! The CLI's way into the service layer: the same use cases (and the same
//! audit rows) as the admin API, with the OS user as the actor.

use std::sync::Arc;

use crate::config::Config;
use crate::service::Services;
use crate::store::Actor;
use crate::store::diesel::DieselStore;

pub(super) struct Door {
    pub runtime: tokio::runtime::Runtime,
    pub services: Services,
    pub actor: Actor,
}

impl Door {
    pub fn open(config: &Config) -> anyhow::Result<Self> {
        let store = Arc::new(DieselStore::open(&config.database_url, config.pool_size)?);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        Ok(Self {
            runtime,
            services: Services::new(store, config)?,
            actor: Actor::system(&cli_actor()),
        })
    }

    /// Runs one use case to its end.
    pub fn block_on<T>(&self, work: impl std::future::Future<Output = T>) -> T {
        self.runtime.block_on(work)
    }
}

/// `cli:<OS user>`, or `cli` when the user is unknown.
pub fn cli_actor() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.trim().is_empty())
        .map_or_else(|| "cli".to_string(), |u| format!("cli:{u}"))
}
