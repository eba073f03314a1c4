//! A plain-HTTP request on the HTTPS port gets a short `400` naming the URL
//! to use, instead of a failed handshake the client shows as garbage. The
//! first byte decides: every TLS connection opens with a handshake record.

use std::future::{Ready, ready};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use actix_service::{Service, Transform};
use actix_web::rt::net::TcpStream;
use futures_util::future::LocalBoxFuture;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;

/// The content type of a TLS handshake record.
const TLS_HANDSHAKE: u8 = 0x16;
/// Most bytes of a plain request read to find its Host header.
const MAX_HEAD_BYTES: usize = 8192;

/// Wraps the TLS service; `wait` bounds how long a silent client is kept.
pub struct AnswerPlainHttp {
    pub wait: Duration,
}

impl<S> Transform<S, TcpStream> for AnswerPlainHttp
where
    S: Service<TcpStream, Response = ()> + 'static,
    S::Future: 'static,
{
    type Response = ();
    type Error = S::Error;
    type Transform = PlainHttpGuard<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(PlainHttpGuard {
            tls: Rc::new(service),
            wait: self.wait,
        }))
    }
}

pub struct PlainHttpGuard<S> {
    tls: Rc<S>,
    wait: Duration,
}

impl<S> Service<TcpStream> for PlainHttpGuard<S>
where
    S: Service<TcpStream, Response = ()> + 'static,
    S::Future: 'static,
{
    type Response = ();
    type Error = S::Error;
    type Future = LocalBoxFuture<'static, Result<(), S::Error>>;

    actix_service::forward_ready!(tls);

    fn call(&self, stream: TcpStream) -> Self::Future {
        let (tls, wait) = (self.tls.clone(), self.wait);
        Box::pin(async move {
            let mut first = [0u8; 1];
            match timeout(wait, stream.peek(&mut first)).await {
                Ok(Ok(1)) if first[0] == TLS_HANDSHAKE => tls.call(stream).await,
                Ok(Ok(1)) => {
                    answer(stream, wait).await;
                    Ok(())
                }
                // Closed, failed or silent: there is nothing to serve.
                _ => Ok(()),
            }
        })
    }
}

/// Reads the request head (bounded in size and time) and answers 400.
async fn answer(mut stream: TcpStream, wait: Duration) {
    let peer = stream.peer_addr().ok();
    let mut head = Vec::new();
    let read_head = async {
        let mut chunk = [0u8; 1024];
        while head.len() < MAX_HEAD_BYTES && !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&chunk[..n]),
            }
        }
    };
    let _ = timeout(wait, read_head).await;
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    let parsed = request.parse(&head);
    if request.method.is_none() {
        tracing::debug!(?peer, "neither TLS nor HTTP on the HTTPS port; closed");
        return;
    }
    let host = match parsed {
        Ok(httparse::Status::Complete(_)) => request
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("host"))
            .and_then(|h| std::str::from_utf8(h.value).ok()),
        _ => None,
    };
    let Ok(local) = stream.local_addr() else {
        return;
    };
    let body = format!("this port speaks HTTPS: use {}\n", https_url(host, local));
    let response = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    tracing::debug!(?peer, "plain HTTP on the HTTPS port; answered 400");
    let written = async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    };
    let _ = timeout(wait, written).await;
}

/// `https://` + the host the client asked for (when it is a valid host
/// name) + this listener's port: where the same request would have worked.
fn https_url(host_header: Option<&str>, local: SocketAddr) -> String {
    let host = host_header
        .and_then(|h| url::Url::parse(&format!("http://{h}/")).ok())
        .and_then(|u| u.host_str().map(str::to_string));
    match host {
        Some(host) => format!("https://{host}:{}/", local.port()),
        None => format!("https://{local}/"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_keeps_the_asked_host_and_uses_this_port() {
        let local: SocketAddr = "127.0.0.1:8443".parse().unwrap();
        let url = |h| https_url(h, local);
        assert_eq!(
            url(Some("id.example.com:80")),
            "https://id.example.com:8443/"
        );
        assert_eq!(url(Some("id.example.com")), "https://id.example.com:8443/");
        assert_eq!(url(Some("[::1]:8443")), "https://[::1]:8443/");
        assert_eq!(url(Some("bad host\r\nx: y")), "https://127.0.0.1:8443/");
        assert_eq!(url(None), "https://127.0.0.1:8443/");
    }
}
