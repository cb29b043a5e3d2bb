"""Loading a member's state from what its disk holds, with the refusal rules of recovery and of
ZooKeeper's epoch files (persist/recovery.py and persist/epochs.py apply the same rules to real files).

Pure: the caller reads the snapshot, the log entries and the epoch files; a broken rule raises `LoadError`
(a member that cannot start without losing committed data must not start)."""

from __future__ import annotations

from ..jute.txns import decode_txn_entry
from ..server.core import replay_txn
from ..tree import snapshot as snap
from ..tree.datatree import DataTree
from .actions import Entry, Loaded


class LoadError(Exception):
    pass


def consecutive(prev: int, nxt: int) -> bool:
    """Is `nxt` the txn right after `prev`? (The next in the epoch, or the first of a later epoch.)"""
    return nxt == prev + 1 or ((nxt >> 32) > (prev >> 32) and (nxt & 0xFFFFFFFF) == 1)


def load(snapshot: tuple[int, bytes] | None, log: list[Entry], accepted: int | None, current: int | None,
         window_limit: int = 500, updating: bool = False) -> tuple[Loaded, int | None, int | None]:
    """The newest snapshot (zxid, raw body) and every logged txn after it; the epochs (None: the file is
    missing); whether the updatingEpoch marker exists (a learner's sync was under way). Returns the state and
    the epochs to write back (a missing file gets the epoch of the last zxid, as ZooKeeper writes it; so does
    a current epoch behind the log while the marker says a sync was cut short between logging and writing
    its epoch), or None where nothing is to be written."""
    if snapshot is None:
        tree, sessions, start = DataTree(), {}, 0
        tree.last_zxid = 0
    else:
        got = snap.deserialize_body(snapshot[1])
        tree, sessions, start = got.tree, got.sessions, snapshot[0]
        tree.last_zxid = start
    prev, first = start, snapshot is None
    window: list[Entry] = []
    for zxid, raw in log:
        if zxid <= start:
            continue
        if not first and not consecutive(prev, zxid):
            raise LoadError(f"txn 0x{zxid:x} follows 0x{prev:x}: the txns between them are missing")
        first = False
        hdr, record = decode_txn_entry(raw)
        replay_txn(tree, sessions, hdr, record)
        window.append((zxid, raw))
        if len(window) > 2 * window_limit:
            del window[:-window_limit]
        prev = zxid
    last = max(prev, tree.last_zxid)
    of_zxid = last >> 32
    write_current = write_accepted = None
    if current is None:
        current = write_current = of_zxid
    if of_zxid > current:
        if not updating:
            raise LoadError(f"the current epoch {current} is older than the last zxid 0x{last:x}")
        current = write_current = of_zxid
    if accepted is None:
        accepted = write_accepted = of_zxid
    if accepted < current:
        raise LoadError(f"the accepted epoch {accepted} is less than the current epoch {current}")
    return Loaded(tree, sessions, last, window[-window_limit:], accepted, current), write_accepted, write_current
