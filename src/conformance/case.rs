//! The case-file format (documented in `conformance/README.md`), as parsed
//! from YAML, and the checks that catch authoring mistakes at load time.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::matcher;
use super::path;

/// One case: steps run in order, then the cleanup steps (always).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// `suite/file-stem`, set by the catalog from the file's path.
    #[serde(skip)]
    pub id: String,
    /// One line saying what the case proves.
    pub name: String,
    /// What the server must advertise for the case to run (else skipped).
    #[serde(default)]
    pub requires: Requires,
    pub steps: Vec<Step>,
    #[serde(default)]
    pub cleanup: Vec<Step>,
}

/// Resource types (by `name` in `/ResourceTypes`) and schemas (by id in
/// `/Schemas`) a case needs: beyond RFC 7643 a server may not offer them.
/// `events`: the server signs SCIM events (RFC 9967), i.e. its origin's
/// `/.well-known/jwks.json` lists at least one key.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Requires {
    #[serde(default)]
    pub resource_types: Vec<String>,
    #[serde(default)]
    pub schemas: Vec<String>,
    #[serde(default)]
    pub events: bool,
}

impl Requires {
    pub fn is_empty(&self) -> bool {
        self.resource_types.is_empty() && self.schemas.is_empty() && !self.events
    }
}

/// One request and what its response must look like.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    #[serde(default)]
    pub name: Option<String>,
    pub method: String,
    /// Relative to the SCIM base URL, starting with `/`.
    pub path: String,
    /// What `path` is relative to.
    #[serde(default)]
    pub base: Base,
    #[serde(default)]
    pub headers: Map<String, Value>,
    #[serde(default)]
    pub auth: Auth,
    /// A JSON body (sent as `application/scim+json` unless a header says otherwise).
    #[serde(default)]
    pub body: Option<Value>,
    /// A body sent byte for byte (malformed JSON and the like).
    #[serde(default)]
    pub raw: Option<String>,
    /// Keeps the response body as `{{NAME…}}` for later steps.
    #[serde(default)]
    pub save: Option<String>,
    #[serde(default)]
    pub expect: Option<Expect>,
}

/// Where a step's `path` starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Base {
    /// The SCIM base URL (`--url`).
    #[default]
    Scim,
    /// The base URL's scheme, host and port: well-known URIs (RFC 8615)
    /// and endpoints outside the SCIM tree, such as the event poll endpoint.
    Origin,
}

/// Which credential a step sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Auth {
    /// The read-write token.
    #[default]
    Token,
    /// The read-only token (the case is skipped when none was given).
    Read,
    /// No `Authorization` header at all.
    None,
}

/// Expectations on one response. Every value is a matcher (see `matcher`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub status: Option<Value>,
    /// Header name → matcher, or the words `present` / `absent`.
    #[serde(default)]
    pub headers: Map<String, Value>,
    /// A subset of the response body (`null`: no body at all).
    #[serde(default, deserialize_with = "crate::scim::json::given")]
    pub body: Option<Value>,
    /// Path into the body → matcher.
    #[serde(default)]
    pub paths: Map<String, Value>,
    #[serde(default)]
    pub present: Vec<String>,
    #[serde(default)]
    pub absent: Vec<String>,
    /// The SCIM error's `scimType`; implies `error: true`.
    #[serde(default, rename = "scimType")]
    pub scim_type: Option<Value>,
    /// Whether the body must be a SCIM error whose `status` is the HTTP status
    /// as a string. Defaults to true when `status` is a number of 400 or more.
    #[serde(default)]
    pub error: Option<bool>,
}

/// Names the runner defines itself; a step may not `save` over them.
pub const RESERVED: &[&str] = &["run", "uuid", "token", "fill"];

impl Case {
    /// Whether some step needs the read-only token.
    pub fn needs_read_token(&self) -> bool {
        self.steps
            .iter()
            .chain(&self.cleanup)
            .any(|s| s.auth == Auth::Read)
    }

    /// Rejects what would make a case silently weaker than it reads.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err("`name` is empty".into());
        }
        if self.steps.is_empty() {
            return Err("`steps` is empty".into());
        }
        for (i, step) in self.steps.iter().enumerate() {
            let expect = step.expect.as_ref().and_then(|e| e.status.as_ref());
            if expect.is_none() {
                return Err(format!("steps[{i}]: every step needs `expect.status`"));
            }
            step.validate().map_err(|e| format!("steps[{i}]: {e}"))?;
        }
        for (i, step) in self.cleanup.iter().enumerate() {
            step.validate().map_err(|e| format!("cleanup[{i}]: {e}"))?;
        }
        Ok(())
    }
}

impl Step {
    /// `"name" (METHOD path)` for reports.
    pub fn label(&self, path: &str) -> String {
        match &self.name {
            Some(n) => format!("\"{n}\" ({} {path})", self.method),
            None => format!("({} {path})", self.method),
        }
    }

    fn validate(&self) -> Result<(), String> {
        reqwest::Method::from_bytes(self.method.as_bytes())
            .map_err(|_| format!("bad method {:?}", self.method))?;
        if self.method != self.method.to_ascii_uppercase() {
            return Err(format!("write the method in capitals: {:?}", self.method));
        }
        if !self.path.starts_with('/') {
            return Err(format!("path {:?} must start with /", self.path));
        }
        if self.body.is_some() && self.raw.is_some() {
            return Err("give `body` or `raw`, not both".into());
        }
        for (name, value) in &self.headers {
            if !value.is_string() {
                return Err(format!("request header {name} must be a string"));
            }
        }
        if let Some(name) = &self.save {
            let ok =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ok || RESERVED.contains(&name.as_str()) {
                return Err(format!("cannot save as {name:?}"));
            }
        }
        match &self.expect {
            Some(e) => e.validate(),
            None => Ok(()),
        }
    }
}

impl Expect {
    fn validate(&self) -> Result<(), String> {
        let matchers = self
            .status
            .iter()
            .chain(self.headers.values())
            .chain(self.body.iter())
            .chain(self.paths.values())
            .chain(self.scim_type.iter());
        for m in matchers {
            matcher::validate(m)?;
        }
        let paths = self.paths.keys().chain(&self.present).chain(&self.absent);
        for p in paths {
            path::parse(p).map_err(|e| format!("path {p:?}: {e}"))?;
        }
        Ok(())
    }
}
