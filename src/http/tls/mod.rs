//! Built-in HTTPS with rustls (TLS 1.2 and 1.3, the aws-lc-rs provider the
//! rest of scimhub uses). actix-web's own TLS binding hands every connection
//! straight to rustls, so this builds the listener one level lower: each
//! connection's first byte is looked at (`plain_http`) before the handshake.

mod certificate;
mod plain_http;
mod reload;

use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_http::{HttpService, Request, Response, body::MessageBody};
use actix_server::Server;
use actix_service::{IntoServiceFactory, Service, ServiceFactory, ServiceFactoryExt, map_config};
use actix_web::dev::AppConfig;
use anyhow::Context;
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;

pub use certificate::Certificate;

use crate::config::{Config, TlsConfig};

/// Loads the configured certificate; at start-up any problem stops `serve`
/// with one line naming the file.
pub fn load(config: &TlsConfig) -> anyhow::Result<Option<Arc<Certificate>>> {
    let Some((cert_file, key_file)) = config.files() else {
        return Ok(None);
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(Some(Arc::new(Certificate::load(
        cert_file, key_file, provider,
    )?)))
}

fn server_config(certificate: Arc<Certificate>) -> anyhow::Result<ServerConfig> {
    let provider: Arc<CryptoProvider> = certificate.provider();
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .context("TLS set-up")?
        .with_no_client_auth()
        .with_cert_resolver(certificate);
    Ok(config)
}

/// Like `HttpServer::bind`, for HTTPS: the app from `factory` on every
/// address, the certificate reloaded on SIGHUP or when its files change.
pub fn bind<F, I, S, B>(
    config: &Config,
    addrs: &[SocketAddr],
    certificate: Arc<Certificate>,
    factory: F,
) -> anyhow::Result<(Server, SocketAddr)>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    <S::Service as Service<Request>>::Future: 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let tls = server_config(certificate.clone())?;
    let listeners =
        listeners(addrs).with_context(|| format!("cannot listen on {}", config.listen))?;
    let bound = listeners
        .first()
        .and_then(|l| l.local_addr().ok())
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let mut builder = Server::build().shutdown_timeout(config.shutdown_timeout_secs);
    if let Some(workers) = config.workers {
        builder = builder.workers(workers.clamp(1, 512));
    }
    let shutdown = builder.graceful_shutdown_signal();
    let request_timeout = Duration::from_secs(config.request_timeout_secs.max(1));
    let keep_alive = Duration::from_secs(config.idle_timeout_secs.max(1));
    for listener in listeners {
        let addr = listener.local_addr()?;
        let (factory, tls, shutdown) = (factory.clone(), tls.clone(), shutdown.clone());
        builder = builder.listen(format!("scimhub-https-{addr}"), listener, move || {
            let shutdown = shutdown.clone();
            let app = factory()
                .into_factory()
                .map_err(|e| e.into().error_response());
            // What HttpServer gives an HTTPS listener: `secure()` is true, so
            // links built from the request say https. actix-web exposes no
            // other constructor; the https `meta.location` test guards it.
            let app = map_config(app, move |_| {
                AppConfig::__priv_test_new(true, addr.to_string(), addr)
            });
            let https = HttpService::build()
                .keep_alive(keep_alive)
                .client_request_timeout(request_timeout)
                .client_disconnect_timeout(Duration::from_secs(1))
                .graceful_shutdown_signal(move || {
                    let shutdown = shutdown.clone();
                    async move { shutdown.notified().await }
                })
                .finish(app)
                .rustls_0_23(tls.clone());
            actix_service::apply(
                plain_http::AnswerPlainHttp {
                    wait: request_timeout,
                },
                https,
            )
        })?;
    }
    reload::spawn(certificate)?;
    Ok((builder.run(), bound))
}

/// Every address that can be bound (a name may resolve to an address
/// family the host lacks); an error only when none can.
fn listeners(addrs: &[SocketAddr]) -> std::io::Result<Vec<TcpListener>> {
    let mut last_error = None;
    let mut bound = Vec::new();
    for addr in addrs {
        match listener(*addr) {
            Ok(l) => bound.push(l),
            Err(e) => last_error = Some(e),
        }
    }
    match (bound.is_empty(), last_error) {
        (true, Some(e)) => Err(e),
        _ => Ok(bound),
    }
}

fn listener(addr: SocketAddr) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}
