//! A real, throwaway PostgreSQL server per test: a fresh cluster (one `initdb` per
//! PostgreSQL version, copied) in a temporary directory, started by `pg_ctl` listening on a Unix socket in that directory (and, when asked,
//! on 127.0.0.1 at a free port, with or without TLS), a role `nb` with a password, and
//! stopped (`pg_ctl stop -m immediate`) and removed by [`PgServer`]'s `Drop` — on
//! success and on failure alike. Never the machine's own cluster on 5432.
//!
//! As root (as the tests run in CI) the server runs as the `postgres` OS user, which
//! owns the directory; as anyone else, as that user.

use super::certs::Certs;
use super::req::require;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// The superuser's password (setup only).
const SUPER_PASSWORD: &str = "super-secret-7";
/// The test role and its password.
pub const ROLE: &str = "nb";
/// The test role's password.
pub const PASSWORD: &str = "nb-secret-42";

/// How the server listens.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Listen {
    /// Only the Unix socket.
    Socket,
    /// The socket and 127.0.0.1, plain.
    Tcp,
    /// The socket and 127.0.0.1, TLS only (`hostssl`: a plain TCP login is refused).
    TcpTlsOnly,
}

/// A running server; stopped and deleted on drop.
pub struct PgServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    as_postgres: bool,
    /// Port (TCP, and the socket's name).
    pub port: u16,
    /// Certificates, for [`Listen::TcpTlsOnly`].
    pub certs: Option<Certs>,
}

/// The newest `/usr/lib/postgresql/*/bin` with initdb and pg_ctl.
fn bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, b)| b)
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn postgres_user_exists() -> bool {
    Command::new("id")
        .args(["-u", "postgres"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

impl PgServer {
    /// Start a server, or `None` (skipped, outside CI) when PostgreSQL is missing.
    pub fn start(listen: Listen) -> Option<PgServer> {
        let fix = "apt-get install postgresql, or run ./scripts/setup --test";
        let bin = bin_dir();
        if !require(
            "a PostgreSQL server (initdb and pg_ctl under /usr/lib/postgresql/*/bin)",
            bin.is_some(),
            fix,
        ) {
            return None;
        }
        let as_postgres = is_root();
        if as_postgres && !require("the postgres OS user", postgres_user_exists(), fix) {
            return None;
        }
        let dir = tempfile::Builder::new().prefix("nb-pg-").tempdir().unwrap();
        let mut server = PgServer {
            dir,
            bin: bin.unwrap(),
            as_postgres,
            port: free_port(),
            certs: None,
        };
        server.init(listen);
        Some(server)
    }

    /// The directory of the server's socket (and of everything else).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn data(&self) -> PathBuf {
        self.dir().join("data")
    }

    /// Run a server program (as postgres when root), output to a log beside it.
    fn run(&self, program: &str, args: &[&str]) {
        run(&self.bin, self.as_postgres, self.dir(), program, args);
    }

    /// Give `path` to the server's user (nothing to do unless root).
    fn own(&self, path: &Path) {
        own(self.as_postgres, path);
    }

    fn init(&mut self, listen: Listen) {
        let dir = self.dir().to_path_buf();
        self.own(&dir);
        let data = self.data();
        copy_dir(&template(&self.bin, self.as_postgres), &data);
        let mut opts = format!(
            "-c unix_socket_directories={} -c port={} -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c shared_buffers=16MB",
            dir.display(),
            self.port
        );
        match listen {
            Listen::Socket => opts.push_str(" -c listen_addresses=''"),
            Listen::Tcp => opts.push_str(" -c listen_addresses=127.0.0.1"),
            Listen::TcpTlsOnly => {
                let certs = Certs::make(&data);
                opts.push_str(&format!(
                    " -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                    certs.server_cert.display(),
                    certs.server_key.display()
                ));
                std::fs::write(
                    data.join("pg_hba.conf"),
                    "local all all scram-sha-256\nhostssl all all 127.0.0.1/32 scram-sha-256\n",
                )
                .unwrap();
                self.certs = Some(certs);
                self.own(&data);
            }
        }
        let log = dir.join("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-w",
                "-t",
                "30",
                "-s",
                "-l",
                log.to_str().unwrap(),
                "-o",
                &opts,
                "start",
            ],
        );
        let mut admin = self.admin("postgres");
        admin
            .batch_execute(&format!(
                "CREATE ROLE {ROLE} LOGIN CREATEDB PASSWORD '{PASSWORD}'"
            ))
            .unwrap();
    }

    /// A superuser connection to `db` over the socket (setup and inspection only).
    pub fn admin(&self, db: &str) -> postgres::Client {
        postgres::Config::new()
            .host_path(self.dir())
            .port(self.port)
            .user("postgres")
            .password(SUPER_PASSWORD)
            .dbname(db)
            .connect(postgres::NoTls)
            .expect("superuser connection to the test server")
    }

    /// Create database `name`, owned by the test role.
    pub fn database(&self, name: &str) -> String {
        self.admin("postgres")
            .batch_execute(&format!("CREATE DATABASE {name} OWNER {ROLE}"))
            .unwrap();
        name.to_string()
    }

    /// A password file at `name` in the server's directory with `lines`, mode `mode`.
    pub fn passfile(&self, name: &str, lines: &str, mode: u32) -> PathBuf {
        let path = self.dir().join(name);
        std::fs::write(&path, lines).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    /// The URL of `db` over the socket (`%2F`-encoded directory), as the test role,
    /// with `query` (e.g. `passfile=…`).
    pub fn socket_url(&self, db: &str, query: &str) -> String {
        let enc = self.dir().display().to_string().replace('/', "%2F");
        format!("postgres://{ROLE}@{enc}:{}/{db}?{query}", self.port)
    }

    /// The URL of `db` at `host` (127.0.0.1 or localhost) over TCP, with `query`.
    pub fn tcp_url(&self, host: &str, db: &str, query: &str) -> String {
        format!("postgres://{ROLE}@{host}:{}/{db}?{query}", self.port)
    }

    /// The standard password file (`*:*:*:nb:…`, 0600), as a URL option.
    pub fn good_passfile(&self) -> String {
        let f = self.passfile("pgpass", &format!("*:*:*:{ROLE}:{PASSWORD}\n"), 0o600);
        format!("passfile={}", f.display())
    }
}

/// Run `program` from `bin` (as postgres when `as_postgres`), output to a log in `dir`.
fn run(bin: &Path, as_postgres: bool, dir: &Path, program: &str, args: &[&str]) {
    let log = dir.join(format!("{program}.log"));
    let out = std::fs::File::create(&log).unwrap();
    let mut cmd = if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(program));
        c
    } else {
        Command::new(bin.join(program))
    };
    // Never a pipe: the postmaster outlives pg_ctl and would hold it open.
    let status = cmd
        .args(args)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .status()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    if !status.success() {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let server = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
        panic!("{program} {args:?} failed ({status}):\n{text}\n{server}");
    }
}

/// Give `path` to the postgres user when `as_postgres`.
fn own(as_postgres: bool, path: &Path) {
    if as_postgres {
        let ok = Command::new("chown")
            .args(["-R", "postgres:"])
            .arg(path)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "chown postgres {}", path.display());
    }
}

/// `cp -a from to` (keeps the owner, as root).
fn copy_dir(from: &Path, to: &Path) {
    let ok = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "cp -a {} {}", from.display(), to.display());
}

/// A freshly initialised cluster (superuser password set, scram-sha-256 everywhere)
/// to copy for each server: initdb is most of a server's start-up, so it runs once
/// per PostgreSQL version and is kept in Cargo's CARGO_TARGET_TMPDIR like other build
/// output. Made elsewhere and renamed into place whole, so a concurrent or
/// interrupted run never sees half of one.
fn template(bin: &Path, as_postgres: bool) -> PathBuf {
    static TEMPLATE: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut made = TEMPLATE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(t) = made.as_ref() {
        return t.clone();
    }
    let version = bin.parent().and_then(|v| v.file_name()).unwrap_or_default();
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let target = root.join(format!("pg-template-{}", version.to_string_lossy()));
    if !target.join("PG_VERSION").is_file() {
        // initdb runs as postgres, which may not reach the target directory: /tmp.
        let work = tempfile::Builder::new()
            .prefix("nb-initdb-")
            .tempdir()
            .unwrap();
        let pwfile = work.path().join("superuser.pw");
        std::fs::write(&pwfile, SUPER_PASSWORD).unwrap();
        own(as_postgres, work.path());
        let data = work.path().join("data");
        run(
            bin,
            as_postgres,
            work.path(),
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                &format!("--pwfile={}", pwfile.display()),
                "--auth=scram-sha-256",
                "-N",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        );
        let staged = root.join(format!("pg-template-staged-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&staged);
        copy_dir(&data, &staged);
        if std::fs::rename(&staged, &target).is_err() {
            // Another run put one there first: use that.
            let _ = std::fs::remove_dir_all(&staged);
        }
    }
    *made = Some(target.clone());
    target
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.data();
        if data.join("postmaster.pid").exists() {
            let mut cmd = if self.as_postgres {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"])
                    .arg(self.bin.join("pg_ctl"));
                c
            } else {
                Command::new(self.bin.join("pg_ctl"))
            };
            let _ = cmd
                .args([
                    "-D",
                    data.to_str().unwrap(),
                    "-m",
                    "immediate",
                    "-s",
                    "-w",
                    "stop",
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        // The TempDir field removes the directory after this.
    }
}
