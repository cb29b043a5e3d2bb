"""Background snapshots: when, and how without pausing writes.

When: ZooKeeper's SyncRequestProcessor rule. After a snapshot, the next one is due once the log has grown by
more than snapCount/2 + a random share of snapCount/2 txns, or snapSizeLimitInKb/2 + a random share of it in
bytes; the randomness keeps the servers of an ensemble from snapshotting together.

How: the server forks. The child holds a copy-on-write image of the tree exactly as it stood at a zxid (the
loop forks between two callbacks, so no change is half-applied), serialises it, writes and fsyncs it, and
exits; the parent goes on serving and only polls for the child's exit. The snapshot is consistent rather
than fuzzy, so replaying the log over it has nothing to repair; recovery is still idempotent for
ZooKeeper's fuzzy ones. The child never touches the event loop, the log writer or the client sockets: it
closes its copies of every descriptor, restores default signal handling (a signal must not reach the parent's
loop through the shared wake-up pipe), and dies with its parent.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import timings
from ..core.session.table import SessionTable
from ..core.tree import snapshot as snap
from ..core.tree.datatree import DataTree
from ..persist import snapfiles

log = logging.getLogger("zoopark.snapshot")
_PR_SET_PDEATHSIG = 1


def session_timeouts(sessions: SessionTable) -> dict[int, int]:
    return {sid: s.timeout_ms for sid, s in sessions.sessions.items()}


def write_now(snap_dir: Path, tree: DataTree, sessions: dict[int, int], digest_enabled: bool,
              fsync: bool = True) -> Path:
    """Serialise and write a snapshot in this process (start-up's first snapshot, tools, tests)."""
    zxid = tree.last_zxid
    digest = (zxid, tree.digest if tree.track_digest else tree.recompute_digest()) if digest_enabled else None
    return snapfiles.write_snapshot(snap_dir, zxid, snap.serialize(tree, sessions, digest), fsync)


@dataclass(slots=True)
class Running:
    pid: int
    zxid: int
    started: float


@dataclass(slots=True)
class Finished:
    zxid: int
    ok: bool
    seconds: float
    path: Path


class Snapshotter:
    def __init__(self, snap_dir: Path, snap_count: int, snap_size_limit_bytes: int, digest_enabled: bool,
                 fsync: bool = True, rng: random.Random | None = None) -> None:
        self.snap_dir = snap_dir
        self.snap_count = max(snap_count, 2)
        self.snap_size_limit_bytes = snap_size_limit_bytes
        self.digest_enabled = digest_enabled
        self.fsync = fsync
        self.rng = rng or random.Random()
        self.running: Running | None = None
        self.txns = 0
        self.bytes = 0
        self.taken = 0
        self.failed = 0
        self.last: Finished | None = None
        self._roll()

    def _roll(self) -> None:
        self.txns = 0
        self.bytes = 0
        self._rand_txns = self.rng.randrange(self.snap_count // 2)
        half = self.snap_size_limit_bytes // 2
        self._rand_bytes = self.rng.randrange(half) if half > 0 else 0

    def appended(self, txns: int, nbytes: int) -> bool:
        """Count what went to the log; True when a snapshot is due (and none is running)."""
        self.txns += txns
        self.bytes += nbytes
        due = self.txns > self.snap_count // 2 + self._rand_txns or (
            self.snap_size_limit_bytes > 0 and self.bytes > self.snap_size_limit_bytes // 2 + self._rand_bytes)
        return due and self.running is None

    def start(self, tree: DataTree, sessions: SessionTable) -> int:
        """Fork a child that writes the snapshot of `tree` as it is now; returns its pid."""
        assert self.running is None
        zxid = tree.last_zxid
        self._roll()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, measured by the tests through its files
            _child(self.snap_dir, tree, sessions, self.digest_enabled, self.fsync)
        self.running = Running(pid, zxid, time.monotonic())
        log.info("snapshot of zxid 0x%x started in process %d", zxid, pid)
        return pid

    def poll(self) -> Finished | None:
        """Has the child finished? Returns its outcome once."""
        r = self.running
        if r is None:
            return None
        try:
            pid, status = os.waitpid(r.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = r.pid, 1
        if pid == 0:
            return None
        self.running = None
        ok = os.waitstatus_to_exitcode(status) == 0
        done = Finished(r.zxid, ok, time.monotonic() - r.started, self.snap_dir / snapfiles.snapshot_name(r.zxid))
        if ok:
            timings.SNAPSHOT.observe(done.seconds)
        self.last = done
        if ok:
            self.taken += 1
            log.info("snapshot %s written in %.2f s", done.path.name, done.seconds)
        else:
            self.failed += 1
            log.error("snapshot of zxid 0x%x failed (exit status %d); the txn log still holds everything, "
                      "the next snapshot is tried at the next threshold", r.zxid, os.waitstatus_to_exitcode(status))
        return done

    def stop(self) -> None:
        """Abandon a running snapshot (its .tmp file is removed at the next start)."""
        r = self.running
        if r is None:
            return
        try:
            os.kill(r.pid, signal.SIGKILL)
            os.waitpid(r.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        self.running = None


def _child(snap_dir: Path, tree: DataTree, sessions: SessionTable, digest_enabled: bool,
           fsync: bool) -> None:  # pragma: no cover - runs in the forked child
    def work() -> int:
        write_now(snap_dir, tree, session_timeouts(sessions), digest_enabled, fsync)
        return 0
    _run_child(work)


def fork_child(work: Callable[[], int]) -> int:
    """Run `work` in a forked child with the same hygiene as a snapshot's; returns the child's pid."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        _run_child(work)
    return pid


def _run_child(work: Callable[[], int]) -> None:  # pragma: no cover - runs in a forked child
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        parent = os.getppid()
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
        if os.getppid() != parent:
            os._exit(1)
        gc.disable()  # a collection would touch (and so copy) every page of the tree
        os.closerange(3, _max_fd())
        code = work()
    except BaseException as e:  # noqa: BLE001 - report and exit, never return into the parent's code
        try:
            os.write(2, f"zoopark child process: {e!r}\n".encode())
        except OSError:
            pass
    finally:
        os._exit(code)


def _max_fd() -> int:
    try:
        return os.sysconf("SC_OPEN_MAX")
    except (ValueError, OSError):
        return 65536
