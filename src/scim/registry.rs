//! The one schema registry: RFC 7643 User, Enterprise User and Group, and
//! scimhub's Department (the organization tree) with the Organization
//! extension of User, plus the extension schemas administrators define
//! (`scim::extension_schema`). It drives input validation, rendering,
//! discovery (`/Schemas`, `/ResourceTypes`) and filtering.
//!
//! `registry()` answers the registry in force. Each change to the
//! admin-defined schemas builds a whole new one, leaked (changes are rare
//! admin actions, so `&'static` definitions stay valid for every caller
//! holding one) and swapped in atomically.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use arc_swap::ArcSwap;

use super::schema::{AttrType, AttributeDef as A, Mutability, Returned, SchemaDef, Uniqueness};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const DEPARTMENT_SCHEMA: &str = "urn:scimhub:params:scim:schemas:core:2.0:Department";
/// A user's place in the organization tree: its departments.
pub const ORGANIZATION_USER_SCHEMA: &str =
    "urn:scimhub:params:scim:schemas:extension:organization:2.0:User";

/// A resource type that is data in the registry: its name and endpoint.
/// Every such type is stored, listed, patched and logged by the one generic
/// path (the store's resources table, `service::resources`); only Users,
/// Groups and Departments have tables and rules of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlainType {
    pub name: &'static str,
    pub endpoint: &'static str,
}

/// Which kind of resource a request is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    User,
    Group,
    Department,
    /// A resource type defined only by its registry entry.
    Plain(PlainType),
}

impl ResourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::User => "User",
            ResourceKind::Group => "Group",
            ResourceKind::Department => "Department",
            ResourceKind::Plain(t) => t.name,
        }
    }

    pub fn endpoint(self) -> &'static str {
        match self {
            ResourceKind::User => "Users",
            ResourceKind::Group => "Groups",
            ResourceKind::Department => "Departments",
            ResourceKind::Plain(t) => t.endpoint,
        }
    }

    /// The resource type called `name` (ignoring case) in the registry in force.
    pub fn parse(name: &str) -> Option<Self> {
        registry()
            .resource_types
            .iter()
            .map(|rt| rt.kind)
            .find(|k| k.as_str().eq_ignore_ascii_case(name))
    }

    /// The resource type served at `/{endpoint}` (ignoring case).
    pub fn by_endpoint(endpoint: &str) -> Option<Self> {
        registry()
            .resource_types
            .iter()
            .map(|rt| rt.kind)
            .find(|k| k.endpoint().eq_ignore_ascii_case(endpoint))
    }

    /// Whether this type is stored by the generic path.
    pub fn is_plain(self) -> bool {
        matches!(self, ResourceKind::Plain(_))
    }
}

#[derive(Debug, Clone)]
pub struct ExtensionRef {
    pub schema: &'static str,
    pub required: bool,
}

#[derive(Debug, Clone)]
pub struct ResourceTypeDef {
    pub kind: ResourceKind,
    pub description: &'static str,
    pub schema: &'static str,
    pub extensions: Vec<ExtensionRef>,
}

pub struct Registry {
    pub schemas: Vec<SchemaDef>,
    pub resource_types: Vec<ResourceTypeDef>,
}

impl Registry {
    /// Schema URIs compare case-insensitively (RFC 7643 §2.1).
    pub fn schema(&self, id: &str) -> Option<&SchemaDef> {
        self.schemas.iter().find(|s| s.id.eq_ignore_ascii_case(id))
    }

    pub fn resource_type(&self, kind: ResourceKind) -> &ResourceTypeDef {
        // Users come first (`build()`); a kind is only ever made from an entry.
        self.resource_types
            .iter()
            .find(|rt| rt.kind == kind)
            .unwrap_or(&self.resource_types[0])
    }

    /// The resource types stored by the generic path.
    pub fn plain_kinds(&self) -> impl Iterator<Item = ResourceKind> + '_ {
        self.resource_types
            .iter()
            .map(|rt| rt.kind)
            .filter(|k| k.is_plain())
    }

    /// The core schema of a resource type.
    pub fn core_schema(&self, kind: ResourceKind) -> &SchemaDef {
        let id = self.resource_type(kind).schema;
        self.schemas
            .iter()
            .find(|s| s.id == id)
            .unwrap_or(&self.schemas[0])
    }

    /// The extension schemas a resource type allows.
    pub fn extensions(&self, kind: ResourceKind) -> impl Iterator<Item = &SchemaDef> {
        self.resource_type(kind)
            .extensions
            .iter()
            .filter_map(|e| self.schema(e.schema))
    }
}

static BUILT_IN: LazyLock<Registry> = LazyLock::new(build);

static CURRENT: LazyLock<ArcSwap<&'static Registry>> =
    LazyLock::new(|| ArcSwap::from_pointee(&*BUILT_IN));

/// RFC 7643 §3.1 attributes every resource has, outside any schema.
static COMMON: LazyLock<Vec<A>> = LazyLock::new(|| {
    let read_only =
        |name, t, description| A::new(name, t, description).mutability(Mutability::ReadOnly);
    vec![
        A::string("id", "Unique identifier assigned by the service provider.")
            .case_exact()
            .mutability(Mutability::ReadOnly)
            .returned(Returned::Always)
            .unique(Uniqueness::Server),
        A::string(
            "externalId",
            "An identifier for the resource as defined by the client.",
        )
        .case_exact(),
        read_only("meta", AttrType::Complex, "Resource metadata.").with_subs(vec![
            read_only(
                "resourceType",
                AttrType::String,
                "The name of the resource type.",
            )
            .case_exact(),
            read_only(
                "created",
                AttrType::DateTime,
                "When the resource was added.",
            ),
            read_only(
                "lastModified",
                AttrType::DateTime,
                "When the resource was last changed.",
            ),
            read_only("location", AttrType::Reference, "The URI of the resource.").case_exact(),
            read_only(
                "version",
                AttrType::String,
                "The version (ETag) of the resource.",
            )
            .case_exact(),
        ]),
    ]
});

/// A common attribute (`id`, `externalId`, `meta`) by name, ignoring case.
pub fn common_attribute(name: &str) -> Option<&'static A> {
    COMMON.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

/// The registry in force.
pub fn registry() -> &'static Registry {
    **CURRENT.load()
}

/// An extension schema an administrator defined, for one resource type.
#[derive(Debug, Clone)]
pub struct Extension {
    pub kind: ResourceKind,
    pub schema: SchemaDef,
}

/// The extension schemas each publisher has published, by publisher.
static PUBLISHED: Mutex<BTreeMap<u64, Vec<Extension>>> = Mutex::new(BTreeMap::new());
static NEXT_PUBLISHER: AtomicU64 = AtomicU64::new(1);

/// Publishes the admin-defined extension schemas of one server (its
/// database and configuration). A process runs one server, so the registry
/// holds exactly its schemas; where one process runs several (the tests),
/// the registry holds all of theirs, the first publisher's winning a
/// schema id two publish. Dropping the publisher withdraws its schemas.
pub struct Publisher(u64);

impl Publisher {
    pub fn new() -> Arc<Self> {
        Arc::new(Self(NEXT_PUBLISHER.fetch_add(1, Ordering::Relaxed)))
    }

    /// Replaces this publisher's extension schemas and swaps the new
    /// registry in.
    pub fn publish(&self, extensions: Vec<Extension>) {
        update_published(|all| {
            all.insert(self.0, extensions);
        });
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        update_published(|all| {
            all.remove(&self.0);
        });
    }
}

fn update_published(change: impl FnOnce(&mut BTreeMap<u64, Vec<Extension>>)) {
    // A panic while holding the lock left the map whole: keep using it.
    let mut all = PUBLISHED.lock().unwrap_or_else(|e| e.into_inner());
    change(&mut all);
    let rebuilt: &'static Registry = Box::leak(Box::new(with_extensions(all.values().flatten())));
    CURRENT.store(Arc::new(rebuilt));
}

/// The built-in registry plus `extensions` (an id already present is skipped).
fn with_extensions<'a>(extensions: impl Iterator<Item = &'a Extension>) -> Registry {
    let mut reg = build();
    for ext in extensions {
        if reg.schema(ext.schema.id).is_some() {
            continue;
        }
        if let Some(rt) = reg.resource_types.iter_mut().find(|r| r.kind == ext.kind) {
            rt.extensions.push(ExtensionRef {
                schema: ext.schema.id,
                required: false,
            });
            reg.schemas.push(ext.schema.clone());
        }
    }
    reg
}

/// Whether `id` names one of the schemas scimhub itself defines.
pub fn is_built_in(id: &str) -> bool {
    BUILT_IN.schema(id).is_some()
}

fn multi_valued_common(value_desc: &'static str, types: &'static [&'static str]) -> Vec<A> {
    vec![
        A::string("value", value_desc),
        A::string(
            "display",
            "A human-readable name, primarily used for display purposes.",
        ),
        A::string("type", "A label indicating the attribute's function.").canonical(types),
        A::new(
            "primary",
            AttrType::Boolean,
            "Indicates the primary or preferred value.",
        ),
    ]
}

fn user_schema() -> SchemaDef {
    let name = A::new(
        "name",
        AttrType::Complex,
        "The components of the user's real name.",
    )
    .with_subs(vec![
        A::string("formatted", "The full name, formatted for display."),
        A::string("familyName", "The family name of the User."),
        A::string("givenName", "The given name of the User."),
        A::string("middleName", "The middle name(s) of the User."),
        A::string("honorificPrefix", "The honorific prefix(es) of the User."),
        A::string("honorificSuffix", "The honorific suffix(es) of the User."),
    ]);
    let address = A::new(
        "addresses",
        AttrType::Complex,
        "A physical mailing address for this User.",
    )
    .multi()
    .with_subs(vec![
        A::string(
            "formatted",
            "The full mailing address, formatted for display.",
        ),
        A::string("streetAddress", "The full street address component."),
        A::string("locality", "The city or locality component."),
        A::string("region", "The state or region component."),
        A::string("postalCode", "The zip code or postal code component."),
        A::string(
            "country",
            "The country name component (ISO 3166-1 alpha-2).",
        ),
        A::string("type", "A label indicating the attribute's function.")
            .canonical(&["work", "home", "other"]),
        A::new(
            "primary",
            AttrType::Boolean,
            "Indicates the primary address.",
        ),
    ]);
    let groups = A::new(
        "groups",
        AttrType::Complex,
        "Groups the user belongs to, directly or indirectly.",
    )
    .multi()
    .mutability(Mutability::ReadOnly)
    .with_subs(vec![
        A::string("value", "The identifier of the User's group.").mutability(Mutability::ReadOnly),
        A::new(
            "$ref",
            AttrType::Reference,
            "The URI of the corresponding Group resource.",
        )
        .references(&["Group"])
        .mutability(Mutability::ReadOnly),
        A::string("display", "A human-readable name of the group.")
            .mutability(Mutability::ReadOnly),
        A::string("type", "direct or indirect membership.")
            .canonical(&["direct", "indirect"])
            .mutability(Mutability::ReadOnly),
    ]);
    let emails = multi_valued_common("Email address for the user.", &["work", "home", "other"]);
    SchemaDef {
        id: USER_SCHEMA,
        name: "User",
        description: "User Account",
        attributes: vec![
            A::string(
                "userName",
                "Unique identifier for the User, used to authenticate.",
            )
            .required()
            .unique(Uniqueness::Server),
            name,
            A::string("displayName", "The name of the User, suitable for display."),
            A::string("nickName", "The casual way to address the user."),
            A::new(
                "profileUrl",
                AttrType::Reference,
                "A URI pointing to the User's online profile.",
            )
            .references(&["external"]),
            A::string("title", "The user's title, such as \"Vice President\"."),
            A::string(
                "userType",
                "Identifies the relationship between the organization and the user.",
            ),
            A::string(
                "preferredLanguage",
                "The User's preferred written or spoken language.",
            ),
            A::string("locale", "The User's default location for localization."),
            A::string(
                "timezone",
                "The User's time zone in IANA Time Zone database format.",
            ),
            A::new(
                "active",
                AttrType::Boolean,
                "The User's administrative status.",
            ),
            A::string(
                "password",
                "The User's cleartext password, used to set a new one.",
            )
            .mutability(Mutability::WriteOnly)
            .returned(Returned::Never),
            A::new("emails", AttrType::Complex, "Email addresses for the user.")
                .multi()
                .with_subs(emails),
            A::new(
                "phoneNumbers",
                AttrType::Complex,
                "Phone numbers for the User.",
            )
            .multi()
            .with_subs(multi_valued_common(
                "Phone number of the User.",
                &["work", "home", "mobile", "fax", "pager", "other"],
            )),
            A::new(
                "ims",
                AttrType::Complex,
                "Instant messaging addresses for the User.",
            )
            .multi()
            .with_subs(multi_valued_common(
                "Instant messaging address for the User.",
                &[],
            )),
            A::new("photos", AttrType::Complex, "URLs of images of the user.")
                .multi()
                .with_subs(multi_valued_common(
                    "URL of a photo of the User.",
                    &["photo", "thumbnail"],
                )),
            address,
            groups,
            A::new(
                "entitlements",
                AttrType::Complex,
                "A list of entitlements for the User.",
            )
            .multi()
            .with_subs(multi_valued_common("The value of an entitlement.", &[])),
            A::new("roles", AttrType::Complex, "A list of roles for the User.")
                .multi()
                .with_subs(multi_valued_common("The value of a role.", &[])),
            A::new(
                "x509Certificates",
                AttrType::Complex,
                "A list of certificates issued to the User.",
            )
            .multi()
            .with_subs(multi_valued_common(
                "The value of an X.509 certificate.",
                &[],
            )),
        ],
    }
}

fn enterprise_user_schema() -> SchemaDef {
    SchemaDef {
        id: ENTERPRISE_USER_SCHEMA,
        name: "EnterpriseUser",
        description: "Enterprise User",
        attributes: vec![
            A::string(
                "employeeNumber",
                "Numeric or alphanumeric identifier assigned to a person.",
            ),
            A::string("costCenter", "Identifies the name of a cost center."),
            A::string("organization", "Identifies the name of an organization."),
            A::string("division", "Identifies the name of a division."),
            A::string("department", "Identifies the name of a department."),
            A::new("manager", AttrType::Complex, "The User's manager.").with_subs(vec![
                A::string(
                    "value",
                    "The id of the SCIM resource representing the User's manager.",
                ),
                A::new(
                    "$ref",
                    AttrType::Reference,
                    "The URI of the manager's User resource.",
                )
                .references(&["User"]),
                A::string("displayName", "The displayName of the User's manager.")
                    .mutability(Mutability::ReadOnly),
            ]),
        ],
    }
}

fn group_schema() -> SchemaDef {
    SchemaDef {
        id: GROUP_SCHEMA,
        name: "Group",
        description: "Group",
        attributes: vec![
            A::string("displayName", "A human-readable name for the Group.")
                .required()
                .unique(Uniqueness::Server),
            A::new(
                "members",
                AttrType::Complex,
                "A list of members of the Group.",
            )
            .multi()
            .with_subs(vec![
                A::string("value", "Identifier of the member of this Group.")
                    .required()
                    .mutability(Mutability::Immutable),
                A::new(
                    "$ref",
                    AttrType::Reference,
                    "The URI of the member resource.",
                )
                .references(&["User", "Group"])
                .mutability(Mutability::Immutable),
                A::string("type", "The type of the member: User or Group.")
                    .canonical(&["User", "Group"])
                    .mutability(Mutability::Immutable),
                A::string("display", "A human-readable name of the member.")
                    .mutability(Mutability::ReadOnly),
            ]),
        ],
    }
}

/// Derived names and paths are shown when a client asks for them
/// (`returned: request`): clients compare what they wrote with what comes
/// back, and these they never write.
fn on_request(a: A) -> A {
    a.returned(Returned::Request)
}

/// A department of the organization tree. `parent` is the department it
/// sits under (none for a root); `path` lists the ids from the root down to
/// the department itself (`/rootId/…/id/`), so "everything under X" is a
/// prefix (`path sw "/…/xId/"`).
fn department_schema() -> SchemaDef {
    let read_only = |a: A| a.mutability(Mutability::ReadOnly);
    SchemaDef {
        id: DEPARTMENT_SCHEMA,
        name: "Department",
        description: "A department of the organization tree",
        attributes: vec![
            A::string(
                "displayName",
                "The department's name, unique among the departments of one parent (ignoring case).",
            )
            .required(),
            A::string(
                "code",
                "An organization's own code for the department (a cost centre or HR number).",
            )
            .case_exact()
            .unique(Uniqueness::Server),
            A::new(
                "parent",
                AttrType::Complex,
                "The department this one sits under; none for a root department.",
            )
            .with_subs(vec![
                A::string("value", "The id of the parent Department.")
                    .case_exact()
                    .required(),
                A::new(
                    "$ref",
                    AttrType::Reference,
                    "The URI of the parent Department.",
                )
                .references(&["Department"]),
                on_request(read_only(A::string(
                    "display",
                    "The parent's displayName (returned when asked for: attributes=parent.display).",
                ))),
            ]),
            A::new(
                "ordering",
                AttrType::Integer,
                "Where the department sorts among its siblings (lower first).",
            ),
            read_only(A::string(
                "path",
                "The ids from the root down to this department, as /rootId/…/id/.",
            ))
            .case_exact(),
        ],
    }
}

/// Where a user sits in the organization tree. The `display`s and
/// `departmentPath` are kept by the server; the enterprise `department`
/// string is the primary department's displayName while there is one.
fn organization_user_schema() -> SchemaDef {
    let reference = |name, description| {
        A::new(name, AttrType::Complex, description).with_subs(vec![
            A::string("value", "The id of the Department.")
                .case_exact()
                .required(),
            A::new("$ref", AttrType::Reference, "The URI of the Department.")
                .references(&["Department"]),
            on_request(
                A::string(
                    "display",
                    "The Department's displayName (returned when asked for).",
                )
                .mutability(Mutability::ReadOnly),
            ),
        ])
    };
    SchemaDef {
        id: ORGANIZATION_USER_SCHEMA,
        name: "OrganizationUser",
        description: "The user's departments in the organization tree",
        attributes: vec![
            reference(
                "primaryDepartment",
                "The department the user belongs to first.",
            ),
            reference(
                "departments",
                "Further departments the user also belongs to.",
            )
            .multi(),
            on_request(
                A::string(
                    "departmentPath",
                    "The primary department's path (/rootId/…/id/): `sw` a department's path finds everyone under it (returned when asked for).",
                )
                .case_exact()
                .mutability(Mutability::ReadOnly),
            ),
        ],
    }
}

fn build() -> Registry {
    Registry {
        schemas: vec![
            user_schema(),
            enterprise_user_schema(),
            group_schema(),
            department_schema(),
            organization_user_schema(),
            super::agents::agent_schema(),
            super::agents::agentic_application_schema(),
        ],
        resource_types: vec![
            ResourceTypeDef {
                kind: ResourceKind::User,
                description: "User Account",
                schema: USER_SCHEMA,
                extensions: vec![
                    ExtensionRef {
                        schema: ENTERPRISE_USER_SCHEMA,
                        required: false,
                    },
                    ExtensionRef {
                        schema: ORGANIZATION_USER_SCHEMA,
                        required: false,
                    },
                ],
            },
            ResourceTypeDef {
                kind: ResourceKind::Group,
                description: "Group",
                schema: GROUP_SCHEMA,
                extensions: Vec::new(),
            },
            ResourceTypeDef {
                kind: ResourceKind::Department,
                description: "A department of the organization tree",
                schema: DEPARTMENT_SCHEMA,
                extensions: Vec::new(),
            },
            ResourceTypeDef {
                kind: super::agents::AGENT,
                description: "Agent identities",
                schema: super::agents::AGENT_SCHEMA,
                extensions: Vec::new(),
            },
            ResourceTypeDef {
                kind: super::agents::AGENTIC_APPLICATION,
                description: "Applications that host or provide access to agents",
                schema: super::agents::AGENTIC_APPLICATION_SCHEMA,
                extensions: Vec::new(),
            },
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_are_case_insensitive() {
        let reg = registry();
        assert!(reg.schema(&USER_SCHEMA.to_uppercase()).is_some());
        let user = reg.core_schema(ResourceKind::User);
        assert_eq!(user.attribute("USERNAME").map(|a| a.name), Some("userName"));
        assert_eq!(reg.extensions(ResourceKind::User).count(), 2);
        assert_eq!(reg.extensions(ResourceKind::Group).count(), 0);
    }

    #[test]
    fn password_is_never_returned_and_groups_are_read_only() {
        let user = registry().core_schema(ResourceKind::User);
        let pw = user.attribute("password").map(|a| a.returned);
        assert_eq!(pw, Some(Returned::Never));
        let groups = user.attribute("groups").map(|a| a.mutability);
        assert_eq!(groups, Some(Mutability::ReadOnly));
    }
}
