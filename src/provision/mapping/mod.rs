//! Attribute mapping (pure): per resource type, a list of rules
//! `target attribute path ← expression over the source resource`.
//!
//! File format (TOML, or the same shape in JSON); a missing section maps
//! that resource type with the identity mapping:
//!
//! ```toml
//! [users]
//! base = "identity"          # start from the SCIM→SCIM copy ("none": rules only)
//! exclude = ["phoneNumbers"] # targets dropped from the base
//! [[users.rules]]            # later rules win over the base and earlier rules
//! target = "userName"
//! value = "lower(userName)"
//! [[users.rules]]
//! target = 'emails[type eq "work"].value'
//! value = 'coalesce(emails[type eq "work"].value, userName)'
//! ```

pub mod cleanse;
pub mod eval;
pub mod expr;
pub mod path;
pub mod typecheck;

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::scim::ResourceKind;
use crate::scim::registry::registry;
use crate::scim::schema::{Mutability, Returned};
use expr::Expr;
use path::TargetPath;

/// What a mapping reads: scimhub's own SCIM resources (a target's
/// mapping), or records of an upstream source (a source's mapping: field
/// names are the source's own, and `groups` / `members` may be set — they
/// are references the import resolves, not attributes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    Resources,
    Records,
}

/// One `target ← value` rule, compiled.
#[derive(Debug, Clone)]
pub struct Rule {
    pub target: TargetPath,
    pub expr: Expr,
    /// The expression as written (shown back to people).
    pub source: String,
    /// Put there by `base = "identity"`, not written in the file.
    pub from_base: bool,
}

/// The compiled rules for one resource type.
#[derive(Debug, Clone)]
pub struct ResourceMapping {
    pub kind: ResourceKind,
    pub rules: Vec<Rule>,
}

/// A whole, validated mapping for one target.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub users: ResourceMapping,
    pub groups: ResourceMapping,
    pub departments: ResourceMapping,
}

/// The file format (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<SectionFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<SectionFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departments: Option<SectionFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionFile {
    #[serde(default)]
    pub base: Base,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleFile>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Base {
    #[default]
    Identity,
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    pub target: String,
    pub value: String,
}

/// One problem found while validating a mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingError {
    /// `users`, `groups` or `departments`.
    pub section: &'static str,
    /// 1-based rule number; `None` for section-level problems.
    pub rule: Option<usize>,
    pub message: String,
}

impl fmt::Display for MappingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rule {
            Some(n) => write!(f, "{} rule {n}: {}", self.section, self.message),
            None => write!(f, "{}: {}", self.section, self.message),
        }
    }
}

/// Every problem in a mapping, so they can be fixed in one go.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct MappingErrors(pub Vec<MappingError>);

impl fmt::Display for MappingErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        write!(f, "invalid mapping: {}", lines.join("; "))
    }
}

fn section_name(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "users",
        ResourceKind::Group => "groups",
        ResourceKind::Department | ResourceKind::Plain(_) => "departments",
    }
}

/// Attributes that are never mapped: the target sets them, or (group
/// members) the planner syncs them through the id map.
fn unmapped(kind: ResourceKind, name: &str) -> bool {
    kind == ResourceKind::Group && name.eq_ignore_ascii_case("members")
}

/// A user's department references in a source's mapping: the organization
/// extension's attributes, by the short names.
pub const PRIMARY_DEPARTMENT: &str = "primaryDepartment";
pub const DEPARTMENTS: &str = "departments";

/// The references a source record may declare, by the source's own ids: a
/// user's or group's groups, a group's members, a user's departments and a
/// department's parent.
pub fn is_reference(kind: ResourceKind, name: &str) -> bool {
    let is = |n: &str| name.eq_ignore_ascii_case(n);
    match kind {
        ResourceKind::User => is("groups") || is(PRIMARY_DEPARTMENT) || is(DEPARTMENTS),
        ResourceKind::Group => is("groups") || is("members"),
        ResourceKind::Department | ResourceKind::Plain(_) => is("parent"),
    }
}

/// The identity rules for what a mapping reads: SCIM records of a source
/// also bring a group's members and a user's departments (as references;
/// a department's `parent` is one already).
fn identity_rules_for(kind: ResourceKind, reads: Reads) -> Vec<RuleFile> {
    let mut rules = identity_rules(kind);
    let reference = |target: &str, value: String| RuleFile {
        target: target.into(),
        value,
    };
    match (reads, kind) {
        (Reads::Records, ResourceKind::Group) => {
            rules.push(reference("members", "members".into()));
        }
        (Reads::Records, ResourceKind::User) => {
            let org = crate::scim::registry::ORGANIZATION_USER_SCHEMA;
            rules.push(reference(
                PRIMARY_DEPARTMENT,
                format!("{org}:{PRIMARY_DEPARTMENT}.value"),
            ));
            rules.push(reference(DEPARTMENTS, format!("{org}:{DEPARTMENTS}.value")));
        }
        _ => {}
    }
    rules
}

/// The SCIM→SCIM copy: every writable, returned attribute to itself.
pub fn identity_rules(kind: ResourceKind) -> Vec<RuleFile> {
    let reg = registry();
    let copyable = |d: &&crate::scim::schema::AttributeDef| {
        d.mutability != Mutability::ReadOnly && d.returned != Returned::Never
    };
    let mut names = vec!["externalId".to_string()];
    names.extend(
        reg.core_schema(kind)
            .attributes
            .iter()
            .filter(copyable)
            .filter(|d| !unmapped(kind, d.name))
            .map(|d| d.name.to_string()),
    );
    // The organization extension names this hub's department ids, which
    // mean nothing to a target; the enterprise `department` string is copied.
    for ext in reg
        .extensions(kind)
        .filter(|e| e.id != crate::scim::registry::ORGANIZATION_USER_SCHEMA)
    {
        names.extend(
            ext.attributes
                .iter()
                .filter(copyable)
                .map(|d| format!("{}:{}", ext.id, d.name)),
        );
    }
    names
        .into_iter()
        .map(|n| RuleFile {
            target: n.clone(),
            value: n,
        })
        .collect()
}

fn compile_rule(
    kind: ResourceKind,
    rule: &RuleFile,
    from_base: bool,
    reads: Reads,
) -> Result<Rule, String> {
    let target = match rule.target.trim() {
        name if reads == Reads::Records && is_reference(kind, name) => path::TargetPath {
            uri: None,
            name: name.to_ascii_lowercase(),
            sub: None,
            element: None,
            text: name.to_string(),
        },
        _ => path::parse_target(kind, &rule.target)
            .map_err(|m| format!("target {:?}: {m}", rule.target))?,
    };
    if reads == Reads::Records {
        // A source's fields are its own: any name may be read.
        let expr = expr::parse(&rule.value).map_err(|e| {
            format!(
                "value {:?} at character {}: {}",
                rule.value, e.position, e.message
            )
        })?;
        return Ok(Rule {
            target,
            expr,
            source: rule.value.clone(),
            from_base,
        });
    }
    if unmapped(kind, &target.name) && target.uri.is_none() {
        return Err(format!(
            "target {:?}: group members are synced from the id map, not mapped",
            rule.target
        ));
    }
    let expr = expr::parse(&rule.value).map_err(|e| {
        format!(
            "value {:?} at character {}: {}",
            rule.value, e.position, e.message
        )
    })?;
    for p in expr.paths() {
        let shown = &p.attr;
        match path::definition(kind, &p.attr) {
            None => {
                return Err(format!(
                    "value {:?}: '{shown}' is not a {} attribute scimhub stores",
                    rule.value,
                    kind.as_str()
                ));
            }
            Some(d) if d.returned == Returned::Never => {
                return Err(format!(
                    "value {:?}: '{shown}' is never readable",
                    rule.value
                ));
            }
            Some(d) => {
                let sub_ok = p.sub().is_none_or(|sub| d.sub_attribute(sub).is_some());
                if !sub_ok {
                    return Err(format!(
                        "value {:?}: '{}' has no sub-attribute '{}'",
                        rule.value,
                        d.name,
                        p.sub().unwrap_or_default()
                    ));
                }
            }
        }
    }
    Ok(Rule {
        target,
        expr,
        source: rule.value.clone(),
        from_base,
    })
}

/// Attributes a section must set, and why (for the error message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Required {
    pub attributes: Vec<String>,
    pub why: String,
}

impl Reads {
    /// What a section must set: a SCIM target's `scim_required`; a source's
    /// records nothing at compile time (intake checks each one).
    fn required(self, kind: ResourceKind) -> Required {
        match self {
            Reads::Resources => scim_required(kind),
            Reads::Records => Required {
                attributes: Vec::new(),
                why: String::new(),
            },
        }
    }
}

/// What every SCIM target needs: `userName`, a group's `displayName`.
pub fn scim_required(kind: ResourceKind) -> Required {
    let name = match kind {
        ResourceKind::User => "userName",
        ResourceKind::Group | ResourceKind::Department | ResourceKind::Plain(_) => "displayName",
    };
    Required {
        attributes: vec![name.to_string()],
        why: "every SCIM target requires".into(),
    }
}

impl ResourceMapping {
    pub fn identity(kind: ResourceKind) -> Self {
        Self::identity_for(kind, Reads::Resources)
    }

    pub fn identity_for(kind: ResourceKind, reads: Reads) -> Self {
        let file = SectionFile {
            base: Base::Identity,
            exclude: Vec::new(),
            rules: Vec::new(),
        };
        // The identity rules are built from the registry and always compile.
        Self::compile_for(kind, &file, reads).unwrap_or(ResourceMapping {
            kind,
            rules: Vec::new(),
        })
    }

    /// Validates and compiles one section for a SCIM target; later rules
    /// replace earlier ones (and base rules) for the same target.
    pub fn compile(kind: ResourceKind, file: &SectionFile) -> Result<Self, Vec<MappingError>> {
        let required = scim_required(kind);
        Self::compile_requiring(kind, file, &required)
    }

    /// `compile`, with the attributes the target needs set (a SCIM
    /// target's `userName`, an LDAP target's naming attribute).
    pub fn compile_requiring(
        kind: ResourceKind,
        file: &SectionFile,
        required: &Required,
    ) -> Result<Self, Vec<MappingError>> {
        Self::compile_with(kind, file, Reads::Resources, required)
    }

    /// A section reading `reads`: a source's records need nothing at compile
    /// time (they are checked one by one at intake).
    pub fn compile_for(
        kind: ResourceKind,
        file: &SectionFile,
        reads: Reads,
    ) -> Result<Self, Vec<MappingError>> {
        Self::compile_with(kind, file, reads, &reads.required(kind))
    }

    fn compile_with(
        kind: ResourceKind,
        file: &SectionFile,
        reads: Reads,
        required: &Required,
    ) -> Result<Self, Vec<MappingError>> {
        let section = section_name(kind);
        let mut errors = Vec::new();
        let mut rules: Vec<Rule> = Vec::new();
        if file.base == Base::Identity {
            for r in identity_rules_for(kind, reads) {
                if file
                    .exclude
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(&r.target))
                {
                    continue;
                }
                match compile_rule(kind, &r, true, reads) {
                    Ok(rule) => rules.push(rule),
                    Err(message) => errors.push(MappingError {
                        section,
                        rule: None,
                        message,
                    }),
                }
            }
        }
        for (i, r) in file.rules.iter().enumerate() {
            match compile_rule(kind, r, false, reads) {
                Ok(rule) => {
                    rules.retain(|old| old.target != rule.target);
                    rules.push(rule);
                }
                Err(message) => errors.push(MappingError {
                    section,
                    rule: Some(i + 1),
                    message,
                }),
            }
        }
        if errors.is_empty() && rules.is_empty() {
            errors.push(MappingError {
                section,
                rule: None,
                message: "maps nothing (base = \"none\" and no rules)".into(),
            });
        }
        let compiled = errors.is_empty();
        for name in &required.attributes {
            let set = rules
                .iter()
                .any(|r| r.target.uri.is_none() && r.target.name.eq_ignore_ascii_case(name));
            if compiled && !set {
                errors.push(MappingError {
                    section,
                    rule: None,
                    message: format!("no rule sets '{name}', which {}", required.why),
                });
            }
        }
        if errors.is_empty() {
            Ok(Self { kind, rules })
        } else {
            Err(errors)
        }
    }

    /// Maps one source resource to what the target should hold. Null
    /// values leave their target attribute out.
    pub fn apply(&self, source: &Value) -> Value {
        let reg = registry();
        let mut out = Map::new();
        for rule in &self.rules {
            let v = eval::eval(&rule.expr, self.kind, source);
            if !v.is_null() {
                path::write(&mut out, &rule.target, v);
            }
        }
        let mut schemas = vec![Value::String(reg.core_schema(self.kind).id.to_string())];
        for ext in reg.extensions(self.kind) {
            if out.keys().any(|k| k.eq_ignore_ascii_case(ext.id)) {
                schemas.push(Value::String(ext.id.to_string()));
            }
        }
        let mut with_schemas = Map::new();
        with_schemas.insert("schemas".into(), Value::Array(schemas));
        with_schemas.extend(out);
        Value::Object(with_schemas)
    }
}

impl Mapping {
    pub fn identity() -> Self {
        Self {
            users: ResourceMapping::identity(ResourceKind::User),
            groups: ResourceMapping::identity(ResourceKind::Group),
            departments: ResourceMapping::identity(ResourceKind::Department),
        }
    }

    /// A mapping for a SCIM target (a missing section is the identity).
    pub fn compile(file: &MappingFile) -> Result<Self, MappingErrors> {
        Self::compile_requiring(file, &scim_required)
    }

    /// `compile`, with what each section must set.
    pub fn compile_requiring(
        file: &MappingFile,
        required: &dyn Fn(ResourceKind) -> Required,
    ) -> Result<Self, MappingErrors> {
        Self::compile_with(file, Reads::Resources, required)
    }

    /// A source's mapping: see `Reads::Records`.
    pub fn compile_for(file: &MappingFile, reads: Reads) -> Result<Self, MappingErrors> {
        Self::compile_with(file, reads, &|kind| reads.required(kind))
    }

    fn compile_with(
        file: &MappingFile,
        reads: Reads,
        required: &dyn Fn(ResourceKind) -> Required,
    ) -> Result<Self, MappingErrors> {
        let identity = SectionFile {
            base: Base::Identity,
            exclude: Vec::new(),
            rules: Vec::new(),
        };
        let section = |kind: ResourceKind, file: Option<&SectionFile>| {
            let file = file.unwrap_or(&identity);
            ResourceMapping::compile_with(kind, file, reads, &required(kind))
        };
        let users = section(ResourceKind::User, file.users.as_ref());
        let groups = section(ResourceKind::Group, file.groups.as_ref());
        let departments = section(ResourceKind::Department, file.departments.as_ref());
        match (users, groups, departments) {
            (Ok(users), Ok(groups), Ok(departments)) => Ok(Self {
                users,
                groups,
                departments,
            }),
            (u, g, d) => Err(MappingErrors(
                u.err()
                    .unwrap_or_default()
                    .into_iter()
                    .chain(g.err().unwrap_or_default())
                    .chain(d.err().unwrap_or_default())
                    .collect(),
            )),
        }
    }

    pub fn for_kind(&self, kind: ResourceKind) -> &ResourceMapping {
        match kind {
            ResourceKind::User => &self.users,
            ResourceKind::Group => &self.groups,
            ResourceKind::Department | ResourceKind::Plain(_) => &self.departments,
        }
    }
}

impl MappingFile {
    /// Reads TOML (or JSON when the text starts with `{`).
    pub fn parse(text: &str) -> Result<Self, MappingErrors> {
        let parsed = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| e.to_string())
        } else {
            toml::from_str(text).map_err(|e| e.to_string())
        };
        parsed.map_err(|message| {
            MappingErrors(vec![MappingError {
                section: "file",
                rule: None,
                message,
            }])
        })
    }

    /// Parses and validates, returning both (the file is what gets stored).
    pub fn load(text: &str) -> Result<(Self, Mapping), MappingErrors> {
        Self::load_for(text, Reads::Resources)
    }

    pub fn load_for(text: &str, reads: Reads) -> Result<(Self, Mapping), MappingErrors> {
        let file = Self::parse(text)?;
        let mapping = Mapping::compile_for(&file, reads)?;
        Ok((file, mapping))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn source_user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
            "id": "u1", "externalId": "e1", "userName": "Ann@Example.com", "active": true,
            "name": {"givenName": "Ann", "familyName": "Lee"},
            "emails": [{"value": "ann@example.com", "type": "work", "primary": true}],
            "groups": [{"value": "g1"}],
            "meta": {"resourceType": "User", "version": "W/\"3\""},
            ENT: {"department": "R&D", "manager": {"value": "m1"}}
        })
    }

    #[test]
    fn identity_copies_writable_attributes_only() {
        let m = Mapping::identity();
        let out = m.users.apply(&source_user());
        assert_eq!(
            out,
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
                "externalId": "e1", "userName": "Ann@Example.com",
                "name": {"givenName": "Ann", "familyName": "Lee"},
                "active": true,
                "emails": [{"value": "ann@example.com", "type": "work", "primary": true}],
                ENT: {"department": "R&D", "manager": {"value": "m1"}}
            })
        );
        let g = m
            .groups
            .apply(&json!({"id": "g", "displayName": "Eng", "members": [{"value": "u1"}]}));
        assert_eq!(
            g,
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Eng"})
        );
    }

    #[test]
    fn a_toml_file_overrides_and_excludes() {
        let text = r#"
            [users]
            exclude = ["emails", "name"]
            [[users.rules]]
            target = "userName"
            value = "lower(userName)"
            [[users.rules]]
            target = 'emails[type eq "work"].value'
            value = "lower(userName)"
            [[users.rules]]
            target = "displayName"
            value = 'concat(name.givenName, " ", name.familyName)'
        "#;
        let (_, m) = MappingFile::load(text).unwrap();
        let out = m.users.apply(&source_user());
        assert_eq!(out["userName"], json!("ann@example.com"));
        assert_eq!(out["displayName"], json!("Ann Lee"));
        assert_eq!(
            out["emails"],
            json!([{"type": "work", "value": "ann@example.com"}])
        );
        assert!(out.get("name").is_none());
        // The group section is absent: identity.
        assert_eq!(
            m.groups.rules.len(),
            ResourceMapping::identity(ResourceKind::Group).rules.len()
        );
    }

    #[test]
    fn json_files_have_the_same_shape() {
        let text =
            r#"{"users": {"base": "none", "rules": [{"target": "userName", "value": "id"}]}}"#;
        let (file, m) = MappingFile::load(text).unwrap();
        assert_eq!(file.users.as_ref().map(|s| s.base), Some(Base::None));
        assert_eq!(
            m.users.apply(&source_user()),
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "u1"})
        );
    }

    #[test]
    fn validation_reports_every_problem_with_its_rule() {
        let text = r#"
            [users]
            base = "none"
            [[users.rules]]
            target = "userName"
            value = "lowr(userName)"
            [[users.rules]]
            target = "id"
            value = "userName"
            [[users.rules]]
            target = "title"
            value = "password"
            [[users.rules]]
            target = "title"
            value = "nickname.x"
            [[users.rules]]
            target = "nickName"
            value = "userNmae"
            [groups]
            [[groups.rules]]
            target = "members"
            value = "displayName"
        "#;
        let errs = MappingFile::load(text).unwrap_err().0;
        let shown: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 6, "{shown:#?}");
        assert!(
            shown[0].starts_with(
                "users rule 1: value \"lowr(userName)\" at character 1: unknown function 'lowr'"
            ),
            "{}",
            shown[0]
        );
        assert_eq!(
            shown[1],
            "users rule 2: target \"id\": 'id' is set by the target, it cannot be mapped"
        );
        assert_eq!(
            shown[2],
            "users rule 3: value \"password\": 'password' is never readable"
        );
        assert!(shown[3].starts_with("users rule 4:"), "{}", shown[3]);
        assert_eq!(
            shown[4],
            "users rule 5: value \"userNmae\": 'userNmae' is not a User attribute scimhub stores"
        );
        assert_eq!(
            shown[5],
            "groups rule 1: target \"members\": group members are synced from the id map, not mapped"
        );
    }

    #[test]
    fn sections_must_set_the_required_attribute_and_map_something() {
        let e = MappingFile::load("[users]\nbase = \"none\"\n")
            .unwrap_err()
            .0;
        assert_eq!(e[0].message, "maps nothing (base = \"none\" and no rules)");
        let e = MappingFile::load("[groups]\nexclude = [\"displayName\"]\n")
            .unwrap_err()
            .0;
        assert_eq!(
            e[0].to_string(),
            "groups: no rule sets 'displayName', which every SCIM target requires"
        );
        let e = MappingFile::load("[users]\nbogus = 1\n").unwrap_err();
        assert!(e.to_string().contains("unknown field"), "{e}");
    }

    #[test]
    fn a_source_mapping_reads_any_field_and_sets_references() {
        let text = r#"
            [users]
            base = "none"
            [[users.rules]]
            target = "userName"
            value = "email(mail)"
            [[users.rules]]
            target = 'phoneNumbers[type eq "work"].value'
            value = 'phone(tel, "US")'
            [[users.rules]]
            target = "groups"
            value = "department_id"
            [groups]
            [[groups.rules]]
            target = "members"
            value = "member"
        "#;
        assert!(
            MappingFile::load(text).is_err(),
            "targets cannot read unknown fields"
        );
        let (_, m) = MappingFile::load_for(text, Reads::Records).unwrap();
        let out = m.users.apply(&json!({
            "mail": " Ann@Example.COM ", "tel": "(212) 555 0123", "department_id": "D1"
        }));
        assert_eq!(
            out,
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                   "userName": "ann@example.com",
                   "phoneNumbers": [{"type": "work", "value": "+12125550123"}],
                   "groups": "D1"})
        );
        let g = m
            .groups
            .apply(&json!({"displayName": "Eng", "member": ["u1", "u2"]}));
        assert_eq!(g["members"], json!(["u1", "u2"]));
        assert_eq!(g["displayName"], json!("Eng"));
    }

    #[test]
    fn null_results_leave_the_target_out() {
        let text = r#"
            [users]
            base = "none"
            [[users.rules]]
            target = "userName"
            value = "userName"
            [[users.rules]]
            target = "nickName"
            value = "nickName"
            [[users.rules]]
            target = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter"
            value = "upper(urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department)"
        "#;
        let (_, m) = MappingFile::load(text).unwrap();
        assert_eq!(
            m.users.apply(&source_user()),
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
                   "userName": "Ann@Example.com", ENT: {"costCenter": "R&D"}})
        );
    }
}
