"""Micro-benchmark of the pure core's CPU per request: a standalone ServerCore fed frames as the runtime feeds
it (in batches per connection, then the fsync's LogSynced), without sockets, disk or the event loop. What it
measures is what a compiled core or a leaner path would save, apart from I/O and waiting.

    python -m bench.corepath [--op set|create|get|create+delete|multi] [--ops N] [--batch B] [--rounds R] [--clock wall|cpu] [--profile]

It runs the compiled core when one is built (`make compiled`), the pure source with ZOOPARK_PURE=1, and says
which. `--clock cpu` counts this process's CPU time instead of wall time: steadier on a shared machine.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import time
from collections.abc import Callable

import zoopark
from zoopark.core.server.actions import AppendLog, Connected, Frame, LogSynced, Send
from zoopark.core.server.core import ServerCore
from zoopark.core.server.settings import CoreSettings

from .proto import connect_frame, create, delete, get_data, guarded_update, set_data


def _session(core: ServerCore, conn: int, now: int) -> None:
    core.step(Connected(conn, "127.0.0.1"), now)
    out = core.step(Frame(conn, connect_frame()[4:]), now)
    for a in out:
        if type(a) is AppendLog:
            core.step(LogSynced(a.entries[-1][0]), now)


def _templates(op: str, ops: int) -> list:
    """The requests, as bench.load's rows send them (create+delete: a create then its delete; multi: check
    + 2 setData in one multi)."""
    if op == "set":
        return [set_data(f"/n{i}", b"y" * 100) for i in range(1000)]
    if op == "get":
        return [get_data(f"/n{i}") for i in range(1000)]
    if op == "create":
        return [create(f"/c{i}", b"z" * 100) for i in range(ops)]
    if op == "create+delete":
        return [t for i in range(64) for t in (create(f"/cd{i}", b"z" * 100), delete(f"/cd{i}"))]
    if op == "multi":
        return [guarded_update("/n0", [f"/n{i}", f"/n{(i + 500) % 1000}"], b"y" * 100) for i in range(1000)]
    raise ValueError(op)


def run(op: str, ops: int, batch: int, clock: Callable[[], float] = time.perf_counter) -> tuple[float, int]:
    """Seconds for `ops` requests in batches of `batch` frames (each batch: frames in, one fsync's LogSynced,
    replies out); the number of replies seen."""
    core = ServerCore(CoreSettings())
    now = 1_700_000_000_000
    core.start(now)
    _session(core, 1, now)
    for i in range(1000):
        fr = create(f"/n{i}", b"x" * 100).frame(i + 1)
        for a in core.step(Frame(1, fr[4:]), now):
            if type(a) is AppendLog:
                core.step(LogSynced(a.entries[-1][0]), now)
    templates = _templates(op, ops)
    frames = [templates[i % len(templates)].frame(2000 + i)[4:] for i in range(ops)]
    replies = 0
    gc.collect()
    step = core.step
    t0 = clock()
    for start in range(0, ops, batch):
        last = None
        for f in frames[start:start + batch]:
            for a in step(Frame(1, f), now):
                t = type(a)
                if t is AppendLog:
                    last = a.entries[-1][0]
                elif t is Send:
                    replies += 1
        if last is not None:
            for a in step(LogSynced(last), now):
                if type(a) is Send:
                    replies += 1
    return clock() - t0, replies


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.corepath")
    ap.add_argument("--op", default="set", choices=("set", "create", "get", "create+delete", "multi"))
    ap.add_argument("--ops", type=int, default=50_000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--clock", default="wall", choices=("wall", "cpu"))
    ap.add_argument("--profile", action="store_true")
    a = ap.parse_args()
    if a.profile:
        prof = cProfile.Profile()
        prof.enable()
        run(a.op, a.ops, a.batch)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        return
    clock = time.process_time if a.clock == "cpu" else time.perf_counter
    best = min(run(a.op, a.ops, a.batch, clock)[0] for _ in range(a.rounds))
    build = getattr(getattr(zoopark, "_build", None), "RUNNING", "pure")
    print(f"{a.op}: {best / a.ops * 1e6:.2f} us per request (best of {a.rounds} x {a.ops}, batches of {a.batch}, "
          f"{a.clock} clock, {build} core)")


if __name__ == "__main__":
    main()
