"""Calls the "echo" service again and again, balanced across the instances zoopark knows of (round robin,
instances that fail set aside for a while, a failed call retried on the next one), and prints which
instance answered each call.

    python examples/fleet/client.py --zk 127.0.0.1:2181 --calls 100
"""

from __future__ import annotations

import argparse
import time
import urllib.request
from collections import Counter

from kazoo.client import KazooClient

from zoopark.recipes.balancer import Provider, RoundRobin
from zoopark.recipes.discovery import ServiceDiscovery


def run(zk: str, calls: int, every_s: float = 0.02, out=print) -> Counter:
    client = KazooClient(zk, timeout=10.0, connection_retry={"max_tries": -1, "delay": 0.1, "max_delay": 1.0})
    client.start(timeout=30)
    cache = ServiceDiscovery(client, "/services").cache("echo").start()
    cache.wait_for(lambda xs: len(xs) > 0, 30)
    provider = Provider(cache, RoundRobin(), down_timeout=10.0)

    def hello(inst) -> str:
        with urllib.request.urlopen(f"http://{inst.address}:{inst.port}/hello", timeout=2) as r:
            return r.read().decode()

    answered: Counter = Counter()
    for i in range(calls):
        try:
            who = provider.call(hello, attempts=5)
            answered[who] += 1
            out(f"call {i}: {who}")
        except Exception as e:  # noqa: BLE001 - a failed call is reported, the client goes on
            answered["failed"] += 1
            out(f"call {i}: failed ({e})")
        time.sleep(every_s)
    client.stop()
    client.close()
    return answered


if __name__ == "__main__":
    import logging

    logging.getLogger("kazoo").setLevel(logging.ERROR)  # its reconnect chatter while servers come and go
    ap = argparse.ArgumentParser()
    ap.add_argument("--zk", default="127.0.0.1:2181")
    ap.add_argument("--calls", type=int, default=100)
    a = ap.parse_args()
    print(dict(run(a.zk, a.calls)))
