//! Connecting to a PostgreSQL server the way its users expect from libpq.
//!
//! - **Password**: from the URL if it has one (allowed, never shown), else
//!   `PGPASSWORD`, else the password file ([`super::pgpass`]). It is never written to
//!   a message; a password file that was ignored is named in the refusal.
//! - **TLS** (OpenSSL, through `postgres-openssl`: the workspace already links the
//!   system libssl for SSH, so this adds no second TLS library): `sslmode` from the URL,
//!   else `PGSSLMODE`, else `prefer`. `prefer` tries TLS and falls back to plain when
//!   the server has none or the handshake fails; `require` insists on TLS and, as in
//!   libpq, checks the certificate chain only when a root certificate is there
//!   (`sslrootcert=`, `PGSSLROOTCERT` or `~/.postgresql/root.crt`); `verify-ca` checks
//!   the chain, `verify-full` the chain and the host name. Unix-socket connections use
//!   no TLS, as PostgreSQL offers none there.
//! - **Defaults**: user `PGUSER`, else `USER`; database the user's name; host the
//!   Debian socket directory `/var/run/postgresql`; a 10 s connect timeout unless
//!   `connect_timeout=` says otherwise, so a server that is down fails quickly.

use super::pgpass::{self, Found, Key};
use super::pgurl::{self, PgTarget, TlsMode};
use crate::error::{chain, one_line};
use crate::{HistoryError, PgUrl};
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
use postgres::config::{Host, SslMode};
use postgres::{Client, Config, NoTls};
use postgres_openssl::MakeTlsConnector;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Connect timeout when the URL sets none.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Open a connection to `url`.
pub(crate) fn connect(url: &PgUrl) -> Result<Client, HistoryError> {
    let shown = url.to_string();
    let bad = |why: String| HistoryError::BadLocation {
        text: shown.clone(),
        why,
    };
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let PgTarget {
        mut config,
        tls,
        root_cert,
        passfile,
    } = pgurl::parse(url.secret_url()).map_err(bad)?;

    if config.get_user().is_none() {
        let user = env("PGUSER")
            .or_else(|| env("USER"))
            .ok_or_else(|| bad("no user: write postgres://USER@HOST/DB".into()))?;
        config.user(&user);
    }
    if config.get_hosts().is_empty() {
        config.host_path(pgpass::DEFAULT_SOCKET_DIR);
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }

    let file = pgpass::file(passfile.as_deref());
    let mut source = Source::None(file.clone(), None);
    if config.get_password().is_some() {
        source = Source::Url;
    } else if let Some(p) = env("PGPASSWORD") {
        config.password(p);
        source = Source::Env;
    } else if let Some(file) = &file {
        let found = {
            let mut host = String::new();
            pgpass::lookup(file, &key_of(&config, &mut host))
        };
        match found {
            Found::Password(p) => {
                config.password(p);
                source = Source::File(file.clone());
            }
            Found::Nothing => {}
            Found::Ignored(why) => {
                eprintln!("warning: {why}");
                source = Source::None(Some(file.clone()), Some(why));
            }
        }
    }

    let unix = config
        .get_hosts()
        .iter()
        .all(|h| matches!(h, Host::Unix(_)));
    let mode = match tls {
        Some(m) => m,
        None => match env("PGSSLMODE") {
            Some(v) => TlsMode::parse(&v).map_err(|why| bad(format!("PGSSLMODE: {why}")))?,
            None => TlsMode::Prefer,
        },
    };
    let mode = if unix { TlsMode::Disable } else { mode };
    let root = root_cert
        .or_else(|| env("PGSSLROOTCERT").map(PathBuf::from))
        .or_else(|| {
            let home = PathBuf::from(env("HOME")?);
            Some(home.join(".postgresql/root.crt")).filter(|p| p.is_file())
        });

    let result = match mode {
        TlsMode::Disable => plain(&config),
        TlsMode::Prefer => match with_tls(&config, SslMode::Prefer, Verify::None).map_err(bad)? {
            Err(e) if e.to_string().starts_with("error performing TLS handshake") => plain(&config),
            r => r,
        },
        TlsMode::Require => {
            let verify = root.as_deref().map_or(Verify::None, Verify::Chain);
            with_tls(&config, SslMode::Require, verify).map_err(bad)?
        }
        TlsMode::VerifyCa | TlsMode::VerifyFull => {
            let root = root.as_deref().ok_or_else(|| {
                bad("sslmode=verify-ca and verify-full need a root certificate: sslrootcert=FILE, PGSSLROOTCERT or ~/.postgresql/root.crt".into())
            })?;
            let verify = if mode == TlsMode::VerifyCa {
                Verify::Chain(root)
            } else {
                Verify::Full(root)
            };
            with_tls(&config, SslMode::Require, verify).map_err(bad)?
        }
    };
    result.map_err(|e| connect_error(&shown, &e, &source))
}

/// What is looked up in the password file for `config` (its first host and port).
fn key_of<'a>(config: &'a Config, host: &'a mut String) -> Key<'a> {
    *host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) if p == Path::new(pgpass::DEFAULT_SOCKET_DIR) => "localhost".into(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let user = config.get_user().unwrap_or_default();
    Key {
        host: host.as_str(),
        port: config.get_ports().first().copied().unwrap_or(5432),
        database: config.get_dbname().unwrap_or(user),
        user,
    }
}

/// How much of the server's certificate is checked.
#[derive(Clone, Copy)]
enum Verify<'a> {
    /// Nothing (encryption against eavesdropping only, as libpq's prefer/require).
    None,
    /// The chain, against this root certificate.
    Chain(&'a Path),
    /// The chain and the host name.
    Full(&'a Path),
}

fn plain(config: &Config) -> Result<Client, postgres::Error> {
    let mut c = config.clone();
    c.ssl_mode(SslMode::Disable);
    c.connect(NoTls)
}

/// Connect with TLS; the outer error is a TLS setup error (a root certificate that
/// cannot be loaded), the inner the connection's.
fn with_tls(
    config: &Config,
    mode: SslMode,
    verify: Verify<'_>,
) -> Result<Result<Client, postgres::Error>, String> {
    let setup = |e: openssl::error::ErrorStack| format!("TLS setup: {e}");
    let mut builder = SslConnector::builder(SslMethod::tls_client()).map_err(setup)?;
    match verify {
        Verify::None => builder.set_verify(SslVerifyMode::NONE),
        Verify::Chain(root) | Verify::Full(root) => {
            builder.set_ca_file(root).map_err(|e| {
                format!("root certificate {} cannot be loaded ({e})", root.display())
            })?;
            builder.set_verify(SslVerifyMode::PEER);
        }
    }
    let mut connector = MakeTlsConnector::new(builder.build());
    if !matches!(verify, Verify::Full(_)) {
        connector.set_callback(|c, _| {
            c.set_verify_hostname(false);
            Ok(())
        });
    }
    let mut c = config.clone();
    c.ssl_mode(mode);
    Ok(c.connect(connector))
}

/// Where the password came from, for the hint of a refused login.
enum Source {
    /// The URL.
    Url,
    /// `PGPASSWORD`.
    Env,
    /// This password file.
    File(PathBuf),
    /// Nowhere: the file looked in (if any) and why it was ignored (if it was).
    None(Option<PathBuf>, Option<String>),
}

/// What to do about a refused login, by where its password came from.
fn password_hint(source: &Source) -> String {
    const FILES: &str = "passfile=, PGPASSFILE or ~/.pgpass, mode 0600";
    match source {
        Source::Url => {
            format!("the URL's password was refused; better keep it in a password file ({FILES})")
        }
        Source::Env => "the password in PGPASSWORD was refused".into(),
        Source::File(f) => format!("the password from {} was refused", f.display()),
        Source::None(file, ignored) => {
            let looked = file
                .as_ref()
                .map(|f| format!(" (looked in {})", f.display()))
                .unwrap_or_default();
            let ignored = ignored
                .as_ref()
                .map(|w| format!("{w}; "))
                .unwrap_or_default();
            format!("{ignored}no password was found{looked}: add a line host:port:database:user:password to a password file ({FILES}), or set PGPASSWORD")
        }
    }
}

/// A failed connection as the history's error: the server's refusal, or unreachable.
fn connect_error(shown: &str, e: &postgres::Error, source: &Source) -> HistoryError {
    let refused = |detail: String, hint: String| HistoryError::Refused {
        location: shown.into(),
        detail,
        hint,
    };
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        let hint = match code {
            _ if db.message().contains("pg_hba.conf") => {
                "the server's pg_hba.conf does not admit this connection (over TCP it may require TLS: sslmode=require)".into()
            }
            // invalid_password, invalid_authorization_specification
            "28P01" | "28000" => password_hint(source),
            // invalid_catalog_name
            "3D000" => "create the database (createdb), or fix the URL's database name".into(),
            _ => "check the URL's user and database and the server's pg_hba.conf".into(),
        };
        return refused(
            one_line(&format!("{}: {}", db.severity(), db.message())),
            hint,
        );
    }
    let text = chain(e);
    if text.contains("password missing") {
        return refused(
            "the server asks for a password".into(),
            password_hint(source),
        );
    }
    HistoryError::Unreachable {
        location: shown.into(),
        detail: text,
    }
}
