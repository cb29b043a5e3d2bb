"""ServerCore: one standalone ZooKeeper server as a state machine.

`step(input, now_ms) -> list[Action]` is the only entry point. Per session, replies leave in request order:
a read waits behind the session's own writes that are still on their way to disk; a write is answered only
after its txn is synced (it rides in AppendLog.then) and applied to the tree. The ensemble (ZAB) reuses the
tree, prep and reply code and changes only who orders and commits the txns.
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass
from typing import Any, Final

from ..jute.constants import (
    OP_CLOSE_SESSION,
    OP_ERROR,
    OP_MULTI,
    OP_RECONFIG,
    XID_AUTH,
    XID_PING,
    Err,
    EventType,
    KeeperState,
    OpCode,
)
from ..jute.io import JuteError, Reader
from ..jute.records import (
    AuthPacket,
    ConnectRequest,
    ConnectResponse,
    CreateSessionTxn,
    DeleteTxn,
    ErrorTxn,
    GetSASLRequest,
    Id,
    SetSASLResponse,
    TxnHeader,
    WatcherEvent,
)
from ..jute.txns import decode_txn, encode_txn
from ..session import LOCAL_OWNER, Session, SessionTable, generate_password, initial_session_id
from ..tree import acl as aclmod
from ..tree.datatree import CONFIG, DataTree, TxnResult, WatchEvent
from . import reads, reaper
from .actions import (
    CLIENT_CLOSED,
    Action,
    AppendLog,
    Close,
    Committed,
    Connected,
    Disconnected,
    Forward,
    Frame,
    Log,
    LogFailed,
    LogSynced,
    Propose,
    Remote,
    Revalidate,
    Revalidated,
    Send,
    SyncDone,
    Tick,
    Touch,
)
from .prep import Prep, PrepError, Request
from .ratelog import RateLogger
from .reconfig import Ensemble
from .replies import write_reply
from .requests import HEADER, decode_body, encode, reply
from .sasl import DigestMD5Server, SaslError, SaslMechanism, authorized_id
from .settings import CoreSettings
from .stats import OP_NAMES, ConnStats, CoreStats, latency_bucket

_WRITE_OPS: Final = frozenset({
    OpCode.CREATE, OpCode.CREATE2, OpCode.CREATE_CONTAINER, OpCode.CREATE_TTL, OpCode.DELETE,
    OpCode.SET_DATA, OpCode.SET_ACL, OpCode.CHECK, OpCode.MULTI, OpCode.RECONFIG, OpCode.CLOSE_SESSION,
})
_LOCAL_OPS: Final = frozenset({OpCode.PING, OpCode.AUTH, OpCode.SET_WATCHES, OpCode.SET_WATCHES2, OpCode.SASL})
_NOTIFY: Final = struct.Struct(">iiqi")
_EARLY_FRAMES_MAX: Final = 1000
_SASL_EMPTY: Final = b"\xff\xff\xff\xff"


@dataclass(slots=True, eq=False)
class Conn:
    id: int
    remote_ip: str
    auth: list[Id]
    stats: ConnStats
    session: int | None = None
    handshake_done: bool = False
    closing: bool = False
    old_client: bool = False  # sent no readOnly byte: gets none back
    sasl_warned: bool = False  # logged that SASL is not configured
    nonce: bytes = b""  # for this connection's DIGEST-MD5 challenge
    sasl: SaslMechanism | None = None  # the connection's SASL exchange, once begun (one per connection)
    early: list[bytes] | None = None  # frames sent before the new session was logged (Java clients do)
    x509_subject: str | None = None  # a verified TLS client certificate's subject


@dataclass(slots=True, eq=False)
class Pending:
    """A request of a session still owed a reply."""

    xid: int
    op: int
    record: Any  # a request record (Any, not object: mypyc 2.4 cannot name object in a dataclass field)
    conn: int
    write: bool
    arrived_ms: int = 0
    done: bool = False
    reply: bytes = b""
    close_after: bool = False
    moved: bool = False  # answered by closing the connection: the session has moved to another member
    after_zxid: int = 0  # a follower's forwarded write: no txn proposed up to here can be its answer

    # Written out (as Proposal's): compiled, a dataclass-made __init__ would stay interpreted (core/values.py).
    def __init__(self, xid: int, op: int, record: Any, conn: int, write: bool, arrived_ms: int = 0,
                 done: bool = False, reply: bytes = b"", close_after: bool = False, moved: bool = False,
                 after_zxid: int = 0) -> None:
        self.xid = xid
        self.op = op
        self.record = record
        self.conn = conn
        self.write = write
        self.arrived_ms = arrived_ms
        self.done = done
        self.reply = reply
        self.close_after = close_after
        self.moved = moved
        self.after_zxid = after_zxid


@dataclass(slots=True, eq=False)
class Proposal:
    zxid: int
    hdr: TxnHeader
    txn: Any  # a txn record
    pending: Pending | None = None  # the client request it answers
    connect: tuple[int, int] | None = None  # (conn, negotiated timeout) for a createSession

    def __init__(self, zxid: int, hdr: TxnHeader, txn: Any, pending: Pending | None = None,
                 connect: tuple[int, int] | None = None) -> None:
        self.zxid = zxid
        self.hdr = hdr
        self.txn = txn
        self.pending = pending
        self.connect = connect


def replay_txn(tree: DataTree, sessions: dict[int, int], hdr: TxnHeader, txn: object | None) -> None:
    """Apply a logged txn at start-up, sessions included (FileTxnSnapLog.processTransaction)."""
    if hdr.type == OpCode.CREATE_SESSION:
        assert isinstance(txn, CreateSessionTxn)
        sessions[hdr.client_id] = txn.time_out
    elif hdr.type == OpCode.CLOSE_SESSION:
        sessions.pop(hdr.client_id, None)
    tree.apply(hdr, txn)


class ServerCore:
    def __init__(self, settings: CoreSettings, tree: DataTree | None = None,
                 sessions: dict[int, int] | None = None, quota_exceeded: dict[str, int] | None = None) -> None:
        """`tree` and `sessions` (id -> timeout ms) are what recovery loaded; a fresh core has neither.
        `quota_exceeded` (namespace -> writes refused) outlives the core where the process does: an ensemble
        member passes the same one to each role's core, as ZooKeeper's ServerMetrics outlive its roles."""
        self.settings = settings
        self.tree = tree or DataTree(extended_types=settings.extended_types)
        self.sessions = SessionTable(settings.tick_ms)
        for sid, timeout in (sessions or {}).items():
            self.sessions.add(sid, timeout, 0)
        self.quota_exceeded = quota_exceeded if quota_exceeded is not None else {}  # ..._error_per_namespace
        self.quota_log = RateLogger()
        self.ensemble: Ensemble | None = None  # a leader's view of its ensemble, for reconfig requests
        self.prep = self._new_prep()
        self.sasl_users = dict(settings.sasl_users) if settings.sasl_users is not None else None
        # A JAAS Server section: with a Kerberos login GSSAPI, else DIGEST-MD5 (ZooKeeper's createSaslServer).
        self.sasl_enabled = settings.sasl_users is not None or settings.sasl_gssapi is not None
        self.conns: dict[int, Conn] = {}
        self.queues: dict[int, deque[Pending]] = {}  # session -> requests owed a reply, in order
        self.proposals: deque[Proposal] = deque()
        self.next_zxid = self.tree.last_zxid + 1
        self.next_session_id = 0
        self.now_ms = 0
        self.started = False
        self.last_container_check_ms = 0
        self.stats = CoreStats()
        self.replicated = False  # an ensemble's leader: txns go out as Propose, commits come back as LogSynced
        self.follower = False  # an ensemble's follower: writes go to the leader, commits come as Committed
        self.read_only = False  # a member without a quorum serving read-only clients (readonlymode.enabled)
        self.forward_connects: dict[int, tuple[int, int]] = {}  # new session -> (conn, timeout)
        self.revalidations: dict[int, tuple[int, int]] = {}  # reconnecting session -> (conn, timeout)
        self.pending_syncs: deque[tuple[int, Pending]] = deque()
        self.remote_last: dict[int, int] = {}  # a leader: session -> its newest write proposed for a learner
        self.waiting: set[int] = set()  # a leader: sessions whose next reply waits for a commit
        self.touched: dict[int, int] = {}  # a learner's sessions heard from since its last PING reply
        self.proposed_zxid = 0  # a learner's newest proposal seen (set by the member, see proposal_seen)

    # ---- recovery ----------------------------------------------------------------------------

    def start(self, now_ms: int) -> None:
        """Begin serving: session ids from the clock, recovered sessions' timers restarted."""
        self.now_ms = now_ms
        self.next_session_id = initial_session_id(self.settings.server_id, now_ms)
        self.sessions.start(now_ms)
        for s in list(self.sessions.sessions.values()):
            self.sessions.touch(s, now_ms)
        self.last_container_check_ms = now_ms
        self.next_zxid = self.tree.last_zxid + 1
        self.started = True
        if self.settings.quorum_config is not None:
            self.tree.init_config_node(self.settings.quorum_config, self.settings.quorum_config_version, now_ms, True)

    def become_follower(self) -> None:
        """Serve clients as a follower: the leader prepares and orders every write (ours reach it as
        `Forward`), expires sessions and reaps containers; committed txns arrive as `Committed`."""
        self.follower = True
        if self.settings.quorum_config is not None:  # ZooKeeper's Learner.syncWithLeader rewrites it at every sync
            self.tree.init_config_node(self.settings.quorum_config, self.settings.quorum_config_version, self.now_ms)

    def become_read_only(self) -> None:
        """Serve read-only clients while the ensemble has no quorum (ZooKeeper's ReadOnlyZooKeeperServer):
        only clients that asked for read-only are accepted; their sessions are local to this server (no
        txn; a global session reconnecting here is told it expired, as ZooKeeper 3.8 does); reads and
        watches work; writes and sync get NOTREADONLY."""
        self.read_only = True
        self.follower = False  # nobody to forward to
        self.sessions = SessionTable(self.settings.tick_ms)
        self.sessions.start(self.now_ms)
        self.prep = self._new_prep()

    def _new_prep(self) -> Prep:
        s = self.settings
        prep = Prep(self.tree, self.sessions, s.extended_types, s.auth_schemes, s.enforce_quota, self.quota_exceeded)
        prep.reconfig_enabled = s.reconfig_enabled
        prep.ensemble = self.ensemble
        return prep

    def config_changed(self, data: bytes, version: int) -> list[Action]:
        """A configuration is active: /zookeeper/config says it, and its watches fire (ZooKeeper's
        initConfigInZKDatabase, a setData of the node: mzxid the version, node version -1)."""
        events: list[WatchEvent] = []
        self.tree.set_data(CONFIG, data, -1, version, self.now_ms, events)
        out: list[Action] = []
        self._deliver(events, out)
        return out

    def lead_ensemble(self, ensemble: Ensemble) -> None:
        """A leader's core: reconfig requests are checked against what its member knows of the ensemble."""
        self.ensemble = ensemble
        self.prep.ensemble = ensemble

    def _quota_warnings(self, out: list[Action]) -> None:
        """What the prep's quota checks said, logged as ZooKeeperServer's RATE_LOGGER logs it."""
        messages = self.prep.quota_messages
        for level, msg in messages:
            if level != "warning":
                out.append(Log(level, msg))
                continue
            for line in self.quota_log.log(msg, self.now_ms):
                out.append(Log("warning", line))
        messages.clear()

    def revalidate(self, session: int, owner: int) -> bool:
        """An ensemble's leader: learner `owner` asks whether `session`, reconnecting there, lives (REVALIDATE).
        If it does, its timer restarts and that learner owns it from now on, so writes still coming through
        another member get SESSIONMOVED (LearnerMaster.revalidateSession)."""
        s = self.sessions.get(session)
        if s is None or not self.sessions.touch(s, self.now_ms):
            return False
        s.owner = owner
        return True

    def take_touches(self) -> list[tuple[int, int]]:
        """A learner's PING reply: (session, timeout) of each session that sent something since the last one,
        then forgotten (LearnerSessionTracker's touchTable). A client that stays silent is not reported,
        so the leader expires it, however long its connection stays open."""
        touched, self.touched = self.touched, {}
        return list(touched.items())

    def proposal_seen(self, zxid: int) -> None:
        """A learner logged a proposal up to `zxid`: a write forwarded after this cannot be answered by it."""
        if zxid > self.proposed_zxid:
            self.proposed_zxid = zxid

    def begin_epoch(self, epoch: int) -> None:
        """Lead an ensemble in `epoch`: txns are proposed through ZAB, numbered from (epoch, 1)."""
        self.replicated = True
        self.next_zxid = (epoch << 32) | 1

    # ---- the one entry point -----------------------------------------------------------------

    def step(self, event: object, now_ms: int) -> list[Action]:
        assert self.started
        if now_ms > self.now_ms:
            self.now_ms = now_ms
        out: list[Action] = []
        if isinstance(event, Frame):
            self._on_frame(event.conn, event.data, out)
        elif isinstance(event, LogSynced):
            self._on_synced(event.zxid, out)
        elif isinstance(event, Tick):
            self._on_tick(out)
        elif isinstance(event, Connected):
            self.conns[event.conn] = Conn(event.conn, event.remote_ip, self._connect_ids(event),
                                          stats=ConnStats(event.remote_port, self.now_ms), nonce=event.nonce,
                                          x509_subject=event.x509_subject)
        elif isinstance(event, Disconnected):
            self._on_disconnected(event.conn)
        elif isinstance(event, LogFailed):
            self._on_log_failed(event, out)
        elif isinstance(event, Remote):
            self._on_remote(event, out)
        elif isinstance(event, Committed):
            self._on_committed(event.hdr, event.txn, out)
        elif isinstance(event, SyncDone):
            self._on_sync_done(out)
        elif isinstance(event, Revalidated):
            self._on_revalidated(event, out)
        elif isinstance(event, Touch):
            for sid, _timeout in event.sessions:
                s = self.sessions.get(sid)
                if s is not None:
                    self.sessions.touch(s, self.now_ms)
        else:
            raise AssertionError(f"unknown input {event!r}")
        return out

    # ---- connections -------------------------------------------------------------------------

    def _close(self, conn: Conn, reason: str, out: list[Action]) -> None:
        if not conn.closing:
            conn.closing = True
            out.append(Close(conn.id, reason))

    def _on_disconnected(self, conn_id: int) -> None:
        conn = self.conns.pop(conn_id, None)
        if conn is None or conn.session is None:
            return
        s = self.sessions.get(conn.session)
        if s is None or s.conn == conn_id:  # ended (closed, expired: its watches go too) or still ours
            if s is not None:
                s.conn = None
            self.tree.remove_session_watches(conn.session)

    def _on_frame(self, conn_id: int, data: bytes, out: list[Action]) -> None:
        conn = self.conns.get(conn_id)
        if conn is None or conn.closing:
            return
        conn.stats.recved += 1
        self.stats.packets_received += 1
        if not conn.handshake_done:
            if conn.session is None:
                self._on_connect(conn, data, out)
            elif conn.early is None or len(conn.early) >= _EARLY_FRAMES_MAX:
                self._close(conn, "too many requests before the session was established", out)
            else:
                conn.early.append(data)
            return
        if len(data) < 8:
            self._close(conn, f"frame of {len(data)} bytes has no request header", out)
            return
        xid, op = HEADER.unpack_from(data, 0)
        sid = conn.session
        assert sid is not None
        s = self.sessions.get(sid)
        # AUTH and SASL are answered before ZooKeeper's submitRequest, the only place a request touches its
        # session: a client that does nothing but negotiate SASL (kazoo's loop against a server without SASL)
        # lets its session expire, and the expiry's close ends its loop.
        touches = op not in _UNCHECKED_OPS
        if touches and self.settings.enforce_auth_schemes and s is not None and not self._enforce(conn, xid, out):
            return
        if s is None or s.closing or (touches and not self.sessions.touch(s, self.now_ms)):
            # ZooKeeper drops a request of a session that is closing or gone (submitRequest's
            # MissingSessionException): an answer now would overtake the replies still owed on this connection
            # (its closeSession's, its writes'), and the closeSession's commit closes the connection anyway.
            out.append(Log("debug", f"session 0x{sid:x} is closing: dropped request xid {xid}", sid))
            return
        if self.follower and touches:
            self.touched[sid] = s.timeout_ms
        if op not in _ALL_OPS:
            out.append(Log("warning", f"session 0x{sid:x}: unknown opcode {op}, closing", sid))
            out.append(Send(conn_id, reply(xid, 0, Err.UNIMPLEMENTED)))
            self._close(conn, f"unknown opcode {op}", out)
            return
        try:
            record = decode_body(op, Reader(data, 8))
        except JuteError as e:
            out.append(Log("warning", f"session 0x{sid:x}: malformed {OpCode(op).name} request: {e}", sid))
            record = _MALFORMED
        queue = self.queues.setdefault(sid, deque())
        if self.read_only and (op in _WRITE_OPS or op == OpCode.SYNC) and record is not _MALFORMED:
            self._read_only_write(sid, conn, xid, op, queue, out)
            return
        if self.replicated and op not in _WRITE_OPS and op not in _UNCHECKED_OPS \
                and not self.sessions.claim(s, LOCAL_OWNER):
            # The leader checks the owner of its own clients' reads, pings and syncs too (they pass its
            # PrepRequestProcessor): the session moved to a learner, so this connection closes, after the
            # replies it is owed.
            queue.append(Pending(xid, op, record, conn_id, True, self.now_ms, done=True, moved=True))
            self._drain(sid, out)
            return
        if self.follower and (op in _WRITE_OPS or op == OpCode.SYNC) and record is not _MALFORMED:
            p = Pending(xid, op, record, conn_id, True, self.now_ms,
                        after_zxid=max(self.proposed_zxid, self.tree.last_zxid))
            queue.append(p)
            if op == OpCode.SYNC:
                self.pending_syncs.append((sid, p))
            out.append(Forward(sid, xid, op, bytes(data[8:]), tuple(conn.auth)))
            return
        if op in _WRITE_OPS:
            p = Pending(xid, op, record, conn_id, True, self.now_ms)
            queue.append(p)
            self._submit_write(sid, conn, p, out)
            return
        wait = self._leader_barrier(sid, op)
        if queue or wait:
            queue.append(Pending(xid, op, record, conn_id, False, after_zxid=wait))
            if wait:
                self.waiting.add(sid)
            return
        self._answer(sid, conn, xid, op, record, out)

    def _leader_barrier(self, sid: int, op: int) -> int:
        """An ensemble's leader: the zxid a read or sync of its own client must see committed first, or 0.
        A sync waits for every proposal outstanding (Leader.processSync); any read waits for the session's
        own writes still in flight through a learner (it sent them first, on a connection it has lost since:
        ZooKeeper's CommitProcessor holds a session's reads behind its pending writes, whoever forwarded
        them)."""
        if not self.replicated or self.follower:
            return 0
        if op == OpCode.SYNC:
            last = self.proposals[-1].zxid if self.proposals else 0
        else:
            last = self.remote_last.get(sid, 0)
        return last if last > self.tree.last_zxid else 0

    def _read_only_write(self, sid: int, conn: Conn, xid: int, op: int, queue: deque[Pending],
                         out: list[Action]) -> None:
        """Read-only: a write or sync is refused (NOTREADONLY); closing the session ends it here."""
        p = Pending(xid, op, None, conn.id, True, self.now_ms, done=True)
        if op == OpCode.CLOSE_SESSION:
            self._end_local_session(sid)
            p.reply, p.close_after = reply(xid, self.tree.last_zxid, 0), True
        else:
            p.reply = reply(xid, self.tree.last_zxid, Err.NOTREADONLY)
        queue.append(p)
        self._drain(sid, out)

    def _end_local_session(self, sid: int) -> None:
        """A read-only server's session ends here alone: no txn, nobody else knew it."""
        self.sessions.remove(sid)
        self.tree.remove_session_watches(sid)

    def _on_remote(self, r: Remote, out: list[Action]) -> None:
        """A learner's client's request: prep it here, the leader; its reply is the learner's business."""
        if r.op == OpCode.CREATE_SESSION:
            timeout = struct.unpack_from(">i", r.body, 0)[0] if len(r.body) >= 4 else \
                self.settings.min_session_timeout_ms
            self.sessions.add(r.session, timeout, self.now_ms).owner = r.owner
            hdr = self._header(r.session, r.cxid, OpCode.CREATE_SESSION)
            self._propose(Proposal(hdr.zxid, hdr, CreateSessionTxn(timeout)), out)
            return
        s = self.sessions.get(r.session)
        if s is not None:
            self.sessions.touch(s, self.now_ms)
        try:
            record = decode_body(r.op, Reader(r.body, 0)) if r.op != OpCode.CLOSE_SESSION else None
        except JuteError:
            record = _MALFORMED
        hdr = self._header(r.session, r.cxid, r.op)
        txn_type: int
        txn: object
        if record is _MALFORMED:
            txn_type, txn = OpCode.ERROR, ErrorTxn(Err.MARSHALLINGERROR)
        else:
            txn_type, txn = self.prep.prep(Request(r.session, r.op, record, list(r.auth), r.owner), hdr.zxid)
            if self.prep.quota_messages:
                self._quota_warnings(out)
        if txn_type != hdr.type:
            hdr = TxnHeader(hdr.client_id, hdr.cxid, hdr.zxid, hdr.time, txn_type)
        self.remote_last[r.session] = hdr.zxid
        self._propose(Proposal(hdr.zxid, hdr, txn), out)

    def _on_committed(self, hdr: TxnHeader, txn: object, out: list[Action]) -> None:
        """A follower applies what the leader committed, and answers its own clients' requests among it."""
        sid = hdr.client_id
        if hdr.type == OpCode.CREATE_SESSION:
            assert isinstance(txn, CreateSessionTxn)
            self.sessions.add(sid, txn.time_out, self.now_ms)
        closed, rc = self._apply(hdr, txn, out)
        if hdr.type == OpCode.CREATE_SESSION and sid in self.forward_connects:
            self._finish_session(sid, *self.forward_connects.pop(sid), out)
            return
        self._answer_commit(hdr, rc, self._ours(hdr, txn, out), closed, out)

    def _ours(self, hdr: TxnHeader, txn: object, out: list[Action]) -> Pending | None:
        """The request of ours a commit answers, if any: only the session's oldest write still waiting (the
        leader commits one learner's forwarded writes in the order they were sent), with the commit's cxid,
        proposed after we forwarded it, and the same op on the same path.

        ZooKeeper's CommitProcessor looks at session and cxid alone. But a session may be in use on two
        members at once (taken over, and the old client reconnecting to take it back), each connection
        counting xids from 1: the other member's txn can then carry our session and cxid. If it was proposed
        before our write was sent, it is not ours; if it was proposed later, only its content tells (our own
        answer is then still to come: SESSIONMOVED, for the member the session left)."""
        p = next((p for p in self.queues.get(hdr.client_id) or () if p.write and not p.done
                  and p.op != OpCode.SYNC), None)
        if p is None or p.xid != hdr.cxid or hdr.zxid <= p.after_zxid:
            return None
        if not _answers(p, hdr, txn):
            out.append(Log("info", f"session 0x{hdr.client_id:x}: commit 0x{hdr.zxid:x} "
                                   f"({OP_NAMES.get(hdr.type, hdr.type)}) has the cxid of our request xid {p.xid} "
                                   f"({OP_NAMES.get(p.op, p.op)}) but came from the session's connection on "
                                   "another member", hdr.client_id, hdr.zxid))
            return None
        return p

    def _on_sync_done(self, out: list[Action]) -> None:
        while self.pending_syncs:
            sid, p = self.pending_syncs.popleft()
            if p.done:
                continue
            err, body = reads.READS[OpCode.SYNC](reads.ReadContext(self.tree, sid, []), p.record)
            p.reply = reply(p.xid, self.tree.last_zxid, err, b"" if err else body)
            p.done = True
            self._drain(sid, out)
            return

    def _on_connect(self, conn: Conn, data: bytes, out: list[Action]) -> None:
        try:
            r = Reader(data)
            req = ConnectRequest.read(r)
            read_only = r.bool() if r.remaining() else None
        except JuteError as e:
            self._close(conn, f"malformed ConnectRequest: {e}", out)
            return
        if req.last_zxid_seen > self.tree.last_zxid:
            out.append(Log("info", f"refusing client {conn.remote_ip}: it has seen zxid 0x{req.last_zxid_seen:x}, "
                                   f"ours is 0x{self.tree.last_zxid:x}", req.session_id or None, req.last_zxid_seen))
            self._close(conn, "client zxid ahead", out)
            return
        timeout = min(max(req.time_out, self.settings.min_session_timeout_ms), self.settings.max_session_timeout_ms)
        conn.old_client = read_only is None
        if self.read_only and not read_only:
            out.append(Log("info", f"refusing session request for not-read-only client {conn.remote_ip}"))
            self._close(conn, "not a read-only client, and this server is read-only", out)
            return
        if req.session_id != 0:
            self._detach(req.session_id, conn, out)
        if req.session_id == 0 and self.read_only:  # a local session: nothing to log, nobody to ask
            sid = self._new_session_id()
            self.sessions.add(sid, timeout, self.now_ms)
            conn.session = sid
            self._finish_session(sid, conn.id, timeout, out)
            return
        if req.session_id == 0 and self.follower:
            sid = self._new_session_id()
            conn.session = sid
            conn.early = []
            self.forward_connects[sid] = (conn.id, timeout)
            out.append(Forward(sid, 0, OpCode.CREATE_SESSION, struct.pack(">i", timeout)))
            return
        if req.session_id == 0:
            sid = self._new_session_id()
            self.sessions.add(sid, timeout, self.now_ms).owner = LOCAL_OWNER
            conn.session = sid
            conn.early = []
            hdr = self._header(sid, 0, OpCode.CREATE_SESSION)
            self._propose(Proposal(hdr.zxid, hdr, CreateSessionTxn(timeout), connect=(conn.id, timeout)), out)
            return
        if self.follower and req.passwd == generate_password(req.session_id):
            # The leader decides whether the session lives (it expires sessions); answer once it has said.
            conn.session = req.session_id
            conn.early = []
            self.revalidations[req.session_id] = (conn.id, timeout)
            out.append(Revalidate(req.session_id, timeout))
            return
        s = self.sessions.get(req.session_id)
        valid = (
            s is not None and not s.closing and req.passwd == generate_password(req.session_id)
        )
        if not valid:
            self._refuse_session(conn, req.session_id, out)
            return
        assert s is not None
        self._resume_session(conn, s, timeout, out)

    def _new_session_id(self) -> int:
        sid = self.next_session_id
        self.next_session_id += 1
        return sid

    def _refuse_session(self, conn: Conn, session: int, out: list[Action]) -> None:
        out.append(Send(conn.id, self._connect_response(0, 0, conn.old_client)))
        out.append(Log("info", f"invalid session 0x{session:x} for client {conn.remote_ip}, probably expired",
                       session))
        self._close(conn, "session expired or wrong password", out)

    def _on_revalidated(self, r: Revalidated, out: list[Action]) -> None:
        conn_id, timeout = self.revalidations.pop(r.session, (None, 0))
        conn = self.conns.get(conn_id) if conn_id is not None else None
        if conn is None or conn.closing:
            return
        s = self.sessions.get(r.session)
        if not r.valid or (s is not None and s.closing):
            self._refuse_session(conn, r.session, out)
            return
        if s is None:  # alive at the leader; its createSession has not reached us yet
            s = self.sessions.add(r.session, timeout, self.now_ms)
        self._resume_session(conn, s, timeout, out)
        early, conn.early = conn.early or [], None
        for frame in early:
            self._on_frame(conn.id, frame, out)

    def _detach(self, sid: int, conn: Conn, out: list[Action]) -> None:
        """A client reconnects with session `sid` on `conn`: the session's other connection here closes first,
        before the password is checked (ZooKeeper's processConnectRequest, CLIENT_RECONNECT)."""
        s = self.sessions.get(sid)
        waiting = self.revalidations.get(sid)
        for other in (s.conn if s is not None else None, waiting[0] if waiting is not None else None):
            old = self.conns.get(other) if other is not None and other != conn.id else None
            if old is not None:
                self._close(old, "client reconnected on another connection", out)
                old.session = None
        if s is not None and s.conn is not None and s.conn != conn.id:
            s.conn = None
            self.tree.remove_session_watches(sid)

    def _resume_session(self, conn: Conn, s: Session, timeout: int, out: list[Action]) -> None:
        self._detach(s.id, conn, out)
        if not self.follower:
            s.owner = LOCAL_OWNER  # LeaderZooKeeperServer.revalidateSession: the leader serves it now
        self.sessions.touch(s, self.now_ms, timeout)
        s.conn = conn.id
        conn.session = s.id
        conn.handshake_done = True
        out.append(Send(conn.id, self._connect_response(s.id, timeout, conn.old_client)))
        conn.stats.sent += 1

    def _answered(self, conn: Conn, op: int, xid: int, latency_ms: int) -> None:
        st = conn.stats
        st.sent += 1
        st.last_op = OP_NAMES.get(op, "NA")
        if xid >= 0:
            st.last_cxid = xid
        st.last_zxid = self.tree.last_zxid
        st.last_resp_ms = self.now_ms
        st.latency.add(latency_ms)
        self.stats.packets_sent += 1
        self.stats.latency.add(latency_ms)
        self.stats.latency_hist[latency_bucket(latency_ms)] += 1
        self.stats.latency_sum_ms += latency_ms

    def _connect_response(self, sid: int, timeout: int, old_client: bool) -> bytes:
        body = encode(ConnectResponse(0, timeout, sid, generate_password(sid) if sid else bytes(16)))
        if not old_client:
            body += b"\x01" if self.read_only else b"\x00"
        return struct.pack(">i", len(body)) + body

    # ---- writes ------------------------------------------------------------------------------

    def _header(self, session: int, cxid: int, type_: int) -> TxnHeader:
        zxid = self.next_zxid
        self.next_zxid += 1
        return TxnHeader(session, cxid, zxid, self.now_ms, type_)

    def _submit_write(self, sid: int, conn: Conn, p: Pending, out: list[Action]) -> None:
        hdr = self._header(sid, p.xid, p.op)
        txn_type: int
        txn: object
        if p.record is _MALFORMED:
            txn_type, txn = OpCode.ERROR, ErrorTxn(Err.MARSHALLINGERROR)
        else:
            txn_type, txn = self.prep.prep(Request(sid, p.op, p.record, conn.auth, LOCAL_OWNER), hdr.zxid)
            if self.prep.quota_messages:
                self._quota_warnings(out)
        if txn_type != hdr.type:
            hdr = TxnHeader(hdr.client_id, hdr.cxid, hdr.zxid, hdr.time, txn_type)
        self._propose(Proposal(hdr.zxid, hdr, txn, pending=p), out)

    def _propose(self, prop: Proposal, out: list[Action]) -> None:
        self.proposals.append(prop)
        self.stats.outstanding = len(self.proposals)
        if self.replicated:
            out.append(Propose(prop.zxid, encode_txn(prop.hdr, prop.txn)))
            return
        out.append(AppendLog(((prop.zxid, encode_txn(prop.hdr, prop.txn)),), (LogSynced(prop.zxid),)))

    def _on_synced(self, zxid: int, out: list[Action]) -> None:
        while self.proposals and self.proposals[0].zxid <= zxid:
            self._commit(self.proposals.popleft(), out)
        self.stats.outstanding = len(self.proposals)
        if self.waiting:
            for sid in sorted(self.waiting):
                self._drain(sid, out)
            self.waiting = {sid for sid in self.waiting if sid in self.queues}

    def _commit(self, prop: Proposal, out: list[Action]) -> None:
        hdr = prop.hdr
        if self.remote_last.get(hdr.client_id) == hdr.zxid:
            del self.remote_last[hdr.client_id]
        closed, rc = self._apply(hdr, prop.txn, out)
        self.prep.committed(hdr.zxid)
        if prop.connect is not None:
            self._finish_session(hdr.client_id, *prop.connect, out)
        # The proposal carries its own request: a txn that cannot answer it is our bug.
        assert prop.pending is None or _answers(prop.pending, hdr, prop.txn), (prop.pending, hdr)
        self._answer_commit(hdr, rc, prop.pending, closed, out)

    def _apply(self, hdr: TxnHeader, txn: object, out: list[Action]) -> tuple[Session | None, TxnResult]:
        """Apply a committed txn to the tree (a closeSession's session leaves the table first) and deliver
        the watch events; returns the closed session, if any, and the result."""
        closed = self.sessions.remove(hdr.client_id) if hdr.type == OP_CLOSE_SESSION else None
        rc = self.tree.apply(hdr, txn)
        self.stats.writes += 1
        self._deliver(rc.events, out)
        return closed, rc

    def _answer_commit(self, hdr: TxnHeader, rc: TxnResult, p: Pending | None, closed: Session | None,
                       out: list[Action]) -> None:
        """Reply to the request a commit answers; or, for a session the server closed (expired), close its
        connection and drop what it was owed."""
        if p is not None:
            p.done = True
            if rc.err == Err.SESSIONMOVED:  # FinalRequestProcessor: a connection-level error, no reply
                p.moved = True
            else:
                config = self.tree.nodes[CONFIG].data if p.op == OP_RECONFIG else None
                p.reply = write_reply(p, rc, self.tree.last_zxid, config)
                p.close_after = hdr.type == OP_CLOSE_SESSION or p.op == OP_CLOSE_SESSION
            self._drain(hdr.client_id, out)
        elif closed is not None:
            self._drop_session_conn(hdr.client_id, closed.conn, out)

    def _drop_session_conn(self, sid: int, conn_id: int | None, out: list[Action]) -> None:
        self.queues.pop(sid, None)
        conn = self.conns.get(conn_id) if conn_id is not None else None
        if conn is not None:
            self._close(conn, "session expired", out)

    def _finish_session(self, sid: int, conn_id: int, timeout: int, out: list[Action]) -> None:
        conn = self.conns.get(conn_id)
        s = self.sessions.get(sid)
        if conn is None or conn.closing or s is None:
            return
        s.conn = conn_id
        conn.handshake_done = True
        out.append(Send(conn_id, self._connect_response(sid, timeout, conn.old_client)))
        # The createSession request is cxid 0 in ZooKeeper: cons shows lcxid=0x0 from the start.
        self._answered(conn, OpCode.CREATE_SESSION, 0, self.now_ms - conn.stats.established_ms)
        # At DEBUG, as ZooKeeper 3.8 logs it (ZooKeeperServer.finishSessionInit): an INFO line per session is
        # a good part of a connect storm's CPU.
        out.append(Log("debug", f"established session 0x{sid:x} with negotiated timeout {timeout} for client "
                               f"{conn.remote_ip}", sid))
        early, conn.early = conn.early or [], None
        for frame in early:
            self._on_frame(conn_id, frame, out)

    def _on_log_failed(self, event: LogFailed, out: list[Action]) -> None:
        """The disk refused txns: none of them (nor any after them) may be acknowledged or applied."""
        out.append(Log("error", f"txn log write failed at zxid 0x{event.zxid:x}: {event.reason}; refusing writes",
                       zxid=event.zxid))
        failed = [p for p in self.proposals if p.zxid >= event.zxid]
        self.proposals = deque(p for p in self.proposals if p.zxid < event.zxid)
        self.prep.reset()
        # The next txn takes the first refused zxid: the log stays gap-free (recovery checks that).
        self.next_zxid = min(self.next_zxid, event.zxid)
        if not self.proposals:
            self.next_zxid = self.tree.last_zxid + 1
        for prop in failed:
            p = prop.pending
            if p is not None:
                p.reply = reply(p.xid, self.tree.last_zxid, Err.SYSTEMERROR)
                p.done = True
                self._drain(prop.hdr.client_id, out)
            if prop.connect is not None:
                conn = self.conns.get(prop.connect[0])
                self.sessions.remove(prop.hdr.client_id)
                if conn is not None:
                    self._close(conn, "could not log the new session", out)
            if prop.hdr.type == OpCode.CLOSE_SESSION:
                s = self.sessions.get(prop.hdr.client_id)
                if s is not None:
                    s.closing = False  # try again at its next expiry
                    self.sessions.touch(s, self.now_ms)

    # ---- replies in session order ------------------------------------------------------------

    def _drain(self, sid: int, out: list[Action]) -> None:
        queue = self.queues.get(sid)
        while queue:
            p = queue[0]
            if p.write:
                if not p.done:
                    return
                queue.popleft()
                conn = self.conns.get(p.conn)
                if conn is not None and not conn.closing and p.moved:
                    out.append(Log("info", f"session 0x{sid:x} moved to another server: closing its connection "
                                           f"here (request xid {p.xid})", sid))
                    self._close(conn, "session moved", out)
                elif conn is not None and not conn.closing:
                    out.append(Send(p.conn, p.reply))
                    self._answered(conn, p.op, p.xid, self.now_ms - p.arrived_ms)
                    if p.close_after:
                        self._close(conn, CLIENT_CLOSED, out)
                continue
            if p.after_zxid > self.tree.last_zxid:
                return  # a leader's read behind a proposal that has not committed (see _leader_barrier)
            queue.popleft()
            conn = self.conns.get(p.conn)
            if conn is not None and not conn.closing:
                self._answer(sid, conn, p.xid, p.op, p.record, out)
        if queue is not None and not queue:
            del self.queues[sid]

    def _answer(self, sid: int, conn: Conn, xid: int, op: int, record: object, out: list[Action]) -> None:
        """Answer a read or a connection-local request now."""
        tree = self.tree
        self._answered(conn, op, xid, 0)
        if record is _MALFORMED:
            out.append(Send(conn.id, reply(xid, tree.last_zxid, Err.MARSHALLINGERROR)))
            return
        if op == OpCode.PING:
            out.append(Send(conn.id, reply(XID_PING, tree.last_zxid, 0)))
            return
        if op in _LOCAL_OPS:
            self._local(sid, conn, xid, op, record, out)
            return
        self.stats.reads += 1
        err, body = reads.READS[op](reads.ReadContext(tree, sid, conn.auth), record)
        out.append(Send(conn.id, reply(xid, tree.last_zxid, err, b"" if err else body)))

    def _local(self, sid: int, conn: Conn, xid: int, op: int, record: Any, out: list[Action]) -> None:
        if op == OpCode.AUTH:
            ids = self._authenticate(conn, record)
            if ids is None:
                out.append(Send(conn.id, reply(xid, 0, Err.AUTHFAILED)))
                out.append(Log("warning", f"session 0x{sid:x}: authentication failed for scheme {record.scheme!r}"))
                self._close(conn, "authentication failed", out)
                return
            for i in ids:
                if i not in conn.auth:
                    conn.auth.append(i)
            out.append(Send(conn.id, reply(xid, 0, 0)))
        elif op == OpCode.SASL and self.sasl_enabled:
            self._sasl(sid, conn, xid, record, out)
        elif op == OpCode.SASL:
            if not conn.sasl_warned:  # ZooKeeper logs an error per request; kazoo sends them in a tight loop
                conn.sasl_warned = True
                out.append(Log("warning", f"session 0x{sid:x}: SASL request from {conn.remote_ip} but no SASL is "
                                          "configured (no JAAS Server section): answering with no token", sid))
            # ZooKeeper answers with a null token (its NullPointerException path in processSasl).
            out.append(Send(conn.id, reply(xid, 0, 0, _SASL_EMPTY)))
        else:  # SET_WATCHES, SET_WATCHES2
            r = record
            events = self.tree.set_watches(
                r.relative_zxid, sid, r.data_watches or [], r.exist_watches or [], r.child_watches or [],
                getattr(r, "persistent_watches", None) or [], getattr(r, "persistent_recursive_watches", None) or [],
            )
            self._deliver(events, out)
            out.append(Send(conn.id, reply(xid, self.tree.last_zxid, 0)))

    def _sasl(self, sid: int, conn: Conn, xid: int, record: GetSASLRequest, out: list[Action]) -> None:
        """One round of the connection's SASL exchange (ZooKeeperServer.processSasl)."""
        try:
            if conn.sasl is None:
                conn.sasl = self._new_sasl(conn)
            token = conn.sasl.evaluate(record.token or b"")
        except SaslError as e:
            required = "sasl" in self.settings.enforce_auth_schemes
            if self.settings.allow_sasl_failed_clients and not required:
                # ZooKeeper then answers as if nothing happened: OK and a null token, the connection kept.
                out.append(Log("warning", f"client {self._peer(conn)} (session 0x{sid:x}) failed SASL "
                                          f"authentication: {e}; keeping the connection (allowSaslFailedClients)", sid))
                out.append(Send(conn.id, reply(xid, 0, 0, _SASL_EMPTY)))
                return
            # ZooKeeper: the error, a null token, and the connection closes (the session lives on to expire).
            err = Err.SESSIONCLOSEDREQUIRESASLAUTH if required else Err.AUTHFAILED
            out.append(Send(conn.id, reply(xid, 0, err, _SASL_EMPTY)))
            out.append(Log("warning", f"client {self._peer(conn)} (session 0x{sid:x}) failed SASL authentication: "
                                      f"{e}", sid))
            self._close(conn, "SASL authentication failed", out)
            return
        if conn.sasl.complete:
            assert conn.sasl.authorization_id is not None
            st = self.settings
            user = authorized_id(conn.sasl.authorization_id, st.kerberos_default_realm, st.kerberos_remove_host,
                                 st.kerberos_remove_realm)
            conn.auth.append(Id("sasl", user))
            if user in self.settings.sasl_super_users:
                conn.auth.append(aclmod.SUPER_ID)
            out.append(Log("info", f"session 0x{sid:x}: adding SASL authorization for authorizationID: {user}"
                                   + (" (a super user)" if user in self.settings.sasl_super_users else ""), sid))
        out.append(Send(conn.id, reply(xid, 0, 0, _SASL_EMPTY if token is None else encode(SetSASLResponse(token)))))

    def _new_sasl(self, conn: Conn) -> SaslMechanism:
        if self.settings.sasl_gssapi is not None:
            return self.settings.sasl_gssapi()
        assert self.sasl_users is not None
        assert conn.nonce, "the adapter gives every connection a nonce when SASL is configured"
        return DigestMD5Server(self.sasl_users, conn.nonce)

    def _enforce(self, conn: Conn, xid: int, out: list[Action]) -> bool:
        """AuthenticationHelper.enforceAuthentication: a connection without an id of an enforced scheme gets
        SESSIONCLOSEDREQUIRESASLAUTH for its request and is closed; its session lives on until it expires."""
        schemes = self.settings.enforce_auth_schemes
        if any(i.scheme in schemes for i in conn.auth):
            return True
        out.append(Send(conn.id, reply(xid, 0, Err.SESSIONCLOSEDREQUIRESASLAUTH)))
        have = sorted({i.scheme for i in conn.auth})
        out.append(Log("warning", f"client {self._peer(conn)}: authentication scheme(s) {have} match none of the "
                                  f"required {list(schemes)}: closing its connection", conn.session))
        self._close(conn, "authentication required", out)
        return False

    @staticmethod
    def _peer(conn: Conn) -> str:
        return f"{conn.remote_ip}:{conn.stats.remote_port}" if conn.stats is not None else conn.remote_ip

    def _connect_ids(self, event: Connected) -> list[Id]:
        """A new connection's auth ids: its address, and a verified client certificate's subject when the X509
        provider is configured (X509AuthenticationProvider.handleAuthentication: super first, then x509)."""
        return [Id("ip", event.remote_ip), *self._x509_ids(event.x509_subject)]

    def _x509_ids(self, subject: str | None) -> list[Id]:
        if subject is None or "x509" not in self.settings.auth_schemes:
            return []
        ids = [Id("super", subject)] if subject == self.settings.x509_super_user else []
        return [*ids, Id("x509", subject)]

    def _authenticate(self, conn: Conn, packet: AuthPacket) -> list[Id] | None:
        if packet.scheme == "digest":
            digest = aclmod.digest_of((packet.auth or b"").decode("utf-8", "replace"))
            ids = [Id("digest", digest)]
            if self.settings.super_digest is not None and digest == self.settings.super_digest:
                ids.append(aclmod.SUPER_ID)
            return ids
        if packet.scheme == "ip":
            return [Id("ip", conn.remote_ip)]
        if packet.scheme == "x509":  # the connection's certificate, checked again; its data is not looked at
            return self._x509_ids(conn.x509_subject) or None
        return None

    def _deliver(self, events: list[WatchEvent], out: list[Action]) -> None:
        for ev in events:
            s = self.sessions.get(ev.session)
            if s is None or s.conn is None:
                continue
            if ev.acl is not None:
                conn = self.conns.get(s.conn)
                if conn is None or not aclmod.check(ev.acl, aclmod.READ, conn.auth):
                    continue  # the watch is used up, but a session that may not read the node hears nothing
            body = encode(WatcherEvent(ev.type, KeeperState.SYNC_CONNECTED, ev.path))
            out.append(Send(s.conn, _NOTIFY.pack(16 + len(body), -1, -1, 0) + body))
            self.stats.notifications += 1
            self.stats.packets_sent += 1
            conn = self.conns.get(s.conn)
            if conn is not None:
                conn.stats.sent += 1

    # ---- time --------------------------------------------------------------------------------

    def _on_tick(self, out: list[Action]) -> None:
        if self.read_only:  # local sessions expire here, with nothing to log; containers wait for a quorum
            for s in self.sessions.expired(self.now_ms):
                out.append(Log("info", f"expiring read-only session 0x{s.id:x}, timeout of {s.timeout_ms}ms "
                                       "exceeded", s.id))
                self._end_local_session(s.id)
                self._drop_session_conn(s.id, s.conn, out)
            return
        if self.follower:
            return  # the leader expires sessions and reaps containers
        for s in self.sessions.expired(self.now_ms):
            out.append(Log("info", f"expiring session 0x{s.id:x}, timeout of {s.timeout_ms}ms exceeded", s.id))
            hdr = self._header(s.id, 0, OpCode.CLOSE_SESSION)
            txn = self.prep.close_session(s.id, hdr.zxid)
            self._propose(Proposal(hdr.zxid, hdr, txn), out)
        if self.now_ms - self.last_container_check_ms >= self.settings.container_check_interval_ms:
            self.last_container_check_ms = self.now_ms
            self._reap_containers(out)

    def _reap_containers(self, out: list[Action]) -> None:
        for path in reaper.candidates(self.tree, self.now_ms, self.settings.container_max_per_minute):
            hdr = self._header(0, 0, OpCode.DELETE_CONTAINER)
            txn: DeleteTxn | ErrorTxn
            try:
                txn = self.prep.delete_container(path, hdr.zxid)
            except PrepError as e:
                hdr = TxnHeader(0, 0, hdr.zxid, hdr.time, OpCode.ERROR)
                txn = ErrorTxn(e.err)
            self._propose(Proposal(hdr.zxid, hdr, txn), out)

    # ---- status ------------------------------------------------------------------------------

    def session_count(self) -> int:
        return len(self.sessions)


class _Malformed:
    __slots__ = ()


_MALFORMED: Final = _Malformed()
_UNCHECKED_OPS: Final = frozenset({OpCode.AUTH, OpCode.SASL})  # answered before ZooKeeper's prep stage sees them
_CREATES: Final = frozenset({OpCode.CREATE, OpCode.CREATE2, OpCode.CREATE_CONTAINER, OpCode.CREATE_TTL})
_ALL_OPS: Final = frozenset(int(o) for o in OpCode if o not in (OpCode.NOTIFICATION, OpCode.CREATE_SESSION, OpCode.ERROR,
                                                         OpCode.DELETE_CONTAINER))


def _answers(p: Pending, hdr: TxnHeader, txn: object) -> bool:
    """Whether a committed txn can be the answer to write request `p`: an error, or the same op on the same
    path (a sequential create's path with its counter)."""
    if hdr.type == OP_ERROR:
        return True
    if hdr.type != p.op:
        return False
    if p.op == OP_MULTI:  # no path to compare (and getattr's miss would raise and catch on every multi)
        return True
    want, got = getattr(p.record, "path", None), getattr(txn, "path", None)
    if want is None or got is None or got == want:
        return True
    return p.op in _CREATES and len(got) == len(want) + 10 and got.startswith(want)


__all__ = ["ServerCore", "CoreSettings", "EventType", "TxnResult", "decode_txn", "XID_AUTH"]
