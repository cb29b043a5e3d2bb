"""mntr against ZooKeeper 3.8: the same workload on both, standalone and on a three-member ensemble's leader and
follower; the rows that count things both servers hold must be equal. (Rows that legitimately differ, and
why, are in docs/operations.md.)"""

from __future__ import annotations

import re

import pytest
from kazoo.client import KazooClient

from procs import (
    ZooKeeperProcess,
    ZooParkProcess,
    close_clients,
    ensemble_config,
    ensemble_ports,
    four_letter,
    member,
    mntr,
    wait_settled,
    wait_until,
)
from references import needs

pytestmark = needs("zookeeper")

# Rows both servers must agree on after the same workload.
SAME = ("zk_server_state", "zk_ephemerals_count", "zk_num_alive_connections", "zk_outstanding_requests",
        "zk_znode_count", "zk_global_sessions", "zk_local_sessions", "zk_watch_count", "zk_approximate_data_size")
LEADER_SAME = ("zk_peer_state", "zk_learners", "zk_synced_followers", "zk_synced_non_voting_followers",
               "zk_synced_observers", "zk_pending_syncs", "zk_proposal_count", "zk_quorum_size")
FOLLOWER_SAME = ("zk_peer_state", "zk_quorum_size", "zk_learner_proposal_received_count",
                 "zk_learner_commit_received_count")
SESSION_MS = 30_000  # kazoo pings after a third of it idle: none during the workload


def packets(port: int) -> tuple[int, int]:
    """srvr's Received and Sent (srvr's own answer is one packet on both servers; mntr's is not)."""
    rows = dict(line.split(": ", 1) for line in four_letter(port, "srvr").splitlines() if ": " in line)
    return int(rows["Received"]), int(rows["Sent"])


def workload(hosts: str, tag: str, events: list | None = None) -> KazooClient:
    c = KazooClient(hosts, timeout=SESSION_MS / 1000)
    c.start(timeout=30)
    c.create(f"/{tag}", b"x" * 10)
    for i in range(5):
        c.create(f"/{tag}/n{i}", b"data%d" % i)
    c.set(f"/{tag}/n1", b"longer data here")
    c.get(f"/{tag}", watch=(events if events is not None else []).append)
    c.exists(f"/{tag}/n2", watch=lambda e: None)
    c.get_children(f"/{tag}", watch=lambda e: None)
    c.create(f"/{tag}-eph", b"e", ephemeral=True)
    c.delete(f"/{tag}/n4")  # fires the children watch
    c.create(f"/{tag}-ünï", b"")
    return c


def rows(port: int, names: tuple[str, ...]) -> dict[str, str]:
    m = mntr(port)
    return {k: m.get(k, "-") for k in names}


def standalone(cls) -> dict[str, object]:
    out: dict[str, object] = {}
    with cls() as p:
        out["fresh"] = rows(p.port, SAME)
        before = packets(p.port)
        c = workload(p.hosts, "app")
        after = packets(p.port)
        out["packets"] = (after[0] - before[0], after[1] - before[1])
        out["working"] = rows(p.port, SAME)
        close_clients([c])
        # The server closes the connection just after it answers closeSession.
        wait_until("the connection is gone", lambda: mntr(p.port)["zk_num_alive_connections"] == "1")
        out["closed"] = rows(p.port, SAME)
        latency = four_letter(p.port, "srvr").splitlines()[1]
        out["latency format"] = bool(re.fullmatch(r"Latency min/avg/max: \d+/\d+\.\d{1,4}/\d+", latency))
        avg = mntr(p.port)["zk_avg_latency"]
        out["avg format"] = bool(re.fullmatch(r"\d+\.\d{1,4}", avg)), avg
    return out


def test_standalone_rows_as_zookeeper() -> None:
    theirs = standalone(ZooKeeperProcess)
    ours = standalone(ZooParkProcess)
    assert theirs["fresh"]["zk_approximate_data_size"] == "44"  # the reference: ZooKeeper counts its own nodes
    for phase in ("fresh", "working", "closed", "packets"):
        assert ours[phase] == theirs[phase], phase
    assert theirs["latency format"] and ours["latency format"]
    assert ours["avg format"][0], ours["avg format"]


def ensemble(cls) -> dict[str, object]:
    ports = ensemble_ports((1, 2, 3))
    members = [member(cls, i, ensemble_config(ports)) for i in ports]
    clients: list[KazooClient] = []
    try:
        for p in members:
            p.start(wait=False)
        roles = wait_settled(members, timeout=90)
        leader, follower = roles["leader"][0], roles["follower"][0]
        before = {p: packets(p.port) for p in (leader, follower)}
        events: list = []
        clients = [workload(leader.hosts, "on-leader"), workload(follower.hosts, "on-follower", events)]
        # The last write: once its notification reached the follower's client, the follower has applied
        # everything (and mntr, whose answer ZooKeeper counts as 2-3 packets sent, is not needed to wait).
        clients[0].set("/on-follower", b"changed from the leader's client")
        wait_until("the follower's client hears of the change", lambda: events)
        out: dict[str, object] = {}
        for name, p in (("leader", leader), ("follower", follower)):
            now = packets(p.port)
            out[f"{name} packets"] = (now[0] - before[p][0], now[1] - before[p][1])
        out["leader"] = rows(leader.port, SAME + LEADER_SAME)
        out["follower"] = rows(follower.port, SAME + FOLLOWER_SAME)
        return out
    finally:
        close_clients(clients)
        for p in members:
            p.cleanup()


@pytest.mark.xdist_group("ensembles")
def test_ensemble_rows_as_zookeeper() -> None:
    theirs = ensemble(ZooKeeperProcess)
    ours = ensemble(ZooParkProcess)
    assert theirs["leader"]["zk_peer_state"] == "leading - broadcast"  # the reference itself
    assert int(theirs["leader"]["zk_approximate_data_size"]) > 44  # /zookeeper/config counts
    assert ours == theirs


@pytest.mark.parametrize("cls", [ZooKeeperProcess, ZooParkProcess], ids=["zookeeper", "zoopark"])
def test_approximate_data_size_survives_a_restart(cls) -> None:
    """Recomputed at start-up from the log (first restart) and from the snapshot taken then (second), it is
    what the running server had counted."""
    with cls() as p:
        c = workload(p.hosts, "kept")
        c.delete("/kept-eph")  # the next start would not have it either
        close_clients([c])
        sizes = [mntr(p.port)["zk_approximate_data_size"]]
        for _ in range(2):
            p.stop()
            p.start()
            sizes.append(mntr(p.port)["zk_approximate_data_size"])
        assert sizes == [sizes[0]] * 3 and sizes[0] != "44"
