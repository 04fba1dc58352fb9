//! libpq's password file, so a CI runner configured for `psql` works for nestbench
//! unchanged and no password ever needs to be in a URL, a flag or a log.
//!
//! The file is `passfile=` from the URL, else `PGPASSFILE`, else `~/.pgpass`. Each line
//! is `hostname:port:database:username:password`; `*` in any of the first four fields
//! matches anything; `\:` and `\\` escape; `#` starts a comment line. The first line
//! that matches wins. As libpq does, a file that is not a plain file, or that the group
//! or others can access (permissions beyond 0600), is ignored with a warning — and the
//! warning is repeated in the error if the server then refuses the login.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The Unix-socket directory that libpq on Debian treats as `localhost`.
pub(crate) const DEFAULT_SOCKET_DIR: &str = "/var/run/postgresql";

/// What is being connected to, as the file's fields name it.
pub(crate) struct Key<'a> {
    /// Host name, or socket directory (`localhost` for [`DEFAULT_SOCKET_DIR`]).
    pub host: &'a str,
    /// Port.
    pub port: u16,
    /// Database.
    pub database: &'a str,
    /// User.
    pub user: &'a str,
}

/// The result of looking in the password file.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// A matching line's password.
    Password(String),
    /// No file, or no line matched.
    Nothing,
    /// The file was ignored; why, in libpq's words.
    Ignored(String),
}

/// Which file: `explicit` (the URL's `passfile=`), else `PGPASSFILE`, else `~/.pgpass`.
pub(crate) fn file(explicit: Option<&Path>) -> Option<PathBuf> {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("PGPASSFILE").map(PathBuf::from))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pgpass")))
}

/// Look `key` up in the file at `path`.
pub(crate) fn lookup(path: &Path, key: &Key<'_>) -> Found {
    let Ok(meta) = std::fs::metadata(path) else {
        return Found::Nothing;
    };
    if !meta.is_file() {
        return Found::Ignored(format!(
            "password file \"{}\" is not a plain file",
            path.display()
        ));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        return Found::Ignored(format!(
            "password file \"{}\" has group or world access; permissions should be u=rw (0600) or less",
            path.display()
        ));
    }
    match std::fs::read_to_string(path) {
        Ok(text) => find(&text, key).map_or(Found::Nothing, Found::Password),
        Err(e) => Found::Ignored(format!(
            "password file \"{}\" cannot be read: {e}",
            path.display()
        )),
    }
}

/// The password of the first line of `text` that matches `key`.
pub(crate) fn find(text: &str, key: &Key<'_>) -> Option<String> {
    let port = key.port.to_string();
    let wanted = [key.host, port.as_str(), key.database, key.user];
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .find_map(|line| {
            let fields = split(line);
            if fields.len() < 5 {
                return None;
            }
            let matches = fields[..4]
                .iter()
                .zip(wanted)
                .all(|(f, w)| f == "*" || f == w);
            matches.then(|| fields[4].clone())
        })
}

/// The fields of a line: split at unescaped `:`, the fifth takes the rest.
fn split(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    fields.last_mut().unwrap().push(n);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: Key<'static> = Key {
        host: "db.example",
        port: 5432,
        database: "nb",
        user: "ci",
    };

    #[test]
    fn first_match_wins_with_wildcards_and_escapes() {
        let text = "# comment\n\
                    other:5432:nb:ci:wrong\n\
                    db.example:5432:nb:ci:p\\:w\\\\d\n\
                    *:*:*:*:fallback\n";
        assert_eq!(find(text, &KEY).as_deref(), Some("p:w\\d"));
        assert_eq!(find("*:*:*:ci:any", &KEY).as_deref(), Some("any"));
        assert_eq!(find("*:5433:*:*:x", &KEY), None);
        assert_eq!(find("db.example:5432:nb", &KEY), None);
        // A colon in the password needs no escape once four fields are read.
        assert_eq!(find("*:*:*:*:a:b", &KEY).as_deref(), Some("a:b"));
    }

    #[test]
    fn a_file_others_can_read_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pgpass");
        std::fs::write(&path, "*:*:*:*:pw\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(lookup(&path, &KEY), Found::Password("pw".into()));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(lookup(&path, &KEY), Found::Ignored(w) if w.contains("0600")));
        assert_eq!(lookup(&dir.path().join("none"), &KEY), Found::Nothing);
        assert!(matches!(lookup(dir.path(), &KEY), Found::Ignored(_)));
    }
}
