//! What a REST target's API looks like: a request template per operation,
//! where ids sit in its answers (JSON pointers), and how it reports errors.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One request: method, path (and query) under the base URL with
/// `{id}`, `{member}`, `{value}` placeholders, and a JSON body template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestTemplate {
    pub method: String,
    pub path: String,
    /// `"{object}"` stands for the mapped object; a key `"{object}"` in an
    /// object merges the mapped object's fields there. Absent: the body of
    /// create and update is the mapped object, other requests have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// The operations on one kind of object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoints {
    pub create: RequestTemplate,
    pub get: RequestTemplate,
    pub update: RequestTemplate,
    pub delete: RequestTemplate,
    pub list: RequestTemplate,
    /// Lookup by the matching attribute (`{value}`); without it no
    /// existing account is adopted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub find: Option<RequestTemplate>,
    /// Users: how an account is disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deactivate: Option<RequestTemplate>,
    /// Groups: membership changes (`{id}` the group, `{member}` the member).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_member: Option<RequestTemplate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_member: Option<RequestTemplate>,
    /// Where an object's id is, within the object (e.g. `/userid`).
    pub id_pointer: String,
    /// Where the new id is in the create answer; default: `id_pointer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_id_pointer: Option<String>,
    /// Where the object is in a get answer; default: the whole answer.
    #[serde(default)]
    pub object_pointer: String,
    /// Where the array of objects is in list and find answers.
    #[serde(default)]
    pub items_pointer: String,
    /// Groups: the member ids within a group object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members_pointer: Option<String>,
    /// Users: the field of the update body that holds the manager's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager_field: Option<String>,
}

/// An API that answers 200 with an error code in the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorFormat {
    /// Where the code is (e.g. `/errcode`).
    pub code_pointer: String,
    /// Codes that mean success; default `[0]`.
    #[serde(default = "ok_codes")]
    pub ok: Vec<Value>,
    /// Where the message is (e.g. `/errmsg`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_pointer: Option<String>,
    /// What a code means, as an HTTP status: 404 gone, 409 exists, 401
    /// credentials refused, 429 or 503 try again later; others are refusals.
    #[serde(default)]
    pub codes: BTreeMap<String, u16>,
}

fn ok_codes() -> Vec<Value> {
    vec![Value::from(0)]
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestSettings {
    pub users: Endpoints,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Endpoints>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<ErrorFormat>,
}

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

fn check_pointer(what: &str, pointer: &str) -> Result<(), String> {
    if pointer.is_empty() || pointer.starts_with('/') {
        Ok(())
    } else {
        Err(format!(
            "{what} {pointer:?} is not a JSON pointer (\"\" or \"/a/b\")"
        ))
    }
}

impl RequestTemplate {
    fn check(&self, what: &str) -> Result<(), String> {
        if !METHODS.contains(&self.method.to_ascii_uppercase().as_str()) {
            return Err(format!(
                "{what}.method {:?}: use one of {}",
                self.method,
                METHODS.join(", ")
            ));
        }
        if !self.path.starts_with('/') {
            return Err(format!(
                "{what}.path {:?} must start with / (it goes after the target URL)",
                self.path
            ));
        }
        Ok(())
    }
}

impl Endpoints {
    fn check(&self, what: &str, groups: bool) -> Result<(), String> {
        let requests = [
            ("create", Some(&self.create)),
            ("get", Some(&self.get)),
            ("update", Some(&self.update)),
            ("delete", Some(&self.delete)),
            ("list", Some(&self.list)),
            ("find", self.find.as_ref()),
            ("deactivate", self.deactivate.as_ref()),
            ("add_member", self.add_member.as_ref()),
            ("remove_member", self.remove_member.as_ref()),
        ];
        for (name, request) in requests {
            if let Some(r) = request {
                r.check(&format!("rest.{what}.{name}"))?;
            }
        }
        for (name, pointer) in [
            ("id_pointer", Some(&self.id_pointer)),
            ("created_id_pointer", self.created_id_pointer.as_ref()),
            ("object_pointer", Some(&self.object_pointer)),
            ("items_pointer", Some(&self.items_pointer)),
            ("members_pointer", self.members_pointer.as_ref()),
        ] {
            if let Some(p) = pointer {
                check_pointer(&format!("rest.{what}.{name}"), p)?;
            }
        }
        if groups
            && (self.add_member.is_none()
                || self.remove_member.is_none()
                || self.members_pointer.is_none())
        {
            return Err(format!(
                "rest.{what} needs add_member, remove_member and members_pointer to keep memberships"
            ));
        }
        Ok(())
    }
}

impl RestSettings {
    pub fn check(&self) -> Result<(), String> {
        self.users.check("users", false)?;
        if let Some(groups) = &self.groups {
            groups.check("groups", true)?;
        }
        if let Some(e) = &self.errors {
            check_pointer("rest.errors.code_pointer", &e.code_pointer)?;
            if let Some(m) = &e.message_pointer {
                check_pointer("rest.errors.message_pointer", m)?;
            }
        }
        Ok(())
    }
}
