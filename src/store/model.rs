//! Values that cross the storage seam.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::scim::render::ResourceMeta;

/// A validated resource to store. For groups, `members` holds the member
/// references taken out of the attributes (they are stored as rows).
#[derive(Debug, Clone, Default)]
pub struct ResourceWrite {
    pub attributes: Map<String, Value>,
    pub members: Vec<MemberRef>,
    pub password: PasswordWrite,
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
    pub display: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMembership {
    pub group_id: String,
    pub display: Option<String>,
    pub direct: bool,
}

#[derive(Debug, Clone)]
pub struct StoredUser {
    pub id: String,
    pub attributes: Map<String, Value>,
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

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub total: u64,
    pub items: Vec<T>,
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
