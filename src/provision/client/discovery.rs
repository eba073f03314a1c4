//! What a target can do, read from its `/ServiceProviderConfig`
//! (RFC 7643 §5), with conservative answers for what it does not say.

use serde::Serialize;
use serde_json::Value;

/// The `/Bulk` body size assumed when a target offers bulk without saying
/// how large a request may be.
pub const DEFAULT_BULK_PAYLOAD: usize = 256 * 1024;

/// Page size asked for when the target does not announce a smaller maximum.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// Largest page read, by cursor or index, whatever the target allows.
pub const MAX_CURSOR_PAGE: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TargetLimits {
    pub patch: bool,
    pub bulk: bool,
    pub bulk_max_operations: usize,
    /// The largest `/Bulk` request body in bytes (`maxPayloadSize`; when
    /// the target states none, `DEFAULT_BULK_PAYLOAD`).
    pub bulk_max_payload: usize,
    pub filter: bool,
    /// The page size to use (at most the target's `filter.maxResults`).
    pub max_results: usize,
    /// The page size for reading everything by cursor (RFC 9865) when the
    /// target offers cursor paging: its `pagination.maxPageSize` (else
    /// `filter.maxResults`), at most `MAX_CURSOR_PAGE`.
    pub cursor_page: Option<usize>,
    pub etag: bool,
}

impl Default for TargetLimits {
    /// For a target without a ServiceProviderConfig: PUT instead of PATCH,
    /// no bulk, no filters (match by listing), no ETags.
    fn default() -> Self {
        Self {
            patch: false,
            bulk: false,
            bulk_max_operations: 0,
            bulk_max_payload: 0,
            filter: false,
            max_results: DEFAULT_PAGE_SIZE,
            cursor_page: None,
            etag: false,
        }
    }
}

impl TargetLimits {
    /// Reads a ServiceProviderConfig; a missing or malformed feature counts
    /// as unsupported.
    pub fn from_service_provider_config(spc: &Value) -> Self {
        let supported = |feature: &str| spc[feature]["supported"].as_bool() == Some(true);
        let number = |feature: &str, key: &str| {
            spc[feature][key]
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .filter(|n| *n > 0)
        };
        let bulk_max_operations = if supported("bulk") {
            number("bulk", "maxOperations").unwrap_or(0)
        } else {
            0
        };
        let bulk_max_payload = if bulk_max_operations > 0 {
            number("bulk", "maxPayloadSize").unwrap_or(DEFAULT_BULK_PAYLOAD)
        } else {
            0
        };
        let filter = supported("filter");
        let max_results = number("filter", "maxResults")
            .map_or(DEFAULT_PAGE_SIZE, |max| max.min(DEFAULT_PAGE_SIZE));
        // A cursor page costs the target the same wherever it starts, so
        // it may be as large as the target allows.
        let cursor_page = (spc["pagination"]["cursor"].as_bool() == Some(true)).then(|| {
            number("pagination", "maxPageSize")
                .or_else(|| number("filter", "maxResults"))
                .unwrap_or(DEFAULT_PAGE_SIZE)
                .min(MAX_CURSOR_PAGE)
        });
        Self {
            patch: supported("patch"),
            bulk: bulk_max_operations > 0,
            bulk_max_operations,
            bulk_max_payload,
            filter,
            max_results,
            cursor_page,
            etag: supported("etag"),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_features_and_caps_the_page_size() {
        let spc = json!({
            "patch": {"supported": true},
            "bulk": {"supported": true, "maxOperations": 50, "maxPayloadSize": 1048576},
            "filter": {"supported": true, "maxResults": 25},
            "etag": {"supported": false},
        });
        assert_eq!(
            TargetLimits::from_service_provider_config(&spc),
            TargetLimits {
                patch: true,
                bulk: true,
                bulk_max_operations: 50,
                bulk_max_payload: 1_048_576,
                filter: true,
                max_results: 25,
                cursor_page: None,
                etag: false,
            }
        );
        let cursor = |pagination: serde_json::Value| {
            let spc = json!({"filter": {"supported": true, "maxResults": 500},
                "pagination": pagination});
            TargetLimits::from_service_provider_config(&spc).cursor_page
        };
        assert_eq!(
            cursor(json!({"cursor": true, "maxPageSize": 200})),
            Some(200)
        );
        assert_eq!(cursor(json!({"cursor": true})), Some(500));
        assert_eq!(
            cursor(json!({"cursor": true, "maxPageSize": 5000})),
            Some(MAX_CURSOR_PAGE)
        );
        assert_eq!(cursor(json!({"cursor": false, "maxPageSize": 200})), None);
        let unsized_bulk = json!({"bulk": {"supported": true, "maxOperations": 10}});
        assert_eq!(
            TargetLimits::from_service_provider_config(&unsized_bulk).bulk_max_payload,
            DEFAULT_BULK_PAYLOAD
        );
        let big = json!({"filter": {"supported": true, "maxResults": 10000}});
        assert_eq!(
            TargetLimits::from_service_provider_config(&big).max_results,
            DEFAULT_PAGE_SIZE
        );
    }

    #[test]
    fn missing_or_odd_features_are_unsupported() {
        let spc = json!({
            "patch": {"supported": "yes"},
            "bulk": {"supported": true, "maxOperations": 0},
            "filter": {"maxResults": -1},
        });
        assert_eq!(
            TargetLimits::from_service_provider_config(&spc),
            TargetLimits::default()
        );
    }
}
