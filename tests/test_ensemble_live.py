"""All-zoopark ensembles on real processes: three members on loopback elect, serve clients on every member
(followers forward writes to the leader), survive the leader's SIGKILL, and lose no acknowledged write."""

from __future__ import annotations

import re
import threading
import time

import pytest
from kazoo.client import KazooClient

from procs import (
    ZooParkProcess,
    close_clients,
    ensemble_config,
    ensemble_ports,
    four_letter,
    free_port,
    member,
    mntr,
    server_mode,
    wait_settled,
)

# Multi-process ensembles: one xdist worker runs them one after another (make test uses --dist loadgroup).
pytestmark = pytest.mark.xdist_group("ensembles")

def mode_of(p: ZooParkProcess) -> str:
    return server_mode(p.port)


wait_modes = wait_settled


@pytest.fixture
def ensemble():
    extra = ensemble_config(ensemble_ports((1, 2, 3)))
    members = [member(ZooParkProcess, i, extra) for i in (1, 2, 3)]
    for p in members:
        p.start(wait=False)
    yield members
    for p in members:
        p.cleanup()


def client(p: ZooParkProcess) -> KazooClient:
    # Reconnect quickly: a member closes its client port between roles, and kazoo's default back-off
    # grows to a minute.
    c = KazooClient(p.hosts, timeout=15.0, connection_retry={"max_tries": -1, "delay": 0.1, "max_delay": 0.5})
    try:
        c.start(timeout=30)
    except Exception as e:  # noqa: BLE001 - say which member, and what it logged
        raise AssertionError(f"cannot connect to {p.hosts} ({mode_of(p)!r}): {e}\n{p.log_tail(40)}") from e
    return c


def test_three_members_serve_one_tree_and_survive_the_leaders_death(ensemble) -> None:
    roles = wait_modes(ensemble)
    leader = roles["leader"][0]
    rows = mntr(leader.port)
    assert rows["zk_server_state"] == "leader" and rows["zk_peer_state"] == "leading - broadcast"
    assert rows["zk_followers"] == "2" and rows["zk_synced_followers"] == "2" and rows["zk_quorum_size"] == "3"
    assert rows["zk_last_proposal_size"] == rows["zk_max_proposal_size"] == "-1"  # nothing proposed yet
    clients = [client(p) for p in ensemble]
    try:
        acked: dict[str, bytes] = {}
        for k, c in enumerate(clients):  # writes through the leader and through both followers
            for i in range(15):
                path = c.create(f"/m{k}-", b"v%d-%d" % (k, i), sequence=True)
                acked[path] = b"v%d-%d" % (k, i)
        clients[0].create("/eph", b"", ephemeral=True)
        for c in clients:
            c.sync("/")
            assert {f"/{n}" for n in c.get_children("/") if n.startswith("m")} == set(acked)
        sizes = re.search(r"^Proposal sizes last/min/max: (\d+)/(\d+)/(\d+)$", four_letter(leader.port, "srvr"), re.M)
        assert sizes, "a leader's srvr has ZooKeeper's proposal sizes line"
        last, lo, hi = map(int, sizes.groups())
        # createSession is the smallest txn here, a create with its path, data and ACL the largest.
        assert lo < last <= hi and hi > len("/m0-0000000000") + len("v0-0") + len("world") + len("anyone")
        # SIGKILL the leader: the two followers elect a new one and go on. A client of a follower is
        # writing again within initLimit x tickTime (a new leader that takes longer has failed and steps
        # down: that is ZAB's bound, not a speed target; the bench measures the speed).
        survivors = [p for p in ensemble if p is not leader]
        writer = clients[ensemble.index(survivors[0])]
        killed_at = time.monotonic()
        leader.kill()
        for _ in range(200):
            try:
                writer.create_async("/failed-over-", b"", sequence=True).get(timeout=1)
                break
            except Exception:  # noqa: BLE001 - not yet: connection loss or no answer while electing
                time.sleep(0.02)
        fail_over = time.monotonic() - killed_at
        assert fail_over < 10 * 0.5, f"fail-over took {fail_over:.1f} s\n" + "\n---\n".join(
            p.log_tail(40) for p in survivors)
        roles = wait_modes(survivors)
        c2 = client(roles["follower"][0])
        for i in range(10):
            path = c2.create("/after-", b"a%d" % i, sequence=True)
            acked[path] = b"a%d" % i
        c2.sync("/")
        names = set(c2.get_children("/"))
        for path, data in acked.items():
            assert path[1:] in names, f"acknowledged {path} lost"
            assert c2.get(path)[0] == data
        c2.stop()
        c2.close()
        # The old leader comes back as a follower and catches up.
        leader.start(wait=False)
        wait_modes(ensemble)
        c3 = client(leader)
        c3.sync("/")
        assert set(c3.get_children("/")) >= {p[1:] for p in acked}
        c3.stop()
        c3.close()
    finally:
        close_clients(clients)


def test_a_frozen_leader_is_replaced_and_rejoins_as_a_follower(ensemble) -> None:
    """SIGSTOP the leader: the followers stop hearing it (syncLimit), elect a new leader and go on writing;
    after SIGCONT the old leader finds itself without a quorum, steps down and catches up."""
    import os
    import signal

    roles = wait_modes(ensemble)
    leader = roles["leader"][0]
    survivors = [p for p in ensemble if p is not leader]
    c = client(survivors[0])
    try:
        before = [c.create("/frozen-", b"b", sequence=True) for _ in range(10)]
        os.kill(leader.pid, signal.SIGSTOP)
        try:
            deadline = time.monotonic() + 60
            after: list[str] = []
            while time.monotonic() < deadline and len(after) < 10:
                try:
                    after.append(c.create_async("/frozen-", b"a", sequence=True).get(timeout=5))
                except Exception:  # noqa: BLE001 - the ensemble is failing over: anything but an answer
                    time.sleep(0.05)
            assert len(after) == 10, "no new leader took over:\n" + "\n---\n".join(p.log_tail(60) for p in survivors)
            roles2 = wait_modes(survivors)
            assert leader not in roles2["leader"]
        finally:
            os.kill(leader.pid, signal.SIGCONT)
        wait_modes(ensemble)
        assert mode_of(leader) == "follower"
        c3 = client(leader)
        c3.sync("/")
        assert {p[1:] for p in before + after} <= set(c3.get_children("/"))
        c3.stop()
        c3.close()
    finally:
        c.stop()
        c.close()


def test_a_frozen_follower_lags_is_dropped_and_catches_up_and_a_killed_one_too(ensemble) -> None:
    """SIGSTOP a follower: writes go on through the other two; the leader's mntr shows the frozen follower's
    lag, and after syncLimit drops it. After SIGCONT it rejoins and catches up (lag 0, every write there).
    Then SIGKILL the other follower: the same, from its disk."""
    import os
    import signal

    roles = wait_modes(ensemble)
    leader = roles["leader"][0]
    frozen, killed = roles["follower"]
    c = client(leader)
    try:
        written = [c.create("/f-", b"before", sequence=True) for _ in range(5)]
        os.kill(frozen.pid, signal.SIGSTOP)
        try:
            written += [c.create("/f-", b"frozen", sequence=True) for _ in range(20)]
            rows = mntr(leader.port)
            # Still listed (syncLimit has not passed) and 20 or more proposals behind; or already dropped.
            assert int(rows["zk_max_follower_lag"]) >= 20 or rows["zk_synced_followers"] == "1", rows
            deadline = time.monotonic() + 30
            while mntr(leader.port)["zk_synced_followers"] != "1" and time.monotonic() < deadline:
                time.sleep(0.1)
            assert mntr(leader.port)["zk_synced_followers"] == "1", "a silent follower was never dropped"
            written += [c.create("/f-", b"dropped", sequence=True) for _ in range(5)]
        finally:
            os.kill(frozen.pid, signal.SIGCONT)
        wait_modes(ensemble)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            rows = mntr(leader.port)
            if rows["zk_synced_followers"] == "2" and rows["zk_max_follower_lag"] == "0":
                break
            time.sleep(0.1)
        assert (rows["zk_synced_followers"], rows["zk_max_follower_lag"]) == ("2", "0"), rows
        killed.kill()
        written += [c.create("/f-", b"killed", sequence=True) for _ in range(10)]
        killed.start(wait=False)
        wait_modes(ensemble)
        for p in (frozen, killed):
            f = client(p)
            f.sync("/")
            assert {w[1:] for w in written} <= set(f.get_children("/"))
            assert f.get(written[-1])[0] == b"killed"
            f.stop()
            f.close()
    finally:
        c.stop()
        c.close()


def test_an_idle_session_on_a_follower_outlives_its_timeout(ensemble) -> None:
    """A client that only pings its follower keeps its session: the follower reports its clients' sessions
    in its PING replies and the leader, which expires sessions, touches them. Watched through a client of the
    leader: the idle client's ephemeral is still there three session timeouts later."""
    roles = wait_modes(ensemble)
    idle = KazooClient(roles["follower"][0].hosts, timeout=2.0)  # negotiated up to min 2 x tickTime
    idle.start(timeout=30)
    watcher = client(roles["leader"][0])
    try:
        idle.create("/idle-eph", b"", ephemeral=True)
        timeout_s = idle._session_timeout / 1000
        expired = threading.Event()
        watcher.exists("/idle-eph", watch=lambda event: expired.set())
        assert not expired.wait(3 * timeout_s), "the leader expired a session its follower kept alive"
        assert watcher.exists("/idle-eph").ephemeralOwner == idle.client_id[0]
    finally:
        close_clients([idle, watcher])


def test_a_partitioned_leader_acknowledges_nothing_and_the_majority_goes_on() -> None:
    """Every peer link goes through a fault proxy. Cut the leader off from both followers (bytes vanish,
    connections stay open): the majority elects a new leader and acknowledges writes; the old leader's
    clients get no acknowledgement; after healing the old leader follows, holds every acknowledged write and
    none of the writes it could not commit."""
    from faultproxy import ProxiedEnsemble

    ids = (1, 2, 3)
    net = ProxiedEnsemble(ids, free_port)
    members = [member(ZooParkProcess, i, ensemble_config(net.view(i))) for i in ids]
    clients: list[KazooClient] = []
    try:
        for p in members:
            p.start(wait=False)
        roles = wait_modes(members)
        leader = roles["leader"][0]
        lid = ids[members.index(leader)]
        majority = [p for p in members if p is not leader]
        old = KazooClient(leader.hosts, timeout=30.0)
        old.start(timeout=30)
        clients.append(old)
        old.create("/before", b"b")
        net.split({lid}, set(ids) - {lid})
        # The isolated leader may not acknowledge anything from now on.
        refused = []
        for k in range(3):
            try:
                old.create_async(f"/isolated{k}", b"x").get(timeout=4)
                raise AssertionError(f"/isolated{k} acknowledged by a leader without a quorum")
            except AssertionError:
                raise
            except Exception:  # noqa: BLE001 - timeouts or connection loss: not acknowledged
                refused.append(f"/isolated{k}")
        roles = wait_modes(majority)
        c = client(roles["follower"][0])
        clients.append(c)
        acked = [c.create("/majority-", b"m", sequence=True) for _ in range(10)]
        net.heal()
        wait_modes(members)
        assert mode_of(leader) == "follower"
        back = client(leader)
        clients.append(back)
        back.sync("/")
        names = set(back.get_children("/"))
        assert "before" in names and {p[1:] for p in acked} <= names
        assert not {p[1:] for p in refused} & names, "a write the isolated leader never acknowledged appeared"
    finally:
        close_clients(clients)
        for p in members:
            p.cleanup()
        net.close()


def test_a_leader_frozen_past_synclimit_under_write_load_follows_with_its_log_intact(ensemble) -> None:
    """SIGSTOP the leader while clients of every member write without pause, longer than syncLimit; the
    others elect a new leader. After SIGCONT the old leader still holds its clients' requests and its own
    proposals in flight: as a deposed role it may append, send or serve none of them. It follows the new
    leader, its txn log writer still works (the newest write reaches its log on disk), it never logs a
    writer failure, and every acknowledged write is there."""
    import os
    import signal

    from zoopark.persist import txnlog

    roles = wait_modes(ensemble)
    leader = roles["leader"][0]
    # Most clients on the leader: after SIGCONT they are what a deposed leader must not serve, and they
    # reconnect to it as its role ends (its port closing while they connect).
    clients = [client(p) for p in ensemble] + [client(leader) for _ in range(5)]
    acked: dict[str, bytes] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def write(k: int, c: KazooClient) -> None:
        for i in range(100_000):
            if stop.is_set():
                return
            data = b"w%d-%d" % (k, i)
            try:
                path = c.create_async(f"/load{k}-", data, sequence=True).get(timeout=5)
            except Exception:  # noqa: BLE001 - failing over or frozen: not acknowledged, try again
                time.sleep(0.05)
                continue
            with lock:
                acked[path] = data

    def acked_count() -> int:
        with lock:
            return len(acked)

    threads = [threading.Thread(target=write, args=(k, c), daemon=True) for k, c in enumerate(clients)]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while acked_count() < 100 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(leader.pid, signal.SIGSTOP)
        try:
            frozen_at, before = time.monotonic(), acked_count()
            deadline = frozen_at + 60
            # Past syncLimit (5 x 500 ms) and until the others have a leader and acknowledge writes again.
            while (time.monotonic() - frozen_at < 4 or acked_count() < before + 50) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert acked_count() >= before + 50, "no new leader took over:\n" + "\n---\n".join(
                p.log_tail(60) for p in ensemble if p is not leader)
        finally:
            os.kill(leader.pid, signal.SIGCONT)
        roles = wait_modes(ensemble)
        assert leader in roles["follower"], {m: [p.port for p in ps] for m, ps in roles.items()}
        resumed = acked_count()
        deadline = time.monotonic() + 30
        while acked_count() < resumed + 50 and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        for t in threads:
            t.join(timeout=10)
        assert leader.proc.poll() is None, "the old leader's process ended:\n" + leader.log_tail(60)
        last = client(roles["leader"][0])
        try:
            zxid = last.exists(last.create("/last", b"")).czxid
        finally:
            close_clients([last])
        logged = 0
        deadline = time.monotonic() + 20
        while logged < zxid and time.monotonic() < deadline:
            try:
                logged = max((e.zxid for e in txnlog.iter_entries(leader.data_dir / "version-2", zxid - 1)),
                             default=0)
            except txnlog.CorruptLog:  # read while being written: look again
                pass
            time.sleep(0.1)
        assert logged >= zxid, f"the old leader's log stops at 0x{logged:x}, the ensemble is at 0x{zxid:x}:\n" \
            + leader.log_tail(60)
        server_log = leader.log_path.read_text(errors="replace")
        assert "txn log writer failed" not in server_log and "Exception in thread" not in server_log, \
            leader.log_tail(80)
        back = client(leader)
        try:
            back.sync("/")
            names = set(back.get_children("/"))
            with lock:
                kept = dict(acked)
            missing = [p for p in kept if p[1:] not in names]
            assert not missing, f"{len(missing)} of {len(kept)} acknowledged writes lost: {missing[:5]}"
            for path in list(kept)[:: max(1, len(kept) // 50)]:
                assert back.get(path)[0] == kept[path]
        finally:
            close_clients([back])
    finally:
        stop.set()
        close_clients(clients)


def test_members_take_snapshots_every_snapcount_txns_and_restart_from_them() -> None:
    """snapCount in an ensemble: every member (leader and followers) snapshots as its log grows, as ZooKeeper's
    SyncRequestProcessor does on each, and a member restarted afterwards loads its newest snapshot and the log
    after it: the tree is whole."""
    extra = {**ensemble_config(ensemble_ports((1, 2, 3))), "snapCount": "100"}
    members = [member(ZooParkProcess, i, extra) for i in (1, 2, 3)]
    try:
        for p in members:
            p.start(wait=False)
        roles = wait_modes(members)
        c = client(roles["leader"][0])
        try:
            c.ensure_path("/s")
            for i in range(400):
                c.create(f"/s/n{i}", str(i).encode())
        finally:
            close_clients([c])

        def snapshots(p: ZooParkProcess) -> list[str]:
            return sorted(f.name for f in (p.data_dir / "version-2").glob("snapshot.*"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(len(snapshots(p)) >= 3 for p in members):
            time.sleep(0.2)
        counts = {mode_of(p): len(snapshots(p)) for p in members}
        # the first snapshot at start, then one about every 50-100 txns of the 400
        assert all(n >= 3 for n in counts.values()), counts
        follower = roles["follower"][0]
        follower.stop()
        follower.start(wait=False)
        wait_modes(members)
        c = client(follower)
        try:
            kids = c.get_children("/s")
            assert len(kids) == 400
            assert c.get("/s/n399")[0] == b"399"
        finally:
            close_clients([c])
    finally:
        for p in members:
            p.cleanup()
