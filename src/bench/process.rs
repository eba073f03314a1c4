//! The server under test as a process of its own (`scimhub serve`, this
//! binary), so its memory and CPU are measured apart from seeding and the
//! load generator.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

use super::machine;

/// How long a seeded database may take to open (migrations, first checks).
const START_TIMEOUT: Duration = Duration::from_secs(60);

pub struct ServerProcess {
    pub addr: SocketAddr,
    child: Child,
}

impl ServerProcess {
    /// Starts `scimhub serve` on `url` with the settings the in-process
    /// benchmarks use (2 workers, pool of 8, rate limiter off) and waits
    /// until it accepts connections.
    pub fn start(url: &str) -> anyhow::Result<Self> {
        let addr = free_loopback_port()?;
        let exe = std::env::current_exe().context("cannot find this binary")?;
        let child = Command::new(exe)
            .arg("serve")
            .env("SCIMHUB_LISTEN", addr.to_string())
            .env("SCIMHUB_DATABASE_URL", url)
            .env("SCIMHUB_WORKERS", "2")
            .env("SCIMHUB_POOL_SIZE", "8")
            .env("SCIMHUB_RATE_LIMIT_PER_SECOND", "0")
            .env("SCIMHUB_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .context("cannot start the server process")?;
        let mut server = Self { addr, child };
        server.wait_until_listening()?;
        Ok(server)
    }

    fn wait_until_listening(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("the server process exited at start: {status}");
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the server did not listen within {START_TIMEOUT:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A memory field of the server's `/proc/PID/status`, in MiB.
    pub fn memory_mib(&self, field: &str) -> Option<f64> {
        machine::memory_mib(Some(self.pid()), field)
    }

    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A loopback port nobody listens on now (the kernel's pick).
fn free_loopback_port() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}
