"""Start-up recovery: the newest valid snapshot, then every logged txn after it (FileTxnSnapLog.restore).

Rules, as ZooKeeper's and stricter where ZooKeeper could lose data silently:
- A torn tail (the last entry of the last file, partly written) is truncated with a warning: that txn was
  never acknowledged.
- Damage before the tail (a checksum failure followed by valid entries) stops start-up (txnlog.CorruptLog).
- Txn logs without any snapshot stop start-up (ZooKeeper's "No snapshot found, but there are log entries"),
  unless snapshot.trust.empty is set.
- A gap between the snapshot and the first logged txn after it, or between two logged txns, stops start-up:
  committed txns are missing (a log file was deleted or lost).
Replaying over a snapshot is idempotent (DataTree.apply tolerates txns the snapshot already holds), which
is what makes ZooKeeper's fuzzy snapshots, taken while writes go on, consistent.
"""

from __future__ import annotations

import functools
import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..core.tree import snapshot as snap
from ..core.tree.datatree import DataTree
from . import snapfiles, txnlog
from .txnlog import LogEntry

log = logging.getLogger("zoopark.persist")


class RecoveryError(Exception):
    """Start-up cannot go on without losing committed data; the message says what the operator can do."""


@dataclass(slots=True)
class Recovered:
    tree: DataTree
    sessions: dict[int, int]
    snapshot_zxid: int  # -1: started from an empty tree
    snapshot_path: Path | None
    replayed: int = 0
    last_zxid: int = 0
    warnings: list[str] = field(default_factory=list)


def _progress_logger(path: Path) -> Callable[[int, int], None]:
    last = [time.monotonic()]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 1.0 or done == total:
            last[0] = now
            log.info("loading %s: %d%% (%d of %d MB)", path.name, done * 100 // max(total, 1), done >> 20,
                     total >> 20)
    return report


def _consecutive(prev: int, nxt: int) -> bool:
    """Is `nxt` the txn right after `prev`? Within an epoch zxids count up by one; a new epoch starts at 1
    (a leader's first zxid of an epoch, epoch << 32, is never a txn)."""
    if nxt == prev + 1:
        return True
    return (nxt >> 32) > (prev >> 32) and (nxt & 0xFFFFFFFF) == 1


def _gc_paused(fn):
    """Run `fn` with the cyclic GC off: loading a database makes a million objects, which would set off
    collections that scan them all, again and again; nothing it builds is cyclic garbage."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        was = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if was:
                gc.enable()
    return wrapper


@_gc_paused
def recover(
    snap_dir: Path,
    log_dir: Path,
    apply: Callable[[DataTree, dict[int, int], LogEntry], None],
    extended_types: bool = False,
    track_digest: bool = False,
    trust_empty: bool = False,
    verify_digest: Callable[[DataTree, tuple[int, int, int]], None] | None = None,
) -> Recovered:
    """Load the database. `apply(tree, sessions, entry)` applies one logged txn (sessions included).
    `verify_digest(tree, (zxid, version, digest))`, when given, takes over comparing a freshly loaded tree
    with its snapshot's digest (the server does it in a forked child, off the start-up path); otherwise the
    comparison runs here."""
    snap_dir.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    warnings: list[str] = []
    for p in snapfiles.remove_stale_tmp(snap_dir):
        warnings.append(f"{p}: removed a snapshot that was being written when the server stopped")
    scanned: txnlog.Scanned = {}  # the newest log file, scanned once: for its torn tail, then for the replay
    warnings.extend(txnlog.truncate_torn_tail(log_dir, scanned))

    newest = snapfiles.snapshot_files(snap_dir)
    progress = _progress_logger(newest[0][1]) if newest else None
    try:
        loaded = snapfiles.load_newest(snap_dir, extended_types, track_digest, progress)
    except snap.SnapshotError as e:
        raise RecoveryError(f"{e}. Restore a snapshot (and the txn logs after it) from a backup or another "
                            f"replica.") from e
    if loaded is None:
        if txnlog.log_files(log_dir) and not trust_empty:
            raise RecoveryError(
                f"{log_dir} holds txn logs but {snap_dir} has no snapshot: the snapshot they start from is "
                f"missing. Restore it, or set snapshot.trust.empty=true to rebuild the tree from the logs "
                f"alone (safe only if they go back to the very first txn).")
        rec = Recovered(DataTree(extended_types, track_digest), {}, -1, None)
        rec.tree.last_zxid = 0
    else:
        for path, why in loaded.skipped:
            warnings.append(f"{path}: skipped an unreadable snapshot ({why})")
        rec = Recovered(loaded.snapshot.tree, loaded.snapshot.sessions, loaded.zxid, loaded.path)
        log.info("loaded %s: %d znodes, %d sessions", loaded.path, len(rec.tree.nodes), len(rec.sessions))
    rec.warnings = warnings
    for w in warnings:
        log.warning("%s", w)

    start = max(rec.snapshot_zxid, 0)
    zxid_digest = loaded.snapshot.zxid_digest if loaded is not None else None
    if zxid_digest is not None and zxid_digest[0] == start:
        if verify_digest is not None:
            verify_digest(rec.tree, zxid_digest)
        else:
            _check_digest(rec, zxid_digest)
    rec.tree.replies = False
    try:
        _replay(rec, log_dir, start, apply, zxid_digest, scanned)
    finally:
        rec.tree.replies = True
    rec.last_zxid = max(rec.last_zxid, rec.tree.last_zxid)
    return rec


def _replay(rec: Recovered, log_dir: Path, start: int,
            apply: Callable[[DataTree, dict[int, int], LogEntry], None],
            zxid_digest: tuple[int, int, int] | None, scanned: txnlog.Scanned | None = None) -> None:
    prev = start
    first = True
    for entry in txnlog.iter_entries(log_dir, start, scanned):
        if not (first and rec.snapshot_zxid < 0) and not _consecutive(prev, entry.zxid):
            raise RecoveryError(
                f"{entry.path}: txn 0x{entry.zxid:x} at offset {entry.offset} follows 0x{prev:x}: the txns "
                f"between them are missing (a txn log file was removed or lost). Restore the missing log "
                f"file from a backup or another replica.")
        first = False
        apply(rec.tree, rec.sessions, entry)
        prev = entry.zxid
        rec.replayed += 1
        if zxid_digest is not None and entry.zxid == zxid_digest[0]:
            _check_digest(rec, zxid_digest)
    rec.last_zxid = prev


def _check_digest(rec: Recovered, zxid_digest: tuple[int, int, int]) -> None:
    """Compare the tree with the digest the snapshot recorded for this zxid (ZooKeeper logs a mismatch)."""
    actual = rec.tree.digest if rec.tree.track_digest else rec.tree.recompute_digest()
    if actual != zxid_digest[2]:
        msg = (f"tree digest at zxid 0x{zxid_digest[0]:x} is {actual}, the snapshot recorded {zxid_digest[2]}: "
               f"the snapshot or the log replayed over it does not match the history that wrote it")
        rec.warnings.append(msg)
        log.error("%s", msg)
    else:
        log.info("tree digest at zxid 0x%x matches the snapshot's", zxid_digest[0])
