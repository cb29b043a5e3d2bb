"""Sessions that move between members and connections, on the cores (ZooKeeper 3.8's rules, read from
SessionTrackerImpl.checkSession / setOwner, LearnerMaster.revalidateSession, PrepRequestProcessor,
FinalRequestProcessor and CommitProcessor):

- the leader knows which member serves each session (its owner): the creating member, then whichever member
  last revalidated it (or the leader itself, for its own clients);
- a write through any other member is prepped as an error txn SESSIONMOVED, and the member that sent it
  closes the client's connection instead of replying; the leader checks its own clients' reads and pings
  that way too, a follower answers reads without asking;
- a client reconnecting with a session closes that session's other connection on the member first;
- a commit answers only the oldest write of the session still waiting on the member, sent before the txn
  was proposed; a request on a closing session is dropped, never answered ahead of earlier replies.

Every reply goes through the ReplyOrder invariant (zoopark.sim.replies)."""

from __future__ import annotations

import random
import time

import pytest

from zoopark.core.jute.constants import Err, OpCode
from zoopark.core.jute.io import Reader, Writer
from zoopark.core.jute.records import (
    OPEN_ACL_UNSAFE,
    CreateRequest,
    CreateTxn,
    DeleteRequest,
    ErrorTxn,
    ExistsRequest,
    GetDataRequest,
    ReplyHeader,
    SetDataRequest,
    SetDataTxn,
    TxnHeader,
)
from zoopark.core.server.actions import Committed, Revalidated
from zoopark.core.session import generate_password
from zoopark.sim.replies import ReplyOrder, ReplyOrderViolation

from coreensemble import LEADER, CoreEnsemble, Raw, multi
from corehelp import SESSION, Harness, follower, parse_reply
from procs import (
    ZooKeeperProcess,
    ZooParkProcess,
    close_clients,
    ensemble_config,
    ensemble_ports,
    member,
    wait_settled,
)
from rawclient import RawClient
from references import needs


def create(path: str, flags: int = 0) -> CreateRequest:
    return CreateRequest(path, b"", list(OPEN_ACL_UNSAFE), flags)


def session_on(ens: CoreEnsemble, member: int):
    c = ens.connect(member)
    ens.settle()
    assert c.connected and not c.closed
    return c


def errors(c) -> list[tuple[int, int]]:
    return [(xid, err) for xid, err, _ in c.replies]


# ---- the owner, on the leader ------------------------------------------------------------------------


@pytest.mark.parametrize("b_on", [2, LEADER])
def test_a_write_from_the_member_the_session_left_closes_that_connection(b_on: int) -> None:
    ens = CoreEnsemble()
    a = session_on(ens, 2 if b_on == LEADER else 3)
    b = ens.takeover(b_on, a)
    ens.settle()
    assert b.connected and not a.closed  # another member: nobody closed A's connection yet
    ens.send(a, OpCode.CREATE, create("/from-a"))
    ens.settle()
    assert a.closed and a.replies == []  # no reply: ZooKeeper closes the connection (sendCloseSession)
    assert ens.cores[LEADER].tree.get("/from-a") is None
    ens.send(b, OpCode.CREATE, create("/from-b"))
    ens.settle()
    assert errors(b) == [(1, 0)] and not b.closed


def test_a_read_from_the_member_the_session_left_is_answered_on_a_follower() -> None:
    ens = CoreEnsemble()
    a = session_on(ens, 3)
    ens.takeover(2, a)
    ens.settle()
    ens.send(a, OpCode.EXISTS, ExistsRequest("/", False))
    assert errors(a) == [(1, 0)] and not a.closed  # a learner does not check the owner of a read


def test_on_the_leader_even_a_read_of_a_session_that_moved_closes_the_connection() -> None:
    ens = CoreEnsemble()
    a = session_on(ens, LEADER)
    ens.takeover(2, a)
    ens.settle()
    ens.send(a, OpCode.EXISTS, ExistsRequest("/", False))
    assert a.closed and a.replies == []


def test_a_multi_of_a_session_that_moved_closes_the_connection() -> None:
    ens = CoreEnsemble()
    a = session_on(ens, 2)
    ens.takeover(3, a)
    ens.settle()
    ens.send(a, OpCode.MULTI, Raw(multi([(OpCode.CREATE, create("/m1")), (OpCode.CREATE, create("/m2"))])))
    ens.settle()
    assert a.closed and a.replies == []
    assert ens.cores[2].tree.get("/m1") is None


def test_the_old_client_takes_its_session_back_by_reconnecting() -> None:
    ens = CoreEnsemble()
    a = session_on(ens, 2)
    b = ens.takeover(3, a)
    ens.settle()
    ens.send(a, OpCode.SET_DATA, SetDataRequest("/", b"x", -1))
    ens.settle()
    assert a.closed
    a2 = ens.takeover(2, a)  # kazoo reconnects with its session: the leader hands it back to member 2
    ens.settle()
    ens.send(a2, OpCode.CREATE, create("/back"))
    ens.send(b, OpCode.CREATE, create("/lost"))
    ens.settle()
    assert errors(a2) == [(1, 0)] and b.closed and b.replies == []


def test_a_resume_on_another_member_after_a_disconnect_keeps_writing() -> None:
    ens = CoreEnsemble()
    a = session_on(ens, 2)
    ens.send(a, OpCode.CREATE, create("/eph", 1))
    ens.settle()
    ens.drop(a)
    b = ens.takeover(3, a)
    ens.settle()
    ens.send(b, OpCode.DELETE, DeleteRequest("/eph", -1))
    ens.send(b, OpCode.CREATE, create("/eph2", 1))
    ens.settle()
    assert errors(b) == [(1, 0), (2, 0)]
    assert ens.cores[2].tree.get("/eph2").owner == b.session


def test_a_takeover_on_the_same_member_closes_the_old_connection_even_with_a_wrong_password() -> None:
    """ZooKeeper's processConnectRequest closes the session's other connection before it checks the
    password (CLIENT_RECONNECT)."""
    ens = CoreEnsemble()
    a = session_on(ens, 2)
    bad = ens.connect(2, a.session, bytes(16))
    ens.settle()
    assert a.closed and bad.closed and not bad.connected


# ---- commits answer their own request ---------------------------------------------------------------


def test_a_commit_proposed_before_our_write_was_sent_does_not_answer_it() -> None:
    """The session's old connection on member 3 set / 's data with xid 1; before its commit reached member 2,
    the session moved there and sent the same request with its own xid 1. That commit is not member 2's
    answer: it was proposed before member 2 forwarded anything."""
    h = follower()
    h.core.proposal_seen(7)  # the old connection's setData, proposed before we forward ours
    conn, _ = h.connect(session_id=SESSION, passwd=generate_password(SESSION))
    h.step(Revalidated(SESSION, True))
    conn.frames.clear()
    h.send(conn, 1, OpCode.SET_DATA, SetDataRequest("/", b"new", -1))
    h.step(Committed(TxnHeader(SESSION, 1, 7, 5, OpCode.SET_DATA), SetDataTxn("/", b"old", 1)))
    assert conn.frames == []  # applied, but not ours
    assert h.core.tree.get("/").data == b"old"
    h.step(Committed(TxnHeader(SESSION, 1, 8, 5, OpCode.SET_DATA), SetDataTxn("/", b"new", 2)))
    assert [(parse_reply(f).xid, parse_reply(f).err) for f in conn.frames] == [(1, 0)]


def test_a_commit_of_the_sessions_connection_on_another_member_does_not_answer_ours() -> None:
    """Same session, same cxid, proposed after our write was sent, but another op: the session's connection
    on another member sent it; our answer is still to come."""
    h = follower()
    conn, _ = h.connect(session_id=SESSION, passwd=generate_password(SESSION))
    h.step(Revalidated(SESSION, True))
    conn.frames.clear()
    h.send(conn, 1, OpCode.CREATE, create("/mine"))
    h.step(Committed(TxnHeader(SESSION, 1, 9, 5, OpCode.CREATE),
                     CreateTxn("/other", b"", list(OPEN_ACL_UNSAFE), False, 1)))
    assert conn.frames == []
    h.step(Committed(TxnHeader(SESSION, 1, 10, 5, OpCode.ERROR), ErrorTxn(Err.SESSIONMOVED)))
    assert conn.frames == [] and conn.closed  # ours: the session had moved


def test_the_leader_asserts_that_a_commit_answers_its_own_request() -> None:
    h = Harness(auto_sync=False)
    conn, _ = h.connect()
    h.send(conn, 1, OpCode.CREATE, create("/mine"))
    prop = h.core.proposals[0]
    prop.txn = CreateTxn("/other", b"", list(OPEN_ACL_UNSAFE), False, 1)
    with pytest.raises(AssertionError):
        h.sync()


# ---- a closing session -------------------------------------------------------------------------------


def test_a_request_behind_a_closesession_is_dropped_not_answered_first() -> None:
    h = Harness(auto_sync=False)
    conn, _ = h.connect()
    order = ReplyOrder()
    order.on_request(conn.id, 1, OpCode.CREATE, "/w")
    h.send(conn, 1, OpCode.CREATE, create("/w"))
    order.on_request(conn.id, 2, OpCode.CLOSE_SESSION)
    h.send(conn, 2, OpCode.CLOSE_SESSION)
    order.on_request(conn.id, 3, OpCode.GET_DATA, "/")
    h.send(conn, 3, OpCode.GET_DATA, GetDataRequest("/", False))  # pipelined behind the close
    assert conn.frames == [] and not conn.closed
    h.sync()
    for f in conn.frames:
        r = parse_reply(f)
        order.on_reply(conn.id, r.xid, r.err)
    assert [parse_reply(f).xid for f in conn.frames] == [1, 2] and conn.closed


def test_a_request_of_an_expiring_session_is_dropped() -> None:
    h = Harness(auto_sync=False)
    conn, _ = h.connect(timeout_ms=4_000)
    h.advance(10_000)  # expired: its closeSession is on its way to disk
    h.send(conn, 1, OpCode.GET_DATA, GetDataRequest("/", False))
    assert conn.frames == [] and not conn.closed
    h.sync()
    assert conn.closed and conn.frames == []


# ---- the invariant itself -----------------------------------------------------------------------------


def test_reply_order_catches_an_overtaking_reply_and_a_misanswer() -> None:
    order = ReplyOrder()
    order.on_request("c", 1, OpCode.CREATE, "/a")
    order.on_request("c", 2, OpCode.CREATE, "/b")
    with pytest.raises(ReplyOrderViolation, match="oldest request outstanding is xid 1"):
        order.on_reply("c", 2, 0, "/b")
    with pytest.raises(ReplyOrderViolation, match="answers another request"):
        order.on_reply("c", 1, 0, "/b")
    assert order.on_reply("c", 1, 0, "/a0000000003").xid == 1  # a sequential create's name
    order.on_request("c", -4, OpCode.AUTH)
    assert order.on_reply("c", -4, 0).op == OpCode.AUTH  # auth is answered at once, ahead of the rest
    order.on_close("c")
    with pytest.raises(ReplyOrderViolation, match="closed"):
        order.on_reply("c", 2, 0)


# ---- takeovers at random -------------------------------------------------------------------------------


def _random_run(seed: int, steps: int = 1500) -> CoreEnsemble:
    rng = random.Random(seed)
    ens = CoreEnsemble(rng=rng)
    members = [LEADER, 2, 3]
    clients = [session_on(ens, rng.choice(members)) for _ in range(3)]
    n = 0
    for _ in range(steps):
        live = [c for c in clients if c.connected and not c.closed]
        r = rng.random()
        if r < 0.5 and live:
            c = rng.choice(live)
            n += 1
            kind = rng.random()
            if kind < 0.5:
                ens.send(c, OpCode.CREATE, create(f"/n{n}", rng.choice([0, 1, 2])))
            elif kind < 0.7:
                ens.send(c, OpCode.SET_DATA, SetDataRequest("/", str(n).encode(), -1))
            elif kind < 0.8:
                ens.send(c, OpCode.MULTI, Raw(multi([(OpCode.CREATE, create(f"/m{n}")),
                                                     (OpCode.DELETE, DeleteRequest(f"/m{n}", -1))])))
            elif kind < 0.9:
                ens.send(c, OpCode.GET_DATA, GetDataRequest("/", False))
            elif kind < 0.95:
                ens.send(c, OpCode.SYNC, Raw(b"\x00\x00\x00\x01/", "/"))
            else:
                ens.send(c, OpCode.PING, xid=-2)
        elif r < 0.53 and len(clients) < 200:
            # a client whose connection was closed resumes its session on any member (kazoo does); or a
            # second client takes a live session over
            gone = [c for c in clients if c.closed and c.session and not c.replaced]
            holder = rng.choice(gone or clients)
            if holder.session:
                holder.replaced = holder.closed
                clients.append(ens.takeover(rng.choice(members), holder))
        elif r < 0.532 and live:
            ens.send(rng.choice(live), OpCode.CLOSE_SESSION)
            clients.append(ens.connect(rng.choice(members)))
        elif not ens.random_step():
            continue
    ens.settle()
    return ens


@pytest.mark.parametrize("seed", range(30))
def test_takeovers_pipelines_and_closes_at_random_keep_every_reply_in_order(seed: int) -> None:
    """Clients that take a session over on any member, pipeline writes, reads, multis, syncs and pings,
    and close the session mid-stream, with links and commits in a random order: every reply answers its
    own request in its connection's order (ReplyOrder), no core asserts, and every member ends with the
    leader's tree."""
    ens = _random_run(seed)
    assert ens.order.replies_checked > 0
    leader_tree = {p: n.data for p, n in ens.cores[LEADER].tree.nodes.items()}
    for mid in (2, 3):
        assert {p: n.data for p, n in ens.cores[mid].tree.nodes.items()} == leader_tree
    assert not any(isinstance(err, int) and err == Err.SESSIONMOVED for c in ens.clients.values()
                   for _, err, _ in c.replies), "SESSIONMOVED closes the connection, it is never a reply"


# ---- side by side with a ZooKeeper 3.8 ensemble ---------------------------------------------------------


def _attempt(c: RawClient, op: int, record: object | None = None, xid: int | None = None) -> str:
    """Send one request; what the client sees: the reply's xid and error, or the connection closed."""
    if xid is None:
        c.xid += 1
        xid = c.xid
    w = Writer()
    w.int(xid)
    w.int(op)
    if record is not None:
        record.write(w)  # type: ignore[attr-defined]
    try:
        c.send_frame(w.getvalue())
        for _ in range(100):
            h = ReplyHeader.read(Reader(c.read_frame()))
            if h.xid != -1:
                return f"reply xid {h.xid} err {h.err}"
        return "only events"
    except TimeoutError:
        return "no answer"
    except OSError:  # ConnectionError: closed or reset by the server
        return "closed"


def _join(p, session: int = 0, passwd: bytes = bytes(16)) -> tuple[RawClient, str]:
    c = RawClient(p.port)
    try:
        resp = c.connect(10_000, session, passwd)
    except OSError:
        return c, "closed"
    return c, "refused" if resp.session_id == 0 else "connected"


def _moves(cls) -> dict[str, object]:
    """Client A holds a session on one member, client B takes it over (same id and password) on another
    member or the same one; then A reads, pings and writes. Also a plain resume elsewhere after a
    disconnect, and a takeover with a wrong password. What each client sees is the transcript."""
    ports = ensemble_ports((1, 2, 3))
    members = [member(cls, i, ensemble_config(ports)) for i in ports]
    out: dict[str, object] = {}
    raws: list[RawClient] = []
    try:
        for p in members:
            p.start(wait=False)
        roles = wait_settled(members, timeout=90)
        leader, f1, f2 = roles["leader"][0], roles["follower"][0], roles["follower"][1]
        cases = {"follower to follower": (f1, f2), "follower to the same follower": (f1, f1),
                 "leader to follower": (leader, f1), "follower to leader": (f1, leader),
                 "leader to the leader": (leader, leader)}
        for name, (a_on, b_on) in cases.items():
            a, state = _join(a_on)
            b, b_state = _join(b_on, a.session_id, a.passwd)
            raws += [a, b]
            tag = name.replace(" ", "-")
            out[name] = {
                "B": b_state,
                "A reads": _attempt(a, OpCode.EXISTS, ExistsRequest("/", False)),
                "A pings": _attempt(a, OpCode.PING, xid=-2),
                "A writes": _attempt(a, OpCode.CREATE, create(f"/a-{tag}")),
                "B writes": _attempt(b, OpCode.CREATE, create(f"/b-{tag}")),
                "B reads": _attempt(b, OpCode.EXISTS, ExistsRequest(f"/a-{tag}", False)),
            }
        # A plain resume on another member after the first connection dropped.
        a, _ = _join(f1)
        out["ephemeral"] = _attempt(a, OpCode.CREATE, create("/eph", 1))
        a.close()
        b, out["resumed elsewhere"] = _join(f2, a.session_id, a.passwd)
        raws += [a, b]
        out["resumed write"] = _attempt(b, OpCode.SET_DATA, SetDataRequest("/eph", b"x", -1))
        out["resumed delete"] = _attempt(b, OpCode.DELETE, DeleteRequest("/eph", -1))
        # A wrong password for a live session, on its member: ZooKeeper closes the session's connection
        # before it checks the password.
        a, _ = _join(f1)
        bad, out["wrong password"] = _join(f1, a.session_id, bytes(16))
        raws += [a, bad]
        out["after a wrong password, A reads"] = _attempt(a, OpCode.EXISTS, ExistsRequest("/", False))
        return out
    finally:
        for c in raws:
            c.close()
        for p in members:
            p.cleanup()


@pytest.mark.xdist_group("ensembles")
@needs("zookeeper")
def test_sessions_move_as_on_zookeeper() -> None:
    theirs = _moves(ZooKeeperProcess)
    assert theirs["follower to follower"]["A writes"] == "closed"  # the reference itself
    ours = _moves(ZooParkProcess)
    assert ours == theirs


def _tug_of_war(cls, leader_too: bool = False, seconds: float = 8.0) -> dict[str, object]:
    """Two kazoo clients share one session from two followers, or the leader and a follower (the second
    took it over with its id and password), each creating its own nodes as fast as it can. Each write of the one the session left closes
    its connection; it reconnects to its member and takes the session back; and so on. Every create that
    succeeds must name its own path, and kazoo's connection thread must never meet a reply to another
    request ("xids do not match")."""
    import logging
    import threading

    from kazoo.client import KazooClient
    from kazoo.exceptions import KazooException

    class Seen(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.lines: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            text = record.getMessage() + (str(record.exc_info[1]) if record.exc_info else "")
            if "xids do not match" in text or "Unhandled exception" in text:
                self.lines.append(text)

    ports = ensemble_ports((1, 2, 3))
    members = [member(cls, i, ensemble_config(ports)) for i in ports]
    seen = Seen()
    logging.getLogger("kazoo").addHandler(seen)
    clients: list[KazooClient] = []
    result = {"misanswered": [], "runtime errors": [], "created": 0, "lost": 0}
    lock = threading.Lock()
    try:
        for p in members:
            p.start(wait=False)
        roles = wait_settled(members, timeout=90)
        f1, f2 = (roles["leader"][0], roles["follower"][0]) if leader_too else roles["follower"]
        retry = {"max_tries": -1, "delay": 0.05, "max_delay": 0.2}
        a = KazooClient(f1.hosts, timeout=10.0, connection_retry=retry)
        clients.append(a)
        a.start(timeout=30)
        a.ensure_path("/tug")
        b = KazooClient(f2.hosts, timeout=10.0, connection_retry=retry, client_id=a.client_id)
        clients.append(b)
        b.start(timeout=30)
        deadline = time.monotonic() + seconds

        def work(name: str, c: KazooClient) -> None:
            n = 0
            while time.monotonic() < deadline:
                batch = []
                for _ in range(10):  # pipelined
                    n += 1
                    path = f"/tug/{name}{n:06d}"
                    batch.append((path, c.create_async(path, b"")))
                for path, res in batch:
                    try:
                        got = res.get(timeout=30)
                    except RuntimeError as e:
                        with lock:
                            result["runtime errors"].append(str(e))
                        continue
                    except KazooException:
                        with lock:
                            result["lost"] += 1
                        continue
                    with lock:
                        if got == path:
                            result["created"] += 1
                        else:
                            result["misanswered"].append((path, got))

        threads = [threading.Thread(target=work, args=(n, c)) for n, c in (("a", a), ("b", b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(seconds + 120)
        result["kazoo log"] = seen.lines
        return result
    finally:
        logging.getLogger("kazoo").removeHandler(seen)
        close_clients(clients)
        for p in members:
            p.cleanup()


@pytest.mark.xdist_group("ensembles")
@pytest.mark.parametrize("leader_too", [False, True], ids=["two followers", "leader and follower"])
def test_two_clients_tugging_at_one_session_get_only_their_own_replies(leader_too: bool) -> None:
    """ZooKeeper 3.8 itself fails this one: its CommitProcessor matches a commit to a follower's waiting
    write by session and cxid alone, so with both clients numbering their requests from 1 on every
    connection, a create is now and then told another's path (5 of 4,215 and 6 of 4,678 creates in two 8 s
    runs here, and once kazoo's "xids do not match"; zoopark before this change, without SESSIONMOVED: 154
    of 8,786). zoopark matches the oldest waiting write, proposed after it was sent, with the same op and
    path, so it is held to the rule rather than to ZooKeeper's transcript."""
    ours = _tug_of_war(ZooParkProcess, leader_too)
    assert ours["misanswered"] == [] and ours["runtime errors"] == [] and ours["kazoo log"] == []
    assert ours["created"] > 100
    assert ours["lost"] > 0  # the session did go back and forth: writes were lost with closed connections


def _close_mid_stream(cls) -> dict[str, list[str]]:
    """A client pipelines a create, its closeSession and a read in one go, on a standalone server and on a
    follower: what comes back, in order, until the server closes the connection."""
    def run(port: int, tag: str) -> list[str]:
        c = RawClient(port)
        c.connect(10_000)
        frames = b""
        for xid, op, rec in ((1, OpCode.CREATE, create(f"/{tag}")), (2, OpCode.CLOSE_SESSION, None),
                             (3, OpCode.GET_DATA, GetDataRequest("/", False))):
            w = Writer()
            w.int(xid)
            w.int(op)
            if rec is not None:
                rec.write(w)
            body = w.getvalue()
            frames += len(body).to_bytes(4, "big") + body
        c.sock.sendall(frames)
        seen = []
        try:
            for _ in range(10):
                h = ReplyHeader.read(Reader(c.read_frame()))
                seen.append(f"xid {h.xid} err {h.err}")
        except TimeoutError:
            seen.append("no answer, connection open")
        except OSError:
            seen.append("closed")
        c.close()
        return seen

    out = {}
    with cls() as standalone:
        out["standalone"] = run(standalone.port, "standalone")
    ports = ensemble_ports((1, 2, 3))
    members = [member(cls, i, ensemble_config(ports)) for i in ports]
    try:
        for p in members:
            p.start(wait=False)
        roles = wait_settled(members, timeout=90)
        out["follower"] = run(roles["follower"][0].port, "follower")
        out["leader"] = run(roles["leader"][0].port, "leader")
    finally:
        for p in members:
            p.cleanup()
    return out


@pytest.mark.xdist_group("ensembles")
@needs("zookeeper")
def test_requests_behind_a_closesession_as_on_zookeeper() -> None:
    """ZooKeeper drops the read (its session is closing when it arrives: MissingSessionException), or, when
    the read got in before its prep thread marked the session closing, answers it SESSIONEXPIRED after the
    close's reply; both happen from run to run. zoopark always drops it. Never is it answered first."""
    dropped = ["xid 1 err 0", "xid 2 err 0", "closed"]
    answered_after = ["xid 1 err 0", "xid 2 err 0", f"xid 3 err {int(Err.SESSIONEXPIRED)}", "closed"]
    theirs = _close_mid_stream(ZooKeeperProcess)
    assert all(seen in (dropped, answered_after) for seen in theirs.values()), theirs  # the reference itself
    ours = _close_mid_stream(ZooParkProcess)
    assert ours == {where: dropped for where in theirs}


def test_a_multis_session_check_holds_for_that_multi_only() -> None:
    """Prep checks a multi's session at its first op and trusts it for the rest (nothing between them changes
    it); the next request is checked afresh: one through another member is SESSIONMOVED, one of a session
    that is gone SESSIONEXPIRED, whether alone or as a multi's first op."""
    from zoopark.core.jute.records import CheckVersionRequest, SetDataRequest
    from zoopark.core.server.prep import Prep, Request
    from zoopark.core.session import SessionTable
    from zoopark.core.tree.datatree import DataTree

    tree = DataTree()
    tree.create_node("/a", b"x", OPEN_ACL_UNSAFE, 0, -1, 1, 0, [])
    sessions = SessionTable(2000)
    sessions.add(SESSION, 10_000, 0)
    p = Prep(tree, sessions, False)
    ops = [(OpCode.CHECK, CheckVersionRequest("/a", -1)), (OpCode.SET_DATA, SetDataRequest("/a", b"y", -1))]

    def errs(t: int, txn: object) -> list[int]:
        if t == OpCode.ERROR:
            return [txn.err]
        if t == OpCode.MULTI:
            return [rec.err if sub == OpCode.ERROR else 0 for sub, rec in txn.parts]
        return [0]

    assert errs(*p.prep(Request(SESSION, OpCode.MULTI, ops, [], owner=1), 2)) == [0, 0]
    assert errs(*p.prep(Request(SESSION, OpCode.SET_DATA, ops[1][1], [], owner=2), 3)) == [Err.SESSIONMOVED]
    assert errs(*p.prep(Request(SESSION, OpCode.MULTI, ops, [], owner=2), 4)) == [Err.SESSIONMOVED,
                                                                               Err.RUNTIMEINCONSISTENCY]
    assert errs(*p.prep(Request(SESSION, OpCode.MULTI, ops, [], owner=1), 5)) == [0, 0]
    assert errs(*p.prep(Request(SESSION + 1, OpCode.SET_DATA, ops[1][1], []), 6)) == [Err.SESSIONEXPIRED]
