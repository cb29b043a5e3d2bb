"""Election links (net/election.py) between two real ports on loopback: which connection survives, and that a
new connection starts with the last notification sent to that peer, as ZooKeeper's SendWorker re-sends its
lastMessageSent (a vote written on a connection that broke may never have been read)."""

from __future__ import annotations

import asyncio

from zoopark.core.jute.election import Notification, PeerState
from zoopark.net.election import ElectionPort

from procs import free_port

_WAIT_S = 10.0


class Inbox:
    def __init__(self) -> None:
        self.got: list[tuple[int, Notification]] = []
        self.changed = asyncio.Event()

    def __call__(self, sid: int, n: Notification) -> None:
        self.got.append((sid, n))
        self.changed.set()

    async def wait_for(self, count: int) -> list[tuple[int, Notification]]:
        """Until `count` notifications have arrived in all (bounded by _WAIT_S)."""
        async with asyncio.timeout(_WAIT_S):
            while len(self.got) < count:
                self.changed.clear()
                await self.changed.wait()
        return list(self.got)


def _vote(leader: int, epoch: int, state: PeerState = PeerState.LOOKING) -> Notification:
    return Notification(state, leader, 0x100000001, epoch, 1)


async def _pair() -> tuple[ElectionPort, Inbox, ElectionPort, Inbox]:
    a1, a2 = ("127.0.0.1", free_port()), ("127.0.0.1", free_port())
    in1, in2 = Inbox(), Inbox()
    p1 = ElectionPort(1, a1, {2: a2}, in1)
    p2 = ElectionPort(2, a2, {1: a1}, in2)
    await p1.start()
    await p2.start()
    return p1, in1, p2, in2


async def _links_up(p1: ElectionPort, p2: ElectionPort) -> None:
    async with asyncio.timeout(_WAIT_S):
        while 2 not in p1.links or 1 not in p2.links:
            await asyncio.sleep(0.01)


def test_a_new_link_starts_with_the_last_notification_sent_to_that_peer():
    async def main() -> None:
        p1, in1, p2, in2 = await _pair()
        try:
            following = _vote(2, 3, PeerState.FOLLOWING)
            p2.send(1, following)  # server 2 answers 1's vote; 2 has the higher id, so its dialled link stays
            assert await in1.wait_for(1) == [(2, following)]
            await _links_up(p1, p2)

            # The connection breaks (as if the answer had been lost with it); 1 asks again with a new vote.
            p1.links[2].close()
            async with asyncio.timeout(_WAIT_S):
                while 2 in p1.links or 1 in p2.links:
                    await asyncio.sleep(0.01)
            looking = _vote(1, 4)
            p1.send(2, looking)  # 1 dials 2, which closes it and dials back: that link is the new one

            # 2 receives the new vote, and 1 receives 2's last notification again on the new link, before
            # 2 has said anything new.
            assert (1, looking) in await in2.wait_for(1)
            assert await in1.wait_for(2) == [(2, following), (2, following)]
            assert p2.last_sent[1] == following and p1.last_sent[2] == looking

            # A notification queued while no link was up goes out instead of the last one (the newer vote).
            p1.links[2].close()
            async with asyncio.timeout(_WAIT_S):
                while 2 in p1.links or 1 in p2.links:
                    await asyncio.sleep(0.01)
            leading = _vote(2, 3, PeerState.LEADING)
            p2.send(1, leading)
            assert (await in1.wait_for(3))[2] == (2, leading)
            await _links_up(p1, p2)
            assert p2.last_sent[1] == leading
        finally:
            await p1.stop()
            await p2.stop()

    asyncio.run(main())
