"""A learner's connection to its leader's quorum port: packets out, packets (and a SNAP's raw database) in."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from ..core.jute.quorum import QuorumPacket, QuorumStreamDecoder, QuorumWireError
from . import quorumsasl

log = logging.getLogger("zoopark.quorum")


class LeaderLink(asyncio.Protocol):
    def __init__(self, on_item: Callable[[QuorumPacket | tuple[str, bytes]], None],
                 on_lost: Callable[[str], None]) -> None:
        self.on_item = on_item
        self.on_lost = on_lost
        self.decoder = QuorumStreamDecoder()
        self.transport: asyncio.Transport | None = None
        self.closed = False

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            items = self.decoder.feed(data)
        except QuorumWireError as e:
            self.close(f"bad data from the leader: {e}")
            return
        for item in items:
            if self.closed:
                return
            self.on_item(item)

    def send(self, packet: QuorumPacket) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(packet.encode())

    def close(self, reason: str) -> None:
        if not self.closed:
            self.closed = True
            if self.transport is not None:
                self.transport.close()
            self.on_lost(reason)

    def connection_lost(self, exc) -> None:  # type: ignore[override]
        self.close(f"connection to the leader lost ({exc or 'closed'})")


async def connect_leader(host: str, port: int, local_host: str, on_item, on_lost,
                         attempts: int = 50, delay_s: float = 0.1, tls=None, sasl=None) -> LeaderLink:
    """ZooKeeper's connectToLeader: retries 100 ms apart (leaderConnectDelayDuringRetryMs; the new leader
    may not be listening yet), binding our own address; over TLS with `tls` (sslQuorum), then quorum SASL with
    `sasl` (net.quorumsasl.QuorumSasl; a failed exchange is not retried: ZooKeeper's learner gives up too)."""
    loop = asyncio.get_running_loop()
    last: Exception | None = None
    for i in range(attempts):
        try:
            _, link = await asyncio.wait_for(quorumsasl.dial(
                loop, lambda: LeaderLink(on_item, on_lost), host, port, local_host, tls, sasl, "quorum port"),
                15.0 + quorumsasl.exchange_bound_s(sasl, False))
            return link
        except quorumsasl.QuorumAuthFailed as e:
            raise ConnectionError(str(e)) from None
        except (OSError, asyncio.TimeoutError) as e:
            last = e
            log.debug("cannot reach the leader at %s:%d (try %d): %s", host, port, i + 1, e)
            await asyncio.sleep(delay_s)
    raise ConnectionError(f"leader at {host}:{port} unreachable: {last}")
