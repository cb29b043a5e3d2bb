"""Five zoopark members, every peer link through a fault proxy, kazoo clients doing create / compare-and-set
/ delete the whole time, and a schedule of faults: a follower killed and restarted, the leader cut off with
one follower (a minority), the leader frozen past syncLimit, the followers split without touching the
leader's majority, a rolling restart of every member. Then: every znode's history is linearizable, every
member holds the same tree, and every acknowledged create that was not deleted is there.

ZOOPARK_SOAK=1 repeats the schedule three times."""

from __future__ import annotations

import os
import random
import signal
import threading
import time

import pytest
from kazoo.client import KazooClient

from faultproxy import ProxiedEnsemble
from test_linearizable import _client_loop, assert_linearizable

from procs import ZooParkProcess, close_clients, ensemble_config, free_port, member, wait_settled, znode_tree

pytestmark = pytest.mark.xdist_group("ensembles")
ROUNDS = 3 if os.environ.get("ZOOPARK_SOAK") else 1


def test_five_members_under_a_schedule_of_faults_stay_linearizable_and_converge() -> None:
    ids = (1, 2, 3, 4, 5)
    net = ProxiedEnsemble(ids, free_port)
    members = {i: member(ZooParkProcess, i, ensemble_config(net.view(i))) for i in ids}
    log: list = []
    stop = threading.Event()
    threads: list[threading.Thread] = []
    clients: list[KazooClient] = []
    rng = random.Random(5)

    def settled() -> tuple[int, list[int]]:
        roles = wait_settled(list(members.values()), timeout=90)
        lid = next(i for i, p in members.items() if p is roles["leader"][0])
        return lid, [i for i in ids if i != lid]

    try:
        for p in members.values():
            p.start(wait=False)
        settled()
        hosts = ",".join(p.hosts for p in members.values())
        keys = ["/k0", "/k1", "/k2"]
        threads = [threading.Thread(target=_client_loop, args=(hosts, f"c{k}", random.Random(k), keys, log, stop,
                                                                iter(range(k * 10**6, (k + 1) * 10**6))))
                   for k in range(4)]
        for t in threads:
            t.start()
        for _ in range(ROUNDS):
            # 1. A follower dies and comes back.
            lid, followers = settled()
            victim = members[rng.choice(followers)]
            victim.kill()
            time.sleep(1.0)  # writes go on without it for a while (load, not synchronisation)
            victim.start(wait=False)
            # 2. The leader and one follower are cut off from the other three: a minority that must stop.
            lid, followers = settled()
            buddy = rng.choice(followers)
            net.split({lid, buddy}, set(ids) - {lid, buddy})
            majority = [members[i] for i in ids if i not in (lid, buddy)]
            wait_settled(majority, timeout=90)
            net.heal()
            # 3. The leader freezes past syncLimit, then thaws.
            lid, followers = settled()
            frozen = members[lid]
            os.kill(frozen.pid, signal.SIGSTOP)
            try:
                wait_settled([members[i] for i in followers], timeout=90)
            finally:
                os.kill(frozen.pid, signal.SIGCONT)
            # 4. The followers split 2 | 2; the leader keeps one side: still a majority of 3.
            lid, followers = settled()
            rng.shuffle(followers)
            net.split({lid, *followers[:2]}, set(followers[2:]))
            time.sleep(1.5)  # writes keep committing through the leader's side
            net.heal()
            # 5. A rolling restart, one member at a time.
            for i in ids:
                settled()
                members[i].stop()
                members[i].start(wait=False)
        settled()
        stop.set()
        for t in threads:
            t.join(60)
            assert not t.is_alive()
        determinate = assert_linearizable(log, 200)
        # Every member holds the same tree.
        trees = []
        for p in members.values():
            c = KazooClient(p.hosts, timeout=15.0)
            c.start(timeout=30)
            clients.append(c)
            c.sync("/")
            trees.append(znode_tree(c))
        assert all(t == trees[0] for t in trees[1:])
        # The faults really moved the leadership: the minority, the freeze and the leader's restart each
        # forced an election with a new epoch.
        clients[0].create("/end")
        epoch = clients[0].exists("/end").czxid >> 32
        assert epoch >= 1 + 3 * ROUNDS, f"epoch {epoch}: the faults forced too few elections"
        print(f"{determinate} determinate, {len(log) - determinate} indeterminate operations; "
              f"epoch {epoch}")
    finally:
        stop.set()
        for t in threads:
            t.join(60)
        close_clients(clients)
        for p in members.values():
            p.cleanup()
        net.close()
