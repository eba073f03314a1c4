//! `TestApp`: a real scimhub server (HTTP on a free loopback port, its own
//! fresh database) driven through a real HTTP client.

use std::sync::Arc;
use std::thread::JoinHandle;

use actix_web::dev::ServerHandle;
use reqwest::{Method, StatusCode};
use scimhub::config::Config;
use scimhub::service::{Services, tokens};
use scimhub::store::diesel::DieselStore;
use scimhub::store::{ChangeRecord, Store, WebhookStore};
use serde_json::Value;

use super::postgres;

/// The OS user `TestApp::cli` runs as: its audit actor is `cli:tester`.
pub const CLI_USER: &str = "tester";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub backend: Backend,
    pub base: String,
    pub token: String,
    pub store: Arc<dyn Store>,
    pub hooks: Arc<dyn WebhookStore>,
    /// The configuration the server runs with.
    pub config: Config,
    pub database_url: String,
    client: reqwest::Client,
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a SCIM error with this status and `scimType`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, scim_type: Option<&str>) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(
            self.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error",
            "body: {}",
            self.text
        );
        assert_eq!(
            self.body["status"],
            status.to_string(),
            "status must be a string"
        );
        assert_eq!(
            self.body["scimType"].as_str(),
            scim_type,
            "body: {}",
            self.text
        );
        assert!(
            self.header("content-type")
                .unwrap_or_default()
                .starts_with("application/scim+json"),
            "content type"
        );
    }
}

/// Everything observable in the store, to prove a refused request changed nothing.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    users: Vec<(String, i64, Value)>,
    groups: Vec<(String, i64, Value, Vec<String>)>,
    departments: Vec<(String, i64, Value)>,
    /// Resources of the plain types (Agents, AgenticApplications).
    resources: Vec<(String, i64, Value)>,
    changes: Vec<ChangeRecord>,
}

impl TestApp {
    pub async fn start(backend: Backend) -> Option<TestApp> {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts a server; `customize` adjusts the configuration first.
    /// Returns None only for PostgreSQL when none can be started here.
    pub async fn start_with(
        backend: Backend,
        customize: impl FnOnce(&mut Config),
    ) -> Option<TestApp> {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = match backend {
            Backend::Sqlite => format!("sqlite://{}", dir.path().join("scimhub.db").display()),
            Backend::Postgres => postgres::server()?.fresh_database(),
        };
        let mut config = Config {
            listen: "127.0.0.1:0".into(),
            database_url: database_url.clone(),
            pool_size: 4,
            workers: Some(1),
            shutdown_timeout_secs: 1,
            ..Config::default()
        };
        customize(&mut config);
        let db = Arc::new(
            DieselStore::open(&config.database_url, config.pool_size).expect("open store"),
        );
        let store: Arc<dyn Store> = db.clone();
        let hooks: Arc<dyn WebhookStore> = db.clone();
        let scopes = vec![
            tokens::SCOPE_READ.to_string(),
            tokens::SCOPE_WRITE.to_string(),
        ];
        let token = tokens::create(store.as_ref(), "test-admin", scopes, None).expect("token");
        let services = Services::new(db, &config).expect("services");
        let kept = config.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let (server, addr) = scimhub::http::bind(&config, services).expect("bind");
                tx.send((server.handle(), addr)).expect("report address");
                let _ = server.await;
            });
        });
        let (handle, addr) = rx.recv().expect("server started");
        Some(TestApp {
            backend,
            base: format!("http://{addr}"),
            token,
            store,
            hooks,
            config: kept,
            database_url,
            client: reqwest::Client::new(),
            handle,
            thread: Some(thread),
            _dir: dir,
        })
    }

    /// A new token with exactly these scopes.
    pub fn token_with(&self, name: &str, scopes: &[&str]) -> String {
        let scopes = scopes.iter().map(|s| s.to_string()).collect();
        tokens::create(self.store.as_ref(), name, scopes, None).expect("token")
    }

    /// Runs `scimhub ARGS --database DB` against this server's database, with
    /// its secret key and `USER=tester` (so the CLI's actor is `cli:tester`),
    /// off the async runtime.
    pub async fn cli(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = super::live::scimhub();
        cmd.args(args)
            .args(["--database", &self.database_url])
            .env("USER", CLI_USER)
            .env_remove("LOGNAME")
            .env_remove("SCIMHUB_SUBSCRIPTION_SECRET")
            .env("SCIMHUB_LOG", "error");
        if let Some(key) = &self.config.secret_key {
            cmd.env("SCIMHUB_SECRET_KEY", hex::encode(key.0));
        }
        tokio::task::spawn_blocking(move || cmd.output().expect("run scimhub"))
            .await
            .expect("CLI task")
    }

    /// `cli` with `--json`, asserting success; its output parsed.
    pub async fn cli_json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.cli(&all).await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "scimhub {all:?} failed: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
    }

    pub fn url(&self, path: &str) -> String {
        // Paths not naming their API are SCIM paths.
        let full = path.starts_with("/scim")
            || path.starts_with("/admin")
            || path.starts_with("/events")
            || path.starts_with("/.well-known")
            || path == "/healthz"
            || path == "/livez"
            || path == "/metrics";
        if path.starts_with('/') && !full {
            format!("{}/scim/v2{path}", self.base)
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// Sends a request with the default token (or `token`) and reads the answer.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/scim+json").body(b);
        }
        read(req.send().await.expect("request")).await
    }

    pub async fn raw(&self, req: reqwest::RequestBuilder) -> Response {
        read(req.send().await.expect("request")).await
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(Method::GET, path, Some(&self.token), None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.send(
            Method::POST,
            path,
            Some(&self.token),
            Some(body.to_string().into_bytes()),
        )
        .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Response {
        self.send(
            Method::PUT,
            path,
            Some(&self.token),
            Some(body.to_string().into_bytes()),
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.send(Method::DELETE, path, Some(&self.token), None)
            .await
    }

    /// Creates a user and returns its JSON (asserting 201).
    pub async fn create_user(&self, user_name: &str) -> Value {
        let r = self.post("/Users", &super::user_body(user_name)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body
    }

    /// Creates a group with these member ids and returns its JSON (asserting 201).
    pub async fn create_group(&self, name: &str, members: &[&str]) -> Value {
        let r = self
            .post("/Groups", &super::group_body(name, members))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body
    }

    pub fn snapshot(&self) -> Snapshot {
        let all = scimhub::store::ListQuery::all();
        let users = self.store.list_users(&all).expect("users");
        let groups = self.store.list_groups(&all).expect("groups");
        let departments = self.store.department_subtree(None).expect("departments");
        let mut resources = Vec::new();
        for kind in scimhub::scim::registry::registry().plain_kinds() {
            let page = self.store.list_resources(kind, &all).expect("resources");
            resources.extend(
                page.items
                    .into_iter()
                    .map(|r| (r.id, r.meta.version, Value::Object(r.attributes))),
            );
        }
        Snapshot {
            resources,
            users: users
                .items
                .into_iter()
                .map(|u| (u.id, u.meta.version, Value::Object(u.attributes)))
                .collect(),
            groups: groups
                .items
                .into_iter()
                .map(|g| {
                    let members = g.members.into_iter().map(|m| m.id).collect();
                    (g.id, g.meta.version, Value::Object(g.attributes), members)
                })
                .collect(),
            departments: departments
                .into_iter()
                .map(|d| (d.id, d.meta.version, Value::Object(d.attributes)))
                .collect(),
            changes: self.store.changes_after(0, u32::MAX).expect("changes"),
        }
    }
}

async fn read(resp: reqwest::Response) -> Response {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Response {
        status,
        headers,
        body,
        text,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // The stop command is sent at call time; the server thread then exits.
        drop(self.handle.stop(false));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
