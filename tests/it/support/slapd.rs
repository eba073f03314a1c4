//! A throwaway OpenLDAP server per test: the Debian `slapd` on a free
//! loopback port, with its own `slapd.conf` (mdb backend; the core,
//! cosine and inetorgperson schemas from /etc/ldap/schema; a rootdn with
//! a password) and database in a temp dir, a base LDIF loaded with
//! `slapadd` before it starts, stopped when dropped. It never touches a
//! system slapd (its own port, config and files).
//!
//! `Slapd::start` is `None` where slapd is not installed, unless
//! `SCIMHUB_REQUIRE_SLAPD=1` (CI), where that fails the test.

use std::collections::{BTreeMap, HashSet};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use ldap3::{Ldap, LdapConnAsync, Scope, SearchEntry};

use super::live::free_port;
use super::poll::eventually_blocking;

const SLAPD: &str = "/usr/sbin/slapd";
const SLAPADD: &str = "/usr/sbin/slapadd";
const SCHEMAS: [&str; 3] = ["core", "cosine", "inetorgperson"];

pub const BASE_DN: &str = "dc=example,dc=org";
pub const ADMIN_DN: &str = "cn=admin,dc=example,dc=org";
pub const ADMIN_PASSWORD: &str = "slapd-test-secret";

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

pub struct Slapd {
    /// `ldap://127.0.0.1:PORT`
    pub url: String,
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

fn required() -> bool {
    std::env::var("SCIMHUB_REQUIRE_SLAPD").as_deref() == Ok("1")
}

fn config(dir: &Path) -> String {
    let includes: String = SCHEMAS
        .iter()
        .map(|s| format!("include /etc/ldap/schema/{s}.schema\n"))
        .collect();
    format!(
        "{includes}\
         modulepath /usr/lib/ldap\n\
         moduleload back_mdb\n\
         pidfile {dir}/slapd.pid\n\
         database mdb\n\
         maxsize 104857600\n\
         suffix \"{BASE_DN}\"\n\
         rootdn \"{ADMIN_DN}\"\n\
         rootpw {ADMIN_PASSWORD}\n\
         directory {dir}/db\n\
         index objectClass eq\n\
         index entryUUID eq\n",
        dir = dir.display()
    )
}

impl Slapd {
    /// A server holding `BASE_LDIF`, answering on loopback.
    pub fn start() -> Option<Slapd> {
        match Self::try_start(BASE_LDIF) {
            Ok(s) => Some(s),
            Err(e) if required() => panic!("slapd is required but could not be started: {e}"),
            Err(e) => {
                eprintln!("note: LDAP tests skipped: {e}");
                None
            }
        }
    }

    fn try_start(ldif: &str) -> Result<Slapd, String> {
        if !Path::new(SLAPD).exists() {
            return Err(format!(
                "{SLAPD} is not installed (Debian: slapd, ldap-utils)"
            ));
        }
        let dir = tempfile::Builder::new()
            .prefix("scimhub-slapd-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        std::fs::create_dir(dir.path().join("db")).map_err(|e| e.to_string())?;
        std::fs::write(dir.path().join("slapd.conf"), config(dir.path()))
            .map_err(|e| e.to_string())?;
        std::fs::write(dir.path().join("base.ldif"), ldif).map_err(|e| e.to_string())?;
        let loaded = Command::new(SLAPADD)
            .arg("-f")
            .arg(dir.path().join("slapd.conf"))
            .arg("-l")
            .arg(dir.path().join("base.ldif"))
            .output()
            .map_err(|e| e.to_string())?;
        if !loaded.status.success() {
            return Err(format!(
                "slapadd failed: {}",
                String::from_utf8_lossy(&loaded.stderr)
            ));
        }
        let port = free_port();
        let mut slapd = Slapd {
            url: format!("ldap://127.0.0.1:{port}"),
            port,
            dir,
            child: None,
        };
        slapd.run()?;
        Ok(slapd)
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("slapd.conf")
    }

    /// Starts the server process (in the foreground: `-d 0`) and waits
    /// until it accepts connections.
    fn run(&mut self) -> Result<(), String> {
        let log =
            std::fs::File::create(self.dir.path().join("slapd.log")).map_err(|e| e.to_string())?;
        let child = Command::new(SLAPD)
            .arg("-f")
            .arg(self.conf())
            .args(["-h", &format!("{}/", self.url), "-d", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| e.to_string())?;
        self.child = Some(child);
        let port = self.port;
        eventually_blocking("slapd to accept connections", || {
            TcpStream::connect(("127.0.0.1", port)).ok()
        });
        Ok(())
    }

    /// Stops the server (its data stays): connections are refused.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and database.
    pub fn restart(&mut self) {
        self.stop();
        self.run().expect("restart slapd");
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

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}
