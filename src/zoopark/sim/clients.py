"""Simulated ZooKeeper clients that behave as kazoo and the Java client do, speaking the real wire format.

- xids start at 1 on every connection; requests are pipelined, sent the moment the session is CONNECTED
  (sometimes before the ConnectResponse, as the Java client may);
- a lost connection (closed by the member, a broken stream, silence for 2/3 of the session timeout) makes
  every outstanding request indeterminate, and the client reconnects to another member with the same
  session id and password (a fresh session once told the old one expired);
- session takeover: a client adopts another's session id and password and connects with them;
- closeSession mid-stream: a close pipelined behind other requests.

Every reply is checked as it arrives (`ReplyOrder`): replies leave a connection in request order and each
answers its own request (its xid, its type, its path). Outcomes go to a linearizability history.
"""

from __future__ import annotations

import math
import random
import struct
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ..core.jute.constants import XID_AUTH, Err, OpCode
from ..core.jute.io import JuteError, Reader
from ..core.jute.records import (
    OPEN_ACL_UNSAFE,
    AuthPacket,
    ConnectRequest,
    ConnectResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    GetDataRequest,
    GetDataResponse,
    ReconfigRequest,
    SetDataRequest,
    SetDataResponse,
    SyncRequest,
    SyncResponse,
)
from ..core.server.requests import encode
from .linear import Op
from .replies import ReplyOrder, ReplyOrderViolation

KEYS = ("/k0", "/k1", "/k2", "/k3", "/k4", "/k5")
_REPLY = struct.Struct(">iqi")
_PING_XID = -2
_NOTIFICATION_XID = -1


ReplyViolation = ReplyOrderViolation


@dataclass
class Request:
    xid: int
    op: int
    path: str
    hist: int | None = None  # index into the client's history, for the linearizability check
    sent_ms: int = 0


class ConnReplies:
    """One connection's replies: the order and path rule is `sim.replies.ReplyOrder`'s; on top of it, each
    reply's body must be the answer to its request's type (a Stat for setData, the path for create...)."""

    def __init__(self, order: ReplyOrder, conn: int, where: str) -> None:
        self.order, self.conn, self.where = order, conn, where
        self.outstanding: deque[Request] = deque()

    def sent(self, r: Request) -> None:
        self.order.on_request(self.conn, r.xid, r.op, r.path or None)
        self.outstanding.append(r)

    def answer(self, xid: int, err: int, body: bytes) -> Request:
        named = None
        if err == 0 and self.outstanding and self.outstanding[0].op in (OpCode.CREATE, OpCode.SYNC):
            try:
                named = Reader(body).ustring()
            except (JuteError, struct.error, ValueError) as e:
                raise ReplyViolation(f"{self.where}: reply xid {xid} names no path: {e}") from e
        self.order.on_reply(self.conn, xid, err, named)
        want = self.outstanding.popleft()
        assert want.xid == xid
        if err != 0:
            if body:
                raise ReplyViolation(f"{self.where}: error {err} for xid {xid} with a body of {len(body)} bytes")
            return want
        try:
            _check_body(want, body)
        except (JuteError, struct.error, ValueError) as e:
            raise ReplyViolation(f"{self.where}: reply to xid {xid} ({OpCode(want.op).name} {want.path}) "
                                 f"is not its answer: {e}") from e
        return want

    def close(self) -> None:
        self.order.on_close(self.conn)


def _check_body(want: Request, body: bytes) -> None:
    r = Reader(body)
    op = want.op
    if op == OpCode.CREATE:
        path = CreateResponse.read(r).path
        if path != want.path:
            raise ValueError(f"created {path!r}")
    elif op == OpCode.SET_DATA:
        SetDataResponse.read(r)
    elif op in (OpCode.GET_DATA, OpCode.RECONFIG):
        GetDataResponse.read(r)
    elif op == OpCode.SYNC:
        path = SyncResponse.read(r).path
        if path != want.path:
            raise ValueError(f"synced {path!r}")
    elif op in (OpCode.DELETE, OpCode.CLOSE_SESSION, OpCode.PING):
        pass
    if r.remaining():
        raise ValueError(f"{r.remaining()} bytes left over")


@dataclass
class ClientConn:
    id: int
    member: int
    order: ConnReplies
    next_xid: int = 1
    connected: bool = False
    closing_session: bool = False
    last_heard_ms: int = 0


@dataclass
class SimClient:
    """One client. The simulator moves its bytes: `outbox` holds (conn id, frame) to send; the simulator
    calls `on_data` / `on_closed` and `tick`, and `connect_to` when it has made a connection."""

    index: int
    rng: random.Random
    members: list[int]
    timeout_ms: int = 2000
    activity: float = 0.2  # the chance, per tick while idle, of sending more requests
    history: list[tuple[str, Op]] = field(default_factory=list)
    session_id: int = 0
    passwd: bytes = bytes(16)
    last_zxid: int = 0
    conn: ClientConn | None = None
    want_member: int | None = None  # the member to dial next
    retry_at_ms: int = 0
    outbox: list[tuple[int, bytes]] = field(default_factory=list)
    closes: list[int] = field(default_factory=list)  # connections the client closes itself
    counter: int = 0
    ops_done: int = 0
    ops_failed: int = 0
    sessions_made: int = 0
    takeovers: int = 0
    replies: ReplyOrder = field(default_factory=ReplyOrder)
    op_sessions: list[int] = field(default_factory=list)  # the session each history op was sent in
    # An operator: authenticates as `auth` ("user:password", digest) and sends only the reconfigs `plan`
    # draws (joining, leaving, new members; None: nothing now), outside the linearizability history.
    auth: str | None = None
    plan: Callable[[random.Random], ReconfigRequest | None] | None = None
    reconfigs: dict[int, int] = field(default_factory=dict)  # error code -> reconfig replies with it

    @property
    def name(self) -> str:
        return f"c{self.index}"

    # ---- connections -------------------------------------------------------------------------------

    def dial(self, now_ms: int) -> int | None:
        """Which member to connect to now, if any (the simulator opens the connection and calls connect_to)."""
        if self.conn is not None or now_ms < self.retry_at_ms:
            return None
        m = self.want_member if self.want_member is not None else self.rng.choice(self.members)
        self.want_member = None
        return m

    def connect_to(self, conn_id: int, member: int, now_ms: int) -> None:
        order = ConnReplies(self.replies, conn_id, f"{self.name} conn {conn_id} to member {member}")
        self.conn = c = ClientConn(conn_id, member, order, last_heard_ms=now_ms)
        req = ConnectRequest(0, self.last_zxid, self.timeout_ms, self.session_id, self.passwd)
        self.outbox.append((conn_id, encode(req) + b"\x00"))
        if self.session_id and self.rng.random() < 0.3:
            self._requests(c, now_ms)  # pipelined behind the ConnectRequest, as a Java client may

    def on_closed(self, conn_id: int, now_ms: int) -> None:
        c = self.conn
        if c is None or c.id != conn_id:
            return
        self._lost(c, now_ms)
        if c.closing_session:
            self.session_id, self.passwd = 0, bytes(16)

    def _lost(self, c: ClientConn, now_ms: int) -> None:
        for r in c.order.outstanding:
            if r.hist is not None:
                self.ops_failed += 1  # indeterminate: the Op keeps responded = inf
        c.order.outstanding.clear()
        c.order.close()
        self.conn = None
        others = [m for m in self.members if m != c.member]
        self.want_member = self.rng.choice(others) if others else c.member
        self.retry_at_ms = now_ms + self.rng.randint(5, 60)

    def drop(self, now_ms: int) -> None:
        """The client gives the connection up (a timeout, a takeover)."""
        c = self.conn
        if c is not None:
            self.closes.append(c.id)
            self._lost(c, now_ms)

    def adopt(self, other: SimClient, now_ms: int, ping_pong: bool = False) -> bool:
        """Session takeover: connect with another client's session id and password. `ping_pong`: the other
        client goes on with the session too, each taking it back from the other in turn."""
        if not other.session_id:
            return False
        self.drop(now_ms)
        self.session_id, self.passwd = other.session_id, other.passwd
        self.last_zxid = max(self.last_zxid, other.last_zxid)
        self.takeovers += 1
        if not ping_pong:
            # The usual takeover: a new process resumes the session a stopped one saved; the old one's
            # requests in flight still arrive, but it sends nothing more (it starts a new session).
            other.drop(now_ms)
            other.session_id, other.passwd = 0, bytes(16)
        return True

    # ---- bytes in ----------------------------------------------------------------------------------

    def on_data(self, conn_id: int, data: bytes, now_ms: int) -> None:
        c = self.conn
        if c is None or c.id != conn_id:
            return
        c.last_heard_ms = now_ms
        pos = 0
        while pos < len(data):
            (n,) = struct.unpack_from(">i", data, pos)
            frame = data[pos + 4 : pos + 4 + n]
            pos += 4 + n
            if self.conn is not c:
                return
            if not c.connected:
                self._on_connect_response(c, frame, now_ms)
            else:
                self._on_reply(c, frame, now_ms)

    def _on_connect_response(self, c: ClientConn, frame: bytes, now_ms: int) -> None:
        resp = ConnectResponse.read(Reader(frame))
        if resp.time_out <= 0 or resp.session_id == 0:
            # Expired (or refused): kazoo starts over with a new session.
            self.session_id, self.passwd = 0, bytes(16)
            self.drop(now_ms)
            return
        if self.session_id and resp.session_id != self.session_id:
            raise ReplyViolation(f"{self.name}: asked for session 0x{self.session_id:x}, "
                                 f"got 0x{resp.session_id:x}")
        if not self.session_id:
            self.sessions_made += 1
        self.session_id, self.passwd = resp.session_id, resp.passwd
        c.connected = True
        if self.auth is not None:
            c.order.sent(Request(XID_AUTH, OpCode.AUTH, ""))
            self.outbox.append((c.id, struct.pack(">ii", XID_AUTH, OpCode.AUTH)
                                + encode(AuthPacket(0, "digest", self.auth.encode()))))
        self._requests(c, now_ms)  # the moment it is CONNECTED

    def _on_reply(self, c: ClientConn, frame: bytes, now_ms: int) -> None:
        xid, zxid, err = _REPLY.unpack_from(frame, 0)
        body = frame[16:]
        if xid == _NOTIFICATION_XID:
            return
        req = c.order.answer(xid, err, body)
        if zxid > 0:
            self.last_zxid = max(self.last_zxid, zxid)
        if req.hist is not None:
            self._outcome(req, err, body, now_ms)
        elif req.op == OpCode.RECONFIG:
            self.reconfigs[err] = self.reconfigs.get(err, 0) + 1
        if req.op == OpCode.CLOSE_SESSION and err == 0:
            c.closing_session = True

    def _outcome(self, req: Request, err: int, body: bytes, now_ms: int) -> None:
        path, op = self.history[req.hist]
        result: object
        if req.op == OpCode.CREATE:
            result = {0: "ok", Err.NODEEXISTS: "exists"}.get(err)
        elif req.op == OpCode.SET_DATA:
            if err == 0:
                result = ("ok", SetDataResponse.read(Reader(body)).stat.version)
            else:
                result = {Err.NONODE: "nonode", Err.BADVERSION: "badversion"}.get(err)
        elif req.op == OpCode.DELETE:
            result = {0: "ok", Err.NONODE: "nonode", Err.BADVERSION: "badversion"}.get(err)
        else:  # GET_DATA after a sync
            if err == 0:
                got = GetDataResponse.read(Reader(body))
                result = ("ok", got.data or b"", got.stat.version)
            else:
                result = {Err.NONODE: "nonode"}.get(err)
        if result is None:
            # SESSIONEXPIRED, SESSIONMOVED, ...: refused, so it changed nothing; it says nothing either.
            self.ops_failed += 1
            self.history[req.hist] = (path, Op(op.id, op.client, "refused", op.args, op.invoked, now_ms, None))
            return
        self.ops_done += 1
        self.history[req.hist] = (path, Op(op.id, op.client, op.kind, op.args, op.invoked, now_ms, result))

    # ---- requests out ------------------------------------------------------------------------------

    def _send(self, c: ClientConn, op: int, path: str, body: bytes, hist: int | None, now_ms: int) -> None:
        xid = c.next_xid
        c.next_xid += 1
        c.order.sent(Request(xid, op, path, hist, now_ms))
        self.outbox.append((c.id, struct.pack(">ii", xid, op) + body))

    def _requests(self, c: ClientConn, now_ms: int) -> None:
        """Pipeline a few requests; sometimes end them with a closeSession."""
        if self.plan is not None:
            for _ in range(2 if self.rng.random() < 0.2 else 1):  # two at once: the second finds one under way
                req = self.plan(self.rng)
                if req is not None:
                    self._send(c, OpCode.RECONFIG, "", encode(req), None, now_ms)
            return
        for _ in range(self.rng.randint(1, 4)):
            self._one(c, now_ms)
        if self.rng.random() < 0.03:
            self._send(c, OpCode.CLOSE_SESSION, "", b"", None, now_ms)
            c.closing_session = True

    def _one(self, c: ClientConn, now_ms: int) -> None:
        path = self.rng.choice(KEYS)
        self.counter += 1
        data = f"{self.name}-{self.counter}".encode()
        if self.rng.random() < 0.05:
            # An ephemeral node: not in the linearizability history; the simulator checks that every one
            # left in the end belongs to a live session.
            eph = f"/e{self.index}-{self.counter}"
            self._send(c, OpCode.CREATE, eph, encode(CreateRequest(eph, data, list(OPEN_ACL_UNSAFE), 1)), None,
                       now_ms)
            return
        kind = self.rng.choice(("create", "set", "set", "delete", "get"))
        if kind == "create":
            body, op, args = encode(CreateRequest(path, data, list(OPEN_ACL_UNSAFE), 0)), OpCode.CREATE, (data,)
        elif kind == "set":
            version = self.rng.choice((-1, -1, 0, 1, 2))
            body, op, args = encode(SetDataRequest(path, data, version)), OpCode.SET_DATA, (data, version)
        elif kind == "delete":
            version = self.rng.choice((-1, -1, 0, 1))
            body, op, args = encode(DeleteRequest(path, version)), OpCode.DELETE, (version,)
        else:
            # A read is linearizable only behind a sync (ZooKeeper's reads are served locally).
            self._send(c, OpCode.SYNC, path, encode(SyncRequest(path)), None, now_ms)
            body, op, args = encode(GetDataRequest(path, False)), OpCode.GET_DATA, ()
        hist = len(self.history)
        self.history.append((path, Op(hist * 1000 + self.index, self.name, kind, args, now_ms, math.inf)))
        self.op_sessions.append(self.session_id)
        self._send(c, op, path, body, hist, now_ms)

    def tick(self, now_ms: int) -> None:
        c = self.conn
        if c is None:
            return
        if now_ms - c.last_heard_ms > self.timeout_ms * 2 // 3:
            self.drop(now_ms)  # kazoo's read timeout: the connection is dead, try another member
            return
        if not c.connected or c.closing_session:
            return
        if not c.order.outstanding and self.rng.random() < self.activity:
            self._requests(c, now_ms)
        elif now_ms - c.last_heard_ms > self.timeout_ms // 3 and not c.order.outstanding:
            c.order.sent(Request(_PING_XID, OpCode.PING, "", None, now_ms))
            self.outbox.append((c.id, struct.pack(">ii", _PING_XID, OpCode.PING)))

    def bounded_history(self) -> list[tuple[str, Op]]:
        """The history with each indeterminate op's deadline: the response to the next op of the same
        session that got one (see linear.Op.deadline)."""
        out: list[tuple[str, Op]] = []
        next_in: dict[int, float] = {}  # session -> the response time of its next determinate op
        for (path, op), session in zip(reversed(self.history), reversed(self.op_sessions), strict=True):
            if op.kind == "refused":
                continue
            if op.determinate:
                next_in[session] = op.responded
                out.append((path, Op(op.id, op.client, op.kind, op.args, op.invoked, op.responded, op.result,
                                     session=session)))
                continue
            deadline = next_in.get(session, math.inf) if session else math.inf
            out.append((path, Op(op.id, op.client, op.kind, op.args, op.invoked, op.responded, op.result, deadline,
                                 session)))
        out.reverse()
        return out
