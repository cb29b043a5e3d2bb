"""Crash tests on a real process: kazoo clients write while the server is SIGKILLed at random moments.

After each restart: every acknowledged write is there, nothing that was never sent is, a compare-and-set
counter is between its last acknowledged and its last attempted value, and every multi is all or nothing.
CI runs a few rounds; ZOOPARK_SOAK=1 (or ZOOPARK_CRASH_ROUNDS=N) runs many.
"""

from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass, field

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.handlers.threading import KazooTimeoutError

from procs import ZooParkProcess

ROUNDS = int(os.environ.get("ZOOPARK_CRASH_ROUNDS", "60" if os.environ.get("ZOOPARK_SOAK") else "6"))
WORKERS = 3
OP_TIMEOUT = 10.0  # a request in flight when the server dies is answered by ConnectionLoss, or never


@dataclass
class Ledger:
    """What one worker sent and what it was told, over all rounds."""

    name: str
    sent_data: set[bytes] = field(default_factory=set)  # data of every create attempted
    acked_paths: dict[str, bytes] = field(default_factory=dict)
    counter_acked: int = 0
    counter_attempted: int = 0
    multis_sent: list[str] = field(default_factory=list)
    multis_acked: set[str] = field(default_factory=set)
    ops: int = 0
    errors: list[str] = field(default_factory=list)


def work(hosts: str, ledger: Ledger, round_: int, rng: random.Random, stop: threading.Event) -> None:
    c = KazooClient(hosts, timeout=10.0, connection_retry={"max_tries": 1, "delay": 0.1})
    try:
        c.start(timeout=20)
    except KazooTimeoutError:
        return
    base = f"/crash/{ledger.name}"
    try:
        c.ensure_path(base)
        if c.exists(base + "/counter") is None:
            c.create(base + "/counter", b"0")
        data, stat = c.get(base + "/counter")
        value, version = int(data), stat.version
        ledger.counter_acked = max(ledger.counter_acked, value)
        i = 0
        while not stop.is_set() and i < 100_000:
            i += 1
            kind = rng.random()
            if kind < 0.5:
                payload = f"{round_}:{i}".encode()
                ledger.sent_data.add(payload)
                path = c.create_async(base + "/n-", payload, sequence=True).get(timeout=OP_TIMEOUT)
                ledger.acked_paths[path] = payload
            elif kind < 0.8:
                ledger.counter_attempted = value + 1
                stat = c.set_async(base + "/counter", b"%d" % (value + 1), version=version).get(timeout=OP_TIMEOUT)
                value, version = value + 1, stat.version
                ledger.counter_acked = value
            else:
                name = f"m{round_}-{i}"
                ledger.multis_sent.append(name)
                t = c.transaction()
                t.create(f"{base}/{name}-a", b"a")
                t.create(f"{base}/{name}-b", b"b")
                t.check(base + "/counter", version)
                results = t.commit_async().get(timeout=OP_TIMEOUT)
                if any(isinstance(r, Exception) for r in results):
                    ledger.errors.append(f"multi {name} failed without a crash: {results}")
                    return
                ledger.multis_acked.add(name)
            ledger.ops += 1
    except (KazooException, KazooTimeoutError):
        pass  # the server died under us: the op in flight is indeterminate
    finally:
        try:
            c.stop()
            c.close()
        except (KazooException, KazooTimeoutError):  # pragma: no cover
            pass


def verify(hosts: str, ledgers: list[Ledger]) -> None:
    c = KazooClient(hosts, timeout=15.0)
    c.start(timeout=30)
    try:
        for led in ledgers:
            base = f"/crash/{led.name}"
            if not led.sent_data and not c.exists(base):
                continue
            names = set(c.get_children(base))
            for path in led.acked_paths:
                assert path.rsplit("/", 1)[1] in names, f"acknowledged create {path} lost"
            seq = [f"{base}/{name}" for name in names if name.startswith("n-")]
            pending = [(path, c.get_async(path)) for path in seq]  # pipelined: one round trip for all
            for path, res in pending:
                data = res.get(timeout=OP_TIMEOUT)[0]
                assert data in led.sent_data, f"{path} holds {data!r}, which was never sent"
                if path in led.acked_paths:
                    assert data == led.acked_paths[path], f"{path} holds {data!r}"
            value = int(c.get(base + "/counter")[0])
            assert led.counter_acked <= value <= max(led.counter_attempted, led.counter_acked), (
                f"counter {value}, acknowledged {led.counter_acked}, attempted {led.counter_attempted}")
            sent = set(led.multis_sent)
            for name in names:
                if name.startswith("m"):
                    assert name[:-2] in sent, f"{name} was never sent"
            for name in sent:
                a, b = f"{name}-a" in names, f"{name}-b" in names
                assert a == b, f"multi {name} half applied"
                if name in led.multis_acked:
                    assert a, f"acknowledged multi {name} lost"
    finally:
        c.stop()
        c.close()


@pytest.mark.soak
def test_sigkill_at_random_moments_loses_nothing_acknowledged() -> None:
    rng = random.Random(int(os.environ.get("ZOOPARK_CRASH_SEED", "7")))
    server = ZooParkProcess(extra={"snapCount": "200"})
    ledgers = [Ledger(f"w{k}") for k in range(WORKERS)]
    total_ops = 0
    try:
        for round_ in range(ROUNDS):
            server.start()
            verify(server.hosts, ledgers)
            stop = threading.Event()
            threads = [threading.Thread(target=work, args=(server.hosts, led, round_, random.Random(rng.random()),
                                                           stop)) for led in ledgers]
            before = sum(led.ops for led in ledgers)
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.3, 1.2))  # the fault's moment, not a wait for anything
            server.kill()
            stop.set()
            for t in threads:
                t.join(60)
                assert not t.is_alive()
            total_ops += sum(led.ops for led in ledgers) - before
            assert not [e for led in ledgers for e in led.errors]
        server.start()
        verify(server.hosts, ledgers)
    finally:
        server.cleanup()
    assert total_ops > 100 * ROUNDS, f"only {total_ops} acknowledged ops in {ROUNDS} rounds"
