"""`currentEpoch` and `acceptedEpoch` in dataDir/version-2, as ZooKeeper's QuorumPeer keeps them: the number
as decimal text, written to `<name>.tmp`, fsynced and renamed (AtomicFileWritingIdiom)."""

from __future__ import annotations

import os
from pathlib import Path

from .txnlog import fsync_dir

CURRENT = "currentEpoch"
ACCEPTED = "acceptedEpoch"


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


def load_epochs(snap_dir: Path, last_zxid: int) -> tuple[int, int]:
    """(accepted, current) epochs; missing files get ZooKeeper's default (the epoch of the last zxid) and are
    written. Refuses, as ZooKeeper does, a current epoch behind the log or an accepted one behind it."""
    of_zxid = last_zxid >> 32
    current = read_epoch(snap_dir, CURRENT)
    if current is None:
        current = of_zxid
        write_epoch(snap_dir, CURRENT, current)
    if of_zxid > current:
        tmp = read_epoch(snap_dir, CURRENT + ".tmp")
        if tmp is None:
            raise EpochError(f"the current epoch {current} is older than the last zxid 0x{last_zxid:x}")
        current = tmp
        write_epoch(snap_dir, CURRENT, current)
    accepted = read_epoch(snap_dir, ACCEPTED)
    if accepted is None:
        accepted = of_zxid
        write_epoch(snap_dir, ACCEPTED, accepted)
    if accepted < current:
        raise EpochError(f"the accepted epoch {accepted} is less than the current epoch {current}")
    return accepted, current
