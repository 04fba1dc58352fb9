//! One level's record in run.json: what the level is (`env`), how long each stage took
//! (`timings`), what it measured, and its outcome — typed ([`LevelOutcome`]), with the
//! plain `status` and `error` derived from it for simple readers and version 1 files.
//! Whether the level could host a child is recorded apart ([`Hosting`]): a level whose
//! own figures are good stays `ok` even when its children cannot run. Metrics the level
//! could not measure because it lacks what they need are kept as `not_applicable`,
//! apart from its results and its workload errors.

use crate::{
    Accel, HostInfo, Level, MetricId, NotApplicable, WindowsInfo, WorkloadError, WorkloadResult,
};
use serde::{Deserialize, Serialize};

/// Status of one level, as simple readers see it (derived from [`LevelOutcome`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LevelStatus {
    /// The agent finished (failed workloads are listed in `errors`).
    Ok,
    /// Could not be provisioned or reached, or its agent died, or the stack lost it.
    Failed,
    /// Not attempted: a level it depends on is not up, or the run stopped.
    Skipped,
    /// Not reached yet (only while the run is going).
    Pending,
}

impl LevelStatus {
    /// The word used in tables: ok, failed, skipped, pending.
    pub fn word(self) -> &'static str {
        match self {
            LevelStatus::Ok => "ok",
            LevelStatus::Failed => "failed",
            LevelStatus::Skipped => "skipped",
            LevelStatus::Pending => "pending",
        }
    }
}

/// How a level ended, with what the user needs to know about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LevelOutcome {
    /// The agent ran to its end (some workloads may have failed: see `errors`).
    Measured,
    /// The level was up but its agent failed, was cut off or lied; what it sent
    /// before that is kept.
    AgentFailed {
        /// Why, in one line.
        reason: String,
        /// How many results were kept.
        results_kept: usize,
    },
    /// The level could not be brought up or reached.
    Unreachable {
        /// Why, in one line (a boot failure's console tail may follow).
        reason: String,
    },
    /// The level was up, then the stack lost it or a level below it.
    Lost {
        /// The level that went away (this one or one below it).
        lost: Level,
        /// What happened and what it left (QEMU log, console lines).
        reason: String,
    },
    /// Not attempted.
    Skipped {
        /// Why.
        #[serde(flatten)]
        reason: SkipReason,
    },
}

/// Why a level was not attempted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "because", rename_all = "snake_case")]
pub enum SkipReason {
    /// A level it needs (its parent, or a hop of its `via` chain) failed — the first
    /// such level, which the rules find because they look at levels in order.
    DependsOn {
        /// That level.
        level: Level,
    },
    /// Its parent was measured but cannot start a child the way the run asks.
    CannotHost {
        /// The parent.
        parent: Level,
        /// Why, in the doctor's words.
        detail: String,
    },
    /// L0, the reference every figure is relative to, could not be measured.
    ReferenceMissing,
    /// The run was interrupted before it got there.
    Interrupted,
}

impl LevelOutcome {
    /// The plain status this outcome reads as.
    pub fn status(&self) -> LevelStatus {
        match self {
            LevelOutcome::Measured => LevelStatus::Ok,
            LevelOutcome::AgentFailed { .. }
            | LevelOutcome::Unreachable { .. }
            | LevelOutcome::Lost { .. } => LevelStatus::Failed,
            LevelOutcome::Skipped { .. } => LevelStatus::Skipped,
        }
    }

    /// Whether the level was up and answering at its end, so levels that depend on it
    /// can be attempted (an agent failure is the agent's, not the level's).
    pub fn is_up(&self) -> bool {
        matches!(
            self,
            LevelOutcome::Measured | LevelOutcome::AgentFailed { .. }
        )
    }

    /// The one-line text run.json keeps in `error` (None when measured).
    pub fn describe(&self) -> Option<String> {
        match self {
            LevelOutcome::Measured => None,
            LevelOutcome::AgentFailed { reason, .. } => Some(format!("agent failed: {reason}")),
            LevelOutcome::Unreachable { reason } => Some(reason.clone()),
            LevelOutcome::Lost { reason, .. } => Some(reason.clone()),
            LevelOutcome::Skipped { reason } => Some(format!("skipped: {}", reason.describe())),
        }
    }
}

impl SkipReason {
    /// In words.
    pub fn describe(&self) -> String {
        match self {
            SkipReason::DependsOn { level } => format!("{level} failed"),
            SkipReason::CannotHost { parent, detail } => {
                format!("{parent} cannot host a child: {detail}")
            }
            SkipReason::ReferenceMissing => "L0 could not be measured".into(),
            SkipReason::Interrupted => "run interrupted".into(),
        }
    }
}

/// Whether a measured level can start the next one, judged from what its agent saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hosting {
    /// False: its children are skipped with `detail` as the reason.
    pub can_host: bool,
    /// What was found (and, when it cannot host, the fix).
    pub detail: String,
}

/// One level of the stack (0 = host).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelRecord {
    /// Nesting depth, 0 for the host.
    pub level: Level,
    /// Display name, e.g. `L2`.
    #[serde(default)]
    pub name: String,
    /// Outcome as a plain status (derived from `outcome` when it is set).
    pub status: LevelStatus,
    /// Why the level failed or was skipped (derived from `outcome` when it is set).
    pub error: Option<String>,
    /// The typed outcome (absent in version 1 files and while pending).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::lenient"
    )]
    pub outcome: Option<LevelOutcome>,
    /// Whether the level could host a child (absent where nothing was judged).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::lenient"
    )]
    pub hosting: Option<Hosting>,
    /// What the level is and how it runs.
    pub env: LevelEnv,
    /// Lifecycle durations.
    pub timings: Timings,
    /// Workloads that failed at this level.
    #[serde(default)]
    pub errors: Vec<WorkloadError>,
    /// Everything measured at this level.
    #[serde(default)]
    pub results: Vec<WorkloadResult>,
    /// Metrics that do not apply at this level, each with the reason (added after
    /// version 2 was released: optional, omitted when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_applicable: Vec<NotApplicable>,
    /// Earlier attempts at this level that the stack lost, oldest first, each with
    /// what it measured and what was brought back up before the next one (added after
    /// version 2: optional, omitted when the first attempt was the last).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retries: Vec<Retry>,
}

/// An attempt at a level that the stack lost, and the relaunch that followed it
/// (docs/qemu.md, "Reliability").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Retry {
    /// The attempt as it was recorded: outcome, timings, and every result it sent
    /// before it was lost (kept here, not mixed into the level's results).
    pub attempt: Box<LevelRecord>,
    /// The level that went away, from which the stack was brought back up.
    pub relaunched_from: Level,
    /// Seconds spent bringing the levels from `relaunched_from` to the one before
    /// this level back up (this level's own launch is in its `provision_s`).
    pub relaunch_s: f64,
}

impl LevelRecord {
    /// A level that has not been reached yet.
    pub fn pending(level: Level) -> Self {
        LevelRecord {
            level,
            name: level.to_string(),
            status: LevelStatus::Pending,
            error: None,
            outcome: None,
            hosting: None,
            env: LevelEnv::default(),
            timings: Timings::default(),
            errors: vec![],
            results: vec![],
            not_applicable: vec![],
            retries: vec![],
        }
    }

    /// Set the outcome, and the `status` and `error` derived from it.
    pub fn conclude(&mut self, outcome: LevelOutcome) {
        self.status = outcome.status();
        self.error = outcome.describe();
        self.outcome = Some(outcome);
    }

    /// The result of `id` at this level.
    pub fn result(&self, id: &MetricId) -> Option<&WorkloadResult> {
        self.results.iter().find(|r| r.id.same(id))
    }

    /// Why `id` does not apply at this level, when the agent said it does not.
    pub fn not_applicable(&self, id: &MetricId) -> Option<&NotApplicable> {
        self.not_applicable.iter().find(|n| n.id.same(id))
    }

    /// The error record of `workload` at this level.
    pub fn workload_error(&self, workload: &str) -> Option<&WorkloadError> {
        self.errors.iter().find(|e| e.workload == workload)
    }
}

/// The environment of a level: what the agent saw plus what the backend did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LevelEnv {
    /// CPU model as the level sees it.
    pub cpu_model: Option<String>,
    /// vCPUs.
    pub vcpus: Option<u32>,
    /// Memory, MiB.
    pub memory_mib: Option<u64>,
    /// Kernel release.
    pub kernel: Option<String>,
    /// Hypervisor signature seen from inside (None on bare metal).
    pub hypervisor: Option<String>,
    /// `svm`/`vmx` when visible.
    pub virt_extensions: Option<String>,
    /// /dev/kvm usable inside this level.
    pub kvm_usable: Option<bool>,
    /// How this level is run by its parent.
    #[serde(default, deserialize_with = "super::lenient")]
    pub accel: Option<Accel>,
    /// `qemu-system-x86_64 --version` of the QEMU that runs this level.
    pub qemu_version: Option<String>,
    /// What backs the scratch disk the disk workloads use.
    pub disk: Option<String>,
    /// Kernel command line / QEMU flags applied to this level that change what some
    /// workloads measure (e.g. `mitigations=off`), empty when none.
    #[serde(default)]
    pub tuning: Vec<String>,
    /// The exact QEMU command line that started this level.
    #[serde(default)]
    pub qemu_argv: Vec<String>,
    /// The last-level cache this level's sysfs shows, MiB (under TCG, made up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llc_mib: Option<u64>,
    /// What the Windows agent saw of a Windows level (version, build, Hyper-V role);
    /// absent for Linux levels (optional, added after schema 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub windows: Option<WindowsInfo>,
    /// What the controller found a remote level to be on first contact (an inventory
    /// level or a remote L0); added after version 2, omitted when nothing was probed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// The network between this level and its parent, which dominates net.tcp (QEMU
    /// user networking for QEMU levels); added after version 2, omitted when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// A level the Hyper-V backend created: its host's Hyper-V, the VM's configuration
    /// version and the settings applied; added after version 2, omitted otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hyperv: Option<HypervLevel>,
}

/// What the Hyper-V backend made of a level (docs/hyperv.md, "--backend hyperv").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HypervLevel {
    /// The VM's name on its host.
    pub vm: String,
    /// The machine it runs on (the Hyper-V host's name, or `L1`, …).
    pub host: String,
    /// Hyper-V's version there (vmms.exe's product version).
    pub hyperv_version: String,
    /// The VM's configuration version.
    pub config_version: String,
    /// The static memory it was given, MiB (the agent's `memory_mib` is what the
    /// guest sees of it).
    #[serde(default)]
    pub memory_mib: u64,
    /// The virtual processors it was given.
    #[serde(default)]
    pub processors: u32,
    /// The settings applied before it started, as `hyperv_apply` names them
    /// (`expose_virtualization_extensions`, `processor_count`, …).
    #[serde(default)]
    pub settings: Vec<String>,
}

/// A remote level's OS as its first contact showed it (docs/inventory.md, "Windows
/// levels"). The agent's `info` says what the level's CPU and kernel look like; this
/// says what kind of machine answered, which the agent cannot always tell — above all
/// that a Windows machine with the Hyper-V role is the hypervisor's root partition,
/// not bare metal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// `linux` or `windows` (a reader keeps a word it does not know as it is).
    pub os: String,
    /// The OS in words: `uname -sr` (`Linux 6.1.0-18-amd64`), or Windows' caption and
    /// build (`Microsoft Windows Server 2022 Standard, build 20348`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// The login shell that answered the probe: `sh`, `cmd` or `powershell`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<String>,
    /// The machine runs the Hyper-V role: its OS is the root partition, scheduled by
    /// the hypervisor beneath it, so as L0 it is not bare metal.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hyperv_root: bool,
}

impl LevelEnv {
    /// Fill the agent-observed fields from `info`.
    pub fn absorb_info(&mut self, info: &HostInfo) {
        self.cpu_model = Some(info.cpu_model.clone());
        self.vcpus = Some(info.vcpus);
        self.memory_mib = Some(info.memory_mib);
        self.kernel = Some(info.kernel.clone());
        self.hypervisor = info.hypervisor.clone();
        self.virt_extensions = info.virt_extensions.clone();
        self.kvm_usable = Some(info.kvm_usable);
        self.llc_mib = info.llc_mib;
        self.windows = info.windows.clone();
    }
}

/// Lifecycle durations of a level, seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// From this level's own launch until it answered over SSH (0 for a local L0).
    pub provision_s: Option<f64>,
    /// From the start of the run until this level answered and its sessions were open.
    pub ready_s: Option<f64>,
    /// From its sshd answering until the controller's sessions to it were open (part
    /// of the time from sshd to the first sample, with `deploy_s`); added after
    /// version 2, absent for levels with nothing to connect (a local L0) and in older
    /// files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_s: Option<f64>,
    /// Agent upload and verification.
    pub deploy_s: Option<f64>,
    /// The agent's run.
    pub suite_s: Option<f64>,
}
