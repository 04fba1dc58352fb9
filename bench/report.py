#!/usr/bin/env python3
"""Reads what scripts/bench-reference ran and prints its tables.

  report.py param FILE WORKLOAD KEY    a `params` value of WORKLOAD's first result
  report.py table DIR ROUNDS           ratios agent ÷ reference, CVs, size and RSS

DIR holds, per round R: agent-W-R.jsonl (the agent's stream for workload W), and
for the reference's halves before (Ra) and after (Rb) it ref-stream-Ra.txt and
ref-getppid-Ra.txt (one sample a line), fio-NAME-Ra_{bw,iops}.1.log (fio's
per-interval logs, averaged over the agent's sample budget); quick.jsonl (one
full quick run, unless meta.json says it was skipped) and meta.json (the workloads
measured, the last-level cache, load averages, stripped size, peak RSS).
The statistic on both sides is the median of all samples of all rounds; the best
sample of each side and the per-round ratios are printed next to it.
"""

import json
import statistics
import sys
from pathlib import Path


def records(path):
    """The agent's JSON lines; a workload error is a run that failed."""
    out = []
    for line in Path(path).read_text().splitlines():
        r = json.loads(line)
        if r.get("type") == "error":
            raise SystemExit(f"bench-reference: {path}: {r['workload']}: {r['message']}")
        out.append(r)
    return out


def result(path, workload, metric=None):
    for r in records(path):
        if r.get("type") == "result" and r["workload"] == workload:
            if metric is None or r["metric"] == metric:
                return r
    raise SystemExit(f"bench-reference: no {workload} {metric or ''} result in {path}")


def numbers(path):
    return [float(x) for x in Path(path).read_text().split()]


def fio_log(path, scale, keep):
    """Values of a fio log (time, value, dir, bs, offset), the first `keep` of them."""
    rows = [line.split(",") for line in Path(path).read_text().splitlines() if line.strip()]
    vals = [float(r[1]) * scale for r in rows][:keep]
    if not vals:
        raise SystemExit(f"bench-reference: {path} holds no fio samples")
    return vals


# metric, unit, agent (workload, metric, file stem), reference (kind, stem),
# target ratio and whether the ratio must be at least (True) or at most (False) it.
RATIOS = [
    ("mem.stream triad", "GB/s", ("mem.stream", "triad", "mem.stream"), ("txt", "ref-stream"), 0.95, True),
    ("disk.seq write", "MB/s", ("disk.seq", "write", "disk.seq"), ("bw", "fio-seqwrite"), 0.95, True),
    ("disk.seq read", "MB/s", ("disk.seq", "read", "disk.seq"), ("bw", "fio-seqread"), 0.95, True),
    ("disk.rand read_iops", "IOPS", ("disk.rand", "read_iops", "disk.rand"), ("iops", "fio-randread"), 0.90, True),
    ("exit.syscall latency", "ns", ("exit.syscall", "latency", "exit.syscall"), ("txt", "ref-getppid"), 1.05, False),
]

CV_TARGETS = {"cpu": 1.0, "mem": 3.0, "disk": 5.0}


def pair_samples(d, r, agent_id, ref):
    """The agent's samples of round r, and the reference's from before (a) and after (b)."""
    (w, m, stem), (kind, ref_stem) = agent_id, ref
    res = result(d / f"agent-{stem}-{r}.jsonl", w, m)
    n = res["params"]["samples"]
    refs = []
    for tag, keep in ((f"{r}a", n // 2), (f"{r}b", n - n // 2)):
        if kind == "txt":
            refs += numbers(d / f"{ref_stem}-{tag}.txt")
        elif kind == "bw":  # KiB/s -> MB/s
            refs += fio_log(d / f"{ref_stem}-{tag}_bw.1.log", 1024 / 1e6, keep)
        else:
            refs += fio_log(d / f"{ref_stem}-{tag}_iops.1.log", 1.0, keep)
    return res["samples"], refs


def ratio_table(d, rounds, workloads):
    """Judged on medians; the best sample of each side (highest rate, lowest latency)
    and the per-round ratios of medians show how much of a gap is the neighbours."""
    print(
        f"{'metric':<21} {'unit':<5} {'agent':>9} {'reference':>9} {'ratio':>6}  {'target':<7} "
        f"result  {'best':>5}  per-round ratios"
    )
    for name, unit, agent_id, ref, target, at_least in RATIOS:
        if agent_id[0] not in workloads:
            continue
        agent, refs, per_round = [], [], []
        for r in range(1, rounds + 1):
            a, b = pair_samples(d, r, agent_id, ref)
            agent += a
            refs += b
            per_round.append(statistics.median(a) / statistics.median(b))
        a, b = statistics.median(agent), statistics.median(refs)
        ratio = a / b
        best = max(agent) / max(refs) if at_least else min(agent) / min(refs)
        ok = ratio >= target if at_least else ratio <= target
        sign = ">=" if at_least else "<="
        print(
            f"{name:<21} {unit:<5} {a:>9.4g} {b:>9.4g} {ratio:>6.3f}  {sign} {target:<4} "
            f"{'pass' if ok else 'MISS':<6}  {best:>5.3f}  {' '.join(f'{x:.2f}' for x in per_round)}"
        )
    print(f"(n = {len(agent)} samples per side and metric)")


def cv_table(d):
    print(f"{'metric':<30} {'unit':<8} {'n':>3} {'mean':>10} {'CV %':>7}  target  result")
    for r in records(d / "quick.jsonl"):
        if r.get("type") != "result":
            continue
        s = r["samples"]
        mean = statistics.fmean(s)
        cv = statistics.stdev(s) / abs(mean) * 100 if len(s) > 1 and mean else float("nan")
        target = CV_TARGETS.get(r["workload"].split(".")[0])
        verdict = "" if target is None else ("pass" if cv <= target else "MISS")
        shown = "   —   " if target is None else f"<= {target:<4g}"
        print(
            f"{r['workload'] + ' ' + r['metric']:<30} {r['unit']:<8} {len(s):>3} "
            f"{mean:>10.4g} {cv:>7.2f}  {shown} {verdict}"
        )


def stream_line(s, llc):
    """What the STREAM arrays were, and whether they meet STREAM's rule (each array at
    least 4x the last-level cache): below it the triad is the cache's bandwidth."""
    array = s["array_mib"]
    if llc:
        valid = "valid" if array >= 4 * llc else "NOT valid: cache bandwidth"
        rule = f"each array {array:g} MiB vs 4 x {llc} MiB LLC = {4 * llc} MiB: {valid}"
    else:
        rule = f"each array {array:g} MiB, LLC unknown"
    return f"   stream {s['total_mib']} MiB total on {s['threads']} threads ({rule})"


def table(d, rounds):
    d = Path(d)
    meta = json.loads((d / "meta.json").read_text())
    workloads = meta["workloads"]
    first = next(w for w in ("mem.stream", "disk.seq", "disk.rand", "exit.syscall") if w in workloads)
    base = result(d / f"agent-{first}-1.jsonl", first)["params"]
    n, budget = base["samples"], base["budget_s"]
    print(
        f"\n== agent ÷ reference: median of all samples; {rounds} rounds of {n} samples of "
        f"{budget} s per side, the agent's between two halves of the reference's"
    )
    if "mem.stream" in workloads:
        print(stream_line(result(d / "agent-mem.stream-1.jsonl", "mem.stream", "triad")["params"], meta["llc_mib"]))
    if "disk.seq" in workloads:
        q = result(d / "agent-disk.seq-1.jsonl", "disk.seq", "write")["params"]
        print(
            f"   disk {q['file_mib']:g} MiB file on {q['fs']}, o_direct {q['o_direct']}, "
            f"seq blocks {q['block_kib']} KiB, rand 4 KiB QD1"
        )
    ratio_table(d, rounds, workloads)
    if meta["quick"]:
        wall = next(r["elapsed_s"] for r in records(d / "quick.jsonl") if r.get("type") == "end")
        print(f"\n== coefficient of variation, one `run --suite quick` at L0 ({wall:.1f} s)")
        cv_table(d)
    print("\n== agent")
    print(f"   stripped size: {meta['stripped_bytes']} B ({meta['stripped_bytes'] / 2**20:.2f} MiB; limit 3 MiB)")
    print(f"   peak RSS, run --suite quick --only exit.cpuid: {meta['maxrss_kib']} KiB ({meta['maxrss_how']})")
    print("\n== load average (1, 5, 15 min)")
    for when, load in meta["load"]:
        print(f"   {when:<14} {load}")


def main(argv):
    if len(argv) == 5 and argv[1] == "param":
        print(result(argv[2], argv[3])["params"][argv[4]])
    elif len(argv) == 4 and argv[1] == "table":
        table(argv[2], int(argv[3]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
