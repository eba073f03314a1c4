//! Every command and option says what it does (`--help`), and the commands
//! people start with show an example.

use clap::CommandFactory;

use super::Cli;

/// "scimhub target add --name" for each command or argument without help.
fn without_help(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
    let path = format!("{path} {}", cmd.get_name()).trim().to_string();
    if cmd.get_about().is_none() && cmd.get_long_about().is_none() {
        missing.push(path.clone());
    }
    for arg in cmd.get_arguments() {
        if arg.get_help().is_none() && arg.get_long_help().is_none() {
            missing.push(format!("{path} {}", arg.get_id()));
        }
    }
    for sub in cmd.get_subcommands() {
        without_help(sub, &path, &mut *missing);
    }
}

fn find<'c>(root: &'c clap::Command, path: &[&str]) -> &'c clap::Command {
    path.iter().fold(root, |cmd, name| {
        cmd.find_subcommand(name)
            .unwrap_or_else(|| panic!("no command {path:?}"))
    })
}

#[test]
fn every_command_and_argument_has_help() {
    let root = Cli::command();
    root.clone().debug_assert();
    let mut missing = Vec::new();
    without_help(&root, "", &mut missing);
    assert!(missing.is_empty(), "without help text: {missing:#?}");
}

#[test]
fn the_walk_sees_every_command_and_argument() {
    // A command tree the walk must flag: a subcommand and an argument without help.
    let bare = clap::Command::new("x")
        .about("x")
        .subcommand(clap::Command::new("y").arg(clap::Arg::new("z").long("z")));
    let mut missing = Vec::new();
    without_help(&bare, "", &mut missing);
    assert_eq!(missing, ["x y", "x y z"]);
}

#[test]
fn the_main_commands_show_an_example() {
    let root = Cli::command();
    let main = [
        vec![],
        vec!["serve"],
        vec!["token", "create"],
        vec!["target", "add"],
        vec!["target", "update"],
        vec!["sync", "run"],
        vec!["sync", "user"],
        vec!["sync", "approve"],
        vec!["failures", "retry"],
        vec!["subscription", "add"],
        vec!["changes", "prune"],
        vec!["audit", "list"],
        vec!["backup"],
        vec!["restore"],
        vec!["conformance"],
        vec!["bench", "suite"],
    ];
    for path in main {
        let cmd = find(&root, &path);
        let after = cmd
            .get_after_help()
            .or(cmd.get_after_long_help())
            .map(|h| h.to_string())
            .unwrap_or_default();
        assert!(
            after.contains("Example") && after.contains("scimhub"),
            "scimhub {} has no example: {after:?}",
            path.join(" ")
        );
    }
}
