"""`currentEpoch` and `acceptedEpoch` in dataDir/version-2, as ZooKeeper's QuorumPeer keeps them: the number
as decimal text, written to `<name>.tmp`, fsynced and renamed (AtomicFileWritingIdiom); and the
`updatingEpoch` marker a learner keeps while a sync's writes and its new currentEpoch are under way."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .txnlog import fsync_dir

CURRENT = "currentEpoch"
ACCEPTED = "acceptedEpoch"
UPDATING = "updatingEpoch"

log = logging.getLogger("zoopark.persist")


class EpochError(Exception):
    pass


def read_epoch(snap_dir: Path, name: str) -> int | None:
    path = snap_dir / name
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    try:
        return int(text.splitlines()[0])
    except (ValueError, IndexError):
        raise EpochError(f"{path}: holds {text!r}, not an epoch number") from None


def write_epoch(snap_dir: Path, name: str, epoch: int) -> None:
    snap_dir.mkdir(parents=True, exist_ok=True)
    path = snap_dir / name
    tmp = path.with_name(name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, str(epoch).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(snap_dir)


def mark_updating(snap_dir: Path, active: bool) -> None:
    """Create or remove the updatingEpoch marker, durably (the directory entry is fsynced)."""
    snap_dir.mkdir(parents=True, exist_ok=True)
    path = snap_dir / UPDATING
    if active:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        os.close(fd)
    else:
        try:
            path.unlink()
        except FileNotFoundError:
            return
    fsync_dir(snap_dir)


def load_epochs(snap_dir: Path, last_zxid: int, settle_marker: bool = True) -> tuple[int, int]:
    """(accepted, current) epochs; missing files get ZooKeeper's default (the epoch of the last zxid) and are
    written. A current epoch behind the log is taken from `currentEpoch.tmp` if that survived, or from the
    last zxid if the updatingEpoch marker says a learner's sync was cut short between logging and writing
    its epoch (ZooKeeper's QuorumPeer.loadDataBase); otherwise refused. So is an accepted epoch behind the
    current one. `settle_marker=False`: a reload in the middle of a sync (after its TRUNC) leaves the
    marker, which that sync still needs until its currentEpoch is written."""
    of_zxid = last_zxid >> 32
    current = read_epoch(snap_dir, CURRENT)
    if current is None:
        current = of_zxid
        write_epoch(snap_dir, CURRENT, current)
    updating = (snap_dir / UPDATING).exists()
    if of_zxid > current:
        tmp = read_epoch(snap_dir, CURRENT + ".tmp")
        if tmp is not None and tmp >= of_zxid:
            current = tmp
        elif updating:
            log.info("%s found: a sync was cut short before its current epoch was written; the current epoch "
                     "is that of the last zxid 0x%x: %d", UPDATING, last_zxid, of_zxid)
            current = of_zxid
        else:
            raise EpochError(f"the current epoch {current} is older than the last zxid 0x{last_zxid:x}")
        write_epoch(snap_dir, CURRENT, current)
    if updating and settle_marker:
        mark_updating(snap_dir, False)  # whatever the sync left is settled now
    accepted = read_epoch(snap_dir, ACCEPTED)
    if accepted is None:
        accepted = of_zxid
        write_epoch(snap_dir, ACCEPTED, accepted)
    if accepted < current:
        raise EpochError(f"the accepted epoch {accepted} is less than the current epoch {current}")
    return accepted, current
