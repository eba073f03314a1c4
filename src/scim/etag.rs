//! Entity-tag preconditions (RFC 7644 §3.14, RFC 9110 §13.1): `If-Match`
//! and `If-None-Match` compared weakly against `meta.version`.

use super::error::ScimError;
use super::render::ResourceMeta;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagList {
    /// `*`: any current representation.
    Any,
    /// Opaque tags without the `W/` prefix or quotes.
    Tags(Vec<String>),
}

fn opaque(tag: &str) -> String {
    let t = tag.trim();
    let t = t.strip_prefix("W/").unwrap_or(t);
    t.trim_matches('"').to_string()
}

impl TagList {
    /// Parses a header value such as `W/"3"`, `"3", "4"` or `*`.
    pub fn parse(header: &str) -> Result<Self, ScimError> {
        let header = header.trim();
        if header == "*" {
            return Ok(TagList::Any);
        }
        let tags: Vec<String> = header
            .split(',')
            .map(opaque)
            .filter(|t| !t.is_empty())
            .collect();
        if tags.is_empty() {
            return Err(ScimError::invalid_value(
                "an entity-tag header must list tags or be *",
            ));
        }
        Ok(TagList::Tags(tags))
    }

    /// Weak comparison with the resource's current version.
    pub fn matches(&self, meta: &ResourceMeta) -> bool {
        match self {
            TagList::Any => true,
            TagList::Tags(tags) => {
                let current = opaque(&meta.etag());
                tags.contains(&current)
            }
        }
    }

    /// `If-Match` failing: 412 (RFC 7644 §3.14).
    pub fn require(&self, meta: &ResourceMeta) -> Result<(), ScimError> {
        if self.matches(meta) {
            Ok(())
        } else {
            Err(ScimError::new(
                412,
                None,
                format!(
                    "the resource has changed: its version is now {}",
                    meta.etag()
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn meta(v: i64) -> ResourceMeta {
        ResourceMeta {
            created: Utc::now(),
            last_modified: Utc::now(),
            version: v,
        }
    }

    #[test]
    fn weak_comparison_and_lists() {
        assert!(TagList::parse("W/\"3\"").unwrap().matches(&meta(3)));
        assert!(TagList::parse("\"3\"").unwrap().matches(&meta(3)));
        assert!(
            TagList::parse("W/\"1\", W/\"3\"")
                .unwrap()
                .matches(&meta(3))
        );
        assert!(!TagList::parse("W/\"2\"").unwrap().matches(&meta(3)));
        assert!(TagList::parse("*").unwrap().matches(&meta(9)));
        assert!(TagList::parse(" , ").is_err());
        let err = TagList::parse("W/\"2\"")
            .unwrap()
            .require(&meta(3))
            .unwrap_err();
        assert_eq!(err.status, 412);
    }
}
