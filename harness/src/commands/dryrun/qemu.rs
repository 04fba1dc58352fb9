//! The QEMU stack's part of `run --dry-run`: the plan, the names a run makes, then per
//! level its launch (on the host or inside its parent), net.tcp's peer, the
//! connection and the agent's command — from the same pure builders a run uses.

use super::{agent_lines, level_zero, line, sizes_line, words};
use crate::backend::host::fs_type;
use crate::backend::qemu::argv::{self, Accel, CacheMode};
use crate::backend::qemu::spec::{self, Layout};
use crate::backend::qemu::{launch, netpeer, plan_lines, ready, GUEST_RUN};
use crate::backend::Capacity;
use crate::cli::AccelArg;
use crate::config::{QemuOptions, RunConfig};
use crate::exit::Failure;
use crate::image::chaindisk;
use crate::remote::shell_quote;
use crate::{agentbin, plan, sizing};
use std::path::PathBuf;

/// The QEMU stack: plan, placeholders, then each level's launch, connection and agent.
pub(super) fn qemu(
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
        agent_disk: opts.agent_drive.as_ref().map(|_| "$STACK/agent.img"),
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
            line(w, &format!("  create $STACK: id_ed25519 (client key), L1..L{}.host_key, authorized_keys, scratch.raw ({} MiB sparse, an ext4 per level by mke2fs){}{}",
                plan.levels.len(), plan.disk_mib(1), if opts.agent_drive.is_some() { ", agent.img (the agent drive: the agent, zero-padded to whole sectors)" } else { "" }, if custom { ", chain.img (--kernel/--initrd)" } else { "" }));
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
                let drive = opts
                    .agent_drive
                    .as_ref()
                    .map(|_| crate::backend::qemu::agentdrive::OnDrive::of(&agent.bytes));
                netpeer::guest_peer_command(n, np, wait, drive.as_ref())
            };
            line(
                w,
                &format!("  net.tcp peer in L{} (with the launch): {peer}", n - 1),
            );
        }
        agent_lines(
            w,
            &netpeer::site(&plan, n, &net_ports, net, opts.agent_drive.is_some()),
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
