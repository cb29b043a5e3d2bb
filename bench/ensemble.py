"""Three-server ensembles for the benchmarks: zoopark's and Apache ZooKeeper's, on loopback, side by side."""

from __future__ import annotations

import time

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.handlers.threading import KazooTimeoutError
from tests.procs import (
    ServerProcess,
    ZooKeeperProcess,
    ZooParkProcess,
    close_clients,
    ensemble_config,
    ensemble_ports,
    member,
    server_mode,
    wait_settled,
)


class Ensemble:
    def __init__(self, kind: str, size: int = 3) -> None:
        ids = range(1, size + 1)
        extra = {**ensemble_config(ensemble_ports(ids), tick_ms=2000), "maxClientCnxns": "0"}
        cls = ZooParkProcess if kind == "zoopark" else ZooKeeperProcess
        self.members: list[ServerProcess] = [member(cls, i, extra) for i in ids]

    def start(self, timeout: float = 120.0) -> Ensemble:
        for p in self.members:
            p.start(wait=False)
        wait_settled(self.members, timeout)
        return self

    def leader(self) -> ServerProcess:
        return next(p for p in self.members if server_mode(p.port) == "leader")

    def stop(self) -> None:
        for p in self.members:
            p.cleanup()


def failover_seconds(ens: Ensemble, deadline_s: float = 120.0) -> float:
    """SIGKILL the leader, then write through a surviving member until a write is acknowledged: the time
    from the kill to that acknowledgement."""
    leader = ens.leader()
    other = next(p for p in ens.members if p is not leader)
    c = KazooClient(other.hosts, timeout=10.0, connection_retry={"max_tries": -1, "delay": 0.05, "max_delay": 0.2})
    c.start(timeout=30)
    c.ensure_path("/failover")
    t0 = time.monotonic()
    leader.kill()
    try:
        while time.monotonic() - t0 < deadline_s:
            try:
                c.create_async("/failover/w-", b"x", sequence=True).get(timeout=2.0)
                return time.monotonic() - t0
            except (KazooException, KazooTimeoutError):
                time.sleep(0.02)
        return float("nan")
    finally:
        close_clients([c])
