"""Whole ensemble members on the simulator: `MemberMachine`s (the role loop, the zab roles and the real
ServerCore inside), simulated disks with crash points, simulated kazoo-like clients, a seeded network.
`python -m zoopark.sim.member --seed N` replays one run.

Each seed: 3 or 5 voting members (and sometimes an observer) elect, establish and serve clients that create, set, delete and read (behind a
sync) a few znodes, reconnect to other members, take sessions over and close them mid-stream, while the
network delays, drops (breaking streams as TCP would) and partitions, members crash at any fsync, rename or
epoch write (losing what was not synced), restart from whatever their disk holds, and pause.
Checked after every step:
- every reply answers its own request, in request order per connection (sim/clients.py);
- no action of an ended role reaches the disk, a client or a peer (the executor refuses it: here a
  violation), and at most one leader serves each epoch;
- no member raises (a member never exits on its own); every restart loads and starts;
- the txn log only grows in zxid order.
Each run ends by healing everything: every member must serve the same tree, every client must get a
write through, and the clients' history (with a final read of every znode) must be linearizable.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import heapq
import itertools
import random
from collections import Counter, deque
from dataclasses import dataclass, field

from ..core.jute.records import ReconfigRequest
from ..core.member.actions import (
    FENCED,
    AppendLog,
    ClientClose,
    ClientConnect,
    ClientFrame,
    ClientGone,
    ClientSend,
    ClosePort,
    Done,
    DropPeer,
    LogFailed,
    MarkUpdatingEpoch,
    MoveClientPort,
    Note,
    OpenPort,
    PacketIn,
    PeerLost,
    PortClosed,
    PortOpened,
    Reload,
    Reloaded,
    SendPeer,
    SendVote,
    Tick,
    Truncate,
    VoteIn,
    WriteConfig,
    WriteEpoch,
    WriteSnapshot,
)
from ..core.member.load import LoadError, load
from ..core.member.machine import MemberMachine, MemberSettings
from ..core.server.settings import CoreSettings
from ..core.tree import snapshot as snap
from ..core.zab import verifier as qv
from . import linear
from .clients import KEYS, SimClient
from .network import SETTLE_MS, Faults, Network

TICK_MS = 100
SUPER = "super:test"  # the operator's digest credentials (the members' superDigest)
CLIENT_BASE = 1000
EPOCH_BASE_MS = 1_700_000_000_000  # session ids come from the clock: start where a real one would be


class Violation(AssertionError):
    pass


@dataclass
class SimDisk:
    snapshots: list[tuple[int, bytes]] = field(default_factory=list)  # (zxid, raw), newest last
    log: list[tuple[int, bytes]] = field(default_factory=list)
    epochs: dict[str, int] = field(default_factory=dict)  # the epoch files that exist
    updating: bool = False  # the updatingEpoch marker
    failed: set[int] = field(default_factory=set)  # generations whose log write failed: the writer refuses them
    queue: deque = field(default_factory=deque)  # (done at ms, action): FIFO, what is not yet durable
    writes: int = 0
    config: qv.QuorumVerifier | None = None  # the active configuration's file (None: the initial one)
    next_config: qv.QuorumVerifier | None = None  # the `.next` file: the last configuration proposed


@dataclass
class Node:
    sid: int
    disk: SimDisk = field(default_factory=SimDisk)
    machine: MemberMachine | None = None
    up: bool = False
    inc: int = 0  # incarnation: a restart is a new process
    paused_until: int = 0
    backlog: deque = field(default_factory=deque)  # inputs that arrived while paused
    reload_gen: int | None = None
    conns: dict[int, int] = field(default_factory=dict)  # client conn -> client index


class MemberRun:
    def __init__(self, seed: int, servers: int = 3, clients: int = 3, faults: Faults | None = None,
                 crash_p: float = 0.0, window: int = 30, read_only: bool = False, observers: int = 0,
                 reconfig: bool = False, spares: int = 0) -> None:
        """`reconfig`: reconfigEnabled, and an operator client that sends reconfigs (grow, shrink, remove the
        leader, observer <-> participant) throughout; `spares`: members outside the initial configuration,
        running from the start (non-voting until a reconfig adds them)."""
        self.seed = seed
        self.rng = random.Random(seed)
        self.net = Network(self.rng, faults or Faults(max_delay_ms=10), on_lost=self._lost)
        self.voters = frozenset(range(1, servers + 1))
        self.observers = frozenset(range(servers + 1, servers + observers + 1))
        self.initial = qv.of_ids(self.voters, self.observers)
        first_spare = servers + observers + 1
        self.nodes = {sid: Node(sid) for sid in sorted(self.voters | self.observers)
                      + list(range(first_spare, first_spare + spares))}
        digest = base64.b64encode(hashlib.sha1(SUPER.encode()).digest()).decode()
        self.settings = MemberSettings(tick_ms=TICK_MS, init_limit=10, sync_limit=5, window_limit=window,
                                       read_only=read_only, reconfig_enabled=reconfig,
                                       core=CoreSettings(min_session_timeout_ms=2 * TICK_MS,
                                                         max_session_timeout_ms=40 * TICK_MS,
                                                         super_digest=f"super:{digest}" if reconfig else None))
        self.configs: dict[int, qv.QuorumVerifier] = {0: self.initial}  # every active configuration, by version
        self.crash_p = crash_p
        self.ping_pong = False  # takeovers where both clients go on with the session (see docs/ensemble.md)
        self.drop_ended = False  # at a reload, drop an ended role's queued writes instead of finishing them
        self.fail_p = 0.0  # the chance that an fsync of the log fails
        self.log_failures = 0
        self.now_ms = EPOCH_BASE_MS
        self.timers: list[tuple[int, int, int, int, object]] = []  # (at, seq, sid, inc, input)
        self.seq = itertools.count()
        self.inputs: deque = deque()  # (sid, inc, input) to step as soon as the current one is done
        self.conns: dict[int, tuple[int, int, int]] = {}  # client conn -> (client, member, member inc)
        self.conn_ids = itertools.count(1)
        self.peer_links: set[frozenset] = set()
        self.dead_links: set[frozenset] = set()
        self.role_serial = itertools.count(1)
        # id(role) -> (the role, its serial): a compiled role takes no attribute of ours, and holding the role
        # keeps its id from being reused by a later one
        self.role_serials: dict[int, tuple[object, int]] = {}
        self.leaders_by_epoch: dict[int, int] = {}
        self.crashes = self.crash_points = self.restarts = 0
        self.actions: Counter[str] = Counter()  # executed actions by type: what a run exercised
        self.clients = [SimClient(i, random.Random(self.rng.random()), sorted(self.nodes),
                                  timeout_ms=20 * TICK_MS) for i in range(clients)]
        if reconfig:
            self.clients.append(SimClient(clients, random.Random(self.rng.random()), sorted(self.nodes),
                                          timeout_ms=20 * TICK_MS, auth=SUPER, plan=self._plan))
        for sid in sorted(self.nodes):
            self.boot(sid)

    # ---- members -------------------------------------------------------------------------------------

    def boot(self, sid: int) -> None:
        node = self.nodes[sid]
        d = node.disk
        try:
            loaded, acc, cur = load(d.snapshots[-1] if d.snapshots else None, d.log, d.epochs.get("acceptedEpoch"),
                                    d.epochs.get("currentEpoch"), self.settings.window_limit, d.updating)
        except (LoadError, snap.SnapshotError) as e:
            raise Violation(f"seed {self.seed}: member {sid} cannot restart from its disk: {e}") from e
        if acc is not None:
            d.epochs["acceptedEpoch"] = acc
        if cur is not None:
            d.epochs["currentEpoch"] = cur
        d.updating = False  # whatever a sync left is settled now
        d.failed.clear()  # a new process, a new writer: generations count from the start again
        node.inc += 1
        node.up = True
        node.paused_until = 0
        node.backlog.clear()
        node.reload_gen = None
        node.conns.clear()
        node.machine = MemberMachine(sid, self.voters, loaded, self.settings, observer=sid in self.observers,
                                     verifier=d.config or self.initial, last_seen=d.next_config)
        self.net.down.discard(sid)
        self._execute(node, node.machine.start(self.now_ms))

    def crash(self, sid: int) -> None:
        node = self.nodes[sid]
        if not node.up:
            return
        node.up = False
        node.machine = None
        node.disk.queue.clear()  # what was not fsynced is gone
        node.conns.clear()
        self.net.down.add(sid)
        self.crashes += 1

    def _restart_later(self, sid: int, delay_ms: int) -> None:
        heapq.heappush(self.timers, (self.now_ms + delay_ms, next(self.seq), -2, sid, None))

    def restart(self, sid: int) -> None:
        self.restarts += 1
        self.boot(sid)

    def _step(self, node: Node, event: object) -> None:
        m = node.machine
        if m is None or not node.up:
            return
        if node.paused_until > self.now_ms:
            node.backlog.append(event)
            return
        try:
            actions = m.step(event, self.now_ms)
        except Violation:
            raise
        except Exception as e:  # noqa: BLE001 - a member must never exit on its own
            raise Violation(f"seed {self.seed}: member {node.sid} failed on {type(event).__name__}: "
                            f"{type(e).__name__}: {e}") from e
        self._execute(node, actions)

    # ---- actions ---------------------------------------------------------------------------------------

    def _execute(self, node: Node, actions: list) -> None:
        sid = node.sid
        for a in actions:
            m = node.machine
            if m is None:
                return  # crashed at a crash point inside this batch
            if isinstance(a, FENCED) and a.gen != m.gen:
                raise Violation(f"seed {self.seed}: member {sid} emitted {type(a).__name__} of ended role "
                                f"generation {a.gen} (current {m.gen})")
            t = type(a)
            self.actions[t.__name__] += 1
            if t is SendVote:
                self.net.send(sid, a.sid, ("v", a.notification), self.now_ms)
            elif t is SendPeer:
                self._send_quorum(sid, a.sid, a.packet)
            elif t is DropPeer:
                for link in list(self.peer_links):
                    if {e[0] for e in link} == {sid, a.sid}:
                        self.dead_links.add(link)
            elif t is AppendLog and a.gen in node.disk.failed:
                pass  # the writer refuses a generation whose write failed (the machine hears of it next)
            elif t in (AppendLog, WriteEpoch, WriteSnapshot):
                q = node.disk.queue
                start = max(self.now_ms, q[-1][0] if q else 0)
                q.append((start + self.rng.randint(0, 3), a))
            elif t is Truncate:
                self._truncate(node, a)
            elif t is MarkUpdatingEpoch:
                # Durable before the next input; a crash point on each side of it.
                if self._crash_point(node, lambda a=a: setattr(node.disk, "updating", a.active)):
                    return
                node.disk.updating = a.active
            elif t is Reload:
                node.reload_gen = a.gen
            elif t is ClientSend:
                self._to_client(node, a.conn, ("s", a.conn, a.data))
            elif t is ClientClose:
                if a.conn in node.conns:
                    self._to_client(node, a.conn, ("x", a.conn))
                    node.conns.pop(a.conn, None)
                    self.inputs.append((sid, node.inc, ClientGone(a.conn)))
                else:
                    self._refuse(a.conn)
            elif t is OpenPort:
                self._timer(self.rng.randint(0, 20), node, PortOpened(a.gen))
            elif t is ClosePort:
                self._timer(self.rng.randint(0, 20), node, PortClosed())
            elif t is WriteConfig:
                self._config(node, a)
            elif t is MoveClientPort:
                pass  # simulated clients reach a member by its id, not its address
            elif t is Note:
                pass
            else:
                raise Violation(f"seed {self.seed}: unknown action {a!r}")
        m = node.machine
        if m is not None and m.mode == "LEADING" and m.core is not None:
            epoch = m.peer.role.epoch
            other = self.leaders_by_epoch.setdefault(epoch, sid)
            if other != sid:
                raise Violation(f"seed {self.seed}: epoch {epoch} served by leaders {other} and {sid}")

    def _config(self, node: Node, a: WriteConfig) -> None:
        """The configuration files, written at once (ZooKeeper writes them synchronously). Every member that
        activates a version must activate the same configuration under it."""
        c = a.config
        if not a.activated:
            node.disk.next_config = c
            return
        node.disk.config = c
        known = self.configs.setdefault(c.version, c)
        if not known.same_members(c):
            raise Violation(f"seed {self.seed}: member {node.sid} activated version {c.version:x} as {c.text()!r}, "
                            f"another as {known.text()!r}")

    def _plan(self, rng: random.Random) -> ReconfigRequest | None:
        """The operator's next reconfig: remove a member, add or promote one, demote one to an observer, or
        name a whole new membership (the leader refuses what would break the rules: fewer than two voters,
        no synced quorum of the new configuration, another reconfig under way)."""
        if rng.random() > 0.3:
            return None
        ids = sorted(self.nodes)
        sid = rng.choice(ids)
        since = rng.choice([-1] * 8 + [max(self.configs), max(self.configs) + 1])  # a compare-and-set, now and then

        def line(m: int, role: str) -> str:
            return f"server.{m}=member{m}:2888:3888:{role};2181"
        kind = rng.random()
        if kind < 0.35:
            return ReconfigRequest(None, str(sid), None, since)
        if kind < 0.7:
            return ReconfigRequest(line(sid, "participant"), None, None, since)
        if kind < 0.85:
            return ReconfigRequest(line(sid, "observer"), None, None, since)
        members = rng.sample(ids, rng.randint(2, len(ids)))
        roles = ["participant", "participant", "observer"]
        return ReconfigRequest(None, None, ",".join(line(m, rng.choice(roles)) for m in members), since)

    def _timer(self, delay_ms: int, node: Node, event: object) -> None:
        heapq.heappush(self.timers, (self.now_ms + delay_ms, next(self.seq), node.sid, node.inc, event))

    # ---- the disk ----------------------------------------------------------------------------------

    def _durable(self, node: Node, a) -> None:
        d = node.disk
        t = type(a)
        if t is AppendLog:
            for z, txn in a.entries:
                if d.log and z <= d.log[-1][0]:
                    raise Violation(f"seed {self.seed}: member {node.sid} logs 0x{z:x} after 0x{d.log[-1][0]:x}")
                d.log.append((z, txn))
        elif t is WriteEpoch:
            d.epochs[a.name] = a.epoch
        elif t is WriteSnapshot:
            d.snapshots.append((a.zxid, a.raw))
            del d.snapshots[:-2]
        d.writes += 1

    def _complete_disk(self, node: Node) -> None:
        d = node.disk
        while node.up and d.queue and d.queue[0][0] <= self.now_ms:
            _, a = d.queue.popleft()
            if self._crash_point(node, lambda a=a: self._durable(node, a)):
                return
            if type(a) is AppendLog and self.fail_p and self.rng.random() < self.fail_p:
                # A failed fsync: this write and every later one of its role are lost, none acknowledged.
                self.log_failures += 1
                d.failed.add(a.gen)
                d.queue = deque(q for q in d.queue if q[1].gen != a.gen)
                self._step(node, LogFailed(a.gen, "simulated fsync failure"))
                continue
            self._durable(node, a)
            for item in a.then:
                self._step(node, Done(a.gen, item))
                if not node.up:
                    return
        if node.up and node.reload_gen is not None and d.queue and self.drop_ended:
            # The runtime's fenced writer drops what an ended role still had queued, unwritten.
            d.queue = deque(q for q in d.queue if q[1].gen >= node.reload_gen)
        if node.up and node.reload_gen is not None and not d.queue:
            gen, node.reload_gen = node.reload_gen, None
            self._step(node, Reloaded(gen, self._load(node)))

    def _crash_point(self, node: Node, write) -> bool:
        """A crash point at every fsync, rename and epoch write: before it (the write is lost, with everything
        queued behind it) or after it (durable, but nobody heard). Returns whether the member crashed."""
        if not self.crash_p or self.rng.random() >= self.crash_p:
            return False
        self.crash_points += 1
        if self.rng.random() < 0.5:
            write()
        self.crash(node.sid)
        self._restart_later(node.sid, self.rng.randint(20, 400))
        return True

    def _load(self, node: Node):
        """A reload while running: the marker stays (a TRUNC reloads in the middle of a sync)."""
        d = node.disk
        try:
            loaded, _, _ = load(d.snapshots[-1] if d.snapshots else None, d.log, d.epochs.get("acceptedEpoch"),
                                d.epochs.get("currentEpoch"), self.settings.window_limit, d.updating)
        except (LoadError, snap.SnapshotError) as e:
            raise Violation(f"seed {self.seed}: member {node.sid} cannot reload its disk: {e}") from e
        return loaded

    def _truncate(self, node: Node, a: Truncate) -> None:
        """Synchronous for the machine: queued writes finish first (their completions are stepped after),
        then the log is cut and the state reloaded."""
        d = node.disk
        later = []
        while d.queue:
            _, op = d.queue.popleft()
            self._durable(node, op)
            later += [Done(op.gen, item) for item in op.then]
        d.log = [e for e in d.log if e[0] <= a.zxid]
        d.snapshots = [sn for sn in d.snapshots if sn[0] <= a.zxid]  # a snapshot past the cut holds what goes
        self._step(node, Reloaded(a.gen, self._load(node)))
        for ev in later:
            self.inputs.append((node.sid, node.inc, ev))

    # ---- peers ---------------------------------------------------------------------------------------

    def _end(self, sid: int) -> tuple:
        """A quorum connection's end: the member's process, role generation and zab role object."""
        node = self.nodes[sid]
        m = node.machine
        if m is None or not node.up:
            return (sid, -1)
        role = m.peer.role
        if role is None:
            return (sid, node.inc, m.gen, 0)
        known = self.role_serials.get(id(role))
        if known is None:
            known = self.role_serials[id(role)] = (role, next(self.role_serial))
        return (sid, node.inc, m.gen, known[1])

    def _send_quorum(self, src: int, dst: int, packet) -> None:
        link = frozenset((self._end(src), self._end(dst)))
        if link in self.dead_links:
            return
        self.net.send(src, dst, ("q", link, packet), self.now_ms, stream=True)

    def _check_links(self) -> None:
        """A connection whose end changed role, restarted or lost a packet is closed: both ends hear."""
        for link in list(self.peer_links):
            ends = sorted(link)
            current = [self._end(e[0]) == e for e in ends]
            if link in self.dead_links or not all(current):
                self.peer_links.discard(link)
                self.dead_links.add(link)
                for me, other, alive in ((ends[0], ends[1], current[0]), (ends[1], ends[0], current[1])):
                    if alive:
                        self._step(self.nodes[me[0]], PeerLost(other[0]))

    # ---- clients -------------------------------------------------------------------------------------

    def _to_client(self, node: Node, conn: int, msg) -> None:
        c = self.conns.get(conn)
        if c is not None:
            self.net.send(node.sid, CLIENT_BASE + c[0], msg, self.now_ms, stream=True)

    def _refuse(self, conn: int) -> None:
        c = self.conns.pop(conn, None)
        if c is not None:  # the client hears at the timer
            heapq.heappush(self.timers, (self.now_ms + 1, next(self.seq), -1, c[0], ("closed", conn)))

    def _lost(self, src: int, dst: int, msg) -> None:
        """A lost message on a stream: the TCP connection breaks; both ends hear."""
        kind = msg[0]
        if kind == "q":
            self.dead_links.add(msg[1])
            return
        conn = msg[1]
        c = self.conns.pop(conn, None)
        if c is None:
            return
        client, member, inc = c
        heapq.heappush(self.timers, (self.now_ms + 1, next(self.seq), -1, client, ("closed", conn)))
        node = self.nodes[member]
        if node.inc == inc and conn in node.conns:
            del node.conns[conn]
            self.inputs.append((member, inc, ClientGone(conn)))

    def _client_io(self) -> None:
        for cl in self.clients:
            cl.tick(self.now_ms)
            for conn in cl.closes:
                c = self.conns.pop(conn, None)
                if c is not None:
                    self.net.send(CLIENT_BASE + cl.index, c[1], ("bye", conn, c[2]), self.now_ms, stream=True)
            cl.closes.clear()
            member = cl.dial(self.now_ms)
            if member is not None:
                conn = next(self.conn_ids)
                node = self.nodes[member]
                self.conns[conn] = (cl.index, member, node.inc)
                cl.connect_to(conn, member, self.now_ms)
                self.net.send(CLIENT_BASE + cl.index, member, ("open", conn, node.inc), self.now_ms, stream=True)
            for conn, frame in cl.outbox:
                c = self.conns.get(conn)
                if c is not None:
                    self.net.send(CLIENT_BASE + cl.index, c[1], ("c", conn, c[2], frame), self.now_ms, stream=True)
            cl.outbox.clear()

    # ---- the loop ------------------------------------------------------------------------------------

    def _receive(self, src: int, dst: int, msg) -> None:
        kind = msg[0]
        if dst >= CLIENT_BASE:
            cl = self.clients[dst - CLIENT_BASE]
            if kind == "s":
                cl.on_data(msg[1], msg[2], self.now_ms)
            elif kind == "x":
                self.conns.pop(msg[1], None)
                cl.on_closed(msg[1], self.now_ms)
            return
        node = self.nodes[dst]
        if not node.up:
            return
        if kind == "v":
            self._step(node, VoteIn(src, msg[1]))
        elif kind == "q":
            link = msg[1]
            if link in self.dead_links or link != frozenset((self._end(src), self._end(dst))):
                return  # sent on a connection since closed, or to a role that has ended
            self.peer_links.add(link)
            self._step(node, PacketIn(src, msg[2]))
        else:
            conn, inc = msg[1], msg[2]
            if inc != node.inc:
                return
            if kind == "open":
                if conn not in self.conns:
                    return
                node.conns[conn] = src - CLIENT_BASE
                self._step(node, ClientConnect(conn))
            elif kind == "c":
                if conn in node.conns:
                    self._step(node, ClientFrame(conn, msg[3]))
            elif kind == "bye":
                if node.conns.pop(conn, None) is not None:
                    self._step(node, ClientGone(conn))

    def _drain_inputs(self) -> None:
        for _ in range(100_000):
            if not self.inputs:
                return
            sid, inc, ev = self.inputs.popleft()
            node = self.nodes[sid]
            if node.up and node.inc == inc:
                self._step(node, ev)
        raise Violation(f"seed {self.seed}: inputs do not settle")

    def step_until(self, end_ms: int, max_steps: int = 400_000) -> None:
        next_tick = self.now_ms
        for _ in range(max_steps):
            if self.now_ms >= end_ms:
                return
            candidates = [end_ms, next_tick]
            nxt = self.net.next_at()
            if nxt is not None:
                candidates.append(nxt)
            if self.timers:
                candidates.append(self.timers[0][0])
            for node in self.nodes.values():
                if node.up and node.disk.queue:
                    candidates.append(node.disk.queue[0][0])
                if node.up and node.paused_until > self.now_ms:
                    candidates.append(node.paused_until)
            self.now_ms = max(self.now_ms, min(candidates))
            for node in self.nodes.values():
                if node.up and node.backlog and node.paused_until <= self.now_ms:
                    backlog, node.backlog = node.backlog, deque()
                    for ev in backlog:
                        self._step(node, ev)
            for src, dst, msg in self.net.due(self.now_ms):
                self._receive(src, dst, msg)
                self._drain_inputs()
            while self.timers and self.timers[0][0] <= self.now_ms:
                _, _, sid, inc, ev = heapq.heappop(self.timers)
                if sid == -1:
                    self.clients[inc].on_closed(ev[1], self.now_ms)
                    continue
                if sid == -2:  # a restart after a crash point
                    if not self.nodes[inc].up:
                        self.restart(inc)
                    continue
                node = self.nodes[sid]
                if node.up and node.inc == inc:
                    self._step(node, ev)
                self._drain_inputs()
            for node in self.nodes.values():
                if node.up:
                    self._complete_disk(node)
                    self._drain_inputs()
            self._check_links()
            self._drain_inputs()
            if self.now_ms >= next_tick:
                next_tick = self.now_ms + TICK_MS // 4
                for node in self.nodes.values():
                    if node.up and node.paused_until <= self.now_ms:
                        self._step(node, Tick())
                        self._drain_inputs()
                self._client_io()
        raise Violation(f"seed {self.seed}: {max_steps} steps without reaching {end_ms} ms")

    # ---- faults --------------------------------------------------------------------------------------

    def fault(self, rng: random.Random) -> str:
        event = rng.random()
        up = [s for s, n in self.nodes.items() if n.up]
        down = [s for s, n in self.nodes.items() if not n.up]
        if event < 0.15 and up:
            sid = rng.choice(up)
            self.crash(sid)
            return f"crash {sid}"
        if event < 0.35 and down:
            sid = rng.choice(down)
            self.restart(sid)
            return f"restart {sid}"
        if event < 0.5:
            ids = sorted(self.nodes)
            rng.shuffle(ids)
            cut = rng.randint(1, len(ids) - 1)
            self.net.partition(set(ids[:cut]), set(ids[cut:]))
            return f"partition {ids[:cut]} {ids[cut:]}"
        if event < 0.65:
            self.net.heal()
            return "heal"
        if event < 0.75 and up:
            sid = rng.choice(up)
            self.nodes[sid].paused_until = self.now_ms + rng.randint(100, 1500)
            return f"pause {sid}"
        if event < 0.85 and len(self.clients) > 1:
            a, b = rng.sample(self.clients, 2)
            if a.adopt(b, self.now_ms, ping_pong=self.ping_pong):
                return f"{a.name} takes over {b.name}'s session"
            return "no takeover"
        cl = rng.choice(self.clients)
        cl.drop(self.now_ms)
        return f"{cl.name} reconnects"

    # ---- the end -------------------------------------------------------------------------------------

    def settle(self, within_ms: int = SETTLE_MS) -> None:
        """Heal everything; every member must serve the same tree and every client must get a write
        through; then the history must be linearizable."""
        self.net.heal()
        self.crash_p = self.fail_p = 0.0
        for sid, node in self.nodes.items():
            if not node.up:
                self.restart(sid)
            node.paused_until = 0
        done_before = [cl.ops_done for cl in self.clients]
        deadline = self.now_ms + within_ms
        while self.now_ms < deadline:
            self.step_until(self.now_ms + 250)
            progressed = all(cl.ops_done > before for cl, before in zip(self.clients, done_before, strict=True)
                             if cl.plan is None)
            if progressed and self._converged():
                self._check_history()
                return
        states = {sid: (n.machine.mode, n.machine.port, n.machine.peer.last_zxid, n.machine.peer.config.version,
                        sorted(n.machine.peer.config.voters)) if n.machine else "down"
                  for sid, n in self.nodes.items()}
        clients = {cl.name: (cl.ops_done - b, cl.conn.member if cl.conn else None)
                   for cl, b in zip(self.clients, done_before, strict=True)}
        raise Violation(f"seed {self.seed}: no convergence within {within_ms} ms after healing: members {states}, "
                        f"clients (ops since healing, member) {clients}")

    def trees(self) -> dict[int, dict[str, tuple]]:
        out = {}
        for sid, node in self.nodes.items():
            m = node.machine
            tree = m.core.tree if m.core is not None else m.tree
            out[sid] = {p: (n.data, n.version, n.czxid, n.mzxid, n.owner) for p, n in tree.nodes.items()
                        if not p.startswith("/zookeeper")}
        return out

    def _converged(self) -> bool:
        if not all(n.machine is not None and n.machine.serving for n in self.nodes.values()):
            return False
        zxids = {(n.machine.peer.last_zxid, n.machine.core.tree.last_zxid) for n in self.nodes.values()}
        if len(zxids) != 1:
            return False
        if len({n.machine.peer.config.version for n in self.nodes.values()}) != 1:
            return False  # a member that has not heard of the last reconfig yet (it will, from NEWLEADER)
        trees = self.trees()
        first = next(iter(trees.values()))
        if any(t != first for t in trees.values()):
            diff = {sid: sorted(set(t.items()) ^ set(first.items()))[:3] for sid, t in trees.items()}
            raise Violation(f"seed {self.seed}: members at the same zxid hold different trees: {diff}")
        leader = next((n.machine for n in self.nodes.values() if n.machine.mode == "LEADING"), None)
        if leader is None:
            return False  # every member serves read-only, at one zxid, while they elect (seed 300079, --reconfig)
        live = leader.core.sessions.sessions
        orphans = sorted(p for p, v in first.items() if v[4] and v[4] not in live)
        if orphans:
            raise Violation(f"seed {self.seed}: ephemeral nodes of sessions that are gone: {orphans[:5]}")
        return True

    def history(self) -> list[tuple[str, linear.Op]]:
        hist = [h for cl in self.clients for h in cl.bounded_history()]
        if self.ping_pong:  # two clients use one session at once: no order between them to check
            hist = [(p, linear.Op(o.id, o.client, o.kind, o.args, o.invoked, o.responded, o.result))
                    for p, o in hist]
        tree = next(iter(self.trees().values()))
        t = self.now_ms + 1
        for i, path in enumerate(KEYS):  # the final state, read once everything has settled
            n = tree.get(path)
            result = ("ok", n[0] or b"", n[1]) if n is not None else "nonode"
            hist.append((path, linear.Op(-1 - i, "final", "get", (), t, t + 1, result)))
        return hist

    def _check_history(self) -> None:
        for path, verdict in linear.check_by_key(self.history()).items():
            if not verdict.ok:
                raise Violation(f"seed {self.seed}: history of {path} is not linearizable: {verdict.detail}")


def run_seed(seed: int, duration_ms: int = 3_000, crash_p: float | None = None,
             ping_pong: bool = False, reconfig: bool = False) -> MemberRun:
    rng = random.Random(seed ^ 0x3E3B)
    servers = rng.choice([3, 3, 5])
    faults = Faults(drop=rng.choice([0.0, 0.01, 0.03]), max_delay_ms=rng.choice([2, 5, 20]),
                    stream_break=rng.choice([0.0, 0.0005, 0.002]))
    r = MemberRun(seed, servers, clients=rng.choice([2, 3, 3]), faults=faults,
                  crash_p=rng.choice([0.0, 0.005, 0.02, 0.05]) if crash_p is None else crash_p,
                  read_only=rng.random() < 0.3, observers=rng.choice([0, 0, 0, 1]),
                  window=rng.choice([5, 30, 500]), reconfig=reconfig,
                  spares=rng.choice([0, 1, 2]) if reconfig else 0)
    r.ping_pong = ping_pong
    r.drop_ended = rng.random() < 0.5
    r.fail_p = rng.choice([0.0, 0.0, 0.002, 0.01])
    start = r.now_ms
    t = start
    for _ in range(1000):
        t += rng.randint(200, 1500)
        if t >= start + duration_ms:
            break
        r.step_until(t)
        r.fault(rng)
    r.step_until(start + duration_ms)
    r.settle()
    return r


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m zoopark.sim.member")
    ap.add_argument("--seed", type=int, help="replay one seed")
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--ping-pong", action="store_true",
                    help="session takeovers where both clients go on using the session")
    ap.add_argument("--reconfig", action="store_true",
                    help="reconfigEnabled, an operator sending reconfigs throughout, and spare members")
    args = ap.parse_args(argv)
    seeds = [args.seed] if args.seed is not None else list(range(args.first, args.first + args.seeds))
    ops = failed = activated = 0
    reconfigs: Counter[int] = Counter()
    for s in seeds:
        try:
            r = run_seed(s, ping_pong=args.ping_pong, reconfig=args.reconfig)
        except BaseException:
            print(f"seed {s} failed")
            raise
        ops += sum(cl.ops_done for cl in r.clients)
        failed += sum(cl.ops_failed for cl in r.clients)
        for cl in r.clients:
            reconfigs.update(cl.reconfigs)
        activated += len(r.configs) - 1
    print(f"{len(seeds)} seeds passed: {ops} client operations answered, {failed} indeterminate")
    if args.reconfig:
        print(f"reconfig replies by error code: {dict(sorted(reconfigs.items()))}; configurations activated: "
              f"{activated}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
