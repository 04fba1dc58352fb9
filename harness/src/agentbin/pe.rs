//! The check of a Windows agent before it is deployed: a PE32+ x86-64 console
//! executable whose every imported DLL is one of Windows' own, so that it starts on a
//! bare Windows with nothing copied beside it — the Windows counterpart of "static
//! ELF" (a MinGW build that links libgcc or winpthreads dynamically would not start).
//!
//! Only the headers, the section table and the import directory are read (Microsoft's
//! "PE Format" specification); delay-loaded imports are not, since neither Rust's std
//! nor windows-sys' raw-dylib imports use them.

/// DLLs that every supported Windows (10 and later) has in System32, in lower case.
/// API-set names (`api-ms-win-…`, `ext-ms-win-…`) are Windows' own too.
pub const SYSTEM_DLLS: &[&str] = &[
    "advapi32.dll",
    "bcrypt.dll",
    "bcryptprimitives.dll",
    "crypt32.dll",
    "dbghelp.dll",
    "iphlpapi.dll",
    "kernel32.dll",
    "kernelbase.dll",
    "msvcrt.dll",
    "ntdll.dll",
    "ole32.dll",
    "oleaut32.dll",
    "powrprof.dll",
    "psapi.dll",
    "secur32.dll",
    "shell32.dll",
    "synchronization.dll",
    "ucrtbase.dll",
    "user32.dll",
    "userenv.dll",
    "version.dll",
    "winmm.dll",
    "ws2_32.dll",
];

/// Whether `dll` is one of Windows' own ([`SYSTEM_DLLS`] or an API set).
pub fn is_system_dll(dll: &str) -> bool {
    let d = dll.to_ascii_lowercase();
    SYSTEM_DLLS.contains(&d.as_str())
        || d.starts_with("api-ms-win-")
        || d.starts_with("ext-ms-win-")
}

/// Why bytes are not a self-contained x86-64 Windows executable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotWindowsExe {
    /// No MZ header or no PE signature.
    #[error("is not a Windows (PE) executable")]
    NotPe,
    /// Another machine, or a 32-bit image.
    #[error("is not a 64-bit x86-64 Windows binary")]
    NotX86_64,
    /// A DLL, or an image not marked executable.
    #[error("is not an executable (a DLL or an object)")]
    NotExecutable,
    /// Not for the console subsystem: it would get no stdout over SSH.
    #[error("is not a console program (subsystem {0})")]
    NotConsole(u16),
    /// A header, section or import entry lies past the end of the file.
    #[error("has a truncated or inconsistent header or import table")]
    Truncated,
    /// It imports a DLL that Windows does not ship.
    #[error("imports {0}, which Windows does not ship: build it with scripts/build-agent-windows")]
    ForeignDll(String),
}

const IMAGE_FILE_MACHINE_AMD64: u16 = 0x8664;
const IMAGE_FILE_EXECUTABLE_IMAGE: u16 = 0x0002;
const IMAGE_FILE_DLL: u16 = 0x2000;
const PE32_PLUS: u16 = 0x20b;
const SUBSYSTEM_CONSOLE: u16 = 3;

/// Little-endian reads that fail instead of panicking.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u16(&self, at: usize) -> Result<u16, NotWindowsExe> {
        let b = self.0.get(at..at + 2).ok_or(NotWindowsExe::Truncated)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&self, at: usize) -> Result<u32, NotWindowsExe> {
        let b = self.0.get(at..at + 4).ok_or(NotWindowsExe::Truncated)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The NUL-terminated ASCII string at `at` (at most 256 bytes).
    fn c_str(&self, at: usize) -> Result<String, NotWindowsExe> {
        let rest = self.0.get(at..).ok_or(NotWindowsExe::Truncated)?;
        let end = rest
            .iter()
            .take(256)
            .position(|&c| c == 0)
            .ok_or(NotWindowsExe::Truncated)?;
        Ok(String::from_utf8_lossy(&rest[..end]).into_owned())
    }
}

/// One section: where its bytes are in memory and in the file.
struct Section {
    va: u32,
    size: u32,
    raw: u32,
}

/// The DLLs a PE32+ x86-64 console executable imports, in table order.
pub fn imported_dlls(bytes: &[u8]) -> Result<Vec<String>, NotWindowsExe> {
    let b = Bytes(bytes);
    if bytes.get(..2) != Some(b"MZ") {
        return Err(NotWindowsExe::NotPe);
    }
    let pe = b.u32(0x3c).map_err(|_| NotWindowsExe::NotPe)? as usize;
    if bytes.get(pe..pe + 4) != Some(b"PE\0\0") {
        return Err(NotWindowsExe::NotPe);
    }
    let coff = pe + 4;
    let opt = coff + 20;
    if b.u16(coff)? != IMAGE_FILE_MACHINE_AMD64 || b.u16(opt)? != PE32_PLUS {
        return Err(NotWindowsExe::NotX86_64);
    }
    let flags = b.u16(coff + 18)?;
    if flags & IMAGE_FILE_EXECUTABLE_IMAGE == 0 || flags & IMAGE_FILE_DLL != 0 {
        return Err(NotWindowsExe::NotExecutable);
    }
    match b.u16(opt + 68)? {
        SUBSYSTEM_CONSOLE => {}
        other => return Err(NotWindowsExe::NotConsole(other)),
    }
    let sections: Vec<Section> = {
        let (n, opt_size) = (b.u16(coff + 2)? as usize, b.u16(coff + 16)? as usize);
        (0..n)
            .map(|i| {
                let s = opt + opt_size + i * 40;
                Ok(Section {
                    size: b.u32(s + 8)?.max(b.u32(s + 16)?),
                    va: b.u32(s + 12)?,
                    raw: b.u32(s + 20)?,
                })
            })
            .collect::<Result<_, NotWindowsExe>>()?
    };
    let offset = |rva: u32| -> Result<usize, NotWindowsExe> {
        sections
            .iter()
            .find(|s| rva >= s.va && rva - s.va < s.size)
            .map(|s| (rva - s.va + s.raw) as usize)
            .ok_or(NotWindowsExe::Truncated)
    };
    // Data directory 1 (imports), after 112 bytes of PE32+ optional header.
    if b.u32(opt + 108)? < 2 {
        return Ok(Vec::new());
    }
    let import_rva = b.u32(opt + 112 + 8)?;
    if import_rva == 0 {
        return Ok(Vec::new());
    }
    let table = offset(import_rva)?;
    let mut dlls = Vec::new();
    for i in 0.. {
        let d = table + i * 20;
        let name = b.u32(d + 12)?;
        if name == 0 && b.u32(d)? == 0 && b.u32(d + 16)? == 0 {
            break;
        }
        if i > 4096 {
            return Err(NotWindowsExe::Truncated);
        }
        dlls.push(b.c_str(offset(name)?)?);
    }
    Ok(dlls)
}

/// Ok when `bytes` are a PE32+ x86-64 console executable importing only Windows' own
/// DLLs ([`is_system_dll`]).
pub fn check_windows_exe(bytes: &[u8]) -> Result<(), NotWindowsExe> {
    match imported_dlls(bytes)?
        .into_iter()
        .find(|d| !is_system_dll(d))
    {
        Some(foreign) => Err(NotWindowsExe::ForeignDll(foreign)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
