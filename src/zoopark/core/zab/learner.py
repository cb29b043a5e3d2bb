"""The follower's side of ZAB as a pure state machine (ZooKeeper 3.8's Learner / Follower).

FOLLOWERINFO (our accepted epoch) → LEADERINFO (the new epoch: persisted as acceptedEpoch before we answer)
→ ACKEPOCH (our current epoch and last zxid) → DIFF / TRUNC / SNAP and the txns that follow → NEWLEADER →
ACK → UPTODATE → ACK → broadcast: PROPOSAL (logged, fsynced, then ACKed), COMMIT (delivered in zxid order).

Where ZooKeeper 3.8 ACKs NEWLEADER before the txns of the sync are on disk (ZOOKEEPER-4643 and its kin lost
committed data that way), we ACK NEWLEADER only once those txns and the new currentEpoch are durable: the ACK
rides in the `then` of the writes.

The order on disk: the `updatingEpoch` marker, then the sync's snapshot or txns, then currentEpoch, then the
marker goes. ZooKeeper 3.8.0 writes currentEpoch first; a learner that dies before its txns are logged then
claims an epoch whose history it lacks and can win the next election with it, truncating committed txns
(ZOOKEEPER-4643). Writing the log first leaves, after a crash in between, a log newer than currentEpoch,
which recovery refuses unless the marker says a sync was cut short there; then it takes the epoch of the
last zxid (persist/epochs.py). A kill -9 at any point leaves a disk that starts.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ..jute.quorum import LearnerInfo, PacketType, QuorumPacket, epoch_of, make_zxid
from . import verifier as qv
from .actions import (
    Activated,
    Append,
    Deliver,
    Entry,
    EpochPersisted,
    InstallSnapshot,
    PersistEpoch,
    PingReply,
    RoleChanged,
    SeenConfig,
    SnapshotInstalled,
    Synced,
    ToPeer,
    Truncate,
    UpdatingEpoch,
)


def _follows(prev: int, zxid: int) -> bool:
    """Is `zxid` the txn right after `prev` in a leader's history? (The next in the epoch, or the first of a
    later epoch.)"""
    return zxid == prev + 1 or (zxid >> 32 > prev >> 32 and zxid & 0xFFFFFFFF == 1)


class LeaveLeader(Exception):
    """Stop following: the caller goes back to LOOKING."""


@dataclass
class Learner:
    my_id: int
    leader: int
    accepted_epoch: int
    current_epoch: int
    last_zxid: int  # the last txn in our log
    last_delivered: int
    tick_ms: int = 2000
    init_limit: int = 10
    sync_limit: int = 5
    phase: str = "info"  # info → epoch → sync → newleader → broadcast
    new_epoch: int | None = None
    last_heard_ms: int = 0
    pending: list[Entry] = field(default_factory=list)  # proposals received, not yet committed
    committed_in_sync: list[int] = field(default_factory=list)
    commit_upto: int = 0  # the highest zxid the leader has committed (delivered once we have the txn)
    logged: int = 0  # durable in our log
    next_info_ms: int = 0
    observer: bool = False  # OBSERVERINFO; learns committed txns from INFORM, never ACKs a proposal
    proposals_received: int = 0  # mntr's zk_learner_proposal_received_count
    commits_received: int = 0  # zk_learner_commit_received_count (INFORMs, for an observer)
    reconfig_enabled: bool = False  # reconfigEnabled: follow the configurations the leader proposes and commits
    newleader_config: qv.QuorumVerifier | None = None  # NEWLEADER's, active once we are up to date

    def start(self, now_ms: int) -> list:
        self.last_heard_ms = now_ms
        self.logged = self.last_zxid
        self.next_info_ms = now_ms + self.tick_ms
        return self._info()

    def _info(self) -> list:
        info = LearnerInfo(self.my_id).encode()
        kind = PacketType.OBSERVERINFO if self.observer else PacketType.FOLLOWERINFO
        return [ToPeer(self.leader, QuorumPacket(kind, make_zxid(self.accepted_epoch, 0), info))]

    def tick(self, now_ms: int) -> list:
        limit = (self.sync_limit if self.phase == "broadcast" else self.init_limit) * self.tick_ms
        if now_ms - self.last_heard_ms > limit:
            raise LeaveLeader(f"nothing from leader {self.leader} for {now_ms - self.last_heard_ms} ms")
        if self.phase == "info" and now_ms >= self.next_info_ms:
            # Not heard back: the leader may not have been listening yet (ZooKeeper's connectToLeader
            # retries every second); say FOLLOWERINFO again.
            self.next_info_ms = now_ms + self.tick_ms
            return self._info()
        return []

    # ---- packets from the leader -------------------------------------------------------------------

    def on_packet(self, p: QuorumPacket | tuple[str, bytes], now_ms: int) -> list:
        self.last_heard_ms = now_ms
        if isinstance(p, tuple):
            return self._on_snapshot(p[1])
        if p.type == PacketType.PROPOSAL:
            self.proposals_received += 1
        elif p.type in (PacketType.COMMIT, PacketType.INFORM, PacketType.COMMITANDACTIVATE,
                        PacketType.INFORMANDACTIVATE):
            self.commits_received += 1
        if self.phase == "snap":
            raise LeaveLeader(f"expected the snapshot after SNAP, got {p.name()}")
        t = p.type
        if self.phase == "info":
            if t != PacketType.LEADERINFO:
                raise LeaveLeader(f"expected LEADERINFO, got {p.name()}")
            return self._on_leaderinfo(p)
        if self.phase == "epoch":
            if t == PacketType.LEADERINFO and self.new_epoch == epoch_of(p.zxid):
                return []  # the answer to a FOLLOWERINFO we said twice
            if t in (PacketType.DIFF, PacketType.TRUNC, PacketType.SNAP):
                return self._on_sync_start(p)
            raise LeaveLeader(f"expected DIFF, TRUNC or SNAP, got {p.name()}")
        if t == PacketType.PING:
            return [PingReply(self.leader, p.zxid)]
        if t in (PacketType.COMMITANDACTIVATE, PacketType.INFORMANDACTIVATE):
            return self._activate(p)
        if self.phase in ("sync", "newleader"):
            return self._in_sync(p)
        return self._in_broadcast(p)

    def _activate(self, p: QuorumPacket) -> list:
        """A committed reconfig (Follower / Observer / syncWithLeader): the commit (an observer's carries the
        txn after the designated leader's id), then the configuration it carries is active."""
        data = p.data or b""
        if len(data) < 8:
            raise LeaveLeader(f"{p.name()} without the designated leader")
        designated = struct.unpack_from(">q", data, 0)[0]
        if p.type == PacketType.INFORMANDACTIVATE:
            plain = QuorumPacket(PacketType.INFORM, p.zxid, data[8:])
            txn = data[8:]
        else:
            plain = QuorumPacket(PacketType.COMMIT, p.zxid)
            txn = next((t for z, t in self.pending if z == p.zxid), b"")
        # processReconfig before the commit, as ZooKeeper's learners do (the txn then sets /zookeeper/config).
        config = qv.of_txn(txn) if self.reconfig_enabled else None
        out: list = [Activated(config, designated)] if config is not None else []
        return out + (self._in_sync(plain) if self.phase in ("sync", "newleader") else self._in_broadcast(plain))

    def _seen(self, txn: bytes | None) -> list:
        """A reconfig's PROPOSAL: its configuration is the last seen (written before the txn is logged)."""
        config = qv.of_txn(txn or b"") if self.reconfig_enabled else None
        return [SeenConfig(config)] if config is not None else []

    def _on_leaderinfo(self, p: QuorumPacket) -> list:
        epoch = epoch_of(p.zxid)
        ack = QuorumPacket(PacketType.ACKEPOCH, self.last_zxid, struct.pack(">i", self.current_epoch))
        self.new_epoch = epoch
        self.phase = "epoch"
        if epoch > self.accepted_epoch:
            return [PersistEpoch("acceptedEpoch", epoch, (EpochPersisted("acceptedEpoch", epoch),
                                                          ToPeer(self.leader, ack)))]
        if epoch == self.accepted_epoch:
            return [ToPeer(self.leader, ack)]
        raise LeaveLeader(f"leader's epoch {epoch} is below our accepted epoch {self.accepted_epoch}")

    def on_epoch_persisted(self, e: EpochPersisted) -> list:
        if e.name == "acceptedEpoch":
            self.accepted_epoch = e.epoch
        elif e.name == "currentEpoch":
            self.current_epoch = e.epoch
        return []

    def _on_sync_start(self, p: QuorumPacket) -> list:
        self.phase = "sync"
        marker = UpdatingEpoch(True)  # before anything of the sync can reach the disk
        if p.type == PacketType.TRUNC:
            self.last_zxid = min(self.last_zxid, p.zxid)
            self.logged = min(self.logged, p.zxid)
            self.last_delivered = min(self.last_delivered, p.zxid)
            return [marker, Truncate(p.zxid)]
        if p.type == PacketType.SNAP:
            self._snap_zxid = p.zxid
            self.phase = "snap"
        return [marker]

    def _on_snapshot(self, raw: bytes) -> list:
        if self.phase != "snap":
            raise LeaveLeader("snapshot bytes outside a SNAP")
        self.phase = "sync"
        zxid = self._snap_zxid
        self.last_zxid = self.logged = self.last_delivered = zxid
        return [InstallSnapshot(raw, zxid, (SnapshotInstalled(zxid),))]

    def _in_sync(self, p: QuorumPacket) -> list:
        t = p.type
        if t == PacketType.INFORM:  # a committed txn: as a PROPOSAL and its COMMIT
            if self.phase == "newleader":
                return self._in_broadcast(p)
            out = self._in_sync(QuorumPacket(PacketType.PROPOSAL, p.zxid, p.data))
            return out + self._in_sync(QuorumPacket(PacketType.COMMIT, p.zxid))
        if t == PacketType.PROPOSAL:
            if self.phase == "newleader":
                return self._in_broadcast(p)  # after NEWLEADER, proposals are logged and ACKed as usual
            last = self.pending[-1][0] if self.pending else None
            if last is not None and not _follows(last, p.zxid):
                raise LeaveLeader(f"proposal 0x{p.zxid:x} after 0x{last:x}: not the next txn")
            self.pending.append((p.zxid, p.data or b""))
            return self._seen(p.data)
        if t == PacketType.COMMIT:
            self.commit_upto = max(self.commit_upto, p.zxid)
            return []
        if t == PacketType.NEWLEADER:
            assert self.new_epoch is not None
            self.phase = "newleader"
            seen: list = []
            if self.reconfig_enabled and p.data and len(p.data) > 1:
                try:
                    self.newleader_config = qv.parse(p.data.decode())
                    seen.append(SeenConfig(self.newleader_config))
                except (qv.BadServer, UnicodeDecodeError):
                    pass  # ZooKeeper's learner prints the exception and goes on
            # Log what the sync brought, then the new epoch, and only then ACK (see the module docstring).
            ack = ToPeer(self.leader, QuorumPacket(PacketType.ACK, p.zxid))
            epoch = PersistEpoch("currentEpoch", self.new_epoch,
                                 (EpochPersisted("currentEpoch", self.new_epoch), UpdatingEpoch(False), ack))
            entries = [(z, t2) for z, t2 in self.pending if z > self.logged]
            if entries:
                self.last_zxid = entries[-1][0]
                return [*seen, Append(entries, (Synced(entries[-1][0]), epoch))]
            return [*seen, epoch]
        if t == PacketType.UPTODATE:
            if self.phase != "newleader":
                raise LeaveLeader("UPTODATE before NEWLEADER")
            self.phase = "broadcast"
            assert self.new_epoch is not None
            done: list = [ToPeer(self.leader, QuorumPacket(PacketType.ACK, make_zxid(self.new_epoch, 0))),
                          RoleChanged("FOLLOWING", self.leader, self.new_epoch, serving=True)]
            done += self._deliver()
            # Proposals forwarded during the sync that are not committed yet: ACK them (they are durable).
            for z, _ in self.pending:
                if z > self.commit_upto and z <= self.logged and not self.observer:
                    done.append(ToPeer(self.leader, QuorumPacket(PacketType.ACK, z)))
            if self.newleader_config is not None:
                done.append(Activated(self.newleader_config))
            return done
        return []

    def _in_broadcast(self, p: QuorumPacket) -> list:
        t = p.type
        if self.observer:
            return self._observe(p)
        if t == PacketType.PROPOSAL:
            entry = self._next_txn(p)
            return [*self._seen(p.data),
                    Append([entry], (Synced(p.zxid), ToPeer(self.leader, QuorumPacket(PacketType.ACK, p.zxid))))]
        if t == PacketType.COMMIT:
            self.commit_upto = max(self.commit_upto, p.zxid)
            return self._deliver()
        return []  # SYNC and REVALIDATE answer the replica's clients: the member hands them to its core

    def _observe(self, p: QuorumPacket) -> list:
        """An observer in broadcast: INFORM carries a committed txn; it is logged (as ZooKeeper's observers do
        with syncEnabled) and applied at once. PROPOSAL and COMMIT are not for observers (ZooKeeper warns)."""
        if p.type != PacketType.INFORM:
            return []
        entry = self._next_txn(p)
        self.commit_upto = p.zxid
        return [Append([entry], (Synced(p.zxid),)), *self._deliver()]

    def _next_txn(self, p: QuorumPacket) -> Entry:
        """Take a broadcast txn (PROPOSAL, or INFORM for an observer): it must be the next of the leader's
        history."""
        last = self.pending[-1][0] if self.pending else self.last_zxid
        if not _follows(last, p.zxid):
            raise LeaveLeader(f"{p.name()} 0x{p.zxid:x} after 0x{last:x}: not the next txn")
        entry = (p.zxid, p.data or b"")
        self.pending.append(entry)
        self.last_zxid = p.zxid
        return entry

    def on_synced(self, zxid: int) -> list:
        self.logged = max(self.logged, zxid)
        return self._deliver() if self.phase == "broadcast" else []

    def on_snapshot_installed(self, e: SnapshotInstalled) -> list:
        return []

    def _deliver(self) -> list:
        """Committed txns, in order. A commit is applied once the txn is here (ZooKeeper applies committed
        txns before its own fsync too: a quorum already has them)."""
        out: list = []
        while self.pending and self.pending[0][0] <= self.commit_upto:
            z, txn = self.pending.pop(0)
            if z > self.last_delivered:
                out.append(Deliver(z, txn))
                self.last_delivered = z
        return out
