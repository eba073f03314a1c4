//! The kinds of downstream systems and what differs between them: the URL
//! a target is reached at, the credentials and settings it takes, what its
//! mapping must set, how its groups are matched, and the connector that
//! talks to it. A new kind is one arm in each `match` here.

use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use serde::{Deserialize, Serialize};

use super::Connector;
use super::ldap::{self, LdapConnector, LdapSettings};
use super::recorded::Recorded;
use super::rest::RestConnector;
use super::scim::ScimConnector;
use super::sql::SqlConnector;
use crate::provision::client::{self, ClientOptions, ExchangeSink, RateLimiter, ScimClient};
use crate::provision::mapping::{Base, Mapping, MappingFile, Required};
use crate::provision::plan::{DeprovisionMode, MatchKey};
use crate::provision::target::{Credentials, TargetSettings};
use crate::scim::ResourceKind;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// A SCIM 2.0 service provider (RFC 7644).
    #[default]
    Scim,
    /// An LDAP directory: OpenLDAP, Active Directory, …
    Ldap,
    /// Tables in a PostgreSQL or SQLite database (a system without an API).
    Sql,
    /// A JSON API of its own (an IM tool's contacts API, an in-house app).
    Rest,
}

/// What `target add` matches users on unless told otherwise.
pub const DEFAULT_MATCHING: &str = "userName";

/// Exchanges of on-demand provisioning go to the sink (`true`: dry run).
pub type Recording = Option<(Arc<dyn ExchangeSink>, bool)>;

impl TargetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Scim => "scim",
            TargetKind::Ldap => "ldap",
            TargetKind::Sql => "sql",
            TargetKind::Rest => "rest",
        }
    }

    /// The target's URL checked, without a trailing slash.
    pub fn check_url(self, text: &str) -> Result<String, String> {
        match self {
            TargetKind::Scim | TargetKind::Rest => {
                let url = client::check_base_url(text)?;
                Ok(url.as_str().trim_end_matches('/').to_string())
            }
            TargetKind::Ldap => ldap_url(text),
            TargetKind::Sql => sql_url(text),
        }
    }

    /// Why these credentials cannot work for this kind of target.
    pub fn check_credentials(self, credentials: &Credentials) -> Result<(), String> {
        match (self, credentials) {
            (TargetKind::Sql, Credentials::None | Credentials::Basic { .. }) => Ok(()),
            (TargetKind::Sql, _) => Err(
                "a SQL target logs in with a database user and password (--basic-user and \
                 --basic-password) or with none (--no-credentials)"
                    .into(),
            ),
            (_, Credentials::None) => Err(format!(
                "a {} target needs credentials",
                self.as_str().to_uppercase()
            )),
            (TargetKind::Scim | TargetKind::Rest, _)
            | (TargetKind::Ldap, Credentials::Basic { .. }) => Ok(()),
            (TargetKind::Ldap, _) => Err(
                "an LDAP target binds with a DN and a password: --bind-dn and --bind-password \
                 (credentials of kind basic)"
                    .into(),
            ),
        }
    }

    /// The kind's own settings checked; the target's settings made canonical.
    pub fn check_settings(self, mut settings: TargetSettings) -> anyhow::Result<TargetSettings> {
        let sections = [
            (TargetKind::Ldap, settings.ldap.is_some()),
            (TargetKind::Sql, settings.sql.is_some()),
            (TargetKind::Rest, settings.rest.is_some()),
        ];
        for (kind, present) in sections {
            if present && kind != self {
                let name = kind.as_str();
                bail!("{name} settings are for {name} targets (--kind {name})");
            }
        }
        let groups = settings
            .resource_types
            .iter()
            .any(|t| t.eq_ignore_ascii_case("Groups"));
        let deactivates = settings.deprovision == DeprovisionMode::Deactivate;
        match self {
            TargetKind::Scim => {}
            TargetKind::Sql => {
                let Some(sql) = &settings.sql else {
                    bail!(
                        "a SQL target needs its tables: the sql section of --connector-settings \
                         (see docs/connectors.md)"
                    );
                };
                sql.check().map_err(anyhow::Error::msg)?;
                if groups && sql.groups.is_none() {
                    bail!(
                        "syncing Groups needs sql.groups and sql.memberships (or --resource-types Users)"
                    );
                }
                if deactivates && sql.users.active_column.is_none() {
                    bail!(
                        "deprovision = deactivate needs sql.users.active_column (or --deprovision delete)"
                    );
                }
            }
            TargetKind::Rest => {
                let Some(rest) = &settings.rest else {
                    bail!(
                        "a REST target needs its request templates: the rest section of \
                         --connector-settings (see docs/connectors.md)"
                    );
                };
                rest.check().map_err(anyhow::Error::msg)?;
                if groups && rest.groups.is_none() {
                    bail!("syncing Groups needs rest.groups (or --resource-types Users)");
                }
                if deactivates && rest.users.deactivate.is_none() {
                    bail!(
                        "deprovision = deactivate needs rest.users.deactivate (or --deprovision delete)"
                    );
                }
            }
            TargetKind::Ldap => {
                let ldap = ldap::settings::check(&settings)?;
                if settings.matching == DEFAULT_MATCHING
                    && let Ok(template) = ldap.user_template()
                {
                    settings.matching = template.rdn_attribute().to_string();
                }
                settings.ldap = Some(ldap);
            }
        }
        Ok(settings)
    }

    /// The mapping a target of this kind gets from `text` (a mapping file,
    /// TOML or JSON): the file as stored and its compiled rules.
    pub fn mapping(
        self,
        settings: &TargetSettings,
        text: Option<&str>,
    ) -> Result<(Option<MappingFile>, Mapping), String> {
        match self {
            TargetKind::Scim => match text {
                None => Ok((None, Mapping::identity())),
                Some(text) => {
                    let (file, mapping) = MappingFile::load(text).map_err(|e| e.to_string())?;
                    Ok((Some(file), mapping))
                }
            },
            TargetKind::Sql | TargetKind::Rest => {
                let text = text.ok_or_else(|| {
                    format!(
                        "a {} target needs a mapping (--mapping FILE) from scimhub's attributes \
                         to the system's (see docs/connectors.md)",
                        self.as_str().to_uppercase()
                    )
                })?;
                let file = MappingFile::parse(text).map_err(|e| e.to_string())?;
                let nothing_more = |_| Required {
                    attributes: Vec::new(),
                    why: String::new(),
                };
                let mapping = own_vocabulary(self, settings, &file, &nothing_more)?;
                Ok((Some(file), mapping))
            }
            TargetKind::Ldap => {
                let text = text.ok_or(
                    "an LDAP target needs a mapping (--mapping FILE) from scimhub's attributes \
                     to the directory's (see docs/connectors.md)",
                )?;
                let file = MappingFile::parse(text).map_err(|e| e.to_string())?;
                let ldap = settings.ldap.clone().unwrap_or_default();
                let mapping = ldap_mapping(settings, &ldap, &file)?;
                Ok((Some(file), mapping))
            }
        }
    }

    /// How a group already on the target is matched; `None`: by
    /// `displayName`, the plan's default.
    pub fn group_match(self, settings: &TargetSettings) -> Option<MatchKey> {
        match self {
            TargetKind::Scim | TargetKind::Sql | TargetKind::Rest => None,
            TargetKind::Ldap => {
                let template = settings.ldap.as_ref()?.group_template().ok()?;
                MatchKey::parse(template.rdn_attribute()).ok()
            }
        }
    }

    /// The connector for a target at `url`.
    pub fn connector(
        self,
        url: &str,
        credentials: Credentials,
        settings: &TargetSettings,
        rate: Option<Arc<RateLimiter>>,
        recording: Recording,
    ) -> anyhow::Result<Arc<dyn Connector>> {
        match self {
            TargetKind::Scim => {
                let options = ClientOptions::for_target(url, credentials, settings);
                let mut client = ScimClient::new(options)?.with_rate_limit(rate);
                if let Some((sink, dry_run)) = recording {
                    client = client.with_recording(sink, dry_run);
                }
                Ok(Arc::new(ScimConnector::new(client)))
            }
            TargetKind::Ldap => {
                let ldap = settings.ldap.clone().unwrap_or_default();
                let endpoint = ldap_endpoint(url, credentials, settings)?;
                let mut connector = LdapConnector::new(endpoint, ldap, rate)?;
                if let Some((sink, dry_run)) = recording {
                    connector = connector.with_recording(sink, dry_run);
                }
                Ok(Arc::new(connector))
            }
            TargetKind::Sql => {
                let sql = settings
                    .sql
                    .clone()
                    .ok_or_else(|| anyhow::anyhow!("the target has no sql settings"))?;
                let login = match credentials {
                    Credentials::Basic { username, password } => Some((username, password)),
                    _ => None,
                };
                let connector: Arc<dyn Connector> = Arc::new(SqlConnector::new(url, login, sql));
                Ok(recorded(connector, recording))
            }
            TargetKind::Rest => {
                let rest = settings
                    .rest
                    .clone()
                    .ok_or_else(|| anyhow::anyhow!("the target has no rest settings"))?;
                let options = ClientOptions::for_target(url, credentials, settings);
                let mut client = ScimClient::new(options)?.with_rate_limit(rate);
                if let Some((sink, dry_run)) = recording {
                    client = client.with_recording(sink, dry_run);
                }
                Ok(Arc::new(RestConnector::new(client, rest)))
            }
        }
    }
}

/// The connector with on-demand provisioning's record around it, when asked.
fn recorded(connector: Arc<dyn Connector>, recording: Recording) -> Arc<dyn Connector> {
    match recording {
        Some((sink, dry_run)) => Arc::new(Recorded::new(connector, sink, dry_run)),
        None => connector,
    }
}

/// A database URL: `postgres://host[:port]/db` (the password goes in the
/// credentials) or `sqlite:///path/to/file.db`.
fn sql_url(text: &str) -> Result<String, String> {
    let text = text.trim();
    if let Some(path) = text.strip_prefix("sqlite://") {
        if path.is_empty() || path == ":memory:" {
            return Err(format!(
                "{text:?}: name the database file, sqlite:///path/to/file.db"
            ));
        }
        return Ok(text.to_string());
    }
    let url = url::Url::parse(text).map_err(|_| format!("{text:?} is not a URL"))?;
    if !matches!(url.scheme(), "postgres" | "postgresql")
        || url.host_str().is_none_or(str::is_empty)
    {
        return Err(format!(
            "a SQL target's URL is postgres://host[:port]/database or sqlite:///path/file.db, got {text:?}"
        ));
    }
    if url.password().is_some() {
        return Err(format!(
            "{text:?}: the password belongs in --basic-password (stored encrypted), not in the URL"
        ));
    }
    if url.path().trim_start_matches('/').is_empty() {
        return Err(format!(
            "{text:?}: name the database, postgres://host/database"
        ));
    }
    Ok(text.to_string())
}

/// How an LDAP target is reached and bound to.
pub fn ldap_endpoint(
    url: &str,
    credentials: Credentials,
    settings: &TargetSettings,
) -> anyhow::Result<ldap::Endpoint> {
    let Credentials::Basic { username, password } = credentials else {
        bail!("an LDAP target binds with a DN and a password (credentials of kind basic)");
    };
    Ok(ldap::Endpoint {
        url: url.to_string(),
        start_tls: settings.ldap.as_ref().is_some_and(|l| l.start_tls),
        bind_dn: username,
        password,
        timeout: Duration::from_secs(settings.timeout_secs),
    })
}

/// An `ldap://` or `ldaps://` URL naming a server and nothing else.
fn ldap_url(text: &str) -> Result<String, String> {
    let text = text.trim().trim_end_matches('/');
    let url = url::Url::parse(text).map_err(|_| format!("{text:?} is not a URL"))?;
    if !matches!(url.scheme(), "ldap" | "ldaps") || url.host_str().is_none_or(str::is_empty) {
        return Err(format!(
            "an LDAP target's URL is ldap://host[:port] or ldaps://host[:port], got {text:?}"
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{text:?}: the bind DN and password belong in --bind-dn and --bind-password"
        ));
    }
    if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{text:?}: the base DN goes in --base-dn, not in the URL"
        ));
    }
    Ok(text.to_string())
}

/// Whether the target syncs this kind of object.
fn syncs(settings: &TargetSettings, kind: ResourceKind) -> bool {
    settings
        .resource_types
        .iter()
        .any(|t| t.eq_ignore_ascii_case(kind.endpoint()))
}

/// The mapping of a target with its own vocabulary (a directory, tables, an
/// API): each synced section written out from `base = "none"` (the identity
/// base copies SCIM attributes, which such a system does not have) and
/// setting what `required` names.
fn own_vocabulary(
    target: TargetKind,
    settings: &TargetSettings,
    file: &MappingFile,
    required: &dyn Fn(ResourceKind) -> Required,
) -> Result<Mapping, String> {
    let what = target.as_str().to_uppercase();
    for (kind, section, name) in [
        (ResourceKind::User, &file.users, "users"),
        (ResourceKind::Group, &file.groups, "groups"),
    ] {
        if !syncs(settings, kind) {
            continue;
        }
        match section {
            None => {
                return Err(format!(
                    "invalid mapping: an {what} target needs a [{name}] section (base = \"none\" \
                     and rules naming the system's attributes)"
                ));
            }
            Some(s) if s.base == Base::Identity => {
                return Err(format!(
                    "invalid mapping: [{name}] of an {what} target starts from base = \"none\": \
                     the identity base copies SCIM attributes, which the system does not have"
                ));
            }
            Some(_) => {}
        }
    }
    Mapping::compile_requiring(file, required).map_err(|e| e.to_string())
}

/// An LDAP target's mapping also sets what its DN templates name.
fn ldap_mapping(
    settings: &TargetSettings,
    ldap: &LdapSettings,
    file: &MappingFile,
) -> Result<Mapping, String> {
    let required = |kind: ResourceKind| {
        let template = match kind {
            ResourceKind::User => ldap.user_template(),
            ResourceKind::Group | ResourceKind::Department | ResourceKind::Plain(_) => {
                ldap.group_template()
            }
        };
        let attributes = match template {
            Ok(t) if syncs(settings, kind) => {
                t.attributes().iter().map(|a| a.to_string()).collect()
            }
            _ => Vec::new(),
        };
        Required {
            attributes,
            why: "the target's DN template names".into(),
        }
    };
    own_vocabulary(TargetKind::Ldap, settings, file, &required)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_by_kind() {
        let ldap = TargetKind::Ldap;
        assert_eq!(
            ldap.check_url("ldaps://dc1.example.org:636/").unwrap(),
            "ldaps://dc1.example.org:636"
        );
        for bad in [
            "https://dc1.example.org",
            "ldap://",
            "ldap://admin:pw@host",
            "ldap://host/dc=example,dc=org",
            "ldap://host?x",
        ] {
            assert!(ldap.check_url(bad).is_err(), "{bad}");
        }
        assert!(TargetKind::Scim.check_url("ldap://host").is_err());
        assert!(
            TargetKind::Scim
                .check_url("https://app.example/scim/v2/")
                .is_ok()
        );
    }

    #[test]
    fn ldap_targets_bind_with_a_dn_and_password() {
        let bearer = Credentials::Bearer { token: "t".into() };
        assert!(TargetKind::Ldap.check_credentials(&bearer).is_err());
        assert!(TargetKind::Scim.check_credentials(&bearer).is_ok());
        let basic = Credentials::Basic {
            username: "cn=admin,dc=example,dc=org".into(),
            password: "pw".into(),
        };
        assert!(TargetKind::Ldap.check_credentials(&basic).is_ok());
    }

    fn ldap_settings() -> TargetSettings {
        let ldap = LdapSettings {
            base_dn: "dc=example,dc=org".into(),
            users: ldap::EntrySettings {
                dn: "uid={uid},ou={ou},dc=example,dc=org".into(),
                ..Default::default()
            },
            groups: ldap::EntrySettings {
                dn: "cn={cn},ou=groups,dc=example,dc=org".into(),
                ..Default::default()
            },
            deactivate: ldap::Deactivation::AccountControl,
            ..LdapSettings::default()
        };
        TargetSettings {
            kind: TargetKind::Ldap,
            ldap: Some(ldap),
            ..TargetSettings::default()
        }
    }

    #[test]
    fn ldap_settings_match_on_the_naming_attributes() {
        let settings = TargetKind::Ldap.check_settings(ldap_settings()).unwrap();
        assert_eq!(settings.matching, "uid");
        let group = TargetKind::Ldap.group_match(&settings).unwrap();
        assert_eq!(group.path.attr.name, "cn");
        let scim = TargetSettings {
            ldap: settings.ldap.clone(),
            ..TargetSettings::default()
        };
        assert!(TargetKind::Scim.check_settings(scim).is_err());
    }

    #[test]
    fn ldap_mappings_name_directory_attributes() {
        let settings = ldap_settings();
        let kind = TargetKind::Ldap;
        let e = kind.mapping(&settings, None).unwrap_err();
        assert!(e.contains("needs a mapping"), "{e}");
        let good = r#"
            [users]
            base = "none"
            rules = [{target = "uid", value = "userName"},
                     {target = "ou", value = "coalesce(title, \"people\")"},
                     {target = "cn", value = "displayName"}]
            [groups]
            base = "none"
            rules = [{target = "cn", value = "displayName"}]
        "#;
        let (file, mapping) = kind.mapping(&settings, Some(good)).unwrap();
        assert!(file.is_some());
        assert_eq!(mapping.users.rules.len(), 3);
        let no_ou = good.replace(
            r#"{target = "ou", value = "coalesce(title, \"people\")"},"#,
            "",
        );
        let e = kind.mapping(&settings, Some(&no_ou)).unwrap_err();
        assert!(e.contains("no rule sets 'ou'"), "{e}");
        let identity = "[users]\nrules = [{target = \"uid\", value = \"userName\"}]\n";
        let e = kind.mapping(&settings, Some(identity)).unwrap_err();
        assert!(e.contains("base = \"none\""), "{e}");
        let users_only = good.split("[groups]").next().unwrap();
        let e = kind.mapping(&settings, Some(users_only)).unwrap_err();
        assert!(e.contains("needs a [groups] section"), "{e}");
    }
}
