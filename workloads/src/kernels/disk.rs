//! Disk kernels: sequential bandwidth (256 KiB blocks), 4 KiB random IOPS with tail latency, and
//! write+fsync latency, on a file in the workload's own scratch directory.
//!
//! At level n every I/O crosses n virtual disks (each backed by a file on its
//! parent's), so these are the figures that degrade with depth even under hardware
//! virtualization. O_DIRECT keeps the guest's page cache out of them where the file
//! system allows; where it does not, `params` says so (and on tmpfs, that the "disk"
//! is RAM), reads drop the file's cached pages and write samples end with a timed
//! fdatasync.
//!
//! **Setup bounded in time.** The file's size is the controller's (`--sizes disk=`,
//! `file_mib`, the same at every level), but it is written before timing only as far as
//! the setup budget allows ([`crate::setup`]): at L0 all of it, where the disk is 100×
//! slower perhaps a tenth. Every timed read and write then ranges over the part that was
//! written (`prepared_mib`; `setup_truncated` when it is not the whole file). That
//! keeps the figures honest: each read is of a block that holds data, through O_DIRECT
//! and, in nestbench's stacks, through `cache=none` at every level below, so no page
//! cache answers it whatever the region's size; what a truncated level changes is only
//! the span the I/O ranges over, which its params record and the report marks. The
//! alternatives were worse: fallocating the full size and reading unwritten extents
//! reads nothing (see [`super::scratch`]), and a smaller file at every level would cut
//! L0's span for the sake of the slowest level.

use super::mem::Rng;
use super::scratch::{
    drop_cache, fs_type, is_ram_fs, open_data_file, prepare, AlignedBuf, DataFile, ScratchDir,
    ALIGN,
};
use crate::context::{obj, Context, IoContext, RunError};
use crate::hist::Histogram;
use crate::setup::SetupClock;
use crate::timing::{samples, samples_with, Measure, Step};
use model::WorkloadResult;
use serde_json::{json, Map, Value};
use std::cell::RefCell;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;
/// Block size of disk.seq: large enough for sequential bandwidth, small enough that one
/// block stays short where the disk is 1000x slower (one block is the least a sample does).
const SEQ_BLOCK: usize = 256 << 10;
/// Block size of disk.rand and disk.fsync.
const RAND_BLOCK: usize = ALIGN;

/// The first I/O error a kernel hit (kernels cannot return early from a sample).
#[derive(Default)]
struct FirstError(RefCell<Option<RunError>>);

impl FirstError {
    fn set(&self, what: impl FnOnce() -> String, e: std::io::Error) {
        self.0
            .borrow_mut()
            .get_or_insert_with(|| RunError::io(what(), e));
    }

    fn take(&self) -> Result<(), RunError> {
        self.0.borrow_mut().take().map_or(Ok(()), Err)
    }
}

/// A data file prepared in a fresh scratch directory, removed on drop.
struct Setup {
    data: DataFile,
    path: PathBuf,
    /// The file's planned size, bytes.
    size: u64,
    /// Bytes written before timing: the span every timed I/O ranges over.
    prepared: u64,
    params: Map<String, Value>,
    /// The workload that prepared it.
    by: &'static str,
    _dir: ScratchDir,
}

impl Setup {
    /// The file an earlier disk workload of this run left ([`Setup::hand_over`]) when
    /// it has this size, else a new one. The figures stay what they were: every I/O
    /// still ranges over a written span through the same O_DIRECT path; `params` say
    /// which workload prepared the file (`file_prepared_by`) and how far.
    fn reuse_or_new(
        ctx: &Context,
        id: &'static str,
        size: u64,
        buf: &AlignedBuf,
    ) -> Result<Setup, RunError> {
        if let Some(mut s) = ctx.disk_file.take::<Setup>().filter(|s| s.size == size) {
            s.params
                .insert("file_prepared_by".into(), json!(s.by.to_string()));
            s.by = id;
            return Ok(s);
        }
        Setup::new(ctx, id, size, buf)
    }

    /// Leave the file for the next disk workload instead of removing it now (the
    /// agent's work directory goes at the end of the run in any case).
    fn hand_over(self, ctx: &Context) {
        ctx.disk_file.put(self);
    }

    /// Creates the file and writes up to `size` bytes of it within the setup budget.
    fn new(
        ctx: &Context,
        id: &'static str,
        size: u64,
        buf: &AlignedBuf,
    ) -> Result<Setup, RunError> {
        let clock = SetupClock::start(ctx.timing.setup);
        if let Some(free) = ctx.limits.disk_free_mib {
            if size > free * MIB * 9 / 10 {
                return Err(RunError::Other(format!(
                    "{id} needs a {} MiB file but {} has only {free} MiB free: pass smaller --sizes disk=N",
                    size / MIB,
                    ctx.dir.display()
                )));
            }
        }
        let dir = ScratchDir::create(&ctx.dir, id)?;
        let path = dir.file();
        let data = open_data_file(&path, buf)?;
        let prepared = prepare(&data.file, buf, size, &path, data.direct, &clock)?;
        let fs = fs_type(dir.path());
        let mib = |b: u64| b as f64 / MIB as f64;
        let mut params = obj(json!({ "o_direct": data.direct, "fs": fs, "file_mib": mib(size) }));
        params.extend(clock.params(mib(prepared), mib(size)));
        if is_ram_fs(&fs) {
            params.insert(
                "note".into(),
                json!(format!("{fs} is RAM: these are memory figures, not disk")),
            );
        } else if !data.direct {
            params.insert("note".into(), json!("no O_DIRECT on this file system: page cache dropped before reads, writes end each sample with fdatasync"));
        }
        Ok(Setup {
            data,
            path,
            size,
            prepared,
            params,
            by: id,
            _dir: dir,
        })
    }

    /// After a write sample: without O_DIRECT, flush it to the disk inside its timing.
    fn sync_into(&self, m: &mut Measure, err: &FirstError) {
        if !self.data.direct {
            let t = Instant::now();
            if let Err(e) = self.data.file.sync_data() {
                err.set(|| format!("fdatasync {}", self.path.display()), e);
            }
            m.elapsed += t.elapsed();
        }
    }

    /// Before reading without O_DIRECT: drop the file's cached pages (untimed).
    fn uncache(&self) -> Duration {
        let t = Instant::now();
        if !self.data.direct {
            drop_cache(&self.data.file);
        }
        t.elapsed()
    }
}

/// disk.seq: sequential 256 KiB writes, then reads, over the prepared part of the file,
/// in MB/s (10^6 B/s).
pub fn seq(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    let size = (ctx.sizes.disk_mib * MIB).max(SEQ_BLOCK as u64);
    let mut buf = AlignedBuf::new(SEQ_BLOCK)?;
    let s = Setup::reuse_or_new(ctx, "disk.seq", size, &buf)?;
    let blocks = (s.prepared / SEQ_BLOCK as u64).max(1);
    let err = FirstError::default();
    let mut pos = 0u64;
    let write = samples_with(
        &ctx.timing,
        |n| {
            let mut bytes = 0.0;
            for _ in 0..n {
                if let Err(e) = s
                    .data
                    .file
                    .write_all_at(buf.as_slice(), pos * SEQ_BLOCK as u64)
                {
                    err.set(|| format!("write {}", s.path.display()), e);
                    break;
                }
                bytes += SEQ_BLOCK as f64;
                pos = (pos + 1) % blocks;
            }
            Step::units(bytes)
        },
        |m| s.sync_into(m, &err),
    );
    err.take()?;
    s.data
        .file
        .sync_all()
        .ctx(|| format!("fsync {}", s.path.display()))?;
    let mut pos = 0u64;
    let read = samples(&ctx.timing, |n| {
        let mut bytes = 0.0;
        let mut untimed = Duration::ZERO;
        for _ in 0..n {
            if pos == 0 {
                untimed += s.uncache();
            }
            if let Err(e) = s
                .data
                .file
                .read_exact_at(buf.as_mut_slice(), pos * SEQ_BLOCK as u64)
            {
                err.set(|| format!("read {}", s.path.display()), e);
                break;
            }
            bytes += SEQ_BLOCK as f64;
            pos = (pos + 1) % blocks;
        }
        Step {
            units: bytes,
            untimed,
        }
    });
    err.take()?;
    let mut params = s.params.clone();
    params.insert("block_kib".into(), json!(SEQ_BLOCK / 1024));
    s.hand_over(ctx);
    let mb = |m: &[Measure]| m.iter().map(|m| m.per_second() / 1e6).collect::<Vec<_>>();
    Ok(vec![
        ctx.result("disk.seq", "write", &params, mb(&write)),
        ctx.result("disk.seq", "read", &params, mb(&read)),
    ])
}

/// disk.rand: 4 KiB random reads (IOPS, and p99 latency in us), then 4 KiB random
/// writes (IOPS), one at a time (queue depth 1), over the prepared part of the file.
pub fn rand(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    let size = (ctx.sizes.disk_mib * MIB).max(MIB);
    let fill = AlignedBuf::new(SEQ_BLOCK.min(size as usize))?;
    let s = Setup::reuse_or_new(ctx, "disk.rand", size, &fill)?;
    drop(fill);
    let mut buf = AlignedBuf::new(RAND_BLOCK)?;
    let blocks = (s.prepared / RAND_BLOCK as u64).max(1);
    let mut rng = Rng::new(0xD15C);
    let err = FirstError::default();
    let hist = RefCell::new(Histogram::default());
    let mut p99 = Vec::new();
    s.uncache();
    let read = samples_with(
        &ctx.timing,
        |n| {
            let mut ops = 0.0;
            let mut h = hist.borrow_mut();
            for _ in 0..n {
                let off = rng.below(blocks) * RAND_BLOCK as u64;
                let t = Instant::now();
                if let Err(e) = s.data.file.read_exact_at(buf.as_mut_slice(), off) {
                    err.set(|| format!("read {}", s.path.display()), e);
                    break;
                }
                h.record(t.elapsed().as_nanos() as u64);
                ops += 1.0;
            }
            Step::units(ops)
        },
        |_| {
            let mut h = hist.borrow_mut();
            p99.push(h.quantile(0.99).unwrap_or(0) as f64 / 1e3);
            h.clear();
        },
    );
    err.take()?;
    let write = samples_with(
        &ctx.timing,
        |n| {
            let mut ops = 0.0;
            for _ in 0..n {
                let off = rng.below(blocks) * RAND_BLOCK as u64;
                if let Err(e) = s.data.file.write_all_at(buf.as_slice(), off) {
                    err.set(|| format!("write {}", s.path.display()), e);
                    break;
                }
                ops += 1.0;
            }
            Step::units(ops)
        },
        |m| s.sync_into(m, &err),
    );
    err.take()?;
    let mut params = s.params.clone();
    params.insert("block_kib".into(), json!(RAND_BLOCK / 1024));
    params.insert("queue_depth".into(), json!(1));
    params.insert(
        "p99".into(),
        json!("per sample, from a log-linear histogram (<= 1.6% error)"),
    );
    let iops = |m: &[Measure]| m.iter().map(Measure::per_second).collect::<Vec<_>>();
    Ok(vec![
        ctx.result("disk.rand", "read_iops", &params, iops(&read)),
        ctx.result("disk.rand", "write_iops", &params, iops(&write)),
        ctx.result("disk.rand", "read_p99", &params, p99),
    ])
}

/// disk.fsync: microseconds per 4 KiB buffered overwrite followed by fsync, the
/// pattern of a database commit.
pub fn fsync(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    let clock = SetupClock::start(ctx.timing.setup);
    let buf = AlignedBuf::new(RAND_BLOCK)?;
    let dir = ScratchDir::create(&ctx.dir, "disk.fsync")?;
    let path = dir.file();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .ctx(|| format!("cannot create {}", path.display()))?;
    let prepared = prepare(&file, &buf, RAND_BLOCK as u64, &path, false, &clock)?;
    let setup = clock.params(prepared as f64 / MIB as f64, RAND_BLOCK as f64 / MIB as f64);
    let err = FirstError::default();
    let m = samples(&ctx.timing, |n| {
        let mut ops = 0.0;
        for _ in 0..n {
            let r = file
                .write_all_at(buf.as_slice(), 0)
                .and_then(|_| file.sync_all());
            if let Err(e) = r {
                err.set(|| format!("write+fsync {}", path.display()), e);
                break;
            }
            ops += 1.0;
        }
        Step::units(ops)
    });
    err.take()?;
    let fs = fs_type(dir.path());
    let mut params =
        obj(json!({ "o_direct": false, "fs": fs, "op": "pwrite 4 KiB at offset 0 + fsync" }));
    params.extend(setup);
    if is_ram_fs(&fs) {
        params.insert(
            "note".into(),
            json!(format!("{fs} is RAM: fsync does nothing there")),
        );
    }
    let s = m.iter().map(|m| m.ns_per_unit() / 1e3).collect();
    Ok(vec![ctx.result("disk.fsync", "latency", &params, s)])
}
