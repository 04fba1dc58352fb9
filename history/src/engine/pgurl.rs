//! A PostgreSQL URL read the way libpq users write it. tokio-postgres parses most of it
//! (user, password, hosts — `%2F`-encoded or `host=/dir` Unix-socket directories —,
//! ports, database, `connect_timeout`, …); the options it lacks are taken out first and
//! handled here: `sslmode` with libpq's five values, `sslrootcert`, and `passfile`.
//! [`redact`] is the only form of a URL that may be shown.

use std::path::PathBuf;

/// How a connection uses TLS (libpq's `sslmode`; `allow` is not offered).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlsMode {
    /// Never.
    Disable,
    /// TLS when the server offers it, else plain; the certificate is not checked.
    Prefer,
    /// TLS or fail; the certificate is checked only when a root certificate is there.
    Require,
    /// TLS, the certificate chain checked against the root certificate.
    VerifyCa,
    /// As `VerifyCa`, and the certificate names the host.
    VerifyFull,
}

impl TlsMode {
    /// libpq's word for a mode.
    pub(crate) fn parse(v: &str) -> Result<TlsMode, String> {
        Ok(match v {
            "disable" => TlsMode::Disable,
            "prefer" => TlsMode::Prefer,
            "require" => TlsMode::Require,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-full" => TlsMode::VerifyFull,
            _ => {
                return Err(format!(
                    "sslmode={v} is not one of disable, prefer, require, verify-ca, verify-full"
                ))
            }
        })
    }
}

/// A parsed URL: tokio-postgres's part, and the options taken out before it.
pub(crate) struct PgTarget {
    /// Everything tokio-postgres understands.
    pub config: postgres::Config,
    /// `sslmode`, when the URL has one.
    pub tls: Option<TlsMode>,
    /// `sslrootcert`, when given.
    pub root_cert: Option<PathBuf>,
    /// `passfile`, when given.
    pub passfile: Option<PathBuf>,
}

/// Whether `text` names a server rather than a file.
pub(crate) fn is_postgres_url(text: &str) -> bool {
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}

/// Parse a `postgres://` URL. Errors name the option, never a value of the userinfo.
pub(crate) fn parse(url: &str) -> Result<PgTarget, String> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let (mut tls, mut root_cert, mut passfile) = (None, None, None);
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').ok_or("a URL option without `=`")?;
        match decode(k).as_str() {
            "sslmode" => tls = Some(TlsMode::parse(&decode(v))?),
            "sslrootcert" => root_cert = Some(PathBuf::from(decode(v))),
            "passfile" => passfile = Some(PathBuf::from(decode(v))),
            _ => rest.push(pair),
        }
    }
    let url = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    let config = url.parse::<postgres::Config>().map_err(|e| {
        format!(
            "not a PostgreSQL URL ({}); write postgres://USER@HOST[:PORT]/DB",
            crate::error::chain(&e)
        )
    })?;
    Ok(PgTarget {
        config,
        tls,
        root_cert,
        passfile,
    })
}

/// The URL without its password: the userinfo keeps only the user, and a `password=`
/// option is dropped. The userinfo ends at the first `@`, as tokio-postgres reads it.
pub(crate) fn redact(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let rest = match rest.split_once('@') {
        Some((creds, after)) => {
            let user = creds.split(':').next().unwrap_or("");
            format!("{user}@{after}")
        }
        None => rest.to_string(),
    };
    let (base, query) = rest.split_once('?').unwrap_or((&rest, ""));
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && decode(p.split('=').next().unwrap_or("")) != "password")
        .collect();
    if kept.is_empty() {
        format!("{scheme}://{base}")
    } else {
        format!("{scheme}://{base}?{}", kept.join("&"))
    }
}

/// Percent-decoding, lossy on invalid UTF-8 (an option name or a path).
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).copied(), b.get(i + 2).copied()) {
            (b'%', Some(h), Some(l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap() * 16 + hex(l).unwrap()) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use postgres::config::Host;

    #[test]
    fn libpq_options_are_taken_out_and_the_rest_is_tokio_postgres() {
        let t = parse("postgres://ci@db:5433/nb?sslmode=verify-full&sslrootcert=%2Fca.pem&passfile=/p&connect_timeout=3")
            .unwrap();
        assert_eq!(t.tls, Some(TlsMode::VerifyFull));
        assert_eq!(t.root_cert, Some(PathBuf::from("/ca.pem")));
        assert_eq!(t.passfile, Some(PathBuf::from("/p")));
        assert_eq!(t.config.get_user(), Some("ci"));
        assert_eq!(t.config.get_dbname(), Some("nb"));
        assert_eq!(t.config.get_ports(), [5433]);
        assert_eq!(
            t.config.get_connect_timeout(),
            Some(&std::time::Duration::from_secs(3))
        );
        assert!(parse("postgres://ci@db/nb?sslmode=allow").is_err());
        assert!(parse("postgres://ci@db/nb?nonsense=1").is_err());
    }

    #[test]
    fn unix_socket_directories_in_both_spellings() {
        for url in [
            "postgres://ci@%2Fvar%2Frun%2Fpostgresql/nb",
            "postgres://ci@/nb?host=/var/run/postgresql",
        ] {
            let t = parse(url).unwrap();
            assert_eq!(
                t.config.get_hosts(),
                [Host::Unix("/var/run/postgresql".into())],
                "{url}"
            );
        }
    }

    #[test]
    fn redaction_keeps_everything_but_the_password() {
        assert_eq!(
            redact("postgres://ci:s3cr%40t@db/nb?password=x&sslmode=require"),
            "postgres://ci@db/nb?sslmode=require"
        );
        assert_eq!(redact("postgres://db/nb"), "postgres://db/nb");
        assert_eq!(
            redact("postgres://ci@db/nb?password=x"),
            "postgres://ci@db/nb"
        );
    }
}
