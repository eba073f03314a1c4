//! The Agent and AgenticApplication resource types of the IETF SCIM agent
//! extension (draft-abbey-scim-agent-extension-00, its schema JSON). Both are
//! plain resource types: these definitions are all the code they have;
//! storage, listing, PATCH and the change log are the generic path's.
//!
//! Where the draft's schema JSON and its prose disagree, docs/scim.md says
//! which one is followed and why (the attributes the prose has the client
//! supply stay writable).

use super::registry::{PlainType, ResourceKind};
use super::schema::{AttrType, AttributeDef as A, Mutability, SchemaDef, Uniqueness};

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

fn read_only(a: A) -> A {
    a.mutability(Mutability::ReadOnly)
}

/// `value` / `$ref` / `display` naming another resource (RFC 7643 §2.4
/// shape). The server checks that `value` names an existing resource of
/// one of `types`; `$ref` and `display` are the client's (the draft has them
/// readOnly, but the server does not compute them: docs/scim.md).
fn reference(name: &'static str, description: &'static str, types: &'static [&'static str]) -> A {
    A::new(name, AttrType::Complex, description)
        .with_subs(reference_subs("The id of the referenced resource.", types))
}

fn reference_subs(value: &'static str, types: &'static [&'static str]) -> Vec<A> {
    vec![
        A::string("value", value),
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
    ]
}

/// RFC 7643 §4.1.2's shape for entitlements, roles and x509Certificates.
fn labelled(name: &'static str, value_type: AttrType, description: &'static str) -> A {
    A::new(name, AttrType::Complex, description)
        .multi()
        .with_subs(vec![
            A::new("value", value_type, "The value."),
            A::string("display", "A human-readable name."),
            A::string("type", "A label indicating the value's function."),
            A::new("primary", AttrType::Boolean, "Indicates the primary value."),
        ])
}

fn name(description: &'static str) -> A {
    A::string("name", description)
        .required()
        .unique(Uniqueness::Server)
}

fn display_name() -> A {
    A::string(
        "displayName",
        "A human-readable name; when unassigned, name may be used.",
    )
}

fn active() -> A {
    A::new(
        "active",
        AttrType::Boolean,
        "The administrative status (true: operational, false: suspended).",
    )
}

/// Free-form complex values with string sub-attributes only.
fn strings(
    name: &'static str,
    description: &'static str,
    subs: &[(&'static str, &'static str)],
) -> A {
    A::new(name, AttrType::Complex, description)
        .multi()
        .with_subs(subs.iter().map(|(n, d)| A::string(n, d)).collect())
}

pub fn agent_schema() -> SchemaDef {
    let attributes = vec![
        name("Unique identifier for the Agent among all Agents (ignoring case)."),
        display_name(),
        active(),
        A::string("description", "The description of the Agent."),
        A::string(
            "agentType",
            "Classifies like agents (e.g. Assistant, Researcher); no canonical values.",
        ),
        labelled("entitlements", AttrType::String, "Entitlements the agent has."),
        labelled("roles", AttrType::String, "Roles the agent assumes."),
        read_only(
            A::new(
                "groups",
                AttrType::Complex,
                "Groups the agent belongs to (Groups hold Users and Groups only: always empty here).",
            )
            .multi()
            .with_subs(vec![
                read_only(A::string("value", "The identifier of the group.")),
                read_only(
                    A::new("$ref", AttrType::Reference, "The URI of the group.")
                        .references(&["User", "Group"]),
                ),
                read_only(A::string("display", "A human-readable name.")),
                read_only(
                    A::string("type", "direct or indirect membership.")
                        .canonical(&["direct", "indirect"]),
                ),
            ]),
        ),
        reference(
            "applications",
            "Agentic applications this agent shares a trust boundary with.",
            &["AgenticApplication"],
        )
        .multi(),
        A::string(
            "subject",
            "The `sub` claim of the agent's inbound tokens from an OpenID Connect provider.",
        ),
        labelled(
            "x509Certificates",
            AttrType::Binary,
            "Certificates of the agent (each value one base64 DER certificate).",
        ),
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
                "MCP-Server",
            ]),
            A::string(
                "specificationUrl",
                "Where the agent's specification document for the protocol is.",
            ),
        ]),
        reference(
            "parent",
            "The parent Agent of this Agent in a hierarchy of agents.",
            &["Agent"],
        ),
        reference(
            "owners",
            "Users or Groups accountable for the agent.",
            &["User", "Group"],
        )
        .multi(),
    ];
    SchemaDef {
        id: AGENT_SCHEMA,
        name: "Agent",
        description: "An AI agent",
        attributes,
    }
}

pub fn agentic_application_schema() -> SchemaDef {
    let attributes = vec![
        name("Unique identifier for the Agentic Application among all of them (ignoring case)."),
        display_name(),
        A::string("description", "A description of the Agentic Application."),
        active(),
        A::new(
            "applicationUrls",
            AttrType::Complex,
            "URLs associated with the Agentic Application.",
        )
        .multi()
        .with_subs(vec![
            A::string("type", "Type of URL.").canonical(&[
                "ssoEndpoint",
                "loginPage",
                "api",
                "homepage",
            ]),
            A::new(
                "primary",
                AttrType::Boolean,
                "Whether this is the primary URL of this type.",
            ),
            A::string("value", "The URL."),
            A::string("description", "A human-readable description of the URL."),
        ]),
        read_only(A::new(
            "lastAccessed",
            AttrType::DateTime,
            "When the Agentic Application was last accessed (not tracked here: never set).",
        )),
        A::new(
            "oAuthConfiguration",
            AttrType::Complex,
            "OAuth client configuration of the Agentic Application.",
        )
        .multi()
        .with_subs(vec![
            A::string("clientId", "The OAuth client identifier."),
            A::string(
                "description",
                "A human-readable description of the OAuth client.",
            ),
            A::string("audienceUri", "The OAuth audience URI."),
            A::string("issuerUri", "The identity provider issuer URI."),
            A::new(
                "redirectUri",
                AttrType::Reference,
                "Authorized redirect URIs for the OAuth client.",
            )
            .references(&["uri"])
            .multi(),
        ]),
        A::new(
            "agents",
            AttrType::Complex,
            "Agents associated with this Agentic Application.",
        )
        .multi()
        .with_subs({
            let mut subs = reference_subs("Identifier of the associated Agent.", &["Agent"]);
            subs.push(
                A::string(
                    "type",
                    "Relationship between the Agentic Application and the Agent.",
                )
                .canonical(&["owned", "authorized", "guest"]),
            );
            subs
        }),
        strings(
            "externalIdentifiers",
            "External identifiers for the Agentic Application.",
            &[
                ("type", "Type of identifier."),
                ("value", "Identifier value."),
                (
                    "system",
                    "System or domain within which the identifier is valid.",
                ),
            ],
        ),
    ];
    SchemaDef {
        id: AGENTIC_APPLICATION_SCHEMA,
        name: "AgenticApplication",
        description: "An application that hosts or provides access to agents.",
        attributes,
    }
}
