"""How long a small durable write takes, by the way the file was laid out and the way it is synced.

The txn log writes entries of about 100 bytes one after another and syncs each batch. What the sync has to
commit besides the data depends on the file: appending past the end changes the size (a journal commit);
writing into a posix_fallocate'd range converts an "unwritten" extent (a journal commit); writing into a hole
of a sparse file allocates a block (a journal commit); overwriting blocks that were really written (zeros, as
ZooKeeper's padding would be if it were written) needs only the data flushed.

    python -m bench.fsyncmodes [--seconds 2] [--rounds 3] [--bytes 100] [--dir DIR]

Each mode runs `--seconds` per round on a fresh file in a temp dir on the same filesystem as the benchmark
servers' data (the default temp dir); the rounds interleave the modes so a noisy neighbour spreads over all.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable

PREALLOC = 64 * 1024 * 1024


def _layout(path: str, kind: str, prealloc: int) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    if kind == "fallocate":
        os.posix_fallocate(fd, 0, prealloc)
    elif kind == "sparse":
        os.pwrite(fd, b"\0", prealloc - 1)
    elif kind == "zeroed":
        chunk = bytes(1 << 20)
        for off in range(0, prealloc, len(chunk)):
            os.pwrite(fd, chunk, off)
    os.fsync(fd)
    return fd


def _sync_fdatasync(fd: int, data: bytes, pos: int) -> None:
    os.pwrite(fd, data, pos)
    os.fdatasync(fd)


def _sync_rwf_dsync(fd: int, data: bytes, pos: int) -> None:
    os.pwritev(fd, (data,), pos, os.RWF_DSYNC)


def _sync_plain(fd: int, data: bytes, pos: int) -> None:
    os.pwrite(fd, data, pos)  # the file was opened O_DSYNC


SYNCS: dict[str, Callable[[int, bytes, int], None]] = {
    "write+fdatasync": _sync_fdatasync, "pwritev2(RWF_DSYNC)": _sync_rwf_dsync, "O_DSYNC write": _sync_plain}

# (layout, how it syncs)
MODES = [(layout, sync) for layout in ("append", "fallocate", "sparse", "zeroed")
         for sync in ("write+fdatasync", "pwritev2(RWF_DSYNC)")] + [("zeroed", "O_DSYNC write")]


def run_mode(directory: str, layout: str, sync: str, seconds: float, nbytes: int,
             cpu_us: list[float]) -> list[float]:
    """Latencies (us) of durable writes of `nbytes`, one after another after a 16-byte header (as the
    log's); `cpu_us[0]` is set to the CPU time (user + system) per write."""
    path = os.path.join(directory, f"m-{layout}")
    fd = _layout(path, "none" if layout == "append" else layout, PREALLOC)
    if sync == "O_DSYNC write":
        os.close(fd)
        fd = os.open(path, os.O_RDWR | os.O_DSYNC)
    data = b"x" * nbytes
    do = SYNCS[sync]
    out: list[float] = []
    pos = 16
    limit = PREALLOC - nbytes
    try:
        os.pwrite(fd, b"h" * 16, 0)
        os.fdatasync(fd)
        end = time.perf_counter() + seconds
        cpu0 = time.thread_time()
        while pos < limit:
            t = time.perf_counter()
            if t >= end:
                break
            do(fd, data, pos)
            out.append((time.perf_counter() - t) * 1e6)
            pos += nbytes
        cpu_us[0] = (time.thread_time() - cpu0) * 1e6 / max(1, len(out))
    finally:
        os.close(fd)
        os.unlink(path)
    return out


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(len(s) * p / 100))] / 1000


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.fsyncmodes")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bytes", type=int, default=100)
    ap.add_argument("--dir", default=None, help="where the files go (default: the temp dir)")
    ap.add_argument("--only", default=None, help="layouts to run, comma-separated")
    cfg = ap.parse_args(argv)
    modes = [m for m in MODES if cfg.only is None or m[0] in cfg.only.split(",")]
    per: dict[tuple[str, str], list[tuple[float, float, int, float]]] = {m: [] for m in modes}
    with tempfile.TemporaryDirectory(prefix="fsyncmodes-", dir=cfg.dir) as d:
        for _ in range(cfg.rounds):
            for m in modes:
                cpu = [0.0]
                lat = run_mode(d, *m, cfg.seconds, cfg.bytes, cpu)
                per[m].append((pct(lat, 50), pct(lat, 99), len(lat), cpu[0]))
    print(f"{cfg.bytes}-byte durable writes, {cfg.rounds} rounds x {cfg.seconds:g} s each "
          f"(p50 / p99 ms per round; writes/s is the mean)")
    print("| file layout | sync | p50 ms | p99 ms | median p50 | writes/s | CPU us per write |")
    print("|---|---|---|---|---|---|---|")
    for (layout, sync), rs in per.items():
        p50s = " ".join(f"{r[0]:.3f}" for r in rs)
        p99s = " ".join(f"{r[1]:.3f}" for r in rs)
        rate = statistics.mean(r[2] for r in rs) / cfg.seconds
        print(f"| {layout} | {sync} | {p50s} | {p99s} | {statistics.median(r[0] for r in rs):.3f} | {rate:,.0f} | "
              f"{statistics.median(r[3] for r in rs):.0f} |")


if __name__ == "__main__":
    main()
