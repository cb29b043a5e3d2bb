"""A real zoopark process: restarts, session expiry in real time, resumption, limits, hostile input."""

from __future__ import annotations

import socket
import struct
import time

import pytest
from kazoo.client import KazooClient

from zoopark.core.jute.constants import Err, EventType, OpCode
from zoopark.core.jute.io import Reader, Writer
from zoopark.core.jute.records import (
    OPEN_ACL_UNSAFE,
    AddWatchRequest,
    Create2Response,
    CreateRequest,
    CreateTTLRequest,
    DeleteRequest,
    ExistsRequest,
    SetDataRequest,
    Stat,
    SyncRequest,
)

from procs import ZooKeeperProcess, ZooParkProcess, four_letter
from rawclient import RawClient
from references import needs


def wait_until(cond, timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def kazoo():
    clients = []

    def make(hosts: str, **kw) -> KazooClient:
        c = KazooClient(hosts=hosts, **kw)
        c.start(timeout=15)
        clients.append(c)
        return c
    yield make
    for c in clients:
        c.stop()
        c.close()


def test_acknowledged_writes_survive_sigkill_and_restart(kazoo):
    server = ZooParkProcess().start()
    try:
        zk = kazoo(server.hosts)
        zk.create("/keep", b"1")
        paths = [zk.create("/keep/n-", b"x", sequence=True) for _ in range(50)]
        zk.set("/keep", b"2")
        zk.stop()
        server.kill()
        server.start()
        zk2 = kazoo(server.hosts)
        assert zk2.get("/keep")[0] == b"2"
        assert sorted("/keep/" + c for c in zk2.get_children("/keep")) == sorted(paths)
        assert zk2.create("/keep/n-", sequence=True) == "/keep/n-0000000050"
    finally:
        server.cleanup()


def test_session_expires_on_time_and_fires_watches():
    with ZooParkProcess(extra={"tickTime": "100"}) as server:
        doomed = RawClient(server.port)
        resp = doomed.connect(timeout_ms=300)
        assert resp.time_out == 300
        hdr, _ = doomed.call(OpCode.CREATE, CreateRequest("/eph", b"", list(OPEN_ACL_UNSAFE), 1))
        assert hdr.err == 0
        watcher = RawClient(server.port)
        watcher.connect(timeout_ms=10_000)
        hdr, _ = watcher.call(OpCode.EXISTS, ExistsRequest("/eph", True))
        assert hdr.err == 0
        started = time.monotonic()

        def gone() -> bool:
            h, _ = watcher.call(OpCode.EXISTS, ExistsRequest("/eph", False))
            return h.err == Err.NONODE
        wait_until(gone, 5, "the ephemeral of an expired session to go")
        elapsed = time.monotonic() - started
        assert 0.2 <= elapsed <= 2.0, elapsed
        assert [(e.type, e.path) for e in watcher.events] == [(EventType.NODE_DELETED, "/eph")]
        assert doomed.closed_by_server()
        again = RawClient(server.port)
        resp2 = again.connect(session_id=resp.session_id, passwd=resp.passwd)
        assert resp2.session_id == 0 and resp2.time_out == 0


def test_session_resumes_on_a_new_connection():
    with ZooParkProcess() as server:
        c = RawClient(server.port)
        resp = c.connect(timeout_ms=10_000)
        c.call(OpCode.CREATE, CreateRequest("/mine", b"", list(OPEN_ACL_UNSAFE), 1))
        c.close()
        c2 = RawClient(server.port)
        resp2 = c2.connect(timeout_ms=10_000, session_id=resp.session_id, passwd=resp.passwd)
        assert resp2.session_id == resp.session_id
        hdr, body = c2.call(OpCode.EXISTS, ExistsRequest("/mine", False))
        assert hdr.err == 0 and Stat.read(Reader(body)).ephemeral_owner == resp.session_id
        bad = RawClient(server.port)
        resp3 = bad.connect(session_id=resp.session_id, passwd=b"\x00" * 16)
        assert resp3.time_out == 0 and bad.closed_by_server()


def test_connections_beyond_max_client_cnxns_are_refused():
    with ZooParkProcess(extra={"maxClientCnxns": "3"}) as server:
        clients = [RawClient(server.port) for _ in range(3)]
        for c in clients:
            c.connect()
        extra = RawClient(server.port, timeout=2)
        assert extra.closed_by_server()
        clients[0].close()

        def admitted() -> bool:
            try:
                c = RawClient(server.port, timeout=2)
                c.connect()
                c.close()
                return True
            except (ConnectionError, OSError):
                return False
        wait_until(admitted, 5, "a slot to free up")


def test_hostile_frames_close_only_their_connection(kazoo):
    with ZooParkProcess(extra={"jute.maxbuffer": "4096"}) as server:
        zk = kazoo(server.hosts)
        zk.create("/ok", b"v")
        for payload in (struct.pack(">i", 0x7FFFFFFF), struct.pack(">i", -5), struct.pack(">i", 5000) + b"x" * 5000):
            c = RawClient(server.port)
            c.connect()
            c.sock.sendall(payload)
            assert c.closed_by_server()
        # a frame whose body lies about its lengths gets MARSHALLINGERROR and the connection stays
        c = RawClient(server.port)
        c.connect()
        c.send_frame(struct.pack(">ii", 7, OpCode.GET_DATA) + struct.pack(">i", 1 << 30) + b"/ok")
        r = Reader(c.read_frame())
        assert struct.unpack_from(">iqi", r.buf)[2] == Err.MARSHALLINGERROR
        hdr, _ = c.call(OpCode.EXISTS, ExistsRequest("/ok", False))
        assert hdr.err == 0
        assert zk.get("/ok")[0] == b"v"


def test_connection_without_handshake_is_closed():
    with ZooParkProcess(extra={"zookeeper.nio.sessionlessCnxnTimeout": "300"}) as server:
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        s.sendall(b"\x00\x00")
        started = time.monotonic()
        assert s.recv(10) == b""
        assert time.monotonic() - started < 3


def test_ttl_nodes_expire_and_containers_are_reaped():
    extra = {"extendedTypesEnabled": "true", "znode.container.checkIntervalMs": "100"}
    with ZooParkProcess(extra=extra) as server:
        c = RawClient(server.port)
        c.connect()
        hdr, body = c.call(OpCode.CREATE_TTL, CreateTTLRequest("/ttl", b"", list(OPEN_ACL_UNSAFE), 5, 300))
        assert hdr.err == 0
        assert Create2Response.read(Reader(body)).stat.ephemeral_owner == 0
        hdr, _ = c.call(OpCode.CREATE_CONTAINER, CreateRequest("/box", b"", list(OPEN_ACL_UNSAFE), 4))
        assert hdr.err == 0
        c.call(OpCode.CREATE, CreateRequest("/box/item", b"", list(OPEN_ACL_UNSAFE), 0))
        c.call(OpCode.DELETE, DeleteRequest("/box/item", -1))

        def reaped() -> bool:
            a, _ = c.call(OpCode.EXISTS, ExistsRequest("/ttl", False))
            b, _ = c.call(OpCode.EXISTS, ExistsRequest("/box", False))
            return a.err == Err.NONODE and b.err == Err.NONODE
        wait_until(reaped, 5, "the TTL node and the empty container to be removed")


def test_ttl_refused_without_extended_types():
    with ZooParkProcess() as server:
        c = RawClient(server.port)
        c.connect()
        hdr, _ = c.call(OpCode.CREATE_TTL, CreateTTLRequest("/ttl", b"", list(OPEN_ACL_UNSAFE), 5, 300))
        assert hdr.err == Err.UNIMPLEMENTED


def test_persistent_recursive_watch_sees_the_subtree():
    with ZooParkProcess() as server:
        w = RawClient(server.port)
        w.connect()
        hdr, _ = w.call(OpCode.ADD_WATCH, AddWatchRequest("/tree", 1))
        assert hdr.err == 0
        c = RawClient(server.port)
        c.connect()
        acl = list(OPEN_ACL_UNSAFE)
        c.call(OpCode.CREATE, CreateRequest("/tree", b"", acl, 0))
        c.call(OpCode.CREATE, CreateRequest("/tree/a", b"", acl, 0))
        c.call(OpCode.SET_DATA, SetDataRequest("/tree/a", b"1", -1))
        w.call(OpCode.SYNC, SyncRequest("/"))
        assert [(e.type, e.path) for e in w.events] == [
            (EventType.NODE_CREATED, "/tree"),
            (EventType.NODE_CREATED, "/tree/a"),
            (EventType.NODE_DATA_CHANGED, "/tree/a"),
        ]


@pytest.mark.zk
@needs("zookeeper")
@pytest.mark.parametrize("cmd", ["stat", "conf", "ruok", "xyzw"])
def test_four_letter_whitelist_like_zookeeper(cmd):
    extra = {"4lw.commands.whitelist": "srvr"}
    answers = []
    for cls in (ZooKeeperProcess, ZooParkProcess):
        with cls(extra=extra) as server:
            try:
                answers.append(four_letter(server.port, cmd))
            except OSError as e:
                answers.append(f"error {type(e).__name__}")
    assert answers[0] == answers[1]


def test_a_burst_beyond_global_outstanding_limit_completes_in_order():
    """Reading pauses while more than globalOutstandingLimit writes wait for the disk, and resumes."""
    with ZooParkProcess(extra={"globalOutstandingLimit": "5"}) as server:
        c = RawClient(server.port, timeout=20)
        c.connect()
        frames = []
        for i in range(300):
            body = struct.pack(">ii", i + 1, OpCode.CREATE)
            rec = CreateRequest(f"/burst-{i}", b"x" * 100, list(OPEN_ACL_UNSAFE), 0)
            w = Writer()
            rec.write(w)
            frames.append(struct.pack(">i", len(body) + len(w.getvalue())) + body + w.getvalue())
        c.sock.sendall(b"".join(frames))
        xids = [struct.unpack_from(">iqi", c.read_frame())[0::2] for _ in range(300)]
        assert xids == [(i + 1, 0) for i in range(300)]
