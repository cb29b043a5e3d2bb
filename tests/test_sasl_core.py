"""SASL in the pure core: what a server answers to SASL requests, and what they do to a session."""

from __future__ import annotations

from zoopark.core.jute.constants import OpCode
from zoopark.core.jute.records import AuthPacket, GetSASLRequest
from zoopark.core.server.actions import Tick
from zoopark.core.server.settings import CoreSettings

from corehelp import Harness, parse_reply

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

