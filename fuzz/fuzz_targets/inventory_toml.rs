//! Arbitrary text to `nestbench::backend::inventory::file::parse`, the reader of the
//! user's inventory file. It must never panic; a refusal is one line naming the file;
//! what it accepts satisfies the rules docs/inventory.md states (unique names, `via`
//! naming an earlier level, ports 1–65535, absolute workdirs, timeouts of at least a
//! second, pinned keys that decode), so the run loop can rely on them.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nestbench::backend::inventory::file::{chain, parse};
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
        Ok(levels) => {
            assert!(!levels.is_empty());
            for (i, l) in levels.iter().enumerate() {
                let t = &l.target;
                assert!(
                    levels[..i].iter().all(|o| o.target.name != t.name),
                    "duplicate name {:?}",
                    t.name
                );
                assert!(!t.host.trim().is_empty() && !t.user.trim().is_empty());
                assert!(t.port >= 1);
                assert!(l.workdir.starts_with('/'));
                assert!(l.connect_timeout.as_secs() >= 1);
                if let Some(v) = l.via {
                    assert!(v < i, "via points at a later level");
                }
                assert!(chain(&levels, i).iter().all(|&h| h < i));
                if let HostKeyCheck::Pinned { key_base64 } = &t.host_key {
                    let blob = known_hosts::base64_decode(key_base64).expect("pinned key decodes");
                    assert!(known_hosts::key_type(&blob).is_some());
                }
            }
        }
    }
});
