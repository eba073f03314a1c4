//! Values that cross the storage seam.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::scim::render::ResourceMeta;

/// A validated resource to store. For groups, `members` says what happens to
/// the member rows (members are never part of the stored attributes).
#[derive(Debug, Clone, Default)]
pub struct ResourceWrite {
    pub attributes: Map<String, Value>,
    pub members: MembersWrite,
    pub password: PasswordWrite,
}

/// What a group write does to its member rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MembersWrite {
    /// Exactly these members (POST, PUT).
    Set(Vec<MemberRef>),
    /// A diff (PATCH): touches only the named rows, never the rest.
    Change {
        remove_all: bool,
        remove: Vec<String>,
        add: Vec<MemberRef>,
    },
}

impl Default for MembersWrite {
    fn default() -> Self {
        MembersWrite::Set(Vec::new())
    }
}

/// How a write on an existing resource is recorded in the change log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOp {
    Replace,
    Patch,
}

/// What a write does to the stored password hash.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PasswordWrite {
    #[default]
    Keep,
    Set(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberKind {
    User,
    Group,
}

impl MemberKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberKind::User => "User",
            MemberKind::Group => "Group",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        if s.eq_ignore_ascii_case("User") {
            Some(MemberKind::User)
        } else if s.eq_ignore_ascii_case("Group") {
            Some(MemberKind::Group)
        } else {
            None
        }
    }
}

/// A member as a client names it: an id and optionally the type it claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRef {
    pub id: String,
    pub kind: Option<MemberKind>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: String,
    pub kind: MemberKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMembership {
    pub group_id: String,
    pub display: Option<String>,
    pub direct: bool,
}

/// Reading a user's organization extension (the departments it names).
pub mod org {
    use serde_json::{Map, Value};

    use crate::scim::registry::ORGANIZATION_USER_SCHEMA as ORG;

    pub const PRIMARY: &str = "primaryDepartment";
    pub const FURTHER: &str = "departments";
    pub const PATH: &str = "departmentPath";

    /// `{"value": ID, …}` → ID.
    pub fn value_of(v: &Value) -> Option<&str> {
        v.get("value").and_then(Value::as_str)
    }

    /// The primary department's id, if the user names one.
    pub fn primary(attrs: &Map<String, Value>) -> Option<&str> {
        attrs.get(ORG)?.get(PRIMARY).and_then(value_of)
    }

    /// The ids of the further departments the user names, in order.
    pub fn further(attrs: &Map<String, Value>) -> Vec<&str> {
        match attrs.get(ORG).and_then(|o| o.get(FURTHER)) {
            Some(Value::Array(items)) => items.iter().filter_map(value_of).collect(),
            _ => Vec::new(),
        }
    }

    /// Every department the user names, the primary one first, each once.
    pub fn named(attrs: &Map<String, Value>) -> Vec<&str> {
        let mut ids: Vec<&str> = primary(attrs).into_iter().collect();
        for id in further(attrs) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }

    /// The primary department's path (`/rootId/…/id/`).
    pub fn path(attrs: &Map<String, Value>) -> Option<&str> {
        attrs.get(ORG)?.get(PATH).and_then(Value::as_str)
    }
}

#[derive(Debug, Clone)]
pub struct StoredUser {
    pub id: String,
    pub attributes: Map<String, Value>,
    pub meta: ResourceMeta,
    pub groups: Vec<GroupMembership>,
}

/// How a read names one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserKey<'a> {
    Id(&'a str),
    /// The userName, already lower-cased (`str::to_lowercase`): unique.
    UserNameLower(&'a str),
}

/// A user as stored, its attributes still the stored JSON text: what a
/// read that only renders needs (`to_scim_text`), without parsing them.
#[derive(Debug, Clone)]
pub struct StoredUserText {
    pub id: String,
    /// The attributes as a JSON object.
    pub data: String,
    pub meta: ResourceMeta,
    pub groups: Vec<GroupMembership>,
}

#[derive(Debug, Clone)]
pub struct StoredGroup {
    pub id: String,
    pub attributes: Map<String, Value>,
    pub meta: ResourceMeta,
    pub members: Vec<Member>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    pub seq: i64,
    pub resource_type: String,
    pub resource_id: String,
    pub operation: String,
    pub version: i64,
    pub changed_at: DateTime<Utc>,
    pub actor: String,
    /// Names of the changed attributes (empty on rows from before they were kept).
    pub attributes: Vec<String>,
    /// The new `active` when this change changed it.
    pub active: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct NewToken {
    pub id: String,
    pub name: String,
    pub secret_hash: String,
    pub scopes: Vec<String>,
    pub user_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub id: String,
    pub name: String,
    pub secret_hash: String,
    pub scopes: Vec<String>,
    pub user_id: Option<String>,
    pub created: DateTime<Utc>,
    pub last_used: Option<DateTime<Utc>>,
    pub revoked: Option<DateTime<Utc>>,
}

/// Which slice of the ordered result a list request wants.
#[derive(Debug, Clone, PartialEq)]
pub enum Window {
    /// Index paging: skip `offset`, take `count`.
    Index { offset: u64, count: u64 },
    /// Cursor paging: the `count` items after `after` (from the start when None).
    After {
        after: Option<crate::scim::sort::Position>,
        count: u64,
    },
    /// Cursor paging backwards: the `count` items before `before`.
    Before {
        before: crate::scim::sort::Position,
        count: u64,
    },
}

/// A list request as the store executes it.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub filter: Option<crate::scim::filter::Filter>,
    pub sort: Option<crate::scim::sort::SortSpec>,
    pub window: Window,
    /// Load group members (skipped when the response will not show them).
    pub with_members: bool,
    /// Derive `User.groups` (skipped when the response will not show them).
    pub with_groups: bool,
}

impl ListQuery {
    /// Everything, in the default order, with all derived attributes.
    pub fn all() -> Self {
        Self {
            filter: None,
            sort: None,
            window: Window::Index {
                offset: 0,
                count: u64::MAX >> 1,
            },
            with_members: true,
            with_groups: true,
        }
    }
}

/// One page of a list: `total` counts the whole filtered set; `positions`
/// are the items' places in the order (cursor material, filled for cursor
/// windows only).
#[derive(Debug, Clone)]
pub struct ListPage<T> {
    pub total: u64,
    pub items: Vec<T>,
    pub positions: Vec<crate::scim::sort::Position>,
    pub more_before: bool,
    pub more_after: bool,
}

/// Who makes a change, for the change log and the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Actor {
    /// The credential's name (token name, or `jwt:ISS:SUB`).
    pub name: String,
    pub request_id: Option<String>,
    /// The peer address.
    pub source: Option<String>,
}

impl Actor {
    /// An actor that is the system itself (a CLI command, seeding, a test).
    pub fn system(name: &str) -> Self {
        Self {
            name: name.to_string(),
            request_id: None,
            source: None,
        }
    }
}

/// An audit event that is not a resource change (those are recorded with
/// the change itself): authentication failures, token management.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub event: String,
    pub actor: Actor,
    pub detail: Option<String>,
}

/// A stored audit row (`audit list --json` prints it as is).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub event: String,
    pub actor: String,
    pub request_id: Option<String>,
    pub source: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub attributes: Vec<String>,
    pub detail: Option<String>,
}

/// Which audit rows to read.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub since: Option<DateTime<Utc>>,
    /// Only events before this time.
    pub until: Option<DateTime<Utc>>,
    pub actor: Option<String>,
    /// Only events whose name starts with this (`sync.` or `sync.run.approve`).
    pub event_prefix: Option<String>,
    pub resource_id: Option<String>,
    pub limit: u32,
}

/// What a change-log prune removed, and who kept it from removing more.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pruned {
    pub removed: u64,
    /// Sync targets and webhook subscriptions whose unread changes were kept.
    pub kept_for: Vec<String>,
}

/// What a write's rewrite reads of the stored state: its attributes and
/// meta (the ETag it checks `If-Match` against).
pub trait Versioned {
    fn attributes(&self) -> &Map<String, Value>;
    fn meta(&self) -> &ResourceMeta;
}

macro_rules! versioned {
    ($($t:ty),*) => {$(
        impl Versioned for $t {
            fn attributes(&self) -> &Map<String, Value> {
                &self.attributes
            }
            fn meta(&self) -> &ResourceMeta {
                &self.meta
            }
        }
    )*};
}

versioned!(StoredUser, StoredGroup, StoredDepartment, StoredResource);

/// A resource of a type stored by the generic path (`ResourceKind::Plain`):
/// its attributes exactly as validated, nothing derived.
#[derive(Debug, Clone)]
pub struct StoredResource {
    pub kind: crate::scim::ResourceKind,
    pub id: String,
    pub attributes: Map<String, Value>,
    pub meta: ResourceMeta,
}

/// A department of the organization tree as stored: its attributes
/// (`displayName`, `code`, `externalId`, `ordering`, `parent` with the
/// parent's `display`, and the derived `path`).
#[derive(Debug, Clone)]
pub struct StoredDepartment {
    pub id: String,
    pub attributes: Map<String, Value>,
    pub meta: ResourceMeta,
}

impl StoredDepartment {
    pub fn display_name(&self) -> &str {
        self.attributes
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The parent's id; None for a root.
    pub fn parent_id(&self) -> Option<&str> {
        self.attributes.get("parent")?.get("value")?.as_str()
    }

    /// `/rootId/…/id/`: the ids from the root down to this department.
    pub fn path(&self) -> &str {
        self.attributes
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// 1 for a root, 2 for its children, and so on.
    pub fn depth(&self) -> usize {
        self.path().matches('/').count().saturating_sub(1)
    }

    pub fn ordering(&self) -> i64 {
        self.attributes
            .get("ordering")
            .and_then(Value::as_i64)
            .unwrap_or(0)
    }
}

/// What deleting a department does to what is still under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoveMode {
    /// Refused while it has sub-departments or people.
    Refuse,
    /// Its whole subtree goes; the people in it lose those departments
    /// (they are never deleted).
    Cascade,
    /// Its sub-departments and people move to this department first.
    MoveTo(String),
}

/// What a department deletion removed and changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DepartmentRemoval {
    /// The departments deleted, deepest first.
    pub removed: Vec<String>,
    /// Sub-departments moved to the `moveTo` department.
    pub moved_departments: u64,
    /// People whose departments changed (moved or detached).
    pub people: u64,
}
