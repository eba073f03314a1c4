use std::collections::HashSet;

use serde_json::{Value, json};

use super::*;

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn user(id: &str, user_name: &str) -> Source {
    Source {
        local_id: id.into(),
        resource: json!({"userName": user_name, "active": true}),
        members: vec![],
    }
}

fn managed(id: &str, manager: &str) -> Source {
    Source {
        local_id: id.into(),
        resource: json!({"userName": id, ENT: {"manager": {"value": manager}}}),
        members: vec![],
    }
}

fn remote(id: &str, resource: Value) -> Remote {
    Remote {
        id: id.into(),
        resource,
    }
}

fn link(local: &str, remote: &str) -> Link {
    Link {
        local_id: local.into(),
        remote_id: remote.into(),
        hash: "h".into(),
    }
}

#[derive(Default)]
struct Case {
    users: Vec<Source>,
    groups: Vec<Source>,
    remote_users: Vec<Remote>,
    remote_groups: Vec<Remote>,
    user_links: Vec<Link>,
    group_links: Vec<Link>,
    departments: Vec<Source>,
    department_links: Vec<Link>,
    remote_department_groups: Vec<Remote>,
    all: Vec<&'static str>,
    opts: PlanOptions,
}

impl Case {
    fn run(&self) -> Plan {
        let all: HashSet<&str> = self
            .all
            .iter()
            .copied()
            .chain(self.users.iter().map(|s| s.local_id.as_str()))
            .chain(self.groups.iter().map(|s| s.local_id.as_str()))
            .chain(self.departments.iter().map(|s| s.local_id.as_str()))
            .collect();
        plan(
            PlanInput {
                users: &self.users,
                groups: &self.groups,
                remote_users: &self.remote_users,
                remote_groups: &self.remote_groups,
                user_links: &self.user_links,
                group_links: &self.group_links,
                departments: &self.departments,
                department_links: &self.department_links,
                remote_department_groups: &self.remote_department_groups,
            },
            &all,
            &self.opts,
        )
    }
}

fn kinds(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .map(|a| {
            let k = match a {
                Action::Create { .. } => "create",
                Action::Update { .. } => "update",
                Action::NoOp { .. } => "noop",
                Action::Deprovision { .. } => "deprovision",
                Action::Unlink { .. } => "unlink",
                Action::Skip { .. } => "skip",
            };
            format!("{k}:{}", a.local_id())
        })
        .collect()
}

#[test]
fn four_way_diff_creates_updates_only_what_differs_and_leaves_the_rest() {
    let p = Case {
        users: vec![user("a", "ann"), user("b", "bob"), user("c", "cy")],
        remote_users: vec![
            remote(
                "rb",
                json!({"id": "rb", "userName": "bob", "active": true, "meta": {}}),
            ),
            remote("rc", json!({"id": "rc", "userName": "cy", "active": false})),
        ],
        user_links: vec![link("b", "rb"), link("c", "rc")],
        ..Case::default()
    }
    .run();
    assert_eq!(kinds(&p.users), ["create:a", "noop:b", "update:c"]);
    match &p.users[2] {
        Action::Update { changed, .. } => assert_eq!(
            changed,
            &[AttributeChange {
                attribute: "active".into(),
                before: json!(false),
                after: json!(true),
            }]
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(p.status, PlanStatus::Ready);
    assert_eq!(
        (p.counts.create, p.counts.update, p.counts.no_op),
        (1, 1, 1)
    );
}

#[test]
fn existing_accounts_are_linked_by_user_name_ignoring_case() {
    let p = Case {
        users: vec![user("a", "Ann@Example.com")],
        remote_users: vec![remote(
            "r1",
            json!({"userName": "ann@example.COM", "active": true}),
        )],
        ..Case::default()
    }
    .run();
    assert_eq!(
        p.users,
        vec![Action::NoOp {
            local_id: "a".into(),
            remote_id: "r1".into(),
            hash: compare::state_hash(&json!({"userName": "Ann@Example.com", "active": true})),
            newly_linked: true,
        }]
    );
    assert_eq!(p.counts.linked, 1);
}

#[test]
fn matching_by_external_id_is_exact_and_by_work_email_reads_the_value_path() {
    let mut src = user("a", "ann");
    src.resource["externalId"] = json!("E1");
    src.resource["emails"] = json!([{"type": "work", "value": "ann@x"}]);
    let remotes = vec![
        remote("r1", json!({"userName": "other", "externalId": "e1"})),
        remote("r2", json!({"userName": "other2", "externalId": "E1"})),
        remote(
            "r3",
            json!({"userName": "x", "emails": [{"type": "home", "value": "ann@x"}]}),
        ),
        remote(
            "r4",
            json!({"userName": "y", "emails": [{"type": "work", "value": "ANN@x"}]}),
        ),
    ];
    let by = |key: &str| {
        let opts = PlanOptions {
            user_match: MatchKey::parse(key).unwrap(),
            ..PlanOptions::default()
        };
        let p = Case {
            users: vec![src.clone()],
            remote_users: remotes.clone(),
            opts,
            ..Case::default()
        }
        .run();
        match &p.users[0] {
            Action::Update { remote_id, .. } | Action::NoOp { remote_id, .. } => remote_id.clone(),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(by("externalId"), "r2");
    assert_eq!(by(r#"emails[type eq "work"].value"#), "r4");
}

#[test]
fn ambiguous_or_already_claimed_matches_are_skipped_not_guessed() {
    let p = Case {
        users: vec![user("a", "ann"), user("b", "bob"), user("b2", "BOB")],
        remote_users: vec![
            remote("r1", json!({"userName": "ann"})),
            remote("r2", json!({"userName": "Ann"})),
            remote("r3", json!({"userName": "bob"})),
        ],
        ..Case::default()
    }
    .run();
    assert_eq!(kinds(&p.users), ["skip:a", "update:b", "skip:b2"]);
}

#[test]
fn a_linked_account_deleted_downstream_is_created_again() {
    let p = Case {
        users: vec![user("a", "ann")],
        user_links: vec![link("a", "gone")],
        ..Case::default()
    }
    .run();
    assert_eq!(kinds(&p.users), ["create:a"]);
}

#[test]
fn deprovision_deleted_and_out_of_scope_but_not_unmanaged() {
    let p = Case {
        users: vec![],
        all: vec!["scoped-out"],
        remote_users: vec![
            remote("r1", json!({"userName": "x", "active": true})),
            remote("r2", json!({"userName": "y", "active": true})),
            remote("r3", json!({"userName": "z", "active": false})),
            remote("unmanaged", json!({"userName": "w", "active": true})),
        ],
        user_links: vec![
            link("deleted", "r1"),
            link("scoped-out", "r2"),
            link("already-off", "r3"),
            link("both-gone", "r9"),
        ],
        ..Case::default()
    }
    .run();
    assert_eq!(
        kinds(&p.users),
        [
            "deprovision:deleted",
            "deprovision:scoped-out",
            "noop:already-off",
            "unlink:both-gone"
        ]
    );
    assert!(matches!(
        p.users[0],
        Action::Deprovision {
            reason: DeprovisionReason::Gone,
            mode: DeprovisionMode::Deactivate,
            ..
        }
    ));
    assert!(matches!(
        p.users[1],
        Action::Deprovision {
            reason: DeprovisionReason::OutOfScope,
            ..
        }
    ));
}

#[test]
fn delete_mode_deletes_and_groups_are_always_deleted() {
    let opts = PlanOptions {
        deprovision: DeprovisionMode::Delete,
        ..PlanOptions::default()
    };
    let p = Case {
        remote_users: vec![remote("r3", json!({"userName": "z", "active": false}))],
        user_links: vec![link("u", "r3")],
        remote_groups: vec![remote("rg", json!({"displayName": "G"}))],
        group_links: vec![link("g", "rg")],
        opts,
        ..Case::default()
    }
    .run();
    assert!(matches!(
        p.users[0],
        Action::Deprovision {
            mode: DeprovisionMode::Delete,
            ..
        }
    ));
    assert!(matches!(
        p.groups[0],
        Action::Deprovision {
            mode: DeprovisionMode::Delete,
            ..
        }
    ));
    let p = Case {
        remote_groups: vec![remote("rg", json!({"displayName": "G"}))],
        group_links: vec![link("g", "rg")],
        ..Case::default()
    }
    .run();
    assert!(matches!(
        p.groups[0],
        Action::Deprovision {
            mode: DeprovisionMode::Delete,
            ..
        }
    ));
}

#[test]
fn managers_come_first_and_unknown_ones_are_set_in_a_second_pass() {
    let p = Case {
        users: vec![
            managed("c", "b"),
            managed("b", "a"),
            user("a", "a"),
            managed("d", "linked-boss"),
        ],
        remote_users: vec![remote("rboss", json!({"userName": "linked-boss"}))],
        user_links: vec![link("linked-boss", "rboss")],
        all: vec![],
        ..Case::default()
    }
    .run();
    // linked-boss is linked but not in scope: deprovisioned, yet still on the target.
    let order: Vec<&str> = p.users.iter().map(Action::local_id).collect();
    // a and d have no manager in scope (depth 0), then b, then c.
    assert_eq!(order, ["a", "d", "b", "c", "linked-boss"]);
    assert_eq!(
        p.managers,
        vec![
            ManagerUpdate {
                local_id: "b".into(),
                manager_local_id: "a".into()
            },
            ManagerUpdate {
                local_id: "c".into(),
                manager_local_id: "b".into()
            },
        ]
    );
    match &p.users[1] {
        Action::Create { resource, .. } => {
            assert_eq!(resource[ENT]["manager"], json!({"value": "rboss"}))
        }
        other => panic!("{other:?}"),
    }
    match &p.users[2] {
        Action::Create { resource, .. } => {
            assert_eq!(
                resource,
                &json!({"userName": "b"}),
                "created without manager"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn missing_and_cyclic_managers_warn_but_plan_everyone() {
    let p = Case {
        users: vec![managed("x", "y"), managed("y", "x"), managed("z", "nobody")],
        ..Case::default()
    }
    .run();
    assert_eq!(p.counts.create, 3);
    assert_eq!(p.managers.len(), 2);
    assert!(
        p.warnings.iter().any(|w| w.starts_with("manager cycle")),
        "{:?}",
        p.warnings
    );
    assert!(
        p.warnings
            .iter()
            .any(|w| w == "user z: manager nobody is not provisioned to this target; left unset")
    );
}

#[test]
fn the_deletion_guard_holds_a_mass_deprovision_for_approval() {
    let links: Vec<Link> = (0..50)
        .map(|i| link(&format!("u{i}"), &format!("r{i}")))
        .collect();
    let remotes: Vec<Remote> = (0..50)
        .map(|i| {
            remote(
                &format!("r{i}"),
                json!({"userName": format!("u{i}"), "active": true}),
            )
        })
        .collect();
    let in_scope = |n: usize| -> Vec<Source> {
        (0..n)
            .map(|i| user(&format!("u{i}"), &format!("u{i}")))
            .collect()
    };
    let run = |n| {
        Case {
            users: in_scope(n),
            remote_users: remotes.clone(),
            user_links: links.clone(),
            ..Case::default()
        }
        .run()
    };
    let p = run(40); // 10 of 50 = 20%: not more than 20%
    assert_eq!((p.counts.deprovision, p.status), (10, PlanStatus::Ready));
    let p = run(39); // 11 of 50
    assert_eq!(
        (p.counts.deprovision, p.status),
        (11, PlanStatus::AwaitingApproval)
    );
    assert_eq!(p.deprovisions().count(), 11);
}

#[test]
fn group_members_are_diffed_against_the_target_and_batched() {
    let opts = PlanOptions {
        max_member_ops: 2,
        ..PlanOptions::default()
    };
    let group = Source {
        local_id: "g".into(),
        resource: json!({"displayName": "Eng"}),
        members: vec!["a".into(), "b".into(), "new".into(), "outsider".into()],
    };
    let p = Case {
        users: vec![user("a", "a"), user("b", "b"), user("new", "new")],
        groups: vec![group],
        remote_users: vec![
            remote("ra", json!({"userName": "a", "active": true})),
            remote("rb", json!({"userName": "b", "active": true})),
        ],
        user_links: vec![link("a", "ra"), link("b", "rb")],
        remote_groups: vec![remote(
            "rg",
            json!({"displayName": "eng", "members": [{"value": "rb"}, {"value": "stale"}]}),
        )],
        opts,
        ..Case::default()
    }
    .run();
    // Linked by displayName ignoring case; a case-only difference is no change.
    assert_eq!(kinds(&p.groups), ["noop:g"]);
    assert_eq!(
        p.members,
        vec![
            MemberPatch {
                group_local_id: "g".into(),
                add: vec!["a".into()],
                remove: vec!["stale".into()]
            },
            MemberPatch {
                group_local_id: "g".into(),
                add: vec!["new".into()],
                remove: vec![]
            },
        ]
    );
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("1 member(s) not provisioned"))
    );
}

fn department(id: &str, name: &str, members: &[&str]) -> Source {
    Source {
        local_id: id.into(),
        resource: json!({"displayName": name, "externalId": id}),
        members: members.iter().map(|m| m.to_string()).collect(),
    }
}

#[test]
fn department_groups_come_top_down_holding_their_people_and_sub_departments() {
    let p = Case {
        users: vec![user("u1", "ann"), user("u2", "bob")],
        departments: vec![
            department("rd", "R&D", &["u1", "plat"]),
            department("plat", "Platform", &["u2"]),
        ],
        ..Case::default()
    }
    .run();
    assert_eq!(kinds(&p.departments), ["create:rd", "create:plat"]);
    assert_eq!(
        p.department_members,
        vec![
            MemberPatch {
                group_local_id: "rd".into(),
                add: vec!["u1".into(), "plat".into()],
                remove: vec![]
            },
            MemberPatch {
                group_local_id: "plat".into(),
                add: vec!["u2".into()],
                remove: vec![]
            },
        ]
    );
    assert!(p.department_removals.is_empty() && p.members.is_empty());
    assert_eq!(p.counts.create, 4, "two people and two department groups");
    let listed: Vec<(ResourceKind, &str)> = p.actions().map(|(k, a)| (k, a.local_id())).collect();
    assert_eq!(
        listed,
        [
            (ResourceKind::User, "u1"),
            (ResourceKind::User, "u2"),
            (ResourceKind::Department, "rd"),
            (ResourceKind::Department, "plat"),
        ]
    );
}

#[test]
fn department_groups_are_found_by_their_key_never_by_a_regular_groups_name() {
    let p = Case {
        users: vec![user("u1", "ann")],
        user_links: vec![link("u1", "ru1")],
        remote_users: vec![remote("ru1", json!({"userName": "ann", "active": true}))],
        departments: vec![department("sales", "Sales", &["u1"])],
        // A regular group named like the department, and the department's own.
        remote_department_groups: vec![
            remote("rg", json!({"displayName": "Sales"})),
            remote(
                "rd",
                json!({"displayName": "Sales", "externalId": "sales",
                       "members": [{"value": "ru1"}, {"value": "stranger"}]}),
            ),
        ],
        remote_groups: vec![
            remote("rg", json!({"displayName": "Sales"})),
            remote("rd", json!({"displayName": "Sales", "externalId": "sales"})),
        ],
        ..Case::default()
    }
    .run();
    match &p.departments[..] {
        [
            Action::NoOp {
                remote_id,
                newly_linked: true,
                ..
            },
        ] => assert_eq!(remote_id, "rd"),
        other => panic!("expected the department's own group adopted: {other:?}"),
    }
    assert_eq!(
        p.department_members,
        vec![MemberPatch {
            group_local_id: "sales".into(),
            add: vec![],
            remove: vec!["stranger".into()]
        }],
        "exactly its people"
    );
    let orphans: Vec<&str> = p.orphans.iter().map(|o| o.remote_id.as_str()).collect();
    assert_eq!(
        orphans,
        ["rg"],
        "the regular group is the group side's orphan; the department's group is not"
    );
}

#[test]
fn department_groups_go_bottom_up_and_count_for_the_deletion_guard() {
    // Three departments gone here: top holds mid, mid holds leaf on the target.
    let remotes = vec![
        remote(
            "r-top",
            json!({"displayName": "Top", "members": [{"value": "r-mid"}]}),
        ),
        remote(
            "r-mid",
            json!({"displayName": "Mid", "members": [{"value": "r-leaf"}]}),
        ),
        remote("r-leaf", json!({"displayName": "Leaf"})),
    ];
    let p = Case {
        remote_department_groups: remotes.clone(),
        department_links: vec![
            link("top", "r-top"),
            link("mid", "r-mid"),
            link("leaf", "r-leaf"),
        ],
        ..Case::default()
    }
    .run();
    assert_eq!(
        kinds(&p.department_removals),
        ["deprovision:leaf", "deprovision:mid", "deprovision:top"]
    );
    assert!(p.department_removals.iter().all(|a| matches!(
        a,
        Action::Deprovision {
            mode: DeprovisionMode::Delete,
            reason: DeprovisionReason::Gone,
            ..
        }
    )));
    assert_eq!(p.deprovisions().count(), 3);
    assert_eq!(
        p.status,
        PlanStatus::Ready,
        "3 of 3 is under the minimum of 10"
    );
    // Twelve department groups of twelve linked: the guard holds the run.
    let many: Vec<(String, String)> = (0..12)
        .map(|i| (format!("d{i}"), format!("r{i}")))
        .collect();
    let p = Case {
        remote_department_groups: many
            .iter()
            .map(|(_, r)| remote(r, json!({"displayName": r})))
            .collect(),
        department_links: many.iter().map(|(l, r)| link(l, r)).collect(),
        ..Case::default()
    }
    .run();
    assert_eq!(p.counts.deprovision, 12);
    assert_eq!(p.status, PlanStatus::AwaitingApproval);
}
