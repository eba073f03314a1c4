//! Targets: list, add and edit (credentials are entered, never shown
//! back), the mapping preview for a chosen user, connection test, pause and
//! resume, runs and dry runs, and provisioning one user now.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::forms::given;
use super::page::{self, Chrome, Page, Signed, see_other, with_notice};
use super::view::{RunRow, TargetRow, pretty, wire_name, words};
use crate::error::AppError;
use crate::http::AppState;
use crate::http::routes::Endpoint;
use crate::provision::on_demand::{ProvisionReport, Step as PushStep};
use crate::provision::runs::RunOptions;
use crate::provision::target::TargetSettings;
use crate::provision::target_status::TargetWithStatus;
use crate::provision::target_test::TestReport;

pub fn endpoints() -> Vec<Endpoint> {
    let session = Some(super::SESSION);
    vec![
        Endpoint::new(Method::GET, "/targets", session, list),
        Endpoint::new(Method::POST, "/targets", session, create),
        // Not under /targets/: any name there is a target's.
        Endpoint::new(Method::GET, "/new-target", session, new),
        Endpoint::new(Method::POST, "/mapping-preview", session, live_preview),
        Endpoint::new(Method::GET, "/targets/{name}", session, show),
        Endpoint::new(Method::POST, "/targets/{name}", session, update),
        Endpoint::new(Method::GET, "/targets/{name}/edit", session, edit),
        Endpoint::new(Method::POST, "/targets/{name}/test", session, test),
        Endpoint::new(Method::POST, "/targets/{name}/pause", session, pause),
        Endpoint::new(Method::POST, "/targets/{name}/resume", session, resume),
        Endpoint::new(Method::POST, "/targets/{name}/release", session, release),
        Endpoint::new(Method::POST, "/targets/{name}/remove", session, remove),
        Endpoint::new(Method::POST, "/targets/{name}/runs", session, run),
        Endpoint::new(
            Method::POST,
            "/targets/{name}/provision",
            session,
            provision,
        ),
    ]
}

#[derive(Template)]
#[template(path = "console/targets.html")]
struct ListPage {
    chrome: Chrome,
    targets: Vec<TargetRow>,
}

async fn list(state: web::Data<AppState>, req: HttpRequest, who: Signed) -> Page {
    let targets = state.services.sync.targets().await?;
    page::ok(&ListPage {
        chrome: who.chrome(&req, "targets"),
        targets: targets.iter().map(TargetRow::from).collect(),
    })
}

/// The add / edit form as posted. Every field is text; checkboxes are
/// present when ticked.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TargetForm {
    action: String,
    name: String,
    url: String,
    auth: String,
    token: String,
    username: String,
    password: String,
    token_url: String,
    client_id: String,
    client_secret: String,
    oauth_scope: String,
    scope: String,
    group_scope: String,
    scope_groups: String,
    mapping: String,
    preview_user: String,
    sync_users: Option<String>,
    sync_groups: Option<String>,
    matching: String,
    act_create: Option<String>,
    act_update: Option<String>,
    act_deactivate: Option<String>,
    act_delete: Option<String>,
    deprovision: String,
    guard_percent: String,
    guard_min: String,
    rate_limit: String,
    test: Option<String>,
}

impl TargetForm {
    /// The form as a target's current settings fill it.
    fn from_target(t: &TargetWithStatus) -> Self {
        let v = &t.target;
        let s = &v.settings;
        let on = |b: bool| b.then(|| "on".to_string());
        Self {
            name: v.name.clone(),
            url: v.base_url.clone(),
            auth: s.auth.clone(),
            scope: v.scope.clone().unwrap_or_default(),
            group_scope: s.group_scope.clone().unwrap_or_default(),
            scope_groups: s.scope_groups.join(", "),
            mapping: v
                .mapping
                .as_ref()
                .map(|m| toml::to_string(m).unwrap_or_else(|_| pretty(&json!(m))))
                .unwrap_or_default(),
            sync_users: on(s.resource_types.iter().any(|r| r == "Users")),
            sync_groups: on(s.resource_types.iter().any(|r| r == "Groups")),
            matching: s.matching.clone(),
            act_create: on(s.actions.create),
            act_update: on(s.actions.update),
            act_deactivate: on(s.actions.deactivate),
            act_delete: on(s.actions.delete),
            deprovision: wire_name(&s.deprovision),
            guard_percent: s.guard.max_percent.to_string(),
            guard_min: s.guard.min_count.to_string(),
            rate_limit: s.rate_limit.map(|r| r.to_string()).unwrap_or_default(),
            test: on(true),
            ..Self::default()
        }
    }

    /// A new target's form: the defaults.
    fn defaults() -> Self {
        let s = TargetSettings::default();
        let on = |b: bool| b.then(|| "on".to_string());
        Self {
            auth: "bearer".into(),
            sync_users: on(true),
            sync_groups: on(true),
            matching: s.matching.clone(),
            act_create: on(s.actions.create),
            act_update: on(s.actions.update),
            act_deactivate: on(s.actions.deactivate),
            act_delete: on(s.actions.delete),
            deprovision: wire_name(&s.deprovision),
            guard_percent: s.guard.max_percent.to_string(),
            guard_min: s.guard.min_count.to_string(),
            test: on(true),
            ..Self::default()
        }
    }

    /// The credentials entered, if any secret field was filled.
    fn credentials(&self) -> Option<Value> {
        match self.auth.as_str() {
            "basic" if !self.username.is_empty() || !self.password.is_empty() => Some(json!({
                "kind": "basic", "username": self.username, "password": self.password})),
            "oauth2" if !self.client_secret.is_empty() || !self.client_id.is_empty() => {
                let mut c = json!({"kind": "oauth2", "token_url": self.token_url.trim(),
                    "client_id": self.client_id.trim(), "client_secret": self.client_secret});
                if let Some(scope) = given(&self.oauth_scope) {
                    c["scope"] = Value::String(scope);
                }
                Some(c)
            }
            "bearer" | "" if !self.token.is_empty() => {
                Some(json!({"kind": "bearer", "token": self.token}))
            }
            _ => None,
        }
    }

    /// The settings the form sets (merged over the current ones on update).
    fn settings(&self) -> Result<Value, String> {
        let mut types = Vec::new();
        if self.sync_users.is_some() {
            types.push("Users");
        }
        if self.sync_groups.is_some() {
            types.push("Groups");
        }
        let percent: f64 = self.guard_percent.trim().parse().map_err(|_| {
            "Deletion guard: the share is a number of percent, e.g. 20.".to_string()
        })?;
        let min: usize =
            self.guard_min.trim().parse().map_err(|_| {
                "Deletion guard: the minimum is a whole number, e.g. 10.".to_string()
            })?;
        let rate_limit: Option<u32> = given(&self.rate_limit)
            .map(|r| r.parse())
            .transpose()
            .map_err(|_| {
                "Rate limit: a whole number of requests per second, or blank.".to_string()
            })?;
        let scope_groups: Vec<&str> = self
            .scope_groups
            .split(',')
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .collect();
        Ok(json!({
            "rate_limit": rate_limit,
            "group_scope": given(&self.group_scope),
            "scope_groups": scope_groups,
            "resource_types": types,
            "matching": given(&self.matching).unwrap_or_else(|| "userName".into()),
            "actions": {
                "create": self.act_create.is_some(),
                "update": self.act_update.is_some(),
                "deactivate": self.act_deactivate.is_some(),
                "delete": self.act_delete.is_some(),
            },
            "deprovision": given(&self.deprovision).unwrap_or_else(|| "deactivate".into()),
            "guard": {"max_percent": percent, "min_count": min},
        }))
    }

    /// `POST /admin/v1/targets`'s body.
    fn add_request(&self) -> Result<Value, String> {
        let credentials = self
            .credentials()
            .ok_or_else(|| "Enter the target's credentials.".to_string())?;
        Ok(json!({
            "name": self.name.trim(),
            "url": self.url.trim(),
            "credentials": credentials,
            "mapping": given(&self.mapping),
            "scope": given(&self.scope),
            "settings": self.settings()?,
            "test": self.test.is_some(),
        }))
    }

    /// `PATCH /admin/v1/targets/{name}`'s body: credentials only when new
    /// ones were entered.
    fn update_request(&self) -> Result<Value, String> {
        let mut body = Map::new();
        body.insert("url".into(), json!(self.url.trim()));
        if let Some(c) = self.credentials() {
            body.insert("credentials".into(), c);
        }
        body.insert("mapping".into(), json!(given(&self.mapping)));
        body.insert("scope".into(), json!(given(&self.scope)));
        body.insert("settings".into(), self.settings()?);
        body.insert("test".into(), json!(self.test.is_some()));
        Ok(Value::Object(body))
    }
}

#[derive(Template)]
#[template(path = "console/target_form.html")]
struct FormPage {
    chrome: Chrome,
    editing: bool,
    action: String,
    form: TargetForm,
    preview: Option<String>,
    preview_error: Option<String>,
}

impl FormPage {
    fn auth_is(&self, kind: &str) -> bool {
        self.form.auth == kind || (kind == "bearer" && self.form.auth.is_empty())
    }

    fn deprovision_is(&self, mode: &str) -> bool {
        self.form.deprovision == mode
    }
}

async fn new(req: HttpRequest, who: Signed) -> Page {
    page::ok(&FormPage {
        chrome: who.chrome(&req, "targets"),
        editing: false,
        action: "/console/targets".into(),
        form: TargetForm::defaults(),
        preview: None,
        preview_error: None,
    })
}

async fn edit(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    name: web::Path<String>,
) -> Page {
    let target = state.services.sync.target(&name).await?;
    page::ok(&FormPage {
        chrome: who.chrome(&req, "targets"),
        editing: true,
        action: format!("/console/targets/{}", page::segment(&name)),
        form: TargetForm::from_target(&target),
        preview: None,
        preview_error: None,
    })
}

/// The form again (secrets never echoed), with the preview or an error.
async fn again(
    state: &AppState,
    req: &HttpRequest,
    who: &Signed,
    editing: bool,
    action: String,
    mut form: TargetForm,
    error: Option<String>,
) -> Page {
    let (mut preview, mut preview_error) = (None, None);
    if form.action == "preview" {
        if form.preview_user.trim().is_empty() {
            preview_error = Some("Choose a user (a userName or an id) to preview.".into());
        } else {
            match state
                .services
                .sync
                .preview_mapping(&form.mapping, &form.preview_user)
                .await
            {
                Ok(mapped) => preview = Some(pretty(&mapped)),
                Err(AppError::Scim(e)) => preview_error = Some(e.detail),
                Err(e) => return Err(e.into()),
            }
        }
    }
    form.token.clear();
    form.password.clear();
    form.client_secret.clear();
    let mut chrome = who.chrome(req, "targets");
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    chrome.error = error;
    page::html(
        status,
        &FormPage {
            chrome,
            editing,
            action,
            form,
            preview,
            preview_error,
        },
    )
}

#[derive(Deserialize)]
struct PreviewForm {
    #[serde(default)]
    mapping: String,
    #[serde(default)]
    preview_user: String,
}

/// The mapping editor's live preview (the page's script posts the form as
/// it is edited): `{"preview": JSON text}` or `{"error": why}`.
async fn live_preview(state: web::Data<AppState>, web::Form(form): web::Form<PreviewForm>) -> Page {
    let body = if form.preview_user.trim().is_empty() {
        json!({"error": "Choose a user (a userName or an id) to preview."})
    } else {
        match state
            .services
            .sync
            .preview_mapping(&form.mapping, &form.preview_user)
            .await
        {
            Ok(mapped) => json!({"preview": pretty(&mapped)}),
            Err(AppError::Scim(e)) => json!({"error": e.detail}),
            Err(e) => return Err(e.into()),
        }
    };
    Ok(actix_web::HttpResponse::Ok()
        .insert_header(actix_web::http::header::CacheControl(vec![
            actix_web::http::header::CacheDirective::NoStore,
        ]))
        .json(body))
}

fn refused(e: AppError) -> Result<String, AppError> {
    match e {
        AppError::Scim(s) => Ok(s.detail),
        other => Err(other),
    }
}

async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    web::Form(form): web::Form<TargetForm>,
) -> Page {
    let action = "/console/targets".to_string();
    if form.action == "preview" {
        return again(&state, &req, &who, false, action, form, None).await;
    }
    let body = match form.add_request() {
        Ok(body) => body,
        Err(e) => return again(&state, &req, &who, false, action, form, Some(e)).await,
    };
    match state.services.sync.add_target(&who.actor(&req), body).await {
        Ok(view) => Ok(see_other(with_notice(
            &format!("/console/targets/{}", page::segment(&view.name)),
            "target-added",
        ))),
        Err(e) => {
            let error = refused(e)?;
            again(&state, &req, &who, false, action, form, Some(error)).await
        }
    }
}

async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    name: web::Path<String>,
    web::Form(mut form): web::Form<TargetForm>,
) -> Page {
    let action = format!("/console/targets/{}", page::segment(&name));
    form.name = name.clone();
    if form.action == "preview" {
        return again(&state, &req, &who, true, action, form, None).await;
    }
    let body = match form.update_request() {
        Ok(body) => body,
        Err(e) => return again(&state, &req, &who, true, action, form, Some(e)).await,
    };
    match state
        .services
        .sync
        .update_target(&who.actor(&req), &name, body)
        .await
    {
        Ok(updated) => {
            let notice = if updated.reconcile_needed {
                "target-updated-reconcile"
            } else {
                "target-updated"
            };
            Ok(see_other(with_notice(&action, notice)))
        }
        Err(e) => {
            let error = refused(e)?;
            again(&state, &req, &who, true, action, form, Some(error)).await
        }
    }
}

/// A test step or a push step as a row.
pub struct StepRow {
    pub name: String,
    pub status: String,
    pub detail: String,
    pub body: Option<String>,
}

pub struct ObjectRow {
    pub kind: String,
    pub name: String,
    pub outcome: String,
    pub steps: Vec<StepRow>,
}

pub struct PushView {
    pub dry_run: bool,
    pub ok: bool,
    pub notes: Vec<String>,
    pub objects: Vec<ObjectRow>,
}

pub struct TestView {
    pub ok: bool,
    pub steps: Vec<StepRow>,
}

fn test_view(report: &TestReport) -> TestView {
    TestView {
        ok: report.ok,
        steps: report
            .steps
            .iter()
            .map(|s| {
                let mut detail = s.detail.clone();
                for p in &s.problems {
                    detail.push_str(&format!("\n{p}"));
                }
                StepRow {
                    name: words(s.step.as_str()),
                    status: wire_name(&s.status),
                    detail,
                    body: None,
                }
            })
            .collect(),
    }
}

fn push_step(step: &PushStep) -> StepRow {
    let (name, status, detail, body) = match step {
        PushStep::Scope { in_scope, reason } => (
            "scope",
            if *in_scope { "ok" } else { "skipped" },
            reason.clone(),
            None,
        ),
        PushStep::Resource { resource } => (
            "mapped resource",
            "ok",
            String::new(),
            Some(pretty(resource)),
        ),
        PushStep::Match { detail, .. } => ("match", "ok", detail.clone(), None),
        PushStep::Request(exchange) => {
            let sent = if exchange.sent { "sent" } else { "would send" };
            let outcome = match (&exchange.status, &exchange.error) {
                (_, Some(e)) => e.clone(),
                // A dry run answers its own writes: no answer to report.
                (Some(s), None) if exchange.sent => format!("answered {s}"),
                _ => String::new(),
            };
            (
                "request",
                if exchange.error.is_some() {
                    "failed"
                } else {
                    "ok"
                },
                format!("{sent}: {} {} {outcome}", exchange.method, exchange.path),
                exchange.body.as_ref().map(pretty),
            )
        }
        PushStep::Skipped { reason } => ("skipped", "skipped", reason.clone(), None),
        PushStep::Failed { operation, error } => {
            ("failed", "failed", format!("{operation}: {error}"), None)
        }
    };
    StepRow {
        name: name.into(),
        status: status.into(),
        detail,
        body,
    }
}

fn push_view(report: &ProvisionReport) -> PushView {
    PushView {
        dry_run: report.dry_run,
        ok: report.ok,
        notes: report.notes.clone(),
        objects: report
            .objects
            .iter()
            .map(|o| ObjectRow {
                kind: o.resource_type.clone(),
                name: o.name.clone().unwrap_or_else(|| o.local_id.clone()),
                outcome: words(&wire_name(&o.outcome)),
                steps: o.steps.iter().map(push_step).collect(),
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "console/target.html")]
struct ShowPage {
    chrome: Chrome,
    row: TargetRow,
    scope: String,
    settings: String,
    mapping: String,
    quarantine: Option<String>,
    awaiting: Option<String>,
    runs: Vec<RunRow>,
    test: Option<TestView>,
    push: Option<PushView>,
    push_user: String,
}

impl ShowPage {
    fn paused(&self) -> bool {
        self.row.state == "paused"
    }

    fn can_resume(&self) -> bool {
        matches!(self.row.state.as_str(), "paused" | "new")
    }
}

/// What a target's page shows besides the target: the result of the form
/// just sent, or why it was refused.
#[derive(Default)]
struct Extra {
    test: Option<TestView>,
    push: Option<PushView>,
    push_user: String,
    error: Option<String>,
}

impl Extra {
    fn refused(e: AppError) -> Result<Self, AppError> {
        Ok(Self {
            error: Some(refused(e)?),
            ..Self::default()
        })
    }
}

async fn show_page(
    state: &AppState,
    req: &HttpRequest,
    who: &Signed,
    name: &str,
    extra: Extra,
) -> Page {
    let target = state.services.sync.target(name).await?;
    let runs = state.services.sync.runs(name, Some("10")).await?;
    let v = &target.target;
    let Extra {
        test,
        push,
        push_user,
        error,
    } = extra;
    let mut chrome = who.chrome(req, "targets");
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    chrome.error = error;
    page::html(
        status,
        &ShowPage {
            chrome,
            scope: v.scope.clone().unwrap_or_else(|| "every user".into()),
            settings: pretty(&json!(v.settings)),
            mapping: v
                .mapping
                .as_ref()
                .map(|m| toml::to_string(m).unwrap_or_else(|_| pretty(&json!(m))))
                .unwrap_or_else(|| "identity (every writable attribute copied as it is)".into()),
            quarantine: target
                .status
                .quarantine
                .as_ref()
                .map(|q| format!("{} (since {})", q.reason, super::view::when(&q.since))),
            awaiting: target.status.awaiting_approval.clone(),
            runs: runs.iter().map(RunRow::from).collect(),
            row: TargetRow::from(&target),
            test,
            push,
            push_user,
        },
    )
}

async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    name: web::Path<String>,
) -> Page {
    show_page(&state, &req, &who, &name, Extra::default()).await
}

async fn test(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    name: web::Path<String>,
) -> Page {
    let extra = match state.services.sync.test_target(&name).await {
        Ok(report) => Extra {
            test: Some(test_view(&report)),
            ..Extra::default()
        },
        Err(e) => Extra::refused(e)?,
    };
    show_page(&state, &req, &who, &name, extra).await
}

fn back(name: &str, notice: &str) -> actix_web::HttpResponse {
    see_other(with_notice(
        &format!("/console/targets/{}", page::segment(name)),
        notice,
    ))
}

async fn pause(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    name: web::Path<String>,
) -> Page {
    state.services.sync.pause(&who.actor(&req), &name).await?;
    Ok(back(&name, "paused"))
}

async fn resume(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    name: web::Path<String>,
) -> Page {
    state.services.sync.resume(&who.actor(&req), &name).await?;
    Ok(back(&name, "resumed"))
}

async fn release(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    name: web::Path<String>,
) -> Page {
    state
        .services
        .sync
        .release_target(&who.actor(&req), &name)
        .await?;
    Ok(back(&name, "released"))
}

async fn remove(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    name: web::Path<String>,
) -> Page {
    state
        .services
        .sync
        .remove_target(&who.actor(&req), &name)
        .await?;
    Ok(see_other(with_notice("/console/targets", "target-removed")))
}

#[derive(Deserialize)]
struct RunForm {
    #[serde(default)]
    dry_run: Option<String>,
}

async fn run(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    name: web::Path<String>,
    web::Form(form): web::Form<RunForm>,
) -> Page {
    let options = RunOptions {
        dry_run: form.dry_run.is_some(),
    };
    match state
        .services
        .sync
        .start_run_with(&who.actor(&req), &name, options)
        .await
    {
        Ok(report) => Ok(see_other(format!(
            "/console/runs/{}",
            page::segment(&report.head.id)
        ))),
        Err(e) => show_page(&state, &req, &who, &name, Extra::refused(e)?).await,
    }
}

#[derive(Deserialize)]
struct ProvisionForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    dry_run: Option<String>,
}

async fn provision(
    state: web::Data<AppState>,
    req: HttpRequest,
    who: Signed,
    name: web::Path<String>,
    web::Form(form): web::Form<ProvisionForm>,
) -> Page {
    let body = json!({"user": form.user.trim(), "dryRun": form.dry_run.is_some()});
    let extra = match state
        .services
        .sync
        .provision_from_request(&who.actor(&req), &name, body)
        .await
    {
        Ok(report) => Extra {
            push: Some(push_view(&report)),
            push_user: form.user,
            ..Extra::default()
        },
        Err(e) => Extra {
            push_user: form.user,
            ..Extra::refused(e)?
        },
    };
    show_page(&state, &req, &who, &name, extra).await
}
