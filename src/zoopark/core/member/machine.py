"""An ensemble member as one pure state machine: election, then leading / following / observing (or
serving read-only clients while no quorum is found), with the real `ServerCore` serving clients in a role
that is synced.

The zab role loop is `ZabPeer`'s; this machine adds what the runtime used to decide on its own:
- generations: every role (LOOKING included) is an incarnation with a number; every action carries it and
  the executor refuses actions of an ended one (see actions.py);
- the state between roles is the disk's: every election starts with a `Reload`, and the round waits for it;
- the client port as state (closed / opening / open / closing): a connection is taken only by an open port
  of the current role; one that arrives while the port opens or closes is refused;
- the server core of a serving role: a leader's core orders writes (its `Propose` goes to the zab leader,
  commits come back as `LogSynced`), a follower's forwards them (`Forward` → REQUEST) and applies commits;
  session revalidation, touches from learners' PINGs, and syncs.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace

from ..jute.constants import OpCode
from ..jute.election import PeerState
from ..jute.quorum import PacketType, QuorumPacket
from ..jute.txns import decode_txn_entry
from ..server import actions as sa
from ..server.core import ServerCore, replay_txn
from ..server.reconfig import Ensemble
from ..server.settings import CoreSettings
from ..tree import snapshot as snap
from ..zab import actions as za
from ..zab.election import SendTo
from ..zab.leader import Leader
from ..zab.learner import Learner
from ..zab.peer import ZabPeer
from ..zab.verifier import QuorumVerifier, java_host
from .actions import (
    AppendLog,
    ClientClose,
    ClientConnect,
    ClientFrame,
    ClientGone,
    ClientSend,
    ClosePort,
    Done,
    DropPeer,
    Loaded,
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
    RoleFailed,
    SendPeer,
    SendVote,
    Tick,
    Truncate,
    VoteIn,
    WriteConfig,
    WriteEpoch,
    WriteSnapshot,
)

_SESSION = struct.Struct(">qi")
_REQUEST = struct.Struct(">qii")  # a forwarded request's header: session, cxid, op
_VALID = struct.Struct(">q?")  # a REVALIDATE answer: session, valid
_WAITING = 1 << 62  # round_at_ms while the reload that must precede the round is under way


@dataclass(frozen=True, slots=True)
class MemberSettings:
    tick_ms: int = 2000
    init_limit: int = 10
    sync_limit: int = 5
    window_limit: int = 500
    read_only: bool = False  # readonlymode.enabled
    reconfig_enabled: bool = False  # reconfigEnabled: the configuration follows committed reconfigs
    standalone_enabled: bool = True  # standaloneEnabled: a reconfig must leave at least 2 voters
    client_address: tuple[str, int] | None = None  # where the member listens for clients at start
    core: CoreSettings = field(default_factory=CoreSettings)


class MemberMachine:
    def __init__(self, my_id: int, voters: frozenset[int], loaded: Loaded, settings: MemberSettings,
                 observer: bool = False, config: bytes = b"", verifier: QuorumVerifier | None = None,
                 last_seen: QuorumVerifier | None = None) -> None:
        """`verifier` / `last_seen`: the active configuration and the last one proposed, as the member's files
        hold them (default: `voters`, and us as an observer if `observer`)."""
        self.my_id = my_id
        self.voters = voters
        self.observer = observer
        self.settings = settings
        self.core_settings = replace(settings.core, server_id=my_id, tick_ms=settings.tick_ms,
                                     reconfig_enabled=settings.reconfig_enabled)
        self.quota_exceeded: dict[str, int] = {}  # every role's core counts its quota refusals here
        self.tree, self.sessions = loaded.tree, loaded.sessions
        disk = za.Persistent(loaded.accepted_epoch, loaded.current_epoch, loaded.last_zxid, list(loaded.window))
        self.peer = ZabPeer(my_id, voters, disk, self._snapshot, settings.tick_ms, settings.init_limit,
                            settings.sync_limit, settings.window_limit, observer=observer, reload_ms=1, config=config,
                            verifier=verifier, last_seen=last_seen, reconfig_enabled=settings.reconfig_enabled)
        self.gen = 0
        self.mode = "LOOKING"  # LOOKING | LEADING | FOLLOWING | OBSERVING | READ-ONLY
        self.core: ServerCore | None = None
        self.port = "closed"  # closed | opening | open | closing
        self.client_address = settings.client_address  # moved by a reconfig that gives us another one
        self.truncating_to: int | None = None  # the zxid a TRUNC asked the disk to cut back to
        self.want_port = False
        self.conns: set[int] = set()
        self.reloading = False
        self.looking_since_ms = 0
        self.pending_syncs: list[tuple[int, int]] = []  # (zxid, learner): SYNC once zxid has committed
        self.now_ms = 0
        self.roles = 0  # roles begun, for tests and the simulator's reports

    # ---- the one entry point ---------------------------------------------------------------------

    def start(self, now_ms: int) -> list:
        """Begin with an election over what recovery loaded (no reload needed: it just happened)."""
        self.now_ms = now_ms
        out = [a for a in self._zab(self.peer.start(now_ms)) if type(a) is not Reload]
        self.reloading = False
        self.peer.round_at_ms = now_ms
        return out + self._zab(self.peer.tick(now_ms))

    def step(self, event: object, now_ms: int) -> list:
        self.now_ms = max(self.now_ms, now_ms)
        now_ms = self.now_ms
        # The commonest first: quorum packets, disk completions, client frames.
        if isinstance(event, PacketIn):
            return self._on_packet(event.sid, event.packet)
        if isinstance(event, Done):
            return self._on_done(event)
        if isinstance(event, ClientFrame):
            if event.conn in self.conns and self.core is not None:
                return self._core(sa.Frame(event.conn, event.data))
            return []
        if isinstance(event, VoteIn):
            return self._zab(self.peer.on_election(event.sid, event.notification, now_ms))
        if isinstance(event, PeerLost):
            return self._zab(self.peer.on_disconnected(event.sid, now_ms))
        if isinstance(event, ClientConnect):
            return self._on_connect(event)
        if isinstance(event, ClientGone):
            if event.conn in self.conns:
                self.conns.discard(event.conn)
                if self.core is not None:
                    return self._core(sa.Disconnected(event.conn))
            return []
        if isinstance(event, Tick):
            return self._on_tick()
        if isinstance(event, (LogFailed, RoleFailed)):
            # The role cannot go on without what it logged (or what the executor could not do for it): it
            # ends, and the next election starts from what the disk holds (the writer continues in a fresh
            # file for the next generation).
            if event.gen != self.gen:
                return []
            what = "log write failed: " if isinstance(event, LogFailed) else ""
            return self._zab(self.peer.leave(f"{what}{event.reason}", now_ms))
        if isinstance(event, PortOpened):
            return self._on_port_opened(event.gen)
        if isinstance(event, PortClosed):
            return self._on_port_closed()
        if isinstance(event, Reloaded):
            return self._on_reloaded(event)
        raise AssertionError(f"unknown input {event!r}")

    # ---- roles -----------------------------------------------------------------------------------

    def _new_role(self, mode: str) -> list:
        """End the current role: its clients are dropped, its port closes, its core goes; a new generation
        begins (actions of the old one are refused from now on)."""
        out: list = []
        self.gen += 1
        self.roles += 1
        for conn in sorted(self.conns):
            out.append(ClientClose(self.gen, conn, f"the member left {self.mode}"))
        self.conns.clear()
        self.core = None
        self.pending_syncs = []
        self.mode = mode
        out += self._want_port(False)
        return out

    def _begin_looking(self, reason: str) -> list:
        out = self._new_role("LOOKING")
        out.append(Note("info", f"LOOKING: {reason}"))
        # The state is the disk's again (ZooKeeper reloads its database): what a role logged but never saw
        # committed is part of it, what a role's core prepared but never logged is not. The round waits.
        self.reloading = True
        self.peer.round_at_ms = _WAITING
        self.looking_since_ms = self.now_ms
        out.append(Reload(self.gen))
        return out

    def _serve(self, epoch: int | None) -> list:
        """The role is synced: a core serves clients from now on; the port opens."""
        core = ServerCore(self.core_settings, self.tree, self.sessions, self.quota_exceeded)
        core.start(self.now_ms)
        if self.mode == "LEADING":
            assert epoch is not None
            core.begin_epoch(epoch)
            role = self.peer.role
            if isinstance(role, Leader):
                peer = self.peer
                core.lead_ensemble(Ensemble(lambda: peer.last_seen, lambda: peer.config, role.quorum_synced,
                                            self.settings.standalone_enabled))
        elif self.mode == "READ-ONLY":
            core.become_read_only()
        else:
            core.become_follower()
        self.core = core
        return self._want_port(True)

    def _on_reloaded(self, r: Reloaded) -> list:
        if r.gen != self.gen:
            return []
        ld = r.loaded
        self.tree, self.sessions = ld.tree, ld.sessions
        peer = self.peer
        if self.mode == "LOOKING" and self.reloading:
            self.reloading = False
            # The disk is the truth: it holds at most what the role loop asked for (an executor may drop
            # an ended role's writes that were still queued, as the runtime's fenced writer does).
            assert ld.last_zxid <= peer.last_zxid, \
                f"reloaded last zxid 0x{ld.last_zxid:x}, beyond what was ever logged (0x{peer.last_zxid:x})"
            peer.last_zxid = ld.last_zxid
            peer.window = list(ld.window)
            peer.window_complete = False
            peer.last_delivered = ld.last_zxid
            peer.accepted_epoch = max(peer.accepted_epoch, ld.accepted_epoch)
            peer.current_epoch = max(peer.current_epoch, ld.current_epoch)
            peer.round_at_ms = self.now_ms
            return self._zab(peer.tick(self.now_ms))
        target, self.truncating_to = self.truncating_to, None
        if target is not None and ld.last_zxid != target:
            # The disk could not be cut back to where the leader's history goes on (its state came from a
            # snapshot of txns the leader never committed: a SNAP from a leader that never established). Going
            # on would keep them (ZooKeeper 3.8 does: the trees diverge); the executor dropped that snapshot, so
            # this role ends and the next sync starts from the state the disk holds (seed 301973, --reconfig).
            return self._zab(peer.leave(f"TRUNC to 0x{target:x} left the state at 0x{ld.last_zxid:x}: syncing "
                                        f"again", self.now_ms))
        return []

    # ---- zab -------------------------------------------------------------------------------------

    def _zab(self, actions: list) -> list:
        """Turn the role loop's actions into the member's, role changes into generations."""
        out: list = []
        for a in actions:
            t = type(a)
            if t is SendTo:
                out.append(SendVote(a.sid, a.notification))
            elif t is za.ToPeer:
                out.append(SendPeer(self.gen, a.sid, a.packet))
            elif t is za.PingReply:
                out.append(SendPeer(self.gen, a.leader, QuorumPacket(PacketType.PING, a.zxid, self._touches())))
            elif t is za.Append:
                if self.core is not None and self.mode != "LEADING" and a.entries:
                    self.core.proposal_seen(a.entries[-1][0])  # what it forwards from now on comes later
                out.append(AppendLog(self.gen, tuple(a.entries), a.then))
            elif t is za.PersistEpoch:
                out.append(WriteEpoch(self.gen, a.name, a.epoch, a.then))
            elif t is za.InstallSnapshot:
                got = snap.deserialize_body(a.raw, self.core_settings.extended_types)
                got.tree.last_zxid = a.zxid
                self.tree, self.sessions = got.tree, got.sessions
                out.append(WriteSnapshot(self.gen, a.raw, a.zxid, a.then))
            elif t is za.Truncate:
                self.truncating_to = a.zxid
                out.append(Truncate(self.gen, a.zxid))
            elif t is za.UpdatingEpoch:
                out.append(MarkUpdatingEpoch(self.gen, a.active))
            elif t is za.ClosePeer:
                out.append(DropPeer(self.gen, a.sid, a.reason))
            elif t is za.Deliver:
                out += self._deliver(a)
            elif t is za.RoleChanged:
                out += self._role_changed(a)
            elif t is za.SeenConfig:
                out.append(WriteConfig(a.config, False))
            elif t is za.Activated:
                out += self._activated(a)
            else:
                raise AssertionError(f"unknown zab action {a!r}")
        return out

    def _activated(self, a: za.Activated) -> list:
        """A configuration is active: kept on disk, and /zookeeper/config says it (ZooKeeper's
        initConfigInZKDatabase; a committed reconfig's own txn then sets it again, with its Stat)."""
        config = a.config
        self.voters = config.voters
        self.observer = self.my_id in config.observers
        self.core_settings = replace(self.core_settings, quorum_config=config.data(), quorum_config_version=config.version)
        core = self.core
        what = f"designated leader {a.designated}" if a.designated is not None else "no designated leader"
        out: list = [WriteConfig(config, True), Note("info", f"configuration version {config.version:x} active "
                                                             f"({what}): voters {sorted(config.voters)}, "
                                                             f"observers {sorted(config.observers)}")]
        out += self._move_client_port(config)
        if core is not None:
            core.settings = replace(core.settings, quorum_config=config.data(), quorum_config_version=config.version)
            return out + self._core_actions(core.config_changed(config.data(), config.version))
        self.tree.init_config_node(config.data(), config.version, self.now_ms)
        return out

    def _move_client_port(self, config: QuorumVerifier) -> list:
        """processReconfig: our line in the active configuration gives a client address other than the one we
        listen on (a bare port is every address): listen there (cnxnFactory.reconfigure)."""
        me = config.member(self.my_id)
        if me is None or me.client_port is None:
            return []
        new = (me.client_address or "0.0.0.0", me.client_port)
        old = self.client_address
        if old is not None and (java_host(old[0]), old[1]) == (java_host(new[0]), new[1]):
            return []
        self.client_address = new
        return [MoveClientPort(*new), Note("info", f"client port moved to {java_host(new[0])}:{new[1]} by "
                                                   f"configuration version {config.version:x}")]

    def _role_changed(self, a: za.RoleChanged) -> list:
        if a.role == "LOOKING":
            return self._begin_looking(a.reason or "role ended")
        if not a.serving:  # a role begins (or a learner dials its leader again): a new incarnation
            return self._new_role(a.role)
        out: list = [Note("info", f"{a.role} epoch {a.epoch}: synced and serving (zxid 0x{self.tree.last_zxid:x})")]
        return out + self._serve(a.epoch)

    def _deliver(self, d: za.Deliver) -> list:
        if self.mode == "LOOKING":
            return []  # the reload brings the whole log back
        core = self.core
        if core is None:  # a leader's own history as its epoch begins; a learner's before it serves
            hdr, record = decode_txn_entry(d.txn)
            replay_txn(self.tree, self.sessions, hdr, record)
            return []
        if self.mode == "LEADING":
            out = self._core(sa.LogSynced(d.zxid))
            return out + self._release_syncs()
        hdr, record = decode_txn_entry(d.txn)
        return self._core(sa.Committed(hdr, record))

    def _on_done(self, d: Done) -> list:
        item = d.item
        if d.gen != self.gen:
            if isinstance(item, za.EpochPersisted):  # on disk all the same: never accept an older epoch
                self._epoch_floor(item)
            return []
        if isinstance(item, (za.Synced, za.EpochPersisted, za.SnapshotInstalled)):
            return self._zab(self.peer.on_event(item, self.now_ms))
        return self._zab([item])  # packets and markers that had to wait for the write

    def _epoch_floor(self, e: za.EpochPersisted) -> None:
        if e.name == "acceptedEpoch":
            self.peer.accepted_epoch = max(self.peer.accepted_epoch, e.epoch)
        else:
            self.peer.current_epoch = max(self.peer.current_epoch, e.epoch)

    def _on_packet(self, sid: int, p: QuorumPacket | tuple[str, bytes]) -> list:
        role = self.peer.role
        if isinstance(p, QuorumPacket):
            if isinstance(role, Leader):
                out = self._leader_packet(sid, p)
                if out is not None:
                    return out
            elif isinstance(role, Learner) and sid == role.leader:
                if p.type == PacketType.SYNC:
                    return self._core(sa.SyncDone()) if self.core is not None else []
                if p.type == PacketType.REVALIDATE:
                    data = p.data or b""
                    if self.core is None or len(data) < 9:
                        return []
                    session, valid = _VALID.unpack_from(data, 0)
                    return self._core(sa.Revalidated(session, valid))
        return self._zab(self.peer.on_packet(sid, p, self.now_ms))

    def _leader_packet(self, sid: int, p: QuorumPacket) -> list | None:
        """A learner's REQUEST, REVALIDATE or PING for our core; None: the zab leader's business alone."""
        role = self.peer.role
        assert isinstance(role, Leader)
        if sid not in role.learners:
            return None  # not a learner of this role (a stale connection): zab decides
        t = p.type
        if t == PacketType.REQUEST:
            data = p.data or b""
            if self.core is None or len(data) < 16:
                return []
            session, cxid, op = _REQUEST.unpack_from(data, 0)
            role.learners[sid].last_heard_ms = self.now_ms
            if op == OpCode.SYNC:  # answered once everything proposed before it has committed
                self.pending_syncs.append((role.last_zxid, sid))
                return self._release_syncs()
            return self._core(sa.Remote(session, cxid, op, data[16:], tuple(p.authinfo or ()), sid))
        if t == PacketType.REVALIDATE:
            data = p.data or b""
            if len(data) < 12:
                return []
            session, _timeout = _SESSION.unpack_from(data, 0)
            # The learner owns the session from now on: writes still coming through another member get
            # SESSIONMOVED.
            valid = self.core is not None and self.core.revalidate(session, sid)
            role.learners[sid].last_heard_ms = self.now_ms
            return [SendPeer(self.gen, sid, QuorumPacket(PacketType.REVALIDATE, p.zxid,
                                                         _VALID.pack(session, valid)))]
        if t == PacketType.PING and self.core is not None and p.data:
            touches = tuple(_SESSION.unpack_from(p.data, i) for i in range(0, len(p.data) - 11, 12))
            out = self._core(sa.Touch(touches))
            return out + self._zab(self.peer.on_packet(sid, p, self.now_ms))
        return None

    def _release_syncs(self) -> list:
        role = self.peer.role
        if not isinstance(role, Leader):
            return []
        out, keep = [], []
        for zxid, sid in self.pending_syncs:
            if zxid <= role.last_committed:
                out.append(SendPeer(self.gen, sid, QuorumPacket(PacketType.SYNC, 0)))
            else:
                keep.append((zxid, sid))
        self.pending_syncs = keep
        return out

    def _snapshot(self) -> tuple[int, bytes]:
        """What a leader sends after SNAP: the state it has applied."""
        core = self.core
        if core is not None:
            sessions = {sid: s.timeout_ms for sid, s in core.sessions.sessions.items()}
            return core.tree.last_zxid, snap.serialize_body(core.tree, sessions)
        return self.tree.last_zxid, snap.serialize_body(self.tree, self.sessions)

    def _touches(self) -> bytes:
        core = self.core
        if core is None:
            return b""
        return b"".join(_SESSION.pack(sid, timeout) for sid, timeout in core.take_touches())

    # ---- the client port and the core ------------------------------------------------------------

    def _want_port(self, open_: bool) -> list:
        self.want_port = open_
        if open_ and self.port == "closed":
            self.port = "opening"
            return [OpenPort(self.gen)]
        if not open_ and self.port in ("opening", "open"):
            self.port = "closing"
            return [ClosePort(self.gen)]
        return []

    def _on_port_opened(self, gen: int) -> list:
        if self.port != "opening":
            return []
        if gen != self.gen or not self.want_port:  # the role that asked has ended: close it again
            self.port = "closing"
            return [ClosePort(self.gen)]
        self.port = "open"
        return []

    def _on_port_closed(self) -> list:
        if self.port != "closing":
            return []
        self.port = "closed"
        return self._want_port(True) if self.want_port else []

    def _on_connect(self, c: ClientConnect) -> list:
        if self.port != "open" or self.core is None:
            return [ClientClose(self.gen, c.conn, f"not serving clients ({self.mode}, port {self.port})")]
        self.conns.add(c.conn)
        return self._core(sa.Connected(c.conn, c.remote_ip, c.remote_port, c.nonce, c.x509_subject))

    def _core(self, event: object) -> list:
        core = self.core
        assert core is not None
        return self._core_actions(core.step(event, self.now_ms))

    def _core_actions(self, actions: list) -> list:
        out: list = []
        gen = self.gen
        for a in actions:
            t = type(a)
            if t is sa.Send:
                out.append(ClientSend(gen, a.conn, a.data))
            elif t is sa.Close:
                out.append(ClientClose(gen, a.conn, a.reason))
            elif t is sa.Propose:
                out += self._propose(a)
            elif t is sa.Forward:
                out += self._forward(QuorumPacket(PacketType.REQUEST, 0, _REQUEST.pack(a.session, a.cxid, a.op)
                                                  + a.body, tuple(a.auth) or None))
            elif t is sa.Revalidate:
                out += self._forward(QuorumPacket(PacketType.REVALIDATE, -1, _SESSION.pack(a.session, a.timeout_ms)))
            elif t is sa.Log:
                out.append(Note(a.level, a.message))
            else:
                raise AssertionError(f"core action {a!r} in an ensemble")
        return out

    def _forward(self, packet: QuorumPacket) -> list:
        role = self.peer.role
        if not isinstance(role, Learner):
            return []
        return [SendPeer(self.gen, role.leader, packet)]

    def _propose(self, p: sa.Propose) -> list:
        zxid, actions = self.peer.propose(lambda z: p.entry, self.now_ms)
        assert zxid == p.zxid, f"the core numbered a txn 0x{p.zxid:x}, the leader 0x{zxid or 0:x}"
        return self._zab(actions)

    # ---- time --------------------------------------------------------------------------------------

    def _on_tick(self) -> list:
        out = self._zab(self.peer.tick(self.now_ms))
        if self.core is not None:
            out += self._core(sa.Tick())
        if self.settings.read_only and self.mode == "LOOKING" and not self.reloading \
                and self.now_ms - self.looking_since_ms >= max(2000, self.settings.tick_ms):
            # readonlymode.enabled: no leader for a while; serve read-only clients from what the disk holds
            # until a role begins (which ends this one like any other).
            out += self._new_role("READ-ONLY")
            out += self._serve(None)
        return out

    # ---- for checkers ------------------------------------------------------------------------------

    @property
    def serving(self) -> bool:
        return self.core is not None and self.port == "open"

    def state_name(self) -> str:
        return self.mode if self.peer.state != PeerState.LOOKING or self.mode == "READ-ONLY" else "LOOKING"
