//! A throttled cgroup for one child process: a CPU quota and block-device limits, so a
//! test can make the real agent run like a level ~100× slower than the host.
//!
//! cgroup v2 (`cpu.max`, `io.max`) where its cpu and io controllers are available, else
//! the v1 equivalents (`cpu.cfs_quota_us`, `blkio.throttle.*`), which is what hosts
//! with a hybrid hierarchy offer (this project's machines: v2 mounted with no
//! controllers, cpu and blkio on v1). The cgroups are created under the hierarchies'
//! roots and removed by [`Throttle`]'s Drop on every path — after moving back anything
//! still in them — and a v2 controller this code enabled is disabled again.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Which cgroup interface the machine offers for throttling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hierarchy {
    /// cgroup v2 mounted here, cpu and io available in its root.
    V2(PathBuf),
    /// cgroup v1: the cpu and the blkio hierarchies' mount points.
    V1 { cpu: PathBuf, blkio: PathBuf },
}

/// The limits of a throttle.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// CPU quota per 100 ms period, µs (1000 = 1 % of one CPU).
    pub cpu_quota_us: u64,
    /// Read and write bandwidth, bytes per second.
    pub bps: u64,
    /// Read and write operations per second.
    pub iops: u64,
}

const PERIOD_US: u64 = 100_000;

/// The cgroup mounts of this machine: (fstype, mount point, options).
fn mounts() -> Vec<(String, PathBuf, String)> {
    let text = fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 4 && f[2].starts_with("cgroup"))
                .then(|| (f[2].to_string(), PathBuf::from(f[1]), f[3].to_string()))
        })
        .collect()
}

fn has_word(list: &str, word: &str) -> bool {
    list.split([' ', ',', '\n']).any(|w| w == word)
}

/// The hierarchy to throttle with, or why there is none.
pub fn available() -> Result<Hierarchy, String> {
    let all = mounts();
    for (fstype, at, _) in &all {
        if fstype == "cgroup2" {
            let controllers = fs::read_to_string(at.join("cgroup.controllers")).unwrap_or_default();
            if has_word(&controllers, "cpu") && has_word(&controllers, "io") {
                return Ok(Hierarchy::V2(at.clone()));
            }
        }
    }
    let v1 = |ctl: &str| {
        all.iter()
            .find(|(t, _, opts)| t == "cgroup" && has_word(opts, ctl))
            .map(|(_, at, _)| at.clone())
    };
    match (v1("cpu"), v1("blkio")) {
        (Some(cpu), Some(blkio)) => Ok(Hierarchy::V1 { cpu, blkio }),
        _ => Err(format!(
            "no cgroup v2 with the cpu and io controllers and no cgroup v1 cpu and blkio hierarchies (mounts: {all:?})"
        )),
    }
}

/// The whole-disk block device (major, minor) behind `path`, when there is one: limits
/// apply to disks, not partitions.
pub fn block_device(path: &Path) -> Option<(u32, u32)> {
    use std::os::unix::fs::MetadataExt;
    let dev = fs::metadata(path).ok()?.dev();
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    if major == 0 {
        return None; // tmpfs, overlayfs, btrfs subvolumes: no one device to throttle
    }
    let sys = fs::canonicalize(format!("/sys/dev/block/{major}:{minor}")).ok()?;
    let disk = if sys.join("partition").exists() {
        sys.parent()?.to_path_buf()
    } else {
        sys
    };
    let text = fs::read_to_string(disk.join("dev")).ok()?;
    let (a, b) = text.trim().split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// Throttled cgroups, removed on drop.
pub struct Throttle {
    /// The cgroup directories made (one per hierarchy).
    dirs: Vec<PathBuf>,
    /// A v2 root whose subtree_control this throttle enabled cpu/io in.
    enabled: Option<(PathBuf, String)>,
}

fn write(path: &Path, text: &str) -> io::Result<()> {
    fs::write(path, text).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

impl Throttle {
    /// Creates a cgroup named `name` under each hierarchy with `limits` on `device`.
    pub fn create(
        h: &Hierarchy,
        name: &str,
        device: (u32, u32),
        limits: Limits,
    ) -> io::Result<Throttle> {
        let dev = format!("{}:{}", device.0, device.1);
        let mut t = Throttle {
            dirs: Vec::new(),
            enabled: None,
        };
        match h {
            Hierarchy::V2(root) => {
                let control = root.join("cgroup.subtree_control");
                let on = fs::read_to_string(&control).unwrap_or_default();
                let missing: Vec<&str> = ["cpu", "io"]
                    .into_iter()
                    .filter(|c| !has_word(&on, c))
                    .collect();
                if !missing.is_empty() {
                    let plus: Vec<String> = missing.iter().map(|c| format!("+{c}")).collect();
                    write(&control, &plus.join(" "))?;
                    let minus: Vec<String> = missing.iter().map(|c| format!("-{c}")).collect();
                    t.enabled = Some((control, minus.join(" ")));
                }
                let dir = root.join(name);
                fs::create_dir(&dir)?;
                t.dirs.push(dir.clone());
                write(
                    &dir.join("cpu.max"),
                    &format!("{} {PERIOD_US}", limits.cpu_quota_us),
                )?;
                write(
                    &dir.join("io.max"),
                    &format!(
                        "{dev} rbps={b} wbps={b} riops={i} wiops={i}",
                        b = limits.bps,
                        i = limits.iops
                    ),
                )?;
            }
            Hierarchy::V1 { cpu, blkio } => {
                let c = cpu.join(name);
                fs::create_dir(&c)?;
                t.dirs.push(c.clone());
                write(&c.join("cpu.cfs_period_us"), &PERIOD_US.to_string())?;
                write(
                    &c.join("cpu.cfs_quota_us"),
                    &limits.cpu_quota_us.to_string(),
                )?;
                let b = blkio.join(name);
                fs::create_dir(&b)?;
                t.dirs.push(b.clone());
                for (file, v) in [
                    ("read_bps_device", limits.bps),
                    ("write_bps_device", limits.bps),
                    ("read_iops_device", limits.iops),
                    ("write_iops_device", limits.iops),
                ] {
                    write(
                        &b.join(format!("blkio.throttle.{file}")),
                        &format!("{dev} {v}"),
                    )?;
                }
            }
        }
        Ok(t)
    }

    /// A command that runs `program` inside the throttle: a shell joins every cgroup,
    /// then execs it (so nothing runs unthrottled in between).
    pub fn command(&self, program: &str) -> Command {
        let joins: Vec<String> = self
            .dirs
            .iter()
            .map(|d| {
                format!(
                    "echo $$ > '{}' || exit 97;",
                    d.join("cgroup.procs").display()
                )
            })
            .collect();
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(format!("{} exec \"$0\" \"$@\"", joins.join(" ")))
            .arg(program);
        c
    }
}

impl Drop for Throttle {
    fn drop(&mut self) {
        for dir in self.dirs.iter().rev() {
            // Whatever is still inside (a child the test could not reap) goes back to
            // the parent, or the directory cannot be removed.
            let parent = dir.parent().map(|p| p.join("cgroup.procs"));
            for _ in 0..50 {
                if let (Ok(procs), Some(parent)) =
                    (fs::read_to_string(dir.join("cgroup.procs")), &parent)
                {
                    for pid in procs.split_whitespace() {
                        let _ = fs::write(parent, pid);
                    }
                }
                if fs::remove_dir(dir).is_ok() || !dir.exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        if let Some((control, minus)) = &self.enabled {
            let _ = fs::write(control, minus);
        }
    }
}
