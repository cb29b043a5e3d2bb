"""The hot path's hand-written encoders and readers (librt's native writers and readers: jute/txns.py's txn
encoding, a node's Stat, a multi's reply, the records' readers) give the bytes and records the generic jute
writers and readers give, for every shape they handle: the log, the followers and the clients see no change."""

from __future__ import annotations

import pytest

from zoopark.core.jute.constants import CONTAINER_EPHEMERAL_OWNER, EXTENDED_MASK, Err, OpCode
from zoopark.core.jute.io import JuteError, Reader, Writer
from zoopark.core.jute.records import (
    ACL,
    OPEN_ACL_UNSAFE,
    CheckVersionRequest,
    CheckVersionTxn,
    CloseSessionTxn,
    Create2Response,
    CreateRequest,
    CreateResponse,
    CreateSessionTxn,
    CreateTxn,
    DeleteTxn,
    ErrorResponse,
    ErrorTxn,
    Id,
    MultiHeader,
    MultiTxn,
    ReplyHeader,
    SetDataRequest,
    SetDataResponse,
    SetDataTxn,
    Stat,
    Txn,
    TxnHeader,
)
from zoopark.core.jute.txns import MultiParts, encode_body, encode_txn
from zoopark.core.server.core import Pending
from zoopark.core.server.replies import write_reply
from zoopark.core.server.requests import decode_multi
from zoopark.core.tree.datatree import TxnResult
from zoopark.core.tree.node import Node


def generic(*records: object) -> bytes:
    w = Writer()
    for rec in records:
        rec.write(w)  # type: ignore[attr-defined]
    return w.getvalue()


HDR = TxnHeader(0x1234_5678_9ABC, 7, 0x1_0000_0042, 1_700_000_000_123, OpCode.MULTI)
ACLS = (ACL(31, Id("digest", "u:abc=")), ACL(1, Id("world", "anyone")))
PARTS = [
    (OpCode.CHECK, CheckVersionTxn("/a", 3)),
    (OpCode.SET_DATA, SetDataTxn("/a/é", b"x" * 100, 4)),
    (OpCode.SET_DATA, SetDataTxn("/null", None, 1)),
    (OpCode.CREATE, CreateTxn("/a/b", b"", ACLS, True, 9)),
    (OpCode.CREATE, CreateTxn("/a/c", None, list(OPEN_ACL_UNSAFE), False, -1)),
    (OpCode.DELETE, DeleteTxn("/a/d")),
    (OpCode.ERROR, ErrorTxn(Err.BADVERSION)),
]


@pytest.mark.parametrize("t,rec", PARTS + [(OpCode.CREATE_SESSION, CreateSessionTxn(30_000)),
                                           (OpCode.CLOSE_SESSION, CloseSessionTxn(["/e1", "/e2"]))])
def test_each_txn_encodes_as_its_record(t, rec):
    hdr = TxnHeader(HDR.client_id, HDR.cxid, HDR.zxid, HDR.time, t)
    assert encode_txn(hdr, rec) == generic(hdr, rec)
    assert encode_body(rec) == generic(rec)


def test_a_multi_encodes_as_its_multitxn():
    multi = MultiTxn([Txn(t, generic(rec)) for t, rec in PARTS])
    assert encode_txn(HDR, MultiParts(PARTS)) == generic(HDR, multi)
    assert encode_txn(HDR, MultiParts([])) == generic(HDR, MultiTxn([]))
    assert encode_txn(HDR, None) == generic(HDR)


def test_a_nodes_stat_is_its_stat_record():
    plain = Node(b"y" * 100, OPEN_ACL_UNSAFE, 0x1_0000_0001, 1_700_000_000_000, 0)
    plain.version, plain.cversion, plain.aversion, plain.pzxid = 5, 3, 2, 0x1_0000_0009
    plain.children = {"a": None, "b": None}
    plain.mzxid, plain.mtime = 0x1_0000_0005, 1_700_000_000_500
    for owner in (0, 0x7FFF_0000_0000_0001, -5, CONTAINER_EPHEMERAL_OWNER, EXTENDED_MASK | 1000):
        for data in (b"y" * 100, b"", None):
            n = Node(data, OPEN_ACL_UNSAFE, plain.czxid, plain.ctime, owner)
            n.version, n.cversion, n.aversion, n.pzxid = plain.version, plain.cversion, plain.aversion, plain.pzxid
            n.children = plain.children
            n.mzxid, n.mtime = plain.mzxid, plain.mtime
            assert n.stat_bytes() == generic(n.stat()), (owner, data)
            assert Stat.read(Reader(n.stat_bytes())) == n.stat()


def test_a_multis_reply_is_its_multiresponse():
    stat = Node(b"z", OPEN_ACL_UNSAFE, 9, 10, 0).stat_bytes()
    subs = [
        TxnResult(OpCode.CHECK, 5, path="/a"),
        TxnResult(OpCode.SET_DATA, 5, path="/a", stat=stat),
        TxnResult(OpCode.CREATE, 5, path="/a/b", stat=stat),
        TxnResult(OpCode.CREATE2, 5, path="/a/c", stat=stat),
        TxnResult(OpCode.CREATE_CONTAINER, 5, path="/a/k", stat=stat),
        TxnResult(OpCode.DELETE, 5, path="/a/d"),
        TxnResult(OpCode.SET_DATA, 5, err=Err.BADVERSION, path="/a"),
        TxnResult(OpCode.ERROR, 5, err=Err.RUNTIMEINCONSISTENCY),
    ]
    rc = TxnResult(OpCode.MULTI, 5, err=Err.BADVERSION, multi=subs)
    body = generic(
        MultiHeader(OpCode.CHECK, False, 0),
        MultiHeader(OpCode.SET_DATA, False, 0), SetDataResponse(Stat.read(Reader(stat))),
        MultiHeader(OpCode.CREATE, False, 0), CreateResponse("/a/b"),
        MultiHeader(OpCode.CREATE2, False, 0), Create2Response("/a/c", Stat.read(Reader(stat))),
        MultiHeader(OpCode.CREATE2, False, 0), Create2Response("/a/k", Stat.read(Reader(stat))),
        MultiHeader(OpCode.DELETE, False, 0),
        MultiHeader(OpCode.ERROR, False, Err.BADVERSION), ErrorResponse(Err.BADVERSION),
        MultiHeader(OpCode.ERROR, False, Err.RUNTIMEINCONSISTENCY), ErrorResponse(Err.RUNTIMEINCONSISTENCY),
        MultiHeader(-1, True, -1),
    )
    head = generic(ReplyHeader(42, 0x1_0000_0042, 0))
    frame = write_reply(Pending(42, OpCode.MULTI, None, 1, True), rc, 0x1_0000_0042)
    assert frame == len(head + body).to_bytes(4, "big") + head + body


def test_records_read_alike_from_any_buffer_and_refuse_a_short_one():
    ops = [(OpCode.CHECK, CheckVersionRequest("/a", -1)), (OpCode.SET_DATA, SetDataRequest("/a/é", b"x" * 9, 3)),
           (OpCode.SET_DATA, SetDataRequest("/n", None, -1)), (OpCode.CREATE, CreateRequest("/c", b"", ACLS, 2))]
    w = Writer()
    for op, rec in ops:
        MultiHeader(op, False, -1).write(w)
        rec.write(w)
    MultiHeader(-1, True, -1).write(w)
    frame = b"\x00\x00\x00\x07\x00\x00\x00\x0e" + w.getvalue()
    for buf in (frame, bytearray(frame), memoryview(frame)):
        assert decode_multi(Reader(buf, 8)) == ops
    for cut in range(8, len(frame)):  # every truncation is a JuteError, never another exception
        with pytest.raises(JuteError):
            decode_multi(Reader(frame[:cut], 8))
    with pytest.raises(JuteError):  # a string that is not UTF-8
        decode_multi(Reader(frame.replace("é".encode(), b"\xff\xfe"), 8))
