"""The client port: one asyncio.Protocol per connection feeding frames to the server's inbox.

It decides nothing about requests: it frames bytes, answers four-letter words, enforces maxClientCnxns per
address and jute.maxbuffer per frame, and closes connections that never finish their handshake. A listener
is plain, TLS (secureClientPort) or unified (client.portUnification: the first byte tells TLS from plain);
TLS runs through net.tls.TlsSession, so a failed handshake is logged here with its peer, and the server hears
of a TLS connection only once its handshake is done (with the client certificate's subject).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..core.server.actions import CLIENT_CLOSED
from .framing import FrameDecoder, FrameError
from .tls import TlsSession, java_subject, looks_like_tls

log = logging.getLogger("zoopark.net")
# How long a connection we closed waits for the client to close its side (while our last replies drain).
_LINGER_S = 2.0


@dataclass(frozen=True, slots=True)
class ClientPortSettings:
    max_client_cnxns: int = 60  # per remote address; 0 = unlimited
    jute_max_buffer_bytes: int = 0xFFFFF
    handshake_timeout_s: float = 10.0
    write_high_water_bytes: int = 4 * 1024 * 1024


class Deadlines:
    """Connections each due for a callback at a deadline, on one loop timer. A timer per connection (its
    handshake limit, its lingering close) cost a TimerHandle and a cancel per session of a connect storm;
    here a connection is a dict entry, and the one timer is set for the earliest deadline only when none is
    set (a later fire finds that entry gone, or not yet due, and moves on to the next). The loop is looked up
    once: asyncio.get_running_loop() makes a getpid system call each time."""

    __slots__ = ("_due", "_timer", "_at", "_loop")

    def __init__(self) -> None:
        self._due: dict[ClientConnection, tuple[float, Callable[[], None]]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._at = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None

    def add(self, conn: ClientConnection, delay_s: float, callback: Callable[[], None]) -> None:
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        when = loop.time() + delay_s
        self._due.pop(conn, None)  # re-added: to the back, keeping the dict in deadline order
        self._due[conn] = (when, callback)
        if self._timer is None or when < self._at:
            self._arm(loop, when)

    def discard(self, conn: ClientConnection) -> None:
        self._due.pop(conn, None)

    def _arm(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._at = when
        self._timer = loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self._timer = None
        loop = self._loop
        assert loop is not None
        now = loop.time()
        due = self._due
        while due:
            conn = next(iter(due))
            when, callback = due[conn]
            if when > now:
                # Entries are in add order; with one delay per Deadlines that is deadline order, and an
                # out-of-order entry only fires late by at most the head's remaining time.
                self._arm(loop, when)
                return
            del due[conn]
            try:
                callback()
            except Exception:  # one connection's failure must not stop the others' deadlines
                log.exception("closing connection from %s at its deadline", conn.remote_ip)


class ClientHandler:
    """What the runtime gives the client port."""

    def connected(self, conn: ClientConnection) -> None: ...
    def frames(self, conn: ClientConnection, frames: list[bytes]) -> None: ...
    def disconnected(self, conn: ClientConnection) -> None: ...
    def four_letter(self, cmd: str, conn: ClientConnection) -> str | None: ...


class ClientConnection(asyncio.Protocol):
    __slots__ = ("id", "port", "transport", "remote_ip", "remote_port", "decoder", "first", "closed",
                 "awaiting_handshake", "tls_ctx", "sniff", "tls", "announced", "x509_subject",
                 "_linger_left")

    def __init__(self, port: ClientPort, conn_id: int, tls_ctx: ssl.SSLContext | None = None,
                 unified: bool = False) -> None:
        self.id = conn_id
        self.port = port
        self.tls_ctx = tls_ctx
        self.sniff = unified  # the first bytes decide between TLS and plain
        self.tls: TlsSession | None = None
        self.announced = False  # the handler has heard of this connection
        self.x509_subject: str | None = None
        self.transport: asyncio.Transport | None = None
        self.remote_ip = "?"
        self.remote_port = 0
        self.decoder = FrameDecoder(port.settings.jute_max_buffer_bytes)
        self.first = True
        self.closed = False
        self.awaiting_handshake = False  # in port.handshakes
        self._linger_left = -1  # bytes still buffered at the last linger check

    # ---- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.remote_ip = peer[0] if peer else "?"
        self.remote_port = peer[1] if peer else 0
        if self.port.stopped:
            # Accepted while (or after) the port stopped: its role has ended, and its core must not serve it.
            self.closed = True
            transport.abort()
            return
        if not self.port.admit(self):
            log.warning("too many connections from %s - max is %d", self.remote_ip,
                        self.port.settings.max_client_cnxns)
            self.closed = True
            transport.abort()
            return
        self.awaiting_handshake = True
        self.port.handshakes.add(self, self.port.settings.handshake_timeout_s, self._handshake_expired)
        if self.tls_ctx is not None and not self.sniff:
            self.tls = TlsSession(self.tls_ctx)
        elif self.tls_ctx is None:
            self._announce()
        if self.port.paused:
            transport.pause_reading()

    def _announce(self) -> None:
        self.announced = True
        self.port.handler.connected(self)

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        if self.sniff:
            self.sniff = False
            if looks_like_tls(data):
                assert self.tls_ctx is not None
                self.tls = TlsSession(self.tls_ctx)
            else:
                self._announce()
        if self.tls is not None:
            data = self._decrypt(data)
            if not data or self.closed:
                return
        if self.first:
            self.first = False
            if self._maybe_four_letter(data):
                return
        try:
            frames = self.decoder.feed(data)
        except FrameError as e:
            hint = " (a TLS handshake on a plain port?)" if self.first_bytes_tls(data) else ""
            self.close(f"{e}{hint}")
            return
        if frames:
            if self.awaiting_handshake:
                self._handshake_done()
            self.port.handler.frames(self, frames)

    def eof_received(self) -> bool:
        """The client closed its side: the transport closes (and a lingering close ends)."""
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.awaiting_handshake:
            self._handshake_done()
        self.port.lingers.discard(self)  # a lingering close ends (a dict pop: no entry, no cost)
        self.closed = True
        if self.port.release(self) and self.announced:
            self.port.handler.disconnected(self)

    def pause_writing(self) -> None:
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.transport is not None and not self.closed and not self.port.paused:
            self.transport.resume_reading()

    # ---- used by the runtime -----------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if not self.closed and self.transport is not None:
            if self.tls is not None:
                self.tls.send(data)
                data = self.tls.outgoing()
            self.transport.write(data)

    def close(self, reason: str) -> None:
        if self.closed:
            return
        # The end of a session the client closed is routine: ZooKeeper 3.8 logs its "Closed socket connection"
        # at DEBUG (and an INFO line, formatted and written, costs about 12 us of CPU per connection).
        log.log(logging.DEBUG if reason == CLIENT_CLOSED else logging.INFO, "closing connection from %s: %s",
                self.remote_ip, reason)
        self._shut()

    @property
    def secure(self) -> bool:
        return self.tls is not None

    # ---- internals ---------------------------------------------------------------------------

    def _shut(self) -> None:
        """Close from our side without losing what was written. Closing a socket that holds unread bytes (a
        request the client sent after the one that made us close) makes the kernel send RST and throw away
        whatever of our replies it has not yet sent: a client reading slowly lost the closeSession reply and
        every reply before it. So the replies go out followed by FIN (write_eof, once the transport's buffer is
        flushed), input is read and dropped until the client closes its side, and only then is the socket
        closed; a client that never does is cut off once its replies stop draining (_LINGER_S)."""
        self.closed = True
        transport = self.transport
        if transport is None:
            return
        if self.tls is not None and self.tls.handshaken:
            self.tls.close_notify()
            transport.write(self.tls.outgoing())
        if transport.is_closing():
            return
        # The core is done with the connection now, as when the transport closed at once: its slot is free.
        if self.port.release(self) and self.announced:
            (self.port.loop or asyncio.get_running_loop()).call_soon(self.port.handler.disconnected, self)
        if self.awaiting_handshake:
            self._handshake_done()
        if not transport.can_write_eof():
            transport.close()
            return
        transport.write_eof()
        transport.resume_reading()  # drop what comes in rather than leave it unread
        self.port.lingers.add(self, _LINGER_S, self._linger_expired)

    def _handshake_done(self) -> None:
        self.awaiting_handshake = False
        self.port.handshakes.discard(self)

    def _linger_expired(self) -> None:
        """The client has not closed its side: give up once our replies stop draining."""
        transport = self.transport
        assert transport is not None
        left = transport.get_write_buffer_size()
        if left and (self._linger_left < 0 or left < self._linger_left):
            self._linger_left = left
            self.port.lingers.add(self, _LINGER_S, self._linger_expired)
            return
        transport.abort()

    def first_bytes_tls(self, data: bytes) -> bool:
        return self.tls is None and self.decoder.peek_first_word() is None and bool(data) and looks_like_tls(data)

    def _decrypt(self, data: bytes) -> bytes:
        """The plaintext `data` completes; on the handshake's completion the handler hears of the connection."""
        tls = self.tls
        assert tls is not None and self.transport is not None
        try:
            plain = tls.receive(data)
        except ssl.SSLError as e:
            out = tls.outgoing()  # the alert telling the client why
            if out:
                self.transport.write(out)
            what = "TLS error from" if tls.handshaken else "TLS handshake failed with"
            reason = getattr(e, "verify_message", None) or e.reason or type(e).__name__
            log.warning("%s %s:%d: %s", what, self.remote_ip, self.remote_port, reason)
            self.closed = True
            self.transport.close()
            return b""
        out = tls.outgoing()
        if out:
            self.transport.write(out)
        if not self.announced and tls.handshaken:
            der = tls.peer_certificate()
            self.x509_subject = java_subject(der) if der else None
            log.debug("TLS connection from %s:%d: %s, client certificate %s", self.remote_ip, self.remote_port,
                      tls.describe(), self.x509_subject)
            self._announce()
            if self.closed:  # the handler refused it
                return b""
        if tls.peer_closed:
            self.close("the client closed its TLS session")
            return b""
        return plain

    def _handshake_expired(self) -> None:
        self.awaiting_handshake = False
        if self.tls is not None and not self.tls.handshaken:
            log.warning("TLS handshake failed with %s:%d: not complete within the handshake timeout",
                        self.remote_ip, self.remote_port)
            self._shut()
            return
        self.close("no complete ConnectRequest within the handshake timeout")

    def _maybe_four_letter(self, data: bytes) -> bool:
        word = data[:4]
        if len(word) < 4 or not word.isascii() or not word.isalpha():
            return False
        answer = self.port.handler.four_letter(word.decode("ascii"), self)
        if answer is None:
            return False
        if self.awaiting_handshake:
            self._handshake_done()
        assert self.transport is not None
        self.write(answer.encode("utf-8"))
        self._shut()
        return True


class ClientPort:
    def __init__(self, handler: ClientHandler, settings: ClientPortSettings,
                 ids: Iterator[int] | None = None) -> None:
        """`ids`: where connection ids come from; an ensemble member passes one counter to the port of every
        role, so that a connection of an ended role's port is never taken for one of the next."""
        self.handler = handler
        self.settings = settings
        self.conns: dict[int, ClientConnection] = {}
        self.per_ip: dict[str, int] = {}
        self._ids = ids if ids is not None else itertools.count(1)
        self.server: asyncio.AbstractServer | None = None  # the first listener
        self.servers: list[asyncio.AbstractServer] = []
        self.paused = False  # reading is off on every connection (the server is throttling)
        self.stopped = False  # for good: a port is started once and stopped once (one per ensemble role)
        self._first: tuple[ssl.SSLContext | None, bool] = (None, False)
        self.loop: asyncio.AbstractEventLoop | None = None  # the one start() ran on (see Deadlines)
        self.handshakes = Deadlines()  # connections that have not yet sent a whole frame
        self.lingers = Deadlines()  # connections we closed, waiting for the client to close its side

    def factory(self, tls_ctx: ssl.SSLContext | None = None, unified: bool = False) -> Callable[[], ClientConnection]:
        def make() -> ClientConnection:
            return ClientConnection(self, next(self._ids), tls_ctx, unified)
        return make

    async def start(self, host: str, port: int, tls_ctx: ssl.SSLContext | None = None,
                    unified: bool = False) -> None:
        """Listen on host:port: plain, TLS only (a context), or both (a context and `unified`). A port may
        listen on several (clientPort and secureClientPort); connection ids are unique across them."""
        assert tls_ctx is not None or not unified
        loop = self.loop = asyncio.get_running_loop()
        server = await loop.create_server(self.factory(tls_ctx, unified), host, port, reuse_address=True,
                                          backlog=1024)
        self.servers.append(server)
        if self.server is None:
            self.server = server
            self._first = (tls_ctx, unified)  # what a rebind listens with
        if self.stopped:  # stopped while the socket was being opened: it never serves
            server.close()

    def admit(self, conn: ClientConnection) -> bool:
        limit = self.settings.max_client_cnxns
        n = self.per_ip.get(conn.remote_ip, 0)
        if limit and n >= limit:
            return False
        self.per_ip[conn.remote_ip] = n + 1
        self.conns[conn.id] = conn
        return True

    def release(self, conn: ClientConnection) -> bool:
        if self.conns.pop(conn.id, None) is None:
            return False
        n = self.per_ip.get(conn.remote_ip, 1) - 1
        if n:
            self.per_ip[conn.remote_ip] = n
        else:
            self.per_ip.pop(conn.remote_ip, None)
        return True

    def pause_all(self) -> None:
        self.paused = True
        for c in self.conns.values():
            if c.transport is not None and not c.closed:
                c.transport.pause_reading()

    def resume_all(self) -> None:
        self.paused = False
        for c in self.conns.values():
            if c.transport is not None and not c.closed:
                c.transport.resume_reading()

    async def rebind(self, host: str, port: int) -> None:
        """Listen on host:port instead of the first listener's address (a reconfig moved the client port), as
        NIOServerCnxnFactory.reconfigure: the old listener closes first, accepted connections stay. Raises
        OSError if the new address cannot be bound (nothing listens then, as in ZooKeeper)."""
        old = self.server
        if old is None or self.stopped:
            return
        old.close()
        self.servers.remove(old)
        self.server = None
        server = await asyncio.get_running_loop().create_server(self.factory(*self._first), host, port,
                                                                reuse_address=True, backlog=1024)
        self.servers.insert(0, server)
        self.server = server
        if self.stopped:
            server.close()

    def bound_port(self) -> int:
        assert self.server is not None
        return self.server.sockets[0].getsockname()[1]

    def bound_ports(self) -> list[int]:
        return [s.sockets[0].getsockname()[1] for s in self.servers]

    async def stop(self) -> None:
        """Stop listening and close every connection. Connections the loop accepted but has not yet handed to
        us, and any accepted later (a start still in progress), are closed as they arrive (connection_made
        sees `stopped`): none of them reaches the handler."""
        self.stopped = True
        for server in self.servers:
            server.close()
        for c in list(self.conns.values()):
            c.close("server shutting down")
