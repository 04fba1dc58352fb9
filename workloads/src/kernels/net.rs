//! net.tcp: TCP between a level and its parent over the level's real virtual network —
//! stream throughput each way and the round trip of a one-byte request and its answer
//! (p50, p99 per sample). Nested guests reach the world through every level's virtual
//! NIC and its parent's network backend (QEMU user networking here, which copies every
//! byte through its parent's sockets), so this is the path a level's network pays for.
//!
//! The level times; its parent's peer only sinks, sources and echoes (`crate::net`).
//! At L0 there is no parent, and the peer is a thread of this agent over loopback: a
//! reference that says what the host's TCP stack costs, not a network figure, which is
//! why reports compare the levels' net figures with L1's.

use crate::context::{obj, Context, IoContext, NetLink, RunError};
use crate::hist::Histogram;
use crate::net::{command, peer, read_n, write_n, Acceptor, ACK, CHUNK, ECHO, HELLO, SINK, SOURCE};
use crate::timing::{Batcher, Step};
use model::WorkloadResult;
use serde_json::json;
use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// How long the agent waits for its parent's peer to be connected when net.tcp starts
/// (it normally is, since the agent listens before its first workload).
const ACCEPT_WAIT: Duration = Duration::from_secs(20);
/// A read or write that takes longer has lost its peer.
const IO_TIMEOUT: Duration = Duration::from_secs(60);
/// The throughput batches' unit: small enough that one unit at L4 (0.4 MB/s) is a
/// small part of a sample, so a slow level overshoots its budget by little.
const UNIT: u64 = 16 * 1024;

/// The connection to the peer and, at L0, the peer's thread.
struct Link {
    stream: TcpStream,
    path: String,
    thread: Option<std::thread::JoinHandle<Result<(), peer::PeerError>>>,
}

fn accept(acceptor: &Acceptor, port: u16) -> Result<TcpStream, RunError> {
    acceptor.take(ACCEPT_WAIT).ok_or_else(|| {
        RunError::Other(format!(
            "no net peer connected to port {port} within {} s: the parent's \
             `nestbench-agent net-peer` did not start or cannot reach this level",
            ACCEPT_WAIT.as_secs()
        ))
    })
}

fn link(ctx: &Context) -> Result<Link, RunError> {
    let (mut stream, path, thread) = match &ctx.net {
        NetLink::Loopback => {
            let (s, t) = peer::loopback().ctx(|| "start a loopback peer".into())?;
            (s, "loopback, no parent".to_string(), Some(t))
        }
        NetLink::Listen {
            acceptor,
            port,
            backend,
        } => (
            accept(acceptor, *port)?,
            format!("to the parent over {backend}"),
            None,
        ),
        NetLink::Unavailable(why) => return Err(RunError::Other(why.clone())),
    };
    let setup = |s: &mut TcpStream| -> io::Result<()> {
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(IO_TIMEOUT))?;
        s.set_write_timeout(Some(IO_TIMEOUT))?;
        s.write_all(HELLO)?;
        let mut h = [0u8; HELLO.len()];
        s.read_exact(&mut h)?;
        if &h != HELLO {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the peer answered something other than net.tcp's hello",
            ));
        }
        Ok(())
    };
    setup(&mut stream).ctx(|| "greet the net peer".into())?;
    Ok(Link {
        stream,
        path,
        thread,
    })
}

/// Figures of one sample series: MB/s or µs.
type Series = Vec<f64>;

/// Samples of `kernel` at the suite's timing, each turned into a figure by `after`;
/// `reset` runs once between the warm-up and the first sample (to forget what the
/// warm-up recorded). The first I/O error ends the series.
fn series(
    ctx: &Context,
    what: &str,
    kernel: &mut dyn FnMut(u64) -> io::Result<f64>,
    reset: &mut dyn FnMut(),
    mut after: impl FnMut(&crate::timing::Measure) -> f64,
) -> Result<Series, RunError> {
    let failed = RefCell::new(None);
    let mut step = |n: u64| {
        if failed.borrow().is_some() {
            return Step::default();
        }
        match kernel(n) {
            Ok(units) => Step::units(units),
            Err(e) => {
                *failed.borrow_mut() = Some(e);
                Step::default()
            }
        }
    };
    let mut b = Batcher::new(ctx.timing.sample);
    b.warm_up(ctx.timing.warmup, &mut step);
    reset();
    let mut out = Vec::with_capacity(ctx.timing.samples);
    for _ in 0..ctx.timing.samples {
        if failed.borrow().is_some() {
            break;
        }
        let m = b.run_for(ctx.timing.sample, &mut step);
        out.push(after(&m));
    }
    match failed.into_inner() {
        Some(e) => Err(RunError::io(what.to_string(), e)),
        None => Ok(out),
    }
}

/// net.tcp: MB/s sent to and received from the parent, and the request/response round
/// trip's p50 and p99 in µs.
pub fn tcp(ctx: &Context) -> Result<Vec<WorkloadResult>, RunError> {
    let mut l = link(ctx)?;
    let outcome = measure(ctx, &mut l.stream);
    let _ = command(&mut l.stream, crate::net::QUIT, 0);
    if let Some(t) = l.thread.take() {
        let _ = t.join();
    }
    let (send, receive, p50, p99) = outcome?;
    let params = obj(json!({
        "path": l.path,
        "transfer": format!("{} KiB writes, TCP_NODELAY", CHUNK / 1024),
        "request": "1 byte each way",
    }));
    Ok(vec![
        ctx.result("net.tcp", "send", &params, send),
        ctx.result("net.tcp", "receive", &params, receive),
        ctx.result("net.tcp", "rr_p50", &params, p50),
        ctx.result("net.tcp", "rr_p99", &params, p99),
    ])
}

fn measure(ctx: &Context, s: &mut TcpStream) -> Result<(Series, Series, Series, Series), RunError> {
    let out = vec![0xa5u8; CHUNK];
    let mut buf = vec![0u8; CHUNK];
    let mb_per_s = |m: &crate::timing::Measure| m.per_second() / 1e6;
    let send = series(
        ctx,
        "send to the net peer",
        &mut |n| {
            let bytes = n * UNIT;
            command(s, SINK, bytes)?;
            write_n(s, &out, bytes)?;
            let mut ack = [0u8; 1];
            s.read_exact(&mut ack)?;
            if ack[0] != ACK {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "bad ack"));
            }
            Ok(bytes as f64)
        },
        &mut || {},
        mb_per_s,
    )?;
    let receive = series(
        ctx,
        "receive from the net peer",
        &mut |n| {
            let bytes = n * UNIT;
            command(s, SOURCE, bytes)?;
            read_n(s, &mut buf, bytes)?;
            Ok(bytes as f64)
        },
        &mut || {},
        mb_per_s,
    )?;
    let hist = RefCell::new(Histogram::default());
    let p50 = RefCell::new(Vec::new());
    let p99 = series(
        ctx,
        "request/response with the net peer",
        &mut |n| {
            command(s, ECHO, n)?;
            let mut b = [1u8; 1];
            for _ in 0..n {
                let t = Instant::now();
                s.write_all(&b)?;
                s.read_exact(&mut b)?;
                hist.borrow_mut().record(t.elapsed().as_nanos() as u64);
            }
            Ok(n as f64)
        },
        &mut || hist.borrow_mut().clear(),
        |_| {
            let mut h = hist.borrow_mut();
            // A sample runs at least one batch of at least one round trip.
            let q = |q| h.quantile(q).map_or(f64::NAN, |ns| ns as f64 / 1e3);
            let (a, b) = (q(0.5), q(0.99));
            h.clear();
            p50.borrow_mut().push(a);
            b
        },
    )?;
    Ok((send, receive, p50.into_inner(), p99))
}
