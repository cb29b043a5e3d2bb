"""Request frames for the load generator, prebuilt once so that sending costs a struct.pack of the xid."""

from __future__ import annotations

import struct

from zoopark.core.jute.constants import OpCode
from zoopark.core.jute.io import Writer
from zoopark.core.jute.records import (
    OPEN_ACL_UNSAFE,
    CheckVersionRequest,
    ConnectRequest,
    CreateRequest,
    DeleteRequest,
    ExistsRequest,
    GetDataRequest,
    MultiHeader,
    SetDataRequest,
)

LEN_XID = struct.Struct(">ii")
REPLY = struct.Struct(">iqi")  # xid, zxid, err
ACL = list(OPEN_ACL_UNSAFE)


def connect_frame(timeout_ms: int = 30_000) -> bytes:
    w = Writer()
    ConnectRequest(0, 0, timeout_ms, 0, bytes(16)).write(w)
    w.bool(False)
    body = w.getvalue()
    return struct.pack(">i", len(body)) + body


class Template:
    """A request body after its xid: frame = len + xid + rest."""

    __slots__ = ("rest", "length")

    def __init__(self, op: int, record: object | None) -> None:
        w = Writer()
        w.int(op)
        if record is not None:
            record.write(w)  # type: ignore[attr-defined]
        self.rest = w.getvalue()
        self.length = 4 + len(self.rest)

    def frame(self, xid: int) -> bytes:
        return LEN_XID.pack(self.length, xid) + self.rest


def get_data(path: str, watch: bool = False) -> Template:
    return Template(OpCode.GET_DATA, GetDataRequest(path, watch))


def exists(path: str) -> Template:
    return Template(OpCode.EXISTS, ExistsRequest(path, False))


def set_data(path: str, data: bytes) -> Template:
    return Template(OpCode.SET_DATA, SetDataRequest(path, data, -1))


def create(path: str, data: bytes, flags: int = 0) -> Template:
    return Template(OpCode.CREATE, CreateRequest(path, data, ACL, flags))


def delete(path: str) -> Template:
    return Template(OpCode.DELETE, DeleteRequest(path, -1))


class Ops:
    """A multi request's body (MultiOperationRecord): each op's header (type, done=false, err=-1) and record,
    then the end header (-1, true, -1)."""

    __slots__ = ("ops",)

    def __init__(self, ops: list[tuple[int, object]]) -> None:
        self.ops = ops

    def write(self, w: Writer) -> None:
        for op, record in self.ops:
            MultiHeader(op, False, -1).write(w)
            record.write(w)  # type: ignore[attr-defined]
        MultiHeader(-1, True, -1).write(w)


def multi(ops: list[tuple[int, object]]) -> Template:
    return Template(OpCode.MULTI, Ops(ops))


def guarded_update(guard: str, paths: list[str], data: bytes) -> Template:
    """A transaction a recipe sends: check that `guard` exists (any version, as Curator's check().forPath()
    without a version), then set each of `paths`."""
    return multi([(OpCode.CHECK, CheckVersionRequest(guard, -1)),
                  *((OpCode.SET_DATA, SetDataRequest(p, data, -1)) for p in paths)])


_MULTI_HEADER = struct.Struct(">i?i")
_STAT_LEN = 68  # Stat: 6 longs (czxid mzxid ctime mtime ephemeralOwner pzxid) and 5 ints


def multi_errors(body: bytes) -> list[int]:
    """The error of each op in a multi response's body (after the reply header), 0 for an op that succeeded:
    a failed multi is answered with err 0 in the reply header and an error per op."""
    errs, pos = [], 0
    while True:
        op, done, err = _MULTI_HEADER.unpack_from(body, pos)
        pos += _MULTI_HEADER.size
        if done:
            return errs
        if op == OpCode.ERROR:
            (err,) = struct.unpack_from(">i", body, pos)
            pos += 4
        elif op == OpCode.SET_DATA:
            pos += _STAT_LEN
        elif op in (OpCode.CREATE, OpCode.CREATE2):
            (n,) = struct.unpack_from(">i", body, pos)
            pos += 4 + max(n, 0) + (_STAT_LEN if op == OpCode.CREATE2 else 0)
        elif op not in (OpCode.CHECK, OpCode.DELETE):
            raise ValueError(f"unexpected op {op} in a multi response")
        errs.append(err)


def close_session() -> Template:
    return Template(OpCode.CLOSE_SESSION, None)
