"""Real server processes for tests: Apache ZooKeeper 3.8 (Debian's package) and zoopark, on loopback.

Each runs in its own temporary directory on a free port; start waits until `srvr` shows it serving;
stop is SIGTERM then SIGKILL, by PID.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from references import JAVA_DIR, ZK_JARS


def zk_classpath() -> str:
    return ":".join(str(JAVA_DIR / j) for j in ZK_JARS if (JAVA_DIR / j).exists())


_handed_out: set[int] = set()


def _port_slice() -> range:
    """The ports this test process may hand out: below the kernel's ephemeral range (a port from that range,
    free now, can become the source port of any outgoing connection before the member binds it: a leader's
    quorum port is bound only while it leads, and a proxy's connection once took it for minutes), one slice
    per pytest-xdist worker so that two workers never hand out the same port."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    low = max(low, 12000)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    span = (low - 10000) // max(count, 1)
    return range(10000 + index * span, 10000 + (index + 1) * span)


def free_port() -> int:
    """A loopback port nobody listens on or is connected from, outside the ephemeral range, and not one this
    process handed out before (two members of one ensemble would then share it)."""
    ports = _port_slice()
    rng = random.Random()
    for _ in range(1000):
        port = rng.choice(ports)
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free loopback port")


def four_letter(port: int, cmd: str, host: str = "127.0.0.1", timeout: float = 5.0) -> str:
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(cmd.encode())
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    return b"".join(chunks).decode()


class ServerProcess:
    kind = "?"

    def __init__(self, extra: dict[str, str] | None = None, data_dir: Path | None = None, port: int | None = None):
        self.tmp = Path(tempfile.mkdtemp(prefix=f"{self.kind}-"))
        self.data_dir = data_dir or self.tmp / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.extra = dict(extra or {})
        self.proc: subprocess.Popen | None = None
        self.log_path = self.tmp / "server.log"

    @property
    def hosts(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def config_text(self) -> str:
        lines = {
            "tickTime": "2000",
            "dataDir": str(self.data_dir),
            "clientPort": str(self.port),
            "clientPortAddress": "127.0.0.1",
            "4lw.commands.whitelist": "*",
            "admin.enableServer": "false",
            "maxClientCnxns": "0",
        }
        lines.update(self.extra)
        return "".join(f"{k}={v}\n" for k, v in lines.items() if v is not None)  # extra's None: no such line

    def command(self, cfg: Path) -> list[str]:
        raise NotImplementedError

    def start(self, timeout: float = 60.0, wait: bool = True, keep_config: bool = False) -> ServerProcess:
        """`keep_config`: start from zoo.cfg as the last run left it (a reconfig rewrites it)."""
        # A second start would orphan the running process (and pass: the old one answers on the port).
        assert self.proc is None or self.proc.poll() is not None, f"{self.kind} is already running"
        cfg = self.tmp / "zoo.cfg"
        if not keep_config:
            cfg.write_text(self.config_text())
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(cfg), stdout=log, stderr=subprocess.STDOUT, cwd=self.tmp,
                                     start_new_session=True)
        log.close()
        if wait:
            self.wait_serving(timeout)
        return self

    def wait_serving(self, timeout: float = 60.0) -> ServerProcess:
        """Until srvr shows a Mode (the server serves); a process that exits meanwhile fails at once."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                # ZooKeeper says imok before it serves; srvr shows a Mode only once it does.
                if "Mode:" in four_letter(self.port, "srvr", timeout=1.0):
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"{self.kind} did not answer ruok within {timeout}s:\n{self.log_tail()}")

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


class ZooKeeperProcess(ServerProcess):
    kind = "zookeeper"

    def __init__(self, *a, jvm_props: dict[str, str] | None = None, **kw) -> None:
        super().__init__(*a, **kw)
        self.jvm_props = dict(jvm_props or {})

    def command(self, cfg: Path) -> list[str]:
        props = {"zookeeper.admin.enableServer": "false", "org.slf4j.simpleLogger.defaultLogLevel": "warn"}
        props.update(self.jvm_props)
        return ["java", "-Xmx512m", *(f"-D{k}={v}" for k, v in props.items()), "-cp", zk_classpath(),
                "org.apache.zookeeper.server.quorum.QuorumPeerMain", str(cfg)]  # as zkServer.sh


class ZooParkProcess(ServerProcess):
    kind = "zoopark"

    def command(self, cfg: Path) -> list[str]:
        return [sys.executable, "-m", "zoopark", "server", str(cfg), "--log-level", "info"]


# ---- ensembles ---------------------------------------------------------------------------------------


def mntr(port: int) -> dict[str, str]:
    """The mntr four-letter word's rows."""
    return dict(line.split("\t", 1) for line in four_letter(port, "mntr").splitlines() if "\t" in line)


def server_mode(port: int) -> str:
    """srvr's Mode (leader, follower, observer, standalone), or "" while the server does not serve."""
    try:
        for line in four_letter(port, "srvr", timeout=1.0).splitlines():
            if line.startswith("Mode:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def ensemble_config(ports: dict[int, tuple[int, int]], tick_ms: int = 500, observers=()) -> dict[str, str]:
    """zoo.cfg lines of an ensemble on loopback: `ports` maps each id to its (quorum, election) port; the ids
    in `observers` are observers."""
    extra = {"tickTime": str(tick_ms), "initLimit": "10", "syncLimit": "5"}
    extra.update({f"server.{i}": f"127.0.0.1:{qp}:{ep}" + (":observer" if i in observers else "")
                  for i, (qp, ep) in ports.items()})
    return extra


def ensemble_ports(ids) -> dict[int, tuple[int, int]]:
    return {i: (free_port(), free_port()) for i in ids}


def member(cls: type[ServerProcess], my_id: int, extra: dict[str, str], **kw) -> ServerProcess:
    """A server of an ensemble: its config and its myid (not started)."""
    p = cls(extra=extra, **kw)
    (p.data_dir / "myid").write_text(f"{my_id}\n")
    return p


def wait_settled(members: list[ServerProcess], timeout: float = 60.0) -> dict[str, list[ServerProcess]]:
    """Until exactly one member leads and every other one follows or observes;
    {"leader": [..], "follower": [..], "observer": [..]}."""
    deadline = time.monotonic() + timeout
    modes: dict[ServerProcess, str] = {}
    roles = ("leader", "follower", "observer")
    while time.monotonic() < deadline:
        modes = {p: server_mode(p.port) for p in members}
        if list(modes.values()).count("leader") == 1 and all(m in roles for m in modes.values()):
            return {r: [p for p, m in modes.items() if m == r] for r in roles}
        time.sleep(0.05)
    raise AssertionError(f"no settled ensemble: {list(modes.values())}\n" +
                         "\n---\n".join(p.log_tail(30) for p in members))


def wait_mode(p: ServerProcess, mode: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server_mode(p.port) == mode:
            return
        time.sleep(0.1)
    raise AssertionError(f"{p.kind} on {p.port} never became {mode}:\n{p.log_tail()}")


def close_clients(clients) -> None:
    """Stop and close kazoo clients at a test's end, whatever state their servers are in."""
    from kazoo.exceptions import KazooException

    for c in clients:
        try:
            c.stop()
            c.close()
        except KazooException:
            pass


def znode_tree(client, path: str = "/") -> dict[str, tuple]:
    """Every znode under `path` (but /zookeeper) with its data and the Stat fields every server must agree
    on: {path: (data, czxid, mzxid, version, cversion, numChildren)}."""
    data, st = client.get(path)
    out = {path: (data, st.czxid, st.mzxid, st.version, st.cversion, st.numChildren)}
    for child in sorted(client.get_children(path)):
        if path == "/" and child == "zookeeper":
            continue
        out.update(znode_tree(client, path.rstrip("/") + "/" + child))
    return out


def wait_until(what: str, fn, timeout: float = 60.0):
    """fn()'s first true value, polled every 50 ms; fails naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"never: {what}")
