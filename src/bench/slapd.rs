//! A throwaway OpenLDAP `slapd` for benchmarks and tests: its own config
//! (mdb backend; core, cosine, inetOrgPerson and nis schemas; a rootdn with
//! a password) and database in a temp dir, an LDIF loaded with `slapadd`
//! before it starts, on a free loopback port; stopped and removed when
//! dropped. It never touches a system slapd. Needs the Debian packages
//! `slapd` and `ldap-utils`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

pub const BASE_DN: &str = "dc=example,dc=org";
pub const ADMIN_DN: &str = "cn=admin,dc=example,dc=org";
pub const ADMIN_PASSWORD: &str = "slapd-test-secret";

const SCHEMAS: [&str; 4] = ["core", "cosine", "inetorgperson", "nis"];

/// An installed program, looked for where Debian puts it.
pub fn program(name: &str) -> Option<PathBuf> {
    ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.exists())
}

fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

pub struct Slapd {
    /// `ldap://127.0.0.1:PORT`
    pub url: String,
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Slapd {
    /// A slapd serving the LDIF file `ldif`, loaded under `dc=example,dc=org`.
    pub fn start(ldif: &Path) -> anyhow::Result<Slapd> {
        program("slapd").context("slapd is not installed (Debian: slapd)")?;
        let slapadd = program("slapadd").context("slapadd is not installed (Debian: slapd)")?;
        let dir = tempfile::Builder::new()
            .prefix("scimhub-slapd-")
            .tempdir()?;
        let data = dir.path().join("data");
        std::fs::create_dir(&data)?;
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
                 database mdb\nmaxsize 4294967296\nsuffix \"{BASE_DN}\"\n\
                 rootdn \"{ADMIN_DN}\"\nrootpw {ADMIN_PASSWORD}\ndirectory {data}\n\
                 index objectClass eq\nindex entryUUID eq\nindex modifyTimestamp eq\n",
                pid = dir.path().join("slapd.pid").display(),
                args = dir.path().join("slapd.args").display(),
                data = data.display()
            ),
        )?;
        let loaded = Command::new(&slapadd)
            .arg("-q")
            .arg("-f")
            .arg(&config)
            .arg("-l")
            .arg(ldif)
            .output()?;
        if !loaded.status.success() {
            bail!(
                "slapadd failed: {}",
                String::from_utf8_lossy(&loaded.stderr)
            );
        }
        let port = free_port()?;
        let mut server = Slapd {
            url: format!("ldap://127.0.0.1:{port}"),
            port,
            dir,
            child: None,
        };
        server.run()?;
        Ok(server)
    }

    /// A slapd serving the LDIF text `ldif`.
    pub fn start_text(ldif: &str) -> anyhow::Result<Slapd> {
        let file = tempfile::NamedTempFile::new()?;
        std::fs::write(file.path(), ldif)?;
        Self::start(file.path())
    }

    /// Starts the server process (in the foreground, `-d 0`, so it is our
    /// child and goes with us) and waits until it accepts connections.
    fn run(&mut self) -> anyhow::Result<()> {
        let slapd = program("slapd").context("slapd is not installed (Debian: slapd)")?;
        let log = std::fs::File::create(self.dir.path().join("slapd.log"))?;
        let child = Command::new(slapd)
            .arg("-f")
            .arg(self.dir.path().join("slapd.conf"))
            .arg("-h")
            .arg(format!("{}/", self.url))
            .args(["-d", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?;
        self.child = Some(child);
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if start.elapsed() > Duration::from_secs(20) {
                bail!("slapd did not listen on port {} within 20 s", self.port);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
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
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.stop();
        self.run()
    }

    /// Runs `ldapmodify` as the admin with `changes` (LDIF change records).
    pub fn modify(&self, changes: &str) -> anyhow::Result<()> {
        let file = self.dir.path().join("changes.ldif");
        std::fs::write(&file, changes)?;
        let tool =
            program("ldapmodify").context("ldapmodify is not installed (Debian: ldap-utils)")?;
        let out = Command::new(tool)
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
            .output()?;
        if !out.status.success() {
            bail!(
                "ldapmodify failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}
