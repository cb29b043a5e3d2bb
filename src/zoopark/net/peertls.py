"""TLS between servers (sslQuorum) on the election and quorum ports, as QuorumCnxManager, Leader and Learner
wrap their sockets with QuorumX509Util: the listener requires the dialler's certificate (ssl.quorum.clientAuth),
and each end checks the other's certificate names its address (ssl.quorum.hostnameVerification).

`listen` takes the contexts afresh for each accepted connection (`tls` is a callable), so certificates reloaded
under sslQuorumReloadCertFiles reach new connections while open ones carry on. It runs each accepted
connection's handshake itself, over memory buffers (uvloop's start_tls stalls on
accepted sockets, and asyncio's own server-side TLS drops a failed handshake silently), so that a refused
peer is this module's to log (one line: the peer and the reason) while the listener carries on; the protocol
sees only verified connections. `dial` is create_connection with the client context.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Callable

from .tls import QuorumTls, TlsSession, peer_name_matches

log = logging.getLogger("zoopark.quorum.tls")
HANDSHAKE_TIMEOUT_S = 10.0


class _Accepted(asyncio.Protocol):
    """An accepted connection's TLS, over memory buffers (net.tls.TlsSession, as the client port's): the
    handshake is ours to refuse and log, and once the peer's certificate and names check out, the application's
    protocol gets this object as its transport (write, close, is_closing, get_extra_info)."""

    def __init__(self, tls: QuorumTls, factory: Callable[[], asyncio.Protocol], what: str) -> None:
        self.tls = tls
        self.factory = factory
        self.what = what
        self.raw: asyncio.Transport | None = None
        self.session = TlsSession(tls.server)
        self.inner: asyncio.Protocol | None = None
        self.closing = False
        self.peer: tuple[str, int] = ("?", 0)

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self.raw = transport
        self.peer = transport.get_extra_info("peername") or ("?", 0)

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        try:
            plain = self.session.receive(data)
        except ssl.SSLError as e:
            self._refuse(f"TLS handshake with {self.peer[0]}:{self.peer[1]} refused: {_reason(e)}")
            return
        self._flush()
        if self.session.handshaken and self.inner is None:
            problem = self._names_problem()
            if problem:
                self._refuse(problem)
                return
            self.inner = self.factory()
            self.inner.connection_made(self)
        if plain and self.inner is not None:
            self.inner.data_received(plain)
        if self.session.peer_closed:
            self.close()

    def _names_problem(self) -> str | None:
        """ZKTrustManager's check of a connecting peer: its certificate names its address, or the name that
        address reverse-resolves to (looked up only when the address itself is not named)."""
        if not self.tls.hostname_verification:
            return None
        der = self.session.peer_certificate()
        address = self.peer[0]
        if der is not None and peer_name_matches(der, address, None):
            return None
        try:
            name = socket.getnameinfo((address, 0), socket.NI_NAMEREQD)[0]
        except OSError:
            name = None
        if der is not None and peer_name_matches(der, address, name):
            return None
        return (f"TLS peer {address}:{self.peer[1]} refused: its certificate names neither {address} nor "
                f"{name or 'a name it resolves to'}")

    def _refuse(self, reason: str) -> None:
        log.warning("%s: %s", self.what, reason)
        self._flush()  # the alert, if the handshake produced one
        self.closing = True
        if self.raw is not None:
            self.raw.close()

    def _flush(self) -> None:
        out = self.session.outgoing()
        if out and self.raw is not None and not self.raw.is_closing():
            self.raw.write(out)

    # ---- the transport the application's protocol sees --------------------------------------------

    def write(self, data: bytes) -> None:
        if not self.closing:
            self.session.send(data)
            self._flush()

    def close(self) -> None:
        if not self.closing:
            self.closing = True
            self.session.close_notify()
            self._flush()
            if self.raw is not None:
                self.raw.close()

    def is_closing(self) -> bool:
        return self.closing or self.raw is None or self.raw.is_closing()

    def get_extra_info(self, name: str, default=None):
        return self.raw.get_extra_info(name, default) if self.raw is not None else default

    def connection_lost(self, exc) -> None:  # type: ignore[override]
        self.closing = True
        if self.inner is not None:
            self.inner.connection_lost(exc)


def _reason(e: BaseException) -> str:
    if isinstance(e, ssl.SSLCertVerificationError):
        return e.verify_message or str(e)
    if isinstance(e, ssl.SSLError):
        return e.reason or str(e)
    if isinstance(e, asyncio.TimeoutError):
        return "no handshake in time"
    return str(e) or type(e).__name__


async def listen(loop: asyncio.AbstractEventLoop, factory: Callable[[], asyncio.Protocol], host: str, port: int,
                 tls: Callable[[], QuorumTls] | None, what: str) -> asyncio.base_events.Server:
    """A listener on host:port whose connections reach `factory`'s protocols plain, or TLS-verified with the
    contexts `tls()` returns when each connection is accepted."""
    if tls is None:
        return await loop.create_server(factory, host, port, reuse_address=True)
    return await loop.create_server(lambda: _Accepted(tls(), factory, what), host, port, reuse_address=True)


async def dial(loop: asyncio.AbstractEventLoop, factory: Callable[[], asyncio.Protocol], host: str, port: int,
               local_host: str, tls: QuorumTls | None, what: str):
    """(transport, protocol) of a connection to host:port from local_host; with `tls`, after a verified
    handshake (a refused one is logged, naming the peer and the reason, and raises ConnectionError)."""
    if tls is None:
        return await loop.create_connection(factory, host, port, local_addr=(local_host, 0))
    try:
        return await loop.create_connection(factory, host, port, local_addr=(local_host, 0), ssl=tls.client,
                                            server_hostname=host, ssl_handshake_timeout=HANDSHAKE_TIMEOUT_S)
    except ssl.SSLError as e:
        log.warning("%s: TLS handshake with %s:%d refused: %s", what, host, port, _reason(e))
        raise ConnectionError(f"TLS handshake with {host}:{port} refused: {_reason(e)}") from None
