"""Drive a ServerCore directly: a client that speaks frames, and a disk that syncs when told."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from zoopark.core.jute.constants import OpCode
from zoopark.core.jute.io import Reader, Writer
from zoopark.core.jute.records import (
    ConnectRequest,
    ConnectResponse,
    ReplyHeader,
    WatcherEvent,
)
from zoopark.core.server.actions import (
    AppendLog,
    Close,
    Connected,
    Disconnected,
    Frame,
    Log,
    LogSynced,
    Send,
    Tick,
)
from zoopark.core.server.core import ServerCore
from zoopark.core.server.settings import CoreSettings


@dataclass
class Reply:
    xid: int
    zxid: int
    err: int
    body: bytes


@dataclass
class FakeConn:
    id: int
    frames: list[bytes] = field(default_factory=list)
    closed: str | None = None
    read_only: bool | None = None  # the connect response's readOnly byte (None: not sent)


class Harness:
    """A ServerCore, a clock and a disk whose fsyncs happen when the test says so."""

    def __init__(self, settings: CoreSettings | None = None, auto_sync: bool = True, now_ms: int = 1_000_000) -> None:
        self.core = ServerCore(settings or CoreSettings())
        self.now_ms = now_ms
        self.core.start(now_ms)
        self.auto_sync = auto_sync
        self.log: list[tuple[int, bytes]] = []
        self.unsynced: list[object] = []
        self.conns: dict[int, FakeConn] = {}
        self._next_conn = 1
        self.others: list[object] = []  # actions for an ensemble (Forward, Revalidate, Propose, ...)
        self.logs: list[Log] = []

    def step(self, event: object) -> None:
        actions = self.core.step(event, self.now_ms)
        for a in actions:
            if isinstance(a, Send):
                self._receive(a.conn, a.data)
            elif isinstance(a, Close):
                c = self.conns.get(a.conn)
                if c is not None and c.closed is None:
                    c.closed = a.reason
                    self.step(Disconnected(a.conn))
            elif isinstance(a, AppendLog):
                self.log.extend(a.entries)
                self.unsynced.extend(a.then)
            elif isinstance(a, Log):
                self.logs.append(a)
            else:
                self.others.append(a)
        if self.auto_sync:
            self.sync()

    def sync(self) -> None:
        while self.unsynced:
            pending, self.unsynced = self.unsynced, []
            for ev in pending:
                self.step(ev)

    def advance(self, ms: int) -> None:
        self.now_ms += ms
        self.step(Tick())

    def _receive(self, conn_id: int, data: bytes) -> None:
        c = self.conns[conn_id]
        pos = 0
        while pos < len(data):
            (n,) = struct.unpack_from(">i", data, pos)
            c.frames.append(data[pos + 4 : pos + 4 + n])
            pos += 4 + n

    # ---- client side -------------------------------------------------------------------------

    def connect(self, session_id: int = 0, passwd: bytes = bytes(16), timeout_ms: int = 10_000,
                last_zxid: int = 0, read_only: bool | None = False) -> tuple[FakeConn, ConnectResponse]:
        """`read_only`: the request's readOnly byte (None: an old client that sends none)."""
        conn = FakeConn(self._next_conn)
        self._next_conn += 1
        self.conns[conn.id] = conn
        self.step(Connected(conn.id, "127.0.0.1", nonce=conn.id.to_bytes(30, "big")))  # a SASL nonce, as the adapter draws
        w = Writer()
        ConnectRequest(0, last_zxid, timeout_ms, session_id, passwd).write(w)
        if read_only is not None:
            w.bool(read_only)
        self.step(Frame(conn.id, w.getvalue()))
        self.sync()  # a new session is logged before it is answered
        if not conn.frames:
            return conn, None  # type: ignore[return-value]
        r = Reader(conn.frames.pop(0))
        resp = ConnectResponse.read(r)
        conn.read_only = r.bool() if r.remaining() else None
        return conn, resp

    def send(self, conn: FakeConn, xid: int, op: int, record: object | None = None) -> None:
        w = Writer()
        w.int(xid)
        w.int(op)
        if record is not None:
            record.write(w)  # type: ignore[attr-defined]
        self.step(Frame(conn.id, w.getvalue()))

    def request(self, conn: FakeConn, op: int, record: object | None = None, xid: int = 1) -> Reply:
        before = len(conn.frames)
        self.send(conn, xid, op, record)
        replies = [parse_reply(f) for f in conn.frames[before:]]
        mine = [r for r in replies if r.xid == xid]
        assert len(mine) == 1, f"expected one reply to xid {xid}, got {replies}"
        return mine[0]


SESSION = 0x0100_0000_0000_0042


def follower(session: int = SESSION, timeout_ms: int = 30_000) -> Harness:
    """A follower's core that has seen `session` created (its createSession committed)."""
    from zoopark.core.jute.records import CreateSessionTxn, TxnHeader
    from zoopark.core.server.actions import Committed

    h = Harness()
    h.core.become_follower()
    h.step(Committed(TxnHeader(session, 0, 1, 5, OpCode.CREATE_SESSION), CreateSessionTxn(timeout_ms)))
    return h


def parse_reply(frame: bytes) -> Reply:
    r = Reader(frame)
    h = ReplyHeader.read(r)
    return Reply(h.xid, h.zxid, h.err, frame[16:])


def events(conn: FakeConn) -> list[WatcherEvent]:
    out = []
    for f in conn.frames:
        rep = parse_reply(f)
        if rep.xid == -1:
            out.append(WatcherEvent.read(Reader(rep.body)))
    return out


__all__ = ["Harness", "SESSION", "follower", "parse_reply", "events", "OpCode", "LogSynced"]
