//! An LDAP directory or Active Directory as a source: a simple bind (over
//! StartTLS or LDAPS when asked), paged subtree searches for users and
//! groups under the base DN and for departments (organizational units)
//! under the departments' base, and — for incremental runs — only entries
//! whose change attribute (`modifyTimestamp`, or `uSNChanged` on AD) is at
//! or past the watermark. References are DNs (`manager`, `member`,
//! `memberOf`, and the `parentDn` / `departmentDn` this reader adds: the
//! nearest department above an entry); `resolve` turns them into the
//! entries' ids.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use futures_util::future::BoxFuture;
use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry};
use serde_json::{Map, Value};

use super::ldap_tree::Places;
use super::reader::{Page, RawRecord, ReadError, SourceReader};
use super::settings::{SourceKind, SourceSettings};
use crate::provision::target::Credentials;
use crate::scim::ResourceKind;

/// The mapping an LDAP source uses when it has none of its own:
/// inetOrgPerson users and groupOfNames groups (Active Directory names as
/// fall-backs), the entry's id as `externalId`.
pub const DEFAULT_MAPPING: &str = r#"
[users]
base = "none"
[[users.rules]]
target = "userName"
value = "first(coalesce(uid, sAMAccountName, userPrincipalName))"
[[users.rules]]
target = "externalId"
value = "first(coalesce(entryUUID, objectGUID))"
[[users.rules]]
target = "displayName"
value = "first(cn)"
[[users.rules]]
target = "name.givenName"
value = "first(givenName)"
[[users.rules]]
target = "name.familyName"
value = "first(sn)"
[[users.rules]]
target = 'emails[type eq "work"].value'
value = "first(mail)"
[[users.rules]]
target = 'phoneNumbers[type eq "work"].value'
value = "first(telephoneNumber)"
[[users.rules]]
target = "title"
value = "first(title)"
[[users.rules]]
target = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"
value = "first(employeeNumber)"
[[users.rules]]
target = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
value = "first(coalesce(departmentNumber, department))"
[[users.rules]]
target = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
value = "first(manager)"
[[users.rules]]
target = "primaryDepartment"
value = "departmentDn"

[groups]
base = "none"
[[groups.rules]]
target = "displayName"
value = "first(cn)"
[[groups.rules]]
target = "externalId"
value = "first(coalesce(entryUUID, objectGUID))"
[[groups.rules]]
target = "members"
value = "coalesce(member, uniqueMember)"

[departments]
base = "none"
[[departments.rules]]
target = "displayName"
value = "first(ou)"
[[departments.rules]]
target = "externalId"
value = "first(coalesce(entryUUID, objectGUID))"
[[departments.rules]]
target = "parent"
value = "parentDn"
"#;

/// Fields this reader adds: the DN of the nearest department above a
/// department (its parent) and above a user (its department).
pub const PARENT_FIELD: &str = "parentDn";
pub const DEPARTMENT_FIELD: &str = "departmentDn";

/// More unresolved references than this are resolved with one search.
const BULK_LOOKUP: usize = 200;

pub struct LdapReader {
    settings: SourceSettings,
    credentials: Option<Credentials>,
    since: Option<String>,
    ldap: Option<Ldap>,
    pages: Option<VecDeque<Page>>,
    /// Normalized DN → the entry's id.
    dn_keys: HashMap<String, String>,
    newest: Option<String>,
    /// The departments, when this source reads them.
    places: Option<Places>,
}

/// DNs compare without case and without blanks around `,` and `=`.
pub fn normalize_dn(dn: &str) -> String {
    dn.split(',')
        .map(|rdn| {
            rdn.split('=')
                .map(str::trim)
                .collect::<Vec<_>>()
                .join("=")
                .to_lowercase()
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The later of two change marks: numbers (`uSNChanged`) as numbers,
/// generalized times as text.
fn later(a: &str, b: &str) -> bool {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x > y,
        _ => a > b,
    }
}

fn fields_of(entry: &SearchEntry) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("dn".into(), Value::String(entry.dn.clone()));
    let mut put = |name: &str, mut values: Vec<Value>| {
        let v = if values.len() == 1 {
            values.remove(0)
        } else {
            Value::Array(values)
        };
        fields.insert(name.to_string(), v);
    };
    for (name, values) in &entry.attrs {
        put(name, values.iter().cloned().map(Value::String).collect());
    }
    // Binary values (an AD objectGUID) as hex.
    for (name, values) in &entry.bin_attrs {
        put(
            name,
            values
                .iter()
                .map(|v| Value::String(hex::encode(v)))
                .collect(),
        );
    }
    fields
}

impl LdapReader {
    pub fn new(
        settings: &SourceSettings,
        credentials: Option<Credentials>,
        watermark: Option<&str>,
    ) -> Self {
        Self {
            settings: settings.clone(),
            credentials,
            since: watermark.map(str::to_string),
            ldap: None,
            pages: None,
            dn_keys: HashMap::new(),
            newest: None,
            places: None,
        }
    }

    /// Users and groups as the settings say; departments only under a
    /// configured base.
    fn reads_kind(&self, kind: ResourceKind) -> bool {
        self.settings.reads(kind)
            && (kind != ResourceKind::Department || self.settings.departments_base.is_some())
    }

    fn url(&self) -> String {
        self.settings.url.clone().unwrap_or_default()
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.settings.timeout_secs)
    }

    async fn connect(&mut self) -> Result<Ldap, ReadError> {
        if let Some(l) = &self.ldap {
            return Ok(l.clone());
        }
        let url = self.url();
        let settings = LdapConnSettings::new()
            .set_conn_timeout(self.timeout())
            .set_starttls(self.settings.starttls);
        let (conn, mut ldap) = LdapConnAsync::with_settings(settings, &url)
            .await
            .map_err(|e| {
                ReadError::Unreachable(format!("cannot reach the LDAP server {url}: {e}"))
            })?;
        ldap3::drive!(conn);
        if let Some(Credentials::Basic { username, password }) = &self.credentials {
            let result = ldap
                .with_timeout(self.timeout())
                .simple_bind(username, password)
                .await
                .map_err(|e| {
                    ReadError::Unreachable(format!(
                        "the LDAP server {url} did not answer the bind: {e}"
                    ))
                })?;
            if result.rc != 0 {
                return Err(ReadError::Refused(format!(
                    "the LDAP server {url} refused the bind as {username:?}: {} (result code {})",
                    if result.text.is_empty() {
                        "invalid credentials"
                    } else {
                        &result.text
                    },
                    result.rc
                )));
            }
        }
        self.ldap = Some(ldap.clone());
        Ok(ldap)
    }

    fn attributes(&self) -> Vec<String> {
        let mut attrs = vec![
            "*".to_string(),
            "entryUUID".into(),
            "modifyTimestamp".into(),
        ];
        attrs.push(self.settings.change_attribute.clone());
        let s = &self.settings;
        for key in [&s.user_key, &s.group_key, &s.department_key]
            .into_iter()
            .flatten()
        {
            attrs.push(key.clone());
        }
        attrs.sort();
        attrs.dedup();
        attrs
    }

    /// The id of an entry of any type.
    fn any_key(&self, fields: &Map<String, Value>) -> Option<String> {
        [
            ResourceKind::User,
            ResourceKind::Group,
            ResourceKind::Department,
        ]
        .into_iter()
        .find_map(|kind| self.key_of(kind, fields))
    }

    fn key_of(&self, kind: ResourceKind, fields: &Map<String, Value>) -> Option<String> {
        let field = self.settings.key_field(SourceKind::Ldap, kind)?;
        match crate::scim::json::member(fields, field)? {
            Value::String(s) => Some(s.clone()),
            Value::Array(items) => items.first().and_then(Value::as_str).map(str::to_string),
            _ => None,
        }
    }

    async fn search(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
    ) -> Result<Vec<SearchEntry>, ReadError> {
        let attributes = self.attributes();
        self.search_for(base, scope, filter, attributes).await
    }

    async fn search_for(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attributes: Vec<String>,
    ) -> Result<Vec<SearchEntry>, ReadError> {
        let mut ldap = self.connect().await?;
        let url = self.url();
        let failed = |e: ldap3::LdapError| ReadError::Unreachable(format!("searching {url}: {e}"));
        let page = i32::try_from(self.settings.page_size).unwrap_or(i32::MAX);
        let adapters: Vec<Box<dyn Adapter<'_, String, Vec<String>>>> = vec![
            Box::new(EntriesOnly::new()),
            Box::new(PagedResults::new(page)),
        ];
        let mut stream = ldap
            .with_timeout(self.timeout())
            .streaming_search_with(adapters, base, scope, filter, attributes)
            .await
            .map_err(failed)?;
        let mut entries = Vec::new();
        while let Some(entry) = stream.next().await.map_err(failed)? {
            entries.push(SearchEntry::construct(entry));
        }
        let result = stream.finish().await;
        match result.rc {
            0 => Ok(entries),
            // The base entry does not exist (a DN resolved one by one).
            32 if scope == Scope::Base => Ok(Vec::new()),
            rc => Err(ReadError::Malformed(format!(
                "the LDAP search under {base:?} with {filter:?} failed: {} (result code {rc})",
                result.text
            ))),
        }
    }

    /// Every department's place and id, whatever changed since the
    /// watermark: an incremental read needs them to place what it reads.
    async fn read_places(&mut self, base: &str) -> Result<(), ReadError> {
        let mut places = Places::new(base);
        if self.since.is_some() {
            let mut attributes = vec!["entryUUID".to_string()];
            attributes.extend(self.settings.department_key.clone());
            let filter = self.settings.department_filter.clone();
            for e in self
                .search_for(base, Scope::Subtree, &filter, attributes)
                .await?
            {
                places.add(&e.dn);
                if let Some(key) = self.key_of(ResourceKind::Department, &fields_of(&e)) {
                    self.dn_keys.insert(normalize_dn(&e.dn), key);
                }
            }
        }
        self.places = Some(places);
        Ok(())
    }

    async fn read(&mut self) -> Result<VecDeque<Page>, ReadError> {
        let base = self.settings.base_dn.clone().unwrap_or_default();
        let mut pages = VecDeque::new();
        let departments = self.settings.departments_base.clone().unwrap_or_default();
        if self.reads_kind(ResourceKind::Department) {
            self.read_places(&departments).await?;
        }
        for kind in [
            ResourceKind::Department,
            ResourceKind::Group,
            ResourceKind::User,
        ] {
            if !self.reads_kind(kind) {
                continue;
            }
            let (base, filter) = match kind {
                ResourceKind::User => (&base, self.settings.user_filter.clone()),
                ResourceKind::Group => (&base, self.settings.group_filter.clone()),
                ResourceKind::Department | ResourceKind::Plain(_) => {
                    (&departments, self.settings.department_filter.clone())
                }
            };
            let filter = match &self.since {
                Some(mark) => format!(
                    "(&{filter}({}>={}))",
                    self.settings.change_attribute,
                    ldap3::ldap_escape(mark)
                ),
                None => filter,
            };
            let mut entries = self.search(base, Scope::Subtree, &filter).await?;
            if let (ResourceKind::Department, Some(places)) = (kind, self.places.as_mut()) {
                entries.retain(|e| !places.is_base(&e.dn));
                for e in &entries {
                    places.add(&e.dn);
                }
            }
            let mut page = Vec::with_capacity(entries.len());
            for entry in entries {
                let mut fields = fields_of(&entry);
                let placed = match kind {
                    ResourceKind::Department | ResourceKind::Plain(_) => Some(PARENT_FIELD),
                    ResourceKind::User => Some(DEPARTMENT_FIELD),
                    ResourceKind::Group => None,
                };
                if let (Some(field), Some(places)) = (placed, &self.places)
                    && let Some(above) = places.above(&entry.dn)
                {
                    fields.insert(field.into(), Value::String(above));
                }
                if let Some(key) = self.key_of(kind, &fields) {
                    self.dn_keys.insert(normalize_dn(&entry.dn), key);
                }
                let mark = crate::scim::json::member(&fields, &self.settings.change_attribute)
                    .and_then(Value::as_str)
                    .map(str::to_string);
                if let Some(mark) = mark
                    && self.newest.as_deref().is_none_or(|n| later(&mark, n))
                {
                    self.newest = Some(mark);
                }
                page.push(RawRecord::new(kind, entry.dn.clone(), fields));
            }
            pages.push_back(page);
        }
        Ok(pages)
    }
}

impl SourceReader for LdapReader {
    fn next_page(&mut self) -> BoxFuture<'_, Result<Option<Page>, ReadError>> {
        Box::pin(async move {
            if self.pages.is_none() {
                self.pages = Some(self.read().await?);
            }
            Ok(self.pages.as_mut().and_then(VecDeque::pop_front))
        })
    }

    fn resolve(
        &mut self,
        refs: Vec<String>,
    ) -> BoxFuture<'_, Result<HashMap<String, String>, ReadError>> {
        Box::pin(async move {
            let unknown = refs
                .iter()
                .filter(|r| r.contains('=') && !self.dn_keys.contains_key(&normalize_dn(r)))
                .count();
            // Many entries not read now (a large incremental run): one search
            // for every entry's id beats a lookup per reference.
            if unknown > BULK_LOOKUP {
                let base = self.settings.base_dn.clone().unwrap_or_default();
                for e in self
                    .search(&base, Scope::Subtree, "(objectClass=*)")
                    .await?
                {
                    let fields = fields_of(&e);
                    if let Some(key) = self.any_key(&fields) {
                        self.dn_keys.insert(normalize_dn(&e.dn), key);
                    }
                }
            }
            let mut out = HashMap::new();
            for r in refs {
                if !r.contains('=') || out.contains_key(&r) {
                    continue;
                }
                let normal = normalize_dn(&r);
                if let Some(key) = self.dn_keys.get(&normal) {
                    out.insert(r, key.clone());
                    continue;
                }
                // An entry not read now (an incremental run): look it up.
                let found = self.search(&r, Scope::Base, "(objectClass=*)").await?;
                let key = found.first().and_then(|e| self.any_key(&fields_of(e)));
                if let Some(key) = key {
                    self.dn_keys.insert(normal, key.clone());
                    out.insert(r, key);
                }
            }
            Ok(out)
        })
    }

    fn watermark(&self) -> Option<String> {
        self.newest.clone().or_else(|| self.since.clone())
    }

    fn reads(&self, kind: ResourceKind) -> bool {
        self.reads_kind(kind)
    }

    fn complete(&self) -> bool {
        self.since.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_compare_without_case_or_blanks() {
        assert_eq!(
            normalize_dn("UID=E1, ou=D0001 ,dc=Example,dc=org"),
            "uid=e1,ou=d0001,dc=example,dc=org"
        );
    }

    #[test]
    fn change_marks_compare_as_numbers_or_times() {
        assert!(later("100", "99"));
        assert!(later("20261210120000Z", "20261209235959Z"));
        assert!(!later("20261209235959Z", "20261210120000Z"));
    }

    #[test]
    fn the_default_mapping_compiles() {
        use crate::provision::mapping::{MappingFile, Reads};
        assert!(MappingFile::load_for(DEFAULT_MAPPING, Reads::Records).is_ok());
    }
}
