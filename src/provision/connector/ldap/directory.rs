//! One bound connection to a directory, opened on first use and replaced
//! once when it went stale (servers close idle connections), with the
//! target's timeout and rate limit on every operation.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, Scope, SearchEntry};
use tokio::sync::Mutex;

use super::error::{from_ldap, is_connection_error};
use crate::provision::client::RateLimiter;
use crate::provision::connector::ConnectorError;

/// Entries per page of a listing (simple paged results, RFC 2696).
pub const PAGE_SIZE: i32 = 500;

/// How to reach and bind to the directory.
#[derive(Clone)]
pub struct Endpoint {
    /// `ldap://host:port` or `ldaps://host:port`.
    pub url: String,
    pub start_tls: bool,
    pub bind_dn: String,
    pub password: String,
    pub timeout: Duration,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &self.url)
            .field("start_tls", &self.start_tls)
            .field("bind_dn", &self.bind_dn)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// A connection (TLS as the URL or StartTLS asks), not yet bound.
    pub async fn connect(&self) -> Result<Ldap, ConnectorError> {
        let settings = LdapConnSettings::new()
            .set_conn_timeout(self.timeout)
            .set_starttls(self.start_tls);
        let (conn, ldap) = LdapConnAsync::with_settings(settings, &self.url)
            .await
            .map_err(from_ldap)?;
        tokio::spawn(async move {
            if let Err(e) = conn.drive().await {
                tracing::debug!(error = %e, "LDAP connection ended");
            }
        });
        Ok(ldap)
    }

    /// Binds `ldap` with the target's DN and password.
    pub async fn bind(&self, ldap: &mut Ldap) -> Result<(), ConnectorError> {
        ldap.with_timeout(self.timeout);
        ldap.simple_bind(&self.bind_dn, &self.password)
            .await
            .and_then(|r| r.success())
            .map(drop)
            .map_err(from_ldap)
    }
}

pub struct Directory {
    endpoint: Endpoint,
    rate: Option<Arc<RateLimiter>>,
    bound: Mutex<Option<Ldap>>,
}

impl Directory {
    pub fn new(endpoint: Endpoint, rate: Option<Arc<RateLimiter>>) -> Self {
        Self {
            endpoint,
            rate,
            bound: Mutex::new(None),
        }
    }

    /// The open connection, or a new bound one (`true`: new).
    async fn handle(&self) -> Result<(Ldap, bool), ConnectorError> {
        let mut slot = self.bound.lock().await;
        if let Some(ldap) = slot.as_ref() {
            let mut ldap = ldap.clone();
            if !ldap.is_closed() {
                return Ok((ldap, false));
            }
        }
        let mut ldap = self.endpoint.connect().await?;
        self.endpoint.bind(&mut ldap).await?;
        *slot = Some(ldap.clone());
        Ok((ldap, true))
    }

    async fn forget(&self) {
        *self.bound.lock().await = None;
    }

    /// Runs one operation on a bound connection. An operation on an older
    /// connection that fails for want of an answer runs once more on a new
    /// one: the server may have closed it while idle.
    pub async fn run<T, F, Fut>(&self, op: F) -> Result<T, ConnectorError>
    where
        F: Fn(Ldap) -> Fut,
        Fut: Future<Output = Result<T, LdapError>>,
    {
        if let Some(rate) = &self.rate {
            rate.until_ready().await;
        }
        let timed = |mut ldap: Ldap| {
            ldap.with_timeout(self.endpoint.timeout);
            ldap
        };
        let (ldap, fresh) = self.handle().await?;
        match op(timed(ldap)).await {
            Err(e) if is_connection_error(&e) => {
                self.forget().await;
                if fresh {
                    return Err(from_ldap(e));
                }
                let (ldap, _) = self.handle().await?;
                let again = op(timed(ldap)).await;
                if again.as_ref().is_err_and(is_connection_error) {
                    self.forget().await;
                }
                again.map_err(from_ldap)
            }
            other => other.map_err(from_ldap),
        }
    }

    /// Every entry `filter` finds under `base`, page by page.
    pub async fn search_all(
        &self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
    ) -> Result<Vec<SearchEntry>, ConnectorError> {
        let attrs: Vec<String> = attrs.iter().map(|a| a.to_string()).collect();
        self.run(|mut ldap| {
            let attrs = attrs.clone();
            async move {
                let adapters: Vec<Box<dyn Adapter<'_, String, Vec<String>>>> = vec![
                    Box::new(EntriesOnly::new()),
                    Box::new(PagedResults::new(PAGE_SIZE)),
                ];
                let mut stream = ldap
                    .streaming_search_with(adapters, base, scope, filter, attrs)
                    .await?;
                let mut out = Vec::new();
                while let Some(entry) = stream.next().await? {
                    out.push(SearchEntry::construct(entry));
                }
                stream.finish().await.success()?;
                Ok(out)
            }
        })
        .await
    }

    /// The entries of a small search (one request, no paging).
    pub async fn search(
        &self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
    ) -> Result<Vec<SearchEntry>, ConnectorError> {
        let attrs: Vec<String> = attrs.iter().map(|a| a.to_string()).collect();
        self.run(|mut ldap| {
            let attrs = attrs.clone();
            async move {
                let (entries, _) = ldap.search(base, scope, filter, attrs).await?.success()?;
                Ok(entries.into_iter().map(SearchEntry::construct).collect())
            }
        })
        .await
    }
}
