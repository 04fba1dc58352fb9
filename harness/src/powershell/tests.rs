//! The PowerShell encoding and the script catalog: `-EncodedCommand` round trips, the
//! command-line limit that sends long scripts to `-File`, and every operation's
//! script assembled, parsed by the real PowerShell grammar (tree-sitter) with no
//! ERROR or MISSING node — and a broken script that the same check refuses.

use super::scripts::{self, Op};
use super::*;
use serde_json::json;

/// A representative input for each operation, as the controller sends it.
fn sample_input(op: &Op) -> serde_json::Value {
    match op.name {
        "os_facts" => json!({}),
        "remove_files" => json!({ "paths": ["C:\\Temp\\a.exe", "C:\\Temp\\a.exe.gz"] }),
        "deploy_agent" => json!({
            "packed": "C:\\Temp\\nestbench-agent-1.exe.gz",
            "exe": "C:\\Temp\\nestbench-agent-1.exe",
            "size": 1234567,
            "sha256": "ab".repeat(32),
            "run": ["run", "--suite", "smoke", "--dir", "C:\\Temp"],
        }),
        "hyperv_inspect" => json!({ "vm": "it's a \"VM\" '@ with $(odd) name" }),
        "hyperv_apply" => json!({
            "vm": "nb1",
            "steps": [{"op": "turn_off"}, {"op": "startup_memory", "bytes": 4294967296u64}],
        }),
        "hyperv_host" => json!({}),
        "hyperv_create_vm" => json!({
            "vm": "nestbench-0a1b2c3d-L1",
            "parent": "D:\\Images\\base.vhdx",
            "disk": "C:\\Temp\\nestbench-0a1b2c3d-L1.vhdx",
            "config_disk": "C:\\Temp\\nestbench-0a1b2c3d-L1-config.vhdx",
            "switch": "External",
            "memory_bytes": 8589934592u64,
            "linux": false,
            "files": {"meta-data": "instance-id: x\n", "nestbench/authorized_keys": "ssh-ed25519 AAAA nb\n"},
        }),
        "hyperv_start_vm" | "hyperv_vm_address" | "hyperv_remove_vm" => {
            json!({ "vm": "nestbench-0a1b2c3d-L1" })
        }
        "hyperv_copy_file" => json!({
            "vm": "nestbench-0a1b2c3d-L1",
            "source": "D:\\Images\\base.vhdx",
            "destination": "C:\\Windows\\Temp\\nestbench-0a1b2c3d-L2-parent.vhdx",
        }),
        other => panic!("no sample input for {other}: add one"),
    }
}

/// Every script the controller can send, assembled as it sends it.
fn every_script() -> Vec<(String, String)> {
    scripts::ALL
        .iter()
        .map(|op| {
            (
                op.name.to_string(),
                scripts::assemble(op, &sample_input(op)),
            )
        })
        .collect()
}

/// ERROR and MISSING nodes of `script` under the tree-sitter PowerShell grammar, as
/// `line:column kind` (empty: it parses).
fn grammar_problems(script: &str) -> Vec<String> {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("the PowerShell grammar loads");
    let tree = parser
        .parse(script, None)
        .expect("the parser returns a tree");
    let mut out = vec![];
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.is_error() || node.is_missing() {
            let at = node.start_position();
            out.push(format!(
                "{}:{} {}",
                at.row + 1,
                at.column + 1,
                if node.is_missing() {
                    format!("MISSING {}", node.kind())
                } else {
                    "ERROR".to_string()
                }
            ));
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    out
}

#[test]
fn every_script_parses_under_the_powershell_grammar() {
    for (name, script) in every_script() {
        let problems = grammar_problems(&script);
        assert!(problems.is_empty(), "{name}: {problems:?}\n{script}");
    }
    // The probe, which PowerShell runs as the default shell, and a -File command line.
    assert!(grammar_problems(crate::remote::identify::PROBE).is_empty());
    assert!(grammar_problems(&file_command("C:\\Temp\\x y.ps1")).is_empty());
}

#[test]
fn the_guest_side_scripts_parse_too() {
    // What docs/hyperv.md has the user put into the Windows base VHDX.
    for (name, script) in [
        ("firstboot.ps1", include_str!("guest/firstboot.ps1")),
        ("register.ps1", include_str!("guest/register.ps1")),
    ] {
        let problems = grammar_problems(script);
        assert!(problems.is_empty(), "{name}: {problems:?}");
    }
    // It reads what hyperv_create_vm writes: the cidata label and the nestbench/ files.
    let create = scripts::HYPERV_CREATE_VM.body;
    assert!(create.contains("-NewFileSystemLabel 'cidata'"));
    let firstboot = include_str!("guest/firstboot.ps1");
    assert!(firstboot.contains("FileSystemLabel -eq 'cidata'"));
    for f in crate::backend::hyperv::keys::config_files(
        "vm",
        &crate::backend::hyperv::keys::HostKey {
            private: "k".into(),
            public_line: "ssh-ed25519 AAAA".into(),
        },
        "ssh-ed25519 BBBB",
    ) {
        if let Some(name) = f.0.strip_prefix("nestbench/") {
            assert!(firstboot.contains(&format!("'{name}'")), "{name}");
        }
    }
}

#[test]
fn a_broken_script_is_refused_by_the_same_check() {
    for broken in [
        "if ($x -eq 1 {\n  Write-Output 'a'\n}\n",
        "$a = @{ b = 1\n",
        "foreach ($p in $q) { Remove-Item -LiteralPath $p\n",
    ] {
        assert!(!grammar_problems(broken).is_empty(), "{broken}");
    }
    // A body with an unbalanced brace breaks the assembled script, too.
    let op = Op {
        name: "broken",
        body: "if ($true) {\n    exit 0\n",
    };
    assert!(!grammar_problems(&scripts::assemble(&op, &json!({}))).is_empty());
}

#[test]
fn every_file_in_ps_is_an_operation_and_every_operation_a_file() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/powershell/ps");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut ops: Vec<String> = scripts::ALL
        .iter()
        .map(|o| format!("{}.ps1", o.name))
        .collect();
    ops.sort();
    assert_eq!(files, ops);
}

#[test]
fn every_script_keeps_the_conventions() {
    for (name, script) in every_script() {
        assert!(
            script.contains("$ProgressPreference = 'SilentlyContinue'"),
            "{name}"
        );
        assert!(script.contains("$ErrorActionPreference = 'Stop'"), "{name}");
        assert!(script.trim_end().ends_with("exit $LASTEXITCODE"), "{name}");
        // What the simulator reads back: the operation and its input.
        let (op, input) = scripts::disassemble(&script).unwrap();
        assert_eq!(op, name);
        assert_eq!(input, sample_input(scripts::by_name(&name).unwrap()));
    }
}

#[test]
fn encoded_commands_round_trip_through_utf16le_base64() {
    for script in [
        "Write-Output 'hello'",
        "$x = \"ümlaut – ✔ 😀\"\r\nexit 3",
        "",
    ] {
        let enc = encode(script);
        assert!(enc
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c)));
        assert_eq!(decode(&enc).as_deref(), Some(script));
    }
    // Known value: PowerShell's own encoding of `dir` is ZABpAHIA.
    assert_eq!(encode("dir"), "ZABpAHIA");
    assert_eq!(decode("ZABpAHI"), None, "half a UTF-16 unit");
}

#[test]
fn short_scripts_go_inline_and_long_ones_switch_to_a_file() {
    let Invocation::Encoded(line) = invocation("exit 0") else {
        panic!("a short script goes inline")
    };
    assert!(line.starts_with(
        "powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand "
    ));
    // The longest inline script: the command line stays within cmd.exe's 8,191.
    let fits = (1..6000)
        .rev()
        .find(|&n| matches!(invocation(&"a".repeat(n)), Invocation::Encoded(_)))
        .unwrap();
    let Invocation::Encoded(longest) = invocation(&"a".repeat(fits)) else {
        unreachable!()
    };
    assert!(longest.len() <= CMD_LINE_MAX);
    assert!((2900..3100).contains(&fits), "{fits} characters fit");
    assert_eq!(invocation(&"a".repeat(fits + 1)), Invocation::File);
    // Which of the real scripts go which way (the assembled inspect script is long).
    for (name, script) in every_script() {
        let inline = matches!(invocation(&script), Invocation::Encoded(_));
        assert_eq!(
            inline,
            script.len() <= fits,
            "{name}: {} bytes",
            script.len()
        );
    }
    assert_eq!(
        invocation(&scripts::assemble(
            &scripts::HYPERV_INSPECT,
            &json!({"vm": "x"})
        )),
        Invocation::File
    );
}

#[test]
fn windows_paths_become_sftp_paths_and_join_their_own_way() {
    assert_eq!(sftp_path("C:\\Users\\nb\\a.ps1"), "/C:/Users/nb/a.ps1");
    assert_eq!(sftp_path("/tmp/sim/a.ps1"), "/tmp/sim/a.ps1");
    assert_eq!(join("C:\\Temp\\", "a"), "C:\\Temp\\a");
    assert_eq!(join("/tmp/sim", "a"), "/tmp/sim/a");
    assert_eq!(
        file_command("C:\\Temp\\a b.ps1"),
        "powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -File \"C:\\Temp\\a b.ps1\""
    );
}

#[test]
fn the_reply_is_the_last_json_object_printed() {
    assert_eq!(reply("noise\n{\"a\":1}\n\n"), Some(json!({"a": 1})));
    assert_eq!(reply("[1]\n"), None);
    assert_eq!(reply(""), None);
}
