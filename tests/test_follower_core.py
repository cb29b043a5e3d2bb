"""A follower's core: a client reconnecting with its session is answered only once the leader has said the
session lives (REVALIDATE, as ZooKeeper's learners ask), and requests it sent meanwhile wait."""

from __future__ import annotations

from zoopark.core.jute.constants import OpCode
from zoopark.core.jute.records import ExistsRequest, TxnHeader
from zoopark.core.server.actions import Committed, Revalidate, Revalidated
from zoopark.core.session import generate_password

from corehelp import SESSION, Harness, follower, parse_reply


def test_a_reconnect_waits_for_the_leader_and_frames_sent_meanwhile_follow() -> None:
    h = follower()
    conn, resp = h.connect(session_id=SESSION, passwd=generate_password(SESSION), timeout_ms=20_000)
    assert resp is None and not conn.closed, "not answered before the leader has"
    assert h.others == [Revalidate(SESSION, 20_000)]
    h.send(conn, 7, OpCode.EXISTS, ExistsRequest("/", False))  # pipelined behind the handshake
    assert conn.frames == []
    h.step(Revalidated(SESSION, True))
    assert len(conn.frames) == 2
    assert parse_reply(conn.frames[1]).xid == 7 and parse_reply(conn.frames[1]).err == 0


def test_a_session_the_leader_calls_dead_is_expired() -> None:
    h = follower()
    conn, _ = h.connect(session_id=SESSION, passwd=generate_password(SESSION))
    h.step(Revalidated(SESSION, False))
    assert conn.closed and len(conn.frames) == 1 and conn.frames[0][4:8] == b"\x00\x00\x00\x00"  # timeout 0


def test_a_wrong_password_is_refused_without_asking() -> None:
    h = follower()
    conn, resp = h.connect(session_id=SESSION, passwd=bytes(16))
    assert resp.session_id == 0 and resp.time_out == 0 and conn.closed and h.others == []


def test_a_session_the_leader_knows_and_we_do_not_yet_is_resumed() -> None:
    h = Harness()
    h.core.become_follower()
    conn, _ = h.connect(session_id=SESSION, passwd=generate_password(SESSION), timeout_ms=12_000)
    h.step(Revalidated(SESSION, True))
    assert not conn.closed and h.core.sessions.get(SESSION) is not None


def test_a_session_moving_between_connections_gets_every_reply_on_its_own_connection() -> None:
    """Writes forwarded from one connection are still in flight when the session reconnects on a second
    (kazoo numbers its requests from 1 again there): each commit answers the connection that sent it, the old
    one's replies are dropped with it, and the new connection's replies come in its own order."""
    from zoopark.core.jute.constants import OpCode as Op
    from zoopark.core.jute.records import OPEN_ACL_UNSAFE, CreateRequest, CreateTxn, GetDataRequest
    from zoopark.core.server.actions import Forward

    h = follower()
    old, _ = h.connect(session_id=SESSION, passwd=generate_password(SESSION))
    h.step(Revalidated(SESSION, True))
    old.frames.clear()
    for xid in (1, 2):  # forwarded; their commits come later
        h.send(old, xid, Op.CREATE, CreateRequest(f"/old{xid}", b"", list(OPEN_ACL_UNSAFE), 0))
    new, _ = h.connect(session_id=SESSION, passwd=generate_password(SESSION))
    h.step(Revalidated(SESSION, True))
    assert old.closed and len(new.frames) == 1  # the connect response
    new.frames.clear()
    h.send(new, 1, Op.CREATE, CreateRequest("/new1", b"", list(OPEN_ACL_UNSAFE), 0))
    h.send(new, 2, Op.GET_DATA, GetDataRequest("/", False))
    forwards = [a for a in h.others if isinstance(a, Forward)]
    assert [(f.cxid, f.op) for f in forwards][-3:] == [(1, Op.CREATE), (2, Op.CREATE), (1, Op.CREATE)]
    zxid = 2
    for path, cxid in (("/old1", 1), ("/old2", 2), ("/new1", 1)):  # the leader commits in forward order
        h.step(Committed(TxnHeader(SESSION, cxid, zxid, 5, Op.CREATE),
                         CreateTxn(path, b"", list(OPEN_ACL_UNSAFE), False, zxid - 1)))
        zxid += 1
    replies = [parse_reply(f) for f in new.frames]
    assert [(r.xid, r.err) for r in replies] == [(1, 0), (2, 0)], replies
    assert b"/new1" in new.frames[0]  # its own create's reply, not one of the old connection's
