//! An LDAP target's own settings (the `ldap` object of its settings):
//! where its entries live, what they are made of, and how an account is
//! disabled. Checked once here before a target is stored.

use anyhow::bail;
use serde::{Deserialize, Serialize};

use super::dn::{self, DnTemplate};
use crate::provision::plan::DeprovisionMode;
use crate::provision::target::TargetSettings;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LdapSettings {
    /// Where the target's entries are searched (the whole subtree).
    pub base_dn: String,
    /// Upgrade an `ldap://` connection with StartTLS before binding.
    pub start_tls: bool,
    pub users: EntrySettings,
    pub groups: EntrySettings,
    /// The attribute that identifies an entry in the id map. A DN changes
    /// on every rename or move, so the id is the directory's stable entry
    /// id: `entryUUID` (RFC 4530; OpenLDAP and most servers), `objectGUID`
    /// on Active Directory.
    pub id_attribute: String,
    /// The DN-valued attribute that lists a group's members.
    pub member_attribute: String,
    /// The member every group keeps, because `groupOfNames` must list at
    /// least one (OpenLDAP accepts the empty DN); `null` where groups may
    /// be empty (Active Directory).
    pub empty_member: Option<String>,
    pub deactivate: Deactivation,
}

/// Where one kind of entry lives and what it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EntrySettings {
    /// The DN template, e.g. `uid={uid},ou=people,dc=example,dc=org`.
    pub dn: String,
    /// The object classes a new entry gets (default: inetOrgPerson for
    /// users, groupOfNames for groups).
    pub object_classes: Vec<String>,
    /// An extra LDAP filter the target's entries match, e.g. Active
    /// Directory's `(objectCategory=person)`.
    pub filter: Option<String>,
}

/// How a user is disabled without being deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case", deny_unknown_fields)]
pub enum Deactivation {
    /// Not at all: deprovisioning must delete.
    #[default]
    None,
    /// `attribute` is set to `value`; an active account has `active_value`
    /// there, or no such attribute when that is `null`.
    Attribute {
        attribute: String,
        value: String,
        #[serde(default)]
        active_value: Option<String>,
    },
    /// Active Directory: the ACCOUNTDISABLE bit (2) of `userAccountControl`.
    AccountControl,
    /// The entry moves under `container`, and back to its template's
    /// container when active again.
    Move { container: String },
}

/// `userAccountControl`, and its ACCOUNTDISABLE flag.
pub const ACCOUNT_CONTROL: &str = "userAccountControl";
pub const ACCOUNT_DISABLED: i64 = 2;

impl Default for LdapSettings {
    fn default() -> Self {
        Self {
            base_dn: String::new(),
            start_tls: false,
            users: EntrySettings::default(),
            groups: EntrySettings::default(),
            id_attribute: "entryUUID".into(),
            member_attribute: "member".into(),
            empty_member: Some(String::new()),
            deactivate: Deactivation::None,
        }
    }
}

impl LdapSettings {
    pub fn user_template(&self) -> Result<DnTemplate, String> {
        DnTemplate::parse(&self.users.dn)
    }

    pub fn group_template(&self) -> Result<DnTemplate, String> {
        DnTemplate::parse(&self.groups.dn)
    }
}

fn check_attribute(name: &str, what: &str) -> anyhow::Result<()> {
    if !dn::is_attribute_name(name) {
        bail!("{what}: {name:?} is not an attribute name");
    }
    Ok(())
}

fn check_dn_within(text: &str, base: &str, what: &str) -> anyhow::Result<()> {
    dn::parse(text).map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
    if !dn::is_within(text, base) {
        bail!("{what} {text:?} is not below the base DN {base:?}");
    }
    Ok(())
}

/// One kind's entries checked, its object classes defaulted.
fn check_entries(
    entries: &EntrySettings,
    base: &str,
    what: &str,
    default_class: &str,
) -> anyhow::Result<EntrySettings> {
    let template = DnTemplate::parse(&entries.dn).map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
    check_dn_within(
        &template.sample_container(),
        base,
        &format!("{what} container"),
    )?;
    let mut out = entries.clone();
    out.object_classes = entries
        .object_classes
        .iter()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    if out.object_classes.is_empty() {
        out.object_classes = vec![default_class.to_string()];
    }
    for class in &out.object_classes {
        check_attribute(class, &format!("{what} object class"))?;
    }
    if let Some(filter) = &entries.filter
        && ldap3::parse_filter(filter).is_err()
    {
        bail!("{what} filter {filter:?} is not an LDAP filter, e.g. (objectCategory=person)");
    }
    Ok(out)
}

/// The `ldap` settings of an LDAP target, checked and made canonical;
/// `settings` gives the rest of the target's options they must fit.
pub fn check(settings: &TargetSettings) -> anyhow::Result<LdapSettings> {
    let Some(ldap) = &settings.ldap else {
        bail!(
            "an LDAP target needs its ldap settings: base DN and DN templates \
             (--base-dn, --user-dn, --group-dn)"
        );
    };
    let mut out = ldap.clone();
    out.base_dn = ldap.base_dn.trim().to_string();
    if out.base_dn.is_empty() {
        bail!("an LDAP target needs a base DN (--base-dn dc=example,dc=org)");
    }
    dn::parse(&out.base_dn).map_err(|e| anyhow::anyhow!("base DN: {e}"))?;
    let syncs = |t: &str| settings.resource_types.iter().any(|r| r == t);
    if syncs("Users") || !ldap.users.dn.is_empty() {
        out.users = check_entries(&ldap.users, &out.base_dn, "user DN", "inetOrgPerson")?;
    }
    if syncs("Groups") || !ldap.groups.dn.is_empty() {
        out.groups = check_entries(&ldap.groups, &out.base_dn, "group DN", "groupOfNames")?;
    }
    check_attribute(&out.id_attribute, "id attribute")?;
    check_attribute(&out.member_attribute, "member attribute")?;
    if let Some(member) = &out.empty_member {
        dn::parse(member).map_err(|e| anyhow::anyhow!("empty member: {e}"))?;
    }
    match &out.deactivate {
        Deactivation::None => {
            let deactivates = settings.deprovision == DeprovisionMode::Deactivate
                && settings.actions.deactivate
                && syncs("Users");
            if deactivates {
                bail!(
                    "an LDAP target deactivates users by an attribute (--disable-attribute \
                     ATTR=VALUE), Active Directory's userAccountControl \
                     (--disable-account-control) or a move (--disable-move-to DN); or \
                     deprovision with --deprovision delete"
                );
            }
        }
        Deactivation::Attribute {
            attribute, value, ..
        } => {
            check_attribute(attribute, "deactivation attribute")?;
            if value.trim().is_empty() {
                bail!("the deactivation value is empty");
            }
        }
        Deactivation::AccountControl => {}
        Deactivation::Move { container } => {
            check_dn_within(container, &out.base_dn, "the deactivation container")?;
        }
    }
    if !settings.headers.is_empty() {
        bail!("request headers are for SCIM targets; an LDAP target takes none");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ldap_target(ldap: LdapSettings) -> TargetSettings {
        TargetSettings {
            kind: crate::provision::connector::TargetKind::Ldap,
            ldap: Some(ldap),
            ..TargetSettings::default()
        }
    }

    fn good() -> LdapSettings {
        LdapSettings {
            base_dn: "dc=example,dc=org".into(),
            users: EntrySettings {
                dn: "uid={uid},ou=people,dc=example,dc=org".into(),
                ..EntrySettings::default()
            },
            groups: EntrySettings {
                dn: "cn={cn},ou=groups,dc=example,dc=org".into(),
                ..EntrySettings::default()
            },
            deactivate: Deactivation::Attribute {
                attribute: "employeeType".into(),
                value: "disabled".into(),
                active_value: None,
            },
            ..LdapSettings::default()
        }
    }

    #[test]
    fn good_settings_get_their_default_object_classes() {
        let out = check(&ldap_target(good())).unwrap();
        assert_eq!(out.users.object_classes, ["inetOrgPerson"]);
        assert_eq!(out.groups.object_classes, ["groupOfNames"]);
        let json = serde_json::to_value(&out).unwrap();
        assert_eq!(json["deactivate"]["by"], "attribute");
        let back: LdapSettings = serde_json::from_value(json).unwrap();
        assert_eq!(back, out);
    }

    #[test]
    fn incoherent_settings_are_refused() {
        type Change = Box<dyn Fn(&mut LdapSettings)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|s| s.base_dn = " ".into()), "needs a base DN"),
            (Box::new(|s| s.base_dn = "not a dn".into()), "base DN"),
            (
                Box::new(|s| s.users.dn = "uid={uid},ou=people,dc=other".into()),
                "is not below the base DN",
            ),
            (Box::new(|s| s.users.dn = String::new()), "user DN"),
            (
                Box::new(|s| s.groups.filter = Some("objectClass=x(".into())),
                "is not an LDAP filter",
            ),
            (
                Box::new(|s| s.id_attribute = "entry UUID".into()),
                "id attribute",
            ),
            (
                Box::new(|s| {
                    s.deactivate = Deactivation::Move {
                        container: "ou=gone,dc=elsewhere".into(),
                    }
                }),
                "deactivation container",
            ),
            (
                Box::new(|s| s.deactivate = Deactivation::None),
                "deactivates users by",
            ),
        ];
        for (change, want) in cases {
            let mut s = good();
            change(&mut s);
            let e = check(&ldap_target(s)).unwrap_err().to_string();
            assert!(e.contains(want), "{want}: {e}");
        }
        let e = check(&TargetSettings::default()).unwrap_err().to_string();
        assert!(e.contains("needs its ldap settings"), "{e}");
        let mut deletes = ldap_target(LdapSettings {
            deactivate: Deactivation::None,
            ..good()
        });
        deletes.deprovision = DeprovisionMode::Delete;
        deletes.actions.delete = true;
        assert!(check(&deletes).is_ok(), "deleting needs no deactivation");
    }
}
