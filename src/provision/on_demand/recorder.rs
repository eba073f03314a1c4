//! The step recorder a push session writes to when provisioning on demand
//! (the real-time worker's sessions have none): the steps in order, the
//! client's exchanges among them, and in a dry run the id-map rows a real
//! push would have written (later reads of this session see them; the
//! store does not).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::report::Step;
use crate::provision::client::{Exchange, ExchangeSink};
use crate::scim::ResourceKind;
use crate::store::LinkRecord;

/// Staged id-map rows: `None` is a removed link.
type Staged = HashMap<(ResourceKind, String), Option<LinkRecord>>;

pub struct Recorder {
    dry_run: bool,
    steps: Mutex<Vec<Step>>,
    staged: Mutex<Staged>,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Recorder {
    pub fn new(dry_run: bool) -> Self {
        Self {
            dry_run,
            steps: Mutex::new(Vec::new()),
            staged: Mutex::new(HashMap::new()),
        }
    }

    pub fn dry_run(&self) -> bool {
        self.dry_run
    }

    pub fn note(&self, step: Step) {
        locked(&self.steps).push(step);
    }

    /// The steps recorded since the last call.
    pub fn take(&self) -> Vec<Step> {
        std::mem::take(&mut *locked(&self.steps))
    }

    /// A dry run's id-map row for the object: `Some(None)` when it removed
    /// the link, `None` when it did not touch it.
    pub fn staged_link(&self, kind: ResourceKind, local_id: &str) -> Option<Option<LinkRecord>> {
        locked(&self.staged)
            .get(&(kind, local_id.to_string()))
            .cloned()
    }

    pub fn stage_link(&self, kind: ResourceKind, local_id: &str, link: Option<LinkRecord>) {
        locked(&self.staged).insert((kind, local_id.to_string()), link);
    }

    /// `links` (the store's rows of `kind`) as the dry run left them.
    pub fn overlay(&self, kind: ResourceKind, links: &mut Vec<LinkRecord>) {
        let staged = locked(&self.staged);
        let mine = staged.iter().filter(|((k, _), _)| *k == kind);
        for ((_, local_id), link) in mine {
            links.retain(|l| &l.local_id != local_id);
            links.extend(link.clone());
        }
    }
}

impl ExchangeSink for Recorder {
    fn record(&self, exchange: Exchange) {
        self.note(Step::Request(exchange));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(local: &str, remote: &str) -> LinkRecord {
        LinkRecord {
            local_id: local.into(),
            remote_id: remote.into(),
            state_hash: "h".into(),
        }
    }

    #[test]
    fn staged_links_replace_add_and_remove_stored_ones() {
        let r = Recorder::new(true);
        r.stage_link(ResourceKind::User, "a", Some(link("a", "new-a")));
        r.stage_link(ResourceKind::User, "b", None);
        r.stage_link(ResourceKind::User, "c", Some(link("c", "rc")));
        r.stage_link(ResourceKind::Group, "a", None);
        let mut users = vec![link("a", "old-a"), link("b", "rb"), link("d", "rd")];
        r.overlay(ResourceKind::User, &mut users);
        let mut pairs: Vec<(String, String)> = users
            .into_iter()
            .map(|l| (l.local_id, l.remote_id))
            .collect();
        pairs.sort();
        assert_eq!(
            pairs,
            [("a", "new-a"), ("c", "rc"), ("d", "rd")].map(|(l, r)| (l.to_string(), r.to_string()))
        );
        assert_eq!(r.staged_link(ResourceKind::User, "b"), Some(None));
        assert_eq!(r.staged_link(ResourceKind::User, "d"), None);
    }

    #[test]
    fn exchanges_become_request_steps_in_order() {
        let r = Recorder::new(false);
        r.note(Step::Skipped { reason: "x".into() });
        r.record(Exchange {
            method: "GET".into(),
            path: "/Users".into(),
            body: None,
            sent: true,
            status: Some(200),
            remote_id: None,
            found: Some(0),
            error: None,
        });
        let steps = r.take();
        assert_eq!(steps.len(), 2);
        assert!(matches!(steps[1], Step::Request(ref e) if e.path == "/Users"));
        assert!(r.take().is_empty());
    }
}
