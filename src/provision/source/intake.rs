//! Intake of one record: its id, the mapping (or the SCIM-path header),
//! cleansing of e-mail addresses and phone numbers, the required
//! attributes and schema validation. A record either comes out prepared
//! for the import or refused with a reason — never half-read.

use serde::Serialize;
use serde_json::{Map, Value};

use super::headers::HeaderMapping;
use super::reader::RawRecord;
use crate::provision::mapping::cleanse::{self};
use crate::provision::mapping::path::{self, TargetPath};
use crate::provision::mapping::{DEPARTMENTS, PRIMARY_DEPARTMENT, ResourceMapping};
use crate::scim::ResourceKind;
use crate::scim::json::present;
use crate::scim::registry::{ENTERPRISE_USER_SCHEMA, ORGANIZATION_USER_SCHEMA};

/// Why a record was refused (the failure list's `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The record has no value in its id field.
    MissingId,
    /// An earlier record of this import has the same id.
    DuplicateId,
    /// The record cannot be read whole, or is not a valid resource.
    InvalidRecord,
    MissingAttribute,
    InvalidEmail,
    InvalidPhone,
    DuplicateUserName,
    DuplicateEmail,
    DuplicateEmployeeNumber,
    /// The userName belongs to a user another source (or no source) supplies.
    Conflict,
    UnknownManager,
    UnknownGroup,
    /// Names a department (a user's, or a department's parent) that is
    /// neither in the import nor supplied before.
    UnknownDepartment,
    /// The record names itself as its manager.
    ManagerCycle,
    /// The department's chain of parents in the import loops back to it.
    DepartmentCycle,
    /// The store refused the write.
    Rejected,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::MissingId => "missing_id",
            Reason::DuplicateId => "duplicate_id",
            Reason::InvalidRecord => "invalid_record",
            Reason::MissingAttribute => "missing_attribute",
            Reason::InvalidEmail => "invalid_email",
            Reason::InvalidPhone => "invalid_phone",
            Reason::DuplicateUserName => "duplicate_user_name",
            Reason::DuplicateEmail => "duplicate_email",
            Reason::DuplicateEmployeeNumber => "duplicate_employee_number",
            Reason::Conflict => "conflict",
            Reason::UnknownManager => "unknown_manager",
            Reason::UnknownGroup => "unknown_group",
            Reason::UnknownDepartment => "unknown_department",
            Reason::ManagerCycle => "manager_cycle",
            Reason::DepartmentCycle => "department_cycle",
            Reason::Rejected => "rejected",
        }
    }
}

/// A refused record: why, and the record as read.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub kind: ResourceKind,
    pub key: Option<String>,
    pub locator: String,
    pub raw: Value,
    pub reason: Reason,
    pub detail: String,
}

/// A record ready for the import: canonical attributes and the references
/// it declares, by the source's ids.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub kind: ResourceKind,
    pub key: String,
    pub locator: String,
    pub raw: Value,
    /// Validated, canonical (as `scim::resource::validate` makes them), no references.
    pub attributes: Map<String, Value>,
    pub manager: Option<String>,
    pub groups: Vec<String>,
    pub members: Vec<String>,
    /// A department's parent.
    pub parent: Option<String>,
    /// A user's primary department and further departments.
    pub primary_department: Option<String>,
    pub departments: Vec<String>,
}

impl Prepared {
    /// userName or displayName, for people reading reports.
    pub fn name(&self) -> String {
        let attr = match self.kind {
            ResourceKind::User => "userName",
            ResourceKind::Group | ResourceKind::Department | ResourceKind::Plain(_) => {
                "displayName"
            }
        };
        self.attributes
            .get(attr)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }

    pub fn refuse(&self, reason: Reason, detail: impl Into<String>) -> Refusal {
        Refusal {
            kind: self.kind,
            key: Some(self.key.clone()),
            locator: self.locator.clone(),
            raw: self.raw.clone(),
            reason,
            detail: detail.into(),
        }
    }
}

/// How records become SCIM resources: mapping rules, or a SCIM-path header.
#[derive(Debug, Clone)]
pub enum RecordMapping {
    Rules(ResourceMapping),
    Headers(HeaderMapping),
}

impl RecordMapping {
    /// The record (a JSON object of its fields) as a resource.
    pub fn apply(&self, record: &Value) -> Value {
        match self {
            RecordMapping::Rules(m) => m.apply(record),
            RecordMapping::Headers(h) => match record {
                Value::Object(fields) => h.apply(fields),
                _ => Value::Object(Map::new()),
            },
        }
    }

    /// Every path it may set.
    pub fn targets(&self) -> Vec<&TargetPath> {
        match self {
            RecordMapping::Rules(m) => m.rules.iter().map(|r| &r.target).collect(),
            RecordMapping::Headers(h) => h.targets(),
        }
    }
}

/// What intake needs besides the record.
pub struct IntakeRules<'a> {
    pub mapping: &'a RecordMapping,
    /// The field holding the record's id; `None`: the mapped `externalId`
    /// (only that, when the mapping sets one), else an `id` field, else the
    /// userName / displayName.
    pub key_field: Option<&'a str>,
    pub region: Option<phonenumber::country::Id>,
    /// Paths that must have a value (beyond userName / displayName).
    pub required: &'a [String],
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Removes a member (any case) from an object.
fn take(object: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let key = object
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))?
        .clone();
    object.remove(&key)
}

/// References as written: an id, a list of ids, `{"value": id}` or a list of those.
fn ref_list(v: Option<Value>) -> Vec<String> {
    let one = |v: &Value| match v {
        Value::Object(o) => o.get("value").and_then(text_of),
        other => text_of(other),
    };
    match v {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().filter_map(one).collect(),
        Some(other) => one(&other).into_iter().collect(),
    }
}

fn key_of(
    rules: &IntakeRules<'_>,
    kind: ResourceKind,
    fields: &Map<String, Value>,
    mapped: &Map<String, Value>,
) -> Option<String> {
    if let Some(field) = rules.key_field {
        return crate::scim::json::member(fields, field).and_then(text_of);
    }
    let name = match kind {
        ResourceKind::User => "userName",
        ResourceKind::Group | ResourceKind::Department | ResourceKind::Plain(_) => "displayName",
    };
    let external = mapped.get("externalId").and_then(text_of);
    let sets_external_id = rules
        .mapping
        .targets()
        .iter()
        .any(|t| t.uri.is_none() && t.name.eq_ignore_ascii_case("externalId"));
    if sets_external_id {
        return external;
    }
    external
        .or_else(|| crate::scim::json::member(fields, "id").and_then(text_of))
        .or_else(|| crate::scim::json::member(mapped, name).and_then(text_of))
}

/// Lower-cases and checks every e-mail address.
fn cleanse_emails(mapped: &mut Map<String, Value>) -> Result<(), String> {
    let Some(Value::Array(items)) = mapped.get_mut("emails") else {
        return Ok(());
    };
    for item in items {
        if let Some(Value::String(v)) = item.as_object_mut().and_then(|o| o.get_mut("value")) {
            let normal = cleanse::normalize_email(v);
            if !cleanse::is_email(&normal) {
                return Err(format!("{v:?} is not an e-mail address"));
            }
            *v = normal;
        }
    }
    Ok(())
}

/// Brings every phone number to E.164.
fn cleanse_phones(
    mapped: &mut Map<String, Value>,
    region: Option<phonenumber::country::Id>,
) -> Result<(), String> {
    let Some(Value::Array(items)) = mapped.get_mut("phoneNumbers") else {
        return Ok(());
    };
    for item in items {
        if let Some(Value::String(v)) = item.as_object_mut().and_then(|o| o.get_mut("value")) {
            if cleanse::is_e164(v) {
                continue;
            }
            match cleanse::to_e164(v, region) {
                Some(e164) => *v = e164,
                None => {
                    let hint = if region.is_none() {
                        " (numbers without a country code need the source's phone_region)"
                    } else {
                        ""
                    };
                    return Err(format!("{v:?} is not a phone number{hint}"));
                }
            }
        }
    }
    Ok(())
}

/// The resource with `schemas` naming its core schema and every extension
/// it has (whatever the record or mapping said).
pub fn with_schemas(kind: ResourceKind, mut attrs: Map<String, Value>) -> Map<String, Value> {
    let reg = crate::scim::registry::registry();
    let mut schemas = vec![Value::String(reg.core_schema(kind).id.to_string())];
    for ext in reg.extensions(kind) {
        if attrs.keys().any(|k| k.eq_ignore_ascii_case(ext.id)) {
            schemas.push(Value::String(ext.id.to_string()));
        }
    }
    take(&mut attrs, "schemas");
    attrs.insert("schemas".into(), Value::Array(schemas));
    attrs
}

/// Prepares one record, or says why it is refused.
pub fn prepare(rules: &IntakeRules<'_>, record: RawRecord) -> Result<Prepared, Box<Refusal>> {
    let RawRecord {
        kind,
        locator,
        fields,
        defect,
    } = record;
    // The fields are moved, not copied: 100,000 records are read at once.
    let raw = Value::Object(fields);
    let refuse = |key: Option<String>, reason: Reason, detail: String| {
        Box::new(Refusal {
            kind,
            key,
            locator: locator.clone(),
            raw: raw.clone(),
            reason,
            detail,
        })
    };
    let Value::Object(mut mapped) = rules.mapping.apply(&raw) else {
        return Err(refuse(
            None,
            Reason::InvalidRecord,
            "the mapping made no object".into(),
        ));
    };
    let empty = Map::new();
    let key = key_of(rules, kind, raw.as_object().unwrap_or(&empty), &mapped);
    if let Some(defect) = defect {
        return Err(refuse(key, Reason::InvalidRecord, defect));
    }
    let Some(key) = key else {
        let field = rules.key_field.unwrap_or("externalId");
        return Err(refuse(
            None,
            Reason::MissingId,
            format!("the record has no id ({field} is empty)"),
        ));
    };
    let mut refs = References::default();
    match kind {
        ResourceKind::User => {
            refs.groups = ref_list(take(&mut mapped, "groups"));
            if let Some(ext) = extension(&mut mapped, ENTERPRISE_USER_SCHEMA) {
                refs.manager = ref_list(take(ext, "manager")).into_iter().next();
            }
            // By the short names, or as the organization extension's attributes.
            let mut primary = ref_list(take(&mut mapped, PRIMARY_DEPARTMENT));
            let mut further = ref_list(take(&mut mapped, DEPARTMENTS));
            if let Some(ext) = extension(&mut mapped, ORGANIZATION_USER_SCHEMA) {
                primary.extend(ref_list(take(ext, PRIMARY_DEPARTMENT)));
                further.extend(ref_list(take(ext, DEPARTMENTS)));
                take(ext, "departmentPath");
            }
            if mapped
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(ORGANIZATION_USER_SCHEMA))
                .is_some_and(|(_, v)| v.as_object().is_some_and(Map::is_empty))
            {
                take(&mut mapped, ORGANIZATION_USER_SCHEMA);
            }
            refs.primary_department = primary.into_iter().next();
            let mut seen = std::collections::HashSet::new();
            further.retain(|d| seen.insert(d.clone()));
            refs.departments = further;
        }
        ResourceKind::Group => {
            refs.groups = ref_list(take(&mut mapped, "groups"));
            refs.members = ref_list(take(&mut mapped, "members"));
        }
        ResourceKind::Department | ResourceKind::Plain(_) => {
            refs.parent = ref_list(take(&mut mapped, "parent")).into_iter().next();
        }
    }
    refs.groups.dedup();
    // The source's id is kept as externalId where the mapping leaves it free.
    if !mapped.keys().any(|k| k.eq_ignore_ascii_case("externalId")) {
        mapped.insert("externalId".into(), Value::String(key.clone()));
    }
    let failed = |reason: Reason, detail: String| refuse(Some(key.clone()), reason, detail);
    if let Err(detail) = cleanse_emails(&mut mapped) {
        return Err(failed(Reason::InvalidEmail, detail));
    }
    if let Err(detail) = cleanse_phones(&mut mapped, rules.region) {
        return Err(failed(Reason::InvalidPhone, detail));
    }
    let base = match kind {
        ResourceKind::User => "userName",
        ResourceKind::Group | ResourceKind::Department | ResourceKind::Plain(_) => "displayName",
    };
    let resource = Value::Object(with_schemas(kind, mapped));
    let needed = std::iter::once(base).chain(
        rules
            .required
            .iter()
            .map(String::as_str)
            .filter(|_| kind == ResourceKind::User),
    );
    for p in needed {
        let has = path::parse_value_path(p)
            .map(|vp| present(&path::read(kind, &resource, &vp)))
            .unwrap_or(false);
        if !has {
            return Err(failed(Reason::MissingAttribute, format!("{p} is missing")));
        }
    }
    let validated = crate::scim::resource::validate(kind, &resource)
        .map_err(|e| failed(Reason::InvalidRecord, e.detail))?;
    Ok(Prepared {
        kind,
        key,
        locator,
        raw,
        attributes: validated.attributes,
        manager: refs.manager,
        groups: refs.groups,
        members: refs.members,
        parent: refs.parent,
        primary_department: refs.primary_department,
        departments: refs.departments,
    })
}

/// The references one record declares.
#[derive(Default)]
struct References {
    manager: Option<String>,
    groups: Vec<String>,
    members: Vec<String>,
    parent: Option<String>,
    primary_department: Option<String>,
    departments: Vec<String>,
}

/// An extension's object in a mapped record (its URN in any case).
fn extension<'a>(
    mapped: &'a mut Map<String, Value>,
    uri: &str,
) -> Option<&'a mut Map<String, Value>> {
    mapped
        .iter_mut()
        .find(|(k, _)| k.eq_ignore_ascii_case(uri))
        .and_then(|(_, v)| v.as_object_mut())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provision::mapping::{MappingFile, Reads};
    use serde_json::json;

    const HR: &str = r#"
        [users]
        base = "none"
        [[users.rules]]
        target = "userName"
        value = "email(email)"
        [[users.rules]]
        target = "externalId"
        value = "employee_id"
        [[users.rules]]
        target = "name.givenName"
        value = "collapse(first_name)"
        [[users.rules]]
        target = "name.familyName"
        value = "collapse(last_name)"
        [[users.rules]]
        target = 'emails[type eq "work"].value'
        value = "email"
        [[users.rules]]
        target = 'phoneNumbers[type eq "work"].value'
        value = "phone"
        [[users.rules]]
        target = "active"
        value = 'not(eq(lower(status), "terminated"))'
        [[users.rules]]
        target = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
        value = "manager_employee_id"
        [[users.rules]]
        target = "groups"
        value = "department_id"
    "#;

    fn record(fields: Value) -> RawRecord {
        RawRecord::new(
            ResourceKind::User,
            "people.csv line 2".into(),
            fields.as_object().cloned().unwrap(),
        )
    }

    fn run(fields: Value) -> Result<Prepared, Box<Refusal>> {
        let (_, m) = MappingFile::load_for(HR, Reads::Records).unwrap();
        let mapping = RecordMapping::Rules(m.users);
        let required = vec!["name.familyName".to_string()];
        let rules = IntakeRules {
            mapping: &mapping,
            key_field: None,
            region: cleanse::region("US"),
            required: &required,
        };
        prepare(&rules, record(fields))
    }

    fn row() -> Value {
        json!({"employee_id": "E1", "first_name": " Ann  Marie ", "last_name": "Lee",
               "email": "  Ann.Lee@Example.ORG ", "phone": "(212) 555 0123",
               "status": "terminated", "manager_employee_id": "E9", "department_id": "D3"})
    }

    #[test]
    fn a_messy_row_comes_out_cleansed_with_its_references() {
        let p = run(row()).unwrap();
        assert_eq!(p.key, "E1");
        assert_eq!(p.manager.as_deref(), Some("E9"));
        assert_eq!(p.groups, vec!["D3".to_string()]);
        assert_eq!(
            Value::Object(p.attributes),
            json!({"userName": "ann.lee@example.org", "externalId": "E1",
                   "name": {"givenName": "Ann Marie", "familyName": "Lee"},
                   "emails": [{"type": "work", "value": "ann.lee@example.org"}],
                   "phoneNumbers": [{"type": "work", "value": "+12125550123"}],
                   "active": false})
        );
    }

    #[test]
    fn departments_and_people_bring_their_department_references() {
        let text = r#"
            [users]
            base = "none"
            [[users.rules]]
            target = "userName"
            value = "name"
            [[users.rules]]
            target = "primaryDepartment"
            value = "dept"
            [[users.rules]]
            target = "urn:scimhub:params:scim:schemas:extension:organization:2.0:User:departments"
            value = "also"
            [departments]
            base = "none"
            [[departments.rules]]
            target = "displayName"
            value = "collapse(name)"
            [[departments.rules]]
            target = "code"
            value = "code"
            [[departments.rules]]
            target = "externalId"
            value = "id"
            [[departments.rules]]
            target = "parent"
            value = "parent_id"
        "#;
        let (_, m) = MappingFile::load_for(text, Reads::Records).unwrap();
        let prepare_with = |mapping: ResourceMapping, kind: ResourceKind, fields: Value| {
            let mapping = RecordMapping::Rules(mapping);
            let rules = IntakeRules {
                mapping: &mapping,
                key_field: None,
                region: None,
                required: &[],
            };
            let record = RawRecord::new(
                kind,
                "x line 2".into(),
                fields.as_object().cloned().unwrap(),
            );
            prepare(&rules, record)
        };
        let d = prepare_with(
            m.departments.clone(),
            ResourceKind::Department,
            json!({"id": "D2", "parent_id": "D1", "name": " Platform  Team ", "code": "PLT"}),
        )
        .unwrap();
        assert_eq!((d.key.as_str(), d.parent.as_deref()), ("D2", Some("D1")));
        assert_eq!(
            Value::Object(d.attributes),
            json!({"displayName": "Platform Team", "code": "PLT", "externalId": "D2"})
        );
        let u = prepare_with(
            m.users.clone(),
            ResourceKind::User,
            json!({"name": "ann", "dept": "D2", "also": ["D7", "D7", "D8"]}),
        )
        .unwrap();
        assert_eq!(u.primary_department.as_deref(), Some("D2"));
        assert_eq!(u.departments, vec!["D7".to_string(), "D8".to_string()]);
        assert_eq!(
            Value::Object(u.attributes),
            json!({"userName": "ann", "externalId": "ann"}),
            "references are no attributes"
        );
        let root = prepare_with(
            m.departments,
            ResourceKind::Department,
            json!({"id": "D1", "name": "Acme"}),
        )
        .unwrap();
        assert_eq!(root.parent, None);
    }

    #[test]
    fn bad_rows_are_refused_with_their_reason_and_raw_record() {
        let with = |k: &str, v: Value| {
            let mut r = row();
            r[k] = v;
            r
        };
        let e = run(with("email", json!("bad0 at example.org"))).unwrap_err();
        assert_eq!(
            (e.reason, e.key.as_deref()),
            (Reason::InvalidEmail, Some("E1"))
        );
        assert_eq!(e.raw["email"], "bad0 at example.org");
        assert_eq!(e.locator, "people.csv line 2");
        let mut r = row();
        r.as_object_mut().unwrap().remove("last_name");
        let e = run(r).unwrap_err();
        assert_eq!(
            (e.reason, e.detail.as_str()),
            (Reason::MissingAttribute, "name.familyName is missing")
        );
        assert_eq!(
            run(with("phone", json!("call me"))).unwrap_err().reason,
            Reason::InvalidPhone
        );
        let mut r = row();
        r.as_object_mut().unwrap().remove("employee_id");
        assert_eq!(run(r).unwrap_err().reason, Reason::MissingId);
        let mut defective = record(row());
        defective.defect = Some("people.csv line 2 has 3 fields".into());
        let (_, m) = MappingFile::load_for(HR, Reads::Records).unwrap();
        let mapping = RecordMapping::Rules(m.users);
        let rules = IntakeRules {
            mapping: &mapping,
            key_field: None,
            region: None,
            required: &[],
        };
        let e = prepare(&rules, defective).unwrap_err();
        assert_eq!(
            (e.reason, e.key.as_deref()),
            (Reason::InvalidRecord, Some("E1"))
        );
    }
}
