//! What planning needs to know of the store, read once per run: this
//! source's links, every user's userName, e-mail addresses and
//! employeeNumber (from the indexed columns: no document is parsed), which
//! users, groups and departments exist, and which users other sources supply.

use std::collections::HashMap;

use super::plan::{Index, LinkRefs, LinkState};
use crate::scim::ResourceKind;
use crate::store::{SourceRecord, SourceStore, StoreError};

pub fn load(sources: &dyn SourceStore, source: &SourceRecord) -> Result<Index, StoreError> {
    let mut index = Index::default();
    for kind in [
        ResourceKind::User,
        ResourceKind::Group,
        ResourceKind::Department,
    ] {
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
    let (users, groups) = sources.user_facts()?;
    for u in users {
        index.by_user_name.insert(u.user_name, u.id.clone());
        for mail in u.emails {
            index.by_email.entry(mail).or_insert_with(|| u.id.clone());
        }
        if let Some(n) = u.employee_number {
            index.by_number.entry(n).or_insert_with(|| u.id.clone());
        }
        index.user_ids.insert(u.id);
    }
    index.group_ids.extend(groups);
    index.department_ids.extend(sources.department_ids()?);
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
