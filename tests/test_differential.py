"""zoopark against Apache ZooKeeper 3.8: the same seeded workloads must give the same transcripts.

ZOOPARK_DIFF_SEED=N runs one seed (reproducing a failure); ZOOPARK_DIFF_OPS sets its length;
ZOOPARK_DIFF_TARGET=zk runs ZooKeeper against a second ZooKeeper (a check of the workload itself).
"""

from __future__ import annotations

import os

import pytest

from procs import ZooKeeperProcess, ZooParkProcess
from references import needs
from workload import Run, first_difference

pytestmark = [pytest.mark.zk, needs("zookeeper")]

SEEDS = [int(os.environ["ZOOPARK_DIFF_SEED"])] if "ZOOPARK_DIFF_SEED" in os.environ else list(range(1, 13))
OPS = int(os.environ.get("ZOOPARK_DIFF_OPS", "120"))
TARGET = os.environ.get("ZOOPARK_DIFF_TARGET", "zoopark")


@pytest.mark.parametrize("seed", SEEDS)
def test_same_transcript_as_zookeeper(seed: int) -> None:
    with ZooKeeperProcess() as zk:
        expected = Run(zk.hosts, seed, OPS).run()
    other = ZooKeeperProcess() if TARGET == "zk" else ZooParkProcess()
    with other:
        got = Run(other.hosts, seed, OPS).run()
    diff = first_difference(expected, got)
    assert diff is None, f"seed {seed} (ZOOPARK_DIFF_SEED={seed} to replay): {diff}"


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
