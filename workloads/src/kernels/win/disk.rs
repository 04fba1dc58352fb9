//! Disk kernels on Windows: sequential bandwidth (256 KiB blocks), 4 KiB random IOPS
//! with tail latency, and write + flush latency, on a file in the workload's own
//! scratch directory — the figures, units and block sizes of the Linux kernels
//! (`kernels/disk.rs`), through Windows' own calls.
//!
//! Sequential and random I/O use `FILE_FLAG_NO_BUFFERING` (Windows' O_DIRECT, see
//! [`super::scratch`]) where the volume takes it, so the figures cross the virtual
//! disk rather than the file cache. Where it does not, `params` says so and each write
//! sample ends with a timed `FlushFileBuffers`; Windows has no call to drop one file's
//! cached pages, so such reads may be cache reads, which the note says too.
//! disk.fsync is a buffered 4 KiB overwrite followed by `FlushFileBuffers` — the
//! pattern of a database commit, as Linux's pwrite + fsync; FlushFileBuffers writes
//! the data and the metadata through to the device and asks it to empty its cache.

use super::scratch::{
    open_data_file, prefill, read_exact_at, volume_of, write_all_at, DataFile, ScratchDir,
    SectorBuf, Volume, ALIGN,
};
use crate::context::{obj, Context, IoContext, RunError};
use crate::hist::Histogram;
use crate::kernels::mem::Rng;
use crate::timing::{samples, samples_with, Measure, Step};
use model::WorkloadResult;
use serde_json::{json, Map, Value};
use std::cell::RefCell;
use std::path::PathBuf;
use std::time::Instant;

const MIB: u64 = 1 << 20;
/// Block size of disk.seq (as on Linux).
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

/// A prefilled data file in a fresh scratch directory, removed on drop (the file
/// first: fields drop in order).
struct Setup {
    data: DataFile,
    path: PathBuf,
    size: u64,
    params: Map<String, Value>,
    _dir: ScratchDir,
}

/// The params every disk result carries.
fn volume_params(v: &Volume, unbuffered: bool) -> Map<String, Value> {
    let mut p = obj(json!({ "no_buffering": unbuffered, "fs": v.fs, "sector_b": v.sector_b }));
    if v.ram_disk {
        p.insert(
            "note".into(),
            json!("a RAM disk: these are memory figures, not disk"),
        );
    } else if !unbuffered {
        p.insert("note".into(), json!("no FILE_FLAG_NO_BUFFERING on this volume: reads may come from the file cache, writes end each sample with FlushFileBuffers"));
    }
    p
}

impl Setup {
    fn new(ctx: &Context, id: &str, size: u64, buf: &SectorBuf) -> Result<Setup, RunError> {
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
        let data = open_data_file(&path, buf, true)?;
        prefill(data.file(), buf, size, &path)?;
        let mut params = volume_params(&volume_of(dir.path(), data.file()), data.unbuffered);
        params.insert("file_mib".into(), json!(size as f64 / MIB as f64));
        Ok(Setup {
            data,
            path,
            size,
            params,
            _dir: dir,
        })
    }

    /// After a write sample: through the cache, flush it to the volume inside its timing.
    fn sync_into(&self, m: &mut Measure, err: &FirstError) {
        if !self.data.unbuffered {
            let t = Instant::now();
            if let Err(e) = self.data.file().sync_data() {
                err.set(|| format!("FlushFileBuffers {}", self.path.display()), e);
            }
            m.elapsed += t.elapsed();
        }
    }
}

/// disk.seq: sequential 256 KiB writes, then reads, over the file, in MB/s (10^6 B/s).
pub fn seq(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    let size = (ctx.sizes.disk_mib * MIB).max(SEQ_BLOCK as u64);
    let mut buf = SectorBuf::new(SEQ_BLOCK)?;
    let s = Setup::new(ctx, "disk.seq", size, &buf)?;
    let blocks = s.size / SEQ_BLOCK as u64;
    let f = s.data.file();
    let err = FirstError::default();
    let mut pos = 0u64;
    let write = samples_with(
        &ctx.timing,
        |n| {
            let mut bytes = 0.0;
            for _ in 0..n {
                if let Err(e) = write_all_at(f, buf.as_slice(), pos * SEQ_BLOCK as u64) {
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
    f.sync_all()
        .ctx(|| format!("FlushFileBuffers {}", s.path.display()))?;
    let mut pos = 0u64;
    let read = samples(&ctx.timing, |n| {
        let mut bytes = 0.0;
        for _ in 0..n {
            if let Err(e) = read_exact_at(f, buf.as_mut_slice(), pos * SEQ_BLOCK as u64) {
                err.set(|| format!("read {}", s.path.display()), e);
                break;
            }
            bytes += SEQ_BLOCK as f64;
            pos = (pos + 1) % blocks;
        }
        Step::units(bytes)
    });
    err.take()?;
    let mut params = s.params.clone();
    params.insert("block_kib".into(), json!(SEQ_BLOCK / 1024));
    let mb = |m: &[Measure]| m.iter().map(|m| m.per_second() / 1e6).collect::<Vec<_>>();
    Ok(vec![
        ctx.result("disk.seq", "write", &params, mb(&write)),
        ctx.result("disk.seq", "read", &params, mb(&read)),
    ])
}

/// disk.rand: 4 KiB random reads (IOPS, and p99 latency in us), then 4 KiB random
/// writes (IOPS), one at a time (queue depth 1), over the file.
pub fn rand(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    let size = (ctx.sizes.disk_mib * MIB).max(MIB);
    let fill = SectorBuf::new(SEQ_BLOCK.min(size as usize))?;
    let s = Setup::new(ctx, "disk.rand", size, &fill)?;
    drop(fill);
    let mut buf = SectorBuf::new(RAND_BLOCK)?;
    let blocks = s.size / RAND_BLOCK as u64;
    let f = s.data.file();
    let mut rng = Rng::new(0xD15C);
    let err = FirstError::default();
    let hist = RefCell::new(Histogram::default());
    let mut p99 = Vec::new();
    let read = samples_with(
        &ctx.timing,
        |n| {
            let mut ops = 0.0;
            let mut h = hist.borrow_mut();
            for _ in 0..n {
                let off = rng.below(blocks) * RAND_BLOCK as u64;
                let t = Instant::now();
                if let Err(e) = read_exact_at(f, buf.as_mut_slice(), off) {
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
                if let Err(e) = write_all_at(f, buf.as_slice(), off) {
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

/// disk.fsync: microseconds per 4 KiB buffered overwrite followed by
/// FlushFileBuffers, the pattern of a database commit.
pub fn fsync(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    let buf = SectorBuf::new(RAND_BLOCK)?;
    let dir = ScratchDir::create(&ctx.dir, "disk.fsync")?;
    let path = dir.file();
    let data = open_data_file(&path, &buf, false)?;
    let f = data.file();
    prefill(f, &buf, RAND_BLOCK as u64, &path)?;
    let err = FirstError::default();
    let m = samples(&ctx.timing, |n| {
        let mut ops = 0.0;
        for _ in 0..n {
            if let Err(e) = write_all_at(f, buf.as_slice(), 0).and_then(|_| f.sync_all()) {
                err.set(|| format!("write+FlushFileBuffers {}", path.display()), e);
                break;
            }
            ops += 1.0;
        }
        Step::units(ops)
    });
    err.take()?;
    let v = volume_of(dir.path(), f);
    let mut params = obj(json!({
        "no_buffering": false,
        "fs": v.fs,
        "sector_b": v.sector_b,
        "op": "WriteFile 4 KiB at offset 0 + FlushFileBuffers",
    }));
    if v.ram_disk {
        params.insert(
            "note".into(),
            json!("a RAM disk: FlushFileBuffers has no device to write through to"),
        );
    }
    let s = m.iter().map(|m| m.ns_per_unit() / 1e3).collect();
    Ok(vec![ctx.result("disk.fsync", "latency", &params, s)])
}
