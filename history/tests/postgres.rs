//! The shared engine against real, throwaway PostgreSQL servers (tests/common/pg.rs):
//! the shared suite over a Unix socket, and what only a server can show — a password
//! from a 0600 password file and never in a message, a wrong password and an unsafe
//! password file refused in one line, a newer schema refused unchanged, TLS by
//! `sslmode`, and a server that is not there failing quickly. Under CI=true a machine
//! without PostgreSQL fails these tests instead of skipping them.

mod common;

use common::one_line;
use common::pg::{Listen, PgServer, PASSWORD, ROLE};
use history::{open, HistoryError, Location};
use std::time::{Duration, Instant};

fn postgres(name: &str) -> Option<(PgServer, Location)> {
    let server = PgServer::start(Listen::Socket)?;
    let db = server.database(name);
    let url = server.socket_url(&db, &server.good_passfile());
    Some((server, Location::parse(&url).unwrap()))
}

shared_suite!(postgres);

fn refused(url: &str) -> String {
    let err = open(&Location::parse(url).unwrap()).unwrap_err();
    assert!(matches!(err, HistoryError::Refused { .. }), "{err:?}");
    let text = err.to_string();
    assert!(one_line(&text), "{text}");
    assert!(
        !text.contains(PASSWORD) && !text.contains("wrong-pw"),
        "{text}"
    );
    text
}

#[test]
fn passwords_come_from_a_0600_password_file_and_wrong_ones_are_refused() {
    let Some(server) = PgServer::start(Listen::Socket) else {
        return;
    };
    let db = server.database("auth");
    let sock = server.dir().display().to_string();
    let port = server.port;
    // The socket directory is the host field; an earlier line for another host loses.
    let exact = server.passfile(
        "exact",
        &format!("elsewhere:{port}:auth:{ROLE}:wrong-pw\n{sock}:{port}:auth:{ROLE}:{PASSWORD}\n"),
        0o600,
    );
    let url = server.socket_url(&db, &format!("passfile={}", exact.display()));
    let loc = Location::parse(&url).unwrap();
    assert!(!loc.to_string().contains(PASSWORD));
    open(&loc).unwrap();

    let wrong = server.passfile("wrong", &format!("*:*:*:{ROLE}:wrong-pw\n"), 0o600);
    let text = refused(&server.socket_url(&db, &format!("passfile={}", wrong.display())));
    assert!(text.contains("password authentication failed"), "{text}");
    assert!(
        text.contains("the password from") && text.contains("was refused"),
        "{text}"
    );

    // Readable by others: ignored, as libpq does, and the refusal says so.
    let open_file = server.passfile("open", &format!("*:*:*:{ROLE}:{PASSWORD}\n"), 0o644);
    let text = refused(&server.socket_url(&db, &format!("passfile={}", open_file.display())));
    assert!(text.contains("group or world access"), "{text}");

    if std::env::var_os("PGPASSWORD").is_none() {
        let none = server.dir().join("no-such-pgpass");
        let text = refused(&server.socket_url(&db, &format!("passfile={}", none.display())));
        assert!(
            text.contains("asks for a password")
                && text.contains("no password was found (looked in")
                && text.contains("no-such-pgpass"),
            "{text}"
        );
    }

    // A password in the URL works and is never shown.
    let enc = sock.replace('/', "%2F");
    let inline = format!("postgres://{ROLE}:{PASSWORD}@{enc}:{port}/auth");
    let h = open(&Location::parse(&inline).unwrap()).unwrap();
    assert!(!format!("{:?} {}", h, h.location()).contains(PASSWORD));
}

#[test]
fn a_newer_schema_is_refused_in_one_line_and_left_unchanged() {
    let Some((server, loc)) = postgres("newer") else {
        return;
    };
    drop(open(&loc).unwrap());
    let mut admin = server.admin("newer");
    admin
        .batch_execute("INSERT INTO schema_migrations VALUES (99, 'from the future', 'x')")
        .unwrap();
    let err = open(&loc).unwrap_err();
    assert!(
        matches!(err, HistoryError::TooNew { found: 99, .. }),
        "{err:?}"
    );
    assert!(one_line(&err.to_string()), "{err}");
    let n: i64 = admin
        .query_one("SELECT COUNT(*) FROM schema_migrations", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, history::SCHEMA_VERSION + 1);
}

#[test]
fn tls_follows_sslmode_and_certificates_are_checked_as_asked() {
    let Some(server) = PgServer::start(Listen::TcpTlsOnly) else {
        return;
    };
    let db = server.database("tls");
    let pass = server.good_passfile();
    let certs = server.certs.as_ref().unwrap();
    let url = |host: &str, q: &str| server.tcp_url(host, &db, &format!("{pass}&{q}"));
    // The server accepts TCP logins over TLS only (hostssl), so success means TLS.
    for q in ["sslmode=require", "sslmode=prefer"] {
        open(&Location::parse(&url("127.0.0.1", q)).unwrap())
            .unwrap_or_else(|e| panic!("{q}: {e}"));
    }
    let plain = open(&Location::parse(&url("127.0.0.1", "sslmode=disable")).unwrap()).unwrap_err();
    assert!(matches!(plain, HistoryError::Refused { .. }), "{plain:?}");
    assert!(plain.to_string().contains("pg_hba.conf"), "{plain}");
    let ca = format!("sslrootcert={}", certs.ca.display());
    let other = format!("sslrootcert={}", certs.other_ca.display());
    let ok = [
        url("127.0.0.1", &format!("sslmode=verify-ca&{ca}")),
        url("localhost", &format!("sslmode=verify-full&{ca}")),
        url("127.0.0.1", &format!("sslmode=require&{ca}")),
    ];
    for u in ok {
        open(&Location::parse(&u).unwrap()).unwrap_or_else(|e| panic!("{u}: {e}"));
    }
    let bad = [
        // The certificate names localhost, not 127.0.0.1.
        url("127.0.0.1", &format!("sslmode=verify-full&{ca}")),
        // Another CA did not sign it; with a root certificate, require checks the chain.
        url("localhost", &format!("sslmode=verify-ca&{other}")),
        url("127.0.0.1", &format!("sslmode=require&{other}")),
    ];
    for u in bad {
        let err = open(&Location::parse(&u).unwrap()).unwrap_err();
        assert!(
            matches!(err, HistoryError::Unreachable { .. }),
            "{u}: {err:?}"
        );
        assert!(one_line(&err.to_string()), "{err}");
    }
}

#[test]
fn prefer_falls_back_to_plain_when_the_server_has_no_tls() {
    let Some(server) = PgServer::start(Listen::Tcp) else {
        return;
    };
    let db = server.database("plain");
    let pass = server.good_passfile();
    open(&Location::parse(&server.tcp_url("127.0.0.1", &db, &pass)).unwrap()).unwrap();
    let err = open(
        &Location::parse(&server.tcp_url("127.0.0.1", &db, &format!("{pass}&sslmode=require")))
            .unwrap(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("TLS"), "{err}");
}

#[test]
fn a_server_that_is_not_there_is_one_line_quickly_without_the_password() {
    // Needs no PostgreSQL: nothing listens on a port just freed, or in an empty directory.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let empty = tempfile::tempdir().unwrap();
    let enc = empty.path().display().to_string().replace('/', "%2F");
    for (url, why) in [
        (
            format!("postgres://ci:topsecret@127.0.0.1:{port}/h?connect_timeout=2"),
            "Connection refused",
        ),
        (
            format!("postgres://ci:topsecret@{enc}/h"),
            "No such file or directory",
        ),
    ] {
        let t = Instant::now();
        let err = open(&Location::parse(&url).unwrap()).unwrap_err();
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
        assert!(matches!(err, HistoryError::Unreachable { .. }), "{err:?}");
        let text = err.to_string();
        assert!(one_line(&text) && !text.contains("topsecret"), "{text}");
        assert!(
            text.contains("--no-history") && text.contains(why),
            "{text}"
        );
        eprintln!("{text}");
    }
}

#[test]
fn a_role_that_may_not_create_tables_uses_a_history_its_owner_migrated() {
    let Some((server, owner)) = postgres("shared") else {
        return;
    };
    drop(open(&owner).unwrap());
    let mut admin = server.admin("shared");
    admin
        .batch_execute(
            "CREATE ROLE runner LOGIN PASSWORD 'runner-pw';
             GRANT USAGE ON SCHEMA public TO runner;
             GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO runner;
             REVOKE CREATE ON SCHEMA public FROM PUBLIC;",
        )
        .unwrap();
    let pass = server.passfile("runner-pass", "*:*:*:runner:runner-pw\n", 0o600);
    let url = server
        .socket_url("shared", &format!("passfile={}", pass.display()))
        .replace(&format!("{ROLE}@"), "runner@");
    let mut h = open(&Location::parse(&url).unwrap()).unwrap();
    let doc = &common::fixture_docs()[0];
    h.record(doc, None).unwrap();
    assert_eq!(&h.select(&Default::default()).unwrap()[0].doc, doc);
}
