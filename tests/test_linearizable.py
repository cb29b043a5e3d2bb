"""Linearizability: the checker itself on known histories, then compare-and-set histories of kazoo clients on
a three-member zoopark ensemble whose leader is killed mid-run."""

from __future__ import annotations

import math
import random
import threading
import time

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, KazooException, NodeExistsError, NoNodeError
from kazoo.handlers.threading import KazooTimeoutError

from test_ensemble_live import ensemble, wait_modes  # noqa: F401 - the fixture
from zoopark.sim.linear import Op, check, check_by_key

from procs import close_clients

INF = math.inf


# Multi-process ensembles: one xdist worker runs them one after another (make test uses --dist loadgroup).
pytestmark = pytest.mark.xdist_group("ensembles")

def test_checker_accepts_a_linearizable_history_with_overlap_and_an_unknown_outcome() -> None:
    h = [
        Op(1, "a", "create", (b"x",), 0.0, 1.0, "ok"),
        Op(2, "b", "create", (b"y",), 0.5, 1.5, "exists"),       # overlaps a's create: after it
        Op(3, "a", "set", (b"z", 0), 2.0, 3.0, ("ok", 1)),
        Op(4, "b", "set", (b"w", 0), 2.5, INF),                  # indeterminate: lost or applied after 3
        Op(5, "a", "delete", (-1,), 4.0, 5.0, "ok"),
    ]
    v = check(h)
    assert v.ok, v.detail


def test_checker_rejects_a_stale_compare_and_set() -> None:
    h = [
        Op(1, "a", "create", (b"x",), 0.0, 1.0, "ok"),
        Op(2, "a", "set", (b"y", 0), 2.0, 3.0, ("ok", 1)),
        Op(3, "b", "set", (b"z", 0), 4.0, 5.0, ("ok", 1)),       # version 0 is gone since 3.0
    ]
    assert not check(h).ok


def test_checker_rejects_a_lost_acknowledged_create() -> None:
    h = [
        Op(1, "a", "create", (b"x",), 0.0, 1.0, "ok"),
        Op(2, "b", "create", (b"y",), 2.0, 3.0, "ok"),           # the first one was acknowledged: exists
    ]
    assert not check(h).ok


def test_checker_keeps_a_sessions_pipelined_ops_in_the_order_they_were_sent() -> None:
    # Two pipelined sets of one session overlap in time; ZooKeeper applies them in order, so the second
    # cannot have seen version 0. Without the session, overlapping ops may go in either order.
    h = [
        Op(1, "a", "create", (b"x",), 0.0, 1.0, "ok"),
        Op(2, "b", "set", (b"y", 1), 2.0, 3.0, ("ok", 2), session=7),
        Op(3, "b", "set", (b"z", 0), 2.0, 3.0, ("ok", 1), session=7),
    ]
    assert not check(h).ok
    assert check([Op(o.id, o.client, o.kind, o.args, o.invoked, o.responded, o.result) for o in h]).ok


def test_checker_orders_an_op_lost_with_its_connection_before_its_sessions_next_ones() -> None:
    # A set lost with a connection, then the session's next set answered on another one: the lost set
    # applied before it or never, so the read after both cannot see the lost set's data.
    h = [
        Op(1, "a", "create", (b"x",), 0.0, 1.0, "ok"),
        Op(2, "b", "set", (b"lost", -1), 2.0, INF, None, deadline=5.0, session=7),
        Op(3, "b", "set", (b"y", -1), 4.0, 5.0, ("ok", 2), session=7),
        Op(4, "a", "get", (), 6.0, 7.0, ("ok", b"lost", 3)),
    ]
    assert not check(h).ok
    h[3] = Op(4, "a", "get", (), 6.0, 7.0, ("ok", b"y", 2))
    assert check(h).ok


def _client_loop(hosts: str, name: str, rng: random.Random, keys: list[str], log: list, stop: threading.Event,
                 ids) -> None:
    c = KazooClient(hosts, timeout=10.0, connection_retry={"max_tries": -1, "delay": 0.05, "max_delay": 0.3})
    c.start(timeout=30)
    known: dict[str, int] = {}
    try:
        for _ in range(100_000):
            if stop.is_set():
                return
            key = rng.choice(keys)
            kind = rng.choice(["create", "set", "set", "delete"])
            data = f"{name}-{next(ids)}".encode()
            version = rng.choice([-1, known.get(key, 0), known.get(key, 0) + 1]) if kind != "create" else None
            args = (data,) if kind == "create" else ((data, version) if kind == "set" else (version,))
            t0 = time.monotonic()
            try:
                if kind == "create":
                    c.create_async(key, data).get(timeout=3)
                    result, known[key] = "ok", 0
                elif kind == "set":
                    stat = c.set_async(key, data, version).get(timeout=3)
                    result, known[key] = ("ok", stat.version), stat.version
                else:
                    c.delete_async(key, version).get(timeout=3)
                    result = "ok"
                log.append((key, Op(next(ids), name, kind, args, t0, time.monotonic(), result)))
            except NodeExistsError:
                log.append((key, Op(next(ids), name, kind, args, t0, time.monotonic(), "exists")))
            except NoNodeError:
                log.append((key, Op(next(ids), name, kind, args, t0, time.monotonic(), "nonode")))
            except BadVersionError:
                log.append((key, Op(next(ids), name, kind, args, t0, time.monotonic(), "badversion")))
            except (KazooException, KazooTimeoutError):
                log.append((key, Op(next(ids), name, kind, args, t0)))  # never learned the outcome
                time.sleep(0.05)  # pacing while the ensemble fails over, not a synchronisation
    finally:
        close_clients([c])


def test_compare_and_set_histories_stay_linearizable_when_the_leader_dies(ensemble) -> None:  # noqa: F811
    roles = wait_modes(ensemble)
    leader = roles["leader"][0]
    keys = ["/k0", "/k1"]
    log: list = []
    stop = threading.Event()
    threads = [threading.Thread(target=_client_loop, args=(p.hosts, f"c{k}", random.Random(k), keys, log, stop,
                                                            iter(range(k * 10**6, (k + 1) * 10**6))))
               for k, p in enumerate(ensemble)]
    for t in threads:
        t.start()
    time.sleep(1.5)  # the fault's moment
    leader.kill()
    time.sleep(3.0)  # keep going through the fail-over
    stop.set()
    for t in threads:
        t.join(60)
        assert not t.is_alive()
    assert_linearizable(log, 100)


def assert_linearizable(log: list, at_least: int) -> int:
    """Every key's history in `log` is linearizable, and at least `at_least` operations had a known outcome;
    returns how many did."""
    determinate = [op for _, op in log if op.determinate]
    assert len(determinate) > at_least, f"only {len(determinate)} operations completed"
    verdicts = check_by_key(log)
    bad = {k: v.detail for k, v in verdicts.items() if not v.ok}
    assert not bad, bad
    return len(determinate)
