"""Transaction records by type: what a txn header's `type` says its body is (ZooKeeper's SerializeUtils)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, final

from librt.strings import BytesWriter, write_i32_be, write_i64_be

from .constants import OpCode
from .io import JuteError, Reader, RecordType, Writer, patch_i32_be, write_buffer, write_string
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


_ACL_BYTES: Final[dict[int, tuple[Sequence[ACL] | None, bytes]]] = {}


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
    """A txn record serialized (a MultiParts: its MultiTxn, a vector of (type, body buffer))."""
    w = BytesWriter()
    _write_body(w, record)
    return w.getvalue()


def _write_body(w: BytesWriter, record: object) -> None:
    """Append a txn record's serialized form. The commonest are written field by field with librt's writers
    (compiled, each is a store: no boxed ints, no parts to join; the classes are final), the others through
    their generic writer; a MultiParts as its MultiTxn, each op's body length filled in once it is written."""
    if isinstance(record, SetDataTxn):
        write_string(w, record.path)
        write_buffer(w, record.data)
        write_i32_be(w, record.version)
    elif isinstance(record, CheckVersionTxn):
        write_string(w, record.path)
        write_i32_be(w, record.version)
    elif isinstance(record, CreateTxn):
        write_string(w, record.path)
        write_buffer(w, record.data)
        w.write(acl_bytes(record.acl))
        w.append(1 if record.ephemeral else 0)
        write_i32_be(w, record.parent_cversion)
    elif isinstance(record, DeleteTxn):
        write_string(w, record.path)
    elif isinstance(record, MultiParts):
        write_i32_be(w, len(record.parts))
        for t, rec in record.parts:
            write_i32_be(w, t)
            at = len(w)
            write_i32_be(w, 0)  # the body's length, known once it is written
            _write_body(w, rec)
            patch_i32_be(w, at, len(w) - at - 4)
    else:
        w.write(encode(record))


def encode_txn(hdr: TxnHeader, record: object | None) -> bytes:
    """Header + body, as a log entry or a PROPOSAL carries them (without the digest)."""
    w = BytesWriter()
    write_i64_be(w, hdr.client_id)
    write_i32_be(w, hdr.cxid)
    write_i64_be(w, hdr.zxid)
    write_i64_be(w, hdr.time)
    write_i32_be(w, hdr.type)
    if record is not None:
        _write_body(w, record)
    return w.getvalue()


def decode_txn_entry(data: bytes) -> tuple[TxnHeader, object | None]:
    r = Reader(data)
    hdr = TxnHeader.read(r)
    body = bytes(r.buf[r.pos :])
    return hdr, decode_txn(hdr.type, body)
