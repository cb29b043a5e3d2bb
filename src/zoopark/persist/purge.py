"""ZooKeeper's PurgeTxnLog: keep the N newest snapshots and the txn logs they need, delete the rest.

Every snapshot and log file whose zxid is below that of the oldest snapshot kept goes, except the newest log
file starting below it: that file may hold the txns right after the snapshot (a log is rolled when a snapshot
starts, but the snapshot's zxid is the last txn applied, which can be earlier than the roll).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..core.tree.snapshot import looks_complete
from . import snapfiles, txnlog

log = logging.getLogger("zoopark.purge")
MIN_RETAIN = 3


@dataclass(slots=True)
class PurgeResult:
    kept_snapshots: list[Path] = field(default_factory=list)
    kept_logs: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)


def plan(snap_dir: Path, log_dir: Path, retain: int) -> PurgeResult:
    """What purge would keep and remove (nothing is touched)."""
    if retain < MIN_RETAIN:
        raise ValueError(f"snapRetainCount must be at least {MIN_RETAIN}, not {retain}")
    out = PurgeResult()
    snaps = snapfiles.snapshot_files(snap_dir)  # newest first
    valid = []
    for zxid, path in snaps:
        if len(valid) == retain:
            break
        try:
            with open(path, "rb") as f:
                f.seek(max(path.stat().st_size - 5, 0))
                if looks_complete(f.read(5)):
                    valid.append((zxid, path))
        except OSError:
            continue
    if not valid:
        return out
    least = valid[-1][0]
    out.kept_snapshots = [p for _, p in valid]
    logs = txnlog.log_files(log_dir)
    keep_logs = {p for z, p in logs if z >= least}
    below = [p for z, p in logs if z < least]
    if below:
        keep_logs.add(below[-1])
    out.kept_logs = [p for _, p in logs if p in keep_logs]
    out.removed = [p for z, p in logs if z < least and p not in keep_logs]
    out.removed += [p for z, p in snaps if z < least]
    return out


def purge(snap_dir: Path, log_dir: Path, retain: int, dry_run: bool = False) -> PurgeResult:
    result = plan(snap_dir, log_dir, retain)
    total = len(result.removed)
    for k, path in enumerate(result.removed, start=1):
        if dry_run:
            continue
        try:
            path.unlink()
            log.info("purged %s (%d of %d)", path, k, total)
        except FileNotFoundError:
            pass
    return result
