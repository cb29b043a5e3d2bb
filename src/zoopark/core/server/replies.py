"""Replies to writes, from the result of applying their txn (FinalRequestProcessor's write cases).

Bodies are built from the Stat bytes the tree hands back, without decoding them into records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
from ..jute.io import encode_buffer, encode_string
from ..tree.datatree import TxnResult
from .requests import multi_response, reply

if TYPE_CHECKING:  # core imports this module
    from .core import Pending

_CREATE2_LIKE = (OpCode.CREATE2, OpCode.CREATE_TTL, OpCode.CREATE_CONTAINER)


def _sub_result(rc: TxnResult) -> tuple[int, int, bytes]:
    t = rc.type
    if t == OP_ERROR or rc.err:
        return OP_ERROR, rc.err, b""
    if t == OP_SET_DATA:
        return t, 0, rc.stat or b""
    if t == OP_CREATE:
        return t, 0, encode_string(rc.path or "")
    if t == OP_CREATE2 or t == OP_CREATE_TTL or t == OP_CREATE_CONTAINER:
        return OP_CREATE2, 0, encode_string(rc.path or "") + (rc.stat or b"")
    return t, 0, b""  # delete, check


def write_reply(p: Pending, rc: TxnResult, last_zxid: int, config: bytes | None = None) -> bytes:
    """The framed reply to write request `p` whose txn produced `rc`; a reconfig's is a GetDataResponse of
    the configuration now in /zookeeper/config (`config`) and its Stat."""
    if rc.type == OP_MULTI and rc.multi is not None:
        return reply(p.xid, last_zxid, 0, multi_response([_sub_result(sub) for sub in rc.multi]))
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
