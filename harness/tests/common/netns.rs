//! A real 4-level SSH chain made of network namespaces: `nbt-<pid>-1..4`, joined by
//! veth pairs host→ns1→ns2→ns3→ns4, each running a real OpenSSH sshd (offering SFTP,
//! as OpenSSH does; [`Chain::extra_sshd_without_sftp`] for one that does not) that listens
//! only on the link to its parent. Nothing routes between non-adjacent levels, so a
//! level is reachable only through its parent — as in a nested stack.
//!
//! Addresses come from the test-only range 10.213.0.0/16: link k (level k-1 → k) is
//! 10.213.(4b+k-1).0/30, parent .1, child .2, where the block b is picked per run.
//! The host gets an `unreachable` route for every link it is not attached to and the
//! namespaces have no default route, so a wrong route fails locally and no test
//! packet can leave the machine.
//!
//! The chain is built once per test binary ([`chain`]) and torn down at process exit
//! (atexit); namespaces left by a killed earlier run are swept on the next start.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Levels in the chain.
pub const DEPTH: usize = 4;

/// The config line that offers SFTP, as OpenSSH on Linux and on Windows does.
pub const SFTP: &str = "Subsystem sftp /usr/lib/openssh/sftp-server\n";

/// The chain: namespaces, sshds and the keys the test made.
pub struct Chain {
    /// Temp directory with keys, configs and logs.
    pub dir: PathBuf,
    /// Client key accepted by every sshd.
    pub client_key: PathBuf,
    /// Base64 host key blob of each level (index 0 = L1).
    pub host_keys: Vec<String>,
    /// Address of each level's sshd as seen from its parent (index 0 = L1).
    pub addrs: Vec<String>,
    pid: u32,
    block: u32,
    procs: Mutex<Vec<Child>>,
}

/// An extra sshd started by one test inside a level's namespace; killed on drop.
pub struct ExtraSshd(Child);

impl Drop for ExtraSshd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sh(cmd: &str) -> Result<String, String> {
    let o = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .map_err(|e| e.to_string())?;
    if o.status.success() {
        Ok(String::from_utf8_lossy(&o.stdout).into_owned())
    } else {
        Err(format!(
            "`{cmd}` failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ))
    }
}

fn must(cmd: &str) -> String {
    sh(cmd).unwrap_or_else(|e| panic!("{e}"))
}

/// Whether the chain can be built here: root and the tools, checked with
/// [`super::testreq`] (missing under CI: the test fails; elsewhere it says why).
pub fn available() -> bool {
    use super::testreq::{require_root, require_tool};
    require_root("network namespaces")
        && [
            ("/usr/sbin/sshd", "openssh-server"),
            ("ssh-keygen", "openssh-client"),
            ("ip", "iproute2"),
            ("unshare", "util-linux"),
        ]
        .into_iter()
        .all(|(tool, package)| require_tool(tool, package))
}

static CHAIN: OnceLock<Chain> = OnceLock::new();

extern "C" fn teardown_at_exit() {
    if let Some(c) = CHAIN.get() {
        c.teardown();
    }
}

/// The shared chain, built on first use and torn down when the test process exits.
pub fn chain() -> &'static Chain {
    CHAIN.get_or_init(|| {
        sweep_stale();
        let c = Chain::build();
        // SAFETY: registers a plain extern "C" fn; it runs once at process exit.
        unsafe { libc::atexit(teardown_at_exit) };
        c
    })
}

/// Remove namespaces of earlier test runs whose process is gone.
fn sweep_stale() {
    let list = sh("ip netns list").unwrap_or_default();
    for ns in list.lines().filter_map(|l| l.split_whitespace().next()) {
        let mut parts = ns.split('-');
        let (Some("nbt"), Some(pid)) = (parts.next(), parts.next()) else {
            continue;
        };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let _ = sh(&format!(
            "ip netns pids {ns} | xargs -r kill -9; ip netns del {ns}"
        ));
    }
}

fn keygen(path: &Path) {
    must(&format!(
        "ssh-keygen -q -t ed25519 -N '' -C nbt -f {}",
        path.display()
    ));
}

impl Chain {
    fn ns(&self, level: usize) -> String {
        format!("nbt-{}-{level}", self.pid)
    }

    fn subnet(block: u32, link: usize) -> String {
        format!("10.213.{}", block * 4 + link as u32 - 1)
    }

    fn build() -> Chain {
        let pid = std::process::id();
        let dir = tempfile::Builder::new()
            .prefix("nbt-chain-")
            .tempdir()
            .unwrap()
            .keep();
        let taken = sh("ip -4 -o addr show; ip -4 route show table all").unwrap_or_default();
        let block = (0..62)
            .map(|i| (pid + i) % 62)
            .find(|&b| !(1..=DEPTH).any(|k| taken.contains(&format!("{}.", Self::subnet(b, k)))))
            .expect("a free 10.213.x block");
        let mut c = Chain {
            client_key: dir.join("client"),
            dir,
            host_keys: vec![],
            addrs: vec![],
            pid,
            block,
            procs: Mutex::new(vec![]),
        };
        // On a failed setup the Drop below undoes what was done.
        c.setup();
        c
    }

    fn setup(&mut self) {
        std::fs::create_dir_all("/run/sshd").unwrap();
        keygen(&self.client_key);
        std::fs::copy(
            self.dir.join("client.pub"),
            self.dir.join("authorized_keys"),
        )
        .unwrap();
        for k in 1..=DEPTH {
            let ns = self.ns(k);
            must(&format!("ip netns add {ns} && ip -n {ns} link set lo up"));
            let (p, c) = (format!("nb{}p{k}", self.pid), format!("nb{}c{k}", self.pid));
            let net = Self::subnet(self.block, k);
            let parent = if k == 1 {
                String::new()
            } else {
                format!("-n {} ", self.ns(k - 1))
            };
            must(&format!(
                "ip link add {p} type veth peer name {c} && ip link set {c} netns {ns}"
            ));
            if k > 1 {
                must(&format!("ip link set {p} netns {}", self.ns(k - 1)));
            }
            must(&format!(
                "ip {parent}addr add {net}.1/30 dev {p} && ip {parent}link set {p} up"
            ));
            must(&format!(
                "ip -n {ns} addr add {net}.2/30 dev {c} && ip -n {ns} link set {c} up"
            ));
            if k > 1 {
                must(&format!("ip route replace unreachable {net}.0/30"));
            }
            self.addrs.push(format!("{net}.2"));
            let host = self.dir.join(format!("host{k}"));
            keygen(&host);
            let pubkey = std::fs::read_to_string(host.with_extension("pub")).unwrap();
            self.host_keys
                .push(pubkey.split_whitespace().nth(1).unwrap().to_string());
            let child = self.spawn_sshd(k, 22, SFTP, "");
            self.procs.lock().unwrap().push(child);
        }
    }

    /// Start an sshd in level `k`'s namespace on `port`, with `extra` config lines
    /// (the SFTP subsystem only when they hold [`SFTP`]), prefixed by shell `prefix`
    /// (e.g. `ulimit -t 1;`); returns once it listens.
    fn spawn_sshd(&self, k: usize, port: u16, extra: &str, prefix: &str) -> Child {
        let d = self.dir.display();
        let cfg = self.dir.join(format!("sshd{k}-{port}.conf"));
        std::fs::write(
            &cfg,
            format!(
                "Port {port}\nListenAddress {addr}\nHostKey {d}/host{k}\nPidFile none\n\
                 AuthorizedKeysFile {d}/authorized_keys\nPermitRootLogin prohibit-password\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nStrictModes no\n\
                 UsePAM no\nAllowTcpForwarding yes\nLogLevel VERBOSE\n{extra}\n",
                addr = self.addrs[k - 1]
            ),
        )
        .unwrap();
        let log = self.dir.join(format!("sshd{k}-{port}.log"));
        let _ = std::fs::remove_file(&log);
        let script = format!("{prefix} exec /usr/sbin/sshd -D -e -f {}", cfg.display());
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.ns(k),
                "unshare",
                "-m",
                "--propagation",
                "private",
            ])
            .args(["sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        let mut child = child;
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains("Server listening on") {
                return child;
            }
            if t0.elapsed() > Duration::from_secs(15) || child.try_wait().ok().flatten().is_some() {
                let _ = child.kill();
                let _ = child.wait();
                panic!("sshd in {} did not start: {text}", self.ns(k));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// An extra sshd at level `k` (1-based) for one scenario, offering SFTP as the
    /// chain's own do; see [`Chain::spawn_sshd`].
    pub fn extra_sshd(&self, k: usize, port: u16, extra: &str, prefix: &str) -> ExtraSshd {
        ExtraSshd(self.spawn_sshd(k, port, &format!("{SFTP}{extra}"), prefix))
    }

    /// An extra sshd at level `k` without the SFTP subsystem, as dropbear guests are.
    pub fn extra_sshd_without_sftp(&self, k: usize, port: u16) -> ExtraSshd {
        ExtraSshd(self.spawn_sshd(k, port, "", ""))
    }

    /// The name of level `k`'s network namespace (1-based).
    pub fn netns(&self, k: usize) -> String {
        self.ns(k)
    }

    /// A second address of level `k`'s namespace (on its loopback, `slot` keeping
    /// tests apart), routed to from level k-1's namespace: where a simulated VM's
    /// guest sshd listens, next to the level's own sshd on port 22. Test-only range
    /// 10.214.0.0/16; the namespaces have no default route, so it stays inside.
    pub fn guest_address(&self, k: usize, slot: u32) -> String {
        let addr = format!("10.214.{}.{}", self.block, slot * 8 + k as u32);
        let _ = sh(&format!(
            "ip -n {} addr add {addr}/32 dev lo 2>/dev/null",
            self.ns(k)
        ));
        if k > 1 {
            must(&format!(
                "ip -n {} route replace {addr}/32 via {}",
                self.ns(k - 1),
                self.addrs[k - 1]
            ));
        }
        addr
    }

    /// The log of the sshd at level `k` on `port` (LogLevel VERBOSE: it names each
    /// subsystem request).
    pub fn sshd_log(&self, k: usize, port: u16) -> String {
        std::fs::read_to_string(self.dir.join(format!("sshd{k}-{port}.log"))).unwrap_or_default()
    }
}

impl Drop for Chain {
    fn drop(&mut self) {
        self.teardown();
    }
}

impl Chain {
    /// Kill the sshds, delete namespaces, routes and files. Idempotent.
    fn teardown(&self) {
        let procs = std::mem::take(&mut *self.procs.lock().unwrap_or_else(|p| p.into_inner()));
        for mut p in procs {
            let _ = p.kill();
            let _ = p.wait();
        }
        for k in (1..=DEPTH).rev() {
            let ns = self.ns(k);
            // Session children of sshd, then the namespace (its veth ends go with it,
            // and a veth pair dies with either end).
            let _ = sh(&format!(
                "ip netns pids {ns} 2>/dev/null | xargs -r kill -9"
            ));
            let _ = sh(&format!("ip netns del {ns} 2>/dev/null"));
            if k > 1 {
                let net = Self::subnet(self.block, k);
                let _ = sh(&format!("ip route del unreachable {net}.0/30 2>/dev/null"));
            }
        }
        let _ = sh(&format!("ip link del nb{}p1 2>/dev/null", self.pid));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
