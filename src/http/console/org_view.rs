//! The organization tree as a page shows it: rows of a few levels with
//! their head counts (deeper parts open on their own page), and a
//! department's path as links.

use super::page::segment;
use super::people::{Link, names};
use crate::error::AppError;
use crate::http::AppState;
use crate::scim::ResourceKind;
use crate::service::departments::TreeNode;

/// Levels of the tree listed on one page; a department deeper down is
/// reached through the link of its ancestor on the last level shown.
pub const LEVELS: usize = 2;
/// Departments listed on one page at most.
pub const LISTED: usize = 500;

pub fn department_href(id: &str) -> String {
    format!("/console/departments/{}", segment(id))
}

/// One department in a listed tree.
pub struct TreeRow {
    pub id: String,
    pub href: String,
    pub name: String,
    pub code: String,
    /// 0 for the first level listed.
    pub depth: usize,
    pub people: u64,
    pub people_in_all: u64,
    /// Departments under it that this page does not list.
    pub hidden: usize,
}

/// The listed rows and how many departments of the listed levels did not
/// fit on the page.
pub struct Listed {
    pub rows: Vec<TreeRow>,
    pub not_listed: usize,
}

/// How many departments are under `node` (not counting it).
pub fn descendants(node: &TreeNode) -> usize {
    node.children.iter().map(|c| 1 + descendants(c)).sum()
}

/// The first `LEVELS` levels of `nodes`, in tree order, at most `LISTED`.
pub fn list(nodes: &[TreeNode]) -> Listed {
    let mut out = Listed {
        rows: Vec::new(),
        not_listed: 0,
    };
    for n in nodes {
        walk(n, 0, &mut out);
    }
    out
}

fn walk(n: &TreeNode, depth: usize, out: &mut Listed) {
    if out.rows.len() >= LISTED {
        out.not_listed += 1;
    } else {
        let last_level = depth + 1 >= LEVELS;
        out.rows.push(TreeRow {
            id: n.id.clone(),
            href: department_href(&n.id),
            name: n.display_name.clone(),
            code: n.code.clone().unwrap_or_default(),
            depth,
            people: n.people,
            people_in_all: n.people_in_all,
            hidden: if last_level { descendants(n) } else { 0 },
        });
    }
    if depth + 1 < LEVELS {
        for c in &n.children {
            walk(c, depth + 1, out);
        }
    }
}

/// The node `id` in a tree, when it is there.
pub fn find<'a>(nodes: &'a [TreeNode], id: &str) -> Option<&'a TreeNode> {
    nodes.iter().find_map(|n| {
        if n.id == id {
            Some(n)
        } else {
            find(&n.children, id)
        }
    })
}

/// The ids of a path `/rootId/…/id/`, root first.
pub fn path_ids(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A department path as links, root first (an id whose department is
/// gone is shown as the id, without a link).
pub async fn crumbs(state: &AppState, path: &str) -> Result<Vec<Link>, AppError> {
    let ids = path_ids(path);
    let known = names(state, ResourceKind::Department, ids.clone()).await?;
    Ok(ids
        .into_iter()
        .map(|id| match known.get(&id) {
            Some(name) => Link {
                href: department_href(&id),
                name: name.clone(),
                note: String::new(),
            },
            None => Link {
                href: String::new(),
                name: id,
                note: String::new(),
            },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, people: u64, children: Vec<TreeNode>) -> TreeNode {
        let people_in_all = people + children.iter().map(|c| c.people_in_all).sum::<u64>();
        TreeNode {
            id: id.into(),
            display_name: id.to_uppercase(),
            code: None,
            ordering: 0,
            path: String::new(),
            people,
            people_in_all,
            children,
        }
    }

    #[test]
    fn two_levels_are_listed_and_deeper_ones_are_counted() {
        let tree = vec![
            node(
                "r",
                1,
                vec![
                    node("a", 0, vec![node("a1", 2, vec![node("a11", 1, vec![])])]),
                    node("b", 3, vec![]),
                ],
            ),
            node("s", 0, vec![]),
        ];
        let listed = list(&tree);
        let shown: Vec<(&str, usize, usize)> = listed
            .rows
            .iter()
            .map(|r| (r.id.as_str(), r.depth, r.hidden))
            .collect();
        assert_eq!(shown, [("r", 0, 0), ("a", 1, 2), ("b", 1, 0), ("s", 0, 0)]);
        assert_eq!(listed.rows[0].people_in_all, 7);
        assert_eq!(listed.not_listed, 0);
        assert_eq!(find(&tree, "a11").map(|n| n.people), Some(1));
        assert!(find(&tree, "zz").is_none());
    }

    #[test]
    fn a_wide_tree_stops_at_the_page_size() {
        let kids = (0..LISTED + 10)
            .map(|i| node(&format!("k{i}"), 0, vec![]))
            .collect();
        let listed = list(&[node("r", 0, kids)]);
        assert_eq!(listed.rows.len(), LISTED);
        assert_eq!(listed.not_listed, 11);
    }

    #[test]
    fn paths_split_into_ids_root_first() {
        assert_eq!(path_ids("/a/b/c/"), ["a", "b", "c"]);
        assert!(path_ids("").is_empty());
        assert_eq!(department_href("a/.."), "/console/departments/a%2F%2E%2E");
    }
}
