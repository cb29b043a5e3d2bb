"""Where a serial durable write's time goes: `set@1` beside what it is made of, in one run.

    python -m bench.serialsplit [--seconds 4] [--rounds 3] [--trace]

Per round, on one fresh zoopark server (data in the temp dir, as `bench.run`):
- `get@1`: one client, one getData at a time: the loopback round trip, both event loops and a read in the core,
  the network + software floor of any request;
- `set@1`: the same with a setData (the txn synced before the reply);
- with `--trace`, `perf trace` on the server during `set@1`: each request the loop thread synced itself split
  into its phases on the server (request read -> sync call -> its return -> reply write -> the next request),
  so the disk's part of `set@1` is measured in the server, not guessed (the last phase is the client's and the
  network's);
- the disk floor of `bench.run` (append 100 bytes + fdatasync on a fresh O_APPEND file) right after.
Run it with TMPDIR on a tmpfs for the software path alone (a sync is free there).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from tests.procs import ZooParkProcess

from .load import Result, closed_loop
from .run import cpu_s, fsync_floor, setup_fixtures

_LINE = re.compile(r"^\s*([0-9.]+) \(\s*([0-9.]+) ms\): \S+?/(\d+) (\w+)\(")
PHASES = ("request read -> sync call", "sync call", "sync return -> reply write", "reply write -> next request read")


def serial(server: ZooParkProcess, workload: str, seconds: float, warmup: float) -> Result:
    """One client (this process, on uvloop as bench.load's workers), one request at a time; the result's
    `client_us` and `server_us` are the client's and the server's CPU per request (over the measured run,
    its connect and close included)."""
    asyncio.run(closed_loop(server.host, server.port, workload, 0, 1, 1, 0.0, warmup))
    c0, s0 = time.process_time(), cpu_s(server.pid)
    r = asyncio.run(closed_loop(server.host, server.port, workload, 0, 1, 1, 0.0, seconds))
    r.client_us = (time.process_time() - c0) / max(1, r.ops) * 1e6  # type: ignore[attr-defined]
    r.server_us = (cpu_s(server.pid) - s0) / max(1, r.ops) * 1e6  # type: ignore[attr-defined]
    return r


def traced(pid: int, run) -> tuple[Result, dict[str, list[float]], int]:
    """run()'s result, the phases (ms) of each request the server's loop thread synced itself (perf trace of
    its reads, sync calls and writes: `PHASES`), and how many syncs the writer thread made instead."""
    out = Path(tempfile.mkstemp(prefix="serialsplit-", suffix=".trace")[1])
    p = subprocess.Popen(["perf", "trace", "-p", str(pid), "-e", "read,write,pwritev2,fdatasync", "-o", str(out)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)  # perf attaches
        r = run()
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(timeout=30)
    phases: dict[str, list[float]] = {k: [] for k in PHASES}
    threaded = 0
    cur: dict[str, float] = {}
    for line in out.read_text().splitlines():
        m = _LINE.search(line)
        if m is None:
            continue
        t, d, tid, name = float(m.group(1)), float(m.group(2)), int(m.group(3)), m.group(4)
        if tid != pid:
            threaded += name in ("pwritev2", "fdatasync")
            continue
        if name == "read":  # the next request: close the cycle before it
            if {"read", "sync", "sync_end", "write"} <= cur.keys():
                for k, v in zip(PHASES, (cur["sync"] - cur["read"], cur["sync_end"] - cur["sync"],
                                         cur["write"] - cur["sync_end"], t - cur["write"]), strict=True):
                    phases[k].append(v)
            cur = {"read": t + d}
        elif name in ("pwritev2", "fdatasync") and "read" in cur:
            cur.setdefault("sync", t)
            cur["sync_end"] = t + d
        elif name == "write" and "sync_end" in cur and "write" not in cur:
            cur["write"] = t
    out.unlink()
    return r, phases, threaded


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(len(s) * p / 100))] if s else float("nan")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.serialsplit")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--trace", action="store_true", help="perf trace the server's sync calls during set@1")
    cfg = ap.parse_args(argv)
    if cfg.trace and not shutil.which("perf"):
        raise SystemExit("--trace needs perf")
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    print(f"temp dir {tempfile.gettempdir()}, {cfg.rounds} rounds x {cfg.seconds:g} s; ms")
    print("| round | get@1 p50 / p99 | set@1 p50 / p99 | server sync call p50 / p99 | floor p50 / p99 |"
          " set@1 - get@1 p50 | set@1 - floor p50 | CPU us per get@1, client / server | per set@1 |")
    print("|---" * 9 + "|")
    traces = []
    for i in range(cfg.rounds):
        with ZooParkProcess(extra={"maxClientCnxns": "0"}) as server:
            setup_fixtures(server)
            g = serial(server, "get", cfg.seconds, cfg.warmup)
            if cfg.trace:
                s, phases, threaded = traced(server.pid, lambda: serial(server, "set", cfg.seconds, cfg.warmup))
                sync_cell = f"{pct(phases['sync call'], 50):.3f} / {pct(phases['sync call'], 99):.3f}"
                traces.append((i + 1, phases, threaded))
            else:
                s = serial(server, "set", cfg.seconds, cfg.warmup)
                sync_cell = "-"
        f = fsync_floor(min(cfg.seconds, 3.0))
        gp, sp, fp = g.percentile_ms(50), s.percentile_ms(50), f.percentile_ms(50)
        print(f"| {i + 1} | {gp:.3f} / {g.percentile_ms(99):.3f} | {sp:.3f} / {s.percentile_ms(99):.3f} | "
              f"{sync_cell} | {fp:.3f} / {f.percentile_ms(99):.3f} | {sp - gp:.3f} | {sp - fp:.3f} | "
              f"{g.client_us:.0f} / {g.server_us:.0f} | {s.client_us:.0f} / {s.server_us:.0f} |", flush=True)
    if traces:
        print("\nset@1 under perf trace (it slows every system call a little), the server's loop thread, p50 / p90 ms:")
        print("| round | " + " | ".join(PHASES) + " | inline syncs | writer-thread syncs |")
        print("|---" * (len(PHASES) + 3) + "|")
        for i, phases, threaded in traces:
            cells = " | ".join(f"{pct(phases[k], 50):.3f} / {pct(phases[k], 90):.3f}" for k in PHASES)
            print(f"| {i} | {cells} | {len(phases['sync call'])} | {threaded} |")
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
