"""The whole fleet on loopback, in one command: a three-member zoopark ensemble, three "echo" services that
register themselves, and a client balancing calls across them. Midway one service is killed (SIGKILL), then
the zoopark leader: the client goes on, and no call fails.

    .venv/bin/python examples/fleet/run.py [--calls 300]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from client import run as run_client  # noqa: E402 - the example's own module

from zoopark.tools.status import four_letter as status_four_letter  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def four_letter(port: int, cmd: str) -> str:
    try:
        return status_four_letter("127.0.0.1", port, cmd, timeout=1.0)
    except OSError:
        return ""


def start_ensemble(root: Path) -> tuple[dict[int, subprocess.Popen], dict[int, int]]:
    ids = (1, 2, 3)
    client_ports = {i: free_port() for i in ids}
    peers = "".join(f"server.{i}=127.0.0.1:{free_port()}:{free_port()}\n" for i in ids)
    procs = {}
    for i in ids:
        d = root / f"zk{i}"
        (d / "data").mkdir(parents=True)
        (d / "data" / "myid").write_text(f"{i}\n")
        (d / "zoo.cfg").write_text(f"tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir={d / 'data'}\n"
                                   f"clientPort={client_ports[i]}\nclientPortAddress=127.0.0.1\n"
                                   f"4lw.commands.whitelist=*\nadmin.enableServer=false\n{peers}")
        procs[i] = subprocess.Popen([sys.executable, "-m", "zoopark", "server", str(d / "zoo.cfg"), "--log-file",
                                     str(d / "zoopark.log")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        modes = [four_letter(p, "srvr") for p in client_ports.values()]
        if sum("Mode: leader" in m for m in modes) == 1 and sum("Mode: follower" in m for m in modes) == 2:
            break
        time.sleep(0.1)
    return procs, client_ports


def main() -> int:
    import logging

    logging.getLogger("kazoo").setLevel(logging.CRITICAL)
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=300)
    args = ap.parse_args()
    services: dict[str, subprocess.Popen] = {}
    with tempfile.TemporaryDirectory(prefix="zoopark-fleet-") as tmp:
        zks, ports = start_ensemble(Path(tmp))
        zk = ",".join(f"127.0.0.1:{p}" for p in ports.values())
        print(f"ensemble up: {zk}", flush=True)
        try:
            for k in (1, 2, 3):
                services[f"echo-{k}"] = subprocess.Popen(
                    [sys.executable, str(HERE / "service.py"), "--zk", zk, "--id", f"echo-{k}", "--weight", str(k)],
                    stdout=subprocess.PIPE, text=True)
            for p in services.values():
                print(p.stdout.readline().strip(), flush=True)
            lines: list[str] = []
            result: dict = {}

            def client() -> None:
                result.update(run_client(zk, args.calls, out=lines.append))

            t = threading.Thread(target=client)
            t.start()
            for _ in range(3000):
                if len(lines) >= args.calls // 3 or not t.is_alive():
                    break
                time.sleep(0.01)
            os.kill(services["echo-2"].pid, signal.SIGKILL)
            print("killed service echo-2", flush=True)
            for _ in range(3000):
                if len(lines) >= 2 * args.calls // 3 or not t.is_alive():
                    break
                time.sleep(0.01)
            leader = next(i for i, p in ports.items() if "Mode: leader" in four_letter(p, "srvr"))
            os.kill(zks[leader].pid, signal.SIGKILL)
            print(f"killed zoopark server {leader} (the leader)", flush=True)
            t.join(300)
            print(f"answered: {dict(sorted(result.items()))}", flush=True)
            failed = result.get("failed", 0)
            print("no call failed" if failed == 0 else f"{failed} calls failed", flush=True)
            return 0 if failed == 0 and sum(result.values()) == args.calls else 1
        finally:
            for p in [*services.values(), *zks.values()]:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in [*services.values(), *zks.values()]:
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()


if __name__ == "__main__":
    sys.exit(main())
