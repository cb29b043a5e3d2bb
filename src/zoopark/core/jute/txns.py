"""Transaction records by type: what a txn header's `type` says its body is (ZooKeeper's SerializeUtils)."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import final

from .constants import OpCode
from .io import INT as _INT
from .io import JuteError, Reader, RecordType, Writer, encode_buffer, encode_string
from .records import (
    ACL,
    CheckVersionTxn,
    CloseSessionTxn,
    CreateContainerTxn,
    CreateSessionTxn,
    CreateTTLTxn,
    CreateTxn,
    CreateTxnV0,
    DeleteTxn,
    ErrorTxn,
    MultiTxn,
    SetACLTxn,
    SetDataTxn,
    Txn,
    TxnHeader,
)

TXN_RECORDS: dict[int, RecordType] = {
    OpCode.CREATE: CreateTxn,
    OpCode.CREATE2: CreateTxn,
    OpCode.CREATE_TTL: CreateTTLTxn,
    OpCode.CREATE_CONTAINER: CreateContainerTxn,
    OpCode.DELETE: DeleteTxn,
    OpCode.DELETE_CONTAINER: DeleteTxn,
    OpCode.SET_DATA: SetDataTxn,
    OpCode.RECONFIG: SetDataTxn,
    OpCode.SET_ACL: SetACLTxn,
    OpCode.CREATE_SESSION: CreateSessionTxn,
    OpCode.CLOSE_SESSION: CloseSessionTxn,
    OpCode.ERROR: ErrorTxn,
    OpCode.CHECK: CheckVersionTxn,
    OpCode.MULTI: MultiTxn,
}


def decode_txn(type_: int, body: bytes) -> object | None:
    """The record of a txn body; None for a body ZooKeeper allows to be empty (closeSession before 3.6)."""
    cls = TXN_RECORDS.get(type_)
    if cls is None:
        raise JuteError(f"unknown txn type {type_}")
    if not body and type_ == OpCode.CLOSE_SESSION:
        return None
    r = Reader(body)
    if cls is CreateTxn:
        # A create written by ZooKeeper before 3.3 has no parentCVersion (CreateTxnV0).
        try:
            rec = CreateTxn.read(r)
        except JuteError:
            v0 = CreateTxnV0.read(Reader(body))
            return CreateTxn(v0.path, v0.data, v0.acl, v0.ephemeral, -1)
        return rec
    return cls.read(r)


def read_txn(type_: int, r: Reader) -> object | None:
    """The record of a txn from `r`, which is left just past it (a log entry's digest may follow)."""
    cls = TXN_RECORDS.get(type_)
    if cls is None:
        raise JuteError(f"unknown txn type {type_}")
    if type_ == OpCode.CLOSE_SESSION and not r.remaining():
        return None
    if cls is CreateTxn:
        start = r.pos
        try:
            return CreateTxn.read(r)
        except JuteError:
            r.pos = start
            v0 = CreateTxnV0.read(r)
            return CreateTxn(v0.path, v0.data, v0.acl, v0.ephemeral, -1)
    return cls.read(r)


def encode(record: object) -> bytes:
    w = Writer()
    record.write(w)  # type: ignore[attr-defined]
    return w.getvalue()


def multi_txn(parts: list[tuple[int, object]]) -> MultiTxn:
    return MultiTxn([Txn(t, encode_body(rec)) for t, rec in parts])


@final
class MultiParts:
    """A multi's txn as the prep stage makes it: each op's (txn type, txn record). It is written to the log
    and sent to followers as the MultiTxn it stands for (encode_txn), and the tree applies its records as
    they are, without decoding the bodies it would otherwise have just encoded."""

    __slots__ = ("parts",)

    def __init__(self, parts: list[tuple[int, object]]) -> None:
        self.parts = parts


_ACL_BYTES: dict[int, tuple[Sequence[ACL] | None, bytes]] = {}
_HDR = struct.Struct(">qiqqi")
_TAIL_CREATE = struct.Struct(">?i")


def acl_bytes(acl: Sequence[ACL] | None) -> bytes:
    """The serialized vector<ACL>; cached by the identity of the (interned, long-lived) tuple."""
    hit = _ACL_BYTES.get(id(acl))
    if hit is not None and hit[0] is acl:
        return hit[1]
    w = Writer()
    w.vector(acl, lambda w_, a: a.write(w_))
    b = w.getvalue()
    if isinstance(acl, tuple) and len(_ACL_BYTES) < 10_000:
        _ACL_BYTES[id(acl)] = (acl, b)
    return b


def encode_body(record: object) -> bytes:
    """A txn record serialized; the commonest skip the generic writer (the classes are final), and a
    MultiParts is its MultiTxn (a vector of (type, body buffer))."""
    if isinstance(record, CreateTxn):
        return b"".join((encode_string(record.path), encode_buffer(record.data), acl_bytes(record.acl),
                         _TAIL_CREATE.pack(record.ephemeral, record.parent_cversion)))
    if isinstance(record, SetDataTxn):
        return b"".join((encode_string(record.path), encode_buffer(record.data), _INT.pack(record.version)))
    if isinstance(record, DeleteTxn):
        return encode_string(record.path)
    if isinstance(record, CheckVersionTxn):
        return encode_string(record.path) + _INT.pack(record.version)
    if isinstance(record, MultiParts):
        chunks = [_INT.pack(len(record.parts))]
        for t, rec in record.parts:
            body = encode_body(rec)
            chunks += (_TYPE_LEN.pack(t, len(body)), body)
        return b"".join(chunks)
    return encode(record)


_TYPE_LEN = struct.Struct(">ii")


def encode_txn(hdr: TxnHeader, record: object | None) -> bytes:
    """Header + body, as a log entry or a PROPOSAL carries them (without the digest)."""
    head = _HDR.pack(hdr.client_id, hdr.cxid, hdr.zxid, hdr.time, hdr.type)
    if record is None:
        return head
    return head + encode_body(record)


def decode_txn_entry(data: bytes) -> tuple[TxnHeader, object | None]:
    r = Reader(data)
    hdr = TxnHeader.read(r)
    body = bytes(r.buf[r.pos :])
    return hdr, decode_txn(hdr.type, body)
