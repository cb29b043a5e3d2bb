"""Request bodies by opcode, multi requests and responses, reply framing."""

from __future__ import annotations

import struct
from typing import Final

from librt.strings import BytesWriter, read_i32_be, write_i32_be, write_i64_be

from ..jute.constants import OP_CHECK, OP_MULTI, OP_MULTI_READ, OP_SET_DATA, OpCode
from ..jute.io import JuteError, Reader, RecordType, Writer
from ..jute.records import (
    AddWatchRequest,
    AuthPacket,
    CheckVersionRequest,
    CheckWatchesRequest,
    Create2Response,
    CreateRequest,
    CreateResponse,
    CreateTTLRequest,
    DeleteRequest,
    ExistsRequest,
    GetACLRequest,
    GetAllChildrenNumberRequest,
    GetChildren2Request,
    GetChildrenRequest,
    GetChildrenResponse,
    GetDataRequest,
    GetDataResponse,
    GetEphemeralsRequest,
    GetSASLRequest,
    ReconfigRequest,
    RemoveWatchesRequest,
    SetACLRequest,
    SetDataRequest,
    SetDataResponse,
    SetWatches,
    SetWatches2,
    SyncRequest,
)

REQUEST_RECORDS: dict[int, RecordType | None] = {
    OpCode.CREATE: CreateRequest,
    OpCode.CREATE2: CreateRequest,
    OpCode.CREATE_CONTAINER: CreateRequest,
    OpCode.CREATE_TTL: CreateTTLRequest,
    OpCode.DELETE: DeleteRequest,
    OpCode.EXISTS: ExistsRequest,
    OpCode.GET_DATA: GetDataRequest,
    OpCode.SET_DATA: SetDataRequest,
    OpCode.GET_ACL: GetACLRequest,
    OpCode.SET_ACL: SetACLRequest,
    OpCode.GET_CHILDREN: GetChildrenRequest,
    OpCode.GET_CHILDREN2: GetChildren2Request,
    OpCode.SYNC: SyncRequest,
    OpCode.CHECK: CheckVersionRequest,
    OpCode.RECONFIG: ReconfigRequest,
    OpCode.CHECK_WATCHES: CheckWatchesRequest,
    OpCode.REMOVE_WATCHES: RemoveWatchesRequest,
    OpCode.AUTH: AuthPacket,
    OpCode.SET_WATCHES: SetWatches,
    OpCode.SET_WATCHES2: SetWatches2,
    OpCode.SASL: GetSASLRequest,
    OpCode.GET_EPHEMERALS: GetEphemeralsRequest,
    OpCode.GET_ALL_CHILDREN_NUMBER: GetAllChildrenNumberRequest,
    OpCode.ADD_WATCH: AddWatchRequest,
    OpCode.WHO_AM_I: None,
    OpCode.PING: None,
    OpCode.CLOSE_SESSION: None,
    OpCode.MULTI: None,  # decoded by decode_multi
    OpCode.MULTI_READ: None,
}

_MULTI_OP_RECORDS: dict[int, RecordType] = {
    OpCode.CREATE: CreateRequest,
    OpCode.CREATE2: CreateRequest,
    OpCode.CREATE_CONTAINER: CreateRequest,
    OpCode.CREATE_TTL: CreateTTLRequest,
    OpCode.DELETE: DeleteRequest,
    OpCode.SET_DATA: SetDataRequest,
    OpCode.CHECK: CheckVersionRequest,
    OpCode.GET_CHILDREN: GetChildrenRequest,
    OpCode.GET_DATA: GetDataRequest,
}

HEADER: Final = struct.Struct(">ii")
REPLY: Final = struct.Struct(">iiqi")  # frame length, xid, zxid, err


def decode_body(op: int, r: Reader) -> object:
    if op == OP_MULTI or op == OP_MULTI_READ:
        return decode_multi(r)
    cls = REQUEST_RECORDS[op]
    return None if cls is None else cls.read(r)


def decode_multi(r: Reader) -> list[tuple[int, object]]:
    ops: list[tuple[int, object]] = []
    buf, end = r.buf, r.end
    while True:
        pos = r.pos
        if pos + 9 > end:  # MultiHeader: type, done, err
            raise JuteError(f"record truncated: need 9 bytes at offset {pos}, frame has {end}")
        op = read_i32_be(buf, pos)
        r.pos = pos + 9
        if buf[pos + 4]:  # done (its err is not read, as MultiOperationRecord's reader ignores it)
            return ops
        # The commonest ops' readers called directly: compiled, a native call, where the table's class is a
        # Python object called through the interpreter.
        if op == OP_SET_DATA:
            ops.append((op, SetDataRequest.read(r)))
        elif op == OP_CHECK:
            ops.append((op, CheckVersionRequest.read(r)))
        else:
            cls = _MULTI_OP_RECORDS.get(op)
            if cls is None:
                raise JuteError(f"invalid type of op {op} in multi")
            ops.append((op, cls.read(r)))


def reply(xid: int, zxid: int, err: int, body: bytes = b"") -> bytes:
    """A framed reply: length, ReplyHeader, body. Written with librt's writers (REPLY's layout): compiled,
    a third of a struct pack and a concatenation."""
    w = BytesWriter()
    write_i32_be(w, 16 + len(body))
    write_i32_be(w, xid)
    write_i64_be(w, zxid)
    write_i32_be(w, err)
    if body:
        w.write(body)
    return w.getvalue()


def encode(record: object) -> bytes:
    w = Writer()
    record.write(w)  # type: ignore[attr-defined]
    return w.getvalue()


__all__ = [
    "Create2Response", "CreateResponse", "GetChildrenResponse", "GetDataResponse", "SetDataResponse",
    "decode_body", "decode_multi", "reply", "encode", "HEADER", "REPLY",
]
