"""Whole members (core/member's MemberMachine: the role loop with the real ServerCore inside) on the
deterministic simulator with kazoo-like clients, crash points at every disk write and network faults
(zoopark.sim.member). Invariants are checked after every step, and each run must heal into one tree and a
linearizable history. `python -m zoopark.sim.member --seed N` replays a failure."""

from __future__ import annotations

import os

import pytest

from zoopark.core.jute.constants import Err, OpCode
from zoopark.core.jute.records import (
    OPEN_ACL_UNSAFE,
    CreateRequest,
    DeleteRequest,
    GetDataRequest,
    ReconfigRequest,
    SyncRequest,
)
from zoopark.core.server.actions import Disconnected
from zoopark.core.zab.election import PeerState
from zoopark.sim import member as sim
from zoopark.sim.network import Faults
from zoopark.sim.zab import ZabRun

from coreensemble import LEADER, CoreEnsemble

SEEDS = int(os.environ.get("ZOOPARK_MEMBER_SEEDS", "20000" if os.environ.get("ZOOPARK_SOAK") else "500"))
_CHUNK = 100


@pytest.mark.parametrize("first", range(0, SEEDS, _CHUNK))
def test_seeds(first: int) -> None:
    for seed in range(first, min(first + _CHUNK, SEEDS)):
        sim.run_seed(seed)


RECONFIG_SEEDS = int(os.environ.get("ZOOPARK_RECONFIG_SEEDS", "5000" if os.environ.get("ZOOPARK_SOAK") else "200"))


@pytest.mark.parametrize("first", range(0, RECONFIG_SEEDS, _CHUNK))
def test_reconfig_seeds(first: int) -> None:
    """The same runs with reconfigEnabled, spare members outside the first configuration, and an operator
    sending reconfigs throughout (grow, shrink, remove the leader, observer <-> participant, whole new
    memberships): every check after every step, every member activating the same configuration under each
    version, and in the end one configuration everywhere."""
    reconfigs = 0
    for seed in range(first, min(first + _CHUNK, RECONFIG_SEEDS)):
        r = sim.run_seed(seed, reconfig=True)
        reconfigs += len(r.configs) - 1
    assert reconfigs > 0


def test_members_all_read_only_at_one_zxid_are_not_converged() -> None:
    """Seed 300079 (--reconfig): every member serving read-only at the same zxid while two voters elect is no
    ensemble yet; the run waits for the leader instead of failing on its absence."""
    r = sim.run_seed(300079, reconfig=True)
    assert len(r.configs) > 1


def test_a_trunc_behind_a_snapshot_syncs_again() -> None:
    """Seed 301973 (--reconfig): a learner took a SNAP from a leader that never established (its tree holds
    txns the ensemble never committed), then the real leader sent TRUNC behind that snapshot. Cutting the log
    could not remove them: the member served a tree no other member had. Now the snapshot past the cut goes,
    and the member syncs again from what its disk holds."""
    r = sim.run_seed(301973, reconfig=True)
    assert len(r.configs) > 1


def test_a_reconfig_grows_the_ensemble_and_removes_its_leader() -> None:
    """Three voters and two spares: the operator adds both, then removes whoever leads; a new leader serves
    under a configuration without the old one, which goes on as a non-voting follower."""
    r = sim.MemberRun(seed=3, servers=3, clients=2, faults=Faults(max_delay_ms=3), reconfig=True, spares=2)
    operator = r.clients[-1]
    plans: list = [ReconfigRequest(",".join(f"server.{i}=member{i}:2888:3888:participant;2181" for i in (4, 5)),
                                   None, None, -1)]
    operator.plan = lambda rng: plans.pop(0) if plans else None
    r.step_until(r.now_ms + 3_000)
    assert r.configs[max(r.configs)].voters == {1, 2, 3, 4, 5}
    leader = next(sid for sid, n in r.nodes.items() if n.machine.mode == "LEADING")
    plans.append(ReconfigRequest(None, str(leader), None, -1))
    r.step_until(r.now_ms + 5_000)
    last = r.configs[max(r.configs)]
    assert last.voters == {1, 2, 3, 4, 5} - {leader}
    r.settle()
    modes = {sid: n.machine.mode for sid, n in r.nodes.items()}
    assert modes[leader] == "FOLLOWING" and list(modes.values()).count("LEADING") == 1
    assert all(n.machine.peer.config == last for n in r.nodes.values())


def test_a_quiet_ensemble_serves_every_client() -> None:
    r = sim.MemberRun(seed=7, servers=3, clients=3, faults=Faults(max_delay_ms=3))
    r.step_until(r.now_ms + 2_000)
    modes = sorted(n.machine.mode for n in r.nodes.values())
    assert modes == ["FOLLOWING", "FOLLOWING", "LEADING"]
    assert all(cl.ops_done > 10 for cl in r.clients)
    r.settle()


def test_votes_carry_the_epoch_their_role_serves_in() -> None:
    """ZOOKEEPER-1732: a member shows looking members the epoch it serves in, not the one of the election
    that made it (seed 151 of the member simulator: a follower that joined by dialling its leader again kept
    an older peer epoch, no quorum of votes agreed, and two restarted members stayed LOOKING forever)."""
    r = ZabRun(seed=3, servers=3, faults=Faults(max_delay_ms=3))
    r.step_until(3_000)
    peers = [n.peer for n in r.nodes.values()]
    assert all(p.serving for p in peers)
    epochs = {p.current_epoch for p in peers}
    assert len(epochs) == 1 and epochs.pop() >= 1
    for p in peers:
        assert p.state in (PeerState.LEADING, PeerState.FOLLOWING)
        assert p.election.current.peer_epoch == p.current_epoch


def test_the_leaders_own_reads_wait_for_the_sessions_writes_still_in_flight_through_a_learner() -> None:
    """Seed 690: a client's delete went through a follower; the connection was lost, and the client resumed
    its session on the leader, where the delete was proposed but not yet committed. Its sync and read were
    answered at once, without the delete, which then committed: the client saw its own later read undo
    its earlier write (ZooKeeper's leader holds a session's reads behind its pending writes, and a sync
    behind every outstanding proposal)."""
    e = CoreEnsemble()
    a = e.connect(2)
    e.settle()
    e.send(a, OpCode.CREATE, CreateRequest("/k", b"x", list(OPEN_ACL_UNSAFE), 0))
    e.settle()
    e.send(a, OpCode.DELETE, DeleteRequest("/k", -1))
    assert e.deliver_to_leader(2)  # proposed by the leader, not committed
    e.step(2, Disconnected(a.conn))  # the client lost that connection, with the delete's reply
    e.order.on_close(a.conn)
    b = e.connect(LEADER, a.session, a.passwd)
    assert b.connected
    e.send(b, OpCode.SYNC, SyncRequest("/k"))
    e.send(b, OpCode.GET_DATA, GetDataRequest("/k", False))
    assert b.replies == []  # not before the delete has committed
    assert e.commit_one()
    assert [(xid, err) for xid, err, _ in b.replies] == [(1, 0), (2, Err.NONODE)]



def _serving_leader() -> tuple[sim.MemberRun, object]:
    r = sim.MemberRun(seed=3, servers=3, clients=0, faults=Faults(max_delay_ms=2))
    r.step_until(r.now_ms + 2_000)
    m = next(n.machine for n in r.nodes.values() if n.machine.mode == "LEADING")
    assert m.serving
    return r, m


def test_a_connection_is_taken_only_by_an_open_port_of_the_current_role() -> None:
    from zoopark.core.member.actions import (
        ClientClose,
        ClientConnect,
        ClosePort,
        PortClosed,
        PortOpened,
    )

    r, m = _serving_leader()
    now = r.now_ms
    assert m.step(ClientConnect(901), now) == []  # taken: the core has it, nothing to answer yet
    gen = m.gen
    ended = m._zab(m.peer._look(now, "test: the role ends"))  # as a StepDown would
    assert m.gen > gen and m.mode == "LOOKING"
    assert ClientClose(m.gen, 901, "the member left LEADING") in ended and ClosePort(m.gen) in ended
    assert m.port == "closing" and m.conns == set()
    late = m.step(ClientConnect(902), now)
    assert [type(a) for a in late] == [ClientClose]  # accepted by the socket meanwhile: refused
    assert m.step(PortOpened(gen), now) == []  # an ended role's port event changes nothing
    m.step(PortClosed(), now)
    assert m.port == "closed"
    m._want_port(True)  # a role that serves again opens it; until PortOpened, connections are refused
    assert m.port == "opening"
    assert [type(a) for a in m.step(ClientConnect(903), now)] == [ClientClose]
    m.step(PortOpened(m.gen), now)
    assert m.port == "open"


def test_an_ended_roles_disk_completions_are_dropped() -> None:
    from zoopark.core.jute.quorum import PacketType, QuorumPacket
    from zoopark.core.member.actions import Done
    from zoopark.core.zab.actions import EpochPersisted, ToPeer

    r, m = _serving_leader()
    old = m.gen
    m._zab(m.peer._look(r.now_ms, "test"))
    ack = ToPeer(2, QuorumPacket(PacketType.ACK, 5))
    assert m.step(Done(old, ack), r.now_ms) == []  # an ACK of a role that ended is never sent
    m.step(Done(old, EpochPersisted("acceptedEpoch", 70)), r.now_ms)
    assert m.peer.accepted_epoch == 70  # but an epoch on disk is a floor all the same



def test_a_failed_log_write_ends_the_role_and_the_member_elects_again() -> None:
    from zoopark.core.member.actions import LogFailed, Reload

    r, m = _serving_leader()
    gen = m.gen
    assert m.step(LogFailed(gen - 1, "an older role's write"), r.now_ms) == []  # not this role's
    out = m.step(LogFailed(gen, "fsync: EIO"), r.now_ms)
    assert m.mode == "LOOKING" and m.gen > gen and m.core is None
    assert Reload(m.gen) in out  # the next election starts from what the disk holds


def test_dialling_the_leader_again_is_a_new_incarnation_of_the_role() -> None:
    """A learner whose connection closed before the leader said a word dials it again within initLimit (the
    leader was not listening yet): that is a new incarnation (RoleChanged, so the member machine starts a new
    generation and its executor a new link), never the old connection reused. Found when the runtime's
    learner, refused once, never dialled again in the same generation."""
    from zoopark.core.jute.election import Notification
    from zoopark.core.zab.actions import Persistent, RoleChanged, ToPeer
    from zoopark.core.zab.peer import ZabPeer

    peer = ZabPeer(1, frozenset({1, 2, 3}), Persistent(0, 0, 0, []), lambda: (0, b""), tick_ms=100)
    peer.start(0)
    for sid in (2, 3):  # both see 3 as leader (it has the highest id)
        peer.on_election(sid, Notification(PeerState.LOOKING, 3, 0, 1, 0), 10)
    out = []
    for now in range(20, 2_000, 50):  # past the finalize wait
        out += peer.tick(now)
        if peer.state == PeerState.FOLLOWING:
            break
    assert peer.state == PeerState.FOLLOWING and any(type(a) is ToPeer and a.sid == 3 for a in out)
    again = peer.on_disconnected(3, 500)
    roles = [a for a in again if type(a) is RoleChanged]
    assert [(r.role, r.leader, r.serving) for r in roles] == [("FOLLOWING", 3, False)]
    assert any(type(a) is ToPeer and a.sid == 3 for a in again), "FOLLOWERINFO to the leader again"
