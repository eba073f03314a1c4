//! Runs cases against a SCIM server: steps in order until one fails, then
//! the cleanup steps whatever happened, one case at a time (cases that
//! count resources must not see another case's writes).

use std::time::Instant;

use super::case::{Auth, Base, Case, Step};
use super::http::{self, Exchange, Request};
use super::report::{CaseResult, Outcome, Report};
use super::template::Vars;
use crate::scim::event_uris::JWKS_PATH;

/// The server under test.
#[derive(Debug, Clone)]
pub struct Target {
    /// The SCIM base URL, e.g. `https://host/scim/v2`.
    pub base_url: String,
    /// A token allowed to read and write.
    pub token: String,
    /// A token allowed only to read; cases that need it are skipped without it.
    pub read_token: Option<String>,
}

pub struct Runner {
    client: reqwest::Client,
    target: Target,
    /// What the server advertises, read once when a case needs to know.
    offered: tokio::sync::OnceCell<Offered>,
}

/// The resource type names and schema ids of the server's discovery
/// endpoints (empty where an endpoint did not answer a list), and whether
/// its JWKS publishes a key for signing SCIM events.
#[derive(Debug, Default)]
struct Offered {
    resource_types: Vec<String>,
    schemas: Vec<String>,
    signs_events: bool,
}

/// Why a step did not pass.
enum StepError {
    /// A placeholder had no value (an earlier step did not save it).
    Unresolved(String),
    Failed(String),
}

const EXCERPT_BYTES: usize = 400;

fn excerpt(response: &Exchange) -> String {
    let text = response.text.trim();
    if text.len() <= EXCERPT_BYTES {
        return text.to_string();
    }
    let cut = (0..=EXCERPT_BYTES)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    format!("{}... ({} bytes)", &text[..cut], text.len())
}

impl Runner {
    pub fn new(target: Target) -> Result<Self, reqwest::Error> {
        Ok(Self {
            client: http::client()?,
            target,
            offered: tokio::sync::OnceCell::new(),
        })
    }

    pub async fn run(&self, cases: &[Case]) -> Report {
        let mut report = Report::default();
        for case in cases {
            report.results.push(self.run_case(case).await);
        }
        report
    }

    pub async fn run_case(&self, case: &Case) -> CaseResult {
        let started = Instant::now();
        let outcome = if case.needs_read_token() && self.target.read_token.is_none() {
            Outcome::Skip("needs a read-only token (--read-token)".into())
        } else if let Some(missing) = self.missing(case).await {
            Outcome::Skip(missing)
        } else {
            self.outcome(case).await
        };
        CaseResult {
            id: case.id.clone(),
            name: case.name.clone(),
            outcome,
            elapsed: started.elapsed(),
        }
    }

    async fn outcome(&self, case: &Case) -> Outcome {
        let mut vars = Vars::new(&self.target.token);
        let mut problems = Vec::new();
        for (i, step) in case.steps.iter().enumerate() {
            if let Err(StepError::Failed(why) | StepError::Unresolved(why)) =
                self.step(step, &mut vars, false).await
            {
                problems.push(format!("step {} {why}", i + 1));
                break;
            }
        }
        for (i, step) in case.cleanup.iter().enumerate() {
            // Cleanup of something never created (its id unsaved) is skipped.
            if let Err(StepError::Failed(why)) = self.step(step, &mut vars, true).await {
                problems.push(format!("cleanup {} {why}", i + 1));
            }
        }
        if problems.is_empty() {
            Outcome::Pass
        } else {
            Outcome::Fail(problems.join("\n"))
        }
    }

    /// What of `case.requires` the server does not advertise, as a reason.
    async fn missing(&self, case: &Case) -> Option<String> {
        if case.requires.is_empty() {
            return None;
        }
        let offered = self.offered.get_or_init(|| self.discover()).await;
        let absent = |wanted: &[String], have: &[String]| -> Vec<String> {
            wanted
                .iter()
                .filter(|w| !have.iter().any(|h| h.eq_ignore_ascii_case(w)))
                .cloned()
                .collect()
        };
        if case.requires.events && !offered.signs_events {
            return Some(format!(
                "the server offers no SCIM events (RFC 9967): {JWKS_PATH} lists no signing key"
            ));
        }
        let types = absent(&case.requires.resource_types, &offered.resource_types);
        let schemas = absent(&case.requires.schemas, &offered.schemas);
        match (types.is_empty(), schemas.is_empty()) {
            (true, true) => None,
            (false, _) => Some(format!(
                "the server offers no resource type {}",
                types.join(", ")
            )),
            (true, false) => Some(format!(
                "the server offers no schema {}",
                schemas.join(", ")
            )),
        }
    }

    async fn discover(&self) -> Offered {
        Offered {
            resource_types: self.listed("/ResourceTypes", "name").await,
            schemas: self.listed("/Schemas", "id").await,
            signs_events: self.signs_events().await,
        }
    }

    /// The body of a GET of `path` (from `base`), `null` when it failed.
    async fn read(&self, base: Base, path: &str, bearer: Option<String>) -> serde_json::Value {
        let Ok(url) = self.url(base, path) else {
            return serde_json::Value::Null;
        };
        let request = Request {
            method: reqwest::Method::GET,
            url,
            headers: Vec::new(),
            bearer,
            body: None,
        };
        match http::send(&self.client, request).await {
            Ok(response) if response.status == 200 => response.body,
            _ => serde_json::Value::Null,
        }
    }

    /// Whether the origin's JWKS (public: read without a credential) lists a key.
    async fn signs_events(&self) -> bool {
        let jwks = self.read(Base::Origin, JWKS_PATH, None).await;
        jwks["keys"].as_array().is_some_and(|keys| !keys.is_empty())
    }

    /// The `key` of each resource a discovery list answers with.
    async fn listed(&self, path: &str, key: &str) -> Vec<String> {
        let body = self
            .read(Base::Scim, path, Some(self.target.token.clone()))
            .await;
        let items = match &body {
            serde_json::Value::Array(items) => items.clone(),
            other => other["Resources"].as_array().cloned().unwrap_or_default(),
        };
        items
            .iter()
            .filter_map(|item| item[key].as_str().map(str::to_string))
            .collect()
    }

    fn request(&self, step: &Step, vars: &Vars, path: &str) -> Result<Request, String> {
        let method = reqwest::Method::from_bytes(step.method.as_bytes())
            .map_err(|_| format!("bad method {:?}", step.method))?;
        let mut headers = Vec::new();
        for (name, value) in &step.headers {
            let value = value.as_str().unwrap_or_default();
            headers.push((name.clone(), vars.render_str(value)?));
        }
        let body = match (&step.body, &step.raw) {
            (Some(json), _) => Some(vars.render(json)?.to_string().into_bytes()),
            (None, Some(raw)) => Some(vars.render_str(raw)?.into_bytes()),
            (None, None) => None,
        };
        let bearer = match step.auth {
            Auth::Token => Some(self.target.token.clone()),
            Auth::Read => self.target.read_token.clone(),
            Auth::None => None,
        };
        Ok(Request {
            method,
            url: self.url(step.base, path)?,
            headers,
            bearer,
            body,
        })
    }

    /// `path` under the SCIM base URL or under its origin.
    fn url(&self, base: Base, path: &str) -> Result<String, String> {
        let scim = self.target.base_url.trim_end_matches('/');
        match base {
            Base::Scim => Ok(format!("{scim}{path}")),
            Base::Origin => {
                let url = reqwest::Url::parse(scim)
                    .map_err(|e| format!("the base URL {scim:?} is not a URL: {e}"))?;
                Ok(format!("{}{path}", url.origin().ascii_serialization()))
            }
        }
    }

    async fn step(&self, step: &Step, vars: &mut Vars, cleanup: bool) -> Result<(), StepError> {
        let path = vars
            .render_str(&step.path)
            .map_err(|e| StepError::Unresolved(format!("{}: {e}", step.label(&step.path))))?;
        let label = step.label(&path);
        let request = self
            .request(step, vars, &path)
            .map_err(|e| StepError::Unresolved(format!("{label}: {e}")))?;
        let response = http::send(&self.client, request)
            .await
            .map_err(|e| StepError::Failed(format!("{label}: {e}")))?;
        if let Some(name) = &step.save {
            vars.save(name, response.body.clone());
        }
        let problems = match &step.expect {
            Some(expect) => expect.problems(vars, &response),
            // Cleanup without expectations: gone now, or already gone.
            None if cleanup
                && ((200..300).contains(&response.status) || response.status == 404) =>
            {
                Vec::new()
            }
            None => vec![format!(
                "status: expected 2xx or 404, got {}",
                response.status
            )],
        };
        if problems.is_empty() {
            return Ok(());
        }
        Err(StepError::Failed(format!(
            "{label}: {}\n  response {}: {}",
            problems.join("; "),
            response.status,
            excerpt(&response)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_paths_drop_the_scim_base_path() {
        let runner = Runner::new(Target {
            base_url: "https://hub.example:8443/tenant/scim/v2/".into(),
            token: "t".into(),
            read_token: None,
        })
        .unwrap();
        assert_eq!(
            runner.url(Base::Scim, "/Users").unwrap(),
            "https://hub.example:8443/tenant/scim/v2/Users"
        );
        assert_eq!(
            runner.url(Base::Origin, JWKS_PATH).unwrap(),
            "https://hub.example:8443/.well-known/jwks.json"
        );
        let broken = Runner::new(Target {
            base_url: "not a url".into(),
            token: "t".into(),
            read_token: None,
        })
        .unwrap();
        assert!(broken.url(Base::Origin, JWKS_PATH).is_err());
    }
}
