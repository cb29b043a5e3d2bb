"""SASL in the pure core: what a server answers to SASL requests, and what they do to a session."""

from __future__ import annotations

import dataclasses

import pytest
from puresasl.client import SASLClient

from zoopark.core.jute.constants import Err, OpCode, Perm
from zoopark.core.jute.io import Reader
from zoopark.core.jute.records import (
    ACL,
    AuthPacket,
    CreateRequest,
    ExistsRequest,
    GetDataRequest,
    GetSASLRequest,
    Id,
    SetSASLResponse,
    WhoAmIResponse,
)
from zoopark.core.server.actions import Tick
from zoopark.core.server.sasl import SaslError
from zoopark.core.server.settings import CoreSettings

from corehelp import Harness, Reply, parse_reply

TIMEOUT_MS = 6000


def test_unconfigured_sasl_answers_a_null_token_as_zookeeper_does():
    h = Harness()
    conn, _ = h.connect(timeout_ms=TIMEOUT_MS)
    r = h.request(conn, OpCode.SASL, GetSASLRequest(b""), xid=1)
    # ZooKeeper 3.8 without a JAAS Server section: processSasl's null saslServer -> SetSASLResponse(null).
    assert (r.err, r.zxid, r.body) == (0, 0, b"\xff\xff\xff\xff")
    assert conn.closed is None


def test_sasl_requests_do_not_keep_a_session_alive():
    """kazoo repeats SASL requests for as long as the server answers with no token; ZooKeeper ends that by
    expiring the session (SASL requests never reach submitRequest, which touches sessions)."""
    h = Harness(CoreSettings(tick_ms=2000))
    conn, _ = h.connect(timeout_ms=TIMEOUT_MS)
    for i in range(2, 12):
        h.now_ms += 1000
        h.send(conn, i, OpCode.SASL, GetSASLRequest(b""))
        h.step(Tick())
        if conn.closed:
            break
    assert conn.closed == "session expired"
    assert h.core.session_count() == 0


def test_auth_requests_do_not_keep_a_session_alive():
    h = Harness(CoreSettings(tick_ms=2000))
    conn, _ = h.connect(timeout_ms=TIMEOUT_MS)
    for _ in range(2, 12):
        h.now_ms += 1000
        h.send(conn, -4, OpCode.AUTH, AuthPacket(0, "digest", b"u:p"))
        h.step(Tick())
        if conn.closed:
            break
    assert conn.closed == "session expired"


def test_pings_keep_a_session_alive():  # the control for the two above
    h = Harness(CoreSettings(tick_ms=2000))
    conn, _ = h.connect(timeout_ms=TIMEOUT_MS)
    for _ in range(10):
        h.now_ms += 1000
        h.send(conn, -2, OpCode.PING)
        h.step(Tick())
    assert conn.closed is None
    assert [parse_reply(f).err for f in conn.frames[-3:]] == [0, 0, 0]



# ---- SASL configured ------------------------------------------------------------------------------

USERS = (("alice", "alice-pw"), ("bob", "bob-pw"), ("root", "root-pw"))
SASL = CoreSettings(sasl_users=USERS, sasl_super_users=frozenset({"root"}),
                    auth_schemes=frozenset({"digest", "ip", "sasl"}))


def sasl_login(h: Harness, conn, user: str, password: str) -> list[Reply]:
    """kazoo's SASL loop (pure-sasl's DIGEST-MD5 client), through the core; the replies it got."""
    cli = SASLClient("zk-sasl-md5", "zookeeper", mechanism="DIGEST-MD5", username=user, password=password)
    challenge, replies = None, []
    for xid in range(1, 5):
        response = cli.process(challenge)
        if cli.complete and not response:
            break
        r = h.request(conn, OpCode.SASL, GetSASLRequest(response or b""), xid=xid)
        replies.append(r)
        if r.err:
            break
        challenge = SetSASLResponse.read(Reader(r.body)).token
    return replies


def whoami(h: Harness, conn) -> list[tuple[str, str]]:
    r = h.request(conn, OpCode.WHO_AM_I, xid=50)
    rec = WhoAmIResponse.read(Reader(r.body))
    return [(i.auth_scheme, i.user) for i in rec.client_info]


def test_a_digest_md5_login_adds_the_sasl_id():
    h = Harness(SASL)
    conn, _ = h.connect()
    replies = sasl_login(h, conn, "alice", "alice-pw")
    assert [r.err for r in replies] == [0, 0]
    assert conn.closed is None
    assert ("sasl", "alice") in whoami(h, conn)


def test_a_sasl_super_user_gets_super():
    h = Harness(SASL)
    conn, _ = h.connect()
    sasl_login(h, conn, "root", "root-pw")
    assert {("sasl", "root"), ("super", "")} <= set(whoami(h, conn))


@pytest.mark.parametrize(("user", "password"), [("alice", "bob-pw"), ("mallory", "x")])
def test_a_failed_login_is_authfailed_with_a_null_token_and_a_close(user, password):
    h = Harness(SASL)
    conn, _ = h.connect()
    other, _ = h.connect()
    replies = sasl_login(h, conn, user, password)
    assert [(r.err, r.body) for r in replies] == [(0, replies[0].body), (Err.AUTHFAILED, b"\xff\xff\xff\xff")]
    assert conn.closed == "SASL authentication failed"
    assert h.request(other, OpCode.EXISTS, ExistsRequest("/", False), xid=7).err == 0  # nobody else affected


def test_sasl_acl_reads_for_its_user_only():
    h = Harness(SASL)
    alice, _ = h.connect()
    sasl_login(h, alice, "alice", "alice-pw")
    acl = [ACL(Perm.ALL, Id("sasl", "alice"))]
    assert h.request(alice, OpCode.CREATE, CreateRequest("/a", b"x", acl, 0), xid=10).err == 0
    assert h.request(alice, OpCode.GET_DATA, GetDataRequest("/a", False), xid=11).err == 0
    bob, _ = h.connect()
    sasl_login(h, bob, "bob", "bob-pw")
    assert h.request(bob, OpCode.GET_DATA, GetDataRequest("/a", False), xid=11).err == Err.NOAUTH
    root, _ = h.connect()
    sasl_login(h, root, "root", "root-pw")
    assert h.request(root, OpCode.GET_DATA, GetDataRequest("/a", False), xid=11).err == 0


def test_sasl_acl_needs_the_provider():
    h = Harness(CoreSettings(sasl_users=USERS))  # no authProvider.N=...SASLAuthenticationProvider
    conn, _ = h.connect()
    sasl_login(h, conn, "alice", "alice-pw")
    acl = [ACL(Perm.ALL, Id("sasl", "alice"))]
    assert h.request(conn, OpCode.CREATE, CreateRequest("/a", b"x", acl, 0), xid=10).err == Err.INVALIDACL
    auth = [ACL(Perm.ALL, Id("auth", ""))]  # the sasl id does not stand in for "auth" either
    assert h.request(conn, OpCode.CREATE, CreateRequest("/a", b"x", auth, 0), xid=11).err == Err.INVALIDACL


def test_enforced_sasl_refuses_requests_before_login():
    h = Harness(dataclasses.replace(SASL, enforce_auth_schemes=("sasl",)))
    conn, _ = h.connect()
    r = h.request(conn, OpCode.EXISTS, ExistsRequest("/", False), xid=3)
    assert (r.err, r.zxid, r.body) == (Err.SESSIONCLOSEDREQUIRESASLAUTH, 0, b"")
    assert conn.closed == "authentication required"
    ok, _ = h.connect()
    sasl_login(h, ok, "alice", "alice-pw")
    assert h.request(ok, OpCode.EXISTS, ExistsRequest("/", False), xid=3).err == 0


def test_enforced_sasl_failed_login_says_sasl_is_required():
    h = Harness(dataclasses.replace(SASL, enforce_auth_schemes=("sasl",)))
    conn, _ = h.connect()
    assert sasl_login(h, conn, "alice", "nope")[-1].err == Err.SESSIONCLOSEDREQUIRESASLAUTH


def test_enforced_digest_accepts_addauth():
    h = Harness(CoreSettings(enforce_auth_schemes=("digest",)))
    conn, _ = h.connect()
    h.send(conn, -4, OpCode.AUTH, AuthPacket(0, "digest", b"u:p"))
    assert h.request(conn, OpCode.EXISTS, ExistsRequest("/", False), xid=3).err == 0


class _ScriptedMechanism:
    """Stands in for the adapter's GSSAPI mechanism: two rounds, then complete with a null final token."""

    def __init__(self) -> None:
        self.rounds = 0
        self.complete = False
        self.authorization_id = None

    def evaluate(self, token: bytes) -> bytes | None:
        self.rounds += 1
        if token == b"bad":
            raise SaslError("GSS initiate failed: bad token")
        if self.rounds == 2:
            self.complete, self.authorization_id = True, "alice@EXAMPLE.COM"
            return None
        return b"server-token"


def test_an_adapter_mechanism_is_driven_like_digest_md5():
    h = Harness(CoreSettings(sasl_gssapi=_ScriptedMechanism, auth_schemes=frozenset({"digest", "ip", "sasl"})))
    conn, _ = h.connect()
    first = h.request(conn, OpCode.SASL, GetSASLRequest(b"ap-req"), xid=1)
    assert (first.err, SetSASLResponse.read(Reader(first.body)).token) == (0, b"server-token")
    last = h.request(conn, OpCode.SASL, GetSASLRequest(b"wrapped"), xid=2)
    assert (last.err, last.body) == (0, b"\xff\xff\xff\xff")  # GssKrb5Server's last answer is a null token
    assert ("sasl", "alice@EXAMPLE.COM") in whoami(h, conn)
    other, _ = h.connect()
    assert h.request(other, OpCode.SASL, GetSASLRequest(b"bad"), xid=1).err == Err.AUTHFAILED
    assert other.closed == "SASL authentication failed"


def test_allow_sasl_failed_clients_keeps_the_connection_with_no_id():
    h = Harness(dataclasses.replace(SASL, allow_sasl_failed_clients=True))
    conn, _ = h.connect()
    replies = sasl_login(h, conn, "alice", "wrong")
    assert (replies[-1].err, replies[-1].body) == (0, b"\xff\xff\xff\xff")  # ZooKeeper: OK and a null token
    assert conn.closed is None
    assert [s for s, _ in whoami(h, conn)] == ["ip"]
    enforced = Harness(dataclasses.replace(SASL, allow_sasl_failed_clients=True, enforce_auth_schemes=("sasl",)))
    conn, _ = enforced.connect()
    assert sasl_login(enforced, conn, "alice", "wrong")[-1].err == Err.SESSIONCLOSEDREQUIRESASLAUTH
