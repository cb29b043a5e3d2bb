"""The prep stage (ZooKeeper's PrepRequestProcessor): a write request -> a txn, or an error code.

Validation runs against the tree as it will be once every txn already prepped has committed: an overlay of
pending changes per path (ZooKeeper's outstandingChanges), dropped as their txns commit. A failed op in a
multi rolls back the overlay entries the multi made.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from ..jute.constants import (
    CONTAINER_EPHEMERAL_OWNER,
    MAX_TTL_MS,
    OP_CHECK,
    OP_CREATE,
    OP_CREATE2,
    OP_CREATE_CONTAINER,
    OP_CREATE_TTL,
    OP_DELETE,
    OP_MULTI,
    OP_SET_ACL,
    OP_SET_DATA,
    CreateMode,
    Err,
    OpCode,
)
from ..jute.records import (
    ACL,
    CheckVersionRequest,
    CheckVersionTxn,
    CloseSessionTxn,
    CreateContainerTxn,
    CreateRequest,
    CreateTTLRequest,
    CreateTTLTxn,
    CreateTxn,
    DeleteRequest,
    DeleteTxn,
    ErrorTxn,
    Id,
    ReconfigRequest,
    SetACLRequest,
    SetACLTxn,
    SetDataRequest,
    SetDataTxn,
)
from ..jute.txns import MultiParts
from ..session import SessionTable
from ..tree import acl as aclmod
from ..tree import quota
from ..tree.datatree import CONFIG, SPECIAL_PATHS, DataTree
from ..tree.node import Node, data_length, is_ttl, ttl_owner
from ..tree.paths import InvalidPath, split, validate_path
from . import reconfig

_MODES = {int(m): m for m in CreateMode}


class PrepError(Exception):
    def __init__(self, err: Err, path: str | None = None) -> None:
        super().__init__(f"{err.name} {path or ''}")
        self.err = err


class PrepFailed(Exception):
    """What PrepRequestProcessor's catch-all catches (a RuntimeException, here the quota text StatsTrack
    throws on): the whole request, a multi included, becomes an ErrorTxn MARSHALLINGERROR."""


@dataclass(slots=True)
class View:
    """A node as the prep stage sees it: the committed node plus every pending change."""

    version: int
    cversion: int  # stored form: count of child creations
    aversion: int
    owner: int
    child_count: int
    acl: tuple[ACL, ...]
    data_len: int = 0  # what a setData's quota check subtracts (ZooKeeper's ChangeRecord.data)

    # Written out: compiled, a dataclass-made __init__ would stay interpreted (core/values.py).
    def __init__(self, version: int, cversion: int, aversion: int, owner: int, child_count: int,
                 acl: tuple[ACL, ...], data_len: int = 0) -> None:
        self.version = version
        self.cversion = cversion
        self.aversion = aversion
        self.owner = owner
        self.child_count = child_count
        self.acl = acl
        self.data_len = data_len

    def copy(self) -> View:
        return View(self.version, self.cversion, self.aversion, self.owner, self.child_count, self.acl,
                    self.data_len)

    def with_children(self, delta: int, cversion: int | None = None) -> View:
        v = self.copy()
        v.child_count += delta
        if cversion is not None:
            v.cversion = cversion
        return v


def _node_view(n: Node) -> View:
    """A committed node as prep's overlay sees it."""
    data = n.data
    return View(n.version, n.cversion, n.aversion, n.owner, n.num_children, n.acl, 0 if data is None else len(data))


class Change:
    """A pending change of a node (ZooKeeper's ChangeRecord): made by the txn `zxid`, the node after it (None:
    deleted). One object in both the overlay and the order of changes (compiled, its zxid is a native int);
    `prev`, only while a multi is prepped, is the change it replaced, for a failed op to roll back to."""

    __slots__ = ("zxid", "path", "view", "prev")

    def __init__(self, zxid: int, path: str, view: View | None) -> None:
        self.zxid = zxid
        self.path = path
        self.view = view
        self.prev: Change | None = None


@dataclass(slots=True)
class Request:
    session: int
    op: int
    record: Any  # a request record (Any, not object: mypyc 2.4 cannot name object in a dataclass field)
    auth: list[Id]
    owner: int | None = None  # the member the request came through (None: no owner check)

    def __init__(self, session: int, op: int, record: Any, auth: list[Id], owner: int | None = None) -> None:
        self.session = session
        self.op = op
        self.record = record
        self.auth = auth
        self.owner = owner


class Prep:
    def __init__(self, tree: DataTree, sessions: SessionTable, extended_types: bool,
                 auth_schemes: frozenset[str] = aclmod.DEFAULT_SCHEMES, enforce_quota: bool = False,
                 quota_exceeded: dict[str, int] | None = None) -> None:
        self.tree = tree
        # zookeeper.enforceQuota: check creates and setData against the quotas; what the checks say to log
        # ((level, text)) waits in `quota_messages` for the core, refusals count per namespace in
        # `quota_exceeded`.
        self.enforce_quota = enforce_quota
        self.quota_messages: list[tuple[str, str]] = []
        self.quota_exceeded = quota_exceeded if quota_exceeded is not None else {}
        self.auth_schemes = auth_schemes  # ACL schemes with a registered provider
        self.sessions = sessions
        self.extended_types = extended_types
        # path -> the newest pending change of it
        self.changes: dict[str, Change] = {}
        self._order: deque[Change] = deque()  # every change, in the order they were made
        self._undo: list[Change] | None = None  # in a multi: the changes it made so far (each with its prev)
        self._session_ok = False  # in a multi: an earlier op's session check passed
        self._fixed: dict[int, tuple[Sequence[ACL], tuple[ACL, ...]]] = {}
        self.reconfig_enabled = False  # reconfigEnabled
        self.ensemble: reconfig.Ensemble | None = None  # a leader's: what a reconfig is checked against
        self._reconfig_at: int | None = None  # the zxid of a reconfig prepped and not yet committed

    # ---- overlay -----------------------------------------------------------------------------

    def view(self, path: str) -> View | None:
        c = self.changes.get(path)
        if c is not None:
            return c.view
        n = self.tree.get(path)
        return None if n is None else _node_view(n)

    def _existing(self, path: str) -> View:
        v = self.view(path)
        if v is None:
            raise PrepError(Err.NONODE, path)
        return v

    def _put(self, path: str, zxid: int, view: View | None) -> None:
        c = Change(zxid, path, view)
        undo = self._undo
        if undo is not None:
            c.prev = self.changes.get(path)
            undo.append(c)
        self.changes[path] = c
        self._order.append(c)

    def committed(self, zxid: int) -> None:
        """Drop overlay entries made by txns up to `zxid`, which the tree now reflects."""
        if self._reconfig_at is not None and self._reconfig_at <= zxid:
            self._reconfig_at = None
        order, changes = self._order, self.changes
        while order and order[0].zxid <= zxid:
            c = order.popleft()
            if changes.get(c.path) is c:  # not replaced by a later change (nor rolled back)
                del changes[c.path]

    def reset(self) -> None:
        self._reconfig_at = None
        self.changes.clear()
        self._order.clear()

    # ---- checks ------------------------------------------------------------------------------

    def _check_session(self, req: Request) -> None:
        if self._session_ok:  # a multi's later op: nothing since the earlier op's check can change its answer
            return
        s = self.sessions.get(req.session)
        if s is None or s.closing:
            raise PrepError(Err.SESSIONEXPIRED)
        if req.owner is not None and not self.sessions.claim(s, req.owner):
            raise PrepError(Err.SESSIONMOVED)
        self._session_ok = self._undo is not None

    @staticmethod
    def _validate(path: str) -> None:
        try:
            validate_path(path)
        except InvalidPath as e:
            raise PrepError(Err.BADARGUMENTS, path) from e

    @staticmethod
    def _parent_of(path: str) -> str:
        if "/" not in path or "\0" in path or path in SPECIAL_PATHS:
            raise PrepError(Err.BADARGUMENTS, path)
        return split(path)[0]

    @staticmethod
    def _check_acl(view: View, perm: int, auth: list[Id]) -> None:
        if not aclmod.check(view.acl, perm, auth):
            raise PrepError(Err.NOAUTH)

    def _check_quota(self, path: str, bytes_diff: int, count_diff: int) -> None:
        """ZooKeeperServer.checkQuota: against the committed tree, as ZooKeeper's (not the overlay)."""
        try:
            verdict = quota.check(self.tree, path, bytes_diff, count_diff)
        except quota.MalformedStats as e:
            self.quota_messages.append(("error", f"Failed to process a write to {path}: the quota text of "
                                                 f"{self.tree.quotas.max_prefix(path)} is malformed: {e}"))
            raise PrepFailed(str(e)) from e
        if verdict is None:
            return
        self.quota_messages.extend(("warning", m) for m in verdict.messages)
        if verdict.exceeded:
            if verdict.namespace is not None:
                self.quota_exceeded[verdict.namespace] = self.quota_exceeded.get(verdict.namespace, 0) + 1
            raise PrepError(Err.QUOTAEXCEEDED, path)

    @staticmethod
    def _version(current: int, expected: int) -> int:
        if expected != -1 and expected != current:
            raise PrepError(Err.BADVERSION)
        return current + 1

    def _fixup(self, acl: Sequence[ACL] | None, auth: list[Id], path: str) -> tuple[ACL, ...]:
        # The codec hands out one tuple per distinct ACL; an ACL without `auth` entries fixes up the same way
        # whoever asks, so its result is remembered by the tuple's identity.
        hit = self._fixed.get(id(acl))
        if hit is not None and hit[0] is acl:
            return hit[1]
        try:
            fixed = self.tree.intern_acl(aclmod.fixup(acl, auth, self.auth_schemes))
        except aclmod.InvalidACL as e:
            raise PrepError(Err.INVALIDACL, path) from e
        if isinstance(acl, tuple) and len(self._fixed) < 1024 and all(a.id.scheme != "auth" for a in acl):
            self._fixed[id(acl)] = (acl, fixed)
        return fixed

    # ---- ops ---------------------------------------------------------------------------------

    def prep(self, req: Request, zxid: int) -> tuple[int, object]:
        """(txn type, txn record) for a write request; an ErrorTxn if it fails (as ZooKeeper logs it)."""
        try:
            if req.op == OP_MULTI:
                return OP_MULTI, self._multi(req, zxid)
            return self._one(req.op, req.record, req, zxid)
        except PrepError as e:
            return OpCode.ERROR, ErrorTxn(e.err)
        except PrepFailed:
            return OpCode.ERROR, ErrorTxn(Err.MARSHALLINGERROR)

    def _one(self, op: int, rec: object, req: Request, zxid: int) -> tuple[int, object]:
        if op == OP_SET_DATA:
            return op, self._set_data(rec, req, zxid)
        if op == OP_CREATE or op == OP_CREATE2 or op == OP_CREATE_CONTAINER or op == OP_CREATE_TTL:
            return op, self._create(op, rec, req, zxid)
        if op == OP_DELETE:
            return op, self._delete(rec, req, zxid)
        if op == OP_SET_ACL:
            return op, self._set_acl(rec, req, zxid)
        if op == OP_CHECK:
            return op, self._check(rec, req)
        if op == OpCode.CLOSE_SESSION:
            return op, self.close_session(req.session, zxid)
        if op == OpCode.DELETE_CONTAINER:
            return op, self.delete_container(cast(str, rec), zxid)
        if op == OpCode.RECONFIG:
            return op, self._reconfig(rec, req, zxid)
        raise PrepError(Err.UNIMPLEMENTED)

    def _reconfig(self, rec: object, req: Request, zxid: int) -> SetDataTxn:
        """PrepRequestProcessor's reconfig case (core/server/reconfig.py), /zookeeper/config's ACL last."""
        if not self.reconfig_enabled:
            raise PrepError(Err.RECONFIGDISABLED)
        self._check_session(req)
        if self.ensemble is None:  # standalone: reconfiguration is not supported
            raise PrepError(Err.UNIMPLEMENTED)
        if self._reconfig_at is not None:  # prepped in this step, not yet proposed (ZooKeeper proposes at once)
            raise PrepError(Err.RECONFIGINPROGRESS)
        assert isinstance(rec, ReconfigRequest)  # what REQUEST_RECORDS decodes a reconfig to
        try:
            new = reconfig.new_config(rec, zxid, self.ensemble)
        except reconfig.ReconfigError as e:
            raise PrepError(e.err) from e
        except reconfig.ReconfigFailed as failed:  # its own name: compiled, `e` is typed by the clause above
            raise PrepFailed(str(failed)) from failed
        node = self._existing(CONFIG)
        self._check_acl(node, aclmod.WRITE, req.auth)
        self._put(CONFIG, zxid, node.copy())
        self._reconfig_at = zxid
        return reconfig.txn(new)

    def _create(self, op: int, rec: object, req: Request, zxid: int) -> object:
        assert isinstance(rec, CreateRequest | CreateTTLRequest)
        mode = _MODES.get(rec.flags)
        if mode is None:
            raise PrepError(Err.BADARGUMENTS, rec.path)
        ttl = rec.ttl if isinstance(rec, CreateTTLRequest) else -1
        if mode.ttl and not self.extended_types:
            raise PrepError(Err.UNIMPLEMENTED)
        if mode.ttl:
            if ttl <= 0 or ttl > MAX_TTL_MS:
                raise PrepError(Err.BADARGUMENTS, rec.path)
        elif ttl >= 0:
            raise PrepError(Err.BADARGUMENTS, rec.path)
        self._check_session(req)
        path = rec.path
        if "/" not in path or "\0" in path:
            raise PrepError(Err.BADARGUMENTS, path)
        parent_path = split(path)[0]
        acl = self._fixup(rec.acl, req.auth, path)
        parent = self._existing(parent_path)
        self._check_acl(parent, aclmod.CREATE, req.auth)
        if mode.sequential:
            path = f"{path}{parent.cversion:010d}"
        self._validate(path)
        if self.view(path) is not None:
            raise PrepError(Err.NODEEXISTS, path)
        if parent.owner and parent.owner != CONTAINER_EPHEMERAL_OWNER and not is_ttl(parent.owner, self.extended_types):
            raise PrepError(Err.NOCHILDRENFOREPHEMERALS, path)
        if self.enforce_quota:
            self._check_quota(path, data_length(rec.data), 1)
        new_cversion = parent.cversion + 1
        if op == OpCode.CREATE_CONTAINER:
            txn: object = CreateContainerTxn(path, rec.data, acl, new_cversion)
            owner = CONTAINER_EPHEMERAL_OWNER
        elif op == OpCode.CREATE_TTL:
            txn = CreateTTLTxn(path, rec.data, acl, new_cversion, ttl)
            owner = ttl_owner(ttl)
        else:
            # A plain create with CONTAINER flags makes a persistent node, as ZooKeeper's does.
            txn = CreateTxn(path, rec.data, acl, mode.ephemeral, new_cversion)
            owner = req.session if mode.ephemeral else 0
        self._put(parent_path, zxid, parent.with_children(+1, new_cversion))
        self._put(path, zxid, View(0, 0, 0, owner, 0, acl, data_length(rec.data)))
        return txn

    def _delete(self, rec: object, req: Request, zxid: int) -> DeleteTxn:
        assert isinstance(rec, DeleteRequest)
        self._check_session(req)
        path = rec.path
        parent_path = self._parent_of(path)
        parent = self._existing(parent_path)
        self._check_acl(parent, aclmod.DELETE, req.auth)
        node = self._existing(path)
        self._version(node.version, rec.version)
        if node.child_count > 0:
            raise PrepError(Err.NOTEMPTY, path)
        self._put(parent_path, zxid, parent.with_children(-1))
        self._put(path, zxid, None)
        return DeleteTxn(path)

    def delete_container(self, path: str, zxid: int) -> DeleteTxn:
        """The container / TTL reaper's delete (ZooKeeper's deleteContainer op)."""
        parent_path = self._parent_of(path)
        node = self._existing(path)
        if node.child_count > 0:
            raise PrepError(Err.NOTEMPTY, path)
        normal = node.owner != CONTAINER_EPHEMERAL_OWNER and not is_ttl(node.owner, self.extended_types)
        if normal:
            raise PrepError(Err.BADVERSION, path)
        parent = self._existing(parent_path)
        self._put(parent_path, zxid, parent.with_children(-1))
        self._put(path, zxid, None)
        return DeleteTxn(path)

    def _changed_view(self, path: str) -> View:
        """A new View of the node at `path` as prep sees it now, for an op to change and _put: made from the
        committed node at once when no change is pending (not a View to copy)."""
        c = self.changes.get(path)
        if c is not None:
            v = c.view
            if v is None:
                raise PrepError(Err.NONODE, path)
            return v.copy()
        n = self.tree.get(path)
        if n is None:
            raise PrepError(Err.NONODE, path)
        return _node_view(n)

    def _set_data(self, rec: object, req: Request, zxid: int) -> SetDataTxn:
        assert isinstance(rec, SetDataRequest)
        self._check_session(req)
        path = rec.path
        self._validate(path)
        changed = self._changed_view(path)
        self._check_acl(changed, aclmod.WRITE, req.auth)
        if self.enforce_quota:
            self._check_quota(path, data_length(rec.data) - changed.data_len, 0)
        changed.version = self._version(changed.version, rec.version)
        changed.data_len = data_length(rec.data)
        self._put(path, zxid, changed)
        return SetDataTxn(path, rec.data, changed.version)

    def _set_acl(self, rec: object, req: Request, zxid: int) -> SetACLTxn:
        assert isinstance(rec, SetACLRequest)
        self._check_session(req)
        self._validate(rec.path)
        acl = self._fixup(rec.acl, req.auth, rec.path)
        node = self._existing(rec.path)
        self._check_acl(node, aclmod.ADMIN, req.auth)
        version = self._version(node.aversion, rec.version)
        changed = node.copy()
        changed.aversion, changed.acl = version, acl
        self._put(rec.path, zxid, changed)
        return SetACLTxn(rec.path, acl, version)

    def _check(self, rec: object, req: Request) -> CheckVersionTxn:
        assert isinstance(rec, CheckVersionRequest)
        self._check_session(req)
        path = rec.path
        self._validate(path)
        # The node's version and ACL, from the pending change or the committed node (no View made for them).
        c = self.changes.get(path)
        if c is not None:
            v = c.view
            if v is None:
                raise PrepError(Err.NONODE, path)
            version, acl = v.version, v.acl
        else:
            n = self.tree.get(path)
            if n is None:
                raise PrepError(Err.NONODE, path)
            version, acl = n.version, n.acl
        if not aclmod.check(acl, aclmod.READ, req.auth):
            raise PrepError(Err.NOAUTH)
        return CheckVersionTxn(path, self._version(version, rec.version))

    def close_session(self, session: int, zxid: int) -> CloseSessionTxn:
        paths = set(self.tree.ephemerals_of(session))
        for path, c in self.changes.items():
            view = c.view
            if view is None:
                paths.discard(path)
            elif view.owner == session:
                paths.add(path)
        for path in sorted(paths):
            parent_path = split(path)[0]
            parent = self.view(parent_path)
            if parent is not None:
                self._put(parent_path, zxid, parent.with_children(-1))
            self._put(path, zxid, None)
        s = self.sessions.get(session)
        if s is not None:
            s.closing = True
        return CloseSessionTxn(sorted(paths))

    def _multi(self, req: Request, zxid: int) -> MultiParts:
        ops: list[tuple[int, object]] = req.record  # type: ignore[assignment]
        parts: list[tuple[int, object]] = []
        failed: Err | None = None
        self._undo = []
        try:
            for op, rec in ops:
                if failed is not None:
                    parts.append((OpCode.ERROR, ErrorTxn(Err.RUNTIMEINCONSISTENCY)))
                    continue
                if not (op == OP_SET_DATA or op == OP_CHECK or op == OP_CREATE or op == OP_CREATE2 or op == OP_DELETE
                        or op == OP_CREATE_CONTAINER or op == OP_CREATE_TTL):
                    raise PrepError(Err.BADARGUMENTS)
                try:
                    parts.append(self._one(op, rec, req, zxid))
                except PrepError as e:
                    failed = e.err
                    parts.append((OpCode.ERROR, ErrorTxn(e.err)))
                    self._roll_back()
                except PrepFailed:
                    self._roll_back()  # the whole multi fails: none of its changes stay pending
                    raise
        finally:
            for c in self._undo:
                c.prev = None  # a change keeps no chain of the ones before it
            self._undo = None
            self._session_ok = False
        return MultiParts(parts)

    def _roll_back(self) -> None:
        assert self._undo is not None
        for c in reversed(self._undo):
            if c.prev is None:
                self.changes.pop(c.path, None)
            else:
                self.changes[c.path] = c.prev
            c.prev = None
        self._undo = []
