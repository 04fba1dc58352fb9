//! The PE check on hand-made images (each header field the check reads, broken one at
//! a time) and on the real nestbench-agent.exe when this machine can build it.

use super::*;

/// A minimal PE32+ image: one section at RVA 0x1000 (file offset 0x200) holding the
/// import table, which names `dlls`.
fn image(dlls: &[&str]) -> Vec<u8> {
    let mut b = vec![0u8; 0x400];
    let put16 =
        |b: &mut Vec<u8>, at: usize, v: u16| b[at..at + 2].copy_from_slice(&v.to_le_bytes());
    let put32 =
        |b: &mut Vec<u8>, at: usize, v: u32| b[at..at + 4].copy_from_slice(&v.to_le_bytes());
    b[..2].copy_from_slice(b"MZ");
    put32(&mut b, 0x3c, 0x40);
    b[0x40..0x44].copy_from_slice(b"PE\0\0");
    let (coff, opt) = (0x44, 0x58);
    put16(&mut b, coff, IMAGE_FILE_MACHINE_AMD64);
    put16(&mut b, coff + 2, 1);
    put16(&mut b, coff + 16, 240);
    put16(&mut b, coff + 18, IMAGE_FILE_EXECUTABLE_IMAGE | 0x20);
    put16(&mut b, opt, PE32_PLUS);
    put16(&mut b, opt + 68, SUBSYSTEM_CONSOLE);
    put32(&mut b, opt + 108, 16);
    put32(&mut b, opt + 120, 0x1000);
    put32(&mut b, opt + 124, 20 * (dlls.len() as u32 + 1));
    let sec = opt + 240;
    put32(&mut b, sec + 8, 0x1000);
    put32(&mut b, sec + 12, 0x1000);
    put32(&mut b, sec + 16, 0x200);
    put32(&mut b, sec + 20, 0x200);
    let mut name_at = 0x200 + 20 * (dlls.len() + 1);
    for (i, d) in dlls.iter().enumerate() {
        put32(
            &mut b,
            0x200 + i * 20 + 12,
            (name_at - 0x200 + 0x1000) as u32,
        );
        b[name_at..name_at + d.len()].copy_from_slice(d.as_bytes());
        name_at += d.len() + 1;
    }
    b
}

#[test]
fn reads_the_import_table_and_accepts_windows_own_dlls() {
    let img = image(&[
        "KERNEL32.dll",
        "api-ms-win-core-synch-l1-2-0.dll",
        "ntdll.dll",
    ]);
    assert_eq!(
        imported_dlls(&img).unwrap(),
        [
            "KERNEL32.dll",
            "api-ms-win-core-synch-l1-2-0.dll",
            "ntdll.dll"
        ]
    );
    assert_eq!(check_windows_exe(&img), Ok(()));
    assert_eq!(check_windows_exe(&image(&[])), Ok(()));
}

#[test]
fn refuses_mingw_runtime_dlls_and_what_is_not_an_x86_64_console_exe() {
    let img = image(&["kernel32.dll", "libwinpthread-1.dll"]);
    assert_eq!(
        check_windows_exe(&img),
        Err(NotWindowsExe::ForeignDll("libwinpthread-1.dll".into()))
    );
    let broken = |at: usize, v: u16| {
        let mut b = image(&["kernel32.dll"]);
        b[at..at + 2].copy_from_slice(&v.to_le_bytes());
        check_windows_exe(&b)
    };
    assert_eq!(broken(0, 0x4d5a), Err(NotWindowsExe::NotPe)); // "ZM"
    assert_eq!(broken(0x44, 0x14c), Err(NotWindowsExe::NotX86_64)); // i386
    assert_eq!(broken(0x58, 0x10b), Err(NotWindowsExe::NotX86_64)); // PE32
    assert_eq!(broken(0x44 + 18, 0x2022), Err(NotWindowsExe::NotExecutable)); // a DLL
    assert_eq!(broken(0x58 + 68, 2), Err(NotWindowsExe::NotConsole(2))); // GUI
    let mut cut = image(&["kernel32.dll"]);
    cut.truncate(0x210);
    assert_eq!(check_windows_exe(&cut), Err(NotWindowsExe::Truncated));
    assert_eq!(check_windows_exe(b"\x7fELF"), Err(NotWindowsExe::NotPe));
    assert_eq!(check_windows_exe(b""), Err(NotWindowsExe::NotPe));
}

#[test]
fn system_dlls_are_recognised_whatever_their_case() {
    assert!(is_system_dll("KERNEL32.dll"));
    assert!(is_system_dll("api-ms-win-core-synch-l1-2-0.dll"));
    assert!(!is_system_dll("libgcc_s_seh-1.dll"));
    assert!(!is_system_dll("bcryptprimitives-shim.dll"));
}

/// The agent scripts/build-agent-windows makes passes the check the controller applies
/// before deploying it. Needs the rustup target and MinGW; under CI their absence fails.
#[test]
fn the_built_windows_agent_imports_only_windows_dlls() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target_ok = std::process::Command::new("rustc")
        .args([
            "--print",
            "target-libdir",
            "--target",
            "x86_64-pc-windows-gnu",
        ])
        .output()
        .is_ok_and(|o| {
            o.status.success()
                && std::path::Path::new(String::from_utf8_lossy(&o.stdout).trim()).is_dir()
        });
    if !crate::testreq::require(
        "the Rust target x86_64-pc-windows-gnu",
        target_ok,
        "rustup target add x86_64-pc-windows-gnu, or run scripts/setup",
    ) || !crate::testreq::require_tool("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64")
    {
        return;
    }
    let ok = std::process::Command::new(root.join("scripts/build-agent-windows"))
        .arg("--quiet")
        .status()
        .expect("run scripts/build-agent-windows")
        .success();
    assert!(ok, "scripts/build-agent-windows failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let exe = std::fs::read(target.join("x86_64-pc-windows-gnu/release/nestbench-agent.exe"))
        .expect("the built agent");
    let dlls = imported_dlls(&exe).unwrap();
    eprintln!("nestbench-agent.exe imports {}", dlls.join(", "));
    assert_eq!(check_windows_exe(&exe), Ok(()));
    assert!(dlls.iter().any(|d| d.eq_ignore_ascii_case("ntdll.dll")));
}
