"""Start-up recovery on real processes: torn tails, bit flips, missing files, damaged snapshots, purge."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from kazoo.client import KazooClient

from zoopark.persist import snapfiles, txnlog

from procs import ZooParkProcess


def write_nodes(server: ZooParkProcess, prefix: str, n: int) -> None:
    c = KazooClient(server.hosts, timeout=15.0)
    c.start(timeout=30)
    c.ensure_path("/r")
    for i in range(n):
        c.create(f"/r/{prefix}{i}", b"%d" % i)
    c.stop()
    c.close()


def write_until_snapshots(server: ZooParkProcess, count: int) -> int:
    """Write nodes until the server has taken `count` snapshots (bounded); returns how many were written."""
    c = KazooClient(server.hosts, timeout=15.0)
    c.start(timeout=30)
    c.ensure_path("/r")
    n = 0
    for n in range(1, 5001):
        c.create(f"/r/a{n - 1}", b"%d" % n)
        if n % 20 == 0 and len(snapfiles.snapshot_files(v2(server))) >= count:
            break
    c.stop()
    c.close()
    assert len(snapfiles.snapshot_files(v2(server))) >= count
    return n


def children(server: ZooParkProcess) -> set[str]:
    c = KazooClient(server.hosts, timeout=15.0)
    c.start(timeout=30)
    try:
        return set(c.get_children("/r"))
    finally:
        c.stop()
        c.close()


def v2(server: ZooParkProcess) -> Path:
    return server.data_dir / "version-2"


def logs_with_entries(server: ZooParkProcess) -> list[tuple[Path, list[tuple[int, bytes]]]]:
    out = []
    for _, path in txnlog.log_files(v2(server)):
        entries, _ = txnlog.scan_file(path)
        if entries:
            out.append((path, entries))
    return out


def refuses_to_start(server: ZooParkProcess) -> str:
    with pytest.raises(RuntimeError) as info:
        server.start(timeout=30)
    assert server.proc is not None and server.proc.returncode == 3
    return str(info.value)


@pytest.fixture
def server():
    s = ZooParkProcess()
    yield s
    s.cleanup()


def test_torn_tail_is_truncated_and_acknowledged_writes_survive(server: ZooParkProcess) -> None:
    server.start()
    write_nodes(server, "a", 50)
    server.kill()
    path, entries = logs_with_entries(server)[-1]
    offset, entry = entries[-1]
    end = offset + 12 + len(entry) + 1
    with open(path, "r+b") as f:  # half of an entry: what a crash in the middle of a write leaves
        f.seek(end)
        f.write(txnlog.marshal_entry(entry)[: len(entry) // 2])
    server.start()
    assert children(server) == {f"a{i}" for i in range(50)}
    assert "truncated the torn tail" in server.log_path.read_text()
    write_nodes(server, "b", 5)  # and it goes on writing
    server.stop()
    server.start()
    assert len(children(server)) == 55


def test_bit_flip_before_the_tail_stops_start_up_naming_file_and_offset(server: ZooParkProcess) -> None:
    server.start()
    write_nodes(server, "a", 50)
    server.stop()
    path, entries = logs_with_entries(server)[-1]
    offset, entry = entries[len(entries) // 2]
    with open(path, "r+b") as f:
        f.seek(offset + 12 + len(entry) // 2)
        b = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([b[0] ^ 0x10]))
    message = refuses_to_start(server)
    assert path.name in message and f"offset {offset}" in message and "checksum" in message


def test_missing_log_file_is_a_gap_not_silent_loss(server: ZooParkProcess) -> None:
    server.extra["snapCount"] = "20"  # each snapshot rolls the log: many files
    server.start()
    write_until_snapshots(server, 4)
    server.stop()
    for _, p in snapfiles.snapshot_files(v2(server))[:-1]:  # only snapshot.0 left: every log is needed
        p.unlink()
    logs = logs_with_entries(server)
    assert len(logs) >= 3
    logs[1][0].unlink()
    message = refuses_to_start(server)
    assert "missing" in message and "Restore" in message and logs[2][0].name in message


def test_logs_without_a_snapshot_refuse_unless_trusted(server: ZooParkProcess) -> None:
    server.start()
    write_nodes(server, "a", 20)
    server.stop()
    for _, p in snapfiles.snapshot_files(v2(server)):
        p.unlink()
    message = refuses_to_start(server)
    assert "no snapshot" in message and "snapshot.trust.empty" in message
    server.extra["snapshot.trust.empty"] = "true"
    server.start()
    assert children(server) == {f"a{i}" for i in range(20)}


def test_damaged_newest_snapshot_falls_back_to_an_older_one(server: ZooParkProcess) -> None:
    server.extra["snapCount"] = "20"
    server.start()
    n = write_until_snapshots(server, 3)
    server.stop()
    snaps = snapfiles.snapshot_files(v2(server))
    newest = snaps[0][1]
    data = bytearray(newest.read_bytes())
    data[len(data) // 2] ^= 0xFF
    newest.write_bytes(bytes(data))
    server.start()
    assert children(server) == {f"a{i}" for i in range(n)}
    assert "trying an older one" in server.log_path.read_text()


def test_purge_keeps_what_recovery_needs(server: ZooParkProcess) -> None:
    server.extra["snapCount"] = "20"
    server.start()
    n = write_until_snapshots(server, 5)
    server.stop()
    out = subprocess.run([sys.executable, "-m", "zoopark", "purge", str(server.data_dir), "-n", "3"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert len(snapfiles.snapshot_files(v2(server))) == 3
    assert "removed" in out.stdout
    server.start()
    assert children(server) == {f"a{i}" for i in range(n)}


def test_purge_refuses_to_keep_fewer_than_three(server: ZooParkProcess) -> None:
    out = subprocess.run([sys.executable, "-m", "zoopark", "purge", str(server.data_dir), "-n", "2"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "at least 3" in out.stderr
