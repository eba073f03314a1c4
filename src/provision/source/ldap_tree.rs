//! Where LDAP entries sit in the organization tree: the departments are the
//! entries under a base that a filter picks (organizational units), and an
//! entry's department — or a department's parent — is the nearest of them
//! above it.

use std::collections::HashSet;

use super::ldap::normalize_dn;

/// The DN one level up (`ou=b,dc=x` of `uid=a,ou=b,dc=x`); None for a
/// single RDN. Escaped commas (`\,`) stay inside their RDN.
pub fn parent_dn(dn: &str) -> Option<&str> {
    let mut escaped = false;
    for (i, c) in dn.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            ',' => return Some(dn[i + 1..].trim_start()),
            _ => {}
        }
    }
    None
}

/// The departments of one read, by normalized DN.
#[derive(Debug, Clone)]
pub struct Places {
    base: String,
    departments: HashSet<String>,
}

impl Places {
    pub fn new(base: &str) -> Self {
        Self {
            base: normalize_dn(base),
            departments: HashSet::new(),
        }
    }

    /// Whether `dn` is the base itself (which is never a department).
    pub fn is_base(&self, dn: &str) -> bool {
        normalize_dn(dn) == self.base
    }

    pub fn add(&mut self, dn: &str) {
        if !self.is_base(dn) {
            self.departments.insert(normalize_dn(dn));
        }
    }

    /// The nearest department strictly above `dn` and below the base
    /// (normalized); None when there is none.
    pub fn above(&self, dn: &str) -> Option<String> {
        let under = format!(",{}", self.base);
        let mut at = parent_dn(dn);
        while let Some(dn) = at {
            let normal = normalize_dn(dn);
            if !normal.ends_with(&under) {
                return None;
            }
            if self.departments.contains(&normal) {
                return Some(normal);
            }
            at = parent_dn(dn);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_skip_escaped_commas() {
        assert_eq!(parent_dn("uid=a,ou=b,dc=x"), Some("ou=b,dc=x"));
        assert_eq!(parent_dn(r"cn=Lee\, Ann, ou=b"), Some("ou=b"));
        assert_eq!(parent_dn("dc=x"), None);
    }

    #[test]
    fn the_nearest_department_above_within_the_base() {
        let mut places = Places::new("DC=example,dc=org");
        places.add("dc=example,dc=org");
        places.add("ou=d1,dc=example,dc=org");
        places.add("ou=d2, ou=d1,dc=example,dc=org");
        assert!(places.is_base("dc=example, dc=org"));
        // Not a department: ou=people sits between.
        assert_eq!(
            places.above("uid=e1,ou=people,ou=d2,ou=d1,dc=example,dc=org"),
            Some("ou=d2,ou=d1,dc=example,dc=org".into())
        );
        assert_eq!(
            places.above("ou=d2,ou=d1,dc=example,dc=org"),
            Some("ou=d1,dc=example,dc=org".into())
        );
        assert_eq!(places.above("ou=d1,dc=example,dc=org"), None);
        assert_eq!(places.above("uid=e2,ou=other,dc=elsewhere"), None);
    }
}
