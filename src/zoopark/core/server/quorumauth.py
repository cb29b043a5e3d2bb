"""Quorum SASL's two sides as state machines without I/O: ZooKeeper 3.8's SaslQuorumAuthServer (the member that
accepted a connection) and SaslQuorumAuthLearner (the member that dialled it), over QuorumAuthPackets.

    learner: IN_PROGRESS, empty token          (DIGEST-MD5 has no initial response)
    server:  IN_PROGRESS, digest-challenge
    learner: IN_PROGRESS, digest-response
    server:  SUCCESS, rspauth                  (or ERROR, empty token, on any failure)

DIGEST-MD5 runs with protocol "zookeeper-quorum" and server name / realm "zk-quorum-sasl-md5"; the users are the
`user_<name>` options of the QuorumServer JAAS section, the learner's name and password its QuorumLearner
section's. Bytes go in with `feed`, bytes to send come out; once `done`, `leftover` holds what followed the
exchange on the stream (the link protocol's first bytes). Nonces are inputs, so a run replays exactly.

The server decides only whether the exchange authenticated the peer; whether an unauthenticated connection is
kept is `keep` (quorum.auth.serverRequireSasl false: ZooKeeper logs and lets it through).
"""

from __future__ import annotations

import base64

from ..jute import quorumauth as wire
from ..jute.quorumauth import AuthStatus, QuorumAuthPacket
from .sasl import DigestMD5Client, DigestMD5Server, SaslError

PROTOCOL = "zookeeper-quorum"  # QuorumAuth.QUORUM_SERVER_PROTOCOL_NAME
SERVER_NAME = "zk-quorum-sasl-md5"  # QuorumAuth.QUORUM_SERVER_SASL_DIGEST, also the realm
ROUNDS_MAX = 5  # SaslQuorumAuthServer.MAX_RETRIES; the learner is held to the same bound


class _Exchange:
    def __init__(self) -> None:
        self.buf = bytearray()
        self.done = False
        self.authenticated = False
        self.reason = ""  # why it did not authenticate (never a password)
        self.leftover = b""

    def _finish(self, authenticated: bool, reason: str = "") -> None:
        assert not self.done
        self.done = True
        self.authenticated = authenticated
        self.reason = reason
        self.leftover = bytes(self.buf)
        self.buf.clear()


class QuorumAuthServer(_Exchange):
    """The accepting member's side for one connection (SaslQuorumAuthServer.authenticate)."""

    def __init__(self, users: dict[str, str], nonce: bytes, required: bool) -> None:
        super().__init__()
        self.required = required
        self.user: str | None = None  # the name the peer claimed, once it sent one (for the log)
        self._sasl = DigestMD5Server(users, nonce, realm=SERVER_NAME, protocol=PROTOCOL, server_name=SERVER_NAME,
                                     authzid_is_user=True)
        self._began = False  # the magic was seen: the peer is authenticating
        self._answering = False  # a first packet arrived whole: failures are answered from now on
        self._rounds = 0

    @property
    def keep(self) -> bool:
        """Whether the connection goes on to the link protocol."""
        assert self.done
        return self.authenticated or not self.required

    def feed(self, data: bytes) -> bytes:
        """Bytes from the peer in; bytes to send back out."""
        if self.done:
            self.leftover += data
            return b""
        self.buf += data
        if not self._began:
            is_auth = wire.starts_with_magic(bytes(self.buf[:8]))
            if is_auth is None:
                return b""
            if not is_auth:  # nextPacketIsAuth only peeks: the bytes stay for the link protocol
                self._finish(False, "not trying to authenticate")
                return b""
            self._began = True
        out = bytearray()
        while not self.done:
            try:
                got = wire.parse(self.buf)
            except wire.QuorumAuthWireError as e:
                out += self._fail(str(e))
                break
            if got is None:
                break
            packet, used = got
            del self.buf[:used]
            self._answering = True
            out += self._on_token(packet.token)
        return bytes(out)

    def fail(self, reason: str) -> bytes:
        """The exchange ends unfinished (the peer closed, or took too long)."""
        return b"" if self.done else self._fail(reason)

    def _on_token(self, token: bytes | None) -> bytes:
        if token is None:
            return self._fail("the learner's SASL token is null")
        try:
            challenge = self._sasl.evaluate(token)
        except SaslError as e:
            self.user = self._sasl.user
            return self._fail(str(e))
        self.user = self._sasl.user
        if self._sasl.complete:
            self._finish(True)
            return QuorumAuthPacket(AuthStatus.SUCCESS, challenge).encode()
        self._rounds += 1
        if self._rounds > ROUNDS_MAX:
            self._finish(False, f"more than {ROUNDS_MAX} SASL rounds")
            return QuorumAuthPacket(AuthStatus.ERROR, challenge).encode()
        return QuorumAuthPacket(AuthStatus.IN_PROGRESS, challenge).encode()

    def _fail(self, reason: str) -> bytes:
        """ZooKeeper answers an ERROR packet with an empty token once it has read a first packet whole (before
        that it has no output stream yet, and just closes)."""
        self._finish(False, reason)
        return QuorumAuthPacket(AuthStatus.ERROR, b"").encode() if self._answering else b""


class QuorumAuthLearner(_Exchange):
    """The dialling member's side (SaslQuorumAuthLearner.authenticate, with learnerRequireSasl)."""

    def __init__(self, username: str, password: str, cnonce: bytes) -> None:
        super().__init__()
        assert len(cnonce) >= 16, "a cnonce needs at least 128 bits of randomness"
        self._sasl = DigestMD5Client(username, password, base64.b64encode(cnonce).decode("ascii"), PROTOCOL,
                                     SERVER_NAME)
        self._rounds = 0
        self._started = False

    def start(self) -> bytes:
        """The first packet: IN_PROGRESS with an empty token (DIGEST-MD5 has no initial response)."""
        assert not self._started
        self._started = True
        return QuorumAuthPacket(AuthStatus.IN_PROGRESS, b"").encode()

    def feed(self, data: bytes) -> bytes:
        assert self._started
        if self.done:
            self.leftover += data
            return b""
        self.buf += data
        out = bytearray()
        while not self.done:
            try:
                got = wire.parse(self.buf)
            except wire.QuorumAuthWireError as e:
                self._finish(False, str(e))
                break
            if got is None:
                break
            packet, used = got
            del self.buf[:used]
            out += self._on_packet(packet)
        return bytes(out)

    def fail(self, reason: str) -> bytes:
        if not self.done:
            self._finish(False, reason)
        return b""

    def _on_packet(self, p: QuorumAuthPacket) -> bytes:
        if p.magic != wire.MAGIC:
            self._finish(False, "the server's answer is not a quorum auth packet")
            return b""
        if p.status == AuthStatus.ERROR:
            self._finish(False, "the server refused the authentication (ERROR status)")
            return b""
        if p.status not in (AuthStatus.SUCCESS, AuthStatus.IN_PROGRESS):
            self._finish(False, f"unknown status {p.status}")
            return b""
        if p.token is None:
            self._finish(False, "the quorum member's saslToken is null")
            return b""
        self._rounds += 1
        if self._rounds > ROUNDS_MAX:
            self._finish(False, f"more than {ROUNDS_MAX} SASL rounds")
            return b""
        try:
            response = self._sasl.evaluate(p.token)
        except SaslError as e:
            self._finish(False, str(e))
            return b""
        if p.status == AuthStatus.SUCCESS:
            if response is not None:
                self._finish(False, "Protocol error: attempting to send response after completion")
            else:
                self._finish(True)
            return b""
        if self._sasl.complete:  # complete, yet the server says it is not: checkAuthStatus refuses that
            self._finish(False, f"status {AuthStatus(p.status).name} at the end of the exchange")
            return b""
        assert response is not None
        return QuorumAuthPacket(AuthStatus.IN_PROGRESS, response).encode()
