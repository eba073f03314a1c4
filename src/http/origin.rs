//! Where a request really comes from: its scheme, host and client address.
//! `X-Forwarded-Proto`, `-Host` and `-For` count only when the connection
//! is from a configured trusted proxy; otherwise any client could forge its
//! address in the audit trail or the host in `meta.location`.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::http::header::{HOST, HeaderMap};
use ipnet::IpNet;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub scheme: String,
    pub host: String,
    pub client: Option<IpAddr>,
}

fn first_value(headers: &HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?;
    let first = value.split(',').next()?.trim();
    (!first.is_empty()).then(|| first.to_string())
}

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|net| net.contains(&ip))
}

/// The client behind a chain of trusted proxies: the rightmost
/// `X-Forwarded-For` entry that is not itself a trusted proxy.
fn forwarded_client(headers: &HeaderMap, proxies: &[IpNet]) -> Option<IpAddr> {
    let chain: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    chain
        .iter()
        .rev()
        .find(|ip| !trusted(**ip, proxies))
        .or(chain.first())
        .copied()
}

/// The client's address alone (what the audit trail and auth logs need, on
/// every request: no scheme or host strings built).
pub fn client(req: &HttpRequest, proxies: &[IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr().map(|a| a.ip());
    if peer.is_some_and(|ip| trusted(ip, proxies)) {
        forwarded_client(req.headers(), proxies).or(peer)
    } else {
        peer
    }
}

pub fn of(req: &HttpRequest, proxies: &[IpNet]) -> Origin {
    let peer = req.peer_addr().map(|a| a.ip());
    let headers = req.headers();
    let own_scheme = if req.app_config().secure() {
        "https"
    } else {
        "http"
    };
    let own_host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| req.app_config().host().to_string());
    if !peer.is_some_and(|ip| trusted(ip, proxies)) {
        return Origin {
            scheme: own_scheme.to_string(),
            host: own_host,
            client: peer,
        };
    }
    Origin {
        scheme: first_value(headers, "x-forwarded-proto")
            .filter(|s| s == "http" || s == "https")
            .unwrap_or_else(|| own_scheme.to_string()),
        host: first_value(headers, "x-forwarded-host").unwrap_or(own_host),
        client: client(req, proxies),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn proxies() -> Vec<IpNet> {
        vec!["10.0.0.0/8".parse().unwrap()]
    }

    fn forwarded(peer: &str) -> HttpRequest {
        TestRequest::default()
            .peer_addr(format!("{peer}:4000").parse().unwrap())
            .insert_header((HOST, "internal:8080"))
            .insert_header(("x-forwarded-proto", "https"))
            .insert_header(("x-forwarded-host", "id.example.com"))
            .insert_header(("x-forwarded-for", "203.0.113.9, 10.1.1.1"))
            .to_http_request()
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let from_proxy = of(&forwarded("10.2.3.4"), &proxies());
        assert_eq!(from_proxy.scheme, "https");
        assert_eq!(from_proxy.host, "id.example.com");
        assert_eq!(from_proxy.client, Some("203.0.113.9".parse().unwrap()));
        let forged = of(&forwarded("198.51.100.7"), &proxies());
        assert_eq!(forged.scheme, "http");
        assert_eq!(forged.host, "internal:8080");
        assert_eq!(forged.client, Some("198.51.100.7".parse().unwrap()));
        let nobody_trusted = of(&forwarded("10.2.3.4"), &[]);
        assert_eq!(nobody_trusted.client, Some("10.2.3.4".parse().unwrap()));
    }

    #[test]
    fn the_client_is_the_last_untrusted_hop() {
        let req = TestRequest::default()
            .peer_addr("10.0.0.2:1".parse().unwrap())
            .insert_header(("x-forwarded-for", "1.2.3.4, 5.6.7.8, 10.0.0.9"))
            .to_http_request();
        assert_eq!(
            of(&req, &proxies()).client,
            Some("5.6.7.8".parse().unwrap())
        );
    }
}
