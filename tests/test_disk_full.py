"""A full disk under the txn log: writes are refused with an error, reads go on, nothing acknowledged is lost,
and writes resume once there is space again. The log lives on a small tmpfs the test mounts (root, or a user
and mount namespace where the machine allows one)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import SystemErrorException

from procs import ZooParkProcess
from references import unavailable


def _mount_tmpfs(path: Path, size: str) -> bool:
    if os.geteuid() != 0:
        return False
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    return r.returncode == 0


@pytest.fixture
def small_disk():
    mnt = Path(tempfile.mkdtemp(prefix="zoopark-full-"))
    if not _mount_tmpfs(mnt, "1m"):
        shutil.rmtree(mnt, ignore_errors=True)
        unavailable("cannot mount a tmpfs here", "root")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)
        shutil.rmtree(mnt, ignore_errors=True)


def test_full_disk_refuses_writes_keeps_reads_and_recovers(small_disk: Path) -> None:
    server = ZooParkProcess(extra={"dataLogDir": str(small_disk), "preAllocSize": "16"})
    try:
        server.start()
        c = KazooClient(server.hosts, timeout=15.0)
        c.start(timeout=30)
        c.create("/full")
        acked: list[str] = []
        refused = 0
        for i in range(5000):  # 1 KiB each: the 1 MiB disk fills long before this
            try:
                acked.append(c.create(f"/full/n{i:05d}", b"x" * 1024))
            except SystemErrorException:
                refused += 1
                if refused == 3:
                    break
        assert refused == 3, "the disk never filled"
        assert len(acked) > 100
        # Reads go on, and see every acknowledged write.
        assert set(c.get_children("/full")) == {p.rsplit("/", 1)[1] for p in acked}
        assert c.get(acked[-1])[0] == b"x" * 1024
        assert "txn log write failed" in server.log_path.read_text()

        subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
        acked.append(c.create("/full/after", b"space is back"))
        c.set("/full", b"still writable")
        c.stop()
        c.close()
        server.kill()
        server.start()
        c = KazooClient(server.hosts, timeout=15.0)
        c.start(timeout=30)
        assert set(c.get_children("/full")) == {p.rsplit("/", 1)[1] for p in acked}
        assert c.get("/full")[0] == b"still writable"
        c.stop()
        c.close()
    finally:
        server.cleanup()
