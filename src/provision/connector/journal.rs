//! On-demand provisioning's record of a connector's operations (operation,
//! object, changes, outcome) for systems that do not speak HTTP, and its dry
//! run: writes are recorded as "would send" and not sent; an object the dry
//! run would add gets a made-up id and is read back from here.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use crate::provision::client::{DRY_RUN_ID_PREFIX, Exchange, ExchangeSink};
use crate::provision::connector::ConnectorError;

pub struct Journal {
    sink: Arc<dyn ExchangeSink>,
    dry_run: bool,
    drafts: Mutex<HashMap<String, Value>>,
    next_id: AtomicU32,
}

impl Journal {
    pub fn new(sink: Arc<dyn ExchangeSink>, dry_run: bool) -> Self {
        Self {
            sink,
            dry_run,
            drafts: Mutex::new(HashMap::new()),
            next_id: AtomicU32::new(1),
        }
    }

    pub fn dry_run(&self) -> bool {
        self.dry_run
    }

    fn drafts(&self) -> std::sync::MutexGuard<'_, HashMap<String, Value>> {
        self.drafts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A made-up id for an entry the dry run would add, remembered with it.
    pub fn draft(&self, mut object: Value) -> String {
        let id = format!(
            "{DRY_RUN_ID_PREFIX}{}",
            self.next_id.fetch_add(1, Ordering::Relaxed)
        );
        if let Some(o) = object.as_object_mut() {
            o.insert("id".into(), Value::String(id.clone()));
        }
        self.drafts().insert(id.clone(), object);
        id
    }

    /// An entry this dry run made up.
    pub fn drafted(&self, id: &str) -> Option<Value> {
        self.drafts().get(id).cloned()
    }

    /// Records one operation: `sent` false for a dry run's write.
    pub fn note(
        &self,
        operation: &str,
        dn: &str,
        body: Option<Value>,
        sent: bool,
        outcome: Result<Option<usize>, &ConnectorError>,
    ) {
        let mut exchange = Exchange {
            method: operation.to_string(),
            path: dn.to_string(),
            body,
            sent,
            status: None,
            remote_id: None,
            found: None,
            error: None,
        };
        match outcome {
            Ok(found) => exchange.found = found,
            Err(e) => {
                exchange.status = e.status();
                exchange.error = Some(e.to_string());
            }
        }
        self.sink.record(exchange);
    }
}
