"""The quorum port's packets: codec round trips, and the real stream between two Apache ZooKeeper 3.8
servers (recorded through a proxy) decoded packet by packet, SNAP transfer included."""

from __future__ import annotations

import time

import pytest
from kazoo.client import KazooClient

from faultproxy import FaultProxy
from zoopark.core.jute.quorum import (
    SNAP_SIGNATURE,
    LearnerInfo,
    PacketType,
    QuorumPacket,
    QuorumStreamDecoder,
    QuorumWireError,
    make_zxid,
    read_packet,
)
from zoopark.core.jute.records import Id
from zoopark.core.tree import snapshot as snap
from zoopark.core.tree.datatree import DataTree

from procs import ZooKeeperProcess, ensemble_config, ensemble_ports, member
from references import needs


def test_packet_round_trip() -> None:
    for p in [QuorumPacket(PacketType.PING, 5), QuorumPacket(PacketType.PROPOSAL, make_zxid(3, 9), b"txn"),
              QuorumPacket(PacketType.REQUEST, 0, b"", (Id("digest", "a:b"), Id("ip", "127.0.0.1")))]:
        data = p.encode()
        assert read_packet(data) == p
        dec = QuorumStreamDecoder()
        got = []
        for i in range(len(data)):  # byte by byte: a stream split anywhere
            got += dec.feed(data[i : i + 1])
        assert got == [p]
    assert LearnerInfo.decode(LearnerInfo(7, 0x10000, 3).encode()) == LearnerInfo(7, 0x10000, 3)


def test_snap_section_is_found_across_reads() -> None:
    tree = DataTree()
    from zoopark.core.jute.constants import OpCode
    from zoopark.core.jute.records import OPEN_ACL_UNSAFE, CreateTxn, TxnHeader

    for i in range(1, 50):
        tree.apply(TxnHeader(0, i, i, 1000, OpCode.CREATE), CreateTxn(f"/n{i}", b"d" * i, OPEN_ACL_UNSAFE, False, -1))
    body = snap.serialize_body(tree, {0x55: 4000})
    sig = len(SNAP_SIGNATURE).to_bytes(4, "big") + SNAP_SIGNATURE.encode()
    stream = QuorumPacket(PacketType.SNAP, 49).encode() + body + sig + QuorumPacket(PacketType.NEWLEADER, 1 << 32).encode()
    dec = QuorumStreamDecoder()
    items = []
    for i in range(0, len(stream), 7):
        items += dec.feed(stream[i : i + 7])
    assert [type(x).__name__ for x in items] == ["QuorumPacket", "tuple", "QuorumPacket"]
    assert items[1][1] == body
    loaded = snap.deserialize_body(items[1][1])
    assert loaded.sessions == {0x55: 4000} and loaded.tree.get("/n49").data == b"d" * 49


def test_hostile_lengths_are_refused() -> None:
    with pytest.raises(QuorumWireError):
        QuorumStreamDecoder().feed(QuorumPacket(PacketType.PING, 0).encode()[:12] + (1 << 30).to_bytes(4, "big"))


def _all_acked(c2s: bytes, s2c: bytes) -> bool:
    """Had the follower ACKed every PROPOSAL the leader sent it (the last two writes included)?"""
    props = {p.zxid for p in decode_all(s2c) if isinstance(p, QuorumPacket) and p.type == PacketType.PROPOSAL}
    acks = {p.zxid for p in decode_all(c2s) if p.type == PacketType.ACK}
    return len(props) >= 2 and props <= acks


def decode_all(data: bytes) -> list:
    dec = QuorumStreamDecoder()
    return dec.feed(bytes(data))


@needs("zookeeper")
def test_stream_between_two_zookeepers_decodes_packet_by_packet() -> None:
    """Servers 2 and 3 of a 3-server ensemble write 20 znodes; then server 1 joins, behind, through a proxy to
    the leader (3), which sends it a SNAP (snapshotSizeFactor=0 turns off syncing from the txn log)."""
    ports = ensemble_ports((1, 2, 3))
    recorder = FaultProxy(ports[3][0], record=True)
    props = {"zookeeper.snapshotSizeFactor": "0", "zookeeper.commitLogCount": "5"}

    def zk(my_id: int) -> ZooKeeperProcess:
        view = dict(ports)
        if my_id == 1:  # server 1 reaches the leader's quorum port through the recorder
            view[3] = (recorder.port, ports[3][1])
        return member(ZooKeeperProcess, my_id, ensemble_config(view), jvm_props=props)

    zks = {i: zk(i) for i in (2, 3, 1)}
    try:
        zks[2].start(wait=False)
        zks[3].start(timeout=60)
        c = KazooClient(zks[3].hosts)
        c.start(timeout=30)
        for i in range(20):
            c.create(f"/wire{i}", b"v%d" % i)
        zks[1].start(timeout=60)
        c.create("/after-join", b"broadcast")
        c.set("/wire0", b"changed")
        deadline = time.monotonic() + 20
        # The streams are judged as they stood when every proposal had its ACK: the closeSession below
        # proposes once more, and that one may or may not reach the follower before it is killed.
        c2s, s2c = b"", b""
        while time.monotonic() < deadline:
            s2c = bytes(recorder.s2c)
            c2s = bytes(recorder.c2s)
            if _all_acked(c2s, s2c):
                break
            time.sleep(0.05)
        zks[1].kill()  # before the client's closeSession, whose PROPOSAL it would never ACK
        c.stop()
        c.close()
    finally:
        for zk in zks.values():
            zk.cleanup()
        recorder.close()

    to_leader = decode_all(c2s)
    from_leader = decode_all(s2c)
    assert all(isinstance(p, QuorumPacket) for p in to_leader)
    for p in to_leader:
        assert p.encode() in c2s  # byte-exact round trip
    types_in = [p.type for p in to_leader]
    assert types_in[:2] == [PacketType.FOLLOWERINFO, PacketType.ACKEPOCH]
    info = LearnerInfo.decode(to_leader[0].data)
    assert info.server_id == 1 and info.protocol_version == 0x10000
    out_types = [p.type if isinstance(p, QuorumPacket) else p[0] for p in from_leader]
    assert out_types[0] == PacketType.LEADERINFO
    assert out_types[1] == PacketType.SNAP and out_types[2] == "snapshot"
    raw = from_leader[2][1]
    loaded = snap.deserialize_body(raw)
    assert {f"/wire{i}" for i in range(20)} <= set(loaded.tree.nodes)
    assert PacketType.NEWLEADER in out_types and PacketType.UPTODATE in out_types
    assert out_types.index(PacketType.NEWLEADER) < out_types.index(PacketType.UPTODATE)
    assert PacketType.ACK in types_in  # the follower's ACK of NEWLEADER (and of UPTODATE)
    proposals = [p for p in from_leader if isinstance(p, QuorumPacket) and p.type == PacketType.PROPOSAL]
    commits = [p for p in from_leader if isinstance(p, QuorumPacket) and p.type == PacketType.COMMIT]
    assert len(proposals) >= 2 and {p.zxid for p in proposals} <= {p.zxid for p in commits}
    acks = {p.zxid for p in to_leader if p.type == PacketType.ACK}
    assert {p.zxid for p in proposals} <= acks
