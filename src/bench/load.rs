//! A lean closed-loop load generator: N workers, each on its own keep-alive
//! HTTP/1.1 connection, send requests back to back for a fixed time and
//! record every latency. It writes pre-built requests and reads responses by
//! `Content-Length` (all the server sends), so on a shared 2-core machine it
//! leaves as much CPU as it can to the server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::summarize;

/// One request: method, path (with query) and an optional JSON body.
pub struct Request {
    pub method: &'static str,
    pub path: String,
    pub body: Option<Vec<u8>>,
}

impl Request {
    pub fn get(path: String) -> Self {
        Self {
            method: "GET",
            path,
            body: None,
        }
    }

    pub fn json(method: &'static str, path: String, body: &serde_json::Value) -> Self {
        Self {
            method,
            path,
            body: Some(body.to_string().into_bytes()),
        }
    }
}

/// Builds the request a worker sends next, from (worker, its request number).
pub type MakeRequest = Arc<dyn Fn(usize, u64) -> Request + Send + Sync>;

#[derive(Debug, Clone)]
pub struct Load {
    /// The servers; worker `w` talks to `addrs[w % addrs.len()]`.
    pub addrs: Vec<SocketAddr>,
    /// `Authorization` header value sent with every request.
    pub authorization: String,
    pub concurrency: usize,
    /// Requests before this are sent but not recorded.
    pub warmup: Duration,
    pub duration: Duration,
    /// The servers' processes when they are not this one: their CPU counts too.
    pub server_pids: Vec<u32>,
}

/// What one timed phase measured.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    pub per_second: f64,
    /// CPU time of the server and the load generator per request, warm-up
    /// included; less sensitive than req/s to other work on the machine.
    pub cpu_us_per_request: Option<f64>,
    pub p50: Duration,
    pub p99: Duration,
    /// Requests answered with a 2xx, warm-up included.
    pub acknowledged: u64,
}

/// CPU seconds of this process and the servers', if they run apart.
fn cpu_seconds(server_pids: &[u32]) -> Option<f64> {
    let mut total = super::machine::cpu_seconds(None)?;
    for pid in server_pids {
        total += super::machine::cpu_seconds(Some(*pid))?;
    }
    Some(total)
}

/// Runs the load and fails on the first non-2xx answer (a benchmark of
/// errors would be meaningless).
pub async fn drive(load: &Load, make: MakeRequest) -> anyhow::Result<Outcome> {
    let cpu_before = cpu_seconds(&load.server_pids);
    let start = Instant::now();
    let record_from = start + load.warmup;
    let stop = record_from + load.duration;
    let mut workers = Vec::with_capacity(load.concurrency);
    for worker in 0..load.concurrency {
        let (load, make) = (load.clone(), make.clone());
        workers.push(tokio::spawn(async move {
            run_worker(&load, worker, &make, record_from, stop).await
        }));
    }
    let (mut samples, mut sent) = (Vec::new(), 0u64);
    for w in workers {
        let (timed, all) = w.await.context("load worker panicked")??;
        samples.extend(timed);
        sent += all;
    }
    let elapsed = Instant::now().saturating_duration_since(record_from);
    let cpu = cpu_seconds(&load.server_pids)
        .zip(cpu_before)
        .map(|(after, before)| (after - before) * 1e6 / sent.max(1) as f64);
    let requests = samples.len() as f64;
    let (p50, p99, _) = summarize(samples);
    Ok(Outcome {
        per_second: requests / elapsed.as_secs_f64().max(1e-9),
        cpu_us_per_request: cpu,
        p50,
        p99,
        acknowledged: sent,
    })
}

async fn run_worker(
    load: &Load,
    worker: usize,
    make: &MakeRequest,
    record_from: Instant,
    stop: Instant,
) -> anyhow::Result<(Vec<Duration>, u64)> {
    let addr = load.addrs[worker % load.addrs.len().max(1)];
    let mut conn = Connection::open(addr).await?;
    let mut samples = Vec::new();
    let mut seq = 0u64;
    loop {
        let sent = Instant::now();
        // Every worker times at least one request: on a loaded machine a
        // short window can otherwise pass with none recorded.
        if sent >= stop && !samples.is_empty() {
            return Ok((samples, seq));
        }
        let request = make(worker, seq);
        seq += 1;
        let head = conn.send(&request, &load.authorization).await?;
        if !(200..300).contains(&head.status) {
            bail!(
                "{} {}: HTTP {}: {}",
                request.method,
                request.path,
                head.status,
                String::from_utf8_lossy(&conn.body)
            );
        }
        if sent >= record_from {
            samples.push(sent.elapsed());
        }
        if head.close {
            conn = Connection::open(addr).await?;
        }
    }
}

struct Connection {
    stream: TcpStream,
    out: Vec<u8>,
    /// Bytes read past the previous response (none with one request in flight).
    buf: Vec<u8>,
    body: Vec<u8>,
}

struct Head {
    status: u16,
    close: bool,
}

impl Connection {
    async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connect to {addr}"))?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            out: Vec::with_capacity(1024),
            buf: Vec::with_capacity(16 * 1024),
            body: Vec::new(),
        })
    }

    async fn send(&mut self, request: &Request, authorization: &str) -> anyhow::Result<Head> {
        use std::io::Write;
        self.out.clear();
        write!(
            self.out,
            "{} {} HTTP/1.1\r\nHost: bench\r\nAuthorization: {authorization}\r\n",
            request.method, request.path
        )?;
        if let Some(body) = &request.body {
            write!(
                self.out,
                "Content-Type: application/scim+json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )?;
            self.out.extend_from_slice(body);
        } else {
            self.out.extend_from_slice(b"\r\n");
        }
        self.stream.write_all(&self.out).await?;
        self.read_response(request.method == "HEAD").await
    }

    async fn read_response(&mut self, head_only: bool) -> anyhow::Result<Head> {
        let header_end = loop {
            if let Some(at) = find(&self.buf, b"\r\n\r\n") {
                break at + 4;
            }
            self.fill().await?;
        };
        let (head, length) = parse_head(&self.buf[..header_end])?;
        let length = if head_only || matches!(head.status, 100..=199 | 204 | 304) {
            0
        } else {
            length.context("response without Content-Length")?
        };
        while self.buf.len() < header_end + length {
            self.fill().await?;
        }
        self.body.clear();
        self.body
            .extend_from_slice(&self.buf[header_end..header_end + length]);
        self.buf.drain(..header_end + length);
        Ok(head)
    }

    async fn fill(&mut self) -> anyhow::Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("the server closed the connection mid-response");
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Status, `Connection: close`, and `Content-Length` of a response head.
fn parse_head(head: &[u8]) -> anyhow::Result<(Head, Option<usize>)> {
    let text = std::str::from_utf8(head).context("response head is not UTF-8")?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let (mut close, mut length) = (false, None);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse().context("bad Content-Length")?);
        } else if name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            bail!("chunked responses are not supported by the load generator");
        }
    }
    Ok((Head { status, close }, length))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_length_and_close() {
        let (head, length) =
            parse_head(b"HTTP/1.1 201 Created\r\ncontent-length: 42\r\nConnection: close\r\n\r\n")
                .unwrap();
        assert_eq!((head.status, head.close, length), (201, true, Some(42)));
        let (head, length) = parse_head(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
        assert_eq!((head.status, head.close, length), (204, false, None));
        assert!(parse_head(b"garbage\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n").is_err());
    }
}
