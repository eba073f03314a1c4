//! `scimhub dept tree|add|show|update|move|remove`: the organization tree,
//! over the same service (and change log and audit trail) as `/Departments`
//! and the admin API.

use clap::{ArgGroup, Subcommand};
use serde_json::{Map, Value, json};

use super::DatabaseArg;
use super::door::Door;
use crate::config::Config;
use crate::service::departments::render_tree;
use crate::store::{RemoveMode, StoredDepartment};

#[derive(Debug, Subcommand)]
pub(super) enum DeptCommand {
    /// Print the tree (or the subtree under ROOT), indented, with the
    /// people of each department and of everything under it.
    #[command(after_help = "Examples:\n  \
        scimhub dept tree\n  \
        scimhub dept tree 6f1c…  --json")]
    Tree {
        /// Only this department and what is under it.
        root: Option<String>,
        /// Print the nested tree as JSON, as `GET /admin/v1/departments` answers.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Add a department (a root unless --parent is given).
    #[command(after_help = "Examples:\n  \
        scimhub dept add --name Acme\n  \
        scimhub dept add --name R&D --parent 6f1c… --code RD-100")]
    Add {
        /// Its name (unique among its siblings, ignoring case).
        #[arg(long)]
        name: String,
        /// The id of the department it sits under.
        #[arg(long, value_name = "ID")]
        parent: Option<String>,
        #[command(flatten)]
        fields: Fields,
        /// Print the department as JSON (its SCIM representation).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Show one department.
    Show {
        /// The department's id.
        id: String,
        /// Print the department as JSON (its SCIM representation).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Change a department's name, code, external id or ordering.
    #[command(after_help = "Example:\n  scimhub dept update 6f1c… --name Research --ordering 2")]
    Update {
        /// The department's id.
        id: String,
        /// Its new name.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        fields: Fields,
        /// Print the department as JSON (its SCIM representation).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Move a department, with everything under it, under another one (or
    /// make it a root).
    #[command(
        group(ArgGroup::new("place").required(true).args(["parent", "root"])),
        after_help = "Examples:\n  \
            scimhub dept move 6f1c… --parent 90ab…\n  \
            scimhub dept move 6f1c… --root"
    )]
    Move {
        /// The department's id.
        id: String,
        /// The department to move it under.
        #[arg(long, value_name = "ID")]
        parent: Option<String>,
        /// Make it a root department.
        #[arg(long)]
        root: bool,
        /// Print the department as JSON (its SCIM representation).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Remove a department. One with sub-departments or people is refused
    /// unless --cascade (everything under it goes; people stay, without
    /// those departments) or --move-to ID (they move there first).
    #[command(after_help = "Examples:\n  \
        scimhub dept remove 6f1c…\n  \
        scimhub dept remove 6f1c… --move-to 90ab…\n  \
        scimhub dept remove 6f1c… --cascade")]
    Remove {
        /// The department's id.
        id: String,
        /// Remove everything under it too.
        #[arg(long, conflicts_with = "move_to")]
        cascade: bool,
        /// Move its sub-departments and people to this department first.
        #[arg(long, value_name = "ID")]
        move_to: Option<String>,
        /// Print what was removed and changed as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
}

/// The optional fields `add` and `update` share.
#[derive(Debug, Clone, clap::Args)]
pub(super) struct Fields {
    /// The organization's own code for it (unique).
    #[arg(long)]
    code: Option<String>,
    /// The identifier a source system knows it by.
    #[arg(long, value_name = "ID")]
    external_id: Option<String>,
    /// Where it sorts among its siblings (lower first).
    #[arg(long, allow_hyphen_values = true)]
    ordering: Option<i64>,
}

impl Fields {
    fn into_map(self, name: Option<String>) -> Map<String, Value> {
        let mut out = Map::new();
        let named = [
            ("displayName", name.map(Value::String)),
            ("code", self.code.map(Value::String)),
            ("externalId", self.external_id.map(Value::String)),
            ("ordering", self.ordering.map(Value::from)),
        ];
        for (key, value) in named {
            if let Some(v) = value {
                out.insert(key.to_string(), v);
            }
        }
        out
    }
}

impl DeptCommand {
    pub(super) fn db(&self) -> &DatabaseArg {
        match self {
            DeptCommand::Tree { db, .. }
            | DeptCommand::Add { db, .. }
            | DeptCommand::Show { db, .. }
            | DeptCommand::Update { db, .. }
            | DeptCommand::Move { db, .. }
            | DeptCommand::Remove { db, .. } => db,
        }
    }
}

fn print(d: &StoredDepartment, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(&d.to_scim(""))?);
        return Ok(());
    }
    println!("{} ({})", d.display_name(), d.id);
    println!("  path:    {}", d.path());
    match d.attributes.get("parent") {
        Some(p) => println!(
            "  parent:  {} ({})",
            p["display"].as_str().unwrap_or_default(),
            p["value"].as_str().unwrap_or_default()
        ),
        None => println!("  parent:  none (a root)"),
    }
    for (label, key) in [("code", "code"), ("external", "externalId")] {
        if let Some(v) = d.attributes.get(key).and_then(Value::as_str) {
            println!("  {label:<8} {v}");
        }
    }
    println!("  ordering: {}", d.ordering());
    println!("  version: {}", d.meta.version);
    Ok(())
}

pub(super) fn run(cmd: &DeptCommand, config: &Config) -> anyhow::Result<()> {
    let door = Door::open(config)?;
    let (departments, actor) = (&door.services.departments, &door.actor);
    match cmd {
        DeptCommand::Tree { root, json, .. } => {
            let tree = door.block_on(departments.tree(root.clone()))?;
            if *json {
                let tree = json!({ "departments": tree });
                println!("{}", serde_json::to_string_pretty(&tree)?);
            } else if tree.is_empty() {
                println!("No departments yet: add one with `scimhub dept add --name NAME`.");
            } else {
                print!("{}", render_tree(&tree));
            }
        }
        DeptCommand::Add {
            name,
            parent,
            fields,
            json,
            ..
        } => {
            let mut fields = fields.clone().into_map(Some(name.clone()));
            if let Some(p) = parent {
                fields.insert("parent".into(), Value::String(p.clone()));
            }
            let d = door.block_on(departments.add(actor, fields))?;
            if !json {
                print!("Added: ");
            }
            print(&d, *json)?;
        }
        DeptCommand::Show { id, json, .. } => {
            let d = door.block_on(departments.get(id, true))?;
            print(&d, *json)?;
        }
        DeptCommand::Update {
            id,
            name,
            fields,
            json,
            ..
        } => {
            let fields = fields.clone().into_map(name.clone());
            anyhow::ensure!(
                !fields.is_empty(),
                "nothing to change: give --name, --code, --external-id or --ordering"
            );
            let d = door.block_on(departments.update(actor, id, fields))?;
            print(&d, *json)?;
        }
        DeptCommand::Move {
            id, parent, json, ..
        } => {
            let d = door.block_on(departments.move_to(actor, id, parent.clone()))?;
            if !json {
                print!("Moved: ");
            }
            print(&d, *json)?;
        }
        DeptCommand::Remove {
            id,
            cascade,
            move_to,
            json,
            ..
        } => {
            let mode = match (cascade, move_to) {
                (true, _) => RemoveMode::Cascade,
                (false, Some(to)) => RemoveMode::MoveTo(to.clone()),
                (false, None) => RemoveMode::Refuse,
            };
            let removal = door.block_on(departments.delete(actor, id, None, mode))?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&removal)?);
            } else {
                println!(
                    "Removed {} department(s); moved {} sub-department(s); changed {} person(s).",
                    removal.removed.len(),
                    removal.moved_departments,
                    removal.people
                );
            }
        }
    }
    Ok(())
}
