//! `nestbench run --dry-run`: the plan of a run and every command it would execute at
//! each level, printed, with nothing started or written.
//!
//! Structurally unable to launch: it gets a validated [`RunConfig`] and builds text
//! from the same pure functions a run uses — the plan ([`plan::make`]), L1's
//! acceleration ([`launch::choose`] on this host's /proc/cpuinfo and /dev/kvm), the
//! working-set sizes ([`sizing::derive`]), the QEMU command lines ([`spec::level_spec`]
//! and [`argv::build`]) and the agent's command ([`deploy::deploy_command`]). It never
//! makes a `Backend`, a `Stack`, a `Remote` or a run directory, which are what start
//! processes and create files; nor does it ask QEMU its version or look the image up
//! (both run programs or write the cache). What is only known once the run makes it —
//! the stack's private directory, the image's digest, the agent's random file name —
//! is shown as `$STACK`, `$IMAGE` and `XXXXXXXX`. The sshd ports are picked free now,
//! as a run picks them, and will differ.

use crate::backend::host::fs_type;
use crate::backend::inventory::file as inventory;
use crate::backend::qemu::argv::{self, Accel, CacheMode};
use crate::backend::qemu::spec::{self, Layout};
use crate::backend::qemu::{launch, netpeer, plan_lines, ready, GUEST_RUN};
use crate::backend::Capacity;
use crate::cli::AccelArg;
use crate::config::{BackendConfig, QemuOptions, RunConfig};
use crate::deploy::{self, AgentJob, Site};
use crate::exit::Failure;
use crate::image::chaindisk;
use crate::remote::identify;
use crate::remote::shell_quote;
use crate::{agentbin, plan, sizing};
use std::fmt::Write;
use std::path::PathBuf;

/// The agent's file name at a level: a run adds 8 random hex digits.
const AGENT_NAME: &str = "nestbench-agent-XXXXXXXX";

/// The whole dry run as text, for stdout.
pub fn render(cfg: &RunConfig) -> Result<String, Failure> {
    // What the run would refuse before starting anything, the dry run refuses too.
    crate::rundir::check_usable(&cfg.out)?;
    let agent = agentbin::load(&cfg.agent)?;
    let mut out = String::new();
    let w = &mut out;
    line(
        w,
        "nestbench run --dry-run: nothing below is started or written",
    );
    line(
        w,
        &format!(
            "run {} into {} (created by the run; refused if not empty), suite {}{}{}",
            cfg.run_id,
            cfg.out.display(),
            cfg.suite,
            cfg.only
                .as_ref()
                .map_or(String::new(), |o| format!(", only {}", o.join(","))),
            if cfg.keep {
                ", stack kept (--keep)"
            } else {
                ""
            },
        ),
    );
    line(
        w,
        &format!(
            "agent {} ({} bytes, sha256 {}), uploaded gzip-compressed",
            agent.path.display(),
            agent.bytes.len(),
            agent.sha256
        ),
    );
    line(
        w,
        &match cfg.history.location() {
            Ok(Some(l)) => format!("history: the run is recorded in {l}"),
            Ok(None) => "history: not recorded (--no-history)".into(),
            Err(e) => format!("history: not recorded: {e}"),
        },
    );
    match &cfg.backend {
        BackendConfig::HostOnly => {
            let host = sizing::HostMemory::probe();
            let sizes = sizing::derive(cfg.suite, cfg.sizes, sizing::Levels::HostOnly, host).sizes;
            sizes_line(w, sizes, "the host's last-level cache and available memory");
            level_zero(w, cfg, &agent, sizes);
        }
        BackendConfig::Qemu(opts) => qemu(w, cfg, opts, &agent)?,
        BackendConfig::Hyperv(h) => {
            let host = sizing::HostMemory::probe();
            let sizes = sizing::derive(cfg.suite, cfg.sizes, sizing::Levels::Unknown, host).sizes;
            sizes_line(w, sizes, "the suite's defaults");
            for l in crate::backend::hyperv::dryrun::dry_run_lines(cfg.levels, h) {
                line(w, &l);
            }
        }
        BackendConfig::Inventory(file) => {
            let inv = inventory::load(file).map_err(|e| Failure::usage(e.to_string()))?;
            let host = sizing::HostMemory::probe();
            let sizes = sizing::derive(cfg.suite, cfg.sizes, sizing::Levels::Unknown, host).sizes;
            sizes_line(w, sizes, "the suite's defaults");
            line(
                w,
                &format!(
                    "\nbackend inventory ({}), {} levels:",
                    file.display(),
                    inv.levels.len()
                ),
            );
            let machine = |w: &mut String,
                           label: String,
                           l: &inventory::InventoryLevel,
                           chain: &[inventory::Via]| {
                let jumps: Vec<String> = chain
                    .iter()
                    .map(|&v| ssh_dest(&inv.machine(v).target))
                    .collect();
                line(w, &format!("\n{label} ({}):", l.target.endpoint()));
                let jump = if jumps.is_empty() {
                    String::new()
                } else {
                    format!(" -J {}", jumps.join(","))
                };
                line(
                    w,
                    &format!(
                        "  connect (within {} s): ssh -i {}{jump} -p {} {}@{}",
                        l.connect_timeout.as_secs(),
                        l.target.key.display(),
                        l.target.port,
                        l.target.user,
                        l.target.host
                    ),
                );
                line(
                    w,
                    &format!(
                        "  identify: {} (a Windows level is then deployed to through PowerShell)",
                        identify::PROBE
                    ),
                );
                let workdir = l.workdir.clone().unwrap_or_else(|| "/tmp".into());
                agent_lines(w, &Site::at(workdir), cfg, &agent, sizes);
            };
            match &inv.l0 {
                Some(l0) => machine(w, "L0, remote".into(), l0, &[]),
                None => level_zero(w, cfg, &agent, sizes),
            }
            for (i, l) in inv.levels.iter().enumerate() {
                machine(w, format!("L{}", i + 1), l, &inv.chain(i));
            }
            line(
                w,
                "\nafterwards: nothing is torn down (the machines are yours)",
            );
        }
    }
    outputs(w, cfg);
    Ok(out)
}

fn line(w: &mut String, s: &str) {
    let _ = writeln!(w, "{s}");
}

fn ssh_dest(t: &crate::remote::ssh::SshTarget) -> String {
    format!("{}@{}:{}", t.user, t.host, t.port)
}

fn sizes_line(w: &mut String, sizes: model::Sizes, from: &str) {
    line(
        w,
        &format!("sizes (MiB): {sizes} (from {from}; --sizes wins)"),
    );
}

/// An argv as one shell line.
fn words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The upload and the one command that verifies, runs and removes the agent.
fn agent_lines(
    w: &mut String,
    site: &Site,
    cfg: &RunConfig,
    agent: &agentbin::AgentBinary,
    sizes: model::Sizes,
) {
    let path = format!("{}/{AGENT_NAME}", site.workdir.trim_end_matches('/'));
    let job = AgentJob {
        binary: &agent.bytes,
        windows_binary: Err("no Windows agent".into()),
        suite: cfg.suite,
        only: cfg.only.as_deref(),
        sizes,
        llc_mib: sizing::HostMemory::probe().llc_mib,
    };
    line(w, &format!("  upload the agent (gzip) to {path}"));
    line(
        w,
        &format!("  run: {}", deploy::deploy_command(&path, site, &job)),
    );
}

fn level_zero(w: &mut String, cfg: &RunConfig, agent: &agentbin::AgentBinary, sizes: model::Sizes) {
    let tmp = std::env::temp_dir();
    line(
        w,
        &format!(
            "\nL0 (this host, sh -c in {}, {}):",
            tmp.display(),
            fs_type(&tmp)
        ),
    );
    agent_lines(w, &Site::at(tmp.display().to_string()), cfg, agent, sizes);
}

/// The QEMU stack: plan, placeholders, then each level's launch, connection and agent.
fn qemu(
    w: &mut String,
    cfg: &RunConfig,
    opts: &QemuOptions,
    agent: &agentbin::AgentBinary,
) -> Result<(), Failure> {
    let scratch_base = std::env::var_os("NESTBENCH_SCRATCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let host = plan::HostResources::probe(&scratch_base);
    let plan = plan::make(cfg.levels, opts.memory_mib, opts.cpus, opts.accel, &host)
        .map_err(|e| Failure::error(e.to_string()))?;
    let l1 = launch::host_accel(opts.accel).map_err(|e| Failure::error(e.to_string()))?;
    let mut ports = ready::free_ports(2 * plan.levels.len())
        .map_err(|e| Failure::error(format!("no free loopback ports: {e}")))?;
    let net = opts.net_peer.is_some();
    let net_ports = match ports.split_off(plan.levels.len()) {
        p if net => p,
        _ => vec![],
    };
    let smallest = plan.levels.last().map(|l| Capacity {
        memory_mib: l.memory_mib,
        disk_mib: l.fs_mib,
    });
    let levels = smallest.map_or(sizing::Levels::HostOnly, sizing::Levels::Guests);
    let sizes = sizing::derive(cfg.suite, cfg.sizes, levels, sizing::HostMemory::probe()).sizes;
    sizes_line(w, sizes, "the smallest level's memory and scratch disk");
    line(
        w,
        &format!("\nplan (qemu backend, {} levels):", plan.levels.len()),
    );
    for l in plan_lines(&plan, &l1, &ports, &net_ports) {
        line(w, &format!("  {l}"));
    }
    let qemu = opts.qemu.as_ref().map_or_else(
        || "qemu-system-x86_64".to_string(),
        |p| p.display().to_string(),
    );
    let cache = if fs_type(&scratch_base) == "tmpfs" {
        CacheMode::Buffered
    } else {
        CacheMode::Direct
    };
    line(w, "\nnames a run makes:");
    line(w, &format!("  $STACK  a new private directory {}/nestbench-stack-XXXXXX (keys, L1's sparse scratch file)", scratch_base.display()));
    line(w, &format!("  $IMAGE  the guest image in {}/image-<digest of its inputs> (built first when missing, about a minute)", crate::image::cache_dir().display()));
    line(
        w,
        "  ports   picked free at launch (the ones above are free now)",
    );
    line(w, &format!("\nbefore anything starts: {qemu} --version and the doctor's host checks (`nestbench doctor --levels {}`)", cfg.levels));
    level_zero(w, cfg, agent, sizes);
    let custom = opts.kernel.is_some() || opts.initrd.is_some();
    let image = |f: &str| format!("$IMAGE/{f}");
    let kernel = opts
        .kernel
        .as_ref()
        .map_or_else(|| image(chaindisk::VMLINUZ), |k| k.display().to_string());
    let initrd = opts
        .initrd
        .as_ref()
        .map_or_else(|| image(chaindisk::INITRD), |i| i.display().to_string());
    let leaf = opts.initrd.as_ref().map_or_else(
        || image(chaindisk::LEAF_INITRD),
        |i| i.display().to_string(),
    );
    let chain = if custom {
        "$STACK/chain.img".to_string()
    } else {
        image("chain.img")
    };
    let run_dir = cfg.out.clone();
    let layout = Layout {
        plan: &plan,
        qemu: &qemu,
        extra_args: &opts.extra_args,
        ports: &ports,
        net_ports: &net_ports,
        run_dir: &run_dir,
        kernel: &kernel,
        initrd: &initrd,
        leaf_initrd: &leaf,
        chain: &chain,
        scratch: "$STACK/scratch.raw",
        cache,
        l1_host_key: "$STACK/L1.host_key",
        authorized_keys: "$STACK/authorized_keys",
    };
    // What each level is expected to run under: L1 as decided here, deeper levels KVM
    // unless forced (each parent decides at launch from what it shows).
    let guess = |n: u32| match (n, opts.accel) {
        (1, _) => l1.accel,
        (_, AccelArg::Tcg) => Accel::Tcg,
        _ => Accel::Kvm,
    };
    for l in &plan.levels {
        let n = l.level;
        let below: Vec<Accel> = (1..n).map(guess).collect();
        let port = ports[n as usize - 1];
        if n == 1 {
            line(w, "\nL1 (on the host):");
            line(w, &format!("  create $STACK: id_ed25519 (client key), L1..L{}.host_key, authorized_keys, scratch.raw ({} MiB sparse, an ext4 per level by mke2fs){}",
                plan.levels.len(), plan.disk_mib(1), if custom { ", chain.img (--kernel/--initrd)" } else { "" }));
            let cmd = argv::build(&spec::level_spec(&layout, &below, 1, l1.accel));
            line(
                w,
                &format!(
                    "  start ({}: {}), output to {}:",
                    l1.accel.as_str(),
                    l1.why,
                    cfg.out.join("logs/L1.qemu.log").display()
                ),
            );
            line(w, &format!("    {}", words(&cmd.argv)));
            tuning(w, &cmd.tuning);
        } else {
            let kvm = argv::build(&spec::level_spec(&layout, &below, n, Accel::Kvm));
            let tcg = argv::build(&spec::level_spec(&layout, &below, n, Accel::Tcg));
            let ps = format!("ssh -p {} root@127.0.0.1", ports[n as usize - 2]);
            line(
                w,
                &format!(
                    "\nL{n} (inside L{}, one command over L{}'s control session, {ps}):",
                    n - 1,
                    n - 1
                ),
            );
            line(
                w,
                &format!(
                    "  write {GUEST_RUN}/L{n}.host_key and {GUEST_RUN}/authorized_keys (mode 0600)"
                ),
            );
            line(
                w,
                &format!(
                    "  probe L{}: svm/vmx in /proc/cpuinfo and a usable /dev/kvm",
                    n - 1
                ),
            );
            match opts.accel {
                AccelArg::Auto => {
                    line(w, "  if KVM-capable:");
                    line(w, &format!("    {}", words(&kvm.argv)));
                    line(w, "  else:");
                    line(w, &format!("    {}", words(&tcg.argv)));
                }
                AccelArg::Kvm => line(
                    w,
                    &format!("  start (kvm, forced):\n    {}", words(&kvm.argv)),
                ),
                AccelArg::Tcg => line(
                    w,
                    &format!("  start (tcg, forced):\n    {}", words(&tcg.argv)),
                ),
            }
            line(
                w,
                &format!(
                    "  QEMU's output to {} in L{}",
                    crate::backend::qemu::guest_qemu_log(n),
                    n - 1
                ),
            );
            tuning(
                w,
                &if opts.accel == AccelArg::Tcg {
                    tcg.tuning
                } else {
                    kvm.tuning
                },
            );
        }
        let tcg = guess(n) == Accel::Tcg;
        line(w, &format!("  wait for its sshd on 127.0.0.1:{port} (up to {} s), then: ssh -i $STACK/id_ed25519 -p {port} root@127.0.0.1 (host key pinned to $STACK/L{n}.host_key)", plan::boot_timeout(n, tcg).as_secs()));
        if let Some(&np) = net_ports.get(n as usize - 1) {
            let wait = netpeer::peer_wait(n, tcg);
            let peer = if n == 1 {
                format!(
                    "{} {}",
                    shell_quote(&agent.path.display().to_string()),
                    words(&netpeer::peer_args("127.0.0.1", np, wait))
                )
            } else {
                netpeer::guest_peer_command(n, np, wait)
            };
            line(
                w,
                &format!("  net.tcp peer in L{} (with the launch): {peer}", n - 1),
            );
        }
        agent_lines(
            w,
            &netpeer::site(&plan, n, &net_ports, net),
            cfg,
            agent,
            sizes,
        );
    }
    line(
        w,
        &if cfg.keep {
            "\nafterwards: the stack is left up (--keep); `nestbench down RUN_DIR` removes it"
                .to_string()
        } else {
            "\nafterwards: L1's QEMU is stopped (every level dies with it) and $STACK removed"
                .to_string()
        },
    );
    Ok(())
}

fn tuning(w: &mut String, t: &[String]) {
    if !t.is_empty() {
        line(
            w,
            &format!("  tuning (recorded in env.tuning): {}", t.join("; ")),
        );
    }
}

/// What the run would leave in its directory.
fn outputs(w: &mut String, cfg: &RunConfig) {
    line(w, &format!(
        "\nrun directory {}: run.json (rewritten after every change), results.csv, report.md, report.html, charts/, logs/",
        cfg.out.display()
    ));
}
