//! A real OpenLDAP `slapd` for the tests: its own config (mdb backend,
//! core / cosine / inetOrgPerson / nis schemas) and database in a temp dir,
//! an LDIF loaded with `slapadd` before it starts, listening on a free
//! loopback port, stopped (and its files removed) when dropped. Needs the
//! Debian packages `slapd` and `ldap-utils` (`.ci/run` installs them); a
//! test skips when they are missing unless `SCIMHUB_REQUIRE_SLAPD=1`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::live::free_port;
use super::poll::eventually_blocking;

/// The directory the LDIFs of `make_org.py` fill.
pub const BASE_DN: &str = "dc=example,dc=org";
pub const ADMIN_DN: &str = "cn=admin,dc=example,dc=org";
pub const ADMIN_PASSWORD: &str = "slapd-test-secret";

const SCHEMAS: [&str; 4] = ["core", "cosine", "inetorgperson", "nis"];

fn program(name: &str) -> Option<PathBuf> {
    ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.exists())
}

fn missing(what: &str) -> Option<Slapd> {
    if std::env::var("SCIMHUB_REQUIRE_SLAPD").as_deref() == Ok("1") {
        panic!("slapd is required but {what}");
    }
    eprintln!("note: LDAP tests skipped: {what}");
    None
}

pub struct Slapd {
    /// `ldap://127.0.0.1:PORT`
    pub url: String,
    dir: tempfile::TempDir,
    child: Child,
}

impl Slapd {
    /// A slapd serving `ldif` (loaded under `dc=example,dc=org`).
    pub fn start(ldif: &Path) -> Option<Slapd> {
        let (Some(slapd), Some(slapadd)) = (program("slapd"), program("slapadd")) else {
            return missing("slapd or slapadd is not installed (Debian: slapd)");
        };
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let includes: String = SCHEMAS
            .iter()
            .map(|s| format!("include /etc/ldap/schema/{s}.schema\n"))
            .collect();
        let config = dir.path().join("slapd.conf");
        std::fs::write(
            &config,
            format!(
                "{includes}modulepath /usr/lib/ldap\nmoduleload back_mdb\n\
                 pidfile {pid}\nargsfile {args}\n\
                 database mdb\nmaxsize 1073741824\nsuffix \"{BASE_DN}\"\n\
                 rootdn \"{ADMIN_DN}\"\nrootpw {ADMIN_PASSWORD}\ndirectory {data}\n\
                 index objectClass eq\nindex entryUUID eq\nindex modifyTimestamp eq\n",
                pid = dir.path().join("slapd.pid").display(),
                args = dir.path().join("slapd.args").display(),
                data = data.display()
            ),
        )
        .unwrap();
        let loaded = Command::new(&slapadd)
            .arg("-f")
            .arg(&config)
            .arg("-l")
            .arg(ldif)
            .output()
            .unwrap();
        if !loaded.status.success() {
            return missing(&format!(
                "slapadd failed: {}",
                String::from_utf8_lossy(&loaded.stderr)
            ));
        }
        let port = free_port();
        let url = format!("ldap://127.0.0.1:{port}");
        // `-d 0`: in the foreground (so it is our child and dies with the test).
        let child = Command::new(&slapd)
            .arg("-f")
            .arg(&config)
            .arg("-h")
            .arg(format!("{url}/"))
            .args(["-d", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Slapd { url, dir, child };
        eventually_blocking("slapd to listen", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        });
        Some(server)
    }

    /// Runs `ldapmodify` as the admin with `changes` (LDIF change records).
    pub fn modify(&self, changes: &str) {
        let file = self.dir.path().join("changes.ldif");
        std::fs::write(&file, changes).unwrap();
        let out = Command::new(program("ldapmodify").expect("ldap-utils is installed"))
            .args([
                "-x",
                "-H",
                &self.url,
                "-D",
                ADMIN_DN,
                "-w",
                ADMIN_PASSWORD,
                "-f",
            ])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ldapmodify failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
