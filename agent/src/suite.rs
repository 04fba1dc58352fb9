//! `nestbench-agent run`: runs the selected workloads in suite order and streams the
//! protocol — `begin`, then each workload's `result`s (or one `error`, or a
//! `not_applicable` per metric when the level lacks what the workload needs) as soon as
//! it finishes, then `end` — flushing after every line, so a controller that loses the
//! agent mid-way keeps everything already measured.

use crate::cli::RunOpts;
use crate::hostinfo;
use crate::workdir::WorkDir;
use model::protocol::{Record, PROTOCOL_VERSION};
use model::{MetricId, NotApplicable, WorkloadError};
use std::io::Write;
#[cfg(unix)]
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;
#[cfg(unix)]
use workloads::context::Limits;
use workloads::context::{Context, NetLink};
use workloads::net::Acceptor;
use workloads::registry::{self, Workload};
use workloads::RunError;

/// Runs the suite; exit 1 only when stdout cannot be written.
pub fn run(opts: &RunOpts) -> ExitCode {
    let started = Instant::now();
    if let Some(every) = opts.heartbeat {
        heartbeat(every);
    }
    let selected = match registry::select(opts.only.as_deref()) {
        Ok(s) => s,
        Err(why) => {
            eprintln!("nestbench-agent: {why}");
            return ExitCode::from(2);
        }
    };
    let disk_ids: Vec<&str> = selected
        .iter()
        .filter(|w| w.def.uses_disk)
        .map(|w| w.id())
        .collect();
    // Only make a directory when something will write there.
    let workdir = (!disk_ids.is_empty()).then(|| WorkDir::create(&opts.dir, &disk_ids));
    if let Some(Err(why)) = &workdir {
        eprintln!("nestbench-agent: {why}");
    }
    let dir = match &workdir {
        Some(Ok(w)) => w.path().to_path_buf(),
        _ => opts.dir.clone(),
    };
    #[cfg(unix)]
    let limits = Limits {
        mem_available_mib: std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| hostinfo::meminfo_kib(&m, "MemAvailable"))
            .map(|k| k / 1024),
        disk_free_mib: free_mib(&dir),
        llc_mib: opts.llc_mib.or_else(hostinfo::own_llc_mib),
    };
    #[cfg(windows)]
    let limits = hostinfo::limits(&dir, opts.llc_mib);
    let mut ctx = Context::new(opts.suite, opts.sizes, dir, limits);
    // Listen before the first workload, so the parent's peer is connected (and idle)
    // long before net.tcp, and its knocking stops before anything is measured.
    if let Some(port) = opts.net_listen {
        ctx.net = listen(port, opts.net_backend.as_deref());
    }
    if let Some(b) = opts.budget {
        ctx.timing = ctx.timing.with_budget(b);
    }
    let mut out = Output(std::io::stdout().lock());
    let begin = Record::Begin {
        protocol: PROTOCOL_VERSION,
        agent_version: env!("CARGO_PKG_VERSION").into(),
        suite: opts.suite.name().into(),
        workloads: selected.iter().map(|w| w.id().to_string()).collect(),
        info: hostinfo::gather(),
    };
    if out.emit(&begin).is_err() {
        return ExitCode::FAILURE;
    }
    eprintln!(
        "nestbench-agent: suite {} ({} workloads), sizes stream={} latency={} pagefault={} disk={} MiB, LLC {}",
        opts.suite,
        selected.len(),
        ctx.sizes.stream_mib,
        ctx.sizes.latency_mib,
        ctx.sizes.pagefault_mib,
        ctx.sizes.disk_mib,
        ctx.limits
            .llc_mib
            .map_or("unknown".to_string(), |l| format!("{l} MiB"))
    );
    for (i, w) in selected.iter().enumerate() {
        let t = Instant::now();
        eprint!(
            "nestbench-agent: [{}/{}] {} ... ",
            i + 1,
            selected.len(),
            w.id()
        );
        let outcome = match &workdir {
            Some(Err(why)) if w.def.uses_disk => Err(RunError::Other(why.to_string())),
            _ => w.run(&ctx),
        };
        let records = records_of(w, outcome);
        let word = match records.first() {
            Some(Record::Error(_)) => "failed",
            Some(Record::NotApplicable(_)) => "not applicable",
            _ => "ok",
        };
        eprintln!("{word} in {:.1} s", t.elapsed().as_secs_f64());
        if records.iter().any(|r| out.emit(r).is_err()) {
            return ExitCode::FAILURE;
        }
    }
    drop(workdir);
    match out.emit(&Record::End {
        elapsed_s: started.elapsed().as_secs_f64(),
    }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(()) => ExitCode::FAILURE,
    }
}

/// The listener for net.tcp's peer on `port`, or why there is none.
fn listen(port: u16, backend: Option<&str>) -> NetLink {
    match std::net::TcpListener::bind(("0.0.0.0", port)).and_then(Acceptor::start) {
        Ok(acceptor) => NetLink::Listen {
            acceptor,
            port,
            backend: backend.unwrap_or("an unnamed network").to_string(),
        },
        Err(e) => NetLink::Unavailable(format!(
            "cannot listen on port {port} for the net peer: {e}"
        )),
    }
}

/// The records of one workload's outcome: its results, a not-applicable record for
/// each of its catalog metrics, or one error.
fn records_of(w: &Workload, outcome: Result<Vec<model::WorkloadResult>, RunError>) -> Vec<Record> {
    match outcome {
        Ok(results) => results.into_iter().map(Record::Result).collect(),
        Err(RunError::NotApplicable(reason)) => w
            .def
            .metrics
            .iter()
            .map(|m| {
                Record::NotApplicable(NotApplicable {
                    id: MetricId::of(w.def, m),
                    reason: reason.clone(),
                })
            })
            .collect(),
        Err(e) => vec![Record::Error(WorkloadError {
            workload: w.id().into(),
            message: e.to_string(),
        })],
    }
}

/// Protocol lines on stdout, flushed one by one.
struct Output<W: Write>(W);

impl<W: Write> Output<W> {
    /// Writes one record; a failure (e.g. the controller went away) is reported once
    /// on stderr and ends the run.
    fn emit(&mut self, r: &Record) -> Result<(), ()> {
        writeln!(self.0, "{}", r.to_line())
            .and_then(|_| self.0.flush())
            .map_err(|e| {
                eprintln!("nestbench-agent: cannot write to stdout ({e}); stopping");
            })
    }
}

/// Free space on the file system holding `dir`, in MiB.
#[cfg(unix)]
fn free_mib(dir: &Path) -> Option<u64> {
    let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).ok()?;
    // SAFETY: statvfs fills the zeroed struct for a NUL-terminated path.
    unsafe {
        let mut s: libc::statvfs = std::mem::zeroed();
        (libc::statvfs(c.as_ptr(), &mut s) == 0)
            .then(|| s.f_bavail as u64 * s.f_frsize as u64 / (1 << 20))
    }
}

/// Write [`model::protocol::HEARTBEAT`] on stderr every `every` until the process
/// ends, from a thread of its own: it wakes once per period, far too rarely to show in
/// a sample.
fn heartbeat(every: std::time::Duration) {
    std::thread::spawn(move || loop {
        std::thread::sleep(every);
        let mut err = std::io::stderr().lock();
        if err
            .write_all(&[model::protocol::HEARTBEAT])
            .and_then(|()| err.flush())
            .is_err()
        {
            return;
        }
    });
}
