"""The snapshot codec: round trips of random trees, and damaged streams rejected with their offset."""

from __future__ import annotations

import platform
import random
import sys
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zoopark.core.jute.constants import CONTAINER_EPHEMERAL_OWNER, OpCode
from zoopark.core.jute.records import (
    ACL,
    OPEN_ACL_UNSAFE,
    CreateContainerTxn,
    CreateTTLTxn,
    CreateTxn,
    DeleteTxn,
    Id,
    SetACLTxn,
    SetDataTxn,
    TxnHeader,
)
from zoopark.core.server import reaper
from zoopark.core.tree import snapshot as snap
from zoopark.core.tree.datatree import DataTree
from zoopark.core.tree.tables import LARGE, keep_hashes

ACLS = [OPEN_ACL_UNSAFE, (ACL(31, Id("digest", "bob:X/abc=")),), (ACL(1, Id("world", "anyone")),
        ACL(31, Id("ip", "127.0.0.1")))]


def random_tree(seed: int, ops: int = 400) -> tuple[DataTree, dict[int, int]]:
    rng = random.Random(seed)
    tree = DataTree(extended_types=True, track_digest=True)
    paths = ["/"]
    sessions = {0x1000 + i: rng.choice([4000, 30000]) for i in range(rng.randrange(0, 4))}
    for zxid in range(1, ops + 1):
        now = 1_700_000_000_000 + zxid
        kind = rng.random()
        if kind < 0.55 or len(paths) == 1:
            parent = rng.choice([p for p in paths if tree.get(p) is not None and not tree.get(p).owner] or ["/"])
            path = (parent.rstrip("/") + "/" + rng.choice(["a", "b", "node", "é", "x" * 30]) + str(zxid))
            data = bytes(rng.randrange(256) for _ in range(rng.choice([0, 5, 100])))
            acl = rng.choice(ACLS)
            r = rng.random()
            if r < 0.15 and sessions:
                sid = rng.choice(list(sessions))
                hdr, txn = TxnHeader(sid, zxid, zxid, now, OpCode.CREATE), CreateTxn(path, data, acl, True, -1)
            elif r < 0.22:
                hdr, txn = TxnHeader(0, zxid, zxid, now, OpCode.CREATE_CONTAINER), CreateContainerTxn(
                    path, data, acl, -1)
            elif r < 0.28:
                hdr, txn = TxnHeader(0, zxid, zxid, now, OpCode.CREATE_TTL), CreateTTLTxn(path, data, acl, -1, 5000)
            else:
                hdr, txn = TxnHeader(0, zxid, zxid, now, OpCode.CREATE), CreateTxn(path, data, acl, False, -1)
            if tree.apply(hdr, txn).err == 0:
                paths.append(path)
        elif kind < 0.75:
            path = rng.choice(paths[1:])
            tree.apply(TxnHeader(0, zxid, zxid, now, OpCode.SET_DATA), SetDataTxn(path, b"v%d" % zxid, zxid))
        elif kind < 0.85:
            path = rng.choice(paths[1:])
            tree.apply(TxnHeader(0, zxid, zxid, now, OpCode.SET_ACL), SetACLTxn(path, rng.choice(ACLS), 3))
        else:
            path = rng.choice(paths[1:])
            node = tree.get(path)
            if node is not None and not node.children:
                tree.apply(TxnHeader(0, zxid, zxid, now, OpCode.DELETE), DeleteTxn(path))
                paths.remove(path)
    return tree, sessions


def roundtrip(tree: DataTree, sessions: dict[int, int]) -> tuple[bytes, snap.Snapshot]:
    data = b"".join(snap.serialize(tree, sessions, (tree.last_zxid, tree.digest)))
    return data, snap.deserialize(data, extended_types=True, track_digest=True)


@pytest.mark.parametrize("seed", range(12))
def test_random_trees_round_trip(seed: int) -> None:
    tree, sessions = random_tree(seed)
    _, got = roundtrip(tree, sessions)
    t2 = got.tree
    assert got.sessions == sessions
    assert got.zxid_digest == (tree.last_zxid, 2, tree.digest)
    assert list(t2.nodes) == list(tree.nodes)
    for path, node in tree.nodes.items():
        other = t2.nodes[path]
        assert (other.data, other.acl, other.stat_bytes()) == (node.data, node.acl, node.stat_bytes()), path
        assert sorted(t2.children(path)) == sorted(tree.children(path)), path
    assert t2.ephemerals == tree.ephemerals
    assert t2.containers == tree.containers and t2.ttls == tree.ttls
    assert t2.digest == tree.digest == t2.recompute_digest()
    assert t2.approximate_data_size == tree.approximate_data_size


def test_containers_and_ephemerals_are_indexed_after_load() -> None:
    tree, sessions = random_tree(3, ops=600)
    _, got = roundtrip(tree, sessions)
    owners = {n.owner for n in got.tree.nodes.values()}
    assert CONTAINER_EPHEMERAL_OWNER in owners or not tree.containers


def test_every_single_byte_flip_is_detected() -> None:
    tree, sessions = random_tree(5, ops=60)
    data, _ = roundtrip(tree, sessions)
    rng = random.Random(1)
    for pos in sorted(rng.sample(range(len(data)), 200)):
        bad = bytearray(data)
        bad[pos] ^= 1 << rng.randrange(8)
        with pytest.raises(snap.SnapshotError):
            snap.deserialize(bytes(bad))


def test_truncated_snapshot_is_rejected_not_half_loaded() -> None:
    tree, sessions = random_tree(6, ops=100)
    data, _ = roundtrip(tree, sessions)
    for cut in (10, len(data) // 2, len(data) - 1):
        with pytest.raises(snap.SnapshotError):
            snap.deserialize(data[:cut])


def test_snapshot_without_digest_section_reads() -> None:
    tree, sessions = random_tree(7, ops=50)
    data = b"".join(snap.serialize(tree, sessions, None))
    got = snap.deserialize(data)
    assert got.zxid_digest is None and len(got.tree.nodes) == len(tree.nodes)


def test_a_parent_past_large_loads_exactly_and_takes_writes() -> None:
    """Past LARGE entries the loader switches the path map and a parent's children to tables that keep their
    keys' hashes: the tree must load exactly as saved (order as ZooKeeper lists it included) and go on taking
    creates, deletes and lookups by equal (not identical) strings."""
    tree = DataTree(track_digest=True)
    n = LARGE + 100
    zxid = 1
    tree.apply(TxnHeader(0, 1, zxid, 1_700_000_000_000, OpCode.CREATE), CreateTxn("/big", b"", OPEN_ACL_UNSAFE,
                                                                                   False, -1))
    for i in range(n):
        zxid += 1
        txn = CreateTxn(f"/big/n{i}", b"d%d" % i, OPEN_ACL_UNSAFE, False, -1)
        assert tree.apply(TxnHeader(0, zxid, zxid, 1_700_000_000_000 + i, OpCode.CREATE), txn).err == 0
    data, got = roundtrip(tree, {})
    t2 = got.tree
    assert list(t2.nodes) == list(tree.nodes)
    assert t2.children("/big") == tree.children("/big")  # ZooKeeper's listing order, not only the set
    assert t2.get("/big").stat_bytes() == tree.get("/big").stat_bytes()
    assert t2.digest == tree.digest and t2.approximate_data_size == tree.approximate_data_size
    assert b"".join(snap.serialize(t2, {}, (tree.last_zxid, t2.digest))) == data  # byte for byte
    for t in (tree, t2):
        zxid2 = zxid + 1
        assert t.apply(TxnHeader(0, zxid2, zxid2, 1, OpCode.CREATE),
                       CreateTxn("/big/new", b"", OPEN_ACL_UNSAFE, False, -1)).err == 0
        assert t.apply(TxnHeader(0, zxid2 + 1, zxid2 + 1, 1, OpCode.DELETE), DeleteTxn("/big/n7")).err == 0
        assert t.apply(TxnHeader(0, zxid2 + 2, zxid2 + 2, 1, OpCode.CREATE),
                       CreateTxn("/big/n9", b"", OPEN_ACL_UNSAFE, False, -1)).err != 0  # exists
        assert t.get("/big/" + "n%d" % (n - 1)).data == b"d%d" % (n - 1)  # an equal string, built anew
        assert t.get("/big/n7") is None
    assert t2.children("/big") == tree.children("/big") and t2.digest == tree.digest
    assert list(t2.nodes) == list(tree.nodes)


def test_a_loaded_parent_answers_for_its_children() -> None:
    """A loaded snapshot's children tables are built after its nodes are read (one run per parent): a
    parent's Stat, the container reaper, a create of a name that exists and a listing see the children it
    has, and the tables are all there before anything is served (nothing is left to build on a request)."""
    tree = DataTree()
    t0 = 1_700_000_000_000

    def apply(t: DataTree, zxid: int, op: OpCode, txn) -> int:
        return t.apply(TxnHeader(0, zxid, zxid, t0 + zxid, op), txn).err

    apply(tree, 1, OpCode.CREATE_CONTAINER, CreateContainerTxn("/c", b"", OPEN_ACL_UNSAFE, -1))
    apply(tree, 2, OpCode.CREATE, CreateTxn("/p", b"", OPEN_ACL_UNSAFE, False, -1))
    for i in range(20):
        apply(tree, 3 + 2 * i, OpCode.CREATE, CreateTxn(f"/c/k{i}", b"", OPEN_ACL_UNSAFE, False, -1))
        apply(tree, 4 + 2 * i, OpCode.CREATE, CreateTxn(f"/p/é{i}", b"", OPEN_ACL_UNSAFE, False, -1))
    _, got = roundtrip(tree, {})
    t2 = got.tree
    c, p = t2.get("/c"), t2.get("/p")
    assert c.children is not None and p.children is not None and len(p.children) == 20  # built by loading
    assert c.stat_bytes() == tree.get("/c").stat_bytes() and p.num_children == 20
    assert reaper.candidates(t2, t0 + 10**9, 10) == []  # a container with children is never reaped
    assert apply(t2, 100, OpCode.CREATE, CreateTxn("/p/é3", b"", OPEN_ACL_UNSAFE, False, -1)) != 0  # exists
    assert t2.children("/p") == tree.children("/p")
    assert t2.children("/c") == tree.children("/c")
    for i in range(20):
        assert apply(t2, 200 + i, OpCode.DELETE, DeleteTxn(f"/c/k{i}")) == 0
    assert reaper.candidates(t2, t0 + 10**9, 10) == ["/c"]  # emptied now: due


def test_a_path_written_twice_counts_once_among_its_parents_children() -> None:
    """ZooKeeper's map keeps the later of two nodes with one path; the parent must list the name once."""
    tree = DataTree()
    tree.apply(TxnHeader(0, 1, 1, 1, OpCode.CREATE), CreateTxn("/a", b"", OPEN_ACL_UNSAFE, False, -1))
    tree.apply(TxnHeader(0, 2, 2, 2, OpCode.CREATE), CreateTxn("/a/x", b"1", OPEN_ACL_UNSAFE, False, -1))
    data = b"".join(snap.serialize(tree, {}, None))
    one = data.index(b"\x00\x00\x00\x04/a/x")
    end = data.index(b"\x00\x00\x00\x01/", one)  # the end-of-tree marker: the node /a/x ends here
    body = data[:end] + data[one:end] + data[end:]  # /a/x written twice
    body = body[:len(body) - 13]  # the seal: recomputed below
    sealed = body + zlib.adler32(body).to_bytes(8, "big") + b"\x00\x00\x00\x01/"
    t2 = snap.deserialize(sealed).tree
    assert t2.get("/a").num_children == 1 and t2.children("/a") == ["x"]
    assert t2.get("/a").stat_bytes() == tree.get("/a").stat_bytes()


def test_keep_hashes_changes_nothing_a_reader_sees() -> None:
    table = {f"/k{i}": i for i in range(1000)}
    before = list(table.items())
    plain = dict(table)
    keep_hashes(table)
    assert list(table.items()) == before
    for i in range(1000, 3000):
        table[f"/k{i}"] = plain[f"/k{i}"] = i
    del table["/k5"], plain["/k5"]
    assert list(table.items()) == list(plain.items())
    assert all(table.get("/k%d" % i) == i for i in range(6, 3000)) and "/k5" not in table
    if platform.python_implementation() == "CPython" and sys.version_info >= (3, 11):
        # Each entry now holds a hash too (8 bytes more): the switch did happen.
        assert sys.getsizeof(table) >= sys.getsizeof(plain) + 8 * len(plain)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_garbage_raises_only_snapshot_error(blob: bytes) -> None:
    with pytest.raises(snap.SnapshotError):
        snap.deserialize(b"ZKSN\x00\x00\x00\x02" + blob)
