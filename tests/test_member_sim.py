"""Whole members (core/member's MemberMachine: the role loop with the real ServerCore inside) on the
deterministic simulator with kazoo-like clients, crash points at every disk write and network faults
(zoopark.sim.member). Invariants are checked after every step, and each run must heal into one tree and a
linearizable history. `python -m zoopark.sim.member --seed N` replays a failure."""

from __future__ import annotations

import os

import pytest

from zoopark.core.zab.election import PeerState
from zoopark.sim import member as sim
from zoopark.sim.network import Faults
from zoopark.sim.zab import ZabRun

SEEDS = int(os.environ.get("ZOOPARK_MEMBER_SEEDS", "20000" if os.environ.get("ZOOPARK_SOAK") else "500"))
_CHUNK = 100


@pytest.mark.parametrize("first", range(0, SEEDS, _CHUNK))
def test_seeds(first: int) -> None:
    for seed in range(first, min(first + _CHUNK, SEEDS)):
        sim.run_seed(seed)


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
