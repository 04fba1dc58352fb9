//! The command tree's own promises: every subcommand's `--help` ends with an example of
//! itself that the parser accepts, and the clap definitions are consistent.

use super::*;
use clap::Parser;

#[test]
fn the_definitions_are_consistent() {
    command().debug_assert();
}

#[test]
fn every_subcommand_help_ends_with_an_example_of_itself_that_parses() {
    let top = command();
    let all = subcommands(&top);
    assert!(all.len() >= 15, "{} subcommands", all.len());
    for (path, sub) in all {
        let name = path.join(" ");
        let after = sub
            .get_after_help()
            .unwrap_or_else(|| panic!("`nestbench {name} --help` has no example"))
            .to_string();
        assert!(after.starts_with("Examples:"), "{name}: {after}");
        let lines = examples::command_lines(&after);
        assert!(!lines.is_empty(), "{name}: no nestbench line in {after}");
        for argv in lines {
            // An example of `history` may show any of its subcommands.
            assert_eq!(
                argv[1..=path.len()],
                path[..],
                "{name}: example of another command: {argv:?}"
            );
            if let Err(e) = Cli::try_parse_from(&argv) {
                panic!("{name}: example {argv:?} does not parse: {e}");
            }
        }
        // Rendered, the example is the last thing the help prints.
        let help = sub
            .clone()
            .bin_name(format!("nestbench {name}"))
            .render_help();
        let last = after.lines().last().unwrap().trim();
        assert!(
            help.to_string().trim_end().ends_with(last),
            "{name}: help does not end with its example"
        );
    }
}

#[test]
fn the_top_level_help_has_an_example_too() {
    let after = command().get_after_help().unwrap().to_string();
    for argv in examples::command_lines(&after) {
        Cli::try_parse_from(&argv).unwrap();
    }
}

#[test]
fn compare_format_defaults_to_text_and_takes_the_four() {
    let parse = |extra: &[&str]| {
        let mut argv = vec!["nestbench", "compare", "a", "b"];
        argv.extend(extra);
        match Cli::try_parse_from(argv).map(|c| c.command) {
            Ok(Command::Compare(c)) => Ok(c.format),
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err(e),
        }
    };
    assert_eq!(parse(&[]).unwrap(), CompareFormat::Text);
    for (word, f) in [
        ("text", CompareFormat::Text),
        ("markdown", CompareFormat::Markdown),
        ("json", CompareFormat::Json),
        ("junit", CompareFormat::Junit),
    ] {
        assert_eq!(parse(&["--format", word]).unwrap(), f);
    }
    assert!(parse(&["--format", "xml"]).is_err());
}

#[test]
fn quiet_is_on_the_commands_that_print_progress() {
    for argv in [
        vec!["nestbench", "run", "-q"],
        vec!["nestbench", "compare", "a", "b", "--quiet"],
        vec!["nestbench", "report", "dir", "-q"],
        vec!["nestbench", "trend", "--quiet"],
        vec!["nestbench", "calibrate", "--runs", "3", "--quiet"],
    ] {
        Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    }
    // calibrate makes runs but plans none on its own: no --dry-run there.
    assert!(Cli::try_parse_from(["nestbench", "calibrate", "--runs", "3", "--dry-run"]).is_err());
}
