//! A throwaway OpenLDAP server per test: `scimhub::bench::slapd` (the
//! Debian `slapd` on a free loopback port, its own config and database in a
//! temp dir, an LDIF loaded with `slapadd`, stopped when dropped), plus the
//! LDAP reads and writes tests make as another tool would.
//!
//! `Slapd::start*` is `None` (the test skips) where slapd is not installed,
//! unless `SCIMHUB_REQUIRE_SLAPD=1` (CI), where that fails the test.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use ldap3::{Ldap, LdapConnAsync, Scope, SearchEntry};

pub use scimhub::bench::slapd::{ADMIN_DN, ADMIN_PASSWORD, BASE_DN};

/// The suffix entry and the containers the tests place entries in.
pub const BASE_LDIF: &str = "\
dn: dc=example,dc=org
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=example,dc=org
objectClass: organizationalUnit
ou: groups

dn: ou=disabled,dc=example,dc=org
objectClass: organizationalUnit
ou: disabled
";

pub struct Slapd(scimhub::bench::slapd::Slapd);

impl std::ops::Deref for Slapd {
    type Target = scimhub::bench::slapd::Slapd;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

fn required() -> bool {
    std::env::var("SCIMHUB_REQUIRE_SLAPD").as_deref() == Ok("1")
}

fn started(server: anyhow::Result<scimhub::bench::slapd::Slapd>) -> Option<Slapd> {
    match server {
        Ok(s) => Some(Slapd(s)),
        Err(e) if required() => panic!("slapd is required but could not be started: {e:#}"),
        Err(e) => {
            eprintln!("note: LDAP tests skipped: {e:#}");
            None
        }
    }
}

impl Slapd {
    /// A server holding `BASE_LDIF`.
    pub fn start() -> Option<Slapd> {
        started(scimhub::bench::slapd::Slapd::start_text(BASE_LDIF))
    }

    /// A server holding the LDIF file `ldif`.
    pub fn start_with(ldif: &Path) -> Option<Slapd> {
        started(scimhub::bench::slapd::Slapd::start(ldif))
    }

    /// Stops the server (its data stays): connections are refused.
    pub fn stop(&mut self) {
        self.0.stop();
    }

    /// Starts it again on the same port and database.
    pub fn restart(&mut self) {
        self.0.restart().expect("restart slapd");
    }

    /// Runs `ldapmodify` as the admin with `changes` (LDIF change records).
    pub fn modify(&self, changes: &str) {
        self.0.modify(changes).expect("ldapmodify");
    }

    /// A connection bound as the admin.
    async fn admin(&self) -> Ldap {
        let (conn, mut ldap) = LdapConnAsync::new(&self.url).await.expect("connect");
        tokio::spawn(async move {
            let _ = conn.drive().await;
        });
        ldap.simple_bind(ADMIN_DN, ADMIN_PASSWORD)
            .await
            .and_then(|r| r.success())
            .expect("bind as the admin");
        ldap
    }

    /// Adds an entry, as another tool would.
    pub async fn add(&self, dn: &str, attrs: &[(&str, &[&str])]) {
        let mut ldap = self.admin().await;
        let attrs: Vec<(&str, HashSet<&str>)> = attrs
            .iter()
            .map(|(a, v)| (*a, v.iter().copied().collect()))
            .collect();
        ldap.add(dn, attrs)
            .await
            .and_then(|r| r.success())
            .unwrap_or_else(|e| panic!("add {dn}: {e}"));
        let _ = ldap.unbind().await;
    }

    /// Every entry below `base` that `filter` matches, with `attrs`
    /// (`*` and `+` for all), by DN; bound as the admin.
    pub async fn search(
        &self,
        base: &str,
        filter: &str,
        attrs: &[&str],
    ) -> BTreeMap<String, SearchEntry> {
        let mut ldap = self.admin().await;
        let (entries, _) = ldap
            .search(base, Scope::Subtree, filter, attrs.to_vec())
            .await
            .and_then(|r| r.success())
            .unwrap_or_else(|e| panic!("search {filter} under {base}: {e}"));
        let _ = ldap.unbind().await;
        entries
            .into_iter()
            .map(SearchEntry::construct)
            .map(|e| (e.dn.clone(), e))
            .collect()
    }
}
