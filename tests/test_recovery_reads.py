"""What start-up reads, in-process: which log files recovery opens, the snapshot loader's bookkeeping, and
the ACL interning the log replay leans on."""

from __future__ import annotations

from pathlib import Path

from zoopark.core.jute.constants import OpCode
from zoopark.core.jute.records import ACL, OPEN_ACL_UNSAFE, CreateTxn, Id, TxnHeader
from zoopark.core.tree import javaorder
from zoopark.core.tree import snapshot as snap
from zoopark.core.tree.datatree import DataTree
from zoopark.persist import txnlog

BOB = (ACL(31, Id("digest", "bob:X/abc=")),)


def test_the_log_before_the_one_starting_after_the_snapshot_is_not_read(tmp_path: Path) -> None:
    for first in (0x1, 0x65, 0xC9):
        (tmp_path / txnlog.log_name(first)).write_bytes(b"")
    names = lambda zxid: [p.name for p in txnlog.files_from(tmp_path, zxid)]  # noqa: E731
    # A snapshot at 0x64 (the server rolled its log there): every txn after it is in log.65 and later.
    assert names(0x64) == ["log.65", "log.c9"]
    # A snapshot inside a file's range: that file holds txns after it.
    assert names(0x63) == ["log.1", "log.65", "log.c9"]
    assert names(0x80) == ["log.65", "log.c9"]
    assert names(0) == ["log.1", "log.65", "log.c9"]


def test_a_node_written_twice_in_a_snapshot_counts_once() -> None:
    tree = DataTree()
    tree.apply(TxnHeader(0, 1, 1, 5, OpCode.CREATE), CreateTxn("/a", b"xyz", OPEN_ACL_UNSAFE, False, -1))
    data = b"".join(snap.serialize(tree, {}, None))
    record = b"".join(snap.body_chunks(tree, {}))  # locate /a's record: path, data, acl key and stat
    path_at = record.index(b"\x00\x00\x00\x02/a")
    one = record[path_at : path_at + 4 + 2 + 4 + 3 + 8 + 60]
    body = snap.deserialize_body(record[:path_at] + one + one + record[path_at + len(one):])
    assert body.tree.approximate_data_size == tree.approximate_data_size
    assert list(body.tree.nodes) == list(tree.nodes)
    assert body.tree.children("/") == tree.children("/")
    assert snap.deserialize(data).tree.approximate_data_size == tree.approximate_data_size


def test_wide_parents_get_their_grown_tables_after_a_load() -> None:
    tree = DataTree()
    tree.apply(TxnHeader(0, 1, 1, 5, OpCode.CREATE), CreateTxn("/w", b"", OPEN_ACL_UNSAFE, False, -1))
    for i in range(40):
        tree.apply(TxnHeader(0, 2 + i, 2 + i, 5, OpCode.CREATE), CreateTxn(f"/w/c{i}", b"", BOB, False, -1))
    loaded = snap.deserialize(b"".join(snap.serialize(tree, {}, None))).tree
    assert loaded._child_capacity == {"/w": javaorder.grown_capacity(40, javaorder.INITIAL_CAPACITY)}
    assert loaded.children("/w") == tree.children("/w")


def test_interning_recognises_a_tuple_it_saw_but_never_a_list() -> None:
    tree = DataTree()
    decoded = (ACL(31, Id("digest", "bob:X/abc=")),)  # equal to BOB, another tuple (as the decoder hands out)
    first = tree.intern_acl(BOB)
    assert tree.intern_acl(decoded) is first and tree.intern_acl(decoded) is first
    acl = [ACL(1, Id("world", "anyone"))]
    got = tree.intern_acl(acl)
    acl[0] = ACL(31, Id("world", "anyone"))  # a list can change after it was interned
    again = tree.intern_acl(acl)
    assert got == (ACL(1, Id("world", "anyone")),) and again == (ACL(31, Id("world", "anyone")),)
