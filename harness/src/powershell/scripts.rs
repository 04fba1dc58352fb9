//! Every PowerShell script nestbench sends, one file per operation in `ps/`, included
//! at build time. Each reads its input from `$NbInput` (the JSON the controller sent,
//! already parsed) and answers with JSON on stdout: one compressed document per line,
//! `{"error": "...", "kind": "..."}` on failure. [`assemble`] wraps a body in the
//! same prelude and epilogue for all of them, so the rules hold everywhere:
//! `$ErrorActionPreference = 'Stop'` (a failing cmdlet ends the script instead of
//! carrying on), `$ProgressPreference = 'SilentlyContinue'` (progress bars would
//! arrive on stderr as CLIXML), an uploaded script deletes itself first, an uncaught
//! error becomes the error document with exit 1, and the exit code is kept
//! (`exit $LASTEXITCODE`).
//!
//! A simulator that stands in for a Windows host in the tests dispatches on the
//! `# nestbench-op:` line and reads the input from the here-string, so both are part
//! of the contract.

use serde_json::Value;

/// One operation: its name and its script body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op {
    /// The operation's name (the file is `ps/<name>.ps1`).
    pub name: &'static str,
    /// The body, run inside the prelude's `try`.
    pub body: &'static str,
}

macro_rules! op {
    ($id:ident, $name:literal) => {
        #[doc = concat!("`ps/", $name, ".ps1`.")]
        pub const $id: Op = Op {
            name: $name,
            body: include_str!(concat!("ps/", $name, ".ps1")),
        };
    };
}

op!(OS_FACTS, "os_facts");
op!(DEPLOY_AGENT, "deploy_agent");
op!(REMOVE_FILES, "remove_files");
op!(HYPERV_INSPECT, "hyperv_inspect");
op!(HYPERV_APPLY, "hyperv_apply");
op!(HYPERV_HOST, "hyperv_host");
op!(HYPERV_CREATE_VM, "hyperv_create_vm");
op!(HYPERV_START_VM, "hyperv_start_vm");
op!(HYPERV_VM_ADDRESS, "hyperv_vm_address");
op!(HYPERV_COPY_FILE, "hyperv_copy_file");
op!(HYPERV_REMOVE_VM, "hyperv_remove_vm");

/// Every operation (the grammar test parses each; a test checks `ps/` holds no other).
pub const ALL: &[Op] = &[
    OS_FACTS,
    DEPLOY_AGENT,
    REMOVE_FILES,
    HYPERV_INSPECT,
    HYPERV_APPLY,
    HYPERV_HOST,
    HYPERV_CREATE_VM,
    HYPERV_START_VM,
    HYPERV_VM_ADDRESS,
    HYPERV_COPY_FILE,
    HYPERV_REMOVE_VM,
];

/// The operation called `name`.
pub fn by_name(name: &str) -> Option<&'static Op> {
    ALL.iter().find(|o| o.name == name)
}

/// The whole script for `op` with `input`: what is sent, inline or as a file.
///
/// The input travels as a single-quoted here-string, in which PowerShell expands
/// nothing; it ends only at a line that starts with `'@`, and compact JSON is one
/// line that starts with `{`, so no input can end it early.
pub fn assemble(op: &Op, input: &Value) -> String {
    let json = serde_json::to_string(input).expect("a JSON value always serializes");
    format!(
        "# nestbench-op: {name}\n\
         $ErrorActionPreference = 'Stop'\n\
         $ProgressPreference = 'SilentlyContinue'\n\
         if ($PSCommandPath) {{ Remove-Item -LiteralPath $PSCommandPath -Force -ErrorAction SilentlyContinue }}\n\
         $NbInput = @'\n{json}\n'@ | ConvertFrom-Json\n\
         try {{\n{body}\n}} catch {{\n\
         \x20   $NbError = @{{ error = $_.Exception.Message; kind = 'failed' }}\n\
         \x20   [Console]::Out.WriteLine(($NbError | ConvertTo-Json -Compress))\n\
         \x20   exit 1\n\
         }}\n\
         exit $LASTEXITCODE\n",
        name = op.name,
        body = op.body.trim_end(),
    )
}

/// The operation name and input of an assembled script (what the test simulator
/// reads; `None` for anything [`assemble`] did not write).
pub fn disassemble(script: &str) -> Option<(&str, Value)> {
    let name = script.lines().next()?.strip_prefix("# nestbench-op: ")?;
    let (_, rest) = script.split_once("$NbInput = @'\n")?;
    let (json, _) = rest.split_once("\n'@")?;
    Some((name.trim(), serde_json::from_str(json).ok()?))
}
