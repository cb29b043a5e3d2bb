"""Three-server ensembles for the benchmarks: zoopark's and Apache ZooKeeper's, on loopback, side by side."""

from __future__ import annotations

import time

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.handlers.threading import KazooTimeoutError
from tests.procs import ServerProcess, ZooKeeperProcess, ZooParkProcess, four_letter, free_port


class Ensemble:
    def __init__(self, kind: str, size: int = 3) -> None:
        q = {i: free_port() for i in range(1, size + 1)}
        e = {i: free_port() for i in range(1, size + 1)}
        extra = {"tickTime": "2000", "initLimit": "10", "syncLimit": "5", "maxClientCnxns": "0"}
        extra.update({f"server.{i}": f"127.0.0.1:{q[i]}:{e[i]}" for i in q})
        cls = ZooParkProcess if kind == "zoopark" else ZooKeeperProcess
        self.members: list[ServerProcess] = []
        for i in q:
            p = cls(extra=extra)
            (p.data_dir / "myid").write_text(f"{i}\n")
            self.members.append(p)

    def start(self, timeout: float = 120.0) -> Ensemble:
        for p in self.members:
            p.start(wait=False)
        self.wait_settled(self.members, timeout)
        return self

    @staticmethod
    def mode(p: ServerProcess) -> str:
        try:
            for line in four_letter(p.port, "srvr", timeout=1.0).splitlines():
                if line.startswith("Mode:"):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return ""

    def wait_settled(self, members: list[ServerProcess], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            modes = [self.mode(p) for p in members]
            if modes.count("leader") == 1 and all(m in ("leader", "follower") for m in modes):
                return
            time.sleep(0.05)
        raise RuntimeError(f"ensemble did not settle: {modes}")

    def leader(self) -> ServerProcess:
        return next(p for p in self.members if self.mode(p) == "leader")

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
        try:
            c.stop()
            c.close()
        except KazooException:
            pass
