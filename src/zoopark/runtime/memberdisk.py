"""An ensemble member's disk, for the executor of the member machine: loading the state (snapshot, txn log,
epoch files) as core/member's `Loaded`, the log writer, epochs, the updatingEpoch marker, a leader's SNAP
written as a snapshot, TRUNC and the reload that starts every election.

Blocking calls on the loop, deliberately: the machine waits for each of them (a reload before the round, a
TRUNC before the next packet), as ZooKeeper's QuorumPeer thread does."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

from ..config import Config
from ..core.member.actions import Loaded
from ..core.server.core import replay_txn
from ..core.tree.datatree import DataTree
from ..persist import epochs
from ..persist.recovery import recover
from ..persist.snapfiles import snapshot_files
from ..persist.writer import LogWriter
from ..quorumconfig import quorum_config_text
from .snapshotter import write_now

log = logging.getLogger("zoopark.member")
WINDOW = 500  # ZooKeeper's committedLog: the newest txns a leader can send as a DIFF


class MemberDisk:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.writer: LogWriter | None = None

    def open_writer(self, notify: Callable, on_error: Callable[[BaseException, list, int], None]) -> LogWriter:
        self.writer = LogWriter(self.cfg.log_dir, self.cfg.pre_alloc_size_bytes, self.cfg.force_sync, notify, on_error)
        return self.writer

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    # ---- loading -----------------------------------------------------------------------------------

    def load(self, settle_marker: bool = True) -> Loaded:
        """The state as the disk holds it: the newest snapshot, the log after it, the epochs. A member's first
        start writes the first snapshot (holding /zookeeper/config, as ZooKeeper's does). `settle_marker`
        False keeps the updatingEpoch marker (a reload in the middle of a sync: see persist/epochs.py)."""
        cfg = self.cfg
        window: list[tuple[int, bytes]] = []

        def apply(tree, sessions, e) -> None:
            replay_txn(tree, sessions, e.hdr, e.record)
            window.append((e.zxid, e.raw))
            if len(window) > 2 * WINDOW:
                del window[:-WINDOW]
        rec = recover(cfg.snap_dir, cfg.log_dir, apply, extended_types=cfg.extended_types_enabled,
                      trust_empty=cfg.snapshot_trust_empty)
        if rec.snapshot_zxid < 0:
            rec.tree.init_config_node(quorum_config_text(cfg).encode(), cfg.config_version,
                                      time.time_ns() // 1_000_000)
            write_now(cfg.snap_dir, rec.tree, rec.sessions, cfg.digest_enabled)
        accepted, current = epochs.load_epochs(cfg.snap_dir, rec.tree.last_zxid, settle_marker)
        log.info("loaded: last zxid 0x%x, accepted epoch %d, current epoch %d, %d znodes", rec.tree.last_zxid,
                 accepted, current, len(rec.tree.nodes))
        return Loaded(rec.tree, rec.sessions, rec.tree.last_zxid, window[-WINDOW:], accepted, current)

    def reload(self) -> Loaded:
        """Between roles: what queued writes of the current generation finish first (an ended role's are
        dropped by the writer), then the state is the disk's again."""
        assert self.writer is not None
        self.writer.drain()
        return self.load()

    def truncate(self, zxid: int) -> Loaded:
        """TRUNC: cut the log after `zxid` and load what is left. The sync this TRUNC begins has raised the
        updatingEpoch marker and its txns come next: the marker outlives this reload."""
        assert self.writer is not None
        self.writer.truncate(zxid)
        log.warning("truncated the txn log after zxid 0x%x at the leader's request", zxid)
        # A snapshot past the cut (a SNAP from a leader that never established) holds txns the ensemble never
        # committed: it goes too, and the member machine syncs again from what is left if that is short of zxid.
        dropped = [p for z, p in snapshot_files(self.cfg.snap_dir) if z > zxid]
        for p in dropped:
            log.warning("removing %s: it holds txns after 0x%x, which the leader truncated", p.name, zxid)
            p.unlink()
        if dropped:
            fd = os.open(self.cfg.snap_dir, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        return self.load(settle_marker=False)

    # ---- writes ------------------------------------------------------------------------------------

    def write_epoch(self, name: str, epoch: int) -> None:
        epochs.write_epoch(self.cfg.snap_dir, name, epoch)

    def mark_updating(self, active: bool) -> None:
        epochs.mark_updating(self.cfg.snap_dir, active)

    def write_snapshot(self, tree: DataTree, sessions: dict[int, int]) -> None:
        """A leader's SNAP, durably, as this member's newest snapshot; the log goes on in a new file."""
        path = write_now(self.cfg.snap_dir, tree, sessions, self.cfg.digest_enabled)
        assert self.writer is not None
        self.writer.roll()
        log.info("installed the leader's snapshot at zxid 0x%x (%d znodes) as %s", tree.last_zxid,
                 len(tree.nodes), path.name)
