//! A throwaway PostgreSQL server for the test binary, started once on first
//! use from the Debian packages' binaries, and stopped when the test process
//! exits (its supervisor shell waits on our stdin, which closes at exit).
//! `SCIMHUB_TEST_POSTGRES_URL` points the tests at an existing server instead.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};

pub struct PgServer {
    /// URL of the maintenance database (`postgres`), without a trailing slash.
    admin_url: String,
    _dir: Option<tempfile::TempDir>,
    _supervisor: Option<Mutex<(Child, ChildStdin)>>,
}

static SERVER: OnceLock<Option<PgServer>> = OnceLock::new();

/// The shared server, or None when no PostgreSQL is installed. When
/// `SCIMHUB_REQUIRE_POSTGRES=1` (CI) a missing server is a failure.
pub fn server() -> Option<&'static PgServer> {
    let server = SERVER.get_or_init(|| match start() {
        Ok(s) => Some(s),
        Err(e) => {
            if std::env::var("SCIMHUB_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!("PostgreSQL is required but could not be started: {e}");
            }
            eprintln!("note: PostgreSQL tests skipped: {e}");
            None
        }
    });
    server.as_ref()
}

impl PgServer {
    /// Creates a fresh, empty database and returns its URL.
    pub fn fresh_database(&self) -> String {
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut conn =
            PgConnection::establish(&self.admin_url).expect("connect to test PostgreSQL");
        diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE template0"))
            .execute(&mut conn)
            .expect("create test database");
        let base = self
            .admin_url
            .rsplit_once('/')
            .map_or(self.admin_url.as_str(), |(b, _)| b);
        format!("{base}/{name}")
    }
}

fn bin_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("SCIMHUB_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists() && p.join("postgres").exists())
        .collect();
    found.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a shell script as the `postgres` user when we are root (initdb
/// refuses root), as ourselves otherwise.
fn shell(script: &str, root: bool) -> Command {
    let mut cmd = if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "sh", "-c", script]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    };
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    cmd
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn start() -> Result<PgServer, String> {
    if let Ok(url) = std::env::var("SCIMHUB_TEST_POSTGRES_URL") {
        return Ok(PgServer {
            admin_url: url.trim_end_matches('/').to_string(),
            _dir: None,
            _supervisor: None,
        });
    }
    let bin = bin_dir().ok_or("no PostgreSQL server binaries under /usr/lib/postgresql")?;
    let root = is_root();
    let dir = tempfile::Builder::new()
        .prefix("scimhub-pg-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let path = dir.path();
    if root {
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(path)
            .status()
            .map_err(|e| e.to_string())?;
        if !status.success() {
            return Err("cannot chown the PostgreSQL data folder".into());
        }
    }
    let data = path.join("data");
    let q = |p: &Path| format!("'{}'", p.display());
    let init = format!(
        "{} -D {} -U postgres --auth=trust -E UTF8 --no-sync --locale=C.UTF-8",
        q(&bin.join("initdb")),
        q(&data)
    );
    let out = shell(&init, root).output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let port = free_port().map_err(|e| e.to_string())?;
    let serve = format!(
        "{} -D {} -k {} -h 127.0.0.1 -p {port} -c fsync=off -c synchronous_commit=off \
         -c full_page_writes=off -c max_connections=400 -c shared_buffers=64MB \
         >{} 2>&1 & pid=$!; read _; kill -INT $pid; wait $pid; rm -rf {}",
        q(&bin.join("postgres")),
        q(&data),
        q(path),
        q(&path.join("server.log")),
        q(path),
    );
    let mut child = shell(&serve, root)
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let stdin = child
        .stdin
        .take()
        .ok_or("no stdin for the PostgreSQL supervisor")?;
    let admin_url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if PgConnection::establish(&admin_url).is_ok() {
            break;
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(path.join("server.log")).unwrap_or_default();
            return Err(format!("PostgreSQL did not start within 60 s: {log}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(PgServer {
        admin_url,
        _dir: Some(dir),
        _supervisor: Some(Mutex::new((child, stdin))),
    })
}
