//! Property: random moves (some of them under the moved department's own
//! subtree) never create a cycle or lose a department, every path stays
//! the chain of ids from its root, people keep their department's path,
//! and a refused move is exactly a move under the department itself.

use std::collections::HashMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use scimhub::scim::ResourceKind;
use scimhub::scim::resource::validate;
use scimhub::store::{Actor, ResourceWrite, Store, StoreError, WriteOp};
use serde_json::{Value, json};

use crate::departments::{DEPARTMENT, ORG};
use crate::support::{Backend, TestApp, USER_SCHEMA};

const SIZE: usize = 10;

/// Each department's parent (by index; none for a root).
type Parents = Vec<Option<usize>>;
/// (department, new parent or the root).
type Moves = Vec<(usize, Option<usize>)>;

/// A starting tree (each department's parent comes before it) and moves.
fn scenario() -> impl Strategy<Value = (Parents, Moves)> {
    let parents = (0..SIZE)
        .map(|i| {
            if i == 0 {
                Just(None).boxed()
            } else {
                proptest::option::weighted(0.8, 0..i).boxed()
            }
        })
        .collect::<Vec<_>>();
    let moves =
        proptest::collection::vec((0..SIZE, proptest::option::weighted(0.9, 0..SIZE)), 1..25);
    (parents, moves)
}

fn write(body: Value) -> ResourceWrite {
    let kind = if body["schemas"][0] == DEPARTMENT {
        ResourceKind::Department
    } else {
        ResourceKind::User
    };
    ResourceWrite {
        attributes: validate(kind, &body).unwrap().attributes,
        ..ResourceWrite::default()
    }
}

/// Whether `candidate` is `of` or under it in the model.
fn within(parents: &HashMap<usize, Option<usize>>, candidate: usize, of: usize) -> bool {
    let mut at = Some(candidate);
    for _ in 0..=SIZE {
        match at {
            Some(a) if a == of => return true,
            Some(a) => at = parents[&a],
            None => return false,
        }
    }
    panic!("the model has a cycle");
}

fn check(
    store: &dyn Store,
    ids: &[String],
    model: &HashMap<usize, Option<usize>>,
    people: &[(String, usize)],
) -> Result<(), TestCaseError> {
    let stored: HashMap<String, (Option<String>, String)> = store
        .department_subtree(None)
        .unwrap()
        .into_iter()
        .map(|d| {
            (
                d.id.clone(),
                (d.parent_id().map(str::to_string), d.path().to_string()),
            )
        })
        .collect();
    for (i, id) in ids.iter().enumerate() {
        let Some((parent, path)) = stored.get(id) else {
            return Err(TestCaseError::fail(format!("department {i} was lost")));
        };
        prop_assert_eq!(parent, &model[&i].map(|p| ids[p].clone()));
        let expected = match parent {
            Some(p) => format!("{}{id}/", stored[p].1),
            None => format!("/{id}/"),
        };
        prop_assert_eq!(path, &expected);
    }
    for (user, dept) in people {
        let u = store.get_user(user, false).unwrap();
        prop_assert_eq!(
            u.attributes[ORG]["departmentPath"].as_str(),
            Some(stored[&ids[*dept]].1.as_str())
        );
    }
    Ok(())
}

async fn random_moves_keep_the_tree_whole(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let store = app.store.clone();
    let actor = Actor::system("proptest");
    let case = std::cell::Cell::new(0);
    let mut runner = TestRunner::new(Config {
        cases: 24,
        ..Config::default()
    });
    let outcome = runner.run(&scenario(), |(parents, moves)| {
        case.set(case.get() + 1);
        let mut ids: Vec<String> = Vec::new();
        for (i, parent) in parents.iter().enumerate() {
            let mut body =
                json!({"schemas": [DEPARTMENT], "displayName": format!("c{}d{i}", case.get())});
            if let Some(p) = parent {
                body["parent"] = json!({"value": ids[*p]});
            }
            ids.push(store.create_department(write(body), &actor).unwrap().id);
        }
        let mut model: HashMap<usize, Option<usize>> =
            parents.iter().copied().enumerate().collect();
        let people: Vec<(String, usize)> = [0, SIZE / 2, SIZE - 1]
            .into_iter()
            .map(|d| {
                let body = json!({"schemas": [USER_SCHEMA, ORG],
                    "userName": format!("c{}u{d}", case.get()),
                    ORG: {"primaryDepartment": {"value": ids[d]}}});
                let user = store.create_user(write(body), &actor).unwrap();
                (user.id, d)
            })
            .collect();
        for (moved, parent) in moves {
            let cycle = parent.is_some_and(|p| within(&model, p, moved));
            let target = parent.map(|p| ids[p].clone());
            let rewrite = Box::new(move |current: &scimhub::store::StoredDepartment| {
                let mut attributes = current.attributes.clone();
                match &target {
                    Some(p) => attributes.insert("parent".into(), json!({"value": p})),
                    None => attributes.remove("parent"),
                };
                Ok(ResourceWrite {
                    attributes,
                    ..ResourceWrite::default()
                })
            });
            match store.replace_department(&ids[moved], rewrite, &actor, WriteOp::Patch) {
                Ok(_) => {
                    prop_assert!(!cycle, "moving {} under {:?} made a cycle", moved, parent);
                    model.insert(moved, parent);
                }
                Err(StoreError::Rejected(e)) => {
                    prop_assert!(cycle, "a legal move was refused: {}", e.detail);
                    prop_assert_eq!(e.status, 400);
                }
                Err(e) => return Err(TestCaseError::fail(e.to_string())),
            }
            check(store.as_ref(), &ids, &model, &people)?;
        }
        Ok(())
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_random_moves_keep_the_tree_whole() {
    random_moves_keep_the_tree_whole(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_random_moves_keep_the_tree_whole() {
    random_moves_keep_the_tree_whole(Backend::Postgres).await;
}
