//! A real OpenLDAP `slapd` for the tests (`scimhub::bench::slapd`: its own
//! config and database in a temp dir, an LDIF loaded with `slapadd`, a free
//! loopback port, gone when dropped). A test skips when slapd is not
//! installed, unless `SCIMHUB_REQUIRE_SLAPD=1` (CI, where `.ci/run`
//! installs `slapd` and `ldap-utils`).

use std::path::Path;

pub use scimhub::bench::slapd::{ADMIN_DN, ADMIN_PASSWORD, BASE_DN};

pub struct Slapd(scimhub::bench::slapd::Slapd);

impl std::ops::Deref for Slapd {
    type Target = scimhub::bench::slapd::Slapd;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Slapd {
    /// A slapd serving `ldif`; None (the test skips) when it cannot start here.
    pub fn start(ldif: &Path) -> Option<Slapd> {
        match scimhub::bench::slapd::Slapd::start(ldif) {
            Ok(s) => Some(Slapd(s)),
            Err(e) => {
                if std::env::var("SCIMHUB_REQUIRE_SLAPD").as_deref() == Ok("1") {
                    panic!("slapd is required but could not be started: {e:#}");
                }
                eprintln!("note: LDAP tests skipped: {e:#}");
                None
            }
        }
    }

    /// Runs `ldapmodify` as the admin with `changes` (LDIF change records).
    pub fn modify(&self, changes: &str) {
        self.0.modify(changes).expect("ldapmodify");
    }
}
