"""kazoo's SASL client against zoopark and ZooKeeper 3.8, side by side, each call under a deadline."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from kazoo.client import KazooClient

from procs import ZooKeeperProcess, ZooParkProcess
from references import needs

pytestmark = [pytest.mark.zk, needs("zookeeper")]

DEADLINE_S = 30.0


def bounded(fn: Callable[[], object], deadline_s: float = DEADLINE_S) -> str:
    """Run `fn` in a thread: its result's or exception's name; a call still running at the deadline fails
    the test (a hung client is the bug this file guards against)."""
    out: list[str] = []

    def run() -> None:
        try:
            out.append(f"ok {fn()!r}")
        except Exception as e:  # what the client raised is the observation
            out.append(type(e).__name__)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(deadline_s)
    assert not t.is_alive(), f"{fn} still running after {deadline_s}s"
    return out[0]


def sasl_session(hosts: str, user: str, password: str) -> list[str]:
    """What a kazoo client with DIGEST-MD5 credentials sees: start, a read, its state, stop."""
    c = KazooClient(hosts=hosts, timeout=4, connection_retry={"max_tries": 0},
                    sasl_options={"mechanism": "DIGEST-MD5", "username": user, "password": password})
    try:
        seen = [bounded(lambda: c.start(timeout=15)), bounded(lambda: c.get_children("/zookeeper"))]
        seen.append(str(c.state))
        return seen
    finally:
        bounded(c.stop)
        bounded(c.close)


def test_sasl_client_against_a_server_without_sasl_gives_up_as_against_zookeeper():
    with ZooKeeperProcess() as zk, ZooParkProcess() as zp:
        want = sasl_session(zk.hosts, "alice", "secret")
        got = sasl_session(zp.hosts, "alice", "secret")
        assert got == want
        assert want[1] == "AuthFailedError"  # ZooKeeper expires the negotiating session; kazoo gives up
