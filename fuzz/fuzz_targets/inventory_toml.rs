//! Arbitrary text to `nestbench::backend::inventory::file::parse`, the reader of the
//! user's inventory file. It must never panic; a refusal is one line naming the file;
//! what it accepts satisfies the rules docs/inventory.md states (unique names, `via`
//! naming an earlier level, ports 1–65535, absolute workdirs, timeouts of at least a
//! second, pinned keys that decode), so the run loop can rely on them.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nestbench::backend::inventory::file::{is_absolute, parse, Via};
use nestbench::remote::known_hosts;
use nestbench::remote::ssh::HostKeyCheck;
use nestbench_fuzz::assert_one_line;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let home = Path::new("/nonexistent");
    match parse(&text, "fuzz.toml", home) {
        Err(e) => {
            let e = e.to_string();
            assert_one_line("inventory error", &e);
            assert!(e.starts_with("inventory fuzz.toml"), "{e}");
        }
        Ok(inv) => {
            let levels = &inv.levels;
            assert!(!levels.is_empty() || inv.l0.is_some());
            assert!(inv.l0.as_ref().is_none_or(|l0| l0.via.is_none()));
            for (i, l) in levels.iter().enumerate() {
                let t = &l.target;
                assert!(
                    levels[..i].iter().all(|o| o.target.name != t.name),
                    "duplicate name {:?}",
                    t.name
                );
                assert!(!t.host.trim().is_empty() && !t.user.trim().is_empty());
                assert!(t.port >= 1);
                assert!(l.workdir.as_deref().is_none_or(is_absolute));
                assert!(l.connect_timeout.as_secs() >= 1);
                match l.via {
                    Some(Via::Level(v)) => assert!(v < i, "via points at a later level"),
                    Some(Via::L0) => assert!(inv.l0.is_some(), "via L0 without [l0]"),
                    None => {}
                }
                assert!(inv
                    .chain(i)
                    .iter()
                    .all(|h| matches!(h, Via::L0) || matches!(h, Via::Level(v) if *v < i)));
                if let HostKeyCheck::Pinned { key_base64 } = &t.host_key {
                    let blob = known_hosts::base64_decode(key_base64).expect("pinned key decodes");
                    assert!(known_hosts::key_type(&blob).is_some());
                }
            }
        }
    }
});
