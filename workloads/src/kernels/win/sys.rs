//! The little the Windows kernels share about calling Win32: NUL-terminated UTF-16
//! paths and errors that name the call that failed.

use crate::context::RunError;
use std::os::windows::ffi::OsStrExt;
use std::path::Path;

/// `p` as a NUL-terminated UTF-16 string, for the `W` functions.
pub(crate) fn wide(p: &Path) -> Vec<u16> {
    p.as_os_str().encode_wide().chain(Some(0)).collect()
}

/// UTF-16 up to its first NUL, as a String (lossy).
pub(crate) fn from_wide(w: &[u16]) -> String {
    let end = w.iter().position(|&c| c == 0).unwrap_or(w.len());
    String::from_utf16_lossy(&w[..end])
}

/// The calling thread's last Win32 error, as the error of `what`.
pub(crate) fn last_error(what: impl Into<String>) -> RunError {
    RunError::io(what, std::io::Error::last_os_error())
}
