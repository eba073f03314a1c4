//! Departments on a sync target: which part of the tree a target gets (its
//! root department), which people (everyone under the root, and under the
//! department scope when set), and how departments look downstream — as
//! groups (each department a group whose members are its people and its
//! sub-departments' groups), only as the people's `department` attribute,
//! or not at all.

pub mod local;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::provision::mapping::path::ValuePath;
use crate::provision::plan::MatchKey;
use crate::provision::target::{TargetError, TargetSettings};
use crate::scim::filter::AttrPath;
use crate::scim::registry::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, ORGANIZATION_USER_SCHEMA};
use crate::store::{Store, StoreError, StoredDepartment, org};

/// How a target receives departments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DepartmentMode {
    /// Each department in scope is a group on the target; its members are
    /// its people (primary or further department) and its sub-departments'
    /// groups. People keep the `department` attribute too.
    Groups,
    /// Only as the people's enterprise `department` string.
    #[default]
    Attribute,
    /// Not at all: the `department` string and the organization extension
    /// are taken off each person before the mapping reads it.
    None,
}

impl DepartmentMode {
    pub fn as_str(self) -> &'static str {
        match self {
            DepartmentMode::Groups => "groups",
            DepartmentMode::Attribute => "attribute",
            DepartmentMode::None => "none",
        }
    }
}

/// Whether `id` is on `path` (`/rootId/…/id/`): the department at `path`
/// is `id` or under it.
pub fn under(path: &str, id: &str) -> bool {
    path.split('/').any(|segment| segment == id)
}

/// The part of the organization a target's settings admit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DepartmentScope {
    pub mode: DepartmentMode,
    /// Only this department's subtree is provisioned (departments and people).
    pub root: Option<String>,
    /// People only under one of these departments (their subtrees).
    pub people_under: Vec<String>,
}

impl DepartmentScope {
    pub fn of(settings: &TargetSettings) -> Self {
        Self {
            mode: settings.departments,
            root: settings.root_department.clone(),
            people_under: settings.department_scope.clone(),
        }
    }

    /// Departments become groups on the target.
    pub fn as_groups(&self) -> bool {
        self.mode == DepartmentMode::Groups
    }

    /// Whether the department at `path` is provisioned (as a group).
    pub fn admits_department(&self, path: &str) -> bool {
        self.root.as_deref().is_none_or(|root| under(path, root))
    }

    /// Whether a person (by its attributes) is in the department part of
    /// the scope: under the root, and under one of `people_under`, when
    /// set. A person without a primary department is under neither.
    pub fn admits_person(&self, attrs: &Map<String, Value>) -> bool {
        if self.root.is_none() && self.people_under.is_empty() {
            return true;
        }
        let Some(path) = org::path(attrs) else {
            return false;
        };
        self.admits_department(path)
            && (self.people_under.is_empty() || self.people_under.iter().any(|d| under(path, d)))
    }

    /// What a person looks like before the mapping reads it: in `none`
    /// mode without any department.
    pub fn prepare_person(&self, user: &mut Value) {
        if self.mode != DepartmentMode::None {
            return;
        }
        if let Some(o) = user.as_object_mut() {
            o.remove(ORGANIZATION_USER_SCHEMA);
            if let Some(Value::Object(e)) = o.get_mut(ENTERPRISE_USER_SCHEMA) {
                e.remove("department");
            }
            if let Some(Value::Array(schemas)) = o.get_mut("schemas") {
                schemas.retain(|s| s.as_str() != Some(ORGANIZATION_USER_SCHEMA));
            }
        }
    }
}

/// A department as a local Group for the target's group mapping: its name,
/// and its id as `externalId` (how a department group is found again).
pub fn as_group(department: &StoredDepartment) -> Value {
    json!({
        "schemas": [GROUP_SCHEMA],
        "id": department.id,
        "externalId": department.id,
        "displayName": department.display_name(),
    })
}

/// How a department group already on the target is recognised: by the
/// group matching of the target's kind (LDAP: the RDN attribute), else by
/// `externalId` — never by name, which a regular group may share.
pub fn match_key(settings: &TargetSettings) -> MatchKey {
    settings
        .kind
        .group_match(settings)
        .unwrap_or_else(|| MatchKey {
            path: ValuePath {
                attr: AttrPath::new("externalId"),
                filter: None,
                sub_after: None,
            },
            ignore_case: false,
        })
}

/// Refuses department settings naming departments that do not exist.
pub fn check(store: &dyn Store, settings: &TargetSettings) -> Result<(), TargetError> {
    let named = settings
        .root_department
        .iter()
        .map(|id| ("root department", id))
        .chain(
            settings
                .department_scope
                .iter()
                .map(|id| ("department scope", id)),
        );
    for (what, id) in named {
        match store.get_department(id) {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                return Err(TargetError::Invalid(format!(
                    "{what}: there is no department with id {id:?} (`scimhub dept tree` lists them)"
                )));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(path: Option<&str>) -> Map<String, Value> {
        let mut attrs = Map::new();
        attrs.insert("userName".into(), json!("p"));
        if let Some(p) = path {
            attrs.insert(
                ORGANIZATION_USER_SCHEMA.into(),
                json!({"primaryDepartment": {"value": "x"}, "departmentPath": p}),
            );
        }
        attrs
    }

    #[test]
    fn the_root_and_the_department_scope_both_narrow_the_people() {
        let open = DepartmentScope::default();
        assert!(open.admits_person(&person(None)), "no setting: everyone");
        assert!(open.admits_department("/a/b/"));
        let rooted = DepartmentScope {
            root: Some("rd".into()),
            ..DepartmentScope::default()
        };
        assert!(rooted.admits_person(&person(Some("/acme/rd/platform/"))));
        assert!(rooted.admits_person(&person(Some("/acme/rd/"))));
        assert!(!rooted.admits_person(&person(Some("/acme/sales/"))));
        assert!(
            !rooted.admits_person(&person(Some("/acme/rdx/"))),
            "whole ids only"
        );
        assert!(
            !rooted.admits_person(&person(None)),
            "no department: outside"
        );
        assert!(rooted.admits_department("/acme/rd/platform/"));
        assert!(!rooted.admits_department("/acme/"), "above the root");
        let both = DepartmentScope {
            root: Some("acme".into()),
            people_under: vec!["rd".into(), "ops".into()],
            ..DepartmentScope::default()
        };
        assert!(both.admits_person(&person(Some("/acme/rd/platform/"))));
        assert!(both.admits_person(&person(Some("/acme/ops/"))));
        assert!(!both.admits_person(&person(Some("/acme/sales/"))));
        assert!(
            both.admits_department("/acme/sales/"),
            "the department scope chooses people, not departments"
        );
        let scope_only = DepartmentScope {
            people_under: vec!["rd".into()],
            ..DepartmentScope::default()
        };
        assert!(!scope_only.admits_person(&person(Some("/other/"))));
        assert!(scope_only.admits_person(&person(Some("/acme/rd/"))));
    }

    #[test]
    fn none_mode_takes_every_department_off_a_person() {
        let mut user = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_USER_SCHEMA,
                        ORGANIZATION_USER_SCHEMA],
            "userName": "p",
            ENTERPRISE_USER_SCHEMA: {"department": "R&D", "employeeNumber": "7"},
            ORGANIZATION_USER_SCHEMA: {"primaryDepartment": {"value": "rd"}},
        });
        let before = user.clone();
        let attribute = DepartmentScope::default();
        attribute.prepare_person(&mut user);
        assert_eq!(user, before, "attribute mode leaves the person as it is");
        let none = DepartmentScope {
            mode: DepartmentMode::None,
            ..DepartmentScope::default()
        };
        none.prepare_person(&mut user);
        assert_eq!(
            user,
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_USER_SCHEMA],
                "userName": "p",
                ENTERPRISE_USER_SCHEMA: {"employeeNumber": "7"},
            })
        );
    }
}
