"""Leader election, a double barrier, a fenced lock and a locking queue on kazoo's recipes against zoopark
(or any ZooKeeper). Each function is a small, complete example; `python examples/coordination.py --zk
127.0.0.1:2181` runs them all and prints what happened.
"""

from __future__ import annotations

import argparse
import threading

from kazoo.client import KazooClient
from kazoo.recipe.barrier import DoubleBarrier
from kazoo.recipe.election import Election
from kazoo.recipe.queue import LockingQueue

from zoopark.recipes.lock import FencedLock, FencedResource


def election(zk: str, out=print) -> list[str]:
    """Three candidates; each leads in turn: when a leader's function returns, the next one is elected."""
    led: list[str] = []
    clients = [KazooClient(zk) for _ in range(3)]
    threads = []
    for k, c in enumerate(clients):
        c.start(timeout=30)

        def lead(name=f"candidate-{k}") -> None:
            led.append(name)
            out(f"{name} leads")

        e = Election(c, "/examples/election", f"candidate-{k}")
        threads.append(threading.Thread(target=e.run, args=(lead,)))
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for c in clients:
        c.stop()
        c.close()
    return led


def barrier(zk: str, out=print) -> list[str]:
    """Three workers enter a double barrier; none starts before all are in, none leaves before all are done."""
    events: list[str] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        c = KazooClient(zk)
        c.start(timeout=30)
        b = DoubleBarrier(c, "/examples/barrier", 3)
        b.enter()
        with lock:
            events.append(f"in {k}")
        b.leave()
        with lock:
            events.append(f"out {k}")
        c.stop()
        c.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    out(" ".join(events))
    return events


def fenced_lock(zk: str, out=print) -> list[int]:
    """Two holders in turn; the resource accepts each one's writes by its fencing token."""
    resource = FencedResource()
    tokens = []
    for name in ("first", "second"):
        c = KazooClient(zk)
        c.start(timeout=30)
        with FencedLock(c, "/examples/lock", name) as token:
            resource.write(token, name)
            tokens.append(token)
            out(f"{name} holds the lock with token {token:#x}")
        c.stop()
        c.close()
    return tokens


def queue(zk: str, out=print) -> list[bytes]:
    """A LockingQueue: an item taken is only gone once consumed; a consumer that dies gives it back."""
    c = KazooClient(zk)
    c.start(timeout=30)
    q = LockingQueue(c, "/examples/queue")
    for item in (b"a", b"b"):
        q.put(item)
    got = []
    for _ in range(2):
        item = q.get(timeout=10)
        got.append(item)
        q.consume()
        out(f"consumed {item!r}")
    c.stop()
    c.close()
    return got


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--zk", default="127.0.0.1:2181")
    zk = ap.parse_args().zk
    for fn in (election, barrier, fenced_lock, queue):
        fn(zk)
