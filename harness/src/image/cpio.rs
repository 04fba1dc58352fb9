//! An in-memory file tree written out as a `newc` cpio archive, the format the Linux
//! kernel unpacks as an initramfs. Written here rather than by `cpio(1)` so the archive
//! is reproducible (owner root, mtime 0, sorted) and the host needs one tool less.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::PathBuf;

/// One entry of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A directory.
    Dir,
    /// A regular file copied from the host (symlinks followed) with this mode.
    HostFile {
        /// Where the bytes come from.
        src: PathBuf,
        /// Permission bits.
        mode: u32,
    },
    /// A regular file with these bytes.
    Bytes {
        /// Content.
        data: Vec<u8>,
        /// Permission bits.
        mode: u32,
    },
    /// A symbolic link to `target`.
    Symlink(String),
}

/// Paths (relative, no leading `/`) to entries; parents are added automatically.
#[derive(Debug, Default)]
pub struct Tree {
    entries: BTreeMap<String, Entry>,
}

impl Tree {
    /// Add `entry` at `path` (e.g. `usr/bin/qemu-system-x86_64`), creating parents.
    /// A later add of the same path replaces the earlier one.
    pub fn add(&mut self, path: &str, entry: Entry) {
        let path = path.trim_start_matches('/').trim_end_matches('/');
        let mut parent = String::new();
        for comp in path
            .split('/')
            .collect::<Vec<_>>()
            .iter()
            .rev()
            .skip(1)
            .rev()
        {
            if !parent.is_empty() {
                parent.push('/');
            }
            parent.push_str(comp);
            self.entries.entry(parent.clone()).or_insert(Entry::Dir);
        }
        self.entries.insert(path.to_string(), entry);
    }

    /// Whether `path` is already in the tree.
    pub fn contains(&self, path: &str) -> bool {
        self.entries.contains_key(path.trim_start_matches('/'))
    }

    /// Every entry, sorted by path (parents before children).
    #[cfg(test)]
    pub fn entries(&self) -> impl Iterator<Item = (&String, &Entry)> {
        self.entries.iter()
    }

    /// Write the tree as a newc archive to `out`.
    pub fn write_newc(&self, out: &mut dyn Write) -> io::Result<()> {
        for (i, (path, entry)) in self.entries.iter().enumerate() {
            let ino = i as u32 + 1;
            let (mode, data): (u32, std::borrow::Cow<'_, [u8]>) = match entry {
                Entry::Dir => (0o040_755, (&[][..]).into()),
                Entry::HostFile { src, mode } => (
                    0o100_000 | mode,
                    std::fs::read(src)
                        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", src.display())))?
                        .into(),
                ),
                Entry::Bytes { data, mode } => (0o100_000 | mode, data.as_slice().into()),
                Entry::Symlink(t) => (0o120_777, t.as_bytes().into()),
            };
            let nlink = if matches!(entry, Entry::Dir) { 2 } else { 1 };
            write_header(out, ino, mode, nlink, data.len(), path)?;
            out.write_all(&data)?;
            pad(out, data.len())?;
        }
        write_header(out, 0, 0, 1, 0, "TRAILER!!!")
    }
}

fn write_header(
    out: &mut dyn Write,
    ino: u32,
    mode: u32,
    nlink: u32,
    size: usize,
    name: &str,
) -> io::Result<()> {
    let namesize = name.len() + 1;
    // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor,
    // rdevmajor, rdevminor, namesize, check
    write!(
        out,
        "070701{ino:08x}{mode:08x}{:08x}{:08x}{nlink:08x}{:08x}{size:08x}{:08x}{:08x}{:08x}{:08x}{namesize:08x}{:08x}",
        0, 0, 0, 0, 0, 0, 0, 0
    )?;
    out.write_all(name.as_bytes())?;
    out.write_all(&[0])?;
    pad(out, 110 + namesize)
}

fn pad(out: &mut dyn Write, len: usize) -> io::Result<()> {
    let n = (4 - len % 4) % 4;
    out.write_all(&[0u8; 3][..n])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_come_first_and_archive_is_aligned() {
        let mut t = Tree::default();
        t.add(
            "usr/bin/x",
            Entry::Bytes {
                data: b"hello".to_vec(),
                mode: 0o755,
            },
        );
        t.add("init", Entry::Symlink("bin/busybox".into()));
        let names: Vec<_> = t.entries().map(|(p, _)| p.clone()).collect();
        assert_eq!(names, ["init", "usr", "usr/bin", "usr/bin/x"]);
        let mut buf = vec![];
        t.write_newc(&mut buf).unwrap();
        assert_eq!(buf.len() % 4, 0);
        assert!(buf.starts_with(b"070701"));
        let s = String::from_utf8_lossy(&buf);
        assert!(s.contains("usr/bin/x\0"));
        assert!(s.contains("TRAILER!!!"));
    }

    #[test]
    fn archive_unpacks_with_cpio() {
        if !crate::testreq::require_tool("cpio", "cpio") {
            return;
        }
        let mut t = Tree::default();
        t.add(
            "a/b.txt",
            Entry::Bytes {
                data: b"x".to_vec(),
                mode: 0o644,
            },
        );
        t.add("a/link", Entry::Symlink("b.txt".into()));
        let dir = tempfile::tempdir().unwrap();
        let mut buf = vec![];
        t.write_newc(&mut buf).unwrap();
        let mut child = std::process::Command::new("cpio")
            .args(["-id", "--quiet"])
            .current_dir(dir.path())
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&buf).unwrap();
        assert!(child.wait().unwrap().success());
        assert_eq!(std::fs::read(dir.path().join("a/link")).unwrap(), b"x");
    }
}
