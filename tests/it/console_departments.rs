//! The console's Organization pages: in headless Chromium against a live
//! `scimhub serve` (departments added with `scimhub dept add`, hostile
//! names among them: the tree browsed, a department opened, moved under
//! another and renamed, a cycle refused with nothing changed, audited as
//! the console's actor), and over plain HTTP (a move or rename without the
//! session's CSRF token is 403 and changes nothing; names are escaped).

use reqwest::{Method, StatusCode};
use scimhub::store::AuditQuery;
use serde_json::{Value, json};

use crate::console_browser::{IMG, SCRIPT, no_alert_opened, sign_in};
use crate::departments::ORG;
use crate::lifecycle::Source;
use crate::on_both_backends;
use crate::support::browser::Browser;
use crate::support::console::ConsoleClient;
use crate::support::{Backend, TestApp, USER_SCHEMA, user_body};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// `scimhub dept add --name NAME [--parent P] [more]` on a live server.
fn add(source: &Source, name: &str, parent: Option<&str>, more: &[&str]) -> String {
    let mut args = vec!["dept", "add", "--name", name];
    if let Some(p) = parent {
        args.extend(["--parent", p]);
    }
    args.extend_from_slice(more);
    id(&source.server.cli_json(&args))
}

/// A user whose primary department is `department`.
fn person_body(user_name: &str, department: &str) -> Value {
    let mut body = user_body(user_name);
    body["schemas"] = json!([USER_SCHEMA, ORG]);
    body[ORG] = json!({"primaryDepartment": {"value": department}});
    body
}

/// The text of every element `css` finds, in page order.
async fn texts(b: &Browser, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in b
        .client
        .find_all(fantoccini::Locator::Css(css))
        .await
        .unwrap()
    {
        out.push(e.text().await.unwrap());
    }
    out
}

/// The attribute `name` of every element `css` finds, in page order.
async fn attrs(b: &Browser, css: &str, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in b
        .client
        .find_all(fantoccini::Locator::Css(css))
        .await
        .unwrap()
    {
        out.push(e.attr(name).await.unwrap().unwrap_or_default());
    }
    out
}

/// The scenario on one backend; screenshots from the SQLite run.
async fn an_admin_reshapes_the_tree_from_the_console(backend: Backend) {
    let Some(source) = Source::start(backend) else {
        return;
    };
    let Some(b) = Browser::start(backend == Backend::Sqlite).await else {
        return;
    };
    let base = source.server.base.clone();
    sign_in(&b, &base, &source.token).await;

    // Nothing yet: the page says how to add the first one.
    b.click("a[href='/console/departments']").await;
    assert!(b.text("#no-departments").await.contains("scimhub dept add"));
    b.shot("empty-departments").await;
    b.goto(&format!("{base}/console/departments/nope")).await;
    assert_eq!(b.text("h1").await, "Not Found");

    let acme = add(&source, "Acme", None, &[]);
    let rnd = add(&source, "R&D", Some(&acme), &["--code", "RD"]);
    let sales = add(&source, "Sales", Some(&acme), &["--ordering", "-1"]);
    let platform = add(&source, "Platform", Some(&rnd), &[]);
    let infra = add(&source, "Infra", Some(&platform), &[]);
    let hostile = add(&source, SCRIPT, None, &[]);
    let img = add(&source, IMG, Some(&acme), &[]);
    let ann = id(&source
        .send(Method::POST, "/Users", Some(person_body("ann", &platform)))
        .await);
    source
        .send(Method::POST, "/Users", Some(person_body("carl", &acme)))
        .await;
    source
        .send(Method::POST, "/Users", Some(person_body("mallory", &img)))
        .await;

    // The overview counts them; the tree lists two levels with head counts.
    b.goto(&format!("{base}/console")).await;
    assert_eq!(b.text("#departments-count").await, "7");
    b.click("a[href='/console/departments']").await;
    let tree = b.text("#tree").await;
    for name in ["Acme", "Sales", "R&D", SCRIPT, IMG] {
        assert!(tree.contains(name), "{name} in {tree}");
    }
    assert!(
        !tree.contains("Platform"),
        "the third level opens on its page"
    );
    // Siblings by ordering, then name (case ignored; `<` and `"` sort first).
    let expected: Vec<String> = [&hostile, &acme, &sales, &img, &rnd]
        .iter()
        .map(|i| format!("dept-{i}"))
        .collect();
    assert_eq!(attrs(&b, "#tree tbody tr", "id").await, expected);
    let cell = |row: &str, n: usize| format!("#dept-{row} td:nth-child({n})");
    assert_eq!(b.text(&cell(&acme, 3)).await, "1", "its own people");
    assert_eq!(b.text(&cell(&acme, 4)).await, "3", "in all");
    assert_eq!(b.text(&cell(&rnd, 2)).await, "RD");
    assert_eq!(b.text(&cell(&rnd, 4)).await, "1");
    assert_eq!(
        b.text(&format!("#dept-{rnd} .more")).await,
        "2 more department(s)"
    );
    assert!(!b.exists("#tree img").await && !b.exists("main script").await);
    no_alert_opened(&b).await;
    b.shot("departments").await;

    // A department: its path, sub-departments, people.
    b.click(&format!("#dept-{rnd} .more")).await;
    assert_eq!(b.text("#department-name").await, "R&D");
    assert_eq!(b.text("#department-code").await, "RD");
    assert_eq!(
        texts(&b, "#crumbs li").await,
        ["Organization", "Acme", "R&D"]
    );
    let subs = b.text("#subs").await;
    assert!(
        subs.contains("Platform") && subs.contains("Infra"),
        "{subs}"
    );
    assert!(b.exists("#no-people").await, "nobody's own department");
    b.click("#people-all").await;
    assert!(b.text("#members").await.contains("ann"));
    b.shot("department").await;

    // Moved under Sales from the list: the tree changes, over SCIM too.
    b.shot_at("department-move", "#move-form").await;
    b.find("#move-parent")
        .await
        .select_by_value(&sales)
        .await
        .unwrap();
    b.click("#move").await;
    assert!(b.text(".notice").await.contains("moved"));
    assert_eq!(
        texts(&b, "#crumbs li").await,
        ["Organization", "Acme", "Sales", "R&D"]
    );
    b.click("#crumbs a[href='/console/departments']").await;
    assert!(
        !b.exists(&format!("#dept-{rnd}")).await,
        "now on the third level"
    );
    assert_eq!(
        b.text(&format!("#dept-{sales} .more")).await,
        "3 more department(s)"
    );
    b.shot("departments-moved").await;
    let moved = source
        .send(Method::GET, &format!("/Departments/{rnd}"), None)
        .await;
    assert_eq!(moved["parent"]["value"], sales.as_str());
    let under = source
        .send(Method::GET, &format!("/Departments/{infra}"), None)
        .await;
    assert_eq!(
        under["path"],
        format!("/{acme}/{sales}/{rnd}/{platform}/{infra}/")
    );

    // Under its own sub-department: refused on the page, nothing changed.
    let before = source
        .send(Method::GET, "/Departments?count=100", None)
        .await;
    let people_before = source.send(Method::GET, "/Users?count=100", None).await;
    b.goto(&format!("{base}/console/departments/{rnd}")).await;
    b.fill("#move-parent-id", &platform).await;
    b.click("#move").await;
    let error = b.text(".error").await;
    assert!(
        error.contains("cycle") && error.contains(&platform),
        "{error}"
    );
    assert_eq!(b.text("#department-name").await, "R&D");
    b.shot("department-move-refused").await;
    assert_eq!(
        source
            .send(Method::GET, "/Departments?count=100", None)
            .await,
        before
    );
    assert_eq!(
        source.send(Method::GET, "/Users?count=100", None).await,
        people_before
    );

    // Renamed: its people's department string follows.
    b.goto(&format!("{base}/console/departments/{platform}"))
        .await;
    b.fill("#rename-name", "Platform & Tools").await;
    b.click("#rename").await;
    assert!(b.text(".notice").await.contains("renamed"));
    assert_eq!(b.text("#department-name").await, "Platform & Tools");
    let person = source
        .send(Method::GET, &format!("/Users/{ann}"), None)
        .await;
    assert_eq!(person[ENTERPRISE]["department"], "Platform & Tools");

    // The person's page shows the path, each step a link.
    b.goto(&format!("{base}/console/users/{ann}")).await;
    assert_eq!(
        texts(&b, "#department li").await,
        ["Acme", "Sales", "R&D", "Platform & Tools"]
    );
    b.click(&format!("#department a[href='/console/departments/{rnd}']"))
        .await;
    assert_eq!(b.text("#department-name").await, "R&D");

    // Hostile names are text, in the tree, on their page and in the list.
    b.goto(&format!("{base}/console/departments/{hostile}"))
        .await;
    assert_eq!(b.text("#department-name").await, SCRIPT);
    b.goto(&format!("{base}/console/departments/{img}")).await;
    assert_eq!(b.text("#department-name").await, IMG);
    assert!(b.text("#members").await.contains("mallory"));
    let offered = format!("#move-parent option[value='{hostile}']");
    assert_eq!(b.text(&offered).await, SCRIPT);
    assert!(!b.exists("main img").await && !b.exists("main script").await);
    no_alert_opened(&b).await;
    b.shot("department-hostile").await;

    // The audit trail names the console's actor.
    b.goto(&format!("{base}/console/audit?actor=console:admin"))
        .await;
    let events = b.text("#events").await;
    assert!(events.contains("resource.patch"), "{events}");
    b.goto(&format!("{base}/console/departments/{rnd}")).await;
    let history = b.text("#history").await;
    assert!(history.contains("console:admin"), "{history}");
    no_alert_opened(&b).await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_an_admin_reshapes_the_tree_from_the_console() {
    an_admin_reshapes_the_tree_from_the_console(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_an_admin_reshapes_the_tree_from_the_console() {
    an_admin_reshapes_the_tree_from_the_console(Backend::Postgres).await;
}

async fn dept(app: &TestApp, args: &[&str]) -> String {
    let mut all = vec!["dept", "add"];
    all.extend_from_slice(args);
    id(&app.cli_json(&all).await)
}

/// The department's audit rows' actors.
fn actors(app: &TestApp, id: &str) -> Vec<String> {
    app.store
        .audit(&AuditQuery {
            resource_id: Some(id.to_string()),
            limit: 100,
            ..AuditQuery::default()
        })
        .unwrap()
        .into_iter()
        .map(|r| r.actor)
        .collect()
}

/// A move or a rename without the session's CSRF token is 403 and changes
/// nothing; with it, it works and is audited as the console's actor; a
/// refused move says why and changes nothing.
async fn department_forms_need_the_sessions_token(app: TestApp) {
    let acme = dept(&app, &["--name", "Acme"]).await;
    let rnd = dept(&app, &["--name", "R&D", "--parent", &acme]).await;
    let lab = dept(&app, &["--name", "Lab", "--parent", &rnd]).await;
    let sales = dept(&app, &["--name", "Sales", "--parent", &acme]).await;
    let admin = app.token_with("ops", &["admin"]);
    let console = ConsoleClient::signed_in(&app.base, &admin).await;

    let before = app.snapshot();
    let audited = actors(&app, &rnd);
    let sales_field = [("parent_id", sales.as_str())];
    let name_field = [("name", "Research")];
    for (path, fields) in [
        (format!("/console/departments/{rnd}/move"), &sales_field[..]),
        (
            format!("/console/departments/{rnd}/rename"),
            &name_field[..],
        ),
    ] {
        for csrf in [None, Some("forged")] {
            let mut sent = fields.to_vec();
            if let Some(token) = csrf {
                sent.push(("csrf", token));
            }
            let page = console.post_raw(&path, &sent).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}: {}", page.body);
        }
    }
    assert_eq!(app.snapshot(), before, "nothing changed");
    assert_eq!(actors(&app, &rnd), audited, "nothing audited");

    // Refused moves: under itself, under its own sub-department, nowhere.
    for (fields, says) in [
        (vec![("parent_id", rnd.as_str())], "its own parent"),
        (vec![("parent", lab.as_str())], "cycle"),
        (vec![("parent_id", "nope")], "not an existing Department"),
        (vec![("parent_id", " ")], "Choose the new parent"),
    ] {
        let page = console
            .post(&format!("/console/departments/{rnd}/move"), &fields)
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert!(page.body.contains(says), "{says}: {}", page.body);
        assert!(page.body.contains("id=\"department-name\">R&#38;D<"));
    }
    let blank = console
        .post(
            &format!("/console/departments/{rnd}/rename"),
            &[("name", "")],
        )
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(blank.body.contains("Give the department a name."));
    assert_eq!(app.snapshot(), before, "nothing changed");
    let unknown = console
        .post("/console/departments/nope/move", &[("root", "on")])
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // With the token: moved, then made a root, renamed; audited.
    let page = console
        .post(
            &format!("/console/departments/{rnd}/move"),
            &[("parent", sales.as_str())],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(
        page.header("location"),
        Some(format!("/console/departments/{rnd}?notice=department-moved").as_str())
    );
    let moved = app.get(&format!("/Departments/{lab}")).await;
    assert_eq!(moved.body["path"], format!("/{acme}/{sales}/{rnd}/{lab}/"));
    let page = console
        .post(
            &format!("/console/departments/{rnd}/move"),
            &[("root", "on"), ("parent", sales.as_str())],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let root = app.get(&format!("/Departments/{rnd}")).await;
    assert!(root.body.get("parent").is_none(), "{}", root.body);
    let page = console
        .post(
            &format!("/console/departments/{rnd}/rename"),
            &[("name", "Research")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(
        app.get(&format!("/Departments/{rnd}")).await.body["displayName"],
        "Research"
    );
    let now = actors(&app, &rnd);
    assert_eq!(now.len(), audited.len() + 3, "{now:?}");
    assert!(
        now.iter().filter(|a| *a == "console:ops").count() == 3,
        "{now:?}"
    );
    let page = console
        .get(&format!(
            "/console/departments/{rnd}?notice=department-renamed"
        ))
        .await;
    assert!(
        page.body.contains("The department was renamed."),
        "{}",
        page.body
    );
    assert!(page.body.contains("id=\"department-name\">Research<"));
}

/// Hostile department names are escaped on every page that shows them.
async fn department_names_render_as_text(app: TestApp) {
    let script = "<script>alert(1)</script>";
    let img = "\"><img src=x onerror=alert(1)>";
    let top = dept(&app, &["--name", script]).await;
    let under = dept(&app, &["--name", img, "--parent", &top]).await;
    let r = app.post("/Users", &person_body("mallory", &under)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let user = id(&r.body);
    let admin = app.token_with("ops", &["admin"]);
    let console = ConsoleClient::signed_in(&app.base, &admin).await;
    for path in [
        "/console/departments".to_string(),
        "/console/departments?q=alert".to_string(),
        format!("/console/departments/{top}"),
        format!("/console/departments/{under}"),
        format!("/console/users/{user}"),
    ] {
        let page = console.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(
            !page.body.contains("<script>alert"),
            "{path}: {}",
            page.body
        );
        assert!(!page.body.contains("<img src=x"), "{path}: {}", page.body);
        assert!(
            page.body
                .contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{path}: escaped, not dropped: {}",
            page.body
        );
    }
    let overview = console.get("/console").await;
    assert!(
        overview.body.contains("id=\"departments-count\">2<"),
        "{}",
        overview.body
    );
}

on_both_backends!(
    department_forms_need_the_sessions_token,
    department_names_render_as_text,
);
