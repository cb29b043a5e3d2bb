"""Snapshot files in dataDir/version-2, named and written as ZooKeeper 3.8 names and writes them.

`snapshot.<hex zxid>` where zxid is the last txn the tree held when the snapshot began. A snapshot is written
to `snapshot.<zxid>.tmp`, fsynced, and renamed into place (ZooKeeper's AtomicFileOutputStream), so a crash
leaves either no snapshot or a whole one; a `.tmp` is never read (ZooKeeper ignores such names too).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ..core.tree import snapshot as snap
from .txnlog import fsync_dir, zxid_of_name

log = logging.getLogger("zoopark.persist")

PREFIX = "snapshot"
TMP_SUFFIX = ".tmp"


def snapshot_name(zxid: int) -> str:
    return f"{PREFIX}.{zxid:x}"


def snapshot_files(snap_dir: Path) -> list[tuple[int, Path]]:
    """(zxid, path) of every snapshot file, newest first."""
    out = []
    if snap_dir.is_dir():
        for p in snap_dir.iterdir():
            z = zxid_of_name(p.name, PREFIX)
            if z is not None and p.is_file():
                out.append((z, p))
    return sorted(out, reverse=True)


def write_snapshot(snap_dir: Path, zxid: int, chunks: Iterable[bytes], fsync: bool = True) -> Path:
    """Write a snapshot atomically; returns its path. On any error the partial file is removed."""
    snap_dir.mkdir(parents=True, exist_ok=True)
    final = snap_dir / snapshot_name(zxid)
    tmp = final.with_name(final.name + TMP_SUFFIX)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        try:
            pending: list[bytes] = []
            size = 0
            for chunk in chunks:
                pending.append(chunk)
                size += len(chunk)
                if size >= 1 << 20:
                    _write_all(fd, b"".join(pending))
                    pending.clear()
                    size = 0
            if pending:
                _write_all(fd, b"".join(pending))
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    if fsync:
        fsync_dir(snap_dir)
    return final


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def remove_stale_tmp(snap_dir: Path) -> list[Path]:
    """Partial snapshots left by a crash while one was being written."""
    removed = []
    if snap_dir.is_dir():
        for p in snap_dir.iterdir():
            if p.name.startswith(PREFIX + ".") and p.name.endswith(TMP_SUFFIX):
                p.unlink()
                removed.append(p)
    return removed


def read_snapshot(path: Path, extended_types: bool = False, track_digest: bool = False,
                  progress: Callable[[int, int], None] | None = None) -> snap.Snapshot:
    data = path.read_bytes()
    if not snap.looks_complete(data):
        raise snap.SnapshotError(len(data), "incomplete: the file does not end with the snapshot's last seal")
    return snap.deserialize(data, extended_types, track_digest, progress)


@dataclass(slots=True)
class Loaded:
    zxid: int
    path: Path
    snapshot: snap.Snapshot
    skipped: list[tuple[Path, str]]  # newer snapshots that could not be read, and why


def load_newest(snap_dir: Path, extended_types: bool = False, track_digest: bool = False,
                progress: Callable[[int, int], None] | None = None, limit: int = 100) -> Loaded | None:
    """The newest snapshot that reads whole (FileSnap.deserialize tries up to 100), or None if there is none.
    A damaged newer snapshot is skipped with a warning: an older one plus the log gives the same state."""
    skipped: list[tuple[Path, str]] = []
    files = snapshot_files(snap_dir)
    for zxid, path in files[:limit]:
        try:
            s = read_snapshot(path, extended_types, track_digest, progress)
        except (snap.SnapshotError, OSError) as e:
            log.warning("%s: cannot use this snapshot: %s; trying an older one", path, e)
            skipped.append((path, str(e)))
            continue
        s.tree.last_zxid = zxid
        return Loaded(zxid, path, s, skipped)
    if files:
        raise snap.SnapshotError(0, f"none of the {len(files)} snapshots in {snap_dir} can be read: "
                                    + "; ".join(f"{p.name}: {why}" for p, why in skipped))
    return None
