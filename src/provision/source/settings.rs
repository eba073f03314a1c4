//! What a source is: its kind, its non-secret settings (stored as JSON)
//! and the checks they pass before anything is stored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::provision::client::{check_base_url, extra_headers};
use crate::provision::mapping::{cleanse, path};
use crate::provision::plan::DeletionGuard;
use crate::scim::ResourceKind;

/// Where a source's records come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// HR export files: CSV or JSON (array or NDJSON), from a path, a
    /// watched directory or an upload.
    File,
    /// Another SCIM 2.0 service provider.
    Scim,
    /// An LDAP directory or Active Directory.
    Ldap,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::File => "file",
            SourceKind::Scim => "scim",
            SourceKind::Ldap => "ldap",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "file" => Some(SourceKind::File),
            "scim" => Some(SourceKind::Scim),
            "ldap" => Some(SourceKind::Ldap),
            _ => None,
        }
    }
}

/// How a file is read; `auto` goes by the first character (`[`/`{`: JSON).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    #[default]
    Auto,
    Csv,
    /// A JSON array of objects, or one object per line (NDJSON).
    Json,
}

/// Full: every record is read, and what the source no longer has is
/// deprovisioned. Incremental: only what changed since the last run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunMode {
    #[default]
    Full,
    Incremental,
}

impl RunMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RunMode::Full => "full",
            RunMode::Incremental => "incremental",
        }
    }
}

/// Everything about a source that is not secret. Fields of another kind
/// must stay unset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SourceSettings {
    /// How scimhub authenticates (`bearer`, `basic`, `oauth2`; none): set
    /// from the credentials, never by hand.
    pub auth: Option<String>,
    /// file: the users file (absolute path).
    pub path: Option<String>,
    /// file: the groups file, read before the users.
    pub groups_path: Option<String>,
    /// file: the departments file (the organization tree), read first.
    pub departments_path: Option<String>,
    /// file: a directory whose new files are imported (then moved to `processed/`).
    pub watch_dir: Option<String>,
    pub format: FileFormat,
    /// file: the CSV delimiter; unset: guessed from the header line.
    pub delimiter: Option<char>,
    /// scim: the base URL; ldap: `ldap://host:port` or `ldaps://…`.
    pub url: Option<String>,
    pub timeout_secs: u64,
    /// scim: extra non-secret request headers.
    pub headers: BTreeMap<String, String>,
    /// ldap: where users and groups are searched (subtree).
    pub base_dn: Option<String>,
    pub user_filter: String,
    pub group_filter: String,
    /// ldap: the entries under this DN matching `department_filter` are
    /// departments (their parent: the nearest one above); unset: none.
    pub departments_base: Option<String>,
    pub department_filter: String,
    /// ldap: upgrade `ldap://` with StartTLS before binding.
    pub starttls: bool,
    /// ldap: the attribute incremental runs compare (`modifyTimestamp`, or `uSNChanged` on AD).
    pub change_attribute: String,
    /// Records per page asked of a SCIM or LDAP source.
    pub page_size: u32,
    /// The field holding a user's id in the source (default per kind).
    pub user_key: Option<String>,
    pub group_key: Option<String>,
    pub department_key: Option<String>,
    /// Region for phone numbers written without a country code (`US`, `DE`).
    pub phone_region: Option<String>,
    /// SCIM attribute paths every imported user must have, beyond userName.
    pub required: Vec<String>,
    /// The attributes this source is the authority for; empty: every
    /// attribute its mapping sets. Updates write only these.
    pub owns: Vec<String>,
    /// Link a record to an existing user with the same userName that no
    /// source supplies yet (instead of reporting a conflict).
    pub join_existing: bool,
    /// Any of `Users`, `Groups` and `Departments`.
    pub resource_types: Vec<String>,
    /// Deprovisions beyond this wait for approval.
    pub guard: DeletionGuard,
    /// Seconds between scheduled runs while serving; none: manual only.
    pub schedule_secs: Option<u64>,
    /// What scheduled runs do.
    pub schedule_mode: RunMode,
}

impl Default for SourceSettings {
    fn default() -> Self {
        Self {
            auth: None,
            path: None,
            groups_path: None,
            departments_path: None,
            watch_dir: None,
            format: FileFormat::Auto,
            delimiter: None,
            url: None,
            timeout_secs: 30,
            headers: BTreeMap::new(),
            base_dn: None,
            user_filter: "(objectClass=inetOrgPerson)".into(),
            group_filter: "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))".into(),
            departments_base: None,
            department_filter: "(objectClass=organizationalUnit)".into(),
            starttls: false,
            change_attribute: "modifyTimestamp".into(),
            page_size: 500,
            user_key: None,
            group_key: None,
            department_key: None,
            phone_region: None,
            required: Vec::new(),
            owns: Vec::new(),
            join_existing: false,
            resource_types: vec!["Users".into(), "Groups".into(), "Departments".into()],
            guard: DeletionGuard::default(),
            schedule_secs: None,
            schedule_mode: RunMode::Full,
        }
    }
}

impl SourceSettings {
    pub fn reads(&self, kind: ResourceKind) -> bool {
        let name = kind.endpoint().trim_start_matches('/');
        self.resource_types
            .iter()
            .any(|t| t.eq_ignore_ascii_case(name))
    }

    /// The field holding a record's id, when one is configured or the kind fixes it.
    pub fn key_field(&self, source: SourceKind, kind: ResourceKind) -> Option<&str> {
        let set = match kind {
            ResourceKind::User => self.user_key.as_deref(),
            ResourceKind::Group => self.group_key.as_deref(),
            ResourceKind::Department | ResourceKind::Plain(_) => self.department_key.as_deref(),
        };
        set.or(match source {
            SourceKind::File => None,
            SourceKind::Scim => Some("id"),
            SourceKind::Ldap => Some("entryUUID"),
        })
    }
}

pub const MAX_TIMEOUT_SECS: u64 = 600;

/// The settings only file sources take.
const FILE_SETTINGS: &str =
    "path / groups_path / departments_path / watch_dir / format / delimiter";
pub const MAX_PAGE_SIZE: u32 = 10_000;

fn unset(kind: SourceKind, what: &str, set: bool) -> Result<(), String> {
    if set {
        return Err(format!(
            "{what} is not a setting of {} sources",
            kind.as_str()
        ));
    }
    Ok(())
}

fn absolute(what: &str, path: Option<&String>) -> Result<(), String> {
    match path {
        Some(p) if !std::path::Path::new(p).is_absolute() => Err(format!(
            "{what} must be an absolute path (the server and the CLI may run in different \
             directories), got {p:?}"
        )),
        _ => Ok(()),
    }
}

fn ldap_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|_| format!("{text:?} is not an LDAP URL"))?;
    if !matches!(url.scheme(), "ldap" | "ldaps") || url.host_str().is_none() {
        return Err(format!(
            "the LDAP URL must be ldap://host[:port] or ldaps://host[:port], got {text:?}"
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{text:?}: the bind DN and password belong in the credentials, not in the URL"
        ));
    }
    Ok(url)
}

/// The settings made canonical, or the first thing wrong with them.
pub fn check(kind: SourceKind, settings: &SourceSettings) -> Result<SourceSettings, String> {
    let mut out = settings.clone();
    let s = settings;
    let file_only = s.path.is_some()
        || s.groups_path.is_some()
        || s.departments_path.is_some()
        || s.watch_dir.is_some()
        || s.delimiter.is_some()
        || s.format != FileFormat::Auto;
    let ldap_only = s.base_dn.is_some() || s.departments_base.is_some() || s.starttls;
    match kind {
        SourceKind::File => {
            unset(kind, "url", s.url.is_some())?;
            unset(kind, "base_dn / departments_base / starttls", ldap_only)?;
            unset(kind, "headers", !s.headers.is_empty())?;
            absolute("path", s.path.as_ref())?;
            absolute("groups_path", s.groups_path.as_ref())?;
            absolute("departments_path", s.departments_path.as_ref())?;
            absolute("watch_dir", s.watch_dir.as_ref())?;
            if let Some(d) = s.delimiter
                && (!d.is_ascii() || d == '"' || d == '\n' || d == '\r')
            {
                return Err(format!(
                    "the delimiter must be one ASCII character other than a quote or a line break, got {d:?}"
                ));
            }
        }
        SourceKind::Scim => {
            unset(kind, FILE_SETTINGS, file_only)?;
            unset(kind, "base_dn / departments_base / starttls", ldap_only)?;
            let url = s
                .url
                .as_deref()
                .ok_or("a SCIM source needs its base URL (url)")?;
            let url = check_base_url(url)?;
            out.url = Some(url.as_str().trim_end_matches('/').to_string());
            extra_headers(&s.headers)?;
        }
        SourceKind::Ldap => {
            unset(kind, FILE_SETTINGS, file_only)?;
            unset(kind, "headers", !s.headers.is_empty())?;
            let url = s
                .url
                .as_deref()
                .ok_or("an LDAP source needs its URL (url)")?;
            let url = ldap_url(url)?;
            if url.scheme() == "ldaps" && s.starttls {
                return Err("starttls is for ldap:// URLs; ldaps:// is TLS already".into());
            }
            if s.base_dn.as_deref().is_none_or(|b| b.trim().is_empty()) {
                return Err("an LDAP source needs the base DN to search under (base_dn)".into());
            }
            if s.departments_base
                .as_deref()
                .is_some_and(|b| b.trim().is_empty())
            {
                return Err(
                    "departments_base names a DN; leave it out to read no departments".into(),
                );
            }
            for (what, filter) in [
                ("user_filter", &s.user_filter),
                ("group_filter", &s.group_filter),
                ("department_filter", &s.department_filter),
            ] {
                ldap3::parse_filter(filter)
                    .map_err(|_| format!("{what} {filter:?} is not an LDAP filter"))?;
            }
            if s.change_attribute.trim().is_empty() {
                return Err("change_attribute names the attribute incremental runs compare".into());
            }
        }
    }
    if !(1..=MAX_TIMEOUT_SECS).contains(&s.timeout_secs) {
        return Err(format!(
            "the timeout must be 1 to {MAX_TIMEOUT_SECS} seconds"
        ));
    }
    if !(1..=MAX_PAGE_SIZE).contains(&s.page_size) {
        return Err(format!("the page size must be 1 to {MAX_PAGE_SIZE}"));
    }
    let mut types = Vec::new();
    for t in &s.resource_types {
        let canonical = match t.trim().to_ascii_lowercase().as_str() {
            "users" => "Users",
            "groups" => "Groups",
            "departments" => "Departments",
            _ => {
                return Err(format!(
                    "unknown resource type {t:?} (Users, Groups, Departments)"
                ));
            }
        };
        if !types.iter().any(|x: &String| x == canonical) {
            types.push(canonical.to_string());
        }
    }
    if types.is_empty() {
        return Err("resource_types must name Users, Groups, Departments or several".into());
    }
    out.resource_types = types;
    if let Some(r) = &s.phone_region {
        let region = cleanse::region(r).ok_or_else(|| {
            format!("unknown phone region {r:?} (a two-letter country code such as \"US\")")
        })?;
        out.phone_region = Some(region.as_ref().to_string());
    }
    for p in &s.required {
        path::parse_value_path(p)
            .ok()
            .filter(|v| path::definition(ResourceKind::User, &v.attr).is_some())
            .ok_or_else(|| format!("required: {p:?} is not a User attribute path"))?;
    }
    for p in &s.owns {
        super::authority::OwnedKey::parse(ResourceKind::User, p)
            .or_else(|_| super::authority::OwnedKey::parse(ResourceKind::Group, p))
            .or_else(|_| super::authority::OwnedKey::parse(ResourceKind::Department, p))
            .map_err(|m| format!("owns: {m}"))?;
    }
    for key in [&s.user_key, &s.group_key, &s.department_key]
        .into_iter()
        .flatten()
    {
        if key.trim().is_empty() {
            return Err(
                "user_key, group_key and department_key name a field; leave them out for the \
                 default"
                    .into(),
            );
        }
    }
    let g = &s.guard;
    if !g.max_percent.is_finite() || !(0.0..=100.0).contains(&g.max_percent) {
        return Err("the deletion guard percentage must be between 0 and 100".into());
    }
    if s.schedule_secs == Some(0) {
        out.schedule_secs = None;
    }
    if s.schedule_secs.is_some() && kind == SourceKind::File && s.path.is_none() {
        return Err("a scheduled file source needs a path to read".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> SourceSettings {
        SourceSettings {
            path: Some(path.into()),
            ..SourceSettings::default()
        }
    }

    #[test]
    fn each_kind_takes_its_own_settings() {
        assert!(check(SourceKind::File, &file("/srv/hr/people.csv")).is_ok());
        assert!(
            check(SourceKind::File, &file("people.csv"))
                .unwrap_err()
                .contains("absolute")
        );
        assert_eq!(
            check(SourceKind::Scim, &file("/srv/hr/people.csv")).unwrap_err(),
            "path / groups_path / departments_path / watch_dir / format / delimiter is not a setting of scim sources"
        );
        let scim = SourceSettings {
            url: Some("https://idp.example/scim/v2/".into()),
            ..SourceSettings::default()
        };
        assert_eq!(
            check(SourceKind::Scim, &scim).unwrap().url.as_deref(),
            Some("https://idp.example/scim/v2")
        );
        let ldap = SourceSettings {
            url: Some("ldaps://dc.example".into()),
            base_dn: Some("dc=example,dc=org".into()),
            ..SourceSettings::default()
        };
        assert!(check(SourceKind::Ldap, &ldap).is_ok());
        let starttls = SourceSettings {
            starttls: true,
            ..ldap.clone()
        };
        assert!(
            check(SourceKind::Ldap, &starttls)
                .unwrap_err()
                .starts_with("starttls is for ldap:// URLs")
        );
        let bad_filter = SourceSettings {
            user_filter: "(objectClass=person".into(),
            ..ldap
        };
        assert!(
            check(SourceKind::Ldap, &bad_filter)
                .unwrap_err()
                .contains("user_filter")
        );
    }

    #[test]
    fn common_settings_are_checked() {
        let base = file("/x.csv");
        let bad = |s: SourceSettings| check(SourceKind::File, &s).unwrap_err();
        assert!(
            bad(SourceSettings {
                phone_region: Some("Atlantis".into()),
                ..base.clone()
            })
            .contains("phone region")
        );
        assert!(
            bad(SourceSettings {
                required: vec!["nmae.familyName".into()],
                ..base.clone()
            })
            .contains("required")
        );
        assert!(
            bad(SourceSettings {
                resource_types: vec!["Roles".into()],
                ..base.clone()
            })
            .contains("Roles")
        );
        assert!(
            bad(SourceSettings {
                delimiter: Some('"'),
                ..base.clone()
            })
            .contains("delimiter")
        );
        let ok = check(
            SourceKind::File,
            &SourceSettings {
                phone_region: Some("de".into()),
                resource_types: vec!["users".into(), "USERS".into()],
                ..base
            },
        )
        .unwrap();
        assert_eq!(ok.phone_region.as_deref(), Some("DE"));
        assert_eq!(ok.resource_types, vec!["Users".to_string()]);
    }
}
