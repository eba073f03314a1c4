//! The Agent and AgenticApplication resource types of the IETF SCIM agent
//! extension (draft-abbey-scim-agent-extension-00). Both are plain resource
//! types: these definitions are all the code they have; storage, listing,
//! PATCH and the change log are the generic path's.

use super::registry::{PlainType, ResourceKind};
use super::schema::{AttrType, AttributeDef as A, SchemaDef, Uniqueness};

pub const AGENT_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Agent";
pub const AGENTIC_APPLICATION_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:core:2.0:AgenticApplication";

pub const AGENT: ResourceKind = ResourceKind::Plain(PlainType {
    name: "Agent",
    endpoint: "Agents",
});
pub const AGENTIC_APPLICATION: ResourceKind = ResourceKind::Plain(PlainType {
    name: "AgenticApplication",
    endpoint: "AgenticApplications",
});

/// `value` / `$ref` / `display` naming another resource (RFC 7643 §2.4
/// shape). The server checks that `value` names an existing resource of
/// one of `types`; `display` is the client's own text.
fn reference(name: &'static str, description: &'static str, types: &'static [&'static str]) -> A {
    A::new(name, AttrType::Complex, description).with_subs(vec![
        A::string("value", "The id of the referenced resource.")
            .case_exact()
            .required(),
        A::new(
            "$ref",
            AttrType::Reference,
            "The URI of the referenced resource.",
        )
        .references(types),
        A::string(
            "display",
            "A human-readable name of the referenced resource.",
        ),
    ])
}

/// RFC 7643 §4.1.2's shape for entitlements and roles.
fn labelled(name: &'static str, description: &'static str) -> A {
    A::new(name, AttrType::Complex, description)
        .multi()
        .with_subs(vec![
            A::string("value", "The value."),
            A::string("display", "A human-readable name."),
            A::string("type", "A label indicating the value's function."),
            A::new("primary", AttrType::Boolean, "Indicates the primary value."),
        ])
}

fn owners(of: &'static str) -> A {
    reference(
        of,
        "Users or Groups that own this resource.",
        &["User", "Group"],
    )
    .multi()
}

fn named() -> Vec<A> {
    vec![
        A::string(
            "name",
            "The name; unique among resources of this type (ignoring case).",
        )
        .required()
        .unique(Uniqueness::Server),
        A::string(
            "displayName",
            "The display name (the name when unassigned).",
        ),
        A::string("description", "The description."),
        A::new(
            "active",
            AttrType::Boolean,
            "The administrative status (true: running, false: suspended).",
        ),
    ]
}

pub fn agent_schema() -> SchemaDef {
    let mut attributes = named();
    attributes.extend([
        A::string(
            "type",
            "The type of agent (no canonical values are defined).",
        ),
        labelled("entitlements", "Entitlements the agent has."),
        labelled("roles", "Roles the agent assumes."),
        reference(
            "applications",
            "Agentic applications this agent shares a trust boundary with.",
            &["AgenticApplication"],
        )
        .multi(),
        A::string(
            "subject",
            "The `sub` claim of the agent's tokens from an OpenID Connect provider.",
        )
        .case_exact(),
        A::new(
            "protocols",
            AttrType::Complex,
            "Communication protocols the agent supports (none: not directly accessible).",
        )
        .multi()
        .with_subs(vec![
            A::string("type", "The type of the protocol.").canonical(&[
                "A2A",
                "OpenAPI",
                "MCP-Client",
                "MCP-Server",
            ]),
            A::new(
                "specificationUrl",
                AttrType::Reference,
                "Where the agent's specification document for the protocol is.",
            )
            .references(&["external"])
            .case_exact(),
        ]),
        reference(
            "parent",
            "The parent Agent of this Agent in a hierarchy of agents.",
            &["Agent"],
        ),
        owners("owners"),
    ]);
    SchemaDef {
        id: AGENT_SCHEMA,
        name: "Agent",
        description: "Agent",
        attributes,
    }
}

pub fn agentic_application_schema() -> SchemaDef {
    let mut attributes = named();
    attributes.push(owners("owners"));
    SchemaDef {
        id: AGENTIC_APPLICATION_SCHEMA,
        name: "AgenticApplication",
        description: "Agentic Application",
        attributes,
    }
}
