"""zoopark's election against Apache ZooKeeper 3.8's, over real election ports on loopback."""

from __future__ import annotations

import asyncio
import socket

from elector import Elector
from zoopark.config import ServerSpec
from zoopark.core.jute.election import PeerState

from procs import (
    ZooKeeperProcess,
    ensemble_config,
    free_port,
    member,
    server_mode,
)
from references import needs

pytestmark = needs("zookeeper")


def ensemble(n: int) -> list[ServerSpec]:
    return [ServerSpec(i, "127.0.0.1", free_port(), free_port()) for i in range(1, n + 1)]


def config_text(specs: list[ServerSpec]) -> str:
    """QuorumMaj.toString of these participants (ids below 16 list in id order)."""
    return "".join(f"server.{s.id}={s.host}:{s.quorum_port}:{s.election_port}:participant\n" for s in specs) + "version=0"


def zk_member(specs: list[ServerSpec], my_id: int) -> ZooKeeperProcess:
    return member(ZooKeeperProcess, my_id, ensemble_config({s.id: (s.quorum_port, s.election_port) for s in specs}))


async def wait_for(cond, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if cond():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_zoopark_joins_a_running_zookeeper_ensemble_as_a_follower_of_its_leader() -> None:
    specs = ensemble(3)
    zks = [zk_member(specs, 1), zk_member(specs, 2)]
    try:
        for zk in zks:
            zk.start(wait=False)

        async def run() -> None:
            await wait_for(lambda: all(server_mode(z.port) for z in zks), 60, "ZooKeeper 1 and 2 to form a quorum")
            leader = next(i + 1 for i, z in enumerate(zks) if server_mode(z.port) == "leader")
            el = Elector(3, specs, config_text(specs))
            await el.start()
            try:
                d = await asyncio.wait_for(el.elect(0, 0), 30)
            finally:
                await el.stop()
            assert d.state == PeerState.FOLLOWING and d.vote.leader == leader

        asyncio.run(run())
    finally:
        for zk in zks:
            zk.cleanup()


def test_zookeeper_elects_and_follows_a_zoopark_server_with_a_newer_history() -> None:
    specs = ensemble(3)
    zk = zk_member(specs, 1)
    try:
        zk.start(wait=False)

        async def run() -> None:
            me = specs[2]
            follower_connected = asyncio.Event()

            async def on_learner(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                follower_connected.set()  # ZooKeeper decided FOLLOWING us and dialled our quorum port
                writer.close()

            quorum = await asyncio.start_server(on_learner, me.host, me.quorum_port, family=socket.AF_INET)
            el = Elector(3, specs, config_text(specs))
            await el.start()
            try:
                d = await asyncio.wait_for(el.elect((7 << 32) | 3, 7), 60)
                assert d.state == PeerState.LEADING and d.vote.leader == 3
                await asyncio.wait_for(follower_connected.wait(), 30)
            finally:
                await el.stop()
                quorum.close()

        asyncio.run(run())
    finally:
        zk.cleanup()
