"""A zoopark server as a member of an Apache ZooKeeper 3.8 ensemble: it syncs from ZooKeeper's leader, logs
and ACKs its proposals (ZooKeeper counts those ACKs towards its quorum), and holds the same tree."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from kazoo.client import KazooClient

from zoopark.core.server.core import replay_txn
from zoopark.persist.recovery import recover

from procs import (
    ZooKeeperProcess,
    ZooParkProcess,
    ensemble_config,
    ensemble_ports,
    member,
    server_mode,
    wait_mode,
    znode_tree,
)
from references import needs

pytestmark = [pytest.mark.xdist_group("ensembles"), needs("zookeeper")]


def wait_for_log(path: Path, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise AssertionError(f"{path} never said {text!r}:\n{path.read_text(errors='replace')[-3000:]}")


def test_zoopark_follows_a_zookeeper_leader_and_its_acks_make_the_quorum() -> None:
    extra = ensemble_config(ensemble_ports((1, 2, 3)))
    zks = {i: member(ZooKeeperProcess, i, extra) for i in (2, 3)}
    zp = member(ZooParkProcess, 1, extra)
    try:
        zks[2].start(wait=False)
        zks[3].start(timeout=90)
        c = KazooClient(f"127.0.0.1:{zks[3].port}", timeout=15.0)
        c.start(timeout=30)
        for i in range(30):  # history the zoopark member has to sync (a DIFF or a SNAP)
            c.create(f"/before{i}", b"v%d" % i)
        zp.start(wait=False)
        wait_for_log(zp.log_path, "synced and serving", 60)
        for i in range(20):
            c.create(f"/during{i}", b"d%d" % i)
        # A client of the zoopark follower: its writes are forwarded to ZooKeeper's leader and answered on
        # commit; its reads are local, and after sync they see the leader's latest writes.
        ours = KazooClient(zp.hosts, timeout=15.0)
        ours.start(timeout=30)
        ours.create("/via-zoopark-follower", b"forwarded to ZooKeeper")
        c.create("/just-before-sync", b"x")
        ours.sync("/")
        assert ours.get("/just-before-sync")[0] == b"x"
        assert c.get("/via-zoopark-follower")[0] == b"forwarded to ZooKeeper"
        ours.stop()
        ours.close()
        # A session of a ZooKeeper server moves to the zoopark follower: it asks ZooKeeper's leader
        # (REVALIDATE) and resumes it, ephemeral and all; a session the leader has closed is refused.
        mover = KazooClient(f"127.0.0.1:{zks[3].port}", timeout=15.0)
        mover.start(timeout=30)
        mover.create("/mover-eph", b"", ephemeral=True)
        session = mover.client_id  # (mover itself, its connection taken, goes on with a session of its own)
        moved = KazooClient(zp.hosts, timeout=15.0, client_id=session)
        moved.start(timeout=30)
        assert moved.client_id[0] == session[0]
        assert moved.exists("/mover-eph").ephemeralOwner == session[0]
        moved.stop()  # closes the session: the ephemeral goes, and the session may not come back
        moved.close()
        c.sync("/")  # c's server (a ZooKeeper follower) sees the close once it has applied it: sync first
        assert c.exists("/mover-eph") is None
        late = KazooClient(zp.hosts, timeout=15.0, client_id=session)
        late.start(timeout=30)  # refused the closed session, kazoo carries on with a new one
        assert late.client_id[0] != session[0], f"a closed session was resumed\n{zp.log_tail(25)}"
        late.stop()
        late.close()
        mover.stop()
        mover.close()
        # Stop the other ZooKeeper follower: the leader keeps its quorum only through zoopark's ACKs.
        follower = next(i for i in (2, 3) if server_mode(zks[i].port) == "follower")
        leader = 5 - follower
        zks[follower].stop()
        c.stop()
        c.close()
        c = KazooClient(f"127.0.0.1:{zks[leader].port}", timeout=15.0)
        c.start(timeout=30)
        for i in range(20):
            c.create(f"/acked-by-zoopark{i}", b"z%d" % i)
        c.set("/before0", b"changed")
        expected = znode_tree(c)
        c.stop()
        c.close()
        zp.stop()
        rec = recover(zp.data_dir / "version-2", zp.data_dir / "version-2",
                      lambda tree, sessions, entry: replay_txn(tree, sessions, entry.hdr, entry.record))
        ours = {}
        for path, node in rec.tree.nodes.items():
            if path.startswith("/zookeeper"):
                continue
            st = node.stat()
            ours[path] = (node.data, st.czxid, st.mzxid, st.version, st.cversion, st.num_children)
        assert ours == expected
        assert (zp.data_dir / "version-2" / "currentEpoch").read_text().strip() == \
            (zks[leader].data_dir / "version-2" / "currentEpoch").read_text().strip()
    finally:
        zp.cleanup()
        for zk in zks.values():
            zk.cleanup()



def test_zookeeper_servers_follow_a_zoopark_leader_and_clients_anywhere_see_one_tree() -> None:
    """zoopark (id 3) leads; ZooKeeper 1 and 2 follow it. Writes through the zoopark leader and through a
    ZooKeeper follower (forwarded to our leader as REQUEST), sessions created on ZooKeeper followers
    (createSession forwarded, kept alive by their PINGs): every client sees the same tree."""
    extra = ensemble_config(ensemble_ports((1, 2, 3)))
    zks = {i: member(ZooKeeperProcess, i, extra, jvm_props={"org.slf4j.simpleLogger.defaultLogLevel": "info"})
           for i in (1, 2)}
    zp = member(ZooParkProcess, 3, extra)
    clients: list[KazooClient] = []

    def client(port: int) -> KazooClient:
        c = KazooClient(f"127.0.0.1:{port}", timeout=15.0)
        c.start(timeout=30)
        clients.append(c)
        return c

    try:
        zp.start(wait=False)
        zks[1].start(wait=False)
        wait_for_log(zp.log_path, "serving clients", 90)
        wait_mode(zks[1], "follower")
        leader_client = client(zp.port)
        for i in range(25):
            leader_client.create(f"/from-leader{i}", b"L%d" % i)
        zks[2].start(wait=False)  # joins the running ensemble: synced by our leader
        wait_mode(zks[2], "follower")
        f1 = client(zks[1].port)  # a session created through a ZooKeeper follower
        f1.create("/from-zk-follower", b"forwarded")
        f1.set("/from-leader0", b"changed via follower", version=0)
        f2 = client(zks[2].port)
        f2.sync("/")
        expected = znode_tree(leader_client)
        assert "/from-zk-follower" in expected and expected["/from-leader0"][0] == b"changed via follower"
        for c in (f1, f2):
            c.sync("/")
            assert znode_tree(c) == expected
    finally:
        for c in clients:
            try:
                c.stop()
                c.close()
            except Exception:  # noqa: BLE001 - best effort at teardown
                pass
        zp.cleanup()
        for zk in zks.values():
            zk.cleanup()

