//! A minimal SMTP server on a loopback port, written for the tests: it
//! speaks just what a client needs (220, EHLO/HELO, MAIL, RCPT, DATA, RSET,
//! NOOP, QUIT), records each accepted message, and can answer MAIL with a
//! 4xx (try later) or RCPT with a 5xx (refused for good) on demand.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The DATA as received (dot-stuffing undone), CRLF line ends.
    pub data: String,
}

impl Mail {
    fn head_and_body(&self) -> (&str, &str) {
        self.data.split_once("\r\n\r\n").unwrap_or((&self.data, ""))
    }

    /// A header's value, unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self
            .head_and_body()
            .0
            .replace("\r\n ", " ")
            .replace("\r\n\t", " ");
        head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    /// The body as a reader sees it (quoted-printable decoded).
    pub fn text(&self) -> String {
        let body = self.head_and_body().1;
        let qp = self
            .header("Content-Transfer-Encoding")
            .is_some_and(|e| e.eq_ignore_ascii_case("quoted-printable"));
        if qp {
            decode_quoted_printable(body)
        } else {
            body.to_string()
        }
        .replace("\r\n", "\n")
    }
}

fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Default)]
struct State {
    mails: Vec<Mail>,
    /// Sessions whose MAIL is answered 451 before one is accepted.
    defer_next: usize,
    /// Recipients whose RCPT is answered 550.
    refused: Vec<String>,
}

pub struct SmtpServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl SmtpServer {
    /// Listens on a free loopback port.
    pub async fn start() -> SmtpServer {
        Self::start_on(0).await
    }

    /// Listens on `port` (0: any free one).
    pub async fn start_on(port: u16) -> SmtpServer {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, shared.clone()));
            }
        });
        SmtpServer { addr, state, task }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The next `n` messages are deferred (451 on MAIL).
    pub fn defer_next(&self, n: usize) {
        self.state.lock().unwrap().defer_next = n;
    }

    /// RCPT of `address` is refused for good (550).
    pub fn refuse(&self, address: &str) {
        self.state.lock().unwrap().refused.push(address.to_string());
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.state.lock().unwrap().mails.clone()
    }

    /// The accepted messages whose subject contains `part`.
    pub fn mails_about(&self, part: &str) -> Vec<Mail> {
        self.mails()
            .into_iter()
            .filter(|m| m.header("Subject").is_some_and(|s| s.contains(part)))
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `<a@b>` (with any ESMTP parameters after it) → `a@b`.
fn path_of(argument: &str) -> String {
    let start = argument.find('<').map_or(0, |i| i + 1);
    let end = argument.find('>').unwrap_or(argument.len());
    argument[start..end].to_string()
}

async fn session(stream: TcpStream, state: Arc<Mutex<State>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    if write.write_all(b"220 test-smtp ready\r\n").await.is_err() {
        return;
    }
    let (mut from, mut to) = (String::new(), Vec::new());
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let answer: &str = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            "250 test-smtp\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            let mut s = state.lock().unwrap();
            if s.defer_next > 0 {
                s.defer_next -= 1;
                "451 4.3.0 try again later\r\n"
            } else {
                from = path_of(&line[10..]);
                to.clear();
                "250 2.1.0 ok\r\n"
            }
        } else if upper.starts_with("RCPT TO:") {
            let rcpt = path_of(&line[8..]);
            if state.lock().unwrap().refused.contains(&rcpt) {
                "550 5.1.1 no such mailbox\r\n"
            } else {
                to.push(rcpt);
                "250 2.1.5 ok\r\n"
            }
        } else if upper == "DATA" {
            if write
                .write_all(b"354 end with <CRLF>.<CRLF>\r\n")
                .await
                .is_err()
            {
                return;
            }
            let mut data = String::new();
            while let Ok(Some(l)) = lines.next_line().await {
                if l == "." {
                    break;
                }
                data.push_str(l.strip_prefix('.').unwrap_or(&l));
                data.push_str("\r\n");
            }
            state.lock().unwrap().mails.push(Mail {
                from: from.clone(),
                to: to.clone(),
                data,
            });
            "250 2.0.0 queued\r\n"
        } else if upper == "RSET" || upper == "NOOP" {
            "250 2.0.0 ok\r\n"
        } else if upper == "QUIT" {
            let _ = write.write_all(b"221 2.0.0 bye\r\n").await;
            return;
        } else {
            "502 5.5.2 not implemented\r\n"
        };
        if write.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}
