"""Read-only mode (readonlymode.enabled): a member without a quorum serves clients that asked for read-only.
First the core's rules, then real processes side by side with a ZooKeeper 3.8 ensemble doing the same."""

from __future__ import annotations

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.handlers.threading import KazooTimeoutError

from zoopark.core.jute.constants import Err, OpCode
from zoopark.core.jute.io import Reader
from zoopark.core.jute.records import (
    OPEN_ACL_UNSAFE,
    CreateRequest,
    CreateTxn,
    ExistsRequest,
    GetDataRequest,
    GetDataResponse,
    SetDataRequest,
    SyncRequest,
    TxnHeader,
)
from zoopark.core.server.actions import Committed
from zoopark.core.session import generate_password

from corehelp import Harness, events
from procs import (
    ZooKeeperProcess,
    ZooParkProcess,
    close_clients,
    ensemble_config,
    ensemble_ports,
    four_letter,
    member,
    server_mode,
    wait_settled,
    wait_until,
)
from references import needs


def read_only_core() -> Harness:
    """A follower's core that knew one global session and one znode, turned read-only (its quorum gone)."""
    h = Harness()
    h.core.become_follower()
    h.core.step(Committed(TxnHeader(0x77, 1, 1, 5, OpCode.CREATE), CreateTxn("/a", b"1", list(OPEN_ACL_UNSAFE),
                                                                             False, 1)), h.now_ms)
    h.core.become_read_only()
    return h


def test_only_read_only_clients_are_accepted_and_sessions_are_local() -> None:
    h = read_only_core()
    rw, resp = h.connect(read_only=False)
    assert resp is None and rw.closed, "a client that did not ask for read-only is refused"
    old, resp = h.connect(read_only=None)
    assert resp is None and old.closed
    ro, resp = h.connect(read_only=True)
    assert resp.session_id != 0 and resp.time_out == 10_000 and ro.read_only is True and not ro.closed
    # A global session reconnecting here is told it expired (as ZooKeeper 3.8's read-only server does).
    glob, resp = h.connect(session_id=0x77, passwd=generate_password(0x77), read_only=True)
    assert (resp.session_id, resp.time_out, glob.read_only) == (0, 0, True) and glob.closed
    # A local session can come back (another connection, same server).
    sid = resp_sid = h.core.conns[ro.id].session
    again, resp = h.connect(session_id=sid, passwd=generate_password(sid), read_only=True)
    assert resp.session_id == resp_sid and again.read_only is True


def test_reads_and_watches_work_writes_and_sync_get_notreadonly() -> None:
    h = read_only_core()
    c, _ = h.connect(read_only=True)
    rep = h.request(c, OpCode.GET_DATA, GetDataRequest("/a", True))
    assert rep.err == 0 and GetDataResponse.read(Reader(rep.body)).data == b"1"
    assert h.request(c, OpCode.EXISTS, ExistsRequest("/b", True), xid=2).err == Err.NONODE
    for xid, (op, rec) in enumerate([
        (OpCode.CREATE, CreateRequest("/b", b"", list(OPEN_ACL_UNSAFE), 0)),
        (OpCode.SET_DATA, SetDataRequest("/a", b"x", -1)),
        (OpCode.SYNC, SyncRequest("/")),
    ], start=3):
        assert h.request(c, op, rec, xid=xid).err == Err.NOTREADONLY
    assert h.core.tree.last_zxid == 1 and h.log == [], "nothing was written"
    assert events(c) == []
    # closeSession ends the local session: no txn, the connection closes.
    assert h.request(c, OpCode.CLOSE_SESSION, None, xid=9).err == 0
    assert c.closed and len(h.core.sessions) == 0 and h.log == []


def test_local_sessions_expire_locally() -> None:
    h = read_only_core()
    c, resp = h.connect(read_only=True, timeout_ms=4000)
    h.advance(resp.time_out + 2 * h.core.settings.tick_ms)
    assert c.closed == "session expired" and len(h.core.sessions) == 0 and h.log == []


# ---- real processes, side by side with ZooKeeper --------------------------------------------------------


def scenario(cls) -> dict[str, object]:
    """Three members with read-only mode; two die: the third serves read-only clients; the two come back:
    it serves everyone again. What clients and 4lw see is the transcript."""
    ports = ensemble_ports((1, 2, 3))
    extra = ensemble_config(ports)
    kw: dict = {}
    if cls is ZooKeeperProcess:  # ZooKeeper reads it as a system property, and needs local sessions for it
        kw["jvm_props"] = {"readonlymode.enabled": "true"}
        extra["localSessionsEnabled"] = "true"
    else:
        extra["readonlymode.enabled"] = "true"
    members = [member(cls, i, extra, **kw) for i in ports]
    clients: list[KazooClient] = []
    out: dict[str, object] = {}

    def client(p, read_only: bool) -> KazooClient:
        c = KazooClient(p.hosts, timeout=10.0, read_only=read_only,
                        connection_retry={"max_tries": -1, "delay": 0.1, "max_delay": 0.5})
        clients.append(c)
        return c

    try:
        for p in members:
            p.start(wait=False)
        roles = wait_settled(members, timeout=90)
        w = client(roles["leader"][0], False)
        w.start(timeout=30)
        w.create("/a", b"1")
        survivor = roles["follower"][0]
        ro = client(survivor, True)
        seen: list[str] = []
        ro.add_listener(lambda state: seen.append(str(state)))
        ro.start(timeout=30)
        out["before"] = ro.client_state
        gone = [p for p in members if p is not survivor]
        for p in gone:
            p.kill()
        # (It may still say follower for a moment, until it notices the leader is gone.)
        out["mode"] = wait_until("read-only mode", lambda: server_mode(survivor.port) == "read-only" and "read-only",
                                 60)
        out["isro"] = four_letter(survivor.port, "isro")
        out["srvr line"] = four_letter(survivor.port, "srvr").splitlines()[1]
        wait_until("the client reconnects read-only", lambda: ro.client_state == "CONNECTED_RO")
        out["session lost on the way"] = "LOST" in seen
        out["get"] = ro.get("/a")[0]
        for name, call in (("create", lambda: ro.create("/b", b"")), ("set", lambda: ro.set("/a", b"2")),
                           ("sync", lambda: ro.sync("/"))):
            try:
                call()
                out[name] = "ok"
            except KazooException as e:
                out[name] = type(e).__name__
        out["exists with a watch"] = ro.exists("/c", watch=lambda e: None)
        fresh = client(survivor, True)
        fresh.start(timeout=30)
        out["new read-only client"] = fresh.client_state
        rw = client(survivor, False)
        try:
            rw.start(timeout=5)
            out["read-write client"] = rw.client_state
        except KazooTimeoutError:
            out["read-write client"] = "refused"
        rw.stop()
        for p in gone:
            p.start(wait=False)
        wait_settled(members, timeout=90)
        wait_until("the client is read-write again", lambda: ro.client_state == "CONNECTED", 90)
        out["create after"] = ro.create("/after", b"")
        out["isro after"] = four_letter(survivor.port, "isro")
        return out
    finally:
        close_clients(clients)
        for p in members:
            p.cleanup()


@pytest.mark.xdist_group("ensembles")
@needs("zookeeper")
def test_read_only_mode_as_zookeeper() -> None:
    theirs = scenario(ZooKeeperProcess)
    ours = scenario(ZooParkProcess)
    assert theirs["mode"] == "read-only" and theirs["create"] == "NotReadOnlyCallError"  # the reference itself
    assert ours == theirs
