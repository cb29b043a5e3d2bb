"""Request bodies by opcode, multi requests and responses, reply framing."""

from __future__ import annotations

import struct

from ..jute.constants import OP_ERROR, OpCode
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

HEADER = struct.Struct(">ii")
REPLY = struct.Struct(">iiqi")  # frame length, xid, zxid, err
_MULTI_HEADER = struct.Struct(">i?i")  # MultiHeader: type, done, err
_MULTI_END = _MULTI_HEADER.pack(-1, True, -1)


def decode_body(op: int, r: Reader) -> object:
    if op in (OpCode.MULTI, OpCode.MULTI_READ):
        return decode_multi(r)
    cls = REQUEST_RECORDS[op]
    return None if cls is None else cls.read(r)


def decode_multi(r: Reader) -> list[tuple[int, object]]:
    ops: list[tuple[int, object]] = []
    size = _MULTI_HEADER.size
    while True:
        pos = r.pos
        if pos + size > r.end:
            raise JuteError(f"record truncated: need {size} bytes at offset {pos}, frame has {r.end}")
        op, done, _ = _MULTI_HEADER.unpack_from(r.buf, pos)
        r.pos = pos + size
        if done:
            return ops
        cls = _MULTI_OP_RECORDS.get(op)
        if cls is None:
            raise JuteError(f"invalid type of op {op} in multi")
        ops.append((op, cls.read(r)))


def reply(xid: int, zxid: int, err: int, body: bytes = b"") -> bytes:
    return REPLY.pack(16 + len(body), xid, zxid, err) + body


def encode(record: object) -> bytes:
    w = Writer()
    record.write(w)  # type: ignore[attr-defined]
    return w.getvalue()


def multi_response(results: list[tuple[int, int, bytes]]) -> bytes:
    """(type, err, the op's response record serialized) per op, then the end marker
    (MultiResponse.serialize); an error's record is its ErrorResponse, made here."""
    chunks: list[bytes] = []
    for type_, err, body in results:
        chunks.append(_MULTI_HEADER.pack(type_, False, err))
        chunks.append(_ERROR.pack(err) if type_ == OP_ERROR else body)
    chunks.append(_MULTI_END)
    return b"".join(chunks)


_ERROR = struct.Struct(">i")  # ErrorResponse: err


__all__ = [
    "Create2Response", "CreateResponse", "GetChildrenResponse", "GetDataResponse", "SetDataResponse",
    "decode_body", "decode_multi", "multi_response", "reply", "encode", "HEADER", "REPLY",
]
