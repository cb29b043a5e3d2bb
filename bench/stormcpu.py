"""The connect storm's server CPU per session, per thread: where a session's CPU goes, before and after a change.

    python -m bench.stormcpu [--runs 4] [--seconds 6] [--warmup 2] [--base /path/to/other/src]

Starts a zoopark server (fsync on, a temp dataDir), runs bench.run's `connect` load (2 processes x 16 loops,
each loop connect, session, closeSession, disconnect) for `--warmup` seconds, then again for `--seconds`
while reading every server thread's user and system CPU from /proc/<pid>/task; prints microseconds per
session for the loop thread (the main thread), the busiest other thread (the txn log writer) and the rest,
and per session each one's context switches and the writer's write system calls.
With `--base`, the runs alternate between a server importing zoopark from that source tree (PYTHONPATH) and
this one's, so both see the same machine; `--base` should hold a compiled build of its own (`make compiled`
there, or a copy of a built src/), else it runs pure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from tests.procs import ZooParkProcess

from .run import storm as run_storm

_TCK = os.sysconf("SC_CLK_TCK")


def thread_cpu(pid: int) -> dict[int, tuple[float, float, int, int]]:
    """{tid: (user s, system s, context switches, write system calls)} of every thread of `pid` still alive:
    a sleep on a lock, a futex or the disk is a voluntary context switch; the log writer's writes are its
    syncs (pwritev2) and its wake-ups of the loop (uvloop's eventfd)."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rpartition(")")[2].split()
            status = (task / "status").read_text()
            io = (task / "io").read_text()
        except OSError:
            continue  # the thread ended meanwhile
        switches = sum(int(line.split()[1]) for line in status.splitlines() if "ctxt_switches" in line)
        syscw = next(int(line.split()[1]) for line in io.splitlines() if line.startswith("syscw"))
        out[int(task.name)] = (int(fields[11]) / _TCK, int(fields[12]) / _TCK, switches, syscw)
    return out


def storm(server: ZooParkProcess, seconds: float) -> int:
    """bench.run's `connect` load for `seconds`: the sessions it opened and closed."""
    return run_storm(server, argparse.Namespace(seconds=seconds)).ops


def one_run(src: str | None, seconds: float, warmup: float) -> dict[str, float]:
    saved = os.environ.get("PYTHONPATH")
    if src:
        os.environ["PYTHONPATH"] = src
    try:
        server = ZooParkProcess(extra={"maxClientCnxns": "0"}).start()
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
    try:
        pid = server.pid
        if warmup:
            storm(server, warmup)
        before = thread_cpu(pid)
        t0 = time.monotonic()
        ops = storm(server, seconds)
        wall = time.monotonic() - t0
        after = thread_cpu(pid)
    finally:
        server.cleanup()
    per = 1e6 / max(ops, 1)
    zero = (0.0, 0.0, 0, 0)
    deltas = {tid: tuple(a - b for a, b in zip(now, before.get(tid, zero), strict=True)) for tid, now in after.items()}
    loop_u, loop_s, loop_cs, _ = deltas.pop(pid, zero)
    others = sorted(deltas.values(), key=lambda d: d[0] + d[1], reverse=True)
    writer_u, writer_s, writer_cs, writer_w = others[0] if others else zero
    rest = sum(d[0] + d[1] for d in others[1:])
    return {"sessions/s": ops / wall, "total": (loop_u + loop_s + writer_u + writer_s + rest) * per,
            "loop user": loop_u * per, "loop sys": loop_s * per, "writer user": writer_u * per,
            "writer sys": writer_s * per, "other": rest * per,
            "loop cs": loop_cs / max(ops, 1), "writer cs": writer_cs / max(ops, 1),
            "writer w": writer_w / max(ops, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=4, help="runs of each side")
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--base", default=None, help="another src/ tree to alternate with (PYTHONPATH)")
    cfg = ap.parse_args()
    sides = [("base", cfg.base), ("this", None)] if cfg.base else [("this", None)]
    results: dict[str, list[dict[str, float]]] = {name: [] for name, _ in sides}
    cols = ["sessions/s", "total", "loop user", "loop sys", "writer user", "writer sys", "other", "loop cs",
            "writer cs", "writer w"]
    def row(name: str, r: dict[str, float]) -> str:
        return f"{name:12}" + "".join(f"{r[c]:11.2f}" if c.endswith((" cs", " w")) else f"{r[c]:11.1f}"
                                      for c in cols)

    print(f"{'side':12}" + "".join(f"{c:>11}" for c in cols), flush=True)
    print("(CPU: us per session; cs: context switches, w: write system calls, per session)", flush=True)
    for _ in range(cfg.runs):
        for name, src in sides:
            r = one_run(src, cfg.seconds, cfg.warmup)
            results[name].append(r)
            print(row(name, r), flush=True)
    for name, rs in results.items():
        print(row(f"{name} median", {c: statistics.median(r[c] for r in rs) for c in cols})
              + f"   total [{min(r['total'] for r in rs):.1f}..{max(r['total'] for r in rs):.1f}]")


if __name__ == "__main__":
    main()
