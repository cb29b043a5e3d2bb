"""A leader's and its followers' ServerCores wired by FIFO links the test delivers from, with kazoo-like clients.

No ZAB here: the leader's proposals commit when the test says so (a quorum is assumed), and each link carries
what the runtime would carry (REQUEST / REVALIDATE to the leader; PROPOSAL, COMMIT, REVALIDATE answers and
SYNC to a learner) in order. Every reply a client receives goes through a `ReplyOrder`, so a reply out of order
or answering another request fails the test where it happens.
"""

from __future__ import annotations

import random
import struct
from collections import deque
from dataclasses import dataclass, field

from zoopark.core.jute.constants import OpCode
from zoopark.core.jute.io import Reader, Writer
from zoopark.core.jute.records import ConnectRequest, ConnectResponse, MultiHeader, ReplyHeader
from zoopark.core.jute.txns import decode_txn_entry
from zoopark.core.server.actions import (
    Close,
    Committed,
    Connected,
    Disconnected,
    Forward,
    Frame,
    Log,
    LogSynced,
    Propose,
    Remote,
    Revalidate,
    Revalidated,
    Send,
    SyncDone,
)
from zoopark.core.server.core import ServerCore
from zoopark.core.server.settings import CoreSettings
from zoopark.sim.replies import ReplyOrder

LEADER = 1


@dataclass
class Client:
    """One connection of a kazoo-like client: xids count from 1 on every connection."""

    member: int
    conn: int
    session: int = 0
    passwd: bytes = bytes(16)
    xid: int = 0
    connected: bool = False
    closed: bool = False
    replaced: bool = False  # a later connection resumed this one's session
    replies: list[tuple[int, int, bytes]] = field(default_factory=list)  # (xid, err, body)
    sent: dict[int, tuple[int, str | None]] = field(default_factory=dict)  # xid -> (op, path)


class CoreEnsemble:
    def __init__(self, followers=(2, 3), now_ms: int = 1_000_000, rng: random.Random | None = None) -> None:
        self.now_ms = now_ms
        self.rng = rng
        self.cores: dict[int, ServerCore] = {}
        for mid in (LEADER, *followers):
            core = ServerCore(CoreSettings(server_id=mid))
            core.start(now_ms)
            self.cores[mid] = core
        self.cores[LEADER].begin_epoch(1)
        for mid in followers:
            self.cores[mid].become_follower()
        self.to_leader: dict[int, deque] = {mid: deque() for mid in followers}
        self.to_learner: dict[int, deque] = {mid: deque() for mid in followers}
        self.uncommitted: deque[tuple[int, bytes]] = deque()  # proposals not yet committed
        self.syncs: list[tuple[int, int]] = []  # (zxid, learner): SYNC once zxid commits
        self.committed_zxid = 0
        self.clients: dict[int, Client] = {}
        self.order = ReplyOrder()
        self._next_conn = 1

    # ---- cores ---------------------------------------------------------------------------------

    def step(self, mid: int, event: object) -> None:
        self.run(mid, self.cores[mid].step(event, self.now_ms))

    def run(self, mid: int, actions: list) -> None:
        for a in actions:
            if isinstance(a, Send):
                self._to_client(a.conn, a.data)
            elif isinstance(a, Close):
                c = self.clients.get(a.conn)
                if c is not None and not c.closed:
                    c.closed = True
                    self.order.on_close(a.conn)
                    self.step(mid, Disconnected(a.conn))
            elif isinstance(a, Propose):
                self.uncommitted.append((a.zxid, a.entry))
                for q in self.to_learner.values():
                    q.append(("proposal", a.zxid))
            elif isinstance(a, (Forward, Revalidate)):
                self.to_leader[mid].append(a)
            elif not isinstance(a, Log):
                raise AssertionError(f"unexpected action {a!r} from member {mid}")

    def deliver_to_leader(self, mid: int) -> bool:
        q = self.to_leader[mid]
        if not q:
            return False
        a = q.popleft()
        leader = self.cores[LEADER]
        if isinstance(a, Revalidate):
            self.to_learner[mid].append(("revalidated", Revalidated(a.session, leader.revalidate(a.session, mid))))
        elif a.op == OpCode.SYNC:
            self.syncs.append((self.uncommitted[-1][0] if self.uncommitted else 0, mid))
            self._release_syncs()
        else:
            self.step(LEADER, Remote(a.session, a.cxid, a.op, a.body, a.auth, mid))
        return True

    def deliver_to_learner(self, mid: int) -> bool:
        q = self.to_learner[mid]
        if not q:
            return False
        kind, what = q.popleft()
        core = self.cores[mid]
        if kind == "proposal":
            core.proposal_seen(what)
        elif kind == "commit":
            hdr, txn = decode_txn_entry(what)
            self.step(mid, Committed(hdr, txn))
        elif kind == "revalidated":
            self.step(mid, what)
        else:
            self.step(mid, SyncDone())
        return True

    def commit_one(self) -> bool:
        if not self.uncommitted:
            return False
        zxid, entry = self.uncommitted.popleft()
        self.committed_zxid = zxid
        for q in self.to_learner.values():
            q.append(("commit", entry))
        self.step(LEADER, LogSynced(zxid))
        self._release_syncs()
        return True

    def _release_syncs(self) -> None:
        keep = []
        for zxid, mid in self.syncs:
            if zxid <= self.committed_zxid:
                self.to_learner[mid].append(("sync", None))
            else:
                keep.append((zxid, mid))
        self.syncs = keep

    def settle(self) -> None:
        """Deliver and commit everything, until nothing moves."""
        for _ in range(100_000):
            moved = self.commit_one()
            for mid in self.to_leader:
                moved = self.deliver_to_leader(mid) or moved
                moved = self.deliver_to_learner(mid) or moved
            if not moved:
                return
        raise AssertionError("the ensemble never settled")

    def random_step(self) -> bool:
        """One thing that may happen next, chosen by the rng: a link delivers, or a proposal commits."""
        assert self.rng is not None
        choices = [("commit", None)] if self.uncommitted else []
        choices += [("leader", m) for m, q in self.to_leader.items() if q]
        choices += [("learner", m) for m, q in self.to_learner.items() if q]
        if not choices:
            return False
        kind, mid = self.rng.choice(choices)
        if kind == "commit":
            return self.commit_one()
        if kind == "leader":
            return self.deliver_to_leader(mid)
        return self.deliver_to_learner(mid)

    # ---- clients -------------------------------------------------------------------------------

    def connect(self, member: int, session: int = 0, passwd: bytes = bytes(16), timeout_ms: int = 10_000) -> Client:
        """Open a connection and send the ConnectRequest; `wait_connected` or `settle` for the answer."""
        c = Client(member, self._next_conn, session, passwd)
        self._next_conn += 1
        self.clients[c.conn] = c
        self.step(member, Connected(c.conn, "127.0.0.1"))
        w = Writer()
        ConnectRequest(0, 0, timeout_ms, session, passwd).write(w)
        w.bool(False)
        self.step(member, Frame(c.conn, w.getvalue()))
        return c

    def drop(self, c: Client) -> None:
        """The client's connection breaks (its side): what it had outstanding is lost."""
        if not c.closed:
            c.closed = True
            self.order.on_close(c.conn)
            self.step(c.member, Disconnected(c.conn))

    def takeover(self, member: int, of: Client) -> Client:
        """A second client with the same session id and password."""
        assert of.session
        return self.connect(member, of.session, of.passwd)

    def send(self, c: Client, op: int, record: object | None = None, path: str | None = None,
             xid: int | None = None) -> int:
        if xid is None:
            c.xid += 1
            xid = c.xid
        w = Writer()
        w.int(xid)
        w.int(op)
        if record is not None:
            record.write(w)  # type: ignore[attr-defined]
        if path is None:
            path = getattr(record, "path", None)
        if not c.closed:
            self.order.on_request(c.conn, xid, op, path)
            c.sent[xid] = (op, path)
        self.step(c.member, Frame(c.conn, w.getvalue()))
        return xid

    def _to_client(self, conn: int, data: bytes) -> None:
        c = self.clients[conn]
        assert not c.closed, f"data sent on connection {conn} after it was closed"
        pos = 0
        while pos < len(data):
            (n,) = struct.unpack_from(">i", data, pos)
            frame = data[pos + 4 : pos + 4 + n]
            pos += 4 + n
            if not c.connected:
                resp = ConnectResponse.read(Reader(frame))
                c.connected = resp.session_id != 0
                c.session, c.passwd = resp.session_id or c.session, resp.passwd or c.passwd
                continue
            r = Reader(frame)
            h = ReplyHeader.read(r)
            body = frame[16:]
            op, _ = c.sent.get(h.xid, (None, None))
            named = None
            if h.err == 0 and op in (OpCode.CREATE, OpCode.CREATE2):
                named = Reader(body).ustring()
            self.order.on_reply(conn, h.xid, h.err, named)
            if h.xid != -1:
                c.replies.append((h.xid, h.err, body))


def multi(ops: list[tuple[int, object]]) -> bytes:
    """A MultiOperationRecord body."""
    w = Writer()
    for op, rec in ops:
        MultiHeader(op, False, -1).write(w)
        rec.write(w)  # type: ignore[attr-defined]
    MultiHeader(-1, True, -1).write(w)
    return w.getvalue()


class Raw:
    """Bytes standing in for a record in `CoreEnsemble.send`."""

    def __init__(self, data: bytes, path: str | None = None) -> None:
        self.data = data
        self.path = path

    def write(self, w: Writer) -> None:
        w.raw(self.data)
