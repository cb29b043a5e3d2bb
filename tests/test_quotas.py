"""Quotas against ZooKeeper 3.8, both started the same way (enforceQuota=true in zoo.cfg): zkCli's setquota /
listquota / delquota print the same and leave the same quota nodes, byte for byte; mntr shows the same quota
rows; kazoo gets QUOTAEXCEEDED from both at the same point, in a multi too; the stats survive a restart; and
`zoopark shell` answers these commands as zkCli does."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import KazooException, QuotaExceededError, RolledBackError

from procs import (
    ZooKeeperProcess,
    ZooParkProcess,
    close_clients,
    ensemble_config,
    ensemble_ports,
    member,
    mntr,
    server_mode,
    wait_settled,
    wait_until,
)
from references import ZKCLI, needs
from zkcli import without_events

CONF = {"enforceQuota": "true"}

# Good and bad input; each line is one zkCli command. /zookeeper itself takes a quota (ZooKeeper's zkCli
# allows it); nested quotas, missing paths, /zookeeper/quota and bad values are refused.
SCRIPT = """\
create /a x
create /a/b yy
setquota -n 3 /a
listquota /a
setquota -b 10 /a
setquota -N 5 /a
setquota -B 100 /a
listquota /a
create /a/c 123
create /a/b/c
create /a/b/d
create /a/b/e
set /a/b 01234567890123456789
listquota /a
setquota -n 1 /a/b
setquota -n 1 /
setquota -n 1 /zookeeper/quota
setquota -n 1 /nope
setquota -n 0 /a
setquota -n x /a
setquota -b -1 /a
setquota /a
setquota -n 1
setquota -n 1 -b 2 /a
listquota /nope
delquota /nope
delquota -n /a
delquota -B /a
listquota /a
create /p
create /p/q
setquota -n 5 /p/q
setquota -n 5 /p
setquota -n 1 /zookeeper
listquota /zookeeper
ls -R /zookeeper/quota
delquota /zookeeper
delquota -b /p/q
listquota /p/q
delquota /p/q
ls /zookeeper/quota
quit
"""


def zkcli_script(hosts: str, script: str) -> tuple[str, str]:
    p = subprocess.run([ZKCLI, "-server", hosts], input=script, capture_output=True, text=True, timeout=180)
    err = "".join(ln + "\n" for ln in p.stderr.splitlines() if not ln.startswith("SLF4J"))
    return re.sub(r"127\.0\.0\.1:\d+", "<server>", without_events(p.stdout)), err


def quota_nodes(zk: KazooClient) -> dict[str, bytes | None]:
    """Every node under /zookeeper/quota and its data."""
    out: dict[str, bytes | None] = {}
    stack = ["/zookeeper/quota"]
    while stack:
        path = stack.pop()
        out[path] = zk.get(path)[0]
        stack.extend(f"{path}/{c}" for c in zk.get_children(path))
    return out


def quota_rows(port: int) -> dict[str, str]:
    return {k: v for k, v in mntr(port).items() if "quota" in k or k == "zk_approximate_data_size"}


@needs("zookeeper", "zkcli")
def test_zkcli_quota_commands_print_and_write_the_same():
    seen = []
    for cls in (ZooKeeperProcess, ZooParkProcess):
        with cls(extra=CONF) as server:
            out, err = zkcli_script(server.hosts, SCRIPT)
            zk = KazooClient(hosts=server.hosts)
            zk.start(30)
            try:
                zk.create("/m")
                # Quotas on two namespaces for the mntr rows, one with a refused write.
                zk.create("/zookeeper/quota/m")
                zk.create("/zookeeper/quota/m/zookeeper_limits", b"count=-1,bytes=-1=;byteHardLimit=2;countHardLimit=-1")
                zk.create("/zookeeper/quota/m/zookeeper_stats", b"count=0,bytes=0")
                with pytest.raises(QuotaExceededError):
                    zk.create("/m/big", b"123")
                nodes = quota_nodes(zk)
            finally:
                close_clients([zk])
            seen.append((out, err, nodes, quota_rows(server.port)))
    (zk_out, zk_err, zk_nodes, zk_rows), (zp_out, zp_err, zp_nodes, zp_rows) = seen
    assert "Output quota for /a count=3,bytes=-1=;byteHardLimit=-1;countHardLimit=-1" in zk_out  # the script ran
    assert "/a/b has a parent /a which has a quota" in zk_err and "Quota has exceeded : /a/b/e" in zk_err
    assert zp_out == zk_out
    assert zp_err == zk_err
    assert zp_nodes == zk_nodes
    assert zk_rows["zk_m_quota_bytes_limit_per_namespace"] == "2"
    assert zk_rows["zk_m_quota_exceeded_error_per_namespace"] == "1"
    assert zp_rows == zk_rows


@needs("zookeeper")
def test_hard_limits_refuse_kazoo_writes_on_both_servers_alike():
    results, logs = [], []
    for cls in (ZooKeeperProcess, ZooParkProcess):
        with cls(extra=CONF) as server:
            zk = KazooClient(hosts=server.hosts)
            zk.start(30)
            try:
                seen: list[object] = []
                zk.create("/h", b"")
                zk.create("/zookeeper/quota/h")
                zk.create("/zookeeper/quota/h/zookeeper_limits",
                          b"count=-1,bytes=-1=;byteHardLimit=8;countHardLimit=3")
                zk.create("/zookeeper/quota/h/zookeeper_stats", b"count=0,bytes=0")
                for path, data in [("/h/a", b"1234"), ("/h/b", b"1234"), ("/h/c", b""), ("/h/d", b"9")]:
                    try:
                        seen.append(zk.create(path, data))
                    except QuotaExceededError as e:
                        seen.append(type(e).__name__)
                try:
                    zk.set("/h/a", b"12345")
                except QuotaExceededError as e:
                    seen.append(type(e).__name__)
                tx = zk.transaction()
                tx.set_data("/h/a", b"")
                tx.create("/h/e", b"")
                seen.append([type(r).__name__ for r in tx.commit()])
                seen.append(zk.get("/zookeeper/quota/h/zookeeper_stats")[0])
                seen.append(zk.get("/h/a")[0])
            finally:
                close_clients([zk])
            results.append(seen)
            logs.append(_QUOTA_LOG.findall(server.log_path.read_text(errors="replace")))
    assert results[0] == ["/h/a", "/h/b", "QuotaExceededError", "QuotaExceededError", "QuotaExceededError",
                          [RolledBackError.__name__, QuotaExceededError.__name__], b"count=3,bytes=8", b"1234"]
    assert results[1] == results[0]
    # ZooKeeperServer's RateLogger: the repeat of the first message within 100 ms is said on the next one.
    assert logs[0][:3] == ["Message:Quota exceeded: /h [current count=4, hardCountLimit=3] Value:null",
                           "Message: Quota exceeded: /h [current count=4, hardCountLimit=3]",
                           "Message:Quota exceeded: /h [current bytes=9, hardByteLimit=8] Value:null"]
    assert logs[1] == logs[0]


_QUOTA_LOG = re.compile(r"(?:\[\d+ times\] )?Message: ?Quota exceeded[^\n]*")


@needs("zookeeper")
def test_quota_text_statstrack_cannot_read_fails_the_write_with_marshallingerror_on_both():
    """ZooKeeper's check throws on it inside PrepRequestProcessor, which fails the request (a multi whole)
    with MARSHALLINGERROR and serves on."""
    results = []
    for cls in (ZooKeeperProcess, ZooParkProcess):
        with cls(extra=CONF) as server:
            zk = KazooClient(hosts=server.hosts)
            zk.start(30)
            seen: list[object] = []
            try:
                zk.create("/g", b"")
                zk.create("/zookeeper/quota/g")
                zk.create("/zookeeper/quota/g/zookeeper_limits", b"count=5,bytes=-1")
                zk.create("/zookeeper/quota/g/zookeeper_stats", b"count=0,bytes=0")
                zk.set("/zookeeper/quota/g/zookeeper_stats", b"count=x")
                # (Only writes the check refuses: one that reached ZooKeeper's tree, a setData of the same
                # size, would make its commit thread throw and the server exit.)
                try:
                    seen.append(zk.create("/g/a", b"12"))
                except KazooException as e:
                    seen.append(type(e).__name__)
                tx = zk.transaction()
                tx.create("/g/b", b"")
                try:
                    seen.append([type(r).__name__ for r in tx.commit()])
                except KazooException as e:
                    seen.append(type(e).__name__)
                seen.append(zk.exists("/g/a") is None and zk.exists("/g/b") is None)
                seen.append(zk.create("/elsewhere", b""))
            finally:
                close_clients([zk])
            results.append(seen)
    assert results[0][0] == "MarshallingError" and results[0][-2:] == [True, "/elsewhere"]
    assert results[1] == results[0]


@needs("zookeeper", "zkcli")
def test_stats_survive_a_restart_as_on_zookeeper():
    script = "create /r\ncreate /r/a 12\nsetquota -N 4 /r\ncreate /r/b 345\nquit\n"
    after = "listquota /r\ncreate /r/c\ncreate /r/d\nlistquota /r\nquit\n"
    outs = []
    for cls in (ZooKeeperProcess, ZooParkProcess):
        server = cls(extra=CONF)
        try:
            server.start()
            zkcli_script(server.hosts, script)
            server.stop()
            server.start()
            out, err = zkcli_script(server.hosts, after)
            outs.append((out, err))
        finally:
            server.cleanup()
    assert "Output stat for /r count=3,bytes=5" in outs[0][0] and "Quota has exceeded : /r/d" in outs[0][1]
    assert outs[1] == outs[0]


SHELL_LINES = ["create /a x", "setquota -n 2 /a", "setquota -B 5 /a", "listquota /a", "create /a/b 1234",
               "create /a/c", "setquota -n 1 /a/b", "setquota -n 1 /nope", "setquota -N 0 /a", "setquota /a",
               "setquota -n 1 /zookeeper/quota", "delquota -n /a", "listquota /a", "delquota /a", "listquota /a",
               "delquota /a", "listquota /", "setquota -n 1 x", "setquota -n 5 -b 6 /a", "delquota -x /a",
               "setquota -n 2147483648 /a", "setquota -N5 /a", "listquota /a"]


@needs("zookeeper", "zkcli")
def test_zoopark_shell_answers_quota_commands_as_zkcli():
    with ZooParkProcess(extra=CONF) as a, ZooParkProcess(extra=CONF) as b:
        for line in SHELL_LINES:
            z = subprocess.run([ZKCLI, "-server", a.hosts, *line.split()], capture_output=True, text=True, timeout=60)
            theirs = (z.returncode, without_events(z.stdout),
                      "".join(ln + "\n" for ln in z.stderr.splitlines() if not ln.startswith("SLF4J")))
            s = subprocess.run([sys.executable, "-m", "zoopark", "shell", "-server", b.hosts, *line.split()],
                               capture_output=True, text=True, timeout=60)
            assert (s.returncode, s.stdout, s.stderr) == theirs, line


# ---- ensembles: every member keeps the stats as it applies the txns -----------------------------------

LIMITS_N3 = b"count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=3"


def _fill_until_refused(zk: KazooClient) -> list[object]:
    """Quota nodes made by ordinary creates (as zkCli's setquota makes them), then writes past the limit."""
    seen: list[object] = []
    zk.create("/e", b"")
    zk.create("/zookeeper/quota/e")
    zk.create("/zookeeper/quota/e/zookeeper_limits", LIMITS_N3)
    zk.create("/zookeeper/quota/e/zookeeper_stats", b"count=0,bytes=0")
    for name in "abc":
        try:
            seen.append(zk.create(f"/e/{name}", b"12"))
        except QuotaExceededError as e:
            seen.append(type(e).__name__)
    return seen


def _stats_everywhere(members) -> list[tuple[bytes | None, str]]:
    out = []
    for p in members:
        c = KazooClient(hosts=p.hosts, timeout=15.0)
        c.start(30)
        try:
            c.sync("/")
            data = c.get("/zookeeper/quota/e/zookeeper_stats")[0]
        finally:
            close_clients([c])
        out.append((data, mntr(p.port).get("zk_e_quota_count_usage_per_namespace", "")))
    return out


@pytest.mark.xdist_group("ensembles")
@needs("zookeeper")
def test_a_zoopark_follower_keeps_the_stats_of_a_zookeeper_leaders_txns():
    extra = {**ensemble_config(ensemble_ports((1, 2, 3))), **CONF}
    zks = [member(ZooKeeperProcess, i, extra) for i in (2, 3)]
    zp = member(ZooParkProcess, 1, extra)
    members = [zp, *zks]
    try:
        zks[0].start(wait=False)
        zks[1].start(timeout=90)
        c = KazooClient(hosts=zks[1].hosts, timeout=15.0)
        c.start(30)
        try:
            c.create("/e0", b"")  # history for the zoopark member to sync; the quota comes after
            zp.start(timeout=90)
            ours = KazooClient(hosts=zp.hosts, timeout=15.0)
            ours.start(30)
            try:
                seen = _fill_until_refused(ours)  # forwarded to ZooKeeper's leader, which enforces
            finally:
                close_clients([ours])
        finally:
            close_clients([c])
        assert seen == ["/e/a", "/e/b", "QuotaExceededError"]
        assert _stats_everywhere(members) == [(b"count=3,bytes=4", "3")] * 3
        zp.stop()  # a restart loads the snapshot or replays the log: the stats come back the same
        zp.start(timeout=90)
        assert _stats_everywhere([zp]) == [(b"count=3,bytes=4", "3")]
    finally:
        for p in members:
            p.cleanup()


@pytest.mark.xdist_group("ensembles")
def test_a_zoopark_leader_enforces_for_its_followers_clients_and_every_member_counts_alike():
    extra = {**ensemble_config(ensemble_ports((1, 2, 3))), **CONF}
    members = [member(ZooParkProcess, i, extra) for i in (1, 2, 3)]
    try:
        for p in members:
            p.start(wait=False)
        roles = wait_settled(members, 90)
        follower, leader = roles["follower"][0], roles["leader"][0]
        c = KazooClient(hosts=follower.hosts, timeout=15.0)
        c.start(30)
        try:
            assert _fill_until_refused(c) == ["/e/a", "/e/b", "QuotaExceededError"]
        finally:
            close_clients([c])
        assert _stats_everywhere(members) == [(b"count=3,bytes=4", "3")] * 3
        # The error counts where the check is: on the leader, as ZooKeeper's PrepRequestProcessor.
        assert mntr(leader.port).get("zk_e_quota_exceeded_error_per_namespace") == "1"
        assert "zk_e_quota_exceeded_error_per_namespace" not in mntr(follower.port)
        # The count is the process's, as ZooKeeper's ServerMetrics: it outlives the leader's role.
        others = [p for p in members if p is not leader]
        for p in others:
            p.stop()
        wait_until("the leader stops serving without a quorum", lambda: server_mode(leader.port) != "leader", 60)
        for p in others:
            p.start(wait=False)
        wait_settled(members, 90)
        assert mntr(leader.port).get("zk_e_quota_exceeded_error_per_namespace") == "1"
    finally:
        for p in members:
            p.cleanup()


def test_prometheus_endpoint_labels_the_quota_metrics_by_namespace():
    """ZooKeeper's PrometheusMetricsProvider: the four gauge sets and the error counter set, label `key` (not
    compared live: Debian's ZooKeeper has no Prometheus provider jar)."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    from procs import free_port

    prom = free_port()
    extra = {**CONF, "metricsProvider.className": "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider",
             "metricsProvider.httpHost": "127.0.0.1", "metricsProvider.httpPort": str(prom)}
    with ZooParkProcess(extra=extra) as zp:
        zk = KazooClient(hosts=zp.hosts)
        zk.start(30)
        try:
            for ns, limits in (("m", b"count=10,bytes=-1=;byteHardLimit=2;countHardLimit=-1"),
                               ("n", b"count=7,bytes=100")):
                zk.create(f"/{ns}/x", b"1", makepath=True)
                zk.create(f"/zookeeper/quota/{ns}/x", makepath=True)
                zk.create(f"/zookeeper/quota/{ns}/x/zookeeper_limits", limits)
                zk.create(f"/zookeeper/quota/{ns}/x/zookeeper_stats", b"count=0,bytes=0")
            with pytest.raises(QuotaExceededError):
                zk.create("/m/x/big", b"12")
        finally:
            close_clients([zk])
        with urllib.request.urlopen(f"http://127.0.0.1:{prom}/metrics", timeout=10) as r:
            body = r.read().decode()
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for fam in text_string_to_metric_families(body) for s in fam.samples if "quota" in s.name}
    assert samples == {
        ("quota_count_limit_per_namespace", (("key", "m"),)): 10, ("quota_count_limit_per_namespace", (("key", "n"),)): 7,
        ("quota_bytes_limit_per_namespace", (("key", "m"),)): 2, ("quota_bytes_limit_per_namespace", (("key", "n"),)): 100,
        ("quota_count_usage_per_namespace", (("key", "m"),)): 1, ("quota_count_usage_per_namespace", (("key", "n"),)): 1,
        ("quota_bytes_usage_per_namespace", (("key", "m"),)): 1, ("quota_bytes_usage_per_namespace", (("key", "n"),)): 1,
        ("quota_exceeded_error_per_namespace", (("key", "m"),)): 1,
    }
    assert 'quota_exceeded_error_per_namespace{key="m"} 1.0' in body.splitlines()


# ---- a seeded workload under quotas, against ZooKeeper ----------------------------------------------------

def _workload(zk: KazooClient, hosts: str, seed: int, ops: int) -> list[object]:
    """Random writes in and around two quota'd subtrees (creates of every kind, null data, setData, deletes,
    multis that fail halfway, ephemerals whose session ends, a client resetting the stats and a quota removed
    and set again), the stats after each step."""
    import random

    rng = random.Random(seed)
    out: list[object] = []
    zk.create("/w/q1", b"", makepath=True)
    zk.create("/w/q2/deep", b"abc", makepath=True)
    zk.create("/w/free", b"")

    def setquota(path: str, limits: bytes) -> None:
        zk.ensure_path(f"/zookeeper/quota{path}")
        zk.create(f"/zookeeper/quota{path}/zookeeper_limits", limits)
        zk.create(f"/zookeeper/quota{path}/zookeeper_stats", b"count=0,bytes=0")

    setquota("/w/q1", b"count=-1,bytes=-1=;byteHardLimit=60;countHardLimit=12")
    setquota("/w/q2", b"count=4,bytes=10")  # soft only: logged, never refused
    other = KazooClient(hosts=hosts)
    other.start(30)
    nodes = ["/w/q1", "/w/q2", "/w/q2/deep", "/w/free"]
    try:
        for step in range(ops):
            parent = rng.choice(nodes)
            data = rng.choice([None, b"", b"x" * rng.randint(1, 9)])
            kind = rng.random()
            try:
                if kind < 0.35:
                    client = other if rng.random() < 0.3 else zk
                    made = client.create(f"{parent}/n", data, sequence=True, ephemeral=client is other)
                    nodes.append(made)
                    out.append(made)
                elif kind < 0.55:
                    out.append(zk.set(rng.choice(nodes), data or b"").version)  # (kazoo sends no null here)
                elif kind < 0.7:
                    victim = rng.choice(nodes[4:] or nodes)
                    zk.delete(victim)
                    nodes.remove(victim)
                    out.append(("deleted", victim))
                elif kind < 0.85:
                    tx = zk.transaction()
                    tx.create(f"{parent}/m{step}", data or b"")  # (kazoo: bytes in a transaction)
                    tx.set_data(rng.choice(nodes), b"yy")
                    if rng.random() < 0.3:
                        tx.check("/w/free", 99)  # fails the whole multi
                    results = tx.commit()
                    out.append([r if isinstance(r, str) else type(r).__name__ for r in results])
                    if isinstance(results[0], str):
                        nodes.append(results[0])
                elif kind < 0.9 and step % 3 == 0:
                    zk.set("/zookeeper/quota/w/q2/zookeeper_stats", b"count=0,bytes=0")  # a client's reset
                    out.append("reset")
                elif kind < 0.95:
                    zk.delete("/zookeeper/quota/w/q1/zookeeper_limits")  # the quota ends ...
                    zk.create(f"/w/q1/gap{step}", b"zz")
                    nodes.append(f"/w/q1/gap{step}")
                    zk.delete("/zookeeper/quota/w/q1/zookeeper_stats")
                    setquota("/w/q1", b"count=-1,bytes=-1=;byteHardLimit=60;countHardLimit=12")  # ... and is set again
                    out.append("requota")
                else:
                    other.stop()  # its ephemerals go
                    other.close()
                    other = KazooClient(hosts=hosts)
                    other.start(30)
                    nodes = [n for n in nodes if zk.exists(n) is not None]
                    out.append("session closed")
            except KazooException as e:
                out.append(type(e).__name__)
            out.append([zk.get(f"/zookeeper/quota{q}/zookeeper_stats")[0] for q in ("/w/q1", "/w/q2")])
    finally:
        close_clients([other])
    return out


@needs("zookeeper")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_seeded_workload_keeps_the_same_stats_as_zookeeper(seed):
    runs = []
    for cls in (ZooKeeperProcess, ZooParkProcess):
        with cls(extra=CONF) as server:
            zk = KazooClient(hosts=server.hosts)
            zk.start(30)
            try:
                transcript = _workload(zk, server.hosts, seed, 120)
                nodes = quota_nodes(zk)
            finally:
                close_clients([zk])
            runs.append((transcript, nodes, quota_rows(server.port),
                         _QUOTA_LOG.findall(server.log_path.read_text(errors="replace"))))
    (zk_t, zk_n, zk_r, zk_l), (zp_t, zp_n, zp_r, zp_l) = runs
    assert "QuotaExceededError" in zk_t  # the workload reaches the hard limit
    for i, (theirs, mine) in enumerate(zip(zk_t, zp_t, strict=True)):
        assert mine == theirs, f"seed {seed}, step {i}: ZooKeeper {theirs!r}, zoopark {mine!r}"
    assert zp_n == zk_n
    assert zp_r == zk_r
    # Each change of message is logged at once; how many repeats a `[N times]` line counts depends on timing.
    assert [m for m in zp_l if m.endswith("Value:null")] == [m for m in zk_l if m.endswith("Value:null")]
