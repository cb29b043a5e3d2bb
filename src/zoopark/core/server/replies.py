"""Replies to writes, from the result of applying their txn (FinalRequestProcessor's write cases).

Bodies are built from the Stat bytes the tree hands back, without decoding them into records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from librt.strings import BytesWriter, write_i32_be, write_i64_be

from ..jute.constants import (
    OP_CREATE,
    OP_CREATE2,
    OP_CREATE_CONTAINER,
    OP_CREATE_TTL,
    OP_ERROR,
    OP_MULTI,
    OP_SET_DATA,
    OpCode,
)
from ..jute.io import encode_buffer, encode_string, patch_i32_be, write_string
from ..tree.datatree import TxnResult
from .requests import reply

if TYPE_CHECKING:  # core imports this module
    from .core import Pending

_CREATE2_LIKE = (OpCode.CREATE2, OpCode.CREATE_TTL, OpCode.CREATE_CONTAINER)


def _multi_reply(xid: int, last_zxid: int, subs: list[TxnResult]) -> bytes:
    """The framed reply to a multi (MultiResponse.serialize after the ReplyHeader, err 0): per op its header
    (type, done false, err) and its response record (an error's is its ErrorResponse), then the end marker.
    Written field by field with librt's writers: compiled, each is a store (as _sub_result + multi_response +
    reply, without their tuples, parts and joins)."""
    w = BytesWriter()
    write_i32_be(w, 0)  # the frame's length, filled in at the end
    write_i32_be(w, xid)
    write_i64_be(w, last_zxid)
    write_i32_be(w, 0)
    for sub in subs:
        t = sub.type
        if t == OP_ERROR or sub.err:
            write_i32_be(w, OP_ERROR)
            w.append(0)
            write_i32_be(w, sub.err)
            write_i32_be(w, sub.err)
            continue
        if t == OP_CREATE2 or t == OP_CREATE_TTL or t == OP_CREATE_CONTAINER:
            t = OP_CREATE2
        write_i32_be(w, t)
        w.append(0)
        write_i32_be(w, 0)
        if t == OP_SET_DATA:
            w.write(sub.stat or b"")
        elif t == OP_CREATE or t == OP_CREATE2:
            write_string(w, sub.path or "")
            if t == OP_CREATE2:
                w.write(sub.stat or b"")
        # delete, check: no body
    write_i32_be(w, -1)  # the end: type -1, done, err -1
    w.append(1)
    write_i32_be(w, -1)
    patch_i32_be(w, 0, len(w) - 4)
    return w.getvalue()


def write_reply(p: Pending, rc: TxnResult, last_zxid: int, config: bytes | None = None) -> bytes:
    """The framed reply to write request `p` whose txn produced `rc`; a reconfig's is a GetDataResponse of
    the configuration now in /zookeeper/config (`config`) and its Stat."""
    if rc.type == OP_MULTI and rc.multi is not None:
        return _multi_reply(p.xid, last_zxid, rc.multi)
    if rc.err:
        return reply(p.xid, last_zxid, rc.err)
    op = p.op
    if op == OpCode.CREATE:
        return reply(p.xid, last_zxid, 0, encode_string(rc.path or ""))
    if op in _CREATE2_LIKE:
        return reply(p.xid, last_zxid, 0, encode_string(rc.path or "") + (rc.stat or b""))
    if op in (OpCode.SET_DATA, OpCode.SET_ACL):
        return reply(p.xid, last_zxid, 0, rc.stat or b"")
    if op == OpCode.RECONFIG:
        return reply(p.xid, last_zxid, 0, encode_buffer(config) + (rc.stat or b""))
    return reply(p.xid, last_zxid, 0)  # delete, check, closeSession
