"""A hung client loses its session on every member, as on ZooKeeper 3.8.

The hung client is a raw socket that completes the handshake, creates its ephemerals, and then sends nothing
at all while its TCP connection stays open (a process blocked in a debugger, a stopped VM). A learner reports
to the leader only the sessions it heard from since its last PING reply (LearnerSessionTracker's touchTable),
so the leader expires that session after its timeout wherever it is connected; a client that keeps pinging
keeps its session. Checked on a leader, a follower and an observer of an ensemble, and on a member serving
read-only clients, side by side with ZooKeeper.
"""

from __future__ import annotations

import time

import pytest
from kazoo.client import KazooClient

from zoopark.core.jute.constants import OpCode
from zoopark.core.jute.io import Reader, Writer
from zoopark.core.jute.records import OPEN_ACL_UNSAFE, ConnectRequest, ConnectResponse, CreateRequest

from coreensemble import CoreEnsemble
from procs import (
    ZooKeeperProcess,
    ZooParkProcess,
    close_clients,
    ensemble_config,
    ensemble_ports,
    member,
    server_mode,
    wait_settled,
)
from rawclient import RawClient
from references import needs

TIMEOUT_MS = 4_000  # the ensemble's tickTime is 500 ms: within ZooKeeper's [2, 20] ticks
EPHEMERALS = 50


def test_a_followers_ping_reply_names_only_the_sessions_it_heard_from() -> None:
    ens = CoreEnsemble()
    busy, idle = ens.connect(2), ens.connect(2)
    ens.settle()
    core = ens.cores[2]
    core.take_touches()
    ens.send(busy, OpCode.PING, xid=-2)
    assert core.take_touches() == [(busy.session, 10_000)]
    assert core.take_touches() == []  # forgotten once reported
    assert idle.connected and not idle.closed  # connected, silent, not reported


def _connect(port: int, read_only: bool = False, session: int = 0, passwd: bytes = bytes(16)) -> tuple[RawClient,
                                                                                                         int]:
    """A raw connection; the session id the server gave (0: refused)."""
    c = RawClient(port)
    w = Writer()
    ConnectRequest(0, 0, TIMEOUT_MS, session, passwd).write(w)
    w.bool(read_only)
    c.send_frame(w.getvalue())
    try:
        resp = ConnectResponse.read(Reader(c.read_frame()))
    except OSError:
        return c, 0
    c.session_id, c.passwd = resp.session_id, resp.passwd or b""
    return c, resp.session_id


def _ping(c: RawClient) -> str:
    w = Writer()
    w.int(-2)
    w.int(OpCode.PING)
    try:
        c.send_frame(w.getvalue())
        c.read_frame()
        return "ok"
    except OSError:
        return "closed"


def _fates(watched: dict[str, tuple], read_only: bool) -> dict[str, dict[str, str]]:
    """{name: (port, hung, active, gone, kept)}: keep every active client pinging while the hung ones stay
    silent, until each `gone()` says its hung session's traces are gone (or three timeouts pass); then what
    each client sees (`kept()`: the active client's session is still there)."""
    deadline = time.monotonic() + 3 * TIMEOUT_MS / 1000
    pings = {name: "ok" for name in watched}
    done: set[str] = set()
    while time.monotonic() < deadline and len(done) < len(watched):
        for name, (_, _, active, gone, _) in watched.items():
            if pings[name] == "ok":
                pings[name] = _ping(active)
            if name not in done and gone():
                done.add(name)
        time.sleep(0.2)  # the active clients' ping interval (kazoo pings every timeout / 3)
    out = {name: {"hung session's traces": "gone" if name in done else "kept",
                  "active client's pings": pings[name],
                  "active client's session": "kept" if kept() else "gone"}
           for name, (_, _, _, _, kept) in watched.items()}
    for name, (port, hung, _, _, _) in watched.items():
        row = out[name]
        hung.sock.settimeout(5.0)
        row["hung connection"] = "closed by the server" if hung.closed_by_server() else "open"
        again, sid = _connect(port, read_only, hung.session_id, hung.passwd)
        again.close()
        row["hung session resumed"] = "refused" if sid == 0 else "resumed"
    return out


def _roles(cls) -> dict[str, dict[str, str]]:
    """Leader, follower, observer: a hung client with ephemerals on each; another client watches them."""
    ports = ensemble_ports((1, 2, 3, 4))
    extra = ensemble_config(ports, observers=(4,))
    members = [member(cls, i, extra) for i in ports]
    raws: list[RawClient] = []
    checker: KazooClient | None = None
    try:
        for p in members:
            p.start(wait=False)
        roles = wait_settled(members, timeout=90)
        on: dict = {"leader": roles["leader"][0], "follower": roles["follower"][0], "observer": roles["observer"][0]}
        checker = KazooClient(roles["follower"][1].hosts, timeout=10.0)
        checker.start(timeout=30)
        for role, p in on.items():
            checker.create(f"/{role}")
            hung, _ = _connect(p.port)
            active, _ = _connect(p.port)
            raws += [hung, active]
            for i in range(EPHEMERALS):
                hung.call(OpCode.CREATE, CreateRequest(f"/{role}/h{i}", b"", list(OPEN_ACL_UNSAFE), 1))
            active.call(OpCode.CREATE, CreateRequest(f"/{role}/active", b"", list(OPEN_ACL_UNSAFE), 1))
            checker.sync(f"/{role}")
            assert len(checker.get_children(f"/{role}")) == EPHEMERALS + 1
            on[role] = (p, hung, active)
        watched = {}
        for role, (p, hung, active) in on.items():
            def gone(role=role) -> bool:
                checker.sync(f"/{role}")
                return checker.get_children(f"/{role}") == ["active"]
            def kept(role=role) -> bool:
                checker.sync(f"/{role}")
                return checker.exists(f"/{role}/active") is not None
            watched[role] = (p.port, hung, active, gone, kept)
        out = _fates(watched, False)
        return out
    finally:
        if checker is not None:
            close_clients([checker])
        for c in raws:
            c.close()
        for p in members:
            p.cleanup()


def _read_only(cls) -> dict[str, dict[str, str]]:
    """A member serving read-only clients (its quorum gone): a hung read-only session expires there."""
    ports = ensemble_ports((1, 2, 3))
    extra = ensemble_config(ports)
    kw: dict = {}
    if cls is ZooKeeperProcess:  # as in test_read_only: a system property, and local sessions
        kw["jvm_props"] = {"readonlymode.enabled": "true"}
        extra["localSessionsEnabled"] = "true"
    else:
        extra["readonlymode.enabled"] = "true"
    members = [member(cls, i, extra, **kw) for i in ports]
    raws: list[RawClient] = []
    try:
        for p in members:
            p.start(wait=False)
        roles = wait_settled(members, timeout=90)
        survivor = roles["follower"][0]
        for p in members:
            if p is not survivor:
                p.kill()
        deadline = time.monotonic() + 60
        while server_mode(survivor.port) != "read-only":
            assert time.monotonic() < deadline, "never read-only"
            time.sleep(0.1)
        hung, _ = _connect(survivor.port, read_only=True)
        active, _ = _connect(survivor.port, read_only=True)
        raws += [hung, active]

        def gone() -> bool:  # a local session leaves no trace but its connection: the server closes it
            hung.sock.settimeout(0.05)
            return hung.closed_by_server()
        return _fates({"read-only": (survivor.port, hung, active, gone, lambda: _ping(active) == "ok")}, True)
    finally:
        for c in raws:
            c.close()
        for p in members:
            p.cleanup()


@pytest.mark.xdist_group("ensembles")
@needs("zookeeper")
def test_a_hung_client_expires_on_every_role_as_on_zookeeper() -> None:
    theirs = _roles(ZooKeeperProcess)
    assert theirs["follower"]["hung session's traces"] == "gone"  # the reference itself
    assert theirs["follower"]["active client's session"] == "kept"
    ours = _roles(ZooParkProcess)
    assert ours == theirs


@pytest.mark.xdist_group("ensembles")
@needs("zookeeper")
def test_a_hung_read_only_client_expires_as_on_zookeeper() -> None:
    theirs = _read_only(ZooKeeperProcess)
    assert theirs["read-only"]["hung session's traces"] == "gone"  # the reference itself
    ours = _read_only(ZooParkProcess)
    assert ours == theirs
