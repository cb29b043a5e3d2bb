"""Read requests answered from the tree (ZooKeeper's FinalRequestProcessor read cases).

Each handler returns (err, body). They run only once the session's earlier writes have been applied.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..jute.constants import AddWatchMode, Err, OpCode, WatcherType
from ..jute.io import INT, Writer, encode_buffer
from ..jute.records import (
    AddWatchRequest,
    CheckWatchesRequest,
    ClientInfo,
    ExistsRequest,
    GetACLRequest,
    GetACLResponse,
    GetAllChildrenNumberRequest,
    GetAllChildrenNumberResponse,
    GetChildren2Request,
    GetChildrenRequest,
    GetChildrenResponse,
    GetDataRequest,
    GetEphemeralsRequest,
    GetEphemeralsResponse,
    Id,
    RemoveWatchesRequest,
    SyncRequest,
    SyncResponse,
    WhoAmIResponse,
)
from ..tree import acl as aclmod
from ..tree import javaorder
from ..tree.datatree import DataTree
from ..tree.node import Node
from ..tree.watches import WatchTable
from .requests import encode

OK = 0


class ReadContext:
    __slots__ = ("tree", "session", "auth")

    def __init__(self, tree: DataTree, session: int, auth: list[Id]) -> None:
        self.tree = tree
        self.session = session
        self.auth = auth


def _readable(ctx: ReadContext, path: str, perm: int = aclmod.READ) -> tuple[int, Node | None]:
    """(error, node): NONODE, NOAUTH, or OK and the node."""
    node = ctx.tree.nodes.get(path)
    if node is None:
        return Err.NONODE, None
    if not aclmod.check(node.acl, perm, ctx.auth):
        return Err.NOAUTH, None
    return OK, node


def get_data(ctx: ReadContext, rec: GetDataRequest) -> tuple[int, bytes]:
    err, node = _readable(ctx, rec.path)
    if err:
        return err, b""
    assert node is not None  # OK comes with the node
    if rec.watch:
        ctx.tree.data_watches.add(rec.path, ctx.session)
    return OK, encode_buffer(node.data) + node.stat_bytes()


def exists(ctx: ReadContext, rec: ExistsRequest) -> tuple[int, bytes]:
    if "\0" in rec.path:
        return Err.BADARGUMENTS, b""
    if rec.watch:
        ctx.tree.data_watches.add(rec.path, ctx.session)
    node = ctx.tree.nodes.get(rec.path)
    if node is None:
        return Err.NONODE, b""
    return OK, node.stat_bytes()


def _children(ctx: ReadContext, rec: GetChildrenRequest | GetChildren2Request, with_stat: bool) -> tuple[int, bytes]:
    err, node = _readable(ctx, rec.path)
    if err:
        return err, b""
    assert node is not None  # OK comes with the node
    if rec.watch:
        ctx.tree.child_watches.add(rec.path, ctx.session)
    body = encode(GetChildrenResponse(ctx.tree.children(rec.path)))
    return OK, body + node.stat_bytes() if with_stat else body


def get_children(ctx: ReadContext, rec: GetChildrenRequest) -> tuple[int, bytes]:
    return _children(ctx, rec, False)


def get_children2(ctx: ReadContext, rec: GetChildren2Request) -> tuple[int, bytes]:
    return _children(ctx, rec, True)


def get_acl(ctx: ReadContext, rec: GetACLRequest) -> tuple[int, bytes]:
    err, node = _readable(ctx, rec.path, aclmod.READ | aclmod.ADMIN)
    if err:
        return err, b""
    assert node is not None  # OK comes with the node
    acl = list(node.acl)
    if not aclmod.check(node.acl, aclmod.ADMIN, ctx.auth):
        acl = aclmod.redact_digests(acl)
    return OK, encode(GetACLResponse(acl, node.stat()))


def get_all_children_number(ctx: ReadContext, rec: GetAllChildrenNumberRequest) -> tuple[int, bytes]:
    err, _ = _readable(ctx, rec.path)
    if err:
        return err, b""
    return OK, encode(GetAllChildrenNumberResponse(ctx.tree.all_children_number(rec.path)))


def get_ephemerals(ctx: ReadContext, rec: GetEphemeralsRequest) -> tuple[int, bytes]:
    mine = ctx.tree.ephemerals_of(ctx.session)
    prefix = rec.prefix_path
    if prefix is None or not prefix.strip() or prefix.strip() == "/":
        out = sorted(mine)
    else:
        out = sorted(p for p in mine if p.startswith(prefix))
    return OK, encode(GetEphemeralsResponse(out))


def sync(ctx: ReadContext, rec: SyncRequest) -> tuple[int, bytes]:
    return OK, encode(SyncResponse(rec.path))


def who_am_i(ctx: ReadContext, rec: object) -> tuple[int, bytes]:
    infos = []
    for a in javaorder.auth_ordered(ctx.auth):
        user = a.id.split(":", 1)[0] if a.scheme == "digest" else (a.id if a.scheme in ("ip", "sasl") else "")
        infos.append(ClientInfo(a.scheme, user))
    return OK, encode(WhoAmIResponse(infos))


def add_watch(ctx: ReadContext, rec: AddWatchRequest) -> tuple[int, bytes]:
    if rec.mode not in (AddWatchMode.PERSISTENT, AddWatchMode.PERSISTENT_RECURSIVE):
        return Err.MARSHALLINGERROR, b""
    ctx.tree.add_watch(rec.path, ctx.session, rec.mode == AddWatchMode.PERSISTENT_RECURSIVE)
    return OK, INT.pack(0)


def _watch_tables(ctx: ReadContext, type_: int) -> tuple[WatchTable, ...]:
    if type_ == WatcherType.CHILDREN:
        return (ctx.tree.child_watches,)
    if type_ == WatcherType.DATA:
        return (ctx.tree.data_watches,)
    if type_ == WatcherType.ANY:
        return (ctx.tree.child_watches, ctx.tree.data_watches)
    return ()


def check_watches(ctx: ReadContext, rec: CheckWatchesRequest) -> tuple[int, bytes]:
    if rec.type not in WatcherType._value2member_map_:
        return Err.MARSHALLINGERROR, b""
    tables = _watch_tables(ctx, rec.type)
    found = any(t.contains(rec.path, ctx.session) for t in tables)
    return (OK, b"") if found else (Err.NOWATCHER, b"")


def remove_watches(ctx: ReadContext, rec: RemoveWatchesRequest) -> tuple[int, bytes]:
    if rec.type not in WatcherType._value2member_map_:
        return Err.MARSHALLINGERROR, b""
    removed = False
    for t in _watch_tables(ctx, rec.type):
        removed = t.remove(rec.path, ctx.session) or removed
    return (OK, b"") if removed else (Err.NOWATCHER, b"")


def multi_read(ctx: ReadContext, ops: list[tuple[int, Any]]) -> tuple[int, bytes]:
    w = Writer()
    from ..jute.records import MultiHeader

    for op, rec in ops:
        if op == OpCode.GET_CHILDREN:
            err, body = _children(ctx, rec, False)
        elif op == OpCode.GET_DATA:
            err, body = get_data(ctx, rec)
        else:
            return Err.MARSHALLINGERROR, b""
        if err:
            MultiHeader(OpCode.ERROR, False, err).write(w)
            w.int(err)
        else:
            MultiHeader(op, False, 0).write(w)
            w.raw(body)
    MultiHeader(-1, True, -1).write(w)
    return OK, w.getvalue()


READS: dict[int, Callable[[ReadContext, Any], tuple[int, bytes]]] = {
    OpCode.GET_DATA: get_data,
    OpCode.EXISTS: exists,
    OpCode.GET_CHILDREN: get_children,
    OpCode.GET_CHILDREN2: get_children2,
    OpCode.GET_ACL: get_acl,
    OpCode.GET_ALL_CHILDREN_NUMBER: get_all_children_number,
    OpCode.GET_EPHEMERALS: get_ephemerals,
    OpCode.SYNC: sync,
    OpCode.WHO_AM_I: who_am_i,
    OpCode.ADD_WATCH: add_watch,
    OpCode.CHECK_WATCHES: check_watches,
    OpCode.REMOVE_WATCHES: remove_watches,
    OpCode.MULTI_READ: multi_read,
}
