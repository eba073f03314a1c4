//! The LDAP / Active Directory connector (RFC 4511, over `ldap3`): users
//! and groups as entries placed by DN templates, attributes from the
//! target's mapping, renames and moves as modrdn, memberships as `member`
//! value changes, the manager as a DN, deactivation as an attribute change
//! or a move. An entry's id is its `entryUUID` (`objectGUID` on AD), so a
//! rename keeps the id map's link.

pub mod directory;
pub mod dn;
pub mod entry;
mod error;
mod ops;
pub mod schema;
pub mod settings;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use ldap3::{Scope, SearchEntry, ldap_escape};
use serde_json::Value;

use super::journal::Journal;
use super::{Capabilities, Connector, ConnectorError};
use crate::provision::client::{ExchangeSink, RateLimiter};
use crate::provision::plan::MatchKey;
use crate::scim::ResourceKind;
pub use directory::{Directory, Endpoint};
pub use error::{ANSWERED, describe as describe_result};
use error::{gone, refused};
use ops::{Change, Op};
use settings::{ACCOUNT_CONTROL, ACCOUNT_DISABLED};
pub use settings::{Deactivation, EntrySettings, LdapSettings};

/// Member values changed in one modify request.
pub const MEMBER_BATCH: usize = 500;
/// Ids looked up in one search (an OR filter).
const IDS_PER_SEARCH: usize = 50;
/// DNs looked up at once.
const DN_LOOKUPS_IN_FLIGHT: usize = 8;

pub struct LdapConnector {
    directory: Directory,
    settings: LdapSettings,
    users: Option<dn::DnTemplate>,
    groups: Option<dn::DnTemplate>,
    journal: Option<Journal>,
}

/// An operational attribute must be named to be read.
fn read_attributes(settings: &LdapSettings) -> Vec<&str> {
    vec!["*", settings.id_attribute.as_str()]
}

impl LdapConnector {
    pub fn new(
        endpoint: Endpoint,
        settings: LdapSettings,
        rate: Option<Arc<RateLimiter>>,
    ) -> Result<Self, ConnectorError> {
        let template = |e: &EntrySettings| {
            (!e.dn.is_empty())
                .then(|| dn::DnTemplate::parse(&e.dn))
                .transpose()
                .map_err(ConnectorError::Config)
        };
        Ok(Self {
            users: template(&settings.users)?,
            groups: template(&settings.groups)?,
            directory: Directory::new(endpoint, rate),
            settings,
            journal: None,
        })
    }

    /// Every operation from now on goes to `sink`; with `dry_run` no write
    /// is sent.
    pub fn with_recording(mut self, sink: Arc<dyn ExchangeSink>, dry_run: bool) -> Self {
        self.journal = Some(Journal::new(sink, dry_run));
        self
    }

    fn entries(&self, kind: ResourceKind) -> &EntrySettings {
        match kind {
            ResourceKind::User => &self.settings.users,
            ResourceKind::Group | ResourceKind::Department | ResourceKind::Plain(_) => {
                &self.settings.groups
            }
        }
    }

    fn template(&self, kind: ResourceKind) -> Result<&dn::DnTemplate, ConnectorError> {
        match kind {
            ResourceKind::User => self.users.as_ref(),
            ResourceKind::Group | ResourceKind::Department | ResourceKind::Plain(_) => {
                self.groups.as_ref()
            }
        }
        .ok_or_else(|| {
            ConnectorError::Config(format!(
                "the target has no DN template for {}",
                kind.endpoint()
            ))
        })
    }

    /// The filter matching the target's entries of `kind`, and `extra`.
    fn kind_filter(&self, kind: ResourceKind, extra: &str) -> String {
        let e = self.entries(kind);
        let classes: String = e
            .object_classes
            .iter()
            .map(|c| format!("(objectClass={})", ldap_escape(c.as_str())))
            .collect();
        let own = e.filter.as_deref().unwrap_or_default();
        format!("(&{classes}{own}{extra})")
    }

    fn dry_run(&self) -> bool {
        self.journal.as_ref().is_some_and(Journal::dry_run)
    }

    fn note_read(&self, what: &str, result: Result<usize, &ConnectorError>) {
        if let Some(j) = &self.journal {
            j.note("SEARCH", what, None, true, result.map(Some));
        }
    }

    /// Sends a write (or, in a dry run, records it unsent).
    async fn send(&self, op: Op) -> Result<(), ConnectorError> {
        let (name, dn, body) = op.describe();
        if let Some(j) = &self.journal
            && j.dry_run()
        {
            j.note(name, dn, Some(body), false, Ok(None));
            return Ok(());
        }
        let result = self
            .directory
            .run(|mut ldap| {
                let op = &op;
                async move { op.send(&mut ldap).await }
            })
            .await;
        if let Some(j) = &self.journal {
            j.note(name, dn, Some(body), true, result.as_ref().map(|_| None));
        }
        result
    }

    async fn search(
        &self,
        filter: &str,
        attrs: &[&str],
    ) -> Result<Vec<SearchEntry>, ConnectorError> {
        let base = &self.settings.base_dn;
        let found = self
            .directory
            .search_all(base, Scope::Subtree, filter, attrs)
            .await;
        self.note_read(filter, found.as_ref().map(Vec::len));
        found
    }

    /// The entry of `kind` with `id`.
    async fn entry(
        &self,
        kind: ResourceKind,
        id: &str,
    ) -> Result<Option<SearchEntry>, ConnectorError> {
        let filter = self.kind_filter(kind, &entry::id_filter(&self.settings.id_attribute, id));
        let found = self
            .search(&filter, &read_attributes(&self.settings))
            .await?;
        Ok(found.into_iter().next())
    }

    /// DNs of the entries with these ids (any kind), by id.
    async fn dns_of(&self, ids: &[String]) -> Result<HashMap<String, String>, ConnectorError> {
        let id_attr = self.settings.id_attribute.as_str();
        let mut out = HashMap::new();
        for chunk in ids.chunks(IDS_PER_SEARCH) {
            let any: String = chunk
                .iter()
                .map(|id| entry::id_filter(id_attr, id))
                .collect();
            for e in self.search(&format!("(|{any})"), &[id_attr]).await? {
                if let Some(id) = entry::id_of(&e, id_attr) {
                    out.insert(id, e.dn);
                }
            }
        }
        Ok(out)
    }

    /// Entry ids of these DNs, by normalized DN (DNs of no entry left out).
    async fn ids_of(&self, dns: Vec<String>) -> Result<HashMap<String, String>, ConnectorError> {
        let id_attr = self.settings.id_attribute.as_str();
        let unique: HashSet<String> = dns.into_iter().filter(|d| !d.trim().is_empty()).collect();
        stream::iter(unique)
            .map(|d| async move {
                let found = self
                    .directory
                    .search(&d, Scope::Base, "(objectClass=*)", &[id_attr])
                    .await;
                match found {
                    Ok(entries) => Ok(entries
                        .first()
                        .and_then(|e| entry::id_of(e, id_attr))
                        .map(|id| (dn::normalize(&d), id))),
                    Err(ConnectorError::Rejected { status: 404, .. }) => Ok(None),
                    Err(e) => Err(e),
                }
            })
            .buffer_unordered(DN_LOOKUPS_IN_FLIGHT)
            .try_filter_map(|found| async move { Ok(found) })
            .try_collect()
            .await
    }

    /// Entries as objects, the DNs they refer to looked up.
    async fn objects(
        &self,
        kind: ResourceKind,
        entries: Vec<SearchEntry>,
    ) -> Result<Vec<Value>, ConnectorError> {
        let dns: Vec<String> = entries
            .iter()
            .flat_map(|e| entry::referenced_dns(kind, e, &self.settings))
            .collect();
        // Many references (a big group): one listing beats a read each.
        let ids = if dns.len() > IDS_PER_SEARCH {
            self.all_ids().await?
        } else {
            self.ids_of(dns).await?
        };
        Ok(entries
            .iter()
            .filter_map(|e| entry::to_object(kind, e, &self.settings, &ids))
            .collect())
    }

    /// Ids of every entry of `kind`, by normalized DN (one paged search).
    async fn ids_by_dn(
        &self,
        kind: ResourceKind,
    ) -> Result<HashMap<String, String>, ConnectorError> {
        let id_attr = self.settings.id_attribute.as_str();
        let entries = self.search(&self.kind_filter(kind, ""), &[id_attr]).await?;
        Ok(entries
            .iter()
            .filter_map(|e| Some((dn::normalize(&e.dn), entry::id_of(e, id_attr)?)))
            .collect())
    }

    /// Ids of every user and group entry, by normalized DN.
    async fn all_ids(&self) -> Result<HashMap<String, String>, ConnectorError> {
        let mut ids = HashMap::new();
        for kind in [ResourceKind::User, ResourceKind::Group] {
            if self.template(kind).is_ok() {
                ids.extend(self.ids_by_dn(kind).await?);
            }
        }
        Ok(ids)
    }

    /// The attribute values a mapped object sets, or the request refused.
    fn values(object: &Value) -> Result<Vec<(String, Vec<String>)>, ConnectorError> {
        entry::attribute_values(object).map_err(|e| refused(format!("the mapped object: {e}")))
    }

    /// The container a user goes to: its template's, or the deactivation
    /// container while inactive.
    fn container_for(
        &self,
        kind: ResourceKind,
        template_container: String,
        active: Option<bool>,
    ) -> String {
        match (&self.settings.deactivate, kind, active) {
            (Deactivation::Move { container }, ResourceKind::User, Some(false)) => {
                container.clone()
            }
            _ => template_container,
        }
    }

    /// The attribute changes that make a user (in)active, from `entry`'s state.
    fn activity_changes(&self, entry: Option<&SearchEntry>, active: bool) -> Vec<Change> {
        match &self.settings.deactivate {
            Deactivation::Attribute {
                attribute,
                value,
                active_value,
            } => {
                let has_value = entry.is_some_and(|e| {
                    entry::values(e, attribute)
                        .iter()
                        .any(|v| v.eq_ignore_ascii_case(value))
                });
                match (active, active_value) {
                    (false, _) => vec![Change::Replace(attribute.clone(), vec![value.clone()])],
                    (true, Some(v)) => vec![Change::Replace(attribute.clone(), vec![v.clone()])],
                    (true, None) if has_value => {
                        vec![Change::Delete(attribute.clone(), vec![value.clone()])]
                    }
                    (true, None) => Vec::new(),
                }
            }
            Deactivation::AccountControl => {
                let current = entry.map_or(512, entry::account_control);
                let wanted = if active {
                    current & !ACCOUNT_DISABLED
                } else {
                    current | ACCOUNT_DISABLED
                };
                if entry.is_some() && wanted == current {
                    return Vec::new();
                }
                vec![Change::Replace(
                    ACCOUNT_CONTROL.into(),
                    vec![wanted.to_string()],
                )]
            }
            Deactivation::None | Deactivation::Move { .. } => Vec::new(),
        }
    }

    /// The manager's DN a mapped user names, if it is on the target.
    async fn manager_dn(&self, object: &Value) -> Result<Option<String>, ConnectorError> {
        let Some(id) = entry::manager_id(object) else {
            return Ok(None);
        };
        if self.dry_run() && self.journal.as_ref().and_then(|j| j.drafted(&id)).is_some() {
            return Ok(Some(format!("(the entry with id {id})")));
        }
        Ok(self.dns_of(std::slice::from_ref(&id)).await?.remove(&id))
    }

    /// Renames or moves `current` to where `object` belongs; returns its DN.
    async fn place(
        &self,
        kind: ResourceKind,
        current: &SearchEntry,
        object: &Value,
        active: Option<bool>,
    ) -> Result<String, ConnectorError> {
        let (rdn, container) = self.template(kind)?.place(object).map_err(refused)?;
        let container = self.container_for(kind, container, active);
        let now = dn::parse(&current.dn).map_err(ConnectorError::Protocol)?;
        let wanted = dn::parse(&rdn).map_err(refused)?;
        let renamed = now.first().map(|r| rdn_text(r)) != wanted.first().map(|r| rdn_text(r));
        let moved = dn::normalize(&dn::parent(&current.dn)) != dn::normalize(&container);
        if !renamed && !moved {
            return Ok(current.dn.clone());
        }
        let new_rdn = if renamed {
            rdn
        } else {
            dn::split_first(&current.dn).0
        };
        self.rename(&current.dn, new_rdn, moved.then_some(container))
            .await
    }

    /// The entries that name `dn` where this connector writes DNs: groups
    /// by `member`, users by `manager`; with the attribute naming it.
    async fn referrers(&self, dn: &str) -> Result<Vec<(String, String)>, ConnectorError> {
        let escaped = ldap_escape(dn);
        let mut out = Vec::new();
        let member = &self.settings.member_attribute;
        for (kind, attr) in [
            (ResourceKind::Group, member.as_str()),
            (ResourceKind::User, entry::MANAGER),
        ] {
            if self.template(kind).is_err() {
                continue;
            }
            let naming = format!("({attr}={escaped})");
            for e in self
                .search(&self.kind_filter(kind, &naming), &["1.1"])
                .await?
            {
                out.push((e.dn, attr.to_string()));
            }
        }
        Ok(out)
    }

    /// modrdn `dn` to `rdn` (under `container` when given), and points the
    /// groups and reports that named the old DN at the new one (a
    /// directory without referential integrity leaves them stale).
    async fn rename(
        &self,
        dn: &str,
        rdn: String,
        container: Option<String>,
    ) -> Result<String, ConnectorError> {
        let parent = container.clone().unwrap_or_else(|| dn::parent(dn));
        let new_dn = format!("{rdn},{parent}");
        let referrers = self.referrers(dn).await?;
        self.send(Op::Rename {
            dn: dn.to_string(),
            rdn,
            container,
        })
        .await?;
        for (entry, attr) in referrers {
            let changes = vec![
                Change::Delete(attr.clone(), vec![dn.to_string()]),
                Change::Add(attr, vec![new_dn.clone()]),
            ];
            self.send(Op::Modify { dn: entry, changes }).await?;
        }
        Ok(new_dn)
    }
}

/// An RDN's naming pairs, compared ignoring the attribute's case.
fn rdn_text(rdn: &[dn::Ava]) -> Vec<(String, String)> {
    rdn.iter()
        .map(|a| (a.attr.to_lowercase(), a.value.clone()))
        .collect()
}

/// Whether the entry already holds exactly `values` in `attr` (as sets).
fn holds(e: &SearchEntry, attr: &str, values: &[String]) -> bool {
    let have: HashSet<&String> = entry::values(e, attr).iter().collect();
    let want: HashSet<&String> = values.iter().collect();
    have == want
}

#[async_trait]
impl Connector for LdapConnector {
    async fn capabilities(&self) -> Result<Capabilities, ConnectorError> {
        Ok(Capabilities {
            lookup: true,
            member_batch: MEMBER_BATCH,
            ..Capabilities::default()
        })
    }

    /// A bind and a read of the base DN.
    async fn probe(&self) -> Result<(), ConnectorError> {
        let base = &self.settings.base_dn;
        match self
            .directory
            .search(base, Scope::Base, "(objectClass=*)", &["1.1"])
            .await
        {
            Ok(_) | Err(ConnectorError::Rejected { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn list(&self, kind: ResourceKind) -> Result<Vec<Value>, ConnectorError> {
        self.template(kind)?;
        let entries = self
            .search(
                &self.kind_filter(kind, ""),
                &read_attributes(&self.settings),
            )
            .await?;
        let ids_of = |es: &[SearchEntry]| -> HashMap<String, String> {
            es.iter()
                .filter_map(|e| {
                    Some((
                        dn::normalize(&e.dn),
                        entry::id_of(e, &self.settings.id_attribute)?,
                    ))
                })
                .collect()
        };
        let mut ids = ids_of(&entries);
        if kind == ResourceKind::Group && self.users.is_some() {
            ids.extend(self.ids_by_dn(ResourceKind::User).await?);
        }
        Ok(entries
            .iter()
            .filter_map(|e| entry::to_object(kind, e, &self.settings, &ids))
            .collect())
    }

    async fn get(&self, kind: ResourceKind, id: &str) -> Result<Option<Value>, ConnectorError> {
        if let Some(draft) = self.journal.as_ref().and_then(|j| j.drafted(id)) {
            return Ok(Some(draft));
        }
        let Some(found) = self.entry(kind, id).await? else {
            return Ok(None);
        };
        Ok(self.objects(kind, vec![found]).await?.into_iter().next())
    }

    /// By a plain attribute (an equality filter, escaped); value paths
    /// with a filter find nothing.
    async fn find(
        &self,
        kind: ResourceKind,
        key: &MatchKey,
        value: &str,
    ) -> Result<Vec<Value>, ConnectorError> {
        let attr = &key.path.attr;
        let plain = key.path.filter.is_none() && attr.uri.is_none() && attr.sub.is_none();
        if !plain || !dn::is_attribute_name(&attr.name) {
            return Ok(Vec::new());
        }
        let equal = format!("({}={})", attr.name, ldap_escape(value));
        let entries = self
            .search(
                &self.kind_filter(kind, &equal),
                &read_attributes(&self.settings),
            )
            .await?;
        self.objects(kind, entries).await
    }

    async fn create(&self, kind: ResourceKind, object: &Value) -> Result<String, ConnectorError> {
        let (rdn, container) = self.template(kind)?.place(object).map_err(refused)?;
        let active = (kind == ResourceKind::User)
            .then(|| entry::wanted_active(object))
            .flatten();
        let dn = format!("{rdn},{}", self.container_for(kind, container, active));
        let mut attrs = Self::values(object)?;
        let mut set = |name: &str, values: Vec<String>| {
            attrs.retain(|(a, _)| !a.eq_ignore_ascii_case(name));
            attrs.push((name.to_string(), values));
        };
        set("objectClass", self.entries(kind).object_classes.clone());
        match kind {
            ResourceKind::User => {
                if let Some(manager) = self.manager_dn(object).await? {
                    set(entry::MANAGER, vec![manager]);
                }
                // An attribute says it from the start; Active Directory
                // decides a new account's userAccountControl itself (disabled
                // until it has a password), and a move is the container.
                let by_attribute =
                    matches!(self.settings.deactivate, Deactivation::Attribute { .. });
                if let Some(active) = active.filter(|_| by_attribute) {
                    for change in self.activity_changes(None, active) {
                        if let Change::Replace(a, v) = change {
                            set(&a, v);
                        }
                    }
                }
            }
            ResourceKind::Group | ResourceKind::Department | ResourceKind::Plain(_) => {
                if let Some(placeholder) = &self.settings.empty_member {
                    set(&self.settings.member_attribute, vec![placeholder.clone()]);
                }
            }
        }
        self.send(Op::Add {
            dn: dn.clone(),
            attrs,
        })
        .await?;
        if let Some(j) = self.journal.as_ref().filter(|j| j.dry_run()) {
            let mut draft = object.clone();
            if let Some(o) = draft.as_object_mut() {
                o.insert("dn".into(), Value::String(dn));
            }
            return Ok(j.draft(draft));
        }
        let id_attr = self.settings.id_attribute.as_str();
        let added = self
            .directory
            .search(&dn, Scope::Base, "(objectClass=*)", &[id_attr])
            .await?;
        added
            .first()
            .and_then(|e| entry::id_of(e, id_attr))
            .ok_or_else(|| ConnectorError::Protocol(format!("the new entry {dn} has no {id_attr}")))
    }

    /// Renames or moves the entry when its DN would change, then replaces
    /// the `changed` attributes (all the object's when `None`) that differ;
    /// attributes the mapping does not set are left alone.
    async fn update(
        &self,
        kind: ResourceKind,
        id: &str,
        object: &Value,
        changed: Option<&[String]>,
    ) -> Result<(), ConnectorError> {
        if self.journal.as_ref().and_then(|j| j.drafted(id)).is_some() {
            return Ok(());
        }
        let current = self
            .entry(kind, id)
            .await?
            .ok_or_else(|| gone(&format!("with id {id}")))?;
        let wanted = |k: &str| changed.is_none_or(|c| c.iter().any(|n| n.eq_ignore_ascii_case(k)));
        let is_user = kind == ResourceKind::User;
        let active_now = entry::is_active(&current, &self.settings);
        let active = if is_user && wanted("active") {
            entry::wanted_active(object).or(active_now)
        } else {
            active_now
        };
        let dn = self.place(kind, &current, object, active).await?;
        let mut changes: Vec<Change> = Self::values(object)?
            .into_iter()
            .filter(|(a, v)| wanted(a) && !holds(&current, a, v))
            .map(|(a, v)| Change::Replace(a, v))
            .collect();
        if is_user {
            let manager_key = crate::provision::plan::managers::ENTERPRISE;
            if wanted(manager_key)
                && let Some(manager) = self.manager_dn(object).await?
                && !holds(&current, entry::MANAGER, std::slice::from_ref(&manager))
            {
                changes.push(Change::Replace(entry::MANAGER.into(), vec![manager]));
            }
            if let Some(active) = active.filter(|a| Some(*a) != active_now) {
                changes.extend(self.activity_changes(Some(&current), active));
            }
        }
        if changes.is_empty() {
            return Ok(());
        }
        self.send(Op::Modify { dn, changes }).await
    }

    async fn set_manager(&self, user_id: &str, manager_id: &str) -> Result<(), ConnectorError> {
        let found = self
            .dns_of(&[user_id.to_string(), manager_id.to_string()])
            .await?;
        let user = found
            .get(user_id)
            .ok_or_else(|| gone(&format!("with id {user_id}")))?;
        let manager = found
            .get(manager_id)
            .ok_or_else(|| gone(&format!("with id {manager_id} (the manager)")))?;
        self.send(Op::Modify {
            dn: user.clone(),
            changes: vec![Change::Replace(
                entry::MANAGER.into(),
                vec![manager.clone()],
            )],
        })
        .await
    }

    async fn deactivate(&self, user_id: &str) -> Result<(), ConnectorError> {
        if matches!(self.settings.deactivate, Deactivation::None) {
            return Err(ConnectorError::Config(
                "this LDAP target has no way to deactivate users set (ldap.deactivate)".into(),
            ));
        }
        let current = self
            .entry(ResourceKind::User, user_id)
            .await?
            .ok_or_else(|| gone(&format!("with id {user_id}")))?;
        if entry::is_active(&current, &self.settings) == Some(false) {
            return Ok(());
        }
        if let Deactivation::Move { container } = &self.settings.deactivate {
            let (rdn, _) = dn::split_first(&current.dn);
            self.rename(&current.dn, rdn, Some(container.clone()))
                .await?;
            return Ok(());
        }
        let changes = self.activity_changes(Some(&current), false);
        self.send(Op::Modify {
            dn: current.dn.clone(),
            changes,
        })
        .await
    }

    /// Deletes the entry; it is first taken out of the groups that list it
    /// (and the reports that name it as manager), so no entry keeps a DN
    /// of no one.
    async fn delete(&self, kind: ResourceKind, id: &str) -> Result<(), ConnectorError> {
        let Some(current) = self.entry(kind, id).await? else {
            return Ok(());
        };
        for (entry, attr) in self.referrers(&current.dn).await? {
            self.send(Op::Modify {
                dn: entry,
                changes: vec![Change::Delete(attr, vec![current.dn.clone()])],
            })
            .await?;
        }
        match self.send(Op::Delete { dn: current.dn }).await {
            Err(ConnectorError::Rejected { status: 404, .. }) => Ok(()),
            other => other,
        }
    }

    /// One modify request adding and deleting `member` values; members
    /// already there (or already gone) are left out of it.
    async fn change_members(
        &self,
        group_id: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<(), ConnectorError> {
        if add.is_empty() && remove.is_empty() {
            return Ok(());
        }
        if self
            .journal
            .as_ref()
            .and_then(|j| j.drafted(group_id))
            .is_some()
        {
            return Ok(());
        }
        let group = self
            .entry(ResourceKind::Group, group_id)
            .await?
            .ok_or_else(|| gone(&format!("with id {group_id}")))?;
        let member = &self.settings.member_attribute;
        let listed: HashSet<String> = entry::values(&group, member)
            .iter()
            .map(|d| dn::normalize(d))
            .collect();
        let wanted: Vec<String> = add.iter().chain(remove).cloned().collect();
        let dns = self.dns_of(&wanted).await?;
        let missing: Vec<&String> = add.iter().filter(|id| !dns.contains_key(*id)).collect();
        let pick = |ids: &[String], present: bool| -> Vec<String> {
            ids.iter()
                .filter_map(|id| dns.get(id))
                .filter(|d| listed.contains(&dn::normalize(d)) == present)
                .cloned()
                .collect()
        };
        let (to_add, to_remove) = (pick(add, false), pick(remove, true));
        let mut changes = Vec::new();
        if !to_add.is_empty() {
            changes.push(Change::Add(member.clone(), to_add));
        }
        if !to_remove.is_empty() {
            changes.push(Change::Delete(member.clone(), to_remove));
        }
        if !changes.is_empty() {
            self.send(Op::Modify {
                dn: group.dn.clone(),
                changes,
            })
            .await?;
        }
        if !missing.is_empty() {
            let ids: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
            return Err(gone(&format!("for member id(s) {}", ids.join(", "))));
        }
        Ok(())
    }
}
