//! Uploads over SFTP, for servers that offer the subsystem (OpenSSH on Linux and on
//! Windows, where there is no `cat` to stream into). A dropbear guest offers none:
//! asking fails at once, and [`super::ssh::SshRemote`] falls back to the stream upload
//! of [`super::ssh_exec`] for good.
//!
//! The session is non-blocking everywhere else; libssh2's SFTP layer is far simpler
//! to drive blocking, so the upload switches the session to blocking mode with
//! libssh2's own timeout set to what is left of the caller's deadline before every
//! call, and back when done (a guard, on every path). As with the stream upload the
//! bytes go to `PATH.tmp` and are renamed into place only once complete.

use super::ssh_exec::Wire;
use super::RemoteError;
use ssh2::{ErrorCode, FileStat, OpenFlags, OpenType, Session, Sftp};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// libssh2's "timed out" for a blocking call.
const TIMED_OUT: ErrorCode = ErrorCode::Session(-9);

/// Bytes per write call: large enough for libssh2 to pipeline its packets.
const CHUNK: usize = 1024 * 1024;

/// Why an SFTP upload did not happen.
pub(crate) enum SftpError {
    /// The server has no SFTP subsystem: use the stream upload.
    Unavailable(String),
    /// It does, and the upload failed.
    Failed(RemoteError),
}

/// The session in blocking mode until dropped.
struct Blocking<'a>(&'a Session);

impl Drop for Blocking<'_> {
    fn drop(&mut self) {
        self.0.set_blocking(false);
    }
}

impl Wire<'_> {
    /// Put `data` at `path` (mode `mode` unless it is a Windows path) over SFTP.
    pub(crate) fn sftp_upload(
        &self,
        data: &[u8],
        path: &str,
        mode: u32,
        deadline: Instant,
    ) -> Result<(), SftpError> {
        let started = Instant::now();
        let what = format!("upload to {path}");
        self.sess.set_blocking(true);
        let _guard = Blocking(self.sess);
        let arm = || {
            let left = deadline
                .saturating_duration_since(Instant::now())
                .as_millis();
            self.sess
                .set_timeout(left.clamp(1, u32::MAX as u128) as u32);
        };
        arm();
        let sftp = match self.sess.sftp() {
            Ok(s) => s,
            Err(e) if e.code() == TIMED_OUT => {
                return Err(SftpError::Failed(self.timeout(&what, deadline, started)))
            }
            Err(e) => return Err(SftpError::Unavailable(e.message().to_string())),
        };
        let fail = |e: ssh2::Error| {
            if e.code() == TIMED_OUT {
                self.timeout(&what, deadline, started)
            } else {
                self.io(format!("{what} over SFTP: {}", e.message()))
            }
        };
        let tmp = format!("{path}.tmp");
        let result = (|| {
            arm();
            let mut file = sftp
                .open_mode(
                    Path::new(&tmp),
                    OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE,
                    mode as i32,
                    OpenType::File,
                )
                .map_err(fail)?;
            let mut off = 0;
            while off < data.len() {
                arm();
                let end = (off + CHUNK).min(data.len());
                match file.write(&data[off..end]) {
                    Ok(n) => off += n,
                    Err(e) => return Err(self.write_failed(&mut file, path, off, data.len(), e)),
                }
            }
            arm();
            file.close().map_err(fail)?;
            drop(file);
            finish(&sftp, &tmp, path, mode, &arm).map_err(fail)
        })();
        if result.is_err() {
            arm();
            let _ = sftp.unlink(Path::new(&tmp));
        }
        result.map_err(SftpError::Failed)
    }

    /// A failed write as the caller should read it: a full disk as
    /// [`RemoteError::NoSpace`] (the server says only "Failure"; its free space says
    /// why), a timeout as such, anything else with how far it got.
    fn write_failed(
        &self,
        file: &mut ssh2::File,
        path: &str,
        off: usize,
        len: usize,
        e: std::io::Error,
    ) -> RemoteError {
        if e.kind() == std::io::ErrorKind::TimedOut {
            return self.io(format!(
                "upload to {path} timed out after {off} of {len} bytes"
            ));
        }
        let dir = path
            .rsplit_once('/')
            .map_or(".", |(d, _)| if d.is_empty() { "/" } else { d });
        if let Ok(vfs) = file.statvfs() {
            if vfs.f_bavail.saturating_mul(vfs.f_frsize) < (len - off) as u64 {
                return RemoteError::NoSpace {
                    level: self.target.name.clone(),
                    dir: dir.to_string(),
                };
            }
        }
        self.io(format!(
            "upload to {path} over SFTP failed after {off} of {len} bytes: {e}"
        ))
    }
}

/// Set the mode, then rename `tmp` over `path`. SFTP version 3 (OpenSSH's) renames
/// only onto a name that does not exist, so the old file goes first. Windows paths
/// (`/C:/…`) keep the server's permissions: there are no POSIX modes to set.
fn finish(
    sftp: &Sftp,
    tmp: &str,
    path: &str,
    mode: u32,
    arm: &dyn Fn(),
) -> Result<(), ssh2::Error> {
    if !is_windows_path(path) {
        arm();
        sftp.setstat(
            Path::new(tmp),
            FileStat {
                size: None,
                uid: None,
                gid: None,
                perm: Some(mode),
                atime: None,
                mtime: None,
            },
        )?;
    }
    arm();
    let _ = sftp.unlink(Path::new(path));
    arm();
    sftp.rename(Path::new(tmp), Path::new(path), None)
}

/// `/C:/…`: a Windows path in the form Windows OpenSSH's SFTP server uses.
fn is_windows_path(path: &str) -> bool {
    let b = path.as_bytes();
    b.len() >= 3 && b[0] == b'/' && b[1].is_ascii_alphabetic() && b[2] == b':'
}

#[cfg(test)]
mod tests {
    #[test]
    fn windows_paths_are_told_apart() {
        assert!(super::is_windows_path("/C:/Users/nb/a.exe"));
        assert!(!super::is_windows_path("/tmp/a"));
        assert!(!super::is_windows_path("/"));
    }
}
