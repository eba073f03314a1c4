//! What planning needs to know of the store, read once per run: this
//! source's links, every user's userName, e-mail addresses and
//! employeeNumber, which ids exist, and which users other sources supply.

use std::collections::HashMap;

use super::plan::{Index, LinkRefs, LinkState, emails, employee_number};
use crate::scim::ResourceKind;
use crate::store::{ListQuery, SourceRecord, SourceStore, Store, StoreError};

pub fn load(
    store: &dyn Store,
    sources: &dyn SourceStore,
    source: &SourceRecord,
) -> Result<Index, StoreError> {
    let mut index = Index::default();
    for kind in [ResourceKind::User, ResourceKind::Group] {
        for l in sources.source_links(&source.id, kind.as_str())? {
            let refs: LinkRefs = l
                .refs
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok())
                .unwrap_or_default();
            if kind == ResourceKind::User {
                index
                    .linked_users
                    .insert(l.local_id.clone(), l.external_key.clone());
            }
            index.links.insert(
                (kind, l.external_key),
                LinkState {
                    local_id: l.local_id,
                    hash: l.state_hash,
                    refs,
                },
            );
        }
    }
    let bare = ListQuery {
        with_members: false,
        with_groups: false,
        ..ListQuery::all()
    };
    for u in store.list_users(&bare)?.items {
        if let Some(name) = u.attributes.get("userName").and_then(|v| v.as_str()) {
            index.by_user_name.insert(name.to_lowercase(), u.id.clone());
        }
        for mail in emails(&u.attributes) {
            index.by_email.entry(mail).or_insert_with(|| u.id.clone());
        }
        if let Some(n) = employee_number(&u.attributes) {
            index.by_number.entry(n).or_insert_with(|| u.id.clone());
        }
        index.user_ids.insert(u.id);
    }
    for g in store.list_groups(&bare)?.items {
        index.group_ids.insert(g.id);
    }
    let names: HashMap<String, String> = sources
        .list_sources()?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    for (local, owner) in sources.source_link_owners(ResourceKind::User.as_str())? {
        if owner != source.id
            && let Some(name) = names.get(&owner)
        {
            index.other_sources.insert(local, name.clone());
        }
    }
    Ok(index)
}
