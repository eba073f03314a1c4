//! Negated copies of a case, one per assertion, to prove that every
//! assertion is reached and can fail (a mutant that still passes means an
//! assertion the runner never really checks).

use serde_json::{Value, json};

use super::case::{Case, Expect};
use super::check::header_matcher;

fn not(v: &Value) -> Value {
    json!({ "$not": v })
}

/// Every single-assertion negation of `expect`, described.
fn negations_of(expect: &Expect) -> Vec<(String, Expect)> {
    let mut out = Vec::new();
    let mut push = |what: String, change: &dyn Fn(&mut Expect)| {
        let mut e = expect.clone();
        change(&mut e);
        out.push((what, e));
    };
    if let Some(s) = &expect.status {
        push("status".into(), &|e| e.status = Some(not(s)));
    }
    if let Some(t) = &expect.scim_type {
        push("scimType".into(), &|e| e.scim_type = Some(not(t)));
    }
    for (name, m) in &expect.headers {
        push(format!("header {name}"), &|e| {
            e.headers.insert(name.clone(), not(&header_matcher(m)));
        });
    }
    match &expect.body {
        Some(Value::Object(members)) => {
            for (key, m) in members {
                push(format!("body.{key}"), &|e| {
                    if let Some(Value::Object(b)) = &mut e.body {
                        b.insert(key.clone(), not(m));
                    }
                });
            }
        }
        Some(other) => push("body".into(), &|e| e.body = Some(not(other))),
        None => {}
    }
    for (p, m) in &expect.paths {
        push(format!("paths {p}"), &|e| {
            e.paths.insert(p.clone(), not(m));
        });
    }
    for (i, p) in expect.present.iter().enumerate() {
        push(format!("present {p}"), &|e| {
            e.absent.push(e.present.remove(i));
        });
    }
    for (i, p) in expect.absent.iter().enumerate() {
        push(format!("absent {p}"), &|e| {
            e.present.push(e.absent.remove(i));
        });
    }
    out
}

/// One mutant of `case` per assertion in its steps (not its cleanup).
pub fn negations(case: &Case) -> Vec<(String, Case)> {
    let mut out = Vec::new();
    for (i, step) in case.steps.iter().enumerate() {
        let Some(expect) = &step.expect else { continue };
        for (what, mutated) in negations_of(expect) {
            let mut mutant = case.clone();
            mutant.steps[i].expect = Some(mutated);
            out.push((format!("step {} {what}", i + 1), mutant));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::catalog::parse;

    #[test]
    fn one_mutant_per_assertion() {
        let case = parse(
            "t.yaml",
            "name: n\nsteps:\n  - method: GET\n    path: /Users\n    expect:\n      \
             status: 200\n      headers: {etag: present}\n      body: {a: 1, b: 2}\n      \
             paths: {c: 3}\n      present: [d]\n      absent: [e]\n",
        )
        .unwrap();
        let mutants = negations(&case);
        let names: Vec<&str> = mutants.iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(
            names,
            [
                "step 1 status",
                "step 1 header etag",
                "step 1 body.a",
                "step 1 body.b",
                "step 1 paths c",
                "step 1 present d",
                "step 1 absent e"
            ]
        );
        let e = mutants[5].1.steps[0].expect.clone().unwrap();
        assert!(e.present.is_empty() && e.absent == ["e", "d"]);
    }
}
