"""Replies to writes, from the result of applying their txn (FinalRequestProcessor's write cases)."""

from __future__ import annotations

from ..jute.constants import OpCode
from ..jute.records import Create2Response, CreateResponse, SetACLResponse, SetDataResponse
from ..tree.datatree import TxnResult
from .requests import encode, multi_response, reply

_CREATE2_LIKE = (OpCode.CREATE2, OpCode.CREATE_TTL, OpCode.CREATE_CONTAINER)


def _sub_result(rc: TxnResult) -> tuple[int, int, object | None]:
    t = rc.type
    if t == OpCode.ERROR or rc.err:
        return OpCode.ERROR, rc.err, None
    if t == OpCode.CREATE:
        return t, 0, CreateResponse(rc.path or "")
    if t in _CREATE2_LIKE:
        return OpCode.CREATE2, 0, Create2Response(rc.path or "", rc.stat)
    if t == OpCode.SET_DATA:
        return t, 0, SetDataResponse(rc.stat)
    return t, 0, None  # delete, check


def write_reply(p, rc: TxnResult, last_zxid: int) -> bytes:
    """The framed reply to write request `p` whose txn produced `rc`."""
    if rc.type == OpCode.MULTI and rc.multi is not None:
        return reply(p.xid, last_zxid, 0, multi_response([_sub_result(sub) for sub in rc.multi]))
    if rc.err:
        return reply(p.xid, last_zxid, rc.err)
    op = p.op
    if op == OpCode.CREATE:
        return reply(p.xid, last_zxid, 0, encode(CreateResponse(rc.path or "")))
    if op in _CREATE2_LIKE:
        return reply(p.xid, last_zxid, 0, encode(Create2Response(rc.path or "", rc.stat)))
    if op == OpCode.SET_DATA:
        return reply(p.xid, last_zxid, 0, encode(SetDataResponse(rc.stat)))
    if op == OpCode.SET_ACL:
        return reply(p.xid, last_zxid, 0, encode(SetACLResponse(rc.stat)))
    return reply(p.xid, last_zxid, 0)  # delete, check, closeSession
