//! Single, unretried requests that tell what is wrong with a target
//! (`scimhub target test`): can it be reached at all (and if not, why:
//! DNS, refused connection, TLS, timeout), are the credentials accepted,
//! what do its schemas say.

use std::error::Error as _;

use reqwest::Method;
use reqwest::header::ACCEPT;
use serde::Serialize;
use serde_json::Value;

use super::{ACCEPT_SCIM, ConnectorError, ScimClient, found, json_body};
use crate::scim::ResourceKind;

/// Why a target could not be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnreachableKind {
    /// The host name does not resolve.
    Dns,
    /// Nothing listens on the port (connection refused).
    Refused,
    /// The TLS handshake failed (certificate, protocol, plain HTTP on an https URL).
    Tls,
    /// No answer within the target's timeout.
    Timeout,
    /// Any other connection failure (reset, unreachable network, …).
    Connection,
}

impl UnreachableKind {
    pub fn describe(self) -> &'static str {
        match self {
            UnreachableKind::Dns => "the host name does not resolve (DNS)",
            UnreachableKind::Refused => "the connection was refused (nothing listens there)",
            UnreachableKind::Tls => "the TLS handshake failed",
            UnreachableKind::Timeout => "no answer before the timeout",
            UnreachableKind::Connection => "the connection failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {detail}", kind.describe())]
pub struct Unreachable {
    pub kind: UnreachableKind,
    pub detail: String,
}

/// The error and its causes on one line, and what kind of failure it is.
fn classify(e: &reqwest::Error) -> Unreachable {
    let mut detail = e.to_string();
    let mut io_kind = None;
    let mut source = e.source();
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            io_kind.get_or_insert(io.kind());
        }
        source = cause.source();
    }
    let lower = detail.to_lowercase();
    let kind = if e.is_timeout() || io_kind == Some(std::io::ErrorKind::TimedOut) {
        UnreachableKind::Timeout
    } else if io_kind == Some(std::io::ErrorKind::ConnectionRefused)
        || lower.contains("connection refused")
    {
        UnreachableKind::Refused
    } else if lower.contains("dns error") || lower.contains("failed to lookup address") {
        UnreachableKind::Dns
    } else if io_kind == Some(std::io::ErrorKind::InvalidData)
        || ["tls", "certificate", "handshake", "corrupt message"]
            .iter()
            .any(|w| lower.contains(w))
    {
        // rustls reports handshake failures as InvalidData.
        UnreachableKind::Tls
    } else {
        UnreachableKind::Connection
    };
    Unreachable { kind, detail }
}

impl ScimClient {
    /// One GET of `/ServiceProviderConfig` without credentials or retries:
    /// any HTTP answer at all proves the target reachable (its status is returned).
    pub async fn reach(&self) -> Result<u16, Unreachable> {
        let inner = &*self.inner;
        let request = inner
            .transport
            .http
            .request(Method::GET, self.url(&["ServiceProviderConfig"]))
            .headers(inner.headers.clone())
            .header(ACCEPT, ACCEPT_SCIM)
            .timeout(inner.transport.timeout);
        self.pace().await;
        let response = request
            .send()
            .await
            .map_err(|e| classify(&e.without_url()))?;
        Ok(response.status().as_u16())
    }

    /// One authenticated page of `kind` (`GET /Users?count=1`): Ok when
    /// the target accepts the credentials and answers a list.
    pub async fn check_access(&self, kind: ResourceKind) -> Result<(), ConnectorError> {
        let mut url = self.url(&[kind.endpoint()]);
        url.query_pairs_mut()
            .append_pair("startIndex", "1")
            .append_pair("count", "1");
        let reply = self.execute(Method::GET, url, None).await?;
        found(&reply)?;
        json_body(&reply).map(|_| ())
    }

    /// `GET /ResourceTypes` as JSON; `None` when the server publishes none (404).
    pub async fn resource_types(&self) -> Result<Option<Value>, ConnectorError> {
        let reply = self
            .execute(Method::GET, self.url(&["ResourceTypes"]), None)
            .await?;
        if reply.status == 404 {
            return Ok(None);
        }
        json_body(&reply).map(Some)
    }

    /// `GET /Schemas` as JSON; `None` when the target publishes none (404).
    pub async fn schemas(&self) -> Result<Option<Value>, ConnectorError> {
        let reply = self
            .execute(Method::GET, self.url(&["Schemas"]), None)
            .await?;
        if reply.status == 404 {
            return Ok(None);
        }
        json_body(&reply).map(Some)
    }
}
