"""Request frames for the load generator, prebuilt once so that sending costs a struct.pack of the xid."""

from __future__ import annotations

import struct

from zoopark.core.jute.constants import OpCode
from zoopark.core.jute.io import Writer
from zoopark.core.jute.records import (
    OPEN_ACL_UNSAFE,
    ConnectRequest,
    CreateRequest,
    ExistsRequest,
    GetDataRequest,
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


def close_session() -> Template:
    return Template(OpCode.CLOSE_SESSION, None)
