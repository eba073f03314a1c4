//! Where a SQL target keeps its people (and optionally groups and
//! memberships): table and column names, checked to be plain identifiers
//! before any statement is built from them.

use serde::{Deserialize, Serialize};

/// One table of accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSettings {
    pub table: String,
    /// The key column: the account's id on the target (unique). A mapping
    /// that sets it chooses the key; otherwise a UUID is generated.
    #[serde(default = "default_id_column")]
    pub id_column: String,
    /// Set to false to deactivate an account (`deprovision = deactivate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_column: Option<String>,
    /// Soft delete: set to the current time instead of deleting the row;
    /// rows where it is set count as gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_column: Option<String>,
    /// Holds the manager's id (users only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager_column: Option<String>,
}

/// A membership table: one row per (group, member).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembershipSettings {
    pub table: String,
    pub group_column: String,
    pub member_column: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlSettings {
    pub users: TableSettings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<TableSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memberships: Option<MembershipSettings>,
}

fn default_id_column() -> String {
    "id".into()
}

/// A table or column name: letters, digits and `_`, not starting with a
/// digit, optionally `schema.name`. Nothing else ever reaches a statement.
pub fn check_identifier(what: &str, name: &str) -> Result<(), String> {
    let part_ok = |p: &str| {
        !p.is_empty()
            && p.len() <= 63
            && !p.starts_with(|c: char| c.is_ascii_digit())
            && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() > 2 || !parts.iter().all(|p| part_ok(p)) {
        return Err(format!(
            "{what} {name:?} is not a plain SQL name (letters, digits and _, optionally schema.name)"
        ));
    }
    Ok(())
}

impl TableSettings {
    fn check(&self, what: &str) -> Result<(), String> {
        check_identifier(&format!("sql.{what}.table"), &self.table)?;
        let columns = [
            ("id_column", Some(&self.id_column)),
            ("active_column", self.active_column.as_ref()),
            ("deleted_column", self.deleted_column.as_ref()),
            ("manager_column", self.manager_column.as_ref()),
        ];
        for (key, column) in columns {
            if let Some(column) = column {
                check_identifier(&format!("sql.{what}.{key}"), column)?;
                if column.contains('.') {
                    return Err(format!("sql.{what}.{key} names a column, not {column:?}"));
                }
            }
        }
        Ok(())
    }
}

impl SqlSettings {
    /// Every name checked; memberships need a groups table.
    pub fn check(&self) -> Result<(), String> {
        self.users.check("users")?;
        if let Some(groups) = &self.groups {
            groups.check("groups")?;
        }
        match (&self.groups, &self.memberships) {
            (None, Some(_)) => {
                return Err("sql.memberships needs sql.groups (the groups table)".into());
            }
            (Some(_), None) => {
                return Err("sql.groups needs sql.memberships (who is in which group)".into());
            }
            _ => {}
        }
        if let Some(m) = &self.memberships {
            check_identifier("sql.memberships.table", &m.table)?;
            check_identifier("sql.memberships.group_column", &m.group_column)?;
            check_identifier("sql.memberships.member_column", &m.member_column)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str) -> TableSettings {
        TableSettings {
            table: name.into(),
            id_column: "id".into(),
            active_column: None,
            deleted_column: None,
            manager_column: None,
        }
    }

    #[test]
    fn only_plain_names_reach_a_statement() {
        for good in ["people", "hr.people", "_x1"] {
            assert!(check_identifier("t", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1x",
            "people; drop table x",
            "a.b.c",
            "p\"x",
            "na me",
            "x-y",
        ] {
            assert!(check_identifier("t", bad).is_err(), "{bad}");
        }
        let mut s = SqlSettings {
            users: table("people"),
            groups: None,
            memberships: None,
        };
        assert!(s.check().is_ok());
        s.users.active_column = Some("on off".into());
        assert!(s.check().unwrap_err().contains("sql.users.active_column"));
    }

    #[test]
    fn groups_and_memberships_come_together() {
        let s = SqlSettings {
            users: table("people"),
            groups: Some(table("teams")),
            memberships: None,
        };
        assert!(s.check().unwrap_err().contains("sql.memberships"));
    }
}
