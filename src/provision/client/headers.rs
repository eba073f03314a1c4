//! Extra request headers a target asks for, checked once up front.

use std::collections::BTreeMap;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// Set by the client itself; a target option must not replace them.
const RESERVED: [&str; 5] = [
    "authorization",
    "content-type",
    "content-length",
    "host",
    "transfer-encoding",
];

/// The headers as a `HeaderMap`, or why one is refused (never echoing a value).
pub fn extra_headers(headers: &BTreeMap<String, String>) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let header = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| format!("{name:?} is not a valid header name"))?;
        if RESERVED.contains(&header.as_str()) {
            return Err(format!(
                "header {name:?} is set by scimhub and cannot be overridden"
            ));
        }
        let value = HeaderValue::from_str(value.trim())
            .map_err(|_| format!("the value of header {name:?} is not a valid header value"))?;
        if map.insert(header, value).is_some() {
            return Err(format!("header {name:?} is given twice"));
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(name: &str, value: &str) -> Result<HeaderMap, String> {
        extra_headers(&BTreeMap::from([(name.to_string(), value.to_string())]))
    }

    #[test]
    fn accepts_ordinary_headers() {
        let map = one("X-Tenant", "acme").unwrap();
        assert_eq!(map["x-tenant"], "acme");
    }

    #[test]
    fn refuses_bad_names_values_and_reserved_headers() {
        assert!(
            one("bad name", "v")
                .unwrap_err()
                .contains("not a valid header name")
        );
        assert!(
            one("X-A", "line\nbreak")
                .unwrap_err()
                .contains("not a valid header value")
        );
        assert!(
            one("Authorization", "Bearer x")
                .unwrap_err()
                .contains("cannot be overridden")
        );
        assert!(
            one("content-TYPE", "text/plain")
                .unwrap_err()
                .contains("cannot be overridden")
        );
        let twice = BTreeMap::from([
            ("X-A".to_string(), "1".to_string()),
            ("x-a".to_string(), "2".to_string()),
        ]);
        assert!(extra_headers(&twice).unwrap_err().contains("given twice"));
    }
}
