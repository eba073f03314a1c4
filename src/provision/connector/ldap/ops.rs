//! The writes the LDAP connector sends, described before they go (so a
//! dry run can record them instead).

use std::collections::HashSet;

use ldap3::{Ldap, LdapError, Mod};
use serde_json::{Map, Value, json};

/// One change to an attribute of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The attribute holds exactly these values (none: removed).
    Replace(String, Vec<String>),
    Add(String, Vec<String>),
    Delete(String, Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Add {
        dn: String,
        attrs: Vec<(String, Vec<String>)>,
    },
    Modify {
        dn: String,
        changes: Vec<Change>,
    },
    /// modrdn: a new RDN, and a new container when `container` is set.
    Rename {
        dn: String,
        rdn: String,
        container: Option<String>,
    },
    Delete {
        dn: String,
    },
}

fn set(values: &[String]) -> HashSet<String> {
    values.iter().cloned().collect()
}

impl Op {
    /// The operation's name, the DN it works on, and what it changes.
    pub fn describe(&self) -> (&'static str, &str, Value) {
        match self {
            Op::Add { dn, attrs } => {
                let body: Map<String, Value> =
                    attrs.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
                ("ADD", dn, Value::Object(body))
            }
            Op::Modify { dn, changes } => {
                let body: Vec<Value> = changes
                    .iter()
                    .map(|c| match c {
                        Change::Replace(a, v) => json!({"replace": a, "values": v}),
                        Change::Add(a, v) => json!({"add": a, "values": v}),
                        Change::Delete(a, v) => json!({"delete": a, "values": v}),
                    })
                    .collect();
                ("MODIFY", dn, Value::Array(body))
            }
            Op::Rename { dn, rdn, container } => (
                "MODDN",
                dn,
                json!({"newRdn": rdn, "deleteOldRdn": true, "newSuperior": container}),
            ),
            Op::Delete { dn } => ("DELETE", dn, Value::Null),
        }
    }

    /// Sends the operation on `ldap`; an error result is an error.
    pub async fn send(&self, ldap: &mut Ldap) -> Result<(), LdapError> {
        let result = match self {
            Op::Add { dn, attrs } => {
                let attrs: Vec<(String, HashSet<String>)> = attrs
                    .iter()
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| (k.clone(), set(v)))
                    .collect();
                ldap.add(dn, attrs).await?
            }
            Op::Modify { dn, changes } => {
                let mods: Vec<Mod<String>> = changes
                    .iter()
                    .map(|c| match c {
                        Change::Replace(a, v) => Mod::Replace(a.clone(), set(v)),
                        Change::Add(a, v) => Mod::Add(a.clone(), set(v)),
                        Change::Delete(a, v) => Mod::Delete(a.clone(), set(v)),
                    })
                    .collect();
                ldap.modify(dn, mods).await?
            }
            Op::Rename { dn, rdn, container } => {
                ldap.modifydn(dn, rdn, true, container.as_deref()).await?
            }
            Op::Delete { dn } => ldap.delete(dn).await?,
        };
        result.success().map(drop)
    }
}
