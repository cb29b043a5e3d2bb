"""kazoo's SASL client against zoopark and ZooKeeper 3.8, side by side, each call under a deadline."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kazoo.client import KazooClient
from kazoo.protocol.states import KeeperState
from kazoo.security import ACL, Id, Permissions

from zoopark.core.jute.constants import OpCode
from zoopark.core.jute.io import Reader
from zoopark.core.jute.records import GetSASLRequest, WhoAmIResponse
from zoopark.core.server.sasl import PROTOCOL, SERVER_NAME, DigestMD5Client

from procs import ZooKeeperProcess, ZooParkProcess, ensemble_config, ensemble_ports, member, wait_settled
from rawclient import RawClient
from references import ZKCLI, needs
from zkcli import without_events

pytestmark = [pytest.mark.zk, needs("zookeeper")]

DEADLINE_S = 30.0


def bounded(fn: Callable[[], object], deadline_s: float = DEADLINE_S) -> str:
    """Run `fn` in a thread: its result's or exception's name; a call still running at the deadline fails
    the test (a hung client is the bug this file guards against)."""
    out: list[str] = []

    def run() -> None:
        try:
            out.append(f"ok {fn()!r}")
        except Exception as e:  # what the client raised is the observation
            out.append(type(e).__name__)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(deadline_s)
    assert not t.is_alive(), f"{fn} still running after {deadline_s}s"
    return out[0]


def settled(condition: Callable[[], bool], deadline_s: float = DEADLINE_S) -> None:
    end = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < end, "the client did not settle"
        time.sleep(0.01)


def sasl_client(hosts: str, user: str | None, password: str = "", mechanism: str = "DIGEST-MD5") -> KazooClient:
    if mechanism == "GSSAPI":  # the user is whoever holds the tickets in KRB5CCNAME
        sasl = {"mechanism": "GSSAPI", "service": "zookeeper"}
    else:
        sasl = {"mechanism": mechanism, "username": user, "password": password} if user else None
    return KazooClient(hosts=hosts, timeout=4, connection_retry={"max_tries": 0}, sasl_options=sasl)


def sasl_session(hosts: str, user: str | None, password: str = "",
                 then: Callable[[KazooClient], object] = lambda c: c.get_children("/zookeeper"),
                 mechanism: str = "DIGEST-MD5") -> list[str]:
    """What a kazoo client with SASL credentials (or none) sees: start, `then`, its state, and the states its
    connection went through (CONNECTED, AUTH_FAILED, ...); stop."""
    c = sasl_client(hosts, user, password, mechanism)
    states: list[str] = []
    callback = c._session_callback

    def record(state: str) -> None:  # the connection thread reports each KeeperState here
        if not states or states[-1] != state:
            states.append(state)
        callback(state)

    c._session_callback = record  # type: ignore[method-assign]
    try:
        seen = [bounded(lambda: c.start(timeout=15))]
        if user:
            # start() returns before the SASL exchange ends: wait for its outcome, so that `then` does not
            # race the client's own failure handling. After AUTH_FAILED kazoo's connection thread winds down
            # and moves on to CLOSED: a call made in between fails with AuthFailedError, one made after with
            # ConnectionClosedError, whichever the server; so wait for CLOSED.
            settled(lambda: c.client_state == KeeperState.CLOSED
                    or (c.sasl_cli is not None and c.sasl_cli.complete))
        seen.append(bounded(lambda: then(c)))
        seen.append(str(c.state))
        seen.append(",".join(states))
        return seen
    finally:
        bounded(c.stop)
        bounded(c.close)


def test_sasl_client_against_a_server_without_sasl_gives_up_as_against_zookeeper():
    with ZooKeeperProcess() as zk, ZooParkProcess() as zp:
        want = sasl_session(zk.hosts, "alice", "secret")
        got = sasl_session(zp.hosts, "alice", "secret")
        assert got == want
        assert want[1:3] == ["ConnectionClosedError", "LOST"]  # ZooKeeper expires the negotiating session


# ---- both servers configured alike: a JAAS Server section, the sasl provider, a SASL super user --------------

SERVER_JAAS = """\
Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_alice="alice-pw"
  user_bob="bob-pw"
  user_root="root-pw";
};
"""
CLIENT_JAAS = """\
Client {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  username="%s"
  password="%s";
};
"""
SASL_PROVIDER = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"


def sasl_pair(tmp: Path, **settings: str) -> tuple[ZooKeeperProcess, ZooParkProcess]:
    """ZooKeeper with -D properties as zkServer.sh passes them, zoopark with the same keys in zoo.cfg."""
    jaas = tmp / "server.jaas"
    jaas.write_text(SERVER_JAAS)
    props = {"authProvider.1": SASL_PROVIDER, "superUser": "root", **settings}
    zk = ZooKeeperProcess(jvm_props={"java.security.auth.login.config": str(jaas),
                                     **{f"zookeeper.{k}": v for k, v in props.items()}})
    zp = ZooParkProcess(extra={"java.security.auth.login.config": str(jaas), **props})
    return zk, zp


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[tuple[ZooKeeperProcess, ZooParkProcess]]:
    zk, zp = sasl_pair(tmp_path_factory.mktemp("sasl"))
    with zk, zp:
        yield zk, zp


@pytest.mark.parametrize(("user", "password"), [("alice", "alice-pw"), ("alice", "wrong"), ("carol", "x")])
def test_digest_md5_logins_as_on_zookeeper(servers, user, password):
    zk, zp = servers
    want = sasl_session(zk.hosts, user, password, lambda c: sorted(c.get_children("/zookeeper")))
    got = sasl_session(zp.hosts, user, password, lambda c: sorted(c.get_children("/zookeeper")))
    assert got == want
    assert want[1].startswith("ok") == (password == "alice-pw"), want
    assert ("AUTH_FAILED" in want[3]) == (password != "alice-pw"), want


def test_a_node_only_sasl_alice_may_read(servers):
    zk, zp = servers
    seen = []
    for srv in (zk, zp):
        alice = sasl_client(srv.hosts, "alice", "alice-pw")
        bounded(lambda: alice.start(timeout=15))  # noqa: B023 (called at once)
        try:
            created = bounded(lambda: alice.create(  # noqa: B023
                "/secret", b"s3", acl=[ACL(Permissions.ALL, Id("sasl", "alice"))]))
            acl = bounded(lambda: alice.get_acls("/secret")[0])  # noqa: B023
            by_alice = bounded(lambda: alice.get("/secret")[0])  # noqa: B023
        finally:
            bounded(alice.stop)
        by_bob = sasl_session(srv.hosts, "bob", "bob-pw", lambda c: c.get("/secret")[0])
        by_root = sasl_session(srv.hosts, "root", "root-pw", lambda c: c.get("/secret")[0])  # superUser
        by_nobody = sasl_session(srv.hosts, None, "", lambda c: c.get("/secret")[0])
        seen.append((created, acl, by_alice, by_bob, by_root, by_nobody))
    assert seen[1] == seen[0]
    assert seen[0][2] == "ok b's3'" and seen[0][3][1] == "NoAuthError" and seen[0][4][1] == "ok b's3'", seen[0]


@pytest.mark.parametrize("token", [b"", b"\x00garbage\xff", b"username=alice", b"x" * 5000])
def test_garbage_second_tokens_get_zookeepers_bytes_and_a_close(servers, token):
    """After the server's challenge, a token that is no digest-response: the reply's bytes and the close."""
    seen = [raw_sasl(srv.port, [b"", token]) for srv in servers]
    assert seen[1] == seen[0]
    assert seen[0][0][2] == 0 and seen[0][1][2:] == (-115, b"\xff\xff\xff\xff", True)  # AUTHFAILED, null, closed


@pytest.mark.parametrize("first", [b"\x00garbage\xff", b"username=alice", b"x" * 4096, b"x" * 4097])
def test_first_tokens_get_zookeepers_bytes(servers, first):
    """A first token that is not empty: ZooKeeper 3.8 on JDK 17 ignores it and challenges (up to 4096 bytes),
    as for the empty one; a longer one is AUTHFAILED and a close."""
    seen = [raw_sasl(srv.port, [first]) for srv in servers]
    assert seen[1] == seen[0]
    assert seen[0] == (raw_sasl(servers[0].port, [b""]) if len(first) <= 4096 else
                       [(1, 0, -115, b"\xff\xff\xff\xff", True)])


def test_a_login_after_an_ignored_first_token_succeeds_as_on_zookeeper(servers):
    """Garbage first, then alice's digest-response to the challenge it got: both servers let her in with
    rspauth, and the connection holds her sasl id (a node only she may read)."""
    seen = []
    for srv in servers:
        raw = RawClient(srv.port)
        try:
            raw.connect()
            hdr, body = raw.call(OpCode.SASL, GetSASLRequest(b"\x00garbage\xff"))
            challenge = Reader(body).buffer()
            client = DigestMD5Client("alice", "alice-pw", "OA6MG9tEQGm2hh", PROTOCOL, SERVER_NAME)
            hdr2, body2 = raw.call(OpCode.SASL, GetSASLRequest(client.evaluate(challenge)))
            rspauth = Reader(body2).buffer()
            assert client.evaluate(rspauth) is None and client.complete, rspauth  # the server proved the password
            whoami = raw.call(OpCode.WHO_AM_I)
            seen.append((hdr.err, hdr2.err, WhoAmIResponse.read(Reader(whoami[1])).client_info, raw.closed_by_server()))
        finally:
            raw.close()
    assert seen[1] == seen[0]
    assert seen[0][:2] == (0, 0) and ("sasl", "alice") in [(i.auth_scheme, i.user) for i in seen[0][2]], seen[0]


def raw_sasl(port: int, tokens: list[bytes]) -> list[tuple]:
    """SASL requests over a raw socket: (xid, zxid, err, body, closed by the server) for each reply; the
    random nonce of a DIGEST-MD5 challenge masked (both servers send 40 base64 characters)."""
    raw = RawClient(port)
    try:
        raw.connect()
        replies = [raw.call(OpCode.SASL, GetSASLRequest(t)) for t in tokens]
        closed = raw.closed_by_server()
    finally:
        raw.close()
    return [(hdr.xid, hdr.zxid, hdr.err, re.sub(rb'nonce="[A-Za-z0-9+/]{40}"', b'nonce="<40>"', body), closed)
            for hdr, body in replies]


def test_the_server_and_other_clients_carry_on_after_failures(servers):
    zk, zp = servers
    for _ in range(3):
        assert sasl_session(zp.hosts, "alice", "wrong")[1:] == ["ConnectionClosedError", "LOST",
                                                               "CONNECTING,CONNECTED,AUTH_FAILED,CLOSED"]
    assert sasl_session(zp.hosts, "bob", "bob-pw")[1].startswith("ok")
    log = zp.log_path.read_text()
    assert "alice-pw" not in log and "bob-pw" not in log and "wrong" not in log  # no password in the log
    assert len(re.findall(r"127\.0\.0\.1:\d+ \(session 0x[0-9a-f]+\) failed SASL authentication: "
                          r"DIGEST-MD5: digest response format violation\. Mismatched response\.", log)) >= 3


@pytest.mark.parametrize("settings", [{"sessionRequireClientSASLAuth": "true"},
                                      {"enforce.auth.enabled": "true", "enforce.auth.schemes": "sasl"}])
def test_enforced_sasl_refuses_unauthenticated_clients_as_zookeeper_does(tmp_path, settings):
    zk, zp = sasl_pair(tmp_path, **settings)
    seen = []
    with zk, zp:
        for srv in (zk, zp):
            raw = RawClient(srv.port)
            try:
                raw.connect()
                hdr, body = raw.call(OpCode.EXISTS, _exists("/"))
                refused = (hdr.xid, hdr.zxid, hdr.err, body, raw.closed_by_server())
            finally:
                raw.close()
            seen.append((refused,
                         sasl_session(srv.hosts, None)[:2],  # kazoo without credentials (it reconnects)
                         sasl_session(srv.hosts, "alice", "wrong"),
                         sasl_session(srv.hosts, "alice", "alice-pw")))
    assert seen[1] == seen[0]
    assert seen[0][0][2] == -124  # SESSIONCLOSEDREQUIRESASLAUTH
    assert seen[0][3][1].startswith("ok"), seen[0]


def _exists(path: str):
    from zoopark.core.jute.records import ExistsRequest
    return ExistsRequest(path, False)


@needs("zkcli")
def test_zkcli_with_sasl_reads_a_sasl_node(servers, tmp_path):
    outs = []
    for srv in servers:
        c = sasl_client(srv.hosts, "alice", "alice-pw")
        bounded(lambda: c.start(timeout=15))  # noqa: B023
        try:
            bounded(lambda: c.ensure_path("/zkcli"))  # noqa: B023
            bounded(lambda: c.create("/zkcli/alice", b"for-alice",  # noqa: B023
                                     acl=[ACL(Permissions.ALL, Id("sasl", "alice"))]))
        finally:
            bounded(c.stop)
        out = {}
        for user, password in (("alice", "alice-pw"), ("bob", "bob-pw")):
            jaas = tmp_path / f"{user}.jaas"
            jaas.write_text(CLIENT_JAAS % (user, password))
            env = {**os.environ, "CLIENT_JVMFLAGS": f"-Djava.security.auth.login.config={jaas}"}
            p = subprocess.run([ZKCLI, "-server", srv.hosts], input="get /zkcli/alice\nwhoami\nquit\n",
                               capture_output=True, text=True, timeout=120, env=env)
            errors = [line for line in p.stderr.splitlines() if "Insufficient permission" in line]
            out[user] = re.sub(r"127\.0\.0\.1:\d+", "<server>", without_events(p.stdout)) + "\n".join(errors)
        outs.append(out)
    assert outs[1] == outs[0]
    assert "for-alice" in outs[0]["alice"] and "for-alice" not in outs[0]["bob"], outs[0]
    assert "Insufficient permission : /zkcli/alice" in outs[0]["bob"] and "sasl: bob" in outs[0]["bob"]


def test_allow_sasl_failed_clients_as_zookeeper(tmp_path):
    zk, zp = sasl_pair(tmp_path, allowSaslFailedClients="true")
    with zk, zp:
        bad = b'username="alice",nonce="x",cnonce="y",nc=00000001,digest-uri="zookeeper/zk-sasl-md5",response=0'
        seen = [raw_sasl(srv.port, [b"", bad]) for srv in (zk, zp)]
    assert seen[1] == seen[0]
    assert seen[0][1][2:] == (0, b"\xff\xff\xff\xff", False)  # OK, a null token, the connection kept


def test_sasl_acls_across_a_mixed_ensemble(tmp_path):
    """alice writes through every member (a follower forwards her sasl id with the write) and a node only
    she may read is hers on every member, ZooKeeper's and zoopark's alike."""
    jaas = tmp_path / "server.jaas"
    jaas.write_text(SERVER_JAAS)
    ports = ensemble_ports((1, 2, 3))
    common = {**ensemble_config(ports), "authProvider.1": SASL_PROVIDER}
    members = [
        member(ZooKeeperProcess, 1, common, jvm_props={"java.security.auth.login.config": str(jaas),
                                                        "zookeeper.authProvider.1": SASL_PROVIDER}),
        member(ZooParkProcess, 2, {**common, "java.security.auth.login.config": str(jaas)}),
        member(ZooParkProcess, 3, {**common, "java.security.auth.login.config": str(jaas)}),
    ]
    try:
        for m in members:
            m.start(wait=False)
        wait_settled(members)
        acl = [ACL(Permissions.ALL, Id("sasl", "alice"))]
        for i, m in enumerate(members):
            created = sasl_session(m.hosts, "alice", "alice-pw", lambda c: c.create(f"/e{i}", b"mine", acl=acl))  # noqa: B023
            assert created[1] == f"ok '/e{i}'", (m.kind, created)
        for m in members:
            for i in range(len(members)):
                path = f"/e{i}"
                by_alice = sasl_session(m.hosts, "alice", "alice-pw", lambda c: (c.sync(path), c.get(path)[0]))  # noqa: B023
                by_bob = sasl_session(m.hosts, "bob", "bob-pw", lambda c: c.get(path)[0])  # noqa: B023
                assert (by_alice[1], by_bob[1]) == (f"ok ('{path}', b'mine')", "NoAuthError"), (m.kind, path)
    finally:
        for m in members:
            m.cleanup()
