"""The admin HTTP server and the Prometheus exporter of a running server under load: every command ZooKeeper
3.8 registers, under its names and aliases, with the fields ZooKeeper's Commands return; values that agree
with the four-letter words and with what clients did; metrics that move with the load."""

from __future__ import annotations

import json
import threading
import urllib.request

import pytest
from kazoo.client import KazooClient
from prometheus_client.parser import text_string_to_metric_families

from procs import (
    ZooParkProcess,
    ensemble_config,
    ensemble_ports,
    free_port,
    member,
    mntr,
    wait_settled,
)

# ZooKeeper 3.8's Commands: primary name, aliases, and the keys of each answer besides command and error.
ZK_COMMANDS = {
    "connection_stat_reset": (("crst",), set()),
    "configuration": (("conf", "config"), {"client_port", "data_dir", "data_log_dir", "tick_time",
                                           "max_client_cnxns", "min_session_timeout", "max_session_timeout",
                                           "server_id", "client_port_listen_backlog"}),
    "connections": (("cons",), {"connections", "secure_connections"}),
    "hash": ((), {"digests"}),
    "dirs": ((), {"datadir_size", "logdir_size"}),
    "dump": ((), {"expiry_time_to_session_ids", "session_id_to_ephemeral_paths"}),
    "environment": (("env", "envi"), {"zookeeper.version", "host.name"}),
    "get_trace_mask": (("gtmk",), {"tracemask"}),
    "initial_configuration": (("icfg",), {"initial_configuration"}),
    "is_read_only": (("isro",), {"read_only"}),
    "last_snapshot": (("lsnp",), {"zxid", "timestamp"}),
    "leader": (("lead",), set()),
    "monitor": (("mntr",), {"version", "server_state", "znode_count", "watch_count", "ephemerals_count",
                            "num_alive_connections", "outstanding_requests", "avg_latency"}),
    "observer_connection_stat_reset": (("orst",), set()),
    "ruok": ((), set()),
    "set_trace_mask": (("stmk",), set()),
    "server_stats": (("srvr",), {"version", "read_only", "server_stats", "client_response", "node_count"}),
    "stats": (("stat",), {"version", "read_only", "server_stats", "client_response", "node_count",
                          "connections"}),
    "stat_reset": (("srst",), set()),
    "observers": (("obsr",), {"synced_observers", "observers"}),
    "system_properties": (("sysp",), set()),
    "voting_view": ((), {"current_config"}),
    "watches": (("wchc",), {"session_id_to_watched_paths"}),
    "watches_by_path": (("wchp",), {"path_to_session_ids"}),
    "watch_summary": (("wchs",), {"num_connections", "num_paths", "num_total_watches"}),
    "zabstate": ((), {"voting", "zabstate"}),
}
# What ZooKeeper answers a standalone server for these (and for stmk without its argument).
STANDALONE_ERRORS = {"leader": "server is not initialized",
                     "set_trace_mask": "setTraceMask requires long traceMask argument"}
SERVER_STATS = {"packets_sent", "packets_received", "fsync_threshold_exceed_count", "client_response_stats",
                "provider_null", "server_state", "outstanding_requests", "min_latency", "avg_latency",
                "max_latency", "data_dir_size", "log_dir_size", "last_processed_zxid",
                "num_alive_client_connections", "auth_failed_count", "non_mtls_remote_conn_count",
                "non_mtls_local_conn_count"}
CONNECTION = {"remote_socket_address", "interest_ops", "outstanding_requests", "packets_received",
              "packets_sent", "session_id", "last_operation", "established", "session_timeout", "last_cxid",
              "last_zxid", "last_response_time", "last_latency", "min_latency", "avg_latency", "max_latency"}


def get(port: int, path: str) -> tuple[str, str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return r.headers.get_content_type(), r.read().decode()


def command(port: int, name: str) -> dict:
    ctype, body = get(port, f"/commands/{name}")
    assert ctype == "application/json"
    return json.loads(body)


def metrics(port: int) -> dict[str, float]:
    _, body = get(port, "/metrics")
    return {f"{s.name}{sorted(s.labels.items()) if s.labels else ''}": s.value
            for fam in text_string_to_metric_families(body) for s in fam.samples}


@pytest.fixture(scope="module")
def loaded():
    admin, prom = free_port(), free_port()
    extra = {"admin.enableServer": "true", "admin.serverAddress": "127.0.0.1", "admin.serverPort": str(admin),
             "metricsProvider.className": "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider",
             "metricsProvider.httpHost": "127.0.0.1", "metricsProvider.httpPort": str(prom)}
    with ZooParkProcess(extra=extra) as zp:
        c = KazooClient(zp.hosts)
        c.start(timeout=30)
        c.create("/app/x", b"data", makepath=True)
        c.create("/app/eph", b"", ephemeral=True)
        c.create("/app/watched", b"")
        c.get("/app/watched", watch=lambda e: None)  # nobody changes it: the watch stays
        stop = threading.Event()

        def load() -> None:
            for i in range(1_000_000):
                if stop.is_set():
                    return
                c.set("/app/x", b"v%d" % i)
                c.get("/app/x")

        t = threading.Thread(target=load)
        t.start()
        try:
            yield zp, admin, prom, c
        finally:
            stop.set()
            t.join(30)
            c.stop()
            c.close()


def test_the_command_list_and_every_command_with_its_aliases(loaded) -> None:
    zp, admin, _, _ = loaded
    ctype, body = get(admin, "/commands")
    assert ctype == "text/html"
    for name, (aliases, keys) in ZK_COMMANDS.items():
        assert f'href="/commands/{name}"' in body, name
        for alias in (name, *aliases):
            answer = command(admin, alias)
            assert answer["command"] == name and answer["error"] == STANDALONE_ERRORS.get(name), answer
            assert keys <= set(answer), (name, keys - set(answer))
    unknown = command(admin, "nonsense")
    assert unknown == {"command": "nonsense", "error": "Unknown command: nonsense"}


def test_values_agree_with_the_four_letter_words_and_the_clients(loaded) -> None:
    zp, admin, _, c = loaded
    stats = command(admin, "stats")
    assert SERVER_STATS <= set(stats["server_stats"]) and stats["server_stats"]["server_state"] == "standalone"
    assert stats["read_only"] is False and stats["node_count"] >= 8
    cons = command(admin, "connections")["connections"]
    mine = [x for x in cons if int(x["session_id"], 16) == c.client_id[0]]
    assert len(mine) == 1 and CONNECTION <= set(mine[0])
    mon = command(admin, "monitor")
    rows = mntr(zp.port)
    assert mon["znode_count"] == int(rows["zk_znode_count"]) and mon["ephemerals_count"] == 1
    assert command(admin, "dump")["session_id_to_ephemeral_paths"] == {str(c.client_id[0]): ["/app/eph"]}
    assert command(admin, "watches_by_path")["path_to_session_ids"] == {"/app/watched": [c.client_id[0]]}
    assert command(admin, "watches")["session_id_to_watched_paths"] == {str(c.client_id[0]): ["/app/watched"]}
    assert command(admin, "watch_summary")["num_total_watches"] >= 1
    assert command(admin, "leader")["error"] == "server is not initialized"  # standalone, as ZooKeeper's
    assert command(admin, "zabstate") | {"command": None} == {"command": None, "error": None, "voting": False,
                                                                "zabstate": ""}
    assert int(command(admin, "last_snapshot")["zxid"], 16) >= 0
    assert command(admin, "set_trace_mask")["error"] == "setTraceMask requires long traceMask argument"
    assert command(admin, "stmk?traceMask=0")["tracemask"] == 0 and command(admin, "gtmk")["tracemask"] == 0
    assert "clientPort=" in command(admin, "initial_configuration")["initial_configuration"]


def test_prometheus_metrics_move_with_the_load(loaded) -> None:
    zp, _, prom, _ = loaded
    first = metrics(prom)
    for name in ("znode_count", "watch_count", "ephemerals_count", "num_alive_connections",
                 "outstanding_requests", "process_resident_memory_bytes", "process_cpu_seconds_total",
                 "threads", "reads_total", "writes_total"):
        assert name in first, name
    assert "server_state[('state', 'standalone')]" in first
    assert any(k.startswith("event_loop_lag_seconds") for k in first)
    rows = mntr(zp.port)
    assert first["ephemerals_count"] == int(rows["zk_ephemerals_count"]) == 1
    for _ in range(200):  # the load thread keeps writing and reading
        second = metrics(prom)
        if second["writes_total"] > first["writes_total"] and second["reads_total"] > first["reads_total"]:
            break
    assert second["writes_total"] > first["writes_total"] and second["reads_total"] > first["reads_total"]
    # Every write was fsynced: the fsync histogram counts them (group commit: at most one per txn). The scrape
    # can fall between a txn's fsync and its apply, and the load has one write in flight: one sync may be ahead.
    assert 0 < second["fsynctime_seconds_count"] <= second["writes_total"] + 1
    assert second["fsynctime_seconds_bucket[('le', '+Inf')]"] == second["fsynctime_seconds_count"]
    # Every reply is in the request latency histogram: those to reads and writes, and pings besides (a few
    # applied txns have no reply: a session expired by the server).
    assert second["request_latency_seconds_count"] >= second["reads_total"] + second["writes_total"] - 10


@pytest.mark.xdist_group("ensembles")
def test_ensemble_commands_show_roles() -> None:
    ports = ensemble_ports((1, 2, 3))
    admins = {i: free_port() for i in ports}
    proms = {i: free_port() for i in ports}
    members = {}
    for i in ports:
        extra = ensemble_config(ports) | {"admin.enableServer": "true", "admin.serverAddress": "127.0.0.1",
                                          "admin.serverPort": str(admins[i]),
                                          "metricsProvider.className": "PrometheusMetricsProvider",
                                          "metricsProvider.httpHost": "127.0.0.1",
                                          "metricsProvider.httpPort": str(proms[i])}
        members[i] = member(ZooParkProcess, i, extra)
    try:
        for p in members.values():
            p.start(wait=False)
        roles = wait_settled(list(members.values()))
        lid = next(i for i, p in members.items() if p is roles["leader"][0])
        for i in ports:
            lead = command(admins[i], "leader")
            assert (lead["is_leader"], lead["leader_id"], lead["leader_ip"]) == (i == lid, lid, "127.0.0.1")
            assert command(admins[i], "zabstate")["zabstate"] == "broadcast"
            view = command(admins[i], "voting_view")["current_config"]
            assert sorted(view) == ["1", "2", "3"] and view["1"].endswith(":participant")
            srv = command(admins[i], "server_stats")
            assert srv["server_stats"]["server_state"] == ("leader" if i == lid else "follower")
            assert ("proposal_stats" in srv) == (i == lid)
        assert command(admins[lid], "monitor")["synced_followers"] == 2
        c = KazooClient(members[lid].hosts)
        c.start(timeout=30)
        c.create("/m", b"")
        c.stop()
        c.close()
        for i in ports:  # each member elected once; the leader timed its proposals until their commit
            m = metrics(proms[i])
            assert m["election_time_seconds_count"] >= 1
            state = "leader" if i == lid else "follower"
            assert m[f"server_state[('state', '{state}')]"] == 1
        assert metrics(proms[lid])["proposal_latency_seconds_count"] >= 3  # session, create, close
    finally:
        for p in members.values():
            p.cleanup()


@pytest.mark.xdist_group("ensembles")
def test_status_shows_the_ensemble_at_a_glance() -> None:
    """`zoopark status` on three members: one leader, two followers, the same zxid; one member killed: it
    says so and exits 1."""
    import subprocess
    import sys

    ports = ensemble_ports((1, 2, 3))
    members = [member(ZooParkProcess, i, ensemble_config(ports)) for i in ports]

    def status(*extra: str) -> subprocess.CompletedProcess:
        hosts = ",".join(p.hosts for p in members)
        return subprocess.run([sys.executable, "-m", "zoopark", "status", hosts, *extra], capture_output=True,
                              text=True, timeout=60)

    try:
        for p in members:
            p.start(wait=False)
        roles = wait_settled(members)
        c = KazooClient(roles["leader"][0].hosts)
        c.start(timeout=30)
        c.create("/s", b"")
        c.stop()
        c.close()
        for _ in range(100):  # followers apply the last commits a moment after the leader
            done = status("--json")
            assert done.returncode == 0, done.stdout + done.stderr
            rows = json.loads(done.stdout)
            if len({r["zxid"] for r in rows}) == 1:
                break
        assert sorted(r["mode"] for r in rows) == ["follower", "follower", "leader"]
        assert len({r["zxid"] for r in rows}) == 1 and all(r["behind"] == 0 for r in rows)
        table = status()
        assert table.returncode == 0 and table.stdout.splitlines()[0].split()[:3] == ["server", "mode", "zxid"]
        roles["follower"][0].kill()
        done = status("--json", "--timeout", "2")
        assert done.returncode == 1
        assert sorted(r["mode"] for r in json.loads(done.stdout)) == ["follower", "leader", "unreachable"]
    finally:
        for p in members:
            p.cleanup()


@pytest.mark.parametrize("total,count,shown", [
    (0, 0, "0.0"), (41, 14, "2.9286"), (14, 5, "2.8"), (1, 3, "0.3333"), (2, 3, "0.6667"), (3, 1, "3.0"),
    (1, 8, "0.125"), (1, 20000, "1.0E-4"), (1, 80000, "0.0"), (123456789, 1, "1.23456789E8"),
])
def test_averages_are_printed_as_zookeeper_prints_them(total, count, shown):
    """AvgMinMaxCounter.getAvg rounds half-up to 4 places; mntr and srvr print the double as Java does."""
    from zoopark.admin.fourlw import java_avg, java_double

    assert java_double(java_avg(total, count)) == shown
