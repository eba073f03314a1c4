//! The organization tree as nested nodes with head counts: what `scimhub
//! dept tree` prints and `GET /admin/v1/departments` answers.

use std::collections::HashMap;

use serde::Serialize;

use crate::store::StoredDepartment;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TreeNode {
    pub id: String,
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub ordering: i64,
    pub path: String,
    /// People whose primary department this is.
    pub people: u64,
    /// People in this department and every department under it.
    pub people_in_all: u64,
    pub children: Vec<TreeNode>,
}

/// Nests `departments` (a subtree, each after its parent) under their
/// parents; siblings sort by `ordering`, then name. The roots are the
/// departments whose parent is not in the list.
pub fn build(departments: &[StoredDepartment], heads: &HashMap<String, u64>) -> Vec<TreeNode> {
    let ids: std::collections::HashSet<&str> = departments.iter().map(|d| d.id.as_str()).collect();
    let mut children: HashMap<&str, Vec<&StoredDepartment>> = HashMap::new();
    let mut roots = Vec::new();
    for d in departments {
        match d.parent_id().filter(|p| ids.contains(p)) {
            Some(p) => children.entry(p).or_default().push(d),
            None => roots.push(d),
        }
    }
    let mut nodes: Vec<TreeNode> = roots
        .into_iter()
        .map(|r| node(r, &children, heads))
        .collect();
    sort(&mut nodes);
    nodes
}

fn node(
    d: &StoredDepartment,
    children: &HashMap<&str, Vec<&StoredDepartment>>,
    heads: &HashMap<String, u64>,
) -> TreeNode {
    let mut kids: Vec<TreeNode> = children
        .get(d.id.as_str())
        .map(|c| c.iter().map(|k| node(k, children, heads)).collect())
        .unwrap_or_default();
    sort(&mut kids);
    let people = heads.get(&d.id).copied().unwrap_or(0);
    TreeNode {
        id: d.id.clone(),
        display_name: d.display_name().to_string(),
        code: d
            .attributes
            .get("code")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string),
        ordering: d.ordering(),
        path: d.path().to_string(),
        people,
        people_in_all: people + kids.iter().map(|k| k.people_in_all).sum::<u64>(),
        children: kids,
    }
}

fn sort(nodes: &mut [TreeNode]) {
    nodes.sort_by(|a, b| {
        a.ordering
            .cmp(&b.ordering)
            .then_with(|| {
                a.display_name
                    .to_lowercase()
                    .cmp(&b.display_name.to_lowercase())
            })
            .then_with(|| a.id.cmp(&b.id))
    });
}

/// The tree as indented lines: `NAME [CODE]  N people (M in all)  ID`.
pub fn render(nodes: &[TreeNode]) -> String {
    let mut out = String::new();
    for n in nodes {
        line(n, 0, &mut out);
    }
    out
}

fn line(n: &TreeNode, depth: usize, out: &mut String) {
    let code = n
        .code
        .as_deref()
        .map(|c| format!(" [{c}]"))
        .unwrap_or_default();
    let people = match n.people {
        1 => "1 person".to_string(),
        p => format!("{p} people"),
    };
    out.push_str(&format!(
        "{}{}{code}  {people} ({} in all)  {}\n",
        "  ".repeat(depth),
        n.display_name,
        n.people_in_all,
        n.id
    ));
    for c in &n.children {
        line(c, depth + 1, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::render::ResourceMeta;
    use serde_json::{Value, json};

    fn dept(
        id: &str,
        name: &str,
        parent: Option<&str>,
        path: &str,
        ordering: i64,
    ) -> StoredDepartment {
        let mut attrs = json!({"displayName": name, "path": path, "ordering": ordering});
        if let Some(p) = parent {
            attrs["parent"] = json!({"value": p});
        }
        let Value::Object(attributes) = attrs else {
            unreachable!()
        };
        StoredDepartment {
            id: id.into(),
            attributes,
            meta: ResourceMeta {
                created: chrono::Utc::now(),
                last_modified: chrono::Utc::now(),
                version: 1,
            },
        }
    }

    #[test]
    fn nests_sorts_siblings_and_sums_people() {
        let all = vec![
            dept("r", "Acme", None, "/r/", 0),
            dept("b", "Sales", Some("r"), "/r/b/", 1),
            dept("a", "R&D", Some("r"), "/r/a/", 2),
            dept("c", "Platform", Some("a"), "/r/a/c/", 0),
        ];
        let heads = HashMap::from([
            ("r".to_string(), 1),
            ("c".to_string(), 4),
            ("b".to_string(), 2),
        ]);
        let tree = build(&all, &heads);
        assert_eq!(tree.len(), 1);
        assert_eq!(tree[0].people_in_all, 7);
        let names: Vec<&str> = tree[0]
            .children
            .iter()
            .map(|c| c.display_name.as_str())
            .collect();
        assert_eq!(names, ["Sales", "R&D"]);
        assert_eq!(
            render(&tree),
            "Acme  1 person (7 in all)  r\n  Sales  2 people (2 in all)  b\n  \
             R&D  0 people (4 in all)  a\n    Platform  4 people (4 in all)  c\n"
        );
        // A subtree's root is a root of its own tree.
        let sub = build(&all[2..], &heads);
        assert_eq!(sub[0].display_name, "R&D");
        assert_eq!(sub[0].children[0].display_name, "Platform");
    }
}
