//! `nestbench completions` and `nestbench man`, run as a user runs them: the bash
//! script is valid bash and completes every subcommand, the zsh and fish scripts name
//! them too, and the man page holds every subcommand and renders with groff without a
//! warning.

#[path = "../src/testreq.rs"]
#[allow(dead_code)]
mod testreq;

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn nestbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nestbench"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// Every subcommand path of the real command tree, e.g. `history list`.
fn subcommands() -> Vec<Vec<String>> {
    nestbench::cli::subcommands(&nestbench::cli::command())
        .into_iter()
        .map(|(path, _)| path)
        .collect()
}

/// Run `program args` with `input` on stdin.
fn with_stdin(program: &str, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_bash_script_is_valid_bash_and_completes_every_subcommand() {
    let script = stdout(&nestbench(&["completions", "bash"]));
    let check = with_stdin("bash", &["-n"], &script);
    assert!(
        check.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    for path in subcommands() {
        // clap_complete names each command by its path, `nestbench__subcmd__history__subcmd__list`.
        let case = format!("nestbench__subcmd__{}", path.join("__subcmd__"));
        assert!(script.contains(&case), "no completion for {path:?}");
    }
    // Values come from the definitions too.
    assert!(script.contains("--format") && script.contains("junit"));
    // And bash really completes them: `nestbench hi<TAB>` offers history.
    let probe = format!(
        "{script}\nCOMP_WORDS=(nestbench hi); COMP_CWORD=1; _nestbench nestbench hi nestbench; printf '%s\\n' \"${{COMPREPLY[@]}}\""
    );
    let out = with_stdin("bash", &[], &probe);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "history");
}

#[test]
fn zsh_and_fish_scripts_name_every_subcommand() {
    for shell in ["zsh", "fish"] {
        let script = stdout(&nestbench(&["completions", shell]));
        assert!(!script.trim().is_empty(), "{shell}: empty");
        for path in subcommands() {
            let last = path.last().unwrap();
            assert!(script.contains(last.as_str()), "{shell}: no {path:?}");
        }
    }
    let zsh = stdout(&nestbench(&["completions", "zsh"]));
    assert!(zsh.starts_with("#compdef nestbench"), "{zsh}");
    let fish = stdout(&nestbench(&["completions", "fish"]));
    assert!(fish.contains("complete -c nestbench"), "{fish}");
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let o = nestbench(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn the_man_page_holds_every_subcommand_and_renders_with_groff() {
    let page = stdout(&nestbench(&["man"]));
    assert!(page.contains(".TH nestbench 1"), "{page}");
    assert!(page.is_ascii(), "non-ASCII left unescaped");
    for path in subcommands() {
        let heading = format!(".SS \"nestbench {}\"", path.join(" "));
        let bare = format!(".SS nestbench {}", path.join(" "));
        assert!(
            page.contains(&heading) || page.contains(&bare),
            "no section for {path:?}"
        );
    }
    for section in ["SYNOPSIS", "COMMANDS", "EXAMPLES", "EXIT STATUS"] {
        assert!(page.contains(section), "no {section}");
    }
    if !testreq::require_tool("groff", "groff-base") {
        return;
    }
    // -ww: every warning; -z: check only. A clean page prints nothing.
    let check = with_stdin("groff", &["-man", "-Tutf8", "-ww", "-z"], &page);
    assert!(check.status.success());
    let warnings = String::from_utf8_lossy(&check.stderr);
    assert!(warnings.trim().is_empty(), "groff: {warnings}");
    let text = with_stdin("groff", &["-man", "-Tutf8", "-P", "-cbou"], &page);
    let text = String::from_utf8_lossy(&text.stdout);
    for path in subcommands() {
        let title = format!("nestbench {}", path.join(" "));
        assert!(text.contains(&title), "rendered page lacks {title}");
    }
    assert!(text.contains("--format"), "{text}");
}
