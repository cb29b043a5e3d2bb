"""Dynamic reconfiguration in the pure core: the reconfig request's prep (ZooKeeper's order of checks; the
live answers are compared with ZooKeeper 3.8's in test_reconfig_live.py), and ZAB's rules: a proposal made
while a reconfig is under way commits only on a quorum of both configurations, the commit activates the new
one (COMMITANDACTIVATE naming the designated leader, INFORMANDACTIVATE to observers), learners follow."""

from __future__ import annotations

import struct

import pytest

from zoopark.core.jute.constants import Err, OpCode
from zoopark.core.jute.election import Notification, PeerState
from zoopark.core.jute.quorum import PacketType, QuorumPacket, make_zxid
from zoopark.core.jute.records import Id, ReconfigRequest, SetDataTxn, TxnHeader
from zoopark.core.jute.txns import encode_txn
from zoopark.core.server.prep import Prep, Request
from zoopark.core.server.reconfig import Ensemble
from zoopark.core.session import SessionTable
from zoopark.core.tree.datatree import DataTree
from zoopark.core.zab import verifier as qv
from zoopark.core.zab.actions import Activated, Deliver, SeenConfig, Synced, ToPeer
from zoopark.core.zab.election import Election
from zoopark.core.zab.leader import Leader, StepDown
from zoopark.core.zab.learner import Learner
from zoopark.core.zab.peer import ZabPeer

SUPER = [Id("super", "")]
SESSION = 0x100


def config(*voters: int, observers: tuple[int, ...] = (), version: int = 0) -> qv.QuorumVerifier:
    return qv.of_ids(frozenset(voters), frozenset(observers)).with_version(version)


def joining(sid: int, role: str = "participant") -> str:
    return f"server.{sid}=member{sid}:2888:3888:{role};2181"


class Stub:
    def __init__(self, active: qv.QuorumVerifier, synced: set[int]) -> None:
        self.active = self.seen = active
        self.synced = synced

    def ensemble(self, standalone: bool = True) -> Ensemble:
        return Ensemble(lambda: self.seen, lambda: self.active, lambda c: c.has_quorum(self.synced), standalone)


def prep(stub: Stub | None, rec: ReconfigRequest, auth=SUPER, enabled: bool = True, zxid: int = 0x500000007):
    sessions = SessionTable(2000)
    sessions.add(SESSION, 10_000, 0)
    p = Prep(DataTree(), sessions, False)
    p.reconfig_enabled = enabled
    p.ensemble = stub.ensemble() if stub is not None else None
    return p.prep(Request(SESSION, OpCode.RECONFIG, rec, list(auth)), zxid)


def err(result) -> int:
    t, txn = result
    return txn.err if t == OpCode.ERROR else 0


def test_prep_answers_in_zookeepers_order():
    three = Stub(config(1, 2, 3, version=0x100000000), {1, 2, 3})
    add4 = ReconfigRequest(joining(4), None, None, -1)
    assert err(prep(three, add4, enabled=False)) == Err.RECONFIGDISABLED
    assert err(prep(None, add4)) == Err.UNIMPLEMENTED  # standalone
    three.seen = config(1, 2, version=0x100000005)
    assert err(prep(three, add4)) == Err.RECONFIGINPROGRESS
    three.seen = three.active
    assert err(prep(three, ReconfigRequest(joining(4), None, None, 0x100000001))) == Err.BADVERSION
    assert err(prep(three, ReconfigRequest("some thing", None, None, -1))) == Err.BADARGUMENTS
    assert err(prep(three, ReconfigRequest("server.4=h:1:2", None, None, -1))) == Err.BADARGUMENTS  # no client port
    assert err(prep(three, ReconfigRequest("server.4=member1:2888:9:participant;2", None, None, -1))) \
        == Err.BADARGUMENTS  # member 1's quorum address
    assert err(prep(three, ReconfigRequest(None, "1,2", None, -1))) == Err.BADARGUMENTS  # one voter left
    assert err(prep(three, ReconfigRequest(None, "x", None, -1))) == Err.MARSHALLINGERROR
    assert err(prep(three, ReconfigRequest(None, None, "server.1=h:1", -1))) == Err.BADARGUMENTS
    assert err(prep(three, ReconfigRequest(None, None, f"{joining(7)},{joining(8)},{joining(1)}", -1))) \
        == Err.NEWCONFIGNOQUORUM
    assert err(prep(three, add4, auth=[])) == Err.NOAUTH  # checked last, as ZooKeeper does


def test_prep_makes_the_config_txn():
    three = Stub(config(1, 2, 3, version=0x100000000), {1, 2, 3})
    t, txn = prep(three, ReconfigRequest(joining(4, "observer"), "2", None, 0x100000000), zxid=0x500000007)
    assert t == OpCode.RECONFIG and isinstance(txn, SetDataTxn)
    assert (txn.path, txn.version) == ("/zookeeper/config", -1)
    new = qv.parse(txn.data.decode())
    assert new.version == 0x500000007 and new.voters == {1, 3} and new.observers == {4}
    assert txn.data.decode().endswith("version=500000007")


def test_a_second_reconfig_prepped_before_the_first_is_proposed_is_in_progress():
    """Requests a connection sent before its session was logged are prepped in one step, before the leader
    has proposed (and recorded) the first reconfig: the prep stage itself says the second is in progress, as
    ZooKeeper's, which proposes each request before it preps the next."""
    three = Stub(config(1, 2, 3, version=0x100000000), {1, 2, 3, 4, 5})
    sessions = SessionTable(2000)
    sessions.add(SESSION, 10_000, 0)
    p = Prep(DataTree(), sessions, False)
    p.reconfig_enabled, p.ensemble = True, three.ensemble()
    first = p.prep(Request(SESSION, OpCode.RECONFIG, ReconfigRequest(joining(4), None, None, -1), SUPER), 0x100000001)
    second = p.prep(Request(SESSION, OpCode.RECONFIG, ReconfigRequest(joining(5), None, None, -1), SUPER), 0x100000002)
    assert (err(first), err(second)) == (0, Err.RECONFIGINPROGRESS)
    p.committed(0x100000001)
    three.active = three.seen = qv.parse(first[1].data.decode())
    assert err(p.prep(Request(SESSION, OpCode.RECONFIG, ReconfigRequest(joining(5), None, None, -1), SUPER),
                      0x100000003)) == 0


def reconfig_txn(zxid: int, new: qv.QuorumVerifier) -> bytes:
    return encode_txn(TxnHeader(SESSION, 1, zxid, 0, OpCode.RECONFIG),
                      SetDataTxn("/zookeeper/config", new.with_version(zxid).data(), -1))


def plain_txn(zxid: int) -> bytes:
    return encode_txn(TxnHeader(SESSION, 2, zxid, 0, OpCode.SET_DATA), SetDataTxn("/a", b"x", 1))


def established_leader(active: qv.QuorumVerifier, learners: tuple[int, ...]) -> Leader:
    """A leader of epoch 1 with `learners` up to date (driven through discovery and sync)."""
    lead = Leader(1, active.voters, 0, 0, 0, [], lambda: (0, b""), 0, config=active, reconfig_enabled=True)
    lead.start(0)
    for sid in learners:
        lead.on_packet(sid, QuorumPacket(PacketType.FOLLOWERINFO, 0, struct.pack(">qiq", sid, 0x10000, 0)), 0)
    lead.on_epoch_persisted(_persisted("acceptedEpoch", 1), 0)
    for sid in learners:
        lead.on_packet(sid, QuorumPacket(PacketType.ACKEPOCH, 0, struct.pack(">i", 0)), 0)
    lead.on_epoch_persisted(_persisted("currentEpoch", 1), 0)
    for sid in learners:
        lead.on_packet(sid, QuorumPacket(PacketType.ACK, make_zxid(1, 0)), 0)
    assert lead.established
    return lead


def _persisted(name: str, epoch: int):
    from zoopark.core.zab.actions import EpochPersisted
    return EpochPersisted(name, epoch)


def sent(actions, sid: int) -> list[QuorumPacket]:
    return [a.packet for a in actions if isinstance(a, ToPeer) and a.sid == sid]


def test_a_reconfig_commits_on_both_quorums_and_names_the_designated_leader():
    """Voters 1 (leader), 2, 3 become 2, 3, 4, 5: the reconfig, and the txn proposed after it, wait for a
    quorum of each; the commit activates the new configuration, names follower 2 (which ACKed the most) as
    the leader, goes out as COMMITANDACTIVATE, and the old leader commits nothing more."""
    old = config(1, 2, 3)
    new = config(2, 3, 4, 5)
    lead = established_leader(old, (2, 3, 4, 5))
    z1, out = lead.propose(lambda z: reconfig_txn(z, new))
    assert SeenConfig(new.with_version(z1)) in out
    z2, _ = lead.propose(plain_txn)
    lead.on_synced(z2)
    for sid in (2, 3):  # a quorum of the old configuration, but 2 of the new four
        lead.on_packet(sid, QuorumPacket(PacketType.ACK, z1), 0)
    assert lead.last_committed < z1
    out = lead.on_packet(4, QuorumPacket(PacketType.ACK, z1), 0)
    activated = [a for a in out if isinstance(a, Activated)]
    assert activated == [Activated(new.with_version(z1), 2)]  # of those that ACKed it, the lowest id
    lead.on_packet(2, QuorumPacket(PacketType.ACK, z2), 0)
    designated = activated[0].designated
    commit = sent(out, 3)
    assert [(p.type, p.zxid, struct.unpack(">q", p.data)[0]) for p in commit] == \
        [(PacketType.COMMITANDACTIVATE, z1, designated)]
    assert lead.config.voters == {2, 3, 4, 5} and not lead.allowed_to_commit
    more = [lead.on_packet(sid, QuorumPacket(PacketType.ACK, z2), 0) for sid in (3, 4, 5)]
    assert lead.last_committed == z1 and not any(isinstance(a, Deliver) for o in more for a in o)


def test_a_leader_steps_down_when_a_needed_quorum_is_gone():
    """A proposal made while a reconfig was under way needs the old configuration's quorum too; once the
    members that could give it have left (made observers), the leader steps down after syncLimit rather
    than holding the proposal forever (simulator seed 627 with --reconfig)."""
    old = config(1, 2, 3)
    lead = established_leader(old, (2, 3, 4))
    new = config(1, 4, 5, observers=(2, 3))
    z1, _ = lead.propose(lambda z: reconfig_txn(z, new))
    z2, _ = lead.propose(plain_txn)
    lead.on_synced(z2)
    lead.on_packet(2, QuorumPacket(PacketType.ACK, z1), 0)
    lead.on_packet(4, QuorumPacket(PacketType.ACK, z1), 0)  # old {1,2}, new {1,4}: commits
    assert lead.last_committed == z1
    for sid in (2, 3):  # they observe now: gone from this role
        lead.on_disconnected(sid)
    limit = lead.sync_limit * lead.tick_ms
    t = 0
    with pytest.raises(StepDown, match="needs a quorum"):
        for t in range(0, 3 * limit, lead.tick_ms // 2):
            lead.on_packet(4, QuorumPacket(PacketType.PING, 0), t)
            lead.tick(t)
    assert t > limit


def test_a_follower_records_then_activates():
    new = config(1, 2, 4)
    lr = Learner(2, 1, 1, 1, make_zxid(1, 0), make_zxid(1, 0), reconfig_enabled=True, phase="broadcast",
                 new_epoch=1)
    z = make_zxid(1, 1)
    out = lr.on_packet(QuorumPacket(PacketType.PROPOSAL, z, reconfig_txn(z, new)), 0)
    assert out[0] == SeenConfig(new.with_version(z))
    lr.on_synced(z)
    out = lr.on_packet(QuorumPacket(PacketType.COMMITANDACTIVATE, z, struct.pack(">q", 1)), 0)
    assert out[0] == Activated(new.with_version(z), 1)  # before the commit, as ZooKeeper's processReconfig
    assert isinstance(out[1], Deliver) and out[1].zxid == z


def test_an_observer_activates_from_informandactivate():
    new = config(1, 2, 4, observers=(5,))
    lr = Learner(5, 1, 1, 1, make_zxid(1, 0), make_zxid(1, 0), reconfig_enabled=True, phase="broadcast",
                 new_epoch=1, observer=True)
    z = make_zxid(1, 1)
    out = lr.on_packet(QuorumPacket(PacketType.INFORMANDACTIVATE, z, struct.pack(">q", 1) + reconfig_txn(z, new)), 0)
    assert out[0] == Activated(new.with_version(z), 1)
    assert any(isinstance(a, Deliver) and a.zxid == z for a in out)
    assert not any(isinstance(a, Synced) for a in out)


@pytest.mark.parametrize("me,named,role", [(2, 2, "LEADING"), (3, 2, "FOLLOWING")])
def test_a_follower_whose_leader_is_removed_takes_the_role_the_reconfig_names(me: int, named: int, role: str):
    """Leader 1 leaves the configuration and names `named`: its followers end their role and, without an
    election, lead (the one named) or follow the one named (QuorumPeer.updateServerState)."""
    old, new = config(1, 2, 3), config(2, 3, 4)
    peer = ZabPeer(me, old.voters, _disk(), lambda: (0, b""), verifier=old, reconfig_enabled=True)
    peer.role = Learner(me, 1, 1, 1, make_zxid(1, 0), make_zxid(1, 0), reconfig_enabled=True, phase="broadcast",
                        new_epoch=1)
    z = make_zxid(1, 1)
    peer.on_packet(1, QuorumPacket(PacketType.PROPOSAL, z, reconfig_txn(z, new)), 0)
    out = peer.on_packet(1, QuorumPacket(PacketType.COMMITANDACTIVATE, z, struct.pack(">q", named)), 0)
    assert peer.config.voters == {2, 3, 4}
    changes = [(a.role, a.leader) for a in out if type(a).__name__ == "RoleChanged"]
    assert changes[:2] == [("LOOKING", None), (role, named)]
    assert isinstance(peer.role, Leader if role == "LEADING" else Learner)
    assert peer.election.current.leader == named  # what it tells members that look for a leader


def _disk():
    from zoopark.core.zab.actions import Persistent
    return Persistent(1, 1, make_zxid(1, 0))


def test_a_looking_member_adopts_a_newer_configuration_from_a_notification():
    old, new = config(1, 2, 3), config(1, 2, 3, 4, version=0x100000009)
    peer = ZabPeer(4, old.voters, _disk(), lambda: (0, b""), verifier=old, reconfig_enabled=True)
    peer.start(0)
    n = Notification(PeerState.FOLLOWING, 1, 0x100000009, 1, 1, 2, new.data())
    out = peer.on_election(2, n, 0)
    assert peer.config == new and peer.election.voters == {1, 2, 3, 4}
    assert any(isinstance(a, Activated) for a in out)
    assert peer.election.logical_clock == 2  # a new round under the new configuration


def test_a_non_voter_does_not_answer_its_own_notification():
    """A member removed from the configuration still has its own notification from when it voted in flight:
    answering it (as one answers a non-voter) would answer itself forever (simulator seed 826, --reconfig)."""
    e = Election(1, frozenset({2, 3}), config=config(2, 3).data())
    e.start(0, 0, 0)
    mine = Notification(PeerState.LOOKING, 1, 0, 1, 0, 2, b"")
    assert e.receive(1, mine, 0) == []


def test_a_one_voter_ensemble_establishes_alone():
    """standaloneEnabled=false with one voter (an ensemble that can grow): the leader is a quorum by itself,
    so with no ACKEPOCH or NEWLEADER ACK to wait for it writes its epochs and serves."""
    lead = Leader(1, frozenset({1}), 0, 0, 0, [], lambda: (0, b""), 0, config=config(1), reconfig_enabled=True)
    out = lead.start(0)
    assert SeenConfig(config(1, version=make_zxid(1, 0))) in out  # ZOOKEEPER-1783: the first epoch's zxid
    out = lead.on_epoch_persisted(_persisted("acceptedEpoch", 1), 0)
    assert [(a.name, a.epoch) for a in out if type(a).__name__ == "PersistEpoch"] == [("currentEpoch", 1)]
    out = lead.on_epoch_persisted(_persisted("currentEpoch", 1), 0)
    assert lead.established and any(isinstance(a, Activated) for a in out)
    z, _ = lead.propose(plain_txn)
    assert [a.zxid for a in lead.on_synced(z) if isinstance(a, Deliver)] == [z]


def test_the_epoch_is_settled_by_the_active_configuration_and_newleader_by_both():
    """A reconfig was proposed but not committed (voters 2, 3 with 1 observing; proposed: 1, 3): a new leader
    fixes its epoch with a quorum of the active voters alone (getEpochToPropose / waitForEpochAck), and
    NEWLEADER needs a quorum of each configuration, where the observer's ACK counts for the proposed one
    (simulator seed 608 with --reconfig elected forever without establishing)."""
    active = config(2, 3, observers=(1,), version=0x500000003)
    proposed = config(1, 3, version=0x500000004)
    lead = Leader(3, active.voters, 4, 4, 0, [], lambda: (0, b""), 0, config=active, last_seen=proposed,
                  reconfig_enabled=True)
    lead.start(0)
    out = lead.on_packet(2, QuorumPacket(PacketType.FOLLOWERINFO, make_zxid(4, 0), struct.pack(">qiq", 2, 0x10000, 0)), 0)
    assert [(a.name, a.epoch) for a in out if type(a).__name__ == "PersistEpoch"] == [("acceptedEpoch", 5)]
    lead.on_packet(1, QuorumPacket(PacketType.OBSERVERINFO, make_zxid(4, 0), struct.pack(">qiq", 1, 0x10000, 0)), 0)
    lead.on_epoch_persisted(_persisted("acceptedEpoch", 5), 0)
    lead.on_packet(2, QuorumPacket(PacketType.ACKEPOCH, 0, struct.pack(">i", 4)), 0)
    lead.on_packet(1, QuorumPacket(PacketType.ACKEPOCH, 0, struct.pack(">i", 4)), 0)
    lead.on_epoch_persisted(_persisted("currentEpoch", 5), 0)
    lead.on_packet(2, QuorumPacket(PacketType.ACK, make_zxid(5, 0)), 0)
    assert not lead.established  # {2, 3} of the active, but only 3 of the proposed {1, 3}
    out = lead.on_packet(1, QuorumPacket(PacketType.ACK, make_zxid(5, 0)), 0)
    assert lead.established and Activated(proposed, 3) in out


def test_an_observer_made_a_participant_by_newleader_follows_the_same_leader_again():
    """NEWLEADER's configuration makes an observer a participant: at UPTODATE it ends its role (its learner
    type changed) and follows the same leader as a follower, without an election (updateServerState)."""
    old, new = config(1, 2, 3, observers=(4,)), config(1, 2, 3, 4, version=0x100000005)
    peer = ZabPeer(4, old.voters, _disk(), lambda: (0, b""), verifier=old, reconfig_enabled=True)
    peer.role = Learner(4, 1, 1, 1, make_zxid(1, 0), make_zxid(1, 0), reconfig_enabled=True, phase="newleader",
                        new_epoch=1, observer=True, newleader_config=new)
    out = peer.on_packet(1, QuorumPacket(PacketType.UPTODATE, make_zxid(1, 0)), 0)
    changes = [(a.role, a.leader) for a in out if type(a).__name__ == "RoleChanged"]
    assert changes[-2:] == [("LOOKING", None), ("FOLLOWING", 1)]
    assert isinstance(peer.role, Learner) and not peer.role.observer and peer.config == new


def test_a_member_whose_client_address_changes_moves_its_port():
    """processReconfig: a configuration that gives this member another client address moves its client port
    (MoveClientPort, ServerCnxnFactory.reconfigure); the same address, or none given, moves nothing."""
    from zoopark.core.member.actions import Loaded, MoveClientPort, Tick, VoteIn
    from zoopark.core.member.machine import MemberMachine, MemberSettings
    lines = "server.1=h:1:2;{}\nserver.2=h:3:4;2182\nserver.3=h:5:6;2183\nversion={:x}"
    old = qv.parse(lines.format("127.0.0.1:2181", 0x100000000))
    m = MemberMachine(1, old.voters, Loaded(DataTree(), {}, 0),
                      MemberSettings(reconfig_enabled=True, client_address=("127.0.0.1", 2181)), verifier=old)
    m.step(Tick(), 0)
    moves = []
    for version, client in ((0x100000005, "127.0.0.1:2181"), (0x100000006, "3181"), (0x100000007, "0.0.0.0:3181"),
                            (0x100000008, "[::1]:3181")):
        new = qv.parse(lines.format(client, version))
        out = m.step(VoteIn(2, Notification(PeerState.FOLLOWING, 2, version, 1, 1, 2, new.data())), 10)
        assert m.peer.config == new
        moves += [a for a in out if isinstance(a, MoveClientPort)]
    assert moves == [MoveClientPort("0.0.0.0", 3181), MoveClientPort("0:0:0:0:0:0:0:1", 3181)]
