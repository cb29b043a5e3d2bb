"""Interaction scripts for ZAB: one Leader and its Learners, every packet and every disk write moved by the
test, one at a time, so a script can stop anywhere (a crash between a write and its fsync, a packet that never
arrives) and look. Disks keep what was fsynced; `crash()` drops the rest, as a power cut would."""

from __future__ import annotations

from dataclasses import dataclass, field

from zoopark.core.jute.quorum import PacketType, QuorumPacket, make_zxid
from zoopark.core.zab.actions import (
    Append,
    ClosePeer,
    Deliver,
    EpochPersisted,
    InstallSnapshot,
    PersistEpoch,
    PingReply,
    RoleChanged,
    SnapshotInstalled,
    Synced,
    ToPeer,
    Truncate,
    UpdatingEpoch,
)
from zoopark.core.zab.leader import Leader
from zoopark.core.zab.learner import Learner
from zoopark.sim.zab import decode_state, encode_state

LEADER = 1


def txn(epoch: int, n: int) -> tuple[int, bytes]:
    z = make_zxid(epoch, n)
    return z, b"t%x" % z


@dataclass
class Disk:
    log: list[tuple[int, bytes]] = field(default_factory=list)
    accepted: int = 0
    current: int = 0
    updating: bool = False  # the updatingEpoch marker


@dataclass
class Node:
    sid: int
    disk: Disk
    role: Leader | Learner | None = None
    unsynced: list = field(default_factory=list)  # disk writes not yet fsynced, each with its `then`
    outbox: list = field(default_factory=list)  # (dst, packet) in send order
    delivered: list[int] = field(default_factory=list)
    state: list[tuple[int, bytes]] = field(default_factory=list)  # what has been applied, in order
    roles: list[RoleChanged] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)


class Script:
    def __init__(self, voters=(1, 2, 3), now_ms: int = 0) -> None:
        self.voters = frozenset(voters)
        self.nodes: dict[int, Node] = {}
        self.now = now_ms

    # ---- set-up ------------------------------------------------------------------------------

    def leader(self, log, accepted: int, current: int, window_from: int = 1) -> Node:
        """A leader that has applied all of `log`; it can DIFF from the txns numbered `window_from` on (its
        committedLog), and from zero only if the window starts at the first txn."""
        disk = Disk(list(log), accepted, current)
        node = self.nodes[LEADER] = Node(LEADER, disk)
        last = log[-1][0] if log else 0
        node.state = list(log)
        window = [e for e in log if e[0] & 0xFFFFFFFF >= window_from or e[0] >> 32 > log[0][0] >> 32]
        node.role = Leader(LEADER, self.voters, accepted, current, last, window,
                           lambda: (node.state[-1][0] if node.state else 0, encode_state(node.state)),
                           last, window_complete=window_from == 1)
        self.run(node, node.role.start(self.now))
        return node

    def learner(self, sid: int, log, accepted: int, current: int, observer: bool = False) -> Node:
        disk = Disk(list(log), accepted, current)
        node = self.nodes[sid] = Node(sid, disk)
        self.boot(node, observer)
        return node

    def boot(self, node: Node, observer: bool = False) -> None:
        """(Re)start a learner from its disk: recovery applied its whole log."""
        d = node.disk
        last = d.log[-1][0] if d.log else 0
        node.state = list(d.log)
        node.unsynced, node.outbox = [], []
        node.role = Learner(node.sid, LEADER, d.accepted, d.current, last, last, observer=observer)
        self.run(node, node.role.start(self.now))

    def crash(self, sid: int) -> None:
        """Power cut: unsynced writes are gone, the role with them."""
        node = self.nodes[sid]
        node.unsynced, node.outbox, node.role = [], [], None

    # ---- moving things -----------------------------------------------------------------------

    def run(self, node: Node, actions: list) -> None:
        for a in actions:
            t = type(a)
            if t is ToPeer:
                node.outbox.append((a.sid, a.packet))
            elif t is PingReply:
                node.outbox.append((a.leader, QuorumPacket(PacketType.PING, a.zxid)))
            elif t in (Append, PersistEpoch, InstallSnapshot):
                node.unsynced.append(a)
                if t is InstallSnapshot:
                    node.state = decode_state(a.raw)
            elif t is Truncate:
                node.disk.log = [e for e in node.disk.log if e[0] <= a.zxid]
                node.state = [e for e in node.state if e[0] <= a.zxid]
            elif t is Deliver:
                node.delivered.append(a.zxid)
                node.state.append((a.zxid, a.txn))
            elif t is RoleChanged:
                node.roles.append(a)
            elif t is ClosePeer:
                node.closed.append(a.sid)
            elif t is UpdatingEpoch:  # durable at once, before any further input
                node.disk.updating = a.active

    def fsync(self, sid: int, count: int | None = None) -> None:
        """Every pending write of `sid` (or the next `count`, in order) reaches the disk, then what waited
        for it happens (which may queue further writes)."""
        node = self.nodes[sid]
        while node.unsynced and (count is None or count > 0):
            if count is not None:
                count -= 1
            a = node.unsynced.pop(0)
            d = node.disk
            if type(a) is Append:
                d.log.extend(a.entries)
            elif type(a) is PersistEpoch:
                if a.name == "acceptedEpoch":
                    d.accepted = a.epoch
                else:
                    d.current = a.epoch
            else:
                d.log = list(decode_state(a.raw))
            for ev in a.then:
                role = node.role
                if isinstance(ev, Synced):
                    self.run(node, role.on_synced(ev.zxid))
                elif isinstance(ev, EpochPersisted):
                    self.run(node, role.on_epoch_persisted(ev, self.now) if isinstance(role, Leader)
                             else role.on_epoch_persisted(ev))
                elif isinstance(ev, SnapshotInstalled):
                    self.run(node, role.on_snapshot_installed(ev))
                else:
                    self.run(node, [ev])

    def deliver(self, src: int, dst: int, count: int | None = None) -> list:
        """Move `src`'s queued packets for `dst` (all, or the first `count`); returns them."""
        node, to = self.nodes[src], self.nodes[dst]
        mine = [(i, p) for i, (d, p) in enumerate(node.outbox) if d == dst]
        if count is not None:
            mine = mine[:count]
        moved = [p for _, p in mine]
        taken = {i for i, _ in mine}
        node.outbox = [x for i, x in enumerate(node.outbox) if i not in taken]
        for p in moved:
            if to.role is None:
                break
            if isinstance(to.role, Leader):
                self.run(to, to.role.on_packet(src, p, self.now))
            else:
                self.run(to, to.role.on_packet(p, self.now))
        return moved

    def settle(self, rounds: int = 50) -> None:
        """Fsync everything and deliver everything until nothing moves."""
        for _ in range(rounds):
            moved = False
            for sid, node in self.nodes.items():
                if node.role is None:
                    continue
                if node.unsynced:
                    self.fsync(sid)
                    moved = True
                for dst in {d for d, _ in node.outbox}:
                    if self.nodes.get(dst) is not None and self.nodes[dst].role is not None:
                        moved |= bool(self.deliver(sid, dst))
            if not moved:
                return
        raise AssertionError("the script never settled")

    def sent(self, src: int, dst: int) -> list[str]:
        """The names of the packets queued from src to dst."""
        return [p.name() if isinstance(p, QuorumPacket) else "<snapshot>" for d, p in self.nodes[src].outbox
                if d == dst]

    def propose(self, n: int = 1) -> list[int]:
        ld = self.nodes[LEADER].role
        out = []
        for _ in range(n):
            z, actions = ld.propose(lambda z: b"t%x" % z)
            self.run(self.nodes[LEADER], actions)
            out.append(z)
        return out


__all__ = ["Script", "txn", "LEADER", "PacketType"]
