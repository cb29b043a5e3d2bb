"""Observers: non-voting members that learn committed txns through INFORM, serve reads, forward writes, and
count for nothing in a quorum. zoopark observers of a zoopark leader, a ZooKeeper 3.8 observer of a zoopark
leader (our INFORMs read by ZooKeeper), and a zoopark observer of a ZooKeeper leader (ZooKeeper's read by us)."""

from __future__ import annotations

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.handlers.threading import KazooTimeoutError

from procs import (
    ZooKeeperProcess,
    ZooParkProcess,
    close_clients,
    ensemble_config,
    ensemble_ports,
    member,
    mntr,
    wait_mode,
    wait_settled,
    znode_tree,
)
from references import needs

pytestmark = pytest.mark.xdist_group("ensembles")
needs_zk = needs("zookeeper")


def connect(port: int) -> KazooClient:
    c = KazooClient(f"127.0.0.1:{port}", timeout=15.0,
                    connection_retry={"max_tries": -1, "delay": 0.1, "max_delay": 0.5})
    c.start(timeout=30)
    return c


def test_observers_serve_and_forward_but_do_not_vote() -> None:
    """Three voters and two observers, all zoopark. Observers say so (srvr, mntr), serve reads, forward
    writes, and the leader counts them as learners but not followers. With two voters gone the observers
    and the last voter are three of five servers up, yet no quorum: nothing is written."""
    ports = ensemble_ports((1, 2, 3, 4, 5))
    extra = ensemble_config(ports, observers=(4, 5))
    members = {i: member(ZooParkProcess, i, extra) for i in ports}
    clients: list[KazooClient] = []
    try:
        for p in members.values():
            p.start(wait=False)
        roles = wait_settled(list(members.values()))
        assert sorted(roles["observer"], key=lambda p: p.port) == sorted((members[4], members[5]),
                                                                         key=lambda p: p.port)
        leader = roles["leader"][0]
        rows = mntr(leader.port)
        assert (rows["zk_learners"], rows["zk_synced_followers"], rows["zk_synced_observers"],
                rows["zk_quorum_size"]) == ("4", "2", "2", "3")
        lid = next(i for i, p in members.items() if p is leader)
        obs_rows = mntr(members[4].port)
        assert (obs_rows["zk_server_state"], obs_rows["zk_peer_state"], obs_rows["zk_observer_master_id"]) == \
            ("observer", "observing - broadcast", str(lid))
        obs = connect(members[4].port)
        clients.append(obs)
        written = [obs.create("/via-observer-", b"o%d" % i, sequence=True) for i in range(20)]
        voter = connect(next(p for i, p in members.items() if i <= 3 and p is not leader).port)
        clients.append(voter)
        for i in range(20):
            voter.set(written[i], b"changed %d" % i)
        other = connect(members[5].port)
        clients.append(other)
        for c in clients:
            c.sync("/")
        want = znode_tree(voter)
        assert len(want) >= 21
        assert znode_tree(obs) == want and znode_tree(other) == want
        # Two voters down: the observers do not make up a quorum. The write in flight is not acknowledged,
        # the observers stop serving (as ZooKeeper's without readonlymode), and nothing is written.
        follower = next(p for i, p in members.items() if i <= 3 and p is not leader)
        follower.kill()
        leader.kill()
        pending = obs.create_async("/without-quorum", b"x")
        with pytest.raises((KazooException, KazooTimeoutError)):
            pending.get(timeout=30)
        for i in (4, 5):
            wait_mode(members[i], "", 60)
        # The client goes away too: kazoo would otherwise send a request still queued once it reconnects.
        obs.stop()
        # A voter back: a quorum again; the observers rejoin, and the refused write is nowhere.
        follower.start(wait=False)
        roles = wait_settled([p for p in members.values() if p is not leader], timeout=90)
        assert len(roles["observer"]) == 2
        again = connect(members[5].port)
        clients.append(again)
        again.sync("/")
        assert again.exists("/without-quorum") is None
        assert znode_tree(again) == want
    finally:
        close_clients(clients)
        for p in members.values():
            p.cleanup()


@needs_zk
def test_a_zookeeper_observer_learns_from_a_zoopark_leader() -> None:
    """ZooKeeper 4 observes three zoopark voters: it reads our INFORMs, its clients' writes are forwarded to
    our leader, and its tree equals ours, Stat for Stat."""
    ports = ensemble_ports((1, 2, 3, 4))
    extra = ensemble_config(ports, observers=(4,))
    ours = {i: member(ZooParkProcess, i, extra) for i in (1, 2, 3)}
    zk = member(ZooKeeperProcess, 4, extra)
    clients: list[KazooClient] = []
    try:
        for p in ours.values():
            p.start(wait=False)
        roles = wait_settled(list(ours.values()))
        leader = connect(roles["leader"][0].port)
        clients.append(leader)
        for i in range(30):  # history the observer syncs (DIFF or SNAP)
            leader.create(f"/before{i}", b"b%d" % i)
        zk.start(wait=False)
        wait_mode(zk, "observer", 90)
        rows = mntr(roles["leader"][0].port)
        assert (rows["zk_learners"], rows["zk_followers"]) == ("3", "2")
        for i in range(30):  # through INFORM
            leader.set(f"/before{i}", b"after %d" % i)
        via = connect(zk.port)
        clients.append(via)
        via.create("/via-zookeeper-observer", b"forwarded")
        via.create("/eph", b"", ephemeral=True)
        leader.sync("/")
        assert leader.get("/via-zookeeper-observer")[0] == b"forwarded"
        assert leader.exists("/eph").ephemeralOwner == via.client_id[0]
        via.sync("/")
        assert znode_tree(via) == znode_tree(leader)
    finally:
        close_clients(clients)
        zk.cleanup()
        for p in ours.values():
            p.cleanup()


@needs_zk
def test_a_zoopark_observer_learns_from_a_zookeeper_leader() -> None:
    """zoopark 3 observes two ZooKeeper voters: ZooKeeper's INFORMs are read and logged, writes of our clients
    are forwarded to ZooKeeper's leader, and the tree equals ZooKeeper's, Stat for Stat."""
    ports = ensemble_ports((1, 2, 3))
    extra = ensemble_config(ports, observers=(3,))
    zks = {i: member(ZooKeeperProcess, i, extra) for i in (1, 2)}
    zp = member(ZooParkProcess, 3, extra)
    clients: list[KazooClient] = []
    try:
        zks[1].start(wait=False)
        zks[2].start(wait=False)
        roles = wait_settled(list(zks.values()), timeout=90)
        theirs = connect(roles["leader"][0].port)
        clients.append(theirs)
        for i in range(30):
            theirs.create(f"/before{i}", b"b%d" % i)
        zp.start(wait=False)
        wait_mode(zp, "observer", 90)
        for i in range(30):
            theirs.set(f"/before{i}", b"after %d" % i)
        ours = connect(zp.port)
        clients.append(ours)
        ours.create("/via-zoopark-observer", b"forwarded")
        assert mntr(roles["leader"][0].port)["zk_synced_observers"] == "1"  # ZooKeeper counts us as one
        assert int(mntr(zp.port)["zk_learner_commit_received_count"]) >= 31  # its INFORMs
        theirs.sync("/")
        assert theirs.get("/via-zoopark-observer")[0] == b"forwarded"
        theirs.create("/last", b"")
        ours.sync("/")
        assert znode_tree(ours) == znode_tree(theirs)
    finally:
        close_clients(clients)
        zp.cleanup()
        for z in zks.values():
            z.cleanup()
