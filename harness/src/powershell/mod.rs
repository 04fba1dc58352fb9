//! Running PowerShell on a Windows level over SSH, whatever the account's default shell
//! is (Windows OpenSSH starts cmd.exe unless `HKLM:\SOFTWARE\OpenSSH\DefaultShell` says
//! otherwise). Every script goes through one command line that cmd.exe, PowerShell and
//! a POSIX shell all pass on unchanged — `powershell -NoProfile -NonInteractive
//! -ExecutionPolicy Bypass` and then either `-EncodedCommand` with the script as
//! base64 of UTF-16LE (only `A–Z a–z 0–9 + / =`: nothing any shell would expand) or
//! `-File` with a script uploaded first. cmd.exe refuses a command line longer than
//! 8,191 characters, and base64 of UTF-16 makes a script 8/3 times longer, so only
//! scripts up to about 3 KB go inline; longer ones are uploaded (SFTP) and run with
//! `-File`, and delete themselves as they start ([`scripts`]' prelude).
//!
//! The scripts themselves live in `ps/*.ps1`, one per operation, with JSON in and
//! JSON out ([`scripts`]); a test parses every one of them with the tree-sitter
//! PowerShell grammar.

pub mod scripts;

use crate::remote::known_hosts::{base64_decode, base64_encode};
use crate::remote::{ExecStatus, Remote, RemoteError};
use std::time::Duration;

/// The PowerShell every script runs under: no profile (a user's profile may print or
/// prompt), no prompts, no execution policy in the way of `-File`.
pub const POWERSHELL: &str = "powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass";

/// The longest command line cmd.exe accepts (`CreateProcess` allows more, but Windows
/// OpenSSH runs commands through the account's shell, cmd.exe by default).
pub const CMD_LINE_MAX: usize = 8191;

/// What the command line may use of [`CMD_LINE_MAX`]: the rest is margin for the
/// `cmd.exe /c` Windows OpenSSH puts in front of it.
pub const INLINE_BUDGET: usize = CMD_LINE_MAX - 191;

/// How a script is handed to PowerShell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// Inline: the whole command line.
    Encoded(String),
    /// Too long for a command line: upload the script, then run [`file_command`].
    File,
}

/// `script` as `-EncodedCommand` wants it: base64 of its UTF-16LE code units.
pub fn encode(script: &str) -> String {
    let bytes: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
    base64_encode(&bytes)
}

/// The script back from an `-EncodedCommand` argument (`None` when it is not base64
/// of whole UTF-16LE code units).
pub fn decode(encoded: &str) -> Option<String> {
    let bytes = base64_decode(encoded)?;
    if bytes.len() % 2 != 0 {
        return None;
    }
    let units: Vec<u16> = bytes
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).ok()
}

/// The command line that runs `script` inline, or [`Invocation::File`] when it would
/// be longer than [`INLINE_BUDGET`].
pub fn invocation(script: &str) -> Invocation {
    let line = format!("{POWERSHELL} -EncodedCommand {}", encode(script));
    if line.len() <= INLINE_BUDGET {
        Invocation::Encoded(line)
    } else {
        Invocation::File
    }
}

/// The command line that runs an uploaded script at `path` (a Windows path; double
/// quotes keep spaces in it together in cmd.exe and PowerShell alike).
pub fn file_command(path: &str) -> String {
    format!("{POWERSHELL} -File \"{path}\"")
}

/// A Windows path as the Windows OpenSSH SFTP server names it: `C:\Users\x` →
/// `/C:/Users/x`. A path that already starts with `/` is kept.
pub fn sftp_path(windows: &str) -> String {
    let p = windows.replace('\\', "/");
    let b = p.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        format!("/{p}")
    } else {
        p
    }
}

/// `dir` joined with `name` the Windows way (a `/`-style directory keeps `/`).
pub fn join(dir: &str, name: &str) -> String {
    let sep = if dir.contains('\\') { '\\' } else { '/' };
    format!("{}{sep}{name}", dir.trim_end_matches(['\\', '/']))
}

/// Run operation `op` with `input` at a Windows level: inline when it fits, else
/// uploaded to `scratch` (a Windows directory the account may write) and run with
/// `-File`. Stdout lines go to `on_line`; the exit status is PowerShell's, which the
/// prelude makes the script's own.
pub fn run(
    remote: &mut dyn Remote,
    op: &scripts::Op,
    input: &serde_json::Value,
    scratch: &str,
    timeout: Duration,
    on_line: &mut dyn FnMut(&str),
) -> Result<ExecStatus, RemoteError> {
    let script = scripts::assemble(op, input);
    match invocation(&script) {
        Invocation::Encoded(line) => remote.exec_lines(&line, timeout, on_line),
        Invocation::File => {
            let tag: u32 = rand::random();
            let path = join(scratch, &format!("nestbench-{}-{tag:08x}.ps1", op.name));
            // PowerShell 5.1 reads a BOM-less script as the ANSI code page: the BOM
            // keeps any non-ASCII text (a VM's name) intact.
            let mut bytes = vec![0xEF, 0xBB, 0xBF];
            bytes.extend_from_slice(script.as_bytes());
            remote.upload(&bytes, &sftp_path(&path), 0o600, timeout)?;
            let st = remote.exec_lines(&file_command(&path), timeout, on_line);
            if !matches!(st, Ok(ExecStatus { code: Some(_), .. })) {
                // Cut off before its first line ran: remove it ourselves.
                let rm = scripts::assemble(
                    &scripts::REMOVE_FILES,
                    &serde_json::json!({ "paths": [path] }),
                );
                if let Invocation::Encoded(line) = invocation(&rm) {
                    let _ = remote.exec(&line, Duration::from_secs(60));
                }
            }
            st
        }
    }
}

/// The one JSON document a script printed (its last stdout line that parses), or why
/// there is none.
pub fn reply(stdout: &str) -> Option<serde_json::Value> {
    stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<serde_json::Value>(l.trim()).ok())
        .filter(serde_json::Value::is_object)
}

#[cfg(test)]
mod tests;
