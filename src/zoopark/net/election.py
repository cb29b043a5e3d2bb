"""Election links between servers, as ZooKeeper 3.8's QuorumCnxManager makes them.

Each server listens on its election port. Between two servers only the connection opened by the higher id
survives: a server that accepts one from a lower id closes it and dials back, and a server that dials a
higher id sends its initial message and hangs up, so the higher one dials it. Messages are an int length and
a notification. Per peer only the newest unsent notification is kept (ZooKeeper's send queue of capacity 1):
a vote superseded before it went out is never worth sending. A message to ourselves is looped back. Each new
link to a peer with nothing queued for it starts with the last notification sent to that peer (ZooKeeper's
SendWorker and its lastMessageSent): one written on a connection that broke may never have been read, and a
LOOKING server that misses the answer to its vote waits a backed-off interval (up to a minute) to ask again.
With quorum SASL the dialler authenticates right after its initial message, before the higher-id rule decides
which connection stays (net.quorumsasl). Everything here moves bytes; the election itself is
`core.zab.election`.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Callable

from ..core.jute.election import (
    MAX_MESSAGE_BYTES,
    ElectionWireError,
    InitialMessage,
    Notification,
    parse_initial,
)
from . import peertls, quorumsasl

log = logging.getLogger("zoopark.election")
_LEN = struct.Struct(">i")
CONNECT_TIMEOUT_S = 5.0


class _Link(asyncio.Protocol):
    """One election connection. `sid` is known at once for a dialled link, after the initial message for an
    accepted one."""

    def __init__(self, port: ElectionPort, sid: int | None, dialled: bool) -> None:
        self.port = port
        self.sid = sid
        self.dialled = dialled
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.greeted = dialled  # an accepted link waits for the peer's initial message

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        try:
            if not self.greeted:
                got = parse_initial(bytes(self.buf))
                if got is None:
                    if len(self.buf) > 4096:
                        raise ElectionWireError("initial message too long")
                    return
                init, used = got
                del self.buf[:used]
                self.greeted = True
                if not self.port._accepted(self, init):
                    return
            while len(self.buf) >= 4:
                (n,) = _LEN.unpack_from(self.buf, 0)
                if n <= 0 or n > MAX_MESSAGE_BYTES:
                    raise ElectionWireError(f"message length {n} out of range")
                if len(self.buf) < 4 + n:
                    return
                body = bytes(self.buf[4 : 4 + n])
                del self.buf[: 4 + n]
                assert self.sid is not None
                self.port._received(self.sid, Notification.decode(body))
        except ElectionWireError as e:
            log.warning("election link from %s: %s; closing it", self.sid, e)
            self.close()

    def send(self, n: Notification) -> None:
        if self.transport is not None and not self.transport.is_closing():
            body = n.encode()
            self.transport.write(_LEN.pack(len(body)) + body)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc) -> None:  # type: ignore[override]
        self.port._lost(self)


class ElectionPort:
    def __init__(self, my_id: int, my_address: tuple[str, int], peers: dict[int, tuple[str, int]],
                 on_notification: Callable[[int, Notification], None], tls=None, sasl=None) -> None:
        """`tls`: net.tls.QuorumTls when sslQuorum is on (both ends' certificates are verified); each new
        connection, accepted or dialled, takes the one `tls` holds then (sslQuorumReloadCertFiles replaces it).
        `sasl`: net.quorumsasl.QuorumSasl when quorum.auth.enableSasl is."""
        self.my_id = my_id
        self.my_address = my_address
        self.peers = dict(peers)  # sid -> (host, election port)
        self.on_notification = on_notification
        self.links: dict[int, _Link] = {}
        self.pending: dict[int, Notification] = {}  # newest unsent notification per peer
        self.last_sent: dict[int, Notification] = {}  # newest notification written to each peer
        self._dialling: set[int] = set()
        self._server: asyncio.base_events.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.received = 0
        self.tls = tls
        self.sasl = sasl

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        host, port = self.my_address
        factory = quorumsasl.accepting(lambda: _Link(self, None, False), self.sasl, "election port", parse_initial,
                                       election=True)
        tls = None if self.tls is None else (lambda: self.tls)  # read per connection: it may be reloaded
        self._server = await peertls.listen(self._loop, factory, host, port, tls, "election port")
        log.info("election port listening on %s:%d", host, port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in list(self.links.values()):
            link.close()

    # ---- sending ---------------------------------------------------------------------------------

    def send(self, sid: int, n: Notification) -> None:
        if sid == self.my_id:
            assert self._loop is not None
            self._loop.call_soon(self._received, sid, n)
            return
        link = self.links.get(sid)
        if link is not None:
            link.send(n)
            self.last_sent[sid] = n
            return
        self.pending[sid] = n
        self._dial(sid)

    def connect_all(self) -> None:
        for sid in self.peers:
            if sid not in self.links:
                self._dial(sid)

    def _dial(self, sid: int) -> None:
        if sid in self._dialling or sid not in self.peers or self._loop is None:
            return
        self._dialling.add(sid)
        self._loop.create_task(self._dial_task(sid))

    async def _dial_task(self, sid: int) -> None:
        assert self._loop is not None
        host, port = self.peers[sid]
        initial = InitialMessage(self.my_id, f"{self.my_address[0]}:{self.my_address[1]}").encode()
        try:
            _, link = await asyncio.wait_for(
                quorumsasl.dial(self._loop, lambda: _Link(self, sid, True), host, port, self.my_address[0], self.tls,
                                self.sasl, f"election link to server {sid}", first=initial, election=True),
                CONNECT_TIMEOUT_S + peertls.HANDSHAKE_TIMEOUT_S + quorumsasl.exchange_bound_s(self.sasl, True))
        except (OSError, asyncio.TimeoutError) as e:
            log.debug("cannot reach server %d at %s:%d: %s", sid, host, port, e)
            return
        except quorumsasl.QuorumAuthFailed as e:
            log.warning("%s", e)
            return
        finally:
            self._dialling.discard(sid)
        if sid > self.my_id:
            link.close()  # it has the higher id: it dials us back, and that link is the one kept
            return
        self._adopt(sid, link)

    # ---- receiving -------------------------------------------------------------------------------

    def _accepted(self, link: _Link, init: InitialMessage) -> bool:
        if init.sid < self.my_id:
            link.close()
            self._dial(init.sid)  # we have the higher id: our connection is the one to keep
            return False
        if init.sid == self.my_id:
            log.warning("election connection claiming our own id %d: closing it", init.sid)
            link.close()
            return False
        link.sid = init.sid
        self._adopt(init.sid, link)
        return True

    def _adopt(self, sid: int, link: _Link) -> None:
        old = self.links.get(sid)
        if old is not None and old is not link:
            old.close()
        self.links[sid] = link
        n = self.pending.pop(sid, None)
        if n is None:
            n = self.last_sent.get(sid)
        if n is not None:
            link.send(n)
            self.last_sent[sid] = n

    def _received(self, sid: int, n: Notification) -> None:
        self.received += 1
        self.on_notification(sid, n)

    def _lost(self, link: _Link) -> None:
        if link.sid is not None and self.links.get(link.sid) is link:
            del self.links[link.sid]
