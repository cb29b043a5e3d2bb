"""For tests that take part in an election beside ZooKeeper servers without a whole member: the pure
`Election` core, its election links (net/election.py) and a clock on the loop.

`await elector.elect(last_zxid, current_epoch)` runs an election round and returns the decision; the elector
keeps answering LOOKING peers with that vote afterwards, as ZooKeeper's receiver thread does.
"""

from __future__ import annotations

import asyncio
import logging
import time

from zoopark import timings
from zoopark.config import ServerSpec
from zoopark.core.jute.election import Notification
from zoopark.core.zab.election import Decided, Election, SendTo
from zoopark.net.election import ElectionPort

log = logging.getLogger("zoopark.election")
_TICK_S = 0.05


def _now_ms() -> int:
    return time.monotonic_ns() // 1_000_000


class Elector:
    def __init__(self, my_id: int, servers: list[ServerSpec], config: str, tls=None, sasl=None) -> None:
        """`config`: the ensemble as QuorumMaj.toString writes it (zoopark.quorumconfig), sent with every
        notification, as ZooKeeper's are."""
        by_id = {s.id: s for s in servers}
        me = by_id[my_id]
        voters = frozenset(s.id for s in servers if not s.observer)
        self.election = Election(my_id, voters, observer=me.observer, config=config.encode())
        self.port = ElectionPort(my_id, (me.host, me.election_port),
                                 {s.id: (s.host, s.election_port) for s in servers if s.id != my_id},
                                 self._on_notification, tls, sasl)
        self._decided: asyncio.Future[Decided] | None = None
        self._ticker: asyncio.Task | None = None

    async def start(self) -> None:
        await self.port.start()
        self._ticker = asyncio.create_task(self._tick())

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        await self.port.stop()

    async def elect(self, last_zxid: int, current_epoch: int) -> Decided:
        self._decided = asyncio.get_running_loop().create_future()
        log.info("LOOKING: election round %d, our zxid 0x%x, epoch %d", self.election.logical_clock + 1,
                 last_zxid, current_epoch)
        self._run(self.election.start(_now_ms(), last_zxid, current_epoch))
        self.port.connect_all()
        began = time.monotonic()
        d = await self._decided
        timings.ELECTION.observe(time.monotonic() - began)
        log.info("%s: leader %d (zxid 0x%x, peer epoch %d, election round %d)", d.state.name, d.vote.leader,
                 d.vote.zxid, d.vote.peer_epoch, d.vote.election_epoch)
        return d

    def _on_notification(self, sid: int, n: Notification) -> None:
        self._run(self.election.receive(sid, n, _now_ms()))

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(_TICK_S)
            actions = self.election.tick(_now_ms())
            if any(isinstance(a, SendTo) for a in actions):
                self.port.connect_all()  # resending: re-dial whoever we lost (manager.connectAll)
            self._run(actions)

    def _run(self, actions: list) -> None:
        for a in actions:
            if isinstance(a, SendTo):
                self.port.send(a.sid, a.notification)
            elif isinstance(a, Decided) and self._decided is not None and not self._decided.done():
                self._decided.set_result(a)
