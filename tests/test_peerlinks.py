"""runtime/peerlinks.py, the quorum links of the member machine's executor, on real sockets."""

from __future__ import annotations

import asyncio

import uvloop

from zoopark.config import ServerSpec
from zoopark.core.jute.quorum import LearnerInfo, PacketType, QuorumPacket, QuorumStreamDecoder
from zoopark.core.member.actions import PeerLost
from zoopark.runtime.peerlinks import QuorumLinks

from procs import free_port


class _Batch:
    def write(self, transport, data: bytes) -> None:
        transport.write(data)


class _Member:
    """What QuorumLinks reads of its member: the servers, our id, TLS, the turn batch, and `feed`."""

    def __init__(self, leader_port: int) -> None:
        self.my_id = 1
        self.observer = False
        self.quorum_tls = None
        self.quorum_sasl = None
        self.servers = {1: ServerSpec(1, "127.0.0.1", free_port(), free_port()),
                        2: ServerSpec(2, "127.0.0.1", leader_port, free_port())}
        self.fed: list = []
        self.lost = asyncio.Event()

    def batch(self) -> _Batch:
        return _Batch()

    def feed(self, event) -> None:
        self.fed.append(event)
        if isinstance(event, PeerLost):
            self.lost.set()


class _Leader(asyncio.Protocol):
    def __init__(self, got: asyncio.Queue) -> None:
        self.got = got
        self.decoder = QuorumStreamDecoder()

    def data_received(self, data: bytes) -> None:
        for p in self.decoder.feed(data):
            self.got.put_nowait(p)


def _info() -> QuorumPacket:
    return QuorumPacket(PacketType.FOLLOWERINFO, 0, LearnerInfo(1).encode())


async def _refused_then_listening() -> list[QuorumPacket]:
    port = free_port()
    m = _Member(port)
    links = QuorumLinks(m)  # type: ignore[arg-type]
    links.send(2, _info(), 7, "FOLLOWING")
    await asyncio.wait_for(m.lost.wait(), 10)  # nobody listens yet: the dial is refused, reported as lost
    got: asyncio.Queue = asyncio.Queue()
    server = await asyncio.get_running_loop().create_server(lambda: _Leader(got), "127.0.0.1", port)
    try:
        # The machine dials the leader again as a new generation (ZabPeer within initLimit): its
        # FOLLOWERINFO goes on a new link, and the lost generation's unsent one never follows it.
        links.send(2, _info(), 8, "FOLLOWING")
        first = await asyncio.wait_for(got.get(), 10)
        await asyncio.sleep(0)
        rest = [got.get_nowait() for _ in range(got.qsize())]
        return [first, *rest]
    finally:
        links.close()
        server.close()


def test_a_refused_dial_is_reported_and_the_next_generation_dials_anew() -> None:
    packets = uvloop.run(_refused_then_listening())
    assert [p.type for p in packets] == [PacketType.FOLLOWERINFO]


def test_a_leaders_packet_to_several_followers_is_encoded_once_and_each_gets_its_bytes(monkeypatch) -> None:
    from zoopark.runtime import peerlinks

    class _Transport:
        def __init__(self) -> None:
            self.out: list[bytes] = []

        def write(self, data: bytes) -> None:
            self.out.append(data)

    encoded: list[object] = []
    real = peerlinks.encode
    monkeypatch.setattr(peerlinks, "encode", lambda p: encoded.append(p) or real(p))
    links = QuorumLinks(_Member(free_port()))  # type: ignore[arg-type]
    links.listener_gen = 5
    for sid in (2, 3):
        link = peerlinks._LearnerLink(links, 5)
        link.transport, link.sid = _Transport(), sid  # type: ignore[assignment]
        links.learners[sid] = link
    proposal = QuorumPacket(PacketType.PROPOSAL, 0x500000001, b"txn")
    commit = QuorumPacket(PacketType.COMMIT, 0x500000001)
    for packet in (proposal, commit):
        for sid in (2, 3):
            links.send(sid, packet, 5, "LEADING")
    assert encoded == [proposal, commit]
    for sid in (2, 3):
        assert links.learners[sid].transport.out == [proposal.encode(), commit.encode()]  # type: ignore[union-attr]
