//! Files whose header row names SCIM attribute paths (`userName`,
//! `name.givenName`, `emails[type eq "work"].value`, `urn:…:User:manager`)
//! import with no mapping: each column is written at its path.

use serde_json::{Map, Value};

use crate::provision::mapping::is_reference;
use crate::provision::mapping::path::{self, TargetPath};
use crate::scim::ResourceKind;

/// Columns that are the record's id, not an attribute.
const ID_COLUMNS: [&str; 1] = ["id"];

#[derive(Debug, Clone)]
pub struct HeaderMapping {
    columns: Vec<(String, TargetPath)>,
}

/// `groups`, a group's `members`, a user's `primaryDepartment` and
/// `departments`, a department's `parent` are references, written as they are.
fn reference(kind: ResourceKind, name: &str) -> Option<TargetPath> {
    is_reference(kind, name).then(|| TargetPath {
        uri: None,
        name: name.to_ascii_lowercase(),
        sub: None,
        element: None,
        text: name.to_string(),
    })
}

impl HeaderMapping {
    /// The mapping the field names make, or why one of them is no SCIM path.
    pub fn detect<'a>(
        kind: ResourceKind,
        names: impl IntoIterator<Item = &'a String>,
    ) -> Result<Self, String> {
        let mut columns = Vec::new();
        for name in names {
            if ID_COLUMNS.iter().any(|c| c.eq_ignore_ascii_case(name))
                || columns.iter().any(|(n, _)| n == name)
            {
                continue;
            }
            let target = match reference(kind, name) {
                Some(t) => t,
                None => path::parse_target(kind, name)
                    .ok()
                    .filter(|t| path::definition(kind, &filter_attr(t)).is_some())
                    .ok_or_else(|| {
                        format!(
                            "field {name:?} is no {} attribute path, so this source needs a \
                             mapping (see docs/sources.md, \"Mapping\")",
                            kind.as_str()
                        )
                    })?,
            };
            columns.push((name.clone(), target));
        }
        Ok(Self { columns })
    }

    pub fn targets(&self) -> Vec<&TargetPath> {
        self.columns.iter().map(|(_, t)| t).collect()
    }

    /// The record as a SCIM resource (plus its references).
    pub fn apply(&self, fields: &Map<String, Value>) -> Value {
        let mut out = Map::new();
        for (name, target) in &self.columns {
            if let Some(v) = fields.get(name) {
                path::write(&mut out, target, v.clone());
            }
        }
        Value::Object(out)
    }
}

fn filter_attr(t: &TargetPath) -> crate::scim::filter::AttrPath {
    crate::scim::filter::AttrPath {
        uri: t.uri.clone(),
        name: t.name.clone(),
        sub: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    #[test]
    fn scim_path_headers_build_the_resource() {
        let names: Vec<String> = [
            "id",
            "userName",
            "name.givenName",
            "emails[type eq \"work\"].value",
            &format!("{ENT}:manager"),
            "groups",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let m = HeaderMapping::detect(ResourceKind::User, &names).unwrap();
        let row: Map<String, Value> = names
            .iter()
            .zip(["7", "ann", "Ann", "ann@example.org", "m1", "D1"])
            .map(|(n, v)| (n.clone(), json!(v)))
            .collect();
        assert_eq!(
            m.apply(&row),
            json!({"userName": "ann", "name": {"givenName": "Ann"},
                   "emails": [{"type": "work", "value": "ann@example.org"}],
                   ENT: {"manager": "m1"}, "groups": "D1"})
        );
    }

    #[test]
    fn other_headers_need_a_mapping() {
        let names = vec!["userName".to_string(), "first_name".to_string()];
        let e = HeaderMapping::detect(ResourceKind::User, &names).unwrap_err();
        assert!(
            e.starts_with("field \"first_name\" is no User attribute path"),
            "{e}"
        );
    }
}
