"""Transaction records by type: what a txn header's `type` says its body is (ZooKeeper's SerializeUtils)."""

from __future__ import annotations

import struct
from collections.abc import Sequence

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
    return MultiTxn([Txn(t, encode(rec)) for t, rec in parts])


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


def encode_txn(hdr: TxnHeader, record: object | None) -> bytes:
    """Header + body, as a log entry or a PROPOSAL carries them (without the digest)."""
    head = _HDR.pack(hdr.client_id, hdr.cxid, hdr.zxid, hdr.time, hdr.type)
    if isinstance(record, CreateTxn):  # the commonest writes skip the generic writer (the classes are final)
        return b"".join((head, encode_string(record.path), encode_buffer(record.data), acl_bytes(record.acl),
                         _TAIL_CREATE.pack(record.ephemeral, record.parent_cversion)))
    if isinstance(record, SetDataTxn):
        return b"".join((head, encode_string(record.path), encode_buffer(record.data), _INT.pack(record.version)))
    w = Writer()
    w.raw(head)
    if record is not None:
        record.write(w)  # type: ignore[attr-defined]
    return w.getvalue()


def decode_txn_entry(data: bytes) -> tuple[TxnHeader, object | None]:
    r = Reader(data)
    hdr = TxnHeader.read(r)
    body = bytes(r.buf[r.pos :])
    return hdr, decode_txn(hdr.type, body)
