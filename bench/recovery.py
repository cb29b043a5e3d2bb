"""Restart, measured apart: the start-up recovery (newest snapshot plus the txn log after it) in this process,
and a whole server's restart on a copy of a kept dataDir, so before/after compare the same database.

    python -m bench.recovery make DIR --nodes 1000000   # a server fills DIR (as the restart row does), stops
    python -m bench.recovery load DIR [--rounds 3]      # recover() in-process: snapshot, replay, RSS
    python -m bench.recovery serve DIR [--rounds 3]     # start a server on a copy of DIR: s until it serves

`load` runs recovery as the server does (the cyclic GC off, the digest check left out: the server runs it in a
forked child); profile it from outside with `py-spy record --native -- python -m bench.recovery load DIR`.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import tempfile
import time
from pathlib import Path

from tests.procs import ZooParkProcess

from .run import rss_mb, rss_with_nodes


def make(data_dir: Path, nodes: int) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    server = ZooParkProcess(data_dir=data_dir)
    server.start()
    try:
        rss_with_nodes(server, nodes)
    finally:
        server.cleanup()  # SIGTERM, as the restart row stops it; the dataDir is not under its tmp
    print(f"{data_dir}: {nodes} znodes under /rss", *sorted(p.name for p in data_dir.rglob("*") if p.is_file()))


def load(data_dir: Path, rounds: int) -> None:
    import os

    import zoopark
    from zoopark import _build
    from zoopark.core.server.core import replay_txn
    from zoopark.persist import snapfiles
    from zoopark.persist.recovery import recover

    del zoopark
    version2 = data_dir / "version-2"
    print(f"core: {_build.RUNNING}")
    for _ in range(rounds):
        gc.collect()
        gc.disable()
        t0, c0 = time.perf_counter(), time.process_time()
        loaded = snapfiles.load_newest(version2)
        t1, c1 = time.perf_counter(), time.process_time()
        assert loaded is not None
        nodes = len(loaded.snapshot.tree.nodes)
        del loaded
        gc.collect()
        t2, c2 = time.perf_counter(), time.process_time()
        rec = recover(version2, version2, lambda tree, sessions, e: replay_txn(tree, sessions, e.hdr, e.record),
                      verify_digest=lambda tree, zd: None)
        t3, c3 = time.perf_counter(), time.process_time()
        gc.enable()
        print(f"snapshot alone {t1 - t0:.2f} s ({c1 - c0:.2f} s CPU, {nodes} znodes); recover {t3 - t2:.2f} s "
              f"({c3 - c2:.2f} s CPU): {rec.replayed} txns replayed, {len(rec.tree.nodes)} znodes; "
              f"RSS {rss_mb(os.getpid()):.0f} MB")
        del rec
        gc.collect()


def serve(data_dir: Path, rounds: int) -> None:
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="recovery-") as tmp:
            copy = Path(tmp) / "data"
            shutil.copytree(data_dir, copy)
            server = ZooParkProcess(data_dir=copy)
            try:
                t0 = time.monotonic()
                server.start(timeout=600)
                took = time.monotonic() - t0
                time.sleep(2)  # RSS once the start-up snapshot's child has settled
                said = [ln for ln in server.log_tail(200).splitlines() if "recovered in" in ln]
                print(f"serving after {took:.2f} s, RSS {rss_mb(server.pid):.0f} MB;", *said[-1:])
            finally:
                server.cleanup()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=("make", "load", "serve"))
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--nodes", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=1)
    a = ap.parse_args()
    if a.what == "make":
        make(a.data_dir, a.nodes)
    elif a.what == "load":
        load(a.data_dir, a.rounds)
    else:
        serve(a.data_dir, a.rounds)


if __name__ == "__main__":
    main()
