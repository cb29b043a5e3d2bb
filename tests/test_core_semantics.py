"""The standalone core driven directly: ordering, Stat rules, multi, watches, sessions, bad input."""

from __future__ import annotations

from zoopark.core.jute.constants import Err, EventType, OpCode
from zoopark.core.jute.io import Reader
from zoopark.core.jute.records import (
    ACL,
    OPEN_ACL_UNSAFE,
    AddWatchRequest,
    AuthPacket,
    CheckVersionRequest,
    Create2Response,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    ExistsRequest,
    GetChildrenRequest,
    GetDataRequest,
    GetDataResponse,
    Id,
    SetDataRequest,
    Stat,
)
from zoopark.core.server.actions import LogFailed
from zoopark.core.server.requests import encode
from zoopark.core.server.settings import CoreSettings
from zoopark.core.tree.acl import digest_of

from corehelp import Harness, events, parse_reply

OPEN = list(OPEN_ACL_UNSAFE)


def create(h, c, path, data=b"", flags=0, acl=OPEN, xid=1):
    return h.request(c, OpCode.CREATE2, CreateRequest(path, data, acl, flags), xid=xid)


def stat_of(h, c, path) -> Stat:
    rep = h.request(c, OpCode.EXISTS, ExistsRequest(path, False), xid=99)
    assert rep.err == 0
    return Stat.read(Reader(rep.body))


def test_cversion_counts_creates_and_deletes_and_sequence_uses_creates():
    h = Harness()
    c, _ = h.connect()
    assert create(h, c, "/p").err == 0
    assert create(h, c, "/p/a").err == 0
    assert create(h, c, "/p/b").err == 0
    assert h.request(c, OpCode.DELETE, DeleteRequest("/p/a", -1)).err == 0
    st = stat_of(h, c, "/p")
    assert (st.cversion, st.num_children) == (3, 1)
    rep = create(h, c, "/p/s-", flags=2)
    assert Create2Response.read(Reader(rep.body)).path == "/p/s-0000000002"


def test_read_waits_behind_own_write_but_not_other_sessions():
    h = Harness(auto_sync=False)
    a, _ = h.connect()
    b, _ = h.connect()
    h.send(a, 1, OpCode.CREATE, CreateRequest("/x", b"1", OPEN, 0))
    h.send(a, 2, OpCode.GET_DATA, GetDataRequest("/x", False))
    assert a.frames == []  # the read waits behind the unsynced write
    other = h.request(b, OpCode.GET_DATA, GetDataRequest("/x", False), xid=7)
    assert other.err == Err.NONODE  # not durable, not visible
    h.sync()
    replies = [parse_reply(f) for f in a.frames]
    assert [r.xid for r in replies] == [1, 2]
    assert replies[0].err == 0 and replies[1].err == 0
    assert GetDataResponse.read(Reader(replies[1].body)).data == b"1"


def test_failed_multi_reports_each_op_and_changes_nothing():
    h = Harness()
    c, _ = h.connect()
    from zoopark.core.jute.io import Writer
    from zoopark.core.jute.records import MultiHeader

    w = Writer()
    for op, rec in [(OpCode.CREATE, CreateRequest("/m", b"", OPEN, 0)),
                    (OpCode.CHECK, CheckVersionRequest("/m", 5)),
                    (OpCode.CREATE, CreateRequest("/n", b"", OPEN, 0))]:
        MultiHeader(op, False, -1).write(w)
        rec.write(w)
    MultiHeader(-1, True, -1).write(w)
    from zoopark.core.server.actions import Frame

    before = len(c.frames)
    h.step(Frame(c.id, b"\x00\x00\x00\x05\x00\x00\x00\x0e" + w.getvalue()))
    rep = parse_reply(c.frames[before])
    assert rep.err == 0
    r = Reader(rep.body)
    results = []
    for _ in range(3):
        mh = MultiHeader.read(r)
        results.append((mh.type, mh.err))
        if mh.type == -1:
            r.int()
    assert results == [(-1, 0), (-1, Err.BADVERSION), (-1, Err.RUNTIMEINCONSISTENCY)]
    assert h.request(c, OpCode.EXISTS, ExistsRequest("/m", False)).err == Err.NONODE


def test_pipelined_multis_see_each_others_changes_and_a_failed_one_leaves_none():
    """Prep's overlay of changes not yet committed: a failed multi's earlier ops (two on one path) roll back to
    what the overlay held before it, a later request sees the newest pending change, and once everything
    committed the overlay is empty."""
    from zoopark.core.jute.io import Writer
    from zoopark.core.jute.records import MultiHeader
    from zoopark.core.server.actions import Frame

    h = Harness(auto_sync=False)
    c, _ = h.connect()
    h.send(c, 1, OpCode.CREATE, CreateRequest("/o", b"", OPEN, 0))
    h.sync()

    def multi(xid, ops):
        w = Writer()
        for op, rec in ops:
            MultiHeader(op, False, -1).write(w)
            rec.write(w)
        MultiHeader(-1, True, -1).write(w)
        h.step(Frame(c.id, xid.to_bytes(4, "big") + b"\x00\x00\x00\x0e" + w.getvalue()))

    before = len(c.frames)
    h.send(c, 2, OpCode.SET_DATA, SetDataRequest("/o", b"1", 0))  # pending: version 1
    multi(3, [(OpCode.SET_DATA, SetDataRequest("/o", b"2", 1)), (OpCode.SET_DATA, SetDataRequest("/o", b"3", 2)),
              (OpCode.CHECK, CheckVersionRequest("/o", 99))])  # fails: back to version 1
    h.send(c, 4, OpCode.SET_DATA, SetDataRequest("/o", b"4", 1))  # version 2
    multi(5, [(OpCode.SET_DATA, SetDataRequest("/o", b"5", 2)), (OpCode.CHECK, CheckVersionRequest("/o", 3)),
              (OpCode.SET_DATA, SetDataRequest("/o", b"6", 3))])  # version 4
    h.send(c, 6, OpCode.SET_DATA, SetDataRequest("/o", b"7", 4))  # version 5
    assert c.frames[before:] == []  # nothing committed yet: every check above ran against the overlay
    h.sync()
    replies = [parse_reply(f) for f in c.frames[before:]]
    assert [(r.xid, r.err) for r in replies] == [(2, 0), (3, 0), (4, 0), (5, 0), (6, 0)]
    r = Reader(replies[1].body)
    assert [(mh.type, mh.err, r.int()) for mh in (MultiHeader.read(r) for _ in range(3))] == [
        (-1, 0, 0), (-1, 0, 0), (-1, Err.BADVERSION, Err.BADVERSION)]
    assert h.core.prep.changes == {}
    assert h.request(c, OpCode.GET_DATA, GetDataRequest("/o", False), xid=7).err == 0
    st = stat_of(h, c, "/o")
    assert st.version == 5


def test_watch_events_types_and_one_shot():
    h = Harness()
    a, _ = h.connect()
    b, _ = h.connect()
    assert h.request(a, OpCode.EXISTS, ExistsRequest("/w", True)).err == Err.NONODE
    create(h, b, "/w")
    h.request(a, OpCode.GET_DATA, GetDataRequest("/w", True), xid=2)
    h.request(a, OpCode.GET_CHILDREN, GetChildrenRequest("/w", True), xid=3)
    h.request(b, OpCode.SET_DATA, SetDataRequest("/w", b"v", -1))
    h.request(b, OpCode.SET_DATA, SetDataRequest("/w", b"v2", -1))  # one-shot: no second event
    h.request(b, OpCode.DELETE, DeleteRequest("/w", -1))
    got = [(e.type, e.path) for e in events(a)]
    assert got == [
        (EventType.NODE_CREATED, "/w"),
        (EventType.NODE_DATA_CHANGED, "/w"),
        (EventType.NODE_DELETED, "/w"),  # the child watch fires NodeDeleted too, but only once per session
    ]


def test_recursive_watch_sees_descendants_but_not_child_events():
    h = Harness()
    a, _ = h.connect()
    b, _ = h.connect()
    create(h, b, "/r")
    assert h.request(a, OpCode.ADD_WATCH, AddWatchRequest("/r", 1)).err == 0
    create(h, b, "/r/x")
    h.request(b, OpCode.SET_DATA, SetDataRequest("/r/x", b"1", -1))
    h.request(b, OpCode.SET_DATA, SetDataRequest("/r/x", b"2", -1))
    got = [(e.type, e.path) for e in events(a)]
    assert got == [
        (EventType.NODE_CREATED, "/r/x"),
        (EventType.NODE_DATA_CHANGED, "/r/x"),
        (EventType.NODE_DATA_CHANGED, "/r/x"),
    ]


def test_session_expiry_removes_ephemerals_and_fires_watches():
    h = Harness(CoreSettings(tick_ms=2000, min_session_timeout_ms=4000, max_session_timeout_ms=40000))
    a, resp = h.connect(timeout_ms=4000)
    assert resp.time_out == 4000
    b, _ = h.connect(timeout_ms=40000)
    create(h, a, "/e", flags=1)
    assert h.request(b, OpCode.EXISTS, ExistsRequest("/e", True)).err == 0
    h.advance(3000)
    assert a.closed is None
    for _ in range(3):
        h.advance(1000)
        h.request(b, OpCode.PING, None, xid=-2)
    assert a.closed is not None
    assert [(e.type, e.path) for e in events(b)] == [(EventType.NODE_DELETED, "/e")]
    again, resp = h.connect(session_id=resp.session_id, passwd=resp.passwd)
    assert resp.session_id == 0 and resp.time_out == 0 and again.closed


def test_reconnect_keeps_session_and_wrong_password_is_refused():
    h = Harness()
    a, resp = h.connect()
    create(h, a, "/eph", flags=1)
    a2, resp2 = h.connect(session_id=resp.session_id, passwd=resp.passwd)
    assert resp2.session_id == resp.session_id and a.closed
    assert h.request(a2, OpCode.EXISTS, ExistsRequest("/eph", False)).err == 0
    bad, resp3 = h.connect(session_id=resp.session_id, passwd=b"x" * 16)
    assert resp3.time_out == 0 and bad.closed


def test_unknown_opcode_closes_malformed_body_answers_marshalling_error():
    h = Harness()
    c, _ = h.connect()
    from zoopark.core.server.actions import Frame

    h.step(Frame(c.id, b"\x00\x00\x00\x01\x00\x00\x00\x04\x00\x00\x10\x00/x"))  # path length past the frame
    assert parse_reply(c.frames[-1]).err == Err.MARSHALLINGERROR and c.closed is None
    assert h.request(c, 999, None, xid=5).err == Err.UNIMPLEMENTED
    assert c.closed


def test_acl_digest_and_super():
    digest = digest_of("admin:secret")
    h = Harness(CoreSettings(super_digest=digest))
    a, _ = h.connect()
    assert h.request(a, OpCode.AUTH, AuthPacket(0, "digest", b"u:p"), xid=-4).err == 0
    acl = [ACL(31, Id("auth", ""))]
    assert create(h, a, "/s", b"secret", acl=acl).err == 0
    b, _ = h.connect()
    assert h.request(b, OpCode.GET_DATA, GetDataRequest("/s", False)).err == Err.NOAUTH
    h.request(b, OpCode.AUTH, AuthPacket(0, "digest", b"admin:secret"), xid=-4)
    assert h.request(b, OpCode.GET_DATA, GetDataRequest("/s", False)).err == 0
    bad = create(h, b, "/t", acl=[ACL(31, Id("world", "nobody"))])
    assert bad.err == Err.INVALIDACL


def test_no_children_for_ephemerals_and_bad_paths():
    h = Harness()
    c, _ = h.connect()
    create(h, c, "/e", flags=1)
    assert create(h, c, "/e/x").err == Err.NOCHILDRENFOREPHEMERALS
    assert create(h, c, "/a/").err == Err.NONODE
    assert create(h, c, "/e/").err == Err.BADARGUMENTS
    assert h.request(c, OpCode.DELETE, DeleteRequest("/zookeeper", -1)).err == Err.BADARGUMENTS


def test_failed_fsync_refuses_the_write_and_later_writes_succeed():
    h = Harness(auto_sync=False)
    c, _ = h.connect()
    h.send(c, 1, OpCode.CREATE, CreateRequest("/lost", b"", OPEN, 0))
    zxid = h.log[-1][0]
    h.unsynced.clear()
    h.step(LogFailed(zxid, "ENOSPC"))
    assert parse_reply(c.frames[-1]).err == Err.SYSTEMERROR
    h.auto_sync = True
    rep = h.request(c, OpCode.CREATE, CreateRequest("/lost", b"", OPEN, 0), xid=2)
    assert rep.err == 0 and CreateResponse.read(Reader(rep.body)).path == "/lost"
    assert encode(CreateResponse("/lost"))


def test_set_watches_after_reconnect_reports_what_changed_meanwhile():
    from zoopark.core.jute.records import SetWatches
    from zoopark.core.server.actions import Disconnected

    h = Harness()
    a, resp = h.connect()
    b, _ = h.connect()
    create(h, b, "/x")
    create(h, b, "/p")
    create(h, b, "/same")
    seen = h.core.tree.last_zxid
    h.step(Disconnected(a.id))
    h.request(b, OpCode.SET_DATA, SetDataRequest("/x", b"new", -1))
    create(h, b, "/born")
    create(h, b, "/p/kid")
    a2, resp2 = h.connect(session_id=resp.session_id, passwd=resp.passwd)
    assert resp2.session_id == resp.session_id
    rep = h.request(a2, OpCode.SET_WATCHES, SetWatches(seen, ["/x", "/same", "/gone"], ["/born", "/never"], ["/p"]),
                    xid=-8)
    assert rep.err == 0
    got = {(e.type, e.path) for e in events(a2)}
    assert got == {
        (EventType.NODE_DATA_CHANGED, "/x"),
        (EventType.NODE_DELETED, "/gone"),
        (EventType.NODE_CREATED, "/born"),
        (EventType.NODE_CHILDREN_CHANGED, "/p"),
    }
    # the unchanged ones were re-armed: they fire on the next change
    h.request(b, OpCode.SET_DATA, SetDataRequest("/same", b"1", -1))
    create(h, b, "/never")
    later = [(e.type, e.path) for e in events(a2)][len(got):]
    assert later == [(EventType.NODE_DATA_CHANGED, "/same"), (EventType.NODE_CREATED, "/never")]


def test_frames_sent_before_the_session_is_logged_are_answered_after_it():
    """Java clients send SetWatches and auth right behind their ConnectRequest."""
    from zoopark.core.jute.io import Writer
    from zoopark.core.jute.records import ConnectRequest
    from zoopark.core.server.actions import Connected, Frame

    h = Harness(auto_sync=False)
    conn_id = 99
    from corehelp import FakeConn

    h.conns[conn_id] = c = FakeConn(conn_id)
    h.step(Connected(conn_id, "127.0.0.1"))
    w = Writer()
    ConnectRequest(0, 0, 10_000, 0, bytes(16)).write(w)
    w.bool(False)
    h.step(Frame(conn_id, w.getvalue()))
    h.send(c, -4, OpCode.AUTH, AuthPacket(0, "digest", b"u:p"))
    h.send(c, 1, OpCode.EXISTS, ExistsRequest("/", False))
    assert c.frames == []  # nothing before the session is durable
    h.sync()
    assert len(c.frames) == 3 and c.closed is None
    assert [parse_reply(f).xid for f in c.frames[1:]] == [-4, 1]


def test_tracked_digest_equals_a_full_recomputation():
    from zoopark.core.tree.datatree import DataTree

    h = Harness()
    h.core.tree = tree = DataTree(track_digest=True)
    h.core.prep.tree = tree
    c, _ = h.connect()
    create(h, c, "/d", b"1")
    create(h, c, "/d/e", b"22", flags=1)
    h.request(c, OpCode.SET_DATA, SetDataRequest("/d", b"333", -1))
    h.request(c, OpCode.DELETE, DeleteRequest("/d/e", -1))
    create(h, c, "/d/s-", flags=2)
    assert tree.digest == tree.recompute_digest() != 0


def test_multi_log_entries_replay_to_the_tree_the_core_applied():
    """The core applies a multi's txn records as it prepped them and logs their encoding (MultiTxn): what a
    restart or a follower reads back must give the same tree, and the bytes must be the jute records' own."""
    from zoopark.core.jute.io import Writer
    from zoopark.core.jute.records import (
        CheckVersionTxn,
        CreateTxn,
        DeleteTxn,
        MultiHeader,
        MultiTxn,
        SetDataTxn,
        TxnHeader,
    )
    from zoopark.core.jute.txns import decode_txn, decode_txn_entry
    from zoopark.core.server.actions import Frame
    from zoopark.core.server.core import replay_txn
    from zoopark.core.tree.datatree import DataTree

    h = Harness()
    c, _ = h.connect()
    assert create(h, c, "/t", b"root").err == 0
    assert create(h, c, "/t/old", b"o").err == 0

    def multi(ops) -> list[tuple[int, int]]:
        w = Writer()
        for op, rec in ops:
            MultiHeader(op, False, -1).write(w)
            rec.write(w)
        MultiHeader(-1, True, -1).write(w)
        before = len(c.frames)
        h.step(Frame(c.id, b"\x00\x00\x00\x07\x00\x00\x00\x0e" + w.getvalue()))
        r = Reader(parse_reply(c.frames[before]).body)
        out = []
        while not (mh := MultiHeader.read(r)).done:
            out.append((mh.type, mh.err))
            if mh.type == OpCode.ERROR:
                r.int()
            elif mh.type == OpCode.SET_DATA:
                Stat.read(r)
            elif mh.type == OpCode.CREATE:
                r.string()
        return out

    ok = multi([(OpCode.CHECK, CheckVersionRequest("/t", 0)),
                (OpCode.CREATE, CreateRequest("/t/a", b"a" * 10, OPEN, 0)),
                (OpCode.CREATE, CreateRequest("/t/s-", b"", OPEN, 2)),
                (OpCode.SET_DATA, SetDataRequest("/t", b"changed", -1)),
                (OpCode.DELETE, DeleteRequest("/t/old", -1))])
    assert ok == [(OpCode.CHECK, 0), (OpCode.CREATE, 0), (OpCode.CREATE, 0), (OpCode.SET_DATA, 0),
                  (OpCode.DELETE, 0)]
    failed = multi([(OpCode.SET_DATA, SetDataRequest("/t/a", b"x", -1)),
                    (OpCode.CHECK, CheckVersionRequest("/t", 7)),
                    (OpCode.DELETE, DeleteRequest("/t/a", -1))])
    assert failed == [(-1, 0), (-1, Err.BADVERSION), (-1, Err.RUNTIMEINCONSISTENCY)]

    replayed = DataTree()
    multis = []
    for _, entry in h.log:
        hdr, txn = decode_txn_entry(entry)
        if isinstance(txn, MultiTxn):
            multis.append([(t.type, decode_txn(t.type, t.data)) for t in txn.txns])
            w = Writer()  # the generic writer: the jute record's own bytes
            TxnHeader(hdr.client_id, hdr.cxid, hdr.zxid, hdr.time, hdr.type).write(w)
            txn.write(w)
            assert w.getvalue() == entry
        replay_txn(replayed, {}, hdr, txn)
    assert len(multis) == 2
    # ZooKeeper's txns: a check carries the version + 1, a create its parent's new cversion
    assert multis[0] == [(OpCode.CHECK, CheckVersionTxn("/t", 1)),
                         (OpCode.CREATE, CreateTxn("/t/a", b"a" * 10, OPEN_ACL_UNSAFE, False, 2)),
                         (OpCode.CREATE, CreateTxn("/t/s-0000000002", b"", OPEN_ACL_UNSAFE, False, 3)),
                         (OpCode.SET_DATA, SetDataTxn("/t", b"changed", 1)),
                         (OpCode.DELETE, DeleteTxn("/t/old"))]

    def user_nodes(tree):
        return {p: (n.stat_bytes(), n.data) for p, n in tree.nodes.items() if p.startswith("/t")}

    assert user_nodes(replayed) == user_nodes(h.core.tree)
    assert set(user_nodes(replayed)) == {"/t", "/t/a", "/t/s-0000000002"}
