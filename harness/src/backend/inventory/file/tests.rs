//! The inventory reader on files written by hand: defaults, chains, `[l0]`, and every
//! refusal with its line and level.

use super::*;

fn p(text: &str) -> Result<Vec<InventoryLevel>, InventoryError> {
    parse(text, "inv.toml", Path::new("/home/u")).map(|inv| inv.levels)
}

const GOOD: &str = r#"
[[level]]
name = "L1"
host = "192.0.2.10"
user = "root"
key = "~/.ssh/id_ed25519"
host_key_policy = "accept-new"

[[level]]
name = "L2"
host = "10.0.0.2"
port = 2202
via = "L1"
user = "root"
key = "/k"
known_hosts = "/kh"
workdir = "/scratch"

[[level]]
host = "10.0.0.3"
via = "L2"
user = "u"
key = "/k"
host_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJCyQuS3/4QccLBYL8lmedEUUue6epaSifjTaJyGaLqp c"
"#;

#[test]
fn reads_levels_with_defaults_and_chains() {
    let l = p(GOOD).unwrap();
    assert_eq!(l.len(), 3);
    assert_eq!(l[0].target.port, 22);
    assert_eq!(l[0].target.key, Path::new("/home/u/.ssh/id_ed25519"));
    assert_eq!(
        l[0].target.host_key,
        HostKeyCheck::KnownHosts {
            file: "/home/u/.ssh/known_hosts".into(),
            accept_new: true
        }
    );
    assert_eq!(
        (l[0].workdir.as_deref(), l[1].workdir.as_deref()),
        (None, Some("/scratch"))
    );
    assert_eq!((l[1].target.port, l[1].via), (2202, Some(Via::Level(0))));
    assert_eq!(l[2].target.name, "L3");
    assert!(matches!(l[2].target.host_key, HostKeyCheck::Pinned { .. }));
    let inv = Inventory {
        l0: None,
        levels: l,
    };
    assert_eq!(inv.chain(2), [Via::Level(0), Via::Level(1)]);
    assert!(inv.chain(0).is_empty());
}

#[test]
fn an_l0_table_is_a_remote_l0_that_levels_may_be_reached_through() {
    let text = r#"
[l0]
name = "hv"
host = "192.0.2.1"
user = "Administrator"
key = "/k"
workdir = 'C:\nestbench'

[[level]]
host = "10.0.0.2"
via = "hv"
user = "root"
key = "/k"

[[level]]
host = "10.0.0.3"
via = "L1"
user = "root"
key = "/k"
workdir = "D:/scratch"
"#;
    let inv = parse(text, "inv.toml", Path::new("/home/u")).unwrap();
    let l0 = inv.l0.as_ref().unwrap();
    assert_eq!((l0.target.name.as_str(), l0.via), ("hv", None));
    assert_eq!(l0.workdir.as_deref(), Some("C:\\nestbench"));
    assert_eq!(inv.levels[0].via, Some(Via::L0));
    assert_eq!(inv.chain(1), [Via::L0, Via::Level(0)]);
    assert_eq!(inv.machine(Via::L0).target.host, "192.0.2.1");
    // Without [l0], an L0 name is just unknown; [l0] takes no via, shares no name.
    let no_l0 = "[[level]]\nhost = \"h\"\nuser = \"r\"\nkey = \"/k\"\nvia = \"L0\"\n";
    assert!(p(no_l0)
        .unwrap_err()
        .to_string()
        .contains("names no earlier level"));
    let via = "[l0]\nhost = \"h\"\nuser = \"r\"\nkey = \"/k\"\nvia = \"x\"\n\n[[level]]\nhost = \"h\"\nuser = \"r\"\nkey = \"/k\"\n";
    let e = p(via).unwrap_err().to_string();
    assert!(
        e.contains("line 1 (level L0): [l0] is reached directly"),
        "{e}"
    );
    let dup = "[l0]\nname = \"L1\"\nhost = \"h\"\nuser = \"r\"\nkey = \"/k\"\n\n[[level]]\nhost = \"h\"\nuser = \"r\"\nkey = \"/k\"\n";
    let e = p(dup).unwrap_err().to_string();
    assert!(
        e.contains("line 7 (level L1): another level already has this name"),
        "{e}"
    );
    // An [l0] alone is a run of the remote L0 by itself.
    let alone = "[l0]\nhost = \"h\"\nuser = \"r\"\nkey = \"/k\"\n";
    let inv = parse(alone, "inv.toml", Path::new("/")).unwrap();
    assert!(inv.l0.is_some() && inv.levels.is_empty());
}

#[test]
fn windows_and_posix_workdirs_are_absolute_relative_ones_are_not() {
    for dir in ["/tmp", "C:\\x", "d:/x"] {
        assert!(is_absolute(dir), "{dir}");
    }
    for dir in ["tmp", "C:", "C:x", "\\\\server\\share", ""] {
        assert!(!is_absolute(dir), "{dir}");
    }
}

#[test]
fn refuses_bad_files_with_line_and_level() {
    let cases = [
        ("[[level]]\nname = \"A\"\nuser = \"r\"\nkey = \"/k\"\n", "line 1 (level A): missing field `host`"),
        ("[[level]]\nhost = \"h\"\nuser = \"r\"\nkey = \"/k\"\nport = 70000\n", "line 1 (level L1): port 70000"),
        (
            "[[level]]\nname = \"A\"\nhost = \"h\"\nuser = \"r\"\nkey = \"/k\"\nvia = \"B\"\n\n[[level]]\nname = \"B\"\nhost = \"h\"\nuser = \"r\"\nkey = \"/k\"\n",
            "line 1 (level A): via = \"B\" names a later level",
        ),
        ("[[level]]\nhost = \"h\"\nuser = \"r\"\nkey = \"/k\"\nvia = \"Z\"\n", "names no earlier level"),
        ("[[level]]\nhost = \"h\"\nuser = \"r\"\nkey = \"/k\"\nhost_key_policy = \"yes\"\n", "is not \"strict\""),
        ("[[level]]\nhost = \"h\"\nuser = \"r\"\nkey = \"/k\"\nprot = 22\n", "line 5: unknown field `prot`"),
        ("[[level]]\nhost = \"h\"\nuser = \"r\"\nkey = \"/k\"\nworkdir = \"tmp\"\n", "not an absolute path"),
        ("# nothing\n", "no [[level]] tables"),
    ];
    for (text, want) in cases {
        let e = p(text).unwrap_err().to_string();
        assert!(e.contains(want), "{e:?} lacks {want:?}");
        assert!(!e.contains('\n'), "{e:?}");
    }
}

#[test]
fn toml_syntax_errors_and_control_characters_stay_on_one_line() {
    // Found by the inventory_toml fuzz target: toml puts what it expected on a second
    // line (`invalid table header` / `expected ...`), and the file's own strings
    // were quoted with their newlines and control characters.
    let header = p("[[levee = \"B\"\n").unwrap_err().to_string();
    assert!(
        header.starts_with("inventory inv.toml line 1: invalid table header: expected"),
        "{header:?}"
    );
    let workdir =
        p("[[level]]\nhost = \"h\"\nuser = \"r\"\nkey = \"/k\"\nworkdir = \"t\\nmp\\u001b\"\n")
            .unwrap_err()
            .to_string();
    assert!(
        workdir.contains("workdir \"t\\nmp\\u{1b}\" is not an absolute path"),
        "{workdir:?}"
    );
    for e in [header, workdir] {
        assert!(!e.chars().any(char::is_control), "{e:?}");
    }
}
