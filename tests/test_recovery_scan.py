"""Start-up reads the newest txn log file once: the scan that finds (and zeroes) a torn tail also hands its
entries to the replay. What is replayed must be exactly what a fresh scan of the truncated file finds."""

from __future__ import annotations

from pathlib import Path

import pytest

from zoopark.core.jute.constants import OpCode
from zoopark.core.jute.records import OPEN_ACL_UNSAFE, CreateTxn, TxnHeader
from zoopark.core.jute.txns import encode_txn
from zoopark.core.server.core import replay_txn
from zoopark.core.tree import snapshot as snap
from zoopark.core.tree.datatree import DataTree
from zoopark.persist import recovery, snapfiles, txnlog


def create(zxid: int) -> bytes:
    return encode_txn(TxnHeader(0, zxid, zxid, 1_700_000_000_000 + zxid, OpCode.CREATE),
                      CreateTxn(f"/n{zxid}", b"v%d" % zxid, OPEN_ACL_UNSAFE, False, -1))


def make_data_dir(d: Path, torn: bool) -> None:
    """A snapshot at zxid 3, then txns 4-9 in one file and 10-20 in the next (the newest), torn or not."""
    tree = DataTree()
    for z in range(1, 4):
        tree.create_node(f"/n{z}", b"v%d" % z, OPEN_ACL_UNSAFE, 0, -1, z, 1_700_000_000_000 + z, [])
    tree.last_zxid = 3
    snapfiles.write_snapshot(d, 3, snap.serialize(tree, {}, None), fsync=False)
    for first, last in ((4, 9), (10, 20)):
        log = txnlog.TxnLog(d, prealloc_bytes=4096, force_sync=False)
        for z in range(first, last + 1):
            log.append(z, create(z))
        log.close()
    if torn:
        newest = d / txnlog.log_name(10)
        entries, _ = txnlog.scan_file(newest)
        end = entries[-1][0] + 12 + len(entries[-1][1]) + 1
        with open(newest, "r+b") as f:
            f.seek(end)
            f.write(txnlog.marshal_entry(create(21))[:20])  # a write cut short: never acknowledged


@pytest.mark.parametrize("torn", [False, True])
def test_the_newest_log_is_scanned_once_and_replays_exactly_what_it_holds(tmp_path, monkeypatch, torn) -> None:
    make_data_dir(tmp_path, torn)
    scans: list[str] = []
    real_scan = txnlog.scan_file

    def counting(path: Path):
        scans.append(path.name)
        return real_scan(path)
    monkeypatch.setattr(txnlog, "scan_file", counting)
    rec = recovery.recover(tmp_path, tmp_path, lambda tree, sessions, e: replay_txn(tree, sessions, e.hdr, e.record))
    assert scans.count(txnlog.log_name(10)) == 1
    assert rec.replayed == 17 and rec.last_zxid == 20
    assert sorted(p for p in rec.tree.nodes if p.startswith("/n")) == sorted(f"/n{z}" for z in range(1, 21))
    assert rec.tree.get("/n20").data == b"v20"
    assert any("torn" in w or "partial" in w or "runs past" in w for w in rec.warnings) == torn
    # What a fresh scan of the file now finds: the entries up to the tear, and no tear left.
    entries, tail = real_scan(tmp_path / txnlog.log_name(10))
    assert [txnlog.decode_entry(tmp_path, o, e).zxid for o, e in entries] == list(range(10, 21)) and tail is None
