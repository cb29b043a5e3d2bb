"""ZAB on the simulator: `ZabPeer`s on a seeded fake network, disk and clock. `python -m zoopark.sim.zab`.

Each seed: 3 or 5 servers elect, establish and commit a stream of client txns while the network delays,
drops and partitions, and servers crash (losing what their disk had not fsynced) and restart. Checked after
every step:
- at most one leader establishes each epoch;
- a new leader's history contains everything committed before it (the ZAB safety property);
- what a serving server has applied is a prefix of the one committed history;
- a txn acknowledged to a client is durable on a quorum at that moment;
- zxids strictly increase in every server's log.
Each run ends by healing everything: a leader must establish, every server must serve the same history,
and every acknowledged txn must be in it. A failure names its seed; the seed replays exactly.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass, field

from ..core.jute.quorum import PacketType, QuorumPacket
from ..core.zab.actions import (
    Append,
    ClosePeer,
    Deliver,
    EpochPersisted,
    InstallSnapshot,
    Persistent,
    PersistEpoch,
    PingReply,
    RoleChanged,
    SnapshotInstalled,
    Synced,
    ToPeer,
    Truncate,
)
from ..core.zab.election import SendTo
from ..core.zab.leader import Leader
from ..core.zab.peer import ZabPeer
from .network import SETTLE_MS, Faults, Network

TICK_MS = 100


class InvariantViolation(AssertionError):
    pass


def encode_state(entries: list[tuple[int, bytes]]) -> bytes:
    out = bytearray()
    for z, t in entries:
        out += z.to_bytes(8, "big") + len(t).to_bytes(4, "big") + t
    return bytes(out)


def decode_state(raw: bytes) -> list[tuple[int, bytes]]:
    out, p = [], 0
    while p < len(raw):
        z = int.from_bytes(raw[p : p + 8], "big")
        n = int.from_bytes(raw[p + 8 : p + 12], "big")
        out.append((z, raw[p + 12 : p + 12 + n]))
        p += 12 + n
    return out


@dataclass
class Disk:
    accepted_epoch: int = 0
    current_epoch: int = 0
    snapshot: list[tuple[int, bytes]] = field(default_factory=list)  # the state a SNAP installed
    log: list[tuple[int, bytes]] = field(default_factory=list)
    queue: list[tuple[int, object, tuple]] = field(default_factory=list)  # (done at, op, then): FIFO

    def holds(self, zxid: int, txn: bytes) -> bool:
        return any(z == zxid and t == txn for z, t in self.log) or any(
            z == zxid and t == txn for z, t in self.snapshot)

    def last_zxid(self) -> int:
        if self.log:
            return self.log[-1][0]
        return self.snapshot[-1][0] if self.snapshot else 0


@dataclass
class Node:
    sid: int
    disk: Disk = field(default_factory=Disk)
    peer: ZabPeer | None = None
    applied: list[tuple[int, bytes]] = field(default_factory=list)
    role_id: int = 0  # identity of the peer's role object: a new role is a new connection
    up: bool = True


class ZabRun:
    def __init__(self, seed: int, servers: int = 3, faults: Faults | None = None, window: int = 30,
                 observers: int = 0, reload_ms: int = 0) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.net = Network(self.rng, faults or Faults(max_delay_ms=10), on_lost=self._link_broken)
        # A quorum connection is the pair of role incarnations at its ends; it dies when a packet on it is
        # lost (TCP does not skip) or either end changes role, and both ends hear of it.
        self.conns: dict[frozenset[tuple[int, int]], None] = {}  # {(sid, role id), (sid, role id)}
        self.dead: set[frozenset[tuple[int, int]]] = set()
        self.voters = frozenset(range(1, servers + 1))
        self.observers = frozenset(range(servers + 1, servers + observers + 1))
        self.nodes = {sid: Node(sid) for sid in self.voters | self.observers}
        self.window = window
        self.reload_ms = reload_ms  # a peer's pause between going LOOKING and starting its round
        self.now_ms = 0
        self.committed: list[tuple[int, bytes]] = []  # the one committed history, as established leaders made it
        self.acked: dict[int, bytes] = {}
        self.leaders_by_epoch: dict[int, int] = {}
        self.txn_counter = 0
        self.role_serial = 0
        # id(role) -> (the role, its serial): a compiled role takes no attribute of ours, and holding the role
        # keeps its id from being reused by a later one
        self.role_serials: dict[int, tuple[object, int]] = {}
        self.crashes = 0
        for sid in sorted(self.nodes):
            self._boot(sid)

    # ---- nodes -----------------------------------------------------------------------------------

    def _boot(self, sid: int) -> None:
        node = self.nodes[sid]
        d = node.disk
        node.applied = list(d.snapshot) + [e for e in d.log if not d.snapshot or e[0] > d.snapshot[-1][0]]
        disk = Persistent(d.accepted_epoch, d.current_epoch, d.last_zxid(), list(node.applied[-self.window:]))
        node.peer = ZabPeer(sid, self.voters, disk, lambda n=node: (n.applied[-1][0] if n.applied else 0,
                                                                     encode_state(n.applied)),
                            tick_ms=TICK_MS, init_limit=10, sync_limit=5, window_limit=self.window,
                            window_complete=not d.snapshot and len(node.applied) <= self.window,
                            observer=sid in self.observers,
                            reload_ms=self.reload_ms * (1 + sid % 3))  # unequal: peers start rounds apart
        node.up = True
        self.net.down.discard(sid)
        self._run(sid, node.peer.start(self.now_ms))

    def crash(self, sid: int) -> None:
        node = self.nodes[sid]
        node.up = False
        node.peer = None
        node.disk.queue.clear()  # what was not fsynced is gone
        self.net.down.add(sid)
        self.crashes += 1

    def restart(self, sid: int) -> None:
        self._boot(sid)

    # ---- actions ---------------------------------------------------------------------------------

    def _run(self, sid: int, actions: list) -> None:
        node = self.nodes[sid]
        for a in actions:
            t = type(a)
            if t is SendTo:
                self.net.send(sid, a.sid, ("e", a.notification), self.now_ms)
            elif t is ToPeer:
                self._send_quorum(sid, a.sid, a.packet)
            elif t is PingReply:  # no clients in the simulator: no sessions to report
                self._send_quorum(sid, a.leader, QuorumPacket(PacketType.PING, a.zxid))
            elif t in (Append, PersistEpoch, InstallSnapshot, Truncate):
                self._disk_op(node, a)
            elif t is Deliver:
                self._deliver(node, a)
            elif t is RoleChanged:
                self._role_changed(node, a)
            elif t is ClosePeer:
                for conn in list(self.conns):
                    if {e[0] for e in conn} == {sid, a.sid}:
                        self.dead.add(conn)

    def _disk_op(self, node: Node, a) -> None:
        q = node.disk.queue
        start = max(self.now_ms, q[-1][0] if q else 0)
        done = start + self.rng.randint(0, 3)
        q.append((done, a, getattr(a, "then", ())))
        if type(a) is Truncate:  # the core treats it as done; later reads of the log see it
            node.applied = [e for e in node.applied if e[0] <= a.zxid]
        if type(a) is InstallSnapshot:
            node.applied = decode_state(a.raw)

    def _complete_disk(self, node: Node) -> None:
        d = node.disk
        while d.queue and d.queue[0][0] <= self.now_ms and node.up:
            _, op, then = d.queue.pop(0)
            t = type(op)
            if t is Append:
                for z, txn in op.entries:
                    if d.log and z <= d.log[-1][0]:
                        raise InvariantViolation(f"seed {self.seed}: server {node.sid} logs 0x{z:x} after "
                                                 f"0x{d.log[-1][0]:x}")
                    d.log.append((z, txn))
            elif t is Truncate:
                d.log = [e for e in d.log if e[0] <= op.zxid]
            elif t is InstallSnapshot:
                d.snapshot = decode_state(op.raw)
                d.log = []
            elif t is PersistEpoch:
                if op.name == "acceptedEpoch":
                    d.accepted_epoch = op.epoch
                else:
                    d.current_epoch = op.epoch
            for ev in then:  # inputs for the core, or actions that had to wait for this write
                if node.peer is None:
                    break
                if isinstance(ev, (Synced, EpochPersisted, SnapshotInstalled)):
                    self._run(node.sid, node.peer.on_event(ev, self.now_ms))
                else:
                    self._run(node.sid, [ev])

    def _send_quorum(self, src: int, dst: int, packet) -> None:
        conn = frozenset(((src, self._role_id(src)), (dst, self._role_id(dst))))
        if conn in self.dead:
            return
        self.net.send(src, dst, ("q", conn, packet), self.now_ms, stream=True)

    def _link_broken(self, src: int, dst: int, msg) -> None:
        """A lost packet on a quorum stream: TCP would not skip it, so the connection breaks instead."""
        self.dead.add(msg[1])

    def _role_id(self, sid: int) -> int:
        node = self.nodes[sid]
        role = node.peer.role if node.peer is not None else None
        if role is None:
            return -1
        known = self.role_serials.get(id(role))
        if known is None:
            self.role_serial += 1
            known = self.role_serials[id(role)] = (role, self.role_serial)
        return known[1]

    def _deliver(self, node: Node, a: Deliver) -> None:
        if node.applied and a.zxid <= node.applied[-1][0]:
            raise InvariantViolation(f"seed {self.seed}: server {node.sid} applies 0x{a.zxid:x} after "
                                     f"0x{node.applied[-1][0]:x}")
        node.applied.append((a.zxid, a.txn))
        peer = node.peer
        if peer is not None and isinstance(peer.role, Leader) and peer.role.established:
            self._extend_committed(node, f"leader {node.sid} committed")
            if a.txn.startswith(b"w"):
                self._check_quorum_durable(a.zxid, a.txn)
                self.acked[a.zxid] = a.txn
        elif peer is not None and peer.serving:
            self._check_prefix(node)

    def _role_changed(self, node: Node, a: RoleChanged) -> None:
        if a.role == "LEADING" and a.serving:
            assert a.epoch is not None
            other = self.leaders_by_epoch.setdefault(a.epoch, node.sid)
            if other != node.sid:
                raise InvariantViolation(f"seed {self.seed}: epoch {a.epoch} established by {other} and "
                                         f"{node.sid}")
            self._extend_committed(node, f"leader {node.sid} established epoch {a.epoch}")
        elif a.serving:
            self._check_prefix(node)

    # ---- invariants ------------------------------------------------------------------------------

    def _extend_committed(self, node: Node, what: str) -> None:
        """An established leader's applied history must contain the committed history, and extends it."""
        n = len(self.committed)
        if node.applied[:n] != self.committed:
            raise InvariantViolation(f"seed {self.seed}: {what}, but its history does not contain the "
                                     f"committed one ({_diff(node.applied, self.committed)})")
        self.committed = list(node.applied)

    def _check_prefix(self, node: Node) -> None:
        if self.committed[: len(node.applied)] != node.applied:
            raise InvariantViolation(f"seed {self.seed}: serving server {node.sid} applied what was not "
                                     f"committed ({_diff(node.applied, self.committed)})")

    def _check_quorum_durable(self, zxid: int, txn: bytes) -> None:
        holders = {sid for sid, n in self.nodes.items() if sid in self.voters and n.disk.holds(zxid, txn)}
        if len(holders) * 2 <= len(self.voters):
            raise InvariantViolation(f"seed {self.seed}: 0x{zxid:x} acknowledged while durable only on "
                                     f"{sorted(holders)}")

    # ---- the loop --------------------------------------------------------------------------------

    def step_until(self, end_ms: int, write_every_ms: int = 7, max_steps: int = 500_000) -> None:
        next_write = self.now_ms
        next_tick = self.now_ms
        for _ in range(max_steps):
            if self.now_ms >= end_ms:
                return
            candidates = [end_ms, next_tick, next_write]
            nxt = self.net.next_at()
            if nxt is not None:
                candidates.append(nxt)
            for node in self.nodes.values():
                if node.up and node.disk.queue:
                    candidates.append(node.disk.queue[0][0])
            self.now_ms = max(self.now_ms, min(candidates))
            for src, dst, msg in self.net.due(self.now_ms):
                self._receive(src, dst, msg)
            for node in self.nodes.values():
                if node.up:
                    self._complete_disk(node)
            self._check_connections()
            if self.now_ms >= next_tick:
                next_tick = self.now_ms + TICK_MS // 4
                for sid, node in self.nodes.items():
                    if node.up and node.peer is not None:
                        self._run(sid, node.peer.tick(self.now_ms))
            if self.now_ms >= next_write:
                next_write = self.now_ms + write_every_ms
                self._client_write()
        raise InvariantViolation(f"seed {self.seed}: {max_steps} steps without reaching {end_ms} ms")

    def _receive(self, src: int, dst: int, msg) -> None:
        node = self.nodes[dst]
        if not node.up or node.peer is None:
            return
        kind = msg[0]
        if kind == "e":
            self._run(dst, node.peer.on_election(src, msg[1], self.now_ms))
            return
        _, conn, packet = msg
        if conn in self.dead or conn != frozenset(((src, self._role_id(src)), (dst, self._role_id(dst)))):
            return  # refused (the other end was not in that role yet) or sent on a connection since closed
        self.conns[conn] = None
        self._run(dst, node.peer.on_packet(src, packet, self.now_ms))

    def _check_connections(self) -> None:
        """A connection whose end changed role (or died, or lost a packet) is closed: both ends hear of it."""
        for conn in list(self.conns):
            ends = sorted(conn)
            current = [self._role_id(sid) == role for sid, role in ends]
            if conn in self.dead or not all(current):
                del self.conns[conn]
                self.dead.add(conn)
                for (me, _), (other, _), alive in ((ends[0], ends[1], current[0]), (ends[1], ends[0], current[1])):
                    n = self.nodes[me]
                    if alive and n.up and n.peer is not None:
                        self._run(me, n.peer.on_disconnected(other, self.now_ms))

    def _client_write(self) -> None:
        for sid, node in self.nodes.items():
            peer = node.peer
            if node.up and peer is not None and isinstance(peer.role, Leader) and peer.role.established:
                self.txn_counter += 1
                txn = b"w%d" % self.txn_counter
                _, actions = peer.propose(lambda z, t=txn: t, self.now_ms)
                self._run(sid, actions)
                return

    # ---- the end ---------------------------------------------------------------------------------

    def settle(self, within_ms: int = SETTLE_MS) -> None:
        self.net.heal()
        for sid, node in self.nodes.items():
            if not node.up:
                self.restart(sid)
        deadline = self.now_ms + within_ms
        while self.now_ms < deadline:
            self.step_until(self.now_ms + 500, write_every_ms=10_000_000)
            if self._converged():
                return
        states = {sid: (n.peer.state.name if n.peer else "down", n.peer.serving if n.peer else False,
                        len(n.applied)) for sid, n in self.nodes.items()}
        raise InvariantViolation(f"seed {self.seed}: no convergence within {within_ms} ms after healing: {states}")

    def _converged(self) -> bool:
        peers = [n.peer for n in self.nodes.values()]
        if not all(p is not None and p.serving for p in peers):
            return False
        histories = {tuple(n.applied) for n in self.nodes.values()}
        if len(histories) != 1:
            return False
        (h,) = histories
        have = dict(h)
        missing = [z for z, t in self.acked.items() if have.get(z) != t]
        if missing:
            raise InvariantViolation(f"seed {self.seed}: acknowledged txns lost: {[hex(z) for z in missing[:5]]}")
        return True


def _diff(a: list, b: list) -> str:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"first difference at {i}: 0x{x[0]:x}={x[1]!r} vs 0x{y[0]:x}={y[1]!r}"
    return f"lengths {len(a)} and {len(b)}"


def run_seed(seed: int, duration_ms: int = 20_000) -> ZabRun:
    rng = random.Random(seed ^ 0x5EED)
    servers = rng.choice([3, 3, 5])
    faults = Faults(drop=rng.choice([0.0, 0.01, 0.05]), max_delay_ms=rng.choice([2, 10, 40]))
    r = ZabRun(seed, servers, faults, window=rng.choice([5, 30, 1000]), observers=rng.choice([0, 0, 1, 2]),
               reload_ms=rng.choice([0, 0, 30, 120]))
    t = 0
    for _ in range(1000):
        t += rng.randint(500, 4000)
        if t >= duration_ms:
            break
        r.step_until(t)
        event = rng.random()
        up = [s for s, n in r.nodes.items() if n.up]
        down = [s for s, n in r.nodes.items() if not n.up]
        if event < 0.3 and up:
            r.crash(rng.choice(up))
        elif event < 0.55 and down:
            r.restart(rng.choice(down))
        elif event < 0.7:
            ids = sorted(r.nodes)
            rng.shuffle(ids)
            cut = rng.randint(1, len(ids) - 1)
            r.net.partition(set(ids[:cut]), set(ids[cut:]))
        elif event < 0.85:
            r.net.heal()
    r.step_until(duration_ms)
    r.settle()
    return r


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m zoopark.sim.zab")
    ap.add_argument("--seed", type=int, help="replay one seed")
    ap.add_argument("--seeds", type=int, default=100)
    args = ap.parse_args(argv)
    seeds = [args.seed] if args.seed is not None else list(range(args.seeds))
    total = 0
    for s in seeds:
        r = run_seed(s)
        total += len(r.acked)
    print(f"{len(seeds)} seeds passed, {total} acknowledged txns checked")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
