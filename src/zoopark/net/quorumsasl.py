"""Quorum SASL on the election and quorum links, as ZooKeeper 3.8's QuorumCnxManager, Learner and LearnerHandler
run it (quorum.auth.enableSasl): the exchange itself is `core.server.quorumauth`; this module moves its bytes.

- A dialling member (an election link, after its initial message; a learner, straight after connecting to its
  leader) authenticates when quorum.auth.learnerRequireSasl is set: `dial` returns the link protocol only once
  the exchange succeeded, and raises QuorumAuthFailed otherwise (ZooKeeper closes the socket).
- An accepting member's listener wraps its protocol factory with `accepting`: each connection first goes through
  the server's side of the exchange (after the bytes `preamble` parses, which are replayed to the protocol: the
  election link's initial message), and the protocol sees the stream as if no exchange had happened. A peer that
  does not authenticate, or fails to, is refused with one log line when quorum.auth.serverRequireSasl is set, and
  let through with one log line otherwise, as ZooKeeper does. No password is ever logged.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from ..core.server.quorumauth import QuorumAuthLearner, QuorumAuthServer
from . import peertls

log = logging.getLogger("zoopark.quorum.sasl")
PREAMBLE_MAX_BYTES = 64 * 1024
_NONCE_BYTES = 30  # as Java's DIGEST-MD5 draws them


@dataclass(frozen=True, slots=True)
class QuorumSasl:
    """A member's quorum SASL settings (None instead of this when quorum.auth.enableSasl is false)."""
    learner_required: bool  # quorum.auth.learnerRequireSasl: authenticate when dialling
    server_required: bool  # quorum.auth.serverRequireSasl: refuse a peer that does not authenticate
    users: dict[str, str] = field(repr=False)  # the QuorumServer section's user_<name> options
    username: str = ""  # the QuorumLearner section's
    password: str = field(default="", repr=False)
    # How long either end waits for the peer's next bytes during the exchange: ZooKeeper's socket timeouts
    # while it authenticates (SO_TIMEOUT, per read): on the election port QuorumCnxManager's,
    # zookeeper.quorumCnxnTimeoutMs or tickTime x syncLimit; on the quorum port tickTime x initLimit, which the
    # learner (Learner.createSocket) and the leader (LearnerCnxAcceptor) both set.
    election_timeout_s: float = 10.0
    quorum_timeout_s: float = 20.0

    def timeout_s(self, election: bool) -> float:
        return self.election_timeout_s if election else self.quorum_timeout_s


class QuorumAuthFailed(Exception):
    """The dialling side's exchange failed; the message names the peer and the reason, never a password."""


def _peer(transport) -> str:
    peer = transport.get_extra_info("peername") if transport is not None else None
    return f"{peer[0]}:{peer[1]}" if peer else "?"


class _Gate(asyncio.Protocol):
    """Holds a connection while the exchange runs, then hands it to the link protocol (`factory()`), which
    gets the same transport and the bytes that followed the exchange."""

    exchange: QuorumAuthServer | QuorumAuthLearner

    def __init__(self, factory: Callable[[], asyncio.Protocol], what: str, timeout_s: float) -> None:
        self.factory = factory
        self.what = what
        self.timeout_s = timeout_s
        self.transport: asyncio.Transport | None = None
        self.inner: asyncio.Protocol | None = None
        self.ended = False  # the exchange is over (handed over, or refused)
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self.transport = transport
        self._arm()

    def _arm(self) -> None:
        """(Re)start the wait for the peer's next bytes: like a socket timeout, it bounds each wait, not the
        whole exchange."""
        if self.timer is not None:
            self.timer.cancel()
        self.timer = asyncio.get_running_loop().call_later(self.timeout_s, self._expired)

    def _expired(self) -> None:
        if not self.ended:
            self._out(self.exchange.fail(f"nothing from the peer within {self.timeout_s:g} s of the quorum SASL "
                                         "exchange"))

    def connection_lost(self, exc) -> None:  # type: ignore[override]
        if self.inner is None and not self.ended:  # ZooKeeper's read fails: a failed exchange
            self._out(self.exchange.fail("the peer closed the connection"))
        if self.timer is not None:
            self.timer.cancel()
        if self.inner is not None:
            self.inner.connection_lost(exc)

    def _out(self, data: bytes) -> None:
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)
        self._check()

    def _check(self) -> None:
        raise NotImplementedError

    def _hand_over(self, data: bytes) -> asyncio.Protocol:
        self.ended = True
        if self.timer is not None:
            self.timer.cancel()
        inner = self.inner = self.factory()
        inner.connection_made(self.transport)
        if data:
            inner.data_received(data)
        return inner

    def _refuse(self) -> None:
        self.ended = True
        if self.timer is not None:
            self.timer.cancel()
        if self.transport is not None:
            self.transport.close()

    def pause_writing(self) -> None:
        if self.inner is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.inner is not None:
            self.inner.resume_writing()


class _ServerGate(_Gate):
    def __init__(self, factory, sasl: QuorumSasl, what: str,
                 preamble: Callable[[bytes], tuple[object, int] | None] | None, election: bool) -> None:
        super().__init__(factory, what, sasl.timeout_s(election))
        self.exchange = QuorumAuthServer(sasl.users, os.urandom(_NONCE_BYTES), sasl.server_required)
        self.preamble = preamble
        self.head = bytearray()  # the preamble's bytes, replayed to the link protocol
        self.head_done = preamble is None

    def data_received(self, data: bytes) -> None:
        if self.inner is not None:
            self.inner.data_received(data)
            return
        if self.ended:
            return
        self._arm()
        if not self.head_done:
            self.head += data
            try:
                got = self.preamble(bytes(self.head))  # type: ignore[misc]
            except Exception:  # noqa: BLE001 - not ours to judge: the link protocol reports its own bad bytes
                self._hand_over(bytes(self.head))
                return
            if got is None:
                if len(self.head) > PREAMBLE_MAX_BYTES:
                    self._hand_over(bytes(self.head))
                return
            used = got[1]
            data = bytes(self.head[used:])
            del self.head[used:]
            self.head_done = True
        self._out(self.exchange.feed(data))

    def _check(self) -> None:
        ex = self.exchange
        if self.ended or not ex.done:
            return
        peer = _peer(self.transport)
        who = f" (user {ex.user!r})" if ex.user else ""
        if ex.authenticated:
            log.info("%s: quorum SASL: %s authenticated as %r", self.what, peer, ex.user)
        elif ex.keep:
            log.warning("%s: quorum SASL with %s failed%s: %s; kept, as quorum.auth.serverRequireSasl is false",
                        self.what, peer, who, ex.reason)
        else:
            log.warning("%s: %s refused: quorum SASL failed%s: %s (quorum.auth.serverRequireSasl)", self.what,
                        peer, who, ex.reason)
            self._refuse()
            return
        self._hand_over(bytes(self.head) + ex.leftover)


class _LearnerGate(_Gate):
    def __init__(self, factory, sasl: QuorumSasl, what: str, election: bool) -> None:
        super().__init__(factory, what, sasl.timeout_s(election))
        self.exchange = QuorumAuthLearner(sasl.username, sasl.password, os.urandom(_NONCE_BYTES))
        self.username = sasl.username
        self.ready: asyncio.Future[asyncio.Protocol] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        if self.inner is not None:
            self.inner.data_received(data)
        elif not self.ended:
            self._arm()
            self._out(self.exchange.feed(data))

    def _check(self) -> None:
        ex = self.exchange
        if self.ended or not ex.done:
            return
        if ex.authenticated:
            log.info("%s: quorum SASL: authenticated to %s as %r", self.what, _peer(self.transport),
                     self.username)
            inner = self._hand_over(b"")
            if not self.ready.done():
                self.ready.set_result(inner)
            if ex.leftover:
                inner.data_received(ex.leftover)
            return
        peer = _peer(self.transport)
        self._refuse()
        if not self.ready.done():
            self.ready.set_exception(QuorumAuthFailed(f"{self.what}: quorum SASL with {peer} failed: {ex.reason}"))


def accepting(factory: Callable[[], asyncio.Protocol], sasl: QuorumSasl | None, what: str,
              preamble: Callable[[bytes], tuple[object, int] | None] | None = None, election: bool = False
              ) -> Callable[[], asyncio.Protocol]:
    """A listener's protocol factory that runs the server's side of quorum SASL on each accepted connection
    before `factory`'s protocol gets any byte (`factory` itself when quorum SASL is off). `preamble(bytes)`
    -> (message, length) | None: what the peer sends before authenticating (the election port's initial
    message), passed on to the protocol with what follows the exchange. `election`: the election port's
    timeout applies, else the quorum port's."""
    if sasl is None:
        return factory
    return lambda: _ServerGate(factory, sasl, what, preamble, election)


def exchange_bound_s(sasl: QuorumSasl | None, election: bool) -> float:
    """What the exchange adds to the bound on a whole `dial`: its waits for the peer (the challenge and the
    answer to the response, each of which may come in pieces) are bounded one by one by the gate; this only
    keeps a dial that trickles from lasting for ever."""
    return 4 * sasl.timeout_s(election) if sasl is not None and sasl.learner_required else 0.0


async def dial(loop: asyncio.AbstractEventLoop, factory: Callable[[], asyncio.Protocol], host: str, port: int,
               local_host: str, tls, sasl: QuorumSasl | None, what: str, first: bytes = b"",
               election: bool = False):
    """(transport, protocol) of a connection to host:port (peertls.dial: over TLS with `tls`) on which `first`
    was sent and then, with quorum.auth.learnerRequireSasl, the learner's side of quorum SASL succeeded.
    Raises QuorumAuthFailed (the connection closed) when it did not, OSError when the peer is unreachable.
    `election`: the election port's timeout applies to the exchange, else the quorum port's."""
    if sasl is None or not sasl.learner_required:
        transport, proto = await peertls.dial(loop, factory, host, port, local_host, tls, what)
        if first:
            transport.write(first)
        return transport, proto
    transport, gate = await peertls.dial(loop, lambda: _LearnerGate(factory, sasl, what, election), host, port,
                                         local_host, tls, what)
    transport.write(first + gate.exchange.start())
    try:
        return transport, await gate.ready
    except asyncio.CancelledError:
        transport.close()
        raise
