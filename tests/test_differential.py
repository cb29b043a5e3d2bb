"""zoopark against Apache ZooKeeper 3.8: the same seeded workloads must give the same transcripts.

ZOOPARK_DIFF_SEED=N runs one seed (reproducing a failure); ZOOPARK_DIFF_OPS sets its length;
ZOOPARK_DIFF_ENSEMBLE_SEED / ZOOPARK_DIFF_ENSEMBLE_OPS do the same for the ensemble test;
ZOOPARK_DIFF_TARGET=zk runs ZooKeeper against a second ZooKeeper (a check of the workload itself).
"""

from __future__ import annotations

import os

import pytest

from procs import (
    ZooKeeperProcess,
    ZooParkProcess,
    ensemble_config,
    ensemble_ports,
    member,
    wait_settled,
)
from references import needs
from workload import MNTR_SAME, Run, first_difference

pytestmark = [pytest.mark.zk, needs("zookeeper")]

SEEDS = [int(os.environ["ZOOPARK_DIFF_SEED"])] if "ZOOPARK_DIFF_SEED" in os.environ else list(range(1, 13))
OPS = int(os.environ.get("ZOOPARK_DIFF_OPS", "120"))
TARGET = os.environ.get("ZOOPARK_DIFF_TARGET", "zoopark")
ENSEMBLE_SEEDS = ([int(os.environ["ZOOPARK_DIFF_ENSEMBLE_SEED"])] if "ZOOPARK_DIFF_ENSEMBLE_SEED" in os.environ
                  else [101, 102, 103])
ENSEMBLE_OPS = int(os.environ.get("ZOOPARK_DIFF_ENSEMBLE_OPS", "120"))


# Rows a zoopark leader shows beside ZooKeeper's (docs/ensemble.md): 3.4's follower count, the outstanding
# proposals, the epoch and the furthest-behind follower's lag. Tools that read mntr skip rows they do not know.
ZOOPARK_ONLY = {"zk_followers", "zk_outstanding_proposals", "zk_epoch", "zk_max_follower_lag"}


def _same_mntr_keys(expected: Run, got: Run) -> None:
    """Every mntr row we show, ZooKeeper shows too (but our own few), and every row whose value the workload
    fixes we show."""
    for label, theirs in expected.mntr_keys.items():
        ours = got.mntr_keys[label] - ZOOPARK_ONLY
        assert ours <= theirs, f"{label}: mntr rows ZooKeeper does not have: {sorted(ours - theirs)}"
        wanted = {k for k in MNTR_SAME if k in theirs}
        assert wanted <= ours, f"{label}: mntr rows missing: {sorted(wanted - ours)}"


@pytest.mark.parametrize("seed", SEEDS)
def test_same_transcript_as_zookeeper(seed: int) -> None:
    with ZooKeeperProcess() as zk:
        expected = Run(zk.hosts, seed, OPS)
        expected.run()
    other = ZooKeeperProcess() if TARGET == "zk" else ZooParkProcess()
    with other:
        got = Run(other.hosts, seed, OPS)
        got.run()
    diff = first_difference(expected.out, got.out)
    assert diff is None, f"seed {seed} (ZOOPARK_DIFF_SEED={seed} to replay): {diff}"
    _same_mntr_keys(expected, got)


def _ensemble(cls: type, ports: dict[int, tuple[int, int]]) -> tuple[list, list[str], dict[int, str]]:
    """A started ensemble of three on `ports`; its members as Run wants them (followers by id, then the leader)
    and the names of every port of member i (q<i>, e<i>, c<i>), the same for both kinds of server."""
    members = {i: member(cls, i, ensemble_config(ports)) for i in ports}
    for m in members.values():
        m.start(wait=False)
    roles = wait_settled(list(members.values()))
    ids = {m: i for i, m in members.items()}
    order = sorted(roles["follower"], key=ids.get) + roles["leader"]
    names = {qp: f"q{i}" for i, (qp, _) in ports.items()} | {ep: f"e{i}" for i, (_, ep) in ports.items()}
    names |= {m.port: f"c{i}" for i, m in members.items()}
    return list(members.values()), [m.hosts for m in order], names


@pytest.mark.xdist_group("ensembles")
@pytest.mark.parametrize("kind", ["zoopark"] if TARGET == "zoopark" else ["zk"])
def test_same_transcript_as_a_zookeeper_ensemble(kind: str) -> None:
    """Three members against three ZooKeeper 3.8 members (the same quorum and election ports, one ensemble
    after the other): clients on the followers, reconnecting to other members, several seeds in a row on the
    same ensemble (each under a root of its own), /zookeeper/config as getConfig reads it."""
    ports = ensemble_ports((1, 2, 3))
    transcripts: dict[str, list[Run]] = {}
    for label, cls in (("zookeeper", ZooKeeperProcess), (kind, ZooKeeperProcess if kind == "zk" else ZooParkProcess)):
        procs, hosts, names = _ensemble(cls, ports)
        try:
            transcripts[label] = [Run(hosts, seed, ENSEMBLE_OPS, root=f"/s{seed}", ports=names)
                                  for seed in ENSEMBLE_SEEDS]
            for run in transcripts[label]:
                run.run()
        finally:
            for p in procs:
                p.cleanup()
    for expected, got in zip(transcripts["zookeeper"], transcripts[kind], strict=True):
        diff = first_difference(expected.out, got.out)
        assert diff is None, f"ensemble seed {expected.seed} (ZOOPARK_DIFF_ENSEMBLE_SEED={expected.seed}): {diff}"
        _same_mntr_keys(expected, got)


def test_children_listed_in_zookeepers_order() -> None:
    """Many children, deletions, table growth: getChildren lists them exactly as ZooKeeper's HashSet does."""
    import random

    from kazoo.client import KazooClient

    def listing(hosts: str) -> list[list[str]]:
        rng = random.Random(5)
        kz = KazooClient(hosts=hosts)
        kz.start(timeout=15)
        out = []
        try:
            kz.create("/o")
            names = []
            for i in range(120):
                name = rng.choice(["n", "task-", "lock-", "é-"]) + str(rng.randrange(10_000))
                if name in names:
                    continue
                kz.create(f"/o/{name}")
                names.append(name)
                if i % 7 == 0:
                    victim = names.pop(rng.randrange(len(names)))
                    kz.delete(f"/o/{victim}")
                if i % 10 == 0:
                    out.append(kz.get_children("/o"))
            for _ in range(20):
                kz.create("/o/seq-", sequence=True)
            out.append(kz.get_children("/o"))
        finally:
            kz.stop()
            kz.close()
        return out

    with ZooKeeperProcess() as zk:
        expected = listing(zk.hosts)
    with ZooParkProcess() as zp:
        got = listing(zp.hosts)
    assert got == expected
