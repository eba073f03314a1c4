//! `scimhub schema list|show|add|update|remove`: extension schemas for
//! Users and Groups, over the same service (and audit trail) as
//! `/admin/v1/schemas`. A running server picks a change up within
//! `schema_refresh_secs`.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use serde_json::Value;

use super::DatabaseArg;
use super::door::Door;
use crate::config::Config;
use crate::scim::schema::type_name;
use crate::service::schemas::{Origin, SchemaView};

#[derive(Debug, Subcommand)]
pub(super) enum SchemaCommand {
    /// List the extension schemas (configured and added).
    List {
        /// Print them as JSON, as `GET /admin/v1/schemas` answers.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Show one extension schema and its attributes.
    Show {
        /// The schema's URN.
        id: String,
        /// Print it as JSON (its definition document).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Add an extension schema from a definition document (docs/schemas.md).
    #[command(after_help = "Examples:\n  \
        scimhub schema add --file custom-app.json\n  \
        curl -s https://other.example/scim/v2/Schemas/URN | jq '. + {resourceType: \"User\"}' \
        | scimhub schema add --file -")]
    Add {
        /// The JSON definition document (`-`: standard input).
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// Print the schema as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Replace an extension schema's definition. Removing an attribute (or
    /// changing its type) that resources hold values of is refused unless
    /// --force, which drops those values.
    #[command(after_help = "Example:\n  \
        scimhub schema update urn:ietf:params:scim:schemas:extension:CustomApp:2.0:User \
        --file custom-app.json")]
    Update {
        /// The schema's URN.
        id: String,
        /// The JSON definition document (`-`: standard input).
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// Drop the stored values the new definition no longer holds.
        #[arg(long)]
        force: bool,
        /// Print the schema as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Remove an extension schema; refused while resources hold values of
    /// it unless --force, which drops them.
    Remove {
        /// The schema's URN.
        id: String,
        /// Drop the values resources hold.
        #[arg(long)]
        force: bool,
        /// Print what was removed as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
}

impl SchemaCommand {
    pub(super) fn db(&self) -> &DatabaseArg {
        match self {
            SchemaCommand::List { db, .. }
            | SchemaCommand::Show { db, .. }
            | SchemaCommand::Add { db, .. }
            | SchemaCommand::Update { db, .. }
            | SchemaCommand::Remove { db, .. } => db,
        }
    }
}

fn read_document(file: &Path) -> anyhow::Result<Value> {
    let text = if file == Path::new("-") {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        text
    } else {
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?
    };
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))
}

fn print_json(value: &Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn source(view: &SchemaView) -> &'static str {
    match view.origin {
        Origin::Configuration => "configuration",
        Origin::Database => "admin",
    }
}

fn print_list(views: &[SchemaView]) {
    println!("{:<64} {:<6} {:<14} ATTRIBUTES", "ID", "TYPE", "SOURCE");
    for v in views {
        println!(
            "{:<64} {:<6} {:<14} {}",
            v.extension.schema.id,
            v.extension.kind.as_str(),
            source(v),
            v.extension.schema.attributes.len()
        );
    }
}

fn print_schema(view: &SchemaView) {
    let s = &view.extension.schema;
    println!(
        "{} ({}) for {}, {}",
        s.id,
        s.name,
        view.extension.kind.as_str(),
        source(view)
    );
    if let Some(r) = &view.record {
        println!(
            "version {}, last changed {}",
            r.version,
            r.updated.format("%Y-%m-%d %H:%M:%SZ")
        );
    }
    for a in &s.attributes {
        let many = if a.multi_valued { "[]" } else { "" };
        println!("  {}  {}{many}", a.name, type_name(a.attr_type));
        for sub in &a.sub_attributes {
            println!("    .{}  {}", sub.name, type_name(sub.attr_type));
        }
    }
}

pub(super) fn run(cmd: &SchemaCommand, config: &Config) -> anyhow::Result<()> {
    let door = Door::open(config)?;
    let (admin, actor) = (&door.services.schemas, &door.actor);
    match cmd {
        SchemaCommand::List { json, .. } => {
            let views = door.block_on(admin.list())?;
            if *json {
                let all: Vec<Value> = views.iter().map(SchemaView::to_json).collect();
                print_json(&serde_json::json!({ "schemas": all }))?;
            } else {
                print_list(&views);
            }
        }
        SchemaCommand::Show { id, json, .. } => {
            let view = door.block_on(admin.get(id))?;
            if *json {
                print_json(&view.to_json())?;
            } else {
                print_schema(&view);
            }
        }
        SchemaCommand::Add { file, json, .. } => {
            let view = door.block_on(admin.add(actor, read_document(file)?))?;
            if *json {
                print_json(&view.to_json())?;
            } else {
                println!(
                    "Added extension schema {} for {}.",
                    view.extension.schema.id,
                    view.extension.kind.as_str()
                );
            }
        }
        SchemaCommand::Update {
            id,
            file,
            force,
            json,
            ..
        } => {
            let body = read_document(file)?;
            let (view, removal) = door.block_on(admin.update(actor, id, body, *force))?;
            if *json {
                let mut shown = view.to_json();
                shown["meta"]["resourcesChanged"] = removal.resources_changed.into();
                print_json(&shown)?;
            } else {
                println!("Updated extension schema {}.", view.extension.schema.id);
                if removal.resources_changed > 0 {
                    println!(
                        "Dropped values from {} resources.",
                        removal.resources_changed
                    );
                }
            }
        }
        SchemaCommand::Remove {
            id, force, json, ..
        } => {
            let removal = door.block_on(admin.remove(actor, id, *force))?;
            if *json {
                print_json(&serde_json::to_value(&removal)?)?;
            } else {
                println!(
                    "Removed extension schema {} (values dropped from {} resources).",
                    removal.id, removal.resources_changed
                );
            }
        }
    }
    Ok(())
}
