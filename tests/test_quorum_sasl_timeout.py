"""How long quorum SASL waits for a silent peer: ZooKeeper 3.8's socket timeouts while it authenticates
(QuorumPeer.createCnxnManager: zookeeper.quorumCnxnTimeoutMs, else tickTime x syncLimit, on the election
port; Learner.createSocket and the leader's LearnerCnxAcceptor: tickTime x initLimit on the quorum port), each
bounding one wait for the peer's bytes, as SO_TIMEOUT bounds one read. From zoo.cfg to the settings, the
listener's gate on loopback, and a zoopark and a ZooKeeper member side by side."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from test_quorum_sasl import jaas_file, sasl_member
from test_quorum_sasl_core import QUORUM_JAAS
from zoopark.config import parse_config
from zoopark.core.jute.election import InitialMessage
from zoopark.core.jute.quorumauth import AuthStatus, QuorumAuthPacket, parse
from zoopark.net import quorumsasl
from zoopark.net.quorumsasl import QuorumSasl
from zoopark.runtime.saslconf import quorum_sasl

from procs import ZooKeeperProcess, ZooParkProcess, ensemble_config, ensemble_ports, wait_until
from references import needs


def settings(tmp_path, lines: str) -> QuorumSasl:
    (tmp_path / "quorum.jaas").write_text(QUORUM_JAAS)
    cfg = parse_config(f"dataDir={tmp_path}\nclientPort=2181\nquorum.auth.enableSasl=true\n"
                       f"quorum.auth.learnerRequireSasl=true\njava.security.auth.login.config="
                       f"{tmp_path / 'quorum.jaas'}\n" + lines)
    got = quorum_sasl(cfg)
    assert got is not None
    return got


@pytest.mark.parametrize(("lines", "election_s", "quorum_s"), [
    ("tickTime=500\ninitLimit=7\nsyncLimit=3\n", 1.5, 3.5),
    ("tickTime=2000\ninitLimit=10\nsyncLimit=5\n", 10.0, 20.0),
    ("tickTime=500\ninitLimit=7\nsyncLimit=3\nquorumCnxnTimeoutMs=2500\n", 2.5, 3.5),
    ("tickTime=500\ninitLimit=7\nsyncLimit=3\nzookeeper.quorumCnxnTimeoutMs=0\n", 1.5, 3.5),  # <= 0: not set
])
def test_the_timeouts_are_zookeepers_socket_timeouts(tmp_path, lines, election_s, quorum_s) -> None:
    s = settings(tmp_path, lines)
    assert (s.timeout_s(election=True), s.timeout_s(election=False)) == (election_s, quorum_s)
    assert parse_config(f"dataDir={tmp_path}\nclientPort=2181\n" + lines).ignored == ()


# ---- the listener's gate, on loopback -----------------------------------------------------------------


CHALLENGE = b'realm="zk-quorum-sasl-md5",nonce="*",charset=utf-8,algorithm=md5-sess'
SASL = QuorumSasl(True, True, {"learner1": "learner-pw"}, "learner1", "learner-pw", election_timeout_s=0.4,
                  quorum_timeout_s=1.2)


async def _closed_after(election: bool, chunks: list[bytes], gap_s: float) -> tuple[float, bytes]:
    """Seconds from connecting until the gate closes the connection, and what it sent; `chunks` are sent
    `gap_s` apart first."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        quorumsasl.accepting(asyncio.Protocol, SASL, "test port", None, election=election), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        start = time.monotonic()
        for c in chunks:
            writer.write(c)
            await asyncio.sleep(gap_s)  # the trickle is the input under test, not a synchronisation
        got = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        return time.monotonic() - start, got
    finally:
        server.close()


@pytest.mark.parametrize(("election", "bound_s"), [(True, 0.4), (False, 1.2)])
def test_a_silent_peer_is_dropped_after_its_ports_timeout(election, bound_s) -> None:
    elapsed, got = asyncio.run(_closed_after(election, [], 0))
    assert got == b""  # nothing read yet: closed unanswered, as ZooKeeper's (no output stream yet)
    assert bound_s <= elapsed < bound_s + 0.5, elapsed


def test_each_wait_is_bounded_not_the_whole_exchange() -> None:
    """The first packet trickles in a byte every 0.25 s (each wait under the election port's 0.4 s) for longer
    than 0.4 s in all; then the challenge comes, and the silence after it ends the exchange with the error
    packet."""
    first = QuorumAuthPacket(AuthStatus.IN_PROGRESS, b"").encode()
    elapsed, got = asyncio.run(_closed_after(True, [first[i:i + 1] for i in range(len(first))], 0.25))
    assert elapsed > 0.25 * len(first)
    assert shape(got) == [(AuthStatus.IN_PROGRESS, CHALLENGE), (AuthStatus.ERROR, b"")]


# ---- zoopark and ZooKeeper side by side -----------------------------------------------------------------


def silent_after(port: int, payload: bytes) -> tuple[float, bytes]:
    """Send `payload` to the election port, then nothing: how long until the member closes, and what it sent."""
    got = b""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
        s.sendall(payload)
        start = time.monotonic()
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                b = b""
            if not b:
                return time.monotonic() - start, got
            got += b


def shape(reply: bytes) -> list[tuple[int, bytes]]:
    """The packets of a reply, a challenge's nonce blanked out (random on both servers)."""
    out = []
    while reply:
        parsed = parse(reply)
        assert parsed is not None, reply
        p, used = parsed
        token = p.token or b""
        if b'nonce="' in token:
            head, _, rest = token.partition(b'nonce="')
            token = head + b'nonce="*"' + rest.partition(b'"')[2]
        out.append((p.status, token))
        reply = reply[used:]
    return out


def timeouts_of(cls, tmp_path) -> list[tuple[str, list]]:
    """A member (the others of its three not running: it stays LOOKING, its election port open) requiring
    quorum SASL, tickTime 500, syncLimit 2, initLimit 10: a peer sending its initial message and then nothing,
    and one sending the first auth packet too and then nothing."""
    ports = ensemble_ports((1, 2, 3))
    extra = {**ensemble_config(ports), "syncLimit": "2", "quorum.auth.enableSasl": "true",
             "quorum.auth.learnerRequireSasl": "true", "quorum.auth.serverRequireSasl": "true"}
    p = sasl_member(cls, 1, extra, jaas_file(tmp_path, 1, "pw-one"))
    initial = InitialMessage(2, f"127.0.0.1:{ports[2][1]}").encode()
    first = QuorumAuthPacket(AuthStatus.IN_PROGRESS, b"").encode()
    seen = []
    try:
        p.start(wait=False)
        wait_until("the election port", lambda: _listening(ports[1][1]), 60)
        for what, payload in (("silent", initial), ("silent after the first packet", initial + first)):
            elapsed, got = silent_after(ports[1][1], payload)
            # tickTime x syncLimit = 1 s, not tickTime x initLimit = 5 s
            seen.append((what, "about 1 s" if 0.9 <= elapsed < 2.5 else f"{elapsed:.1f} s", shape(got)))
        return seen
    finally:
        p.cleanup()


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@needs("zookeeper")
def test_zoopark_drops_a_silent_peer_when_zookeeper_does(tmp_path) -> None:
    (tmp_path / "zk").mkdir()
    (tmp_path / "zp").mkdir()
    zk = timeouts_of(ZooKeeperProcess, tmp_path / "zk")
    zp = timeouts_of(ZooParkProcess, tmp_path / "zp")
    assert zp == zk
    assert [t for _, t, _ in zp] == ["about 1 s", "about 1 s"]
