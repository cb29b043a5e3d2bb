"""DataTree: the znodes, their ephemeral / container / TTL indexes, the watch tables, and txn application.

`apply(hdr, txn)` is ZooKeeper's DataTree.processTxn: it is deterministic in (tree, hdr, txn), idempotent
where ZooKeeper's is (replaying a create of an existing node is an error result, not a crash), and returns
what the client is told plus the watch events it fired. Nothing here knows about connections or time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..jute.constants import (
    CONTAINER_EPHEMERAL_OWNER,
    OP_CHECK,
    OP_CLOSE_SESSION,
    OP_CREATE,
    OP_CREATE2,
    OP_CREATE_CONTAINER,
    OP_CREATE_TTL,
    OP_DELETE,
    OP_DELETE_CONTAINER,
    OP_ERROR,
    OP_MULTI,
    OP_RECONFIG,
    OP_SET_ACL,
    OP_SET_DATA,
    Err,
    EventType,
)
from ..jute.records import (
    ACL,
    OPEN_ACL_UNSAFE,
    READ_ACL_UNSAFE,
    CheckVersionTxn,
    CloseSessionTxn,
    CreateContainerTxn,
    CreateTTLTxn,
    CreateTxn,
    DeleteTxn,
    ErrorTxn,
    MultiTxn,
    SetACLTxn,
    SetDataTxn,
    TxnHeader,
)
from ..jute.txns import MultiParts, decode_txn
from . import digest as dg
from . import javaorder
from .node import Node, approximate_size, data_length, is_ttl, ttl_owner
from .paths import split
from .quota import Quotas
from .watches import PERSISTENT, PERSISTENT_RECURSIVE, STANDARD, WatchTable

ZOOKEEPER = "/zookeeper"
QUOTA = "/zookeeper/quota"
CONFIG = "/zookeeper/config"
SPECIAL_PATHS = frozenset({"/", ZOOKEEPER, QUOTA, CONFIG})
_ACL_ALIASES = 8192


@dataclass(slots=True)
class WatchEvent:
    """An event for one session. `acl` is the ACL of the node it is about: since the fix for CVE-2024-23944
    (ZOOKEEPER-4799, in 3.8.4 and Debian's 3.8.0), an event reaches a connection only if it may READ that
    node; events from setWatches carry no ACL and are not filtered."""

    session: int
    type: EventType
    path: str
    acl: tuple[ACL, ...] | None = None

    # Written out (here and in the core's other per-request dataclasses): compiled, a dataclass-made
    # __init__ would stay interpreted (core/values.py).
    def __init__(self, session: int, type: EventType, path: str, acl: tuple[ACL, ...] | None = None) -> None:
        self.session = session
        self.type = type
        self.path = path
        self.acl = acl


@dataclass(slots=True)
class TxnResult:
    type: int
    zxid: int
    err: int = 0
    path: str | None = None
    stat: bytes | None = None  # the serialized Stat after the change, ready for the reply
    multi: list[TxnResult] | None = None
    events: list[WatchEvent] = field(default_factory=list)

    def __init__(self, type: int, zxid: int, err: int = 0, path: str | None = None, stat: bytes | None = None,
                 multi: list[TxnResult] | None = None, events: list[WatchEvent] | None = None) -> None:
        self.type = type
        self.zxid = zxid
        self.err = err
        self.path = path
        self.stat = stat
        self.multi = multi
        self.events = [] if events is None else events


class TreeError(Exception):
    def __init__(self, err: Err) -> None:
        super().__init__(err.name)
        self.err = err


class DataTree:
    def __init__(self, extended_types: bool = False, track_digest: bool = False) -> None:
        self.extended_types = extended_types
        # Keeping the digest current costs three CRCs per write; the simulator and replicas comparing trees
        # turn it on, a standalone server computes it when asked (recompute_digest).
        self.track_digest = track_digest
        self.nodes: dict[str, Node] = {}
        self.ephemerals: dict[int, set[str]] = {}
        self.containers: set[str] = set()
        self.ttls: set[str] = set()
        self.data_watches = WatchTable()
        self.child_watches = WatchTable()
        self.last_zxid = 0
        self._acls: dict[tuple[ACL, ...], tuple[ACL, ...]] = {}
        # id(tuple) -> (that tuple, its interned equal): the interned tuples, and up to _ACL_ALIASES other
        # tuples seen (the jute decoder hands out one cached tuple per distinct ACL vector). Holding the tuple
        # keeps its id from being reused; finding it skips hashing the ACL records (interpreted dataclass code).
        self._acl_ids: dict[int, tuple[tuple[ACL, ...], tuple[ACL, ...]]] = {}
        # False while recovery replays the log: nobody reads the results' Stats, so none is serialized (nor
        # cached on the node).
        self.replies = True
        # Children tables grown past 8 buckets (ZooKeeper's HashSet capacity; see javaorder).
        self._child_capacity: dict[str, int] = {}
        self.digest = 0  # ZooKeeper's tree digest, kept current on every change
        self.quotas = Quotas(self)
        # The quota'd prefixes (shared with `quotas`): the write paths test this set, empty in a tree without
        # quotas, before doing any quota work.
        self._quota_prefixes = self.quotas.prefixes
        root = self._new_node(b"", OPEN_ACL_UNSAFE, 0, 0, 0)
        root.children = {"zookeeper": None}
        zk = self._new_node(b"", OPEN_ACL_UNSAFE, 0, 0, 0)
        zk.children = {"quota": None, "config": None}
        config = self._new_node(b"", READ_ACL_UNSAFE, 0, 0, 0)
        config.aversion = -1  # ZooKeeper's addConfigNode calls setACL(..., version -1)
        self.nodes.update({"/": root, ZOOKEEPER: zk, QUOTA: self._new_node(b"", OPEN_ACL_UNSAFE, 0, 0, 0)})
        self.nodes[CONFIG] = config
        # Kept current on every change as ZooKeeper's nodeDataSize is (its system nodes count too).
        self.approximate_data_size = approximate_size(self.nodes)
        self.digest = self.recompute_digest() if track_digest else 0

    # ---- reading -----------------------------------------------------------------------------

    def get(self, path: str) -> Node | None:
        return self.nodes.get(path)

    def node_count(self) -> int:
        return len(self.nodes)

    def children(self, path: str) -> list[str]:
        """The children of `path` in the order ZooKeeper lists them (see javaorder)."""
        node = self.nodes[path]
        if not node.children:
            return []
        return javaorder.ordered(node.children, self._child_capacity.get(path, javaorder.INITIAL_CAPACITY))

    def all_children_number(self, path: str) -> int:
        if path == "/":
            return len(self.nodes) - 1
        prefix = path + "/"
        return sum(1 for p in self.nodes if p.startswith(prefix))

    def ephemerals_of(self, session: int) -> set[str]:
        return self.ephemerals.get(session, set())

    def intern_acl(self, acl: Sequence[ACL]) -> tuple[ACL, ...]:
        """The one shared tuple for this ACL (ZooKeeper's ACL cache). Interned tuples live as long as the tree,
        so recognising one by identity is safe and skips hashing the records."""
        seen = self._acl_ids.get(id(acl))
        if seen is not None and seen[0] is acl:
            return seen[1]
        t = tuple(acl)
        got = self._acls.setdefault(t, t)
        self._acl_ids[id(got)] = (got, got)
        if type(acl) is tuple and acl is not got and len(self._acl_ids) < _ACL_ALIASES:
            self._acl_ids[id(acl)] = (acl, got)
        return got

    def _new_node(self, data: bytes | None, acl: Sequence[ACL], zxid: int, time_ms: int, owner: int) -> Node:
        return Node(data, self.intern_acl(acl), zxid, time_ms, owner)

    # ---- watches -----------------------------------------------------------------------------

    def watch_data(self, path: str, session: int) -> None:
        self.data_watches.add(path, session)

    def watch_children(self, path: str, session: int) -> None:
        self.child_watches.add(path, session)

    def add_watch(self, path: str, session: int, recursive: bool) -> None:
        mode = PERSISTENT_RECURSIVE if recursive else PERSISTENT
        self.data_watches.add(path, session, mode)
        self.child_watches.add(path, session, mode)

    def set_watches(
        self, relative_zxid: int, session: int, data: list[str], exist: list[str], child: list[str],
        persistent: list[str], recursive: list[str],
    ) -> list[WatchEvent]:
        """Re-arm a reconnected session's watches; fire at once those whose node changed meanwhile."""
        events: list[WatchEvent] = []
        for path in data:
            node = self.nodes.get(path)
            if node is None:
                events.append(WatchEvent(session, EventType.NODE_DELETED, path))
            elif node.mzxid > relative_zxid:
                events.append(WatchEvent(session, EventType.NODE_DATA_CHANGED, path))
            else:
                self.data_watches.add(path, session)
        for path in exist:
            if path in self.nodes:
                events.append(WatchEvent(session, EventType.NODE_CREATED, path))
            else:
                self.data_watches.add(path, session)
        for path in child:
            node = self.nodes.get(path)
            if node is None:
                events.append(WatchEvent(session, EventType.NODE_DELETED, path))
            elif node.pzxid > relative_zxid:
                events.append(WatchEvent(session, EventType.NODE_CHILDREN_CHANGED, path))
            else:
                self.child_watches.add(path, session)
        for path in persistent:
            self.add_watch(path, session, recursive=False)
        for path in recursive:
            self.add_watch(path, session, recursive=True)
        return events

    def remove_session_watches(self, session: int) -> None:
        self.data_watches.remove_session(session)
        self.child_watches.remove_session(session)

    def watch_count(self) -> int:
        return self.data_watches.count() + self.child_watches.count()

    def _fire(self, events: list[WatchEvent], table: WatchTable, path: str, ev: EventType,
              acl: tuple[ACL, ...], suppress: set[int] | frozenset[int] = frozenset()) -> set[int] | frozenset[int]:
        fired = table.trigger(path, ev)
        for s in fired:
            if s not in suppress:
                events.append(WatchEvent(s, ev, path, acl))
        return fired

    # ---- applying transactions ---------------------------------------------------------------

    def apply(self, hdr: TxnHeader, txn: object) -> TxnResult:
        rc = TxnResult(hdr.type, hdr.zxid)
        try:
            self._apply_one(hdr, txn, rc)
        except TreeError as e:
            rc.err = e.err
        if hdr.zxid > self.last_zxid:
            self.last_zxid = hdr.zxid
        return rc

    def _apply_one(self, hdr: TxnHeader, txn: object, rc: TxnResult) -> None:
        """Apply `txn` of type rc.type (a multi's op: its own type, under the multi's header)."""
        t = rc.type
        if t == OP_CREATE or t == OP_CREATE2 or t == OP_CREATE_TTL or t == OP_CREATE_CONTAINER:
            self._apply_create(hdr, txn, rc)
        elif t == OP_DELETE or t == OP_DELETE_CONTAINER:
            assert isinstance(txn, DeleteTxn)
            rc.path = txn.path
            self.delete_node(txn.path, hdr.zxid, rc.events)
        elif t == OP_SET_DATA or t == OP_RECONFIG:
            assert isinstance(txn, SetDataTxn)
            rc.path = txn.path
            rc.stat = self.set_data(txn.path, txn.data, txn.version, hdr.zxid, hdr.time, rc.events)
        elif t == OP_SET_ACL:
            assert isinstance(txn, SetACLTxn)
            rc.path = txn.path
            rc.stat = self.set_acl(txn.path, txn.acl or (), txn.version)  # null: none, as a create's
        elif t == OP_CLOSE_SESSION:
            paths = txn.paths2_delete if isinstance(txn, CloseSessionTxn) and txn.paths2_delete else None
            self.kill_session(hdr.client_id, hdr.zxid, paths, rc.events)
        elif t == OP_ERROR:
            assert isinstance(txn, ErrorTxn)
            rc.err = txn.err
        elif t == OP_CHECK:
            assert isinstance(txn, CheckVersionTxn)
            rc.path = txn.path
        elif t == OP_MULTI:
            if isinstance(txn, MultiParts):  # prepped here: its records as they are
                self._apply_multi(hdr, txn.parts, rc)
            else:
                assert isinstance(txn, MultiTxn)
                self._apply_multi(hdr, [(sub.type, decode_txn(sub.type, sub.data or b"")) for sub in txn.txns or ()],
                                  rc)
        # createSession and anything else: nothing in the tree.

    def _apply_create(self, hdr: TxnHeader, txn: object, rc: TxnResult) -> None:
        if isinstance(txn, CreateContainerTxn):
            owner = CONTAINER_EPHEMERAL_OWNER
        elif isinstance(txn, CreateTTLTxn):
            owner = ttl_owner(txn.ttl)
        else:
            assert isinstance(txn, CreateTxn)
            owner = hdr.client_id if txn.ephemeral else 0
        rc.path = txn.path
        rc.stat = self.create_node(
            txn.path, txn.data, txn.acl or (), owner, txn.parent_cversion, hdr.zxid, hdr.time, rc.events
        )

    def _apply_multi(self, hdr: TxnHeader, subs: list[tuple[int, object]], rc: TxnResult) -> None:
        failed = False
        for sub_type, _ in subs:
            if sub_type == OP_ERROR:
                failed = True
                break
        post_failed = False
        multi: list[TxnResult] = []
        rc.multi = multi
        for sub_type, record in subs:
            if sub_type == OP_ERROR:
                post_failed = True
            elif failed:
                sub_type, record = OP_ERROR, ErrorTxn(Err.RUNTIMEINCONSISTENCY if post_failed else Err.OK)
            sub_rc = TxnResult(sub_type, hdr.zxid, events=rc.events)
            try:
                self._apply_one(hdr, record, sub_rc)  # the op's type is sub_rc's; the rest is the multi's header
            except TreeError as e:
                sub_rc.err = e.err
            multi.append(sub_rc)
            if sub_rc.err and not rc.err:
                rc.err = sub_rc.err

    def create_node(self, path: str, data: bytes | None, acl: Sequence[ACL], owner: int, parent_cversion: int, zxid: int,
                    time_ms: int, events: list[WatchEvent]) -> bytes:
        parent_path, name = split(path)
        parent = self.nodes.get(parent_path)
        if parent is None:
            raise TreeError(Err.NONODE)
        if parent.children and name in parent.children:
            raise TreeError(Err.NODEEXISTS)
        if parent_cversion == -1:
            parent_cversion = parent.cversion + 1
        self._digest_out(parent_path, parent)
        if parent_cversion > parent.cversion:
            parent.cversion = parent_cversion
            parent.pzxid = zxid
        node = self._new_node(data, acl, zxid, time_ms, owner)
        if parent.children is None:
            parent.children = {}
        parent.children[name] = None
        n = len(parent.children)
        if n > javaorder.INITIAL_CAPACITY * 3 // 4:
            cap = self._child_capacity.get(parent_path, javaorder.INITIAL_CAPACITY)
            grown = javaorder.grown_capacity(n, cap)
            if grown != cap:
                self._child_capacity[parent_path] = grown
        parent.changed()
        self._digest_in(parent_path, parent)
        self.nodes[path] = node
        self._digest_in(path, node)
        self.approximate_data_size += len(path) + data_length(data)
        if owner == CONTAINER_EPHEMERAL_OWNER:
            self.containers.add(path)
        elif is_ttl(owner, self.extended_types):
            self.ttls.add(path)
        elif owner:
            self.ephemerals.setdefault(owner, set()).add(path)
        # Quota work only once some quota exists, or for the nodes that make one (literals: the cheapest test
        # on the create path of a tree without quotas).
        if self._quota_prefixes or name == "zookeeper_limits" or name == "zookeeper_stats":
            self.quotas.created(parent_path, name, path, data)
        self._fire(events, self.data_watches, path, EventType.NODE_CREATED, node.acl)
        self._fire(events, self.child_watches, parent_path, EventType.NODE_CHILDREN_CHANGED, parent.acl)
        return node.stat_bytes() if self.replies else b""

    def delete_node(self, path: str, zxid: int, events: list[WatchEvent]) -> None:
        parent_path, name = split(path)
        parent = self.nodes.get(parent_path)
        if parent is None:
            raise TreeError(Err.NONODE)
        self._digest_out(parent_path, parent)
        if parent.children:
            parent.children.pop(name, None)
            if not parent.children:
                parent.children = None
        if zxid > parent.pzxid:
            parent.pzxid = zxid
        parent.changed()
        self._digest_in(parent_path, parent)
        node = self.nodes.pop(path, None)
        if node is None:
            raise TreeError(Err.NONODE)
        self._child_capacity.pop(path, None)
        self._digest_out(path, node)
        self.approximate_data_size -= len(path) + data_length(node.data)
        owner = node.owner
        if owner == CONTAINER_EPHEMERAL_OWNER:
            self.containers.discard(path)
        elif is_ttl(owner, self.extended_types):
            self.ttls.discard(path)
        elif owner:
            eph = self.ephemerals.get(owner)
            if eph is not None:
                eph.discard(path)
                if not eph:
                    del self.ephemerals[owner]
        if self._quota_prefixes or name == "zookeeper_limits":
            self.quotas.deleted(parent_path, name, path, node.data)
        fired = self._fire(events, self.data_watches, path, EventType.NODE_DELETED, node.acl)
        self._fire(events, self.child_watches, path, EventType.NODE_DELETED, node.acl, fired)
        self._fire(events, self.child_watches, parent_path, EventType.NODE_CHILDREN_CHANGED, parent.acl)

    def set_data(self, path: str, data: bytes | None, version: int, zxid: int, time_ms: int,
                 events: list[WatchEvent]) -> bytes:
        node = self.nodes.get(path)
        if node is None:
            raise TreeError(Err.NONODE)
        self.approximate_data_size += data_length(data) - data_length(node.data)
        self._digest_out(path, node)
        old = node.data
        node.data = data
        node.mtime = time_ms
        node.mzxid = zxid
        node.version = version
        node.changed()
        self._digest_in(path, node)
        if self._quota_prefixes:
            self.quotas.data_changed(path, old, data)
        self._fire(events, self.data_watches, path, EventType.NODE_DATA_CHANGED, node.acl)
        return node.stat_bytes() if self.replies else b""

    def init_config_node(self, data: bytes, version: int, time_ms: int, keep_same: bool = False) -> None:
        """/zookeeper/config as ZooKeeper's ZKDatabase.initConfigInZKDatabase writes it: the ensemble's
        configuration, mzxid the config's version, version -1, mtime now; no watch fires (no client is
        connected while a role begins). `keep_same` keeps a node that already holds this text (a leader keeps
        what it loaded; only learners rewrite it at every sync)."""
        node = self.nodes[CONFIG]
        if keep_same and node.data == data and node.mzxid == version:
            return
        self.set_data(CONFIG, data, -1, version, time_ms, [])

    def rewrite_system_data(self, path: str, data: bytes) -> None:
        """Replace a node's data in place, as ZooKeeper's quota bookkeeping does: no zxid, version, watch or
        approximate-size change (its nodeDataSize does not follow these either)."""
        node = self.nodes[path]
        self._digest_out(path, node)
        node.data = data
        node.changed()
        self._digest_in(path, node)

    def set_acl(self, path: str, acl: Sequence[ACL], version: int) -> bytes:
        node = self.nodes.get(path)
        if node is None:
            raise TreeError(Err.NONODE)
        self._digest_out(path, node)
        node.acl = self.intern_acl(acl)
        node.aversion = version
        node.changed()
        self._digest_in(path, node)
        return node.stat_bytes()

    def kill_session(self, session: int, zxid: int, paths: Sequence[str] | None, events: list[WatchEvent]) -> None:
        """Delete a closed or expired session's ephemerals (those the txn names, else the tree's own)."""
        mine = self.ephemerals.pop(session, set())
        for path in paths if paths is not None else sorted(mine):
            try:
                self.delete_node(path, zxid, events)
            except TreeError:
                pass  # already gone: replaying a log over a fuzzy snapshot

    def _digest_in(self, path: str, node: Node) -> None:
        if self.track_digest:
            self.digest = dg.add(self.digest, dg.of(path, node))

    def _digest_out(self, path: str, node: Node) -> None:
        if self.track_digest:
            self.digest = dg.add(self.digest, -dg.of(path, node))

    def recompute_digest(self) -> int:
        total = 0
        for path, node in self.nodes.items():
            total = dg.add(total, dg.of(path, node))
        return total

    # ---- introspection -----------------------------------------------------------------------

    def watch_mode_name(self, mode: int) -> str:
        return {STANDARD: "standard", PERSISTENT: "persistent", PERSISTENT_RECURSIVE: "recursive"}[mode]
