//! One definition, two executions: for random filters over random users and
//! groups, the store's answer (SQL where it can) equals the evaluator's.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use scimhub::scim::ResourceKind;
use scimhub::scim::filter::{AttrPath, CompValue, CompareOp, Filter, matches};
use scimhub::scim::resource::validate;
use scimhub::store::diesel::{DieselStore, sql_answers_exactly};
use scimhub::store::{ListQuery, MemberRef, MembersWrite, PasswordWrite, ResourceWrite};
use serde_json::{Value, json};

use crate::support::{Backend, ENTERPRISE, GROUP_SCHEMA, TestApp, USER_SCHEMA};

const WORDS: [&str; 10] = [
    "ann", "Ann", "ANNA", "bob", "a_b", "x%y", "é", "Émile", "", "b\\c",
];

fn word() -> impl Strategy<Value = String> {
    proptest::sample::select(WORDS.to_vec()).prop_map(str::to_string)
}

fn maybe_word() -> impl Strategy<Value = Option<String>> {
    proptest::option::weighted(0.7, word())
}

fn user_json(i: usize) -> impl Strategy<Value = Value> {
    let email = (
        word(),
        proptest::option::of(proptest::sample::select(vec!["work", "Home", "other"])),
        proptest::option::of(any::<bool>()),
    );
    (
        maybe_word(),
        maybe_word(),
        maybe_word(),
        maybe_word(),
        any::<bool>(),
        proptest::collection::vec(email, 0..3),
        maybe_word(),
        maybe_word(),
    )
        .prop_map(move |(ext, display, given, title, active, emails, dept, manager)| {
            let mut primary_used = false;
            let emails: Vec<Value> = emails
                .into_iter()
                .map(|(v, t, p)| {
                    let primary = p == Some(true) && !std::mem::replace(&mut primary_used, true);
                    let mut e = json!({"value": format!("{v}@x.org")});
                    if let Some(t) = t { e["type"] = json!(t); }
                    if p.is_some() { e["primary"] = json!(primary); }
                    e
                })
                .collect();
            let mut u = json!({"schemas": [USER_SCHEMA], "userName": format!("{}{i}", WORDS[i % WORDS.len()]), "active": active, "emails": emails});
            let mut set = |k: &str, v: Option<String>| if let Some(v) = v { u[k] = json!(v); };
            set("externalId", ext);
            set("displayName", display);
            set("title", title);
            if let Some(g) = given { u["name"] = json!({"givenName": g, "familyName": "Fam"}); }
            if dept.is_some() || manager.is_some() {
                let mut e = json!({});
                if let Some(d) = dept { e["department"] = json!(d); }
                if let Some(m) = manager { e["manager"] = json!({"value": m}); }
                u[ENTERPRISE] = e;
            }
            u
        })
}

fn user_path() -> impl Strategy<Value = AttrPath> {
    let ent = |name: &str, sub: Option<&str>| AttrPath {
        uri: Some(ENTERPRISE.into()),
        name: name.into(),
        sub: sub.map(Into::into),
    };
    proptest::sample::select(vec![
        AttrPath::new("userName"),
        AttrPath::new("USERNAME"),
        AttrPath::new("externalId"),
        AttrPath::new("displayName"),
        AttrPath::with_sub("name", "givenName"),
        AttrPath::new("title"),
        AttrPath::new("active"),
        AttrPath::new("emails"),
        AttrPath::with_sub("emails", "value"),
        AttrPath::with_sub("emails", "type"),
        AttrPath::with_sub("emails", "primary"),
        AttrPath::new("id"),
        AttrPath::new("nickName"),
        AttrPath::new("undefinedThing"),
        ent("department", None),
        ent("manager", Some("value")),
        AttrPath {
            uri: Some(USER_SCHEMA.into()),
            name: "userName".into(),
            sub: None,
        },
    ])
}

fn value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        4 => word().prop_map(CompValue::String),
        1 => word().prop_map(|w| CompValue::String(format!("{w}@x.org"))),
        1 => proptest::sample::select(vec!["work", "WORK", "home"]).prop_map(|w| CompValue::String(w.into())),
        1 => any::<bool>().prop_map(CompValue::Bool),
        1 => Just(CompValue::Null),
        1 => Just(CompValue::Number(3.into())),
    ]
}

fn op() -> impl Strategy<Value = CompareOp> {
    proptest::sample::select(CompareOp::ALL.to_vec())
}

fn leaf() -> impl Strategy<Value = Filter> {
    prop_oneof![
        4 => (user_path(), op(), value()).prop_map(|(path, op, value)| Filter::Compare { path, op, value }),
        1 => user_path().prop_map(Filter::Present),
        1 => (proptest::sample::select(vec!["value", "type", "primary"]), op(), value()).prop_map(|(sub, op, value)| {
            Filter::ValuePath {
                path: AttrPath::new("emails"),
                filter: Box::new(Filter::Compare { path: AttrPath::new(sub), op, value }),
            }
        }),
    ]
}

fn filter() -> impl Strategy<Value = Filter> {
    leaf().prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
}

/// Seeds the users as stored data (the seeding path): their managers are
/// arbitrary words, as stored managers that were deleted since can be.
fn insert_users(app: &TestApp, users: &[Value]) -> Vec<String> {
    let writes = users
        .iter()
        .map(|u| ResourceWrite {
            attributes: validate(ResourceKind::User, u).unwrap().attributes,
            members: MembersWrite::default(),
            password: PasswordWrite::Keep,
        })
        .collect();
    DieselStore::open(&app.database_url, 1)
        .unwrap()
        .insert_users(writes, &scimhub::store::Actor::system("proptest"))
        .unwrap()
}

async fn run(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let mut runner = TestRunner::new(Config {
        cases: 1,
        ..Config::default()
    });
    let users: Vec<Value> = (0..40)
        .map(|i| user_json(i).new_tree(&mut runner).unwrap().current())
        .collect();
    let ids = insert_users(&app, &users);
    // Groups with members, for members filters.
    for (i, chunk) in ids.chunks(7).enumerate() {
        let write = ResourceWrite {
            attributes: validate(
                ResourceKind::Group,
                &json!({"schemas": [GROUP_SCHEMA], "displayName": format!("{}{i}", WORDS[i])}),
            )
            .unwrap()
            .attributes,
            members: MembersWrite::Set(
                chunk
                    .iter()
                    .take(i)
                    .map(|id| MemberRef {
                        id: id.clone(),
                        kind: None,
                    })
                    .collect(),
            ),
            password: PasswordWrite::Keep,
        };
        app.store
            .create_group(write, &scimhub::store::Actor::system("proptest"))
            .unwrap();
    }
    let all_users: Vec<Value> = app
        .store
        .list_users(&ListQuery::all())
        .unwrap()
        .items
        .iter()
        .map(|u| u.to_scim(""))
        .collect();
    let all_groups: Vec<Value> = app
        .store
        .list_groups(&ListQuery::all())
        .unwrap()
        .items
        .iter()
        .map(|g| g.to_scim(""))
        .collect();

    let exact = std::cell::Cell::new(0);
    let mut runner = TestRunner::new(Config {
        cases: 400,
        ..Config::default()
    });
    let result = runner.run(&filter(), |f| {
        if scimhub::scim::filter::check(&f, ResourceKind::User).is_err() {
            return Ok(());
        }
        if sql_answers_exactly(ResourceKind::User, &f) {
            exact.set(exact.get() + 1);
        }
        let mut expected: Vec<String> = all_users
            .iter()
            .filter(|u| matches(&f, ResourceKind::User, u))
            .map(|u| u["id"].as_str().unwrap().to_string())
            .collect();
        let query = ListQuery {
            filter: Some(f.clone()),
            ..ListQuery::all()
        };
        let page = app
            .store
            .list_users(&query)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut got: Vec<String> = page.items.iter().map(|u| u.id.clone()).collect();
        expected.sort();
        got.sort();
        prop_assert_eq!(page.total as usize, got.len());
        prop_assert_eq!(got, expected, "filter: {}", f);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{backend:?}: {e}");
    }
    let exact = exact.get();
    assert!(
        exact > 150,
        "most generated filters must go through SQL ({exact})"
    );

    // Group filters over members and names.
    let member = ids[8].clone();
    for text in [
        format!(r#"members[value eq "{member}"]"#),
        format!(r#"members.value eq "{}""#, member.to_uppercase()),
        "members pr".to_string(),
        r#"not (members pr) or displayName sw "A""#.to_string(),
        format!(r#"displayName eq "ann0" or members[value ne "{member}"]"#),
    ] {
        let f = scimhub::scim::filter::parse_filter(&text, Default::default()).unwrap();
        assert!(sql_answers_exactly(ResourceKind::Group, &f), "{text}");
        let mut expected: Vec<String> = all_groups
            .iter()
            .filter(|g| matches(&f, ResourceKind::Group, g))
            .map(|g| g["id"].as_str().unwrap().to_string())
            .collect();
        let query = ListQuery {
            filter: Some(f),
            ..ListQuery::all()
        };
        let mut got: Vec<String> = app
            .store
            .list_groups(&query)
            .unwrap()
            .items
            .into_iter()
            .map(|g| g.id)
            .collect();
        expected.sort();
        got.sort();
        assert_eq!(got, expected, "{backend:?}: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_pushdown_equals_evaluator_on_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_pushdown_equals_evaluator_on_postgres() {
    run(Backend::Postgres).await;
}
