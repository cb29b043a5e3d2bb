"""Snapshots in ZooKeeper 3.8's format (FileSnap), as a byte stream: no files here, the adapters write them.

A snapshot `snapshot.<hex zxid>` is one Adler32-checked stream:
    FileHeader     int magic "ZKSN", int version 2, long dbid -1
    sessions       int count, then (long id, int timeout) each
    ACL cache      int count, then (long key, vector<ACL>) each
    nodes          (string path, DataNode) each, parents before children, the root as path "",
                   DataNode = buffer data (length -1: null), long acl key (-1: OPEN_ACL_UNSAFE), StatPersisted
                   ended by the path "/"
    seal           long Adler32 of every byte so far, string "/"
    ZxidDigest     long zxid, int digest version, long digest (written when digests are enabled, as in 3.8)
    seal           long Adler32 of every byte so far, string "/"
The tree's `nodes` dict is insertion-ordered and a node is always inserted after its parent (a parent can only
be deleted once it has no children), so walking it in order writes parents first, with no recursion.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from librt.strings import read_i32_be, read_i64_be

from ..jute.io import JuteError, Reader, Writer
from ..jute.records import ACL, OPEN_ACL_UNSAFE
from . import digest as dg
from . import javaorder
from .datatree import CONFIG, QUOTA, ZOOKEEPER, DataTree
from .node import Node, approximate_size, data_length, is_container, is_ttl
from .tables import LARGE, keep_hashes

SNAP_MAGIC = 0x5A4B534E  # "ZKSN"
VERSION = 2
DBID = -1
OPEN_UNSAFE_ACL_ID = -1
_HEADER = struct.Struct(">iiq")
_SESSION = struct.Struct(">qi")
_INT = struct.Struct(">i")
_LONG = struct.Struct(">q")
# long acl, StatPersisted: czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner, pzxid
_NODE_TAIL = struct.Struct(">qqqqqiiiqq")
_ZXID_DIGEST = struct.Struct(">qiq")
_END = _INT.pack(1) + b"/"
_NULL = _INT.pack(-1)  # a null buffer
_CHUNK_NODES = 4096
# Nodes whose ACL ZooKeeper keeps as the key -1 (created with a null ACL list, not through the cache).
_UNCACHED = frozenset({"/", ZOOKEEPER, QUOTA})


class SnapshotError(Exception):
    """The stream is not a whole, intact snapshot; `offset` is where reading failed."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(f"{reason} (at offset {offset})")
        self.offset = offset
        self.reason = reason


@dataclass(slots=True)
class Snapshot:
    tree: DataTree
    sessions: dict[int, int]  # session id -> timeout ms
    zxid_digest: tuple[int, int, int] | None  # (zxid, digest version, digest) if the snapshot has one


def _string(s: str) -> bytes:
    b = s.encode("utf-8")
    return _INT.pack(len(b)) + b


def serialize(tree: DataTree, sessions: dict[int, int], digest: tuple[int, int] | None) -> Iterator[bytes]:
    """The snapshot of `tree` and `sessions` as chunks of bytes. `digest` is (zxid, tree digest) for the
    ZxidDigest section, or None to leave it out (as 3.8 does with digests disabled)."""
    header = _HEADER.pack(SNAP_MAGIC, VERSION, DBID)
    adler = zlib.adler32(header)
    yield header
    for chunk in body_chunks(tree, sessions):
        adler = zlib.adler32(chunk, adler)
        yield chunk
    seal = _LONG.pack(adler) + _END
    adler = zlib.adler32(seal, adler)
    if digest is None:
        yield seal
        return
    zd = _ZXID_DIGEST.pack(digest[0], dg.DIGEST_VERSION, digest[1])
    adler = zlib.adler32(zd, adler)
    yield seal + zd + _LONG.pack(adler) + _END


def serialize_body(tree: DataTree, sessions: dict[int, int]) -> bytes:
    """Sessions and tree without header or seals: what a leader streams after SNAP (ZKDatabase.serializeSnapshot)."""
    return b"".join(body_chunks(tree, sessions))


def body_chunks(tree: DataTree, sessions: dict[int, int]) -> Iterator[bytes]:
    head = Writer()
    head.int(len(sessions))
    for sid, timeout in sessions.items():
        head.raw(_SESSION.pack(sid, timeout))
    acl_keys: dict[int, int] = {}  # id(interned ACL tuple) -> key
    acl_lists: list[tuple[int, tuple[ACL, ...]]] = []
    for path, node in tree.nodes.items():
        if path in _UNCACHED and node.acl == OPEN_ACL_UNSAFE:
            continue
        if id(node.acl) not in acl_keys:
            key = len(acl_lists) + 1
            acl_keys[id(node.acl)] = key
            acl_lists.append((key, node.acl))
    head.int(len(acl_lists))
    for key, acls in acl_lists:
        head.long(key)
        head.vector(acls, lambda w, a: a.write(w))
    yield head.getvalue()

    parts: list[bytes] = []
    pack_tail = _NODE_TAIL.pack
    pack_int = _INT.pack
    n = 0
    for path, node in tree.nodes.items():
        p = b"" if path == "/" else path.encode("utf-8")
        acl = OPEN_UNSAFE_ACL_ID if path in _UNCACHED and node.acl == OPEN_ACL_UNSAFE else acl_keys[id(node.acl)]
        data = node.data
        parts.append(pack_int(len(p)))
        parts.append(p)
        if data is None:
            parts.append(_NULL)
        else:
            parts.append(pack_int(len(data)))
            parts.append(data)
        parts.append(pack_tail(acl, node.czxid, node.mzxid, node.ctime, node.mtime, node.version,
                               node.cversion, node.aversion, node.owner, node.pzxid))
        n += 1
        if n % _CHUNK_NODES == 0:
            yield b"".join(parts)
            parts.clear()
    parts.append(_END)
    yield b"".join(parts)


def looks_complete(tail: bytes) -> bool:
    """SnapStream.isValidCheckedStream: a snapshot ends with the string "/" (a cheap check before reading)."""
    return len(tail) >= 5 and tail[-5:] == _END


def deserialize(
    data: bytes | memoryview,
    extended_types: bool = False,
    track_digest: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Snapshot:
    """Read a whole snapshot. `progress(bytes read, total)` is called every few thousand nodes."""
    buf = bytes(data)  # slicing bytes gives bytes in one step (a memoryview would need a copy more)
    total = len(buf)
    try:
        return _deserialize(buf, total, extended_types, track_digest, progress)
    except (struct.error, JuteError, UnicodeDecodeError, IndexError, ValueError) as e:
        raise SnapshotError(total, f"truncated or malformed snapshot: {e}") from e


def deserialize_body(data: bytes | memoryview, extended_types: bool = False,
                     track_digest: bool = False) -> Snapshot:
    """Sessions and tree as a leader streams them after SNAP; the bytes must end right after the tree."""
    buf = bytes(data)
    try:
        tree, sessions, pos = _read_body(buf, 0, len(buf), extended_types, track_digest, None)
    except (struct.error, JuteError, UnicodeDecodeError, IndexError, ValueError) as e:
        raise SnapshotError(len(buf), f"truncated or malformed snapshot: {e}") from e
    if pos != len(buf):
        raise SnapshotError(pos, f"{len(buf) - pos} bytes after the end of the tree")
    return Snapshot(tree, sessions, None)


def _deserialize(buf: bytes, total: int, extended_types: bool, track_digest: bool,
                 progress: Callable[[int, int], None] | None) -> Snapshot:
    magic, version, _dbid = _HEADER.unpack_from(buf, 0)
    if magic != SNAP_MAGIC:
        raise SnapshotError(0, f"not a snapshot (magic 0x{magic & 0xFFFFFFFF:08x}, expected 0x{SNAP_MAGIC:08x})")
    if version != VERSION:
        raise SnapshotError(4, f"unsupported snapshot version {version}")
    tree, sessions, pos = _read_body(buf, _HEADER.size, total, extended_types, track_digest, progress)
    running = _check_seal(buf, pos)
    seal_at = pos
    pos += 13
    zxid_digest = None
    if pos < total:
        zxid, version, value = _ZXID_DIGEST.unpack_from(buf, pos)
        if version < 2:
            raise SnapshotError(pos, f"digest version {version} (a hex string) is not supported")
        pos += _ZXID_DIGEST.size
        _check_seal(buf, pos, seal_at, running)
        pos += 13
        zxid_digest = (zxid, version, value) if zxid > 0 else None
    if pos != total:
        raise SnapshotError(pos, f"{total - pos} bytes after the end of the snapshot")
    if progress is not None:
        progress(total, total)
    return Snapshot(tree, sessions, zxid_digest)


def _children_table(paths: list[str]) -> dict[str, None]:
    """A parent's children table from their paths in snapshot order (a name written twice is kept once, at its
    first place, as inserting them one by one would)."""
    table: dict[str, None] = {}
    if len(paths) >= LARGE:
        keep_hashes(table)
    cut = paths[0].rfind("/") + 1  # every path here has the parent's path before it
    for path in paths:
        table[path[cut:]] = None
    return table


def _read_body(buf: bytes, pos: int, total: int, extended_types: bool, track_digest: bool,
               progress: Callable[[int, int], None] | None) -> tuple[DataTree, dict[int, int], int]:
    (count,) = _INT.unpack_from(buf, pos)
    pos += 4
    if count < 0 or count * _SESSION.size > total - pos:
        raise SnapshotError(pos - 4, f"bad session count {count}")
    sessions: dict[int, int] = {}
    for _ in range(count):
        sid, timeout = _SESSION.unpack_from(buf, pos)
        sessions[sid] = timeout
        pos += _SESSION.size

    r = Reader(buf, pos)
    n_acls = r.int()
    if n_acls < 0 or n_acls > total:
        raise SnapshotError(r.pos - 4, f"bad ACL cache size {n_acls}")
    tree = DataTree(extended_types=extended_types, track_digest=False)
    acls: dict[int, tuple[ACL, ...]] = {OPEN_UNSAFE_ACL_ID: tree.intern_acl(OPEN_ACL_UNSAFE)}
    for _ in range(n_acls):
        key = r.long()
        lst = r.vector(ACL.read)
        acls[key] = tree.intern_acl(lst or ())
    pos = r.pos

    nodes = tree.nodes
    nodes.clear()
    # Fields are read one at a time with librt's readers: compiled, each is a bounds check and a load, where
    # a struct would box every field and the tuple holding them.
    tail_size = _NODE_TAIL.size
    count = 0
    size = 0  # approximate_size(nodes), summed on the way (DataTree.deserialize recounts it)
    # The nodes with children and their children's paths in snapshot order: each table is built after the
    # loop, in one run per parent (a table filled in runs is cheaper than the same inserts interleaved with
    # the path map's: fewer cache misses between two tables of millions of entries).
    parents: list[tuple[str, Node, list[str]]] = []
    children_of: dict[int, list[str]] = {}  # by the parent's id(): a path written twice is two nodes, as in ZooKeeper
    last_children: list[str] = []
    # The previous node's parent: siblings are written together (in creation order), so most nodes have the
    # one before's parent, found without slicing its path and looking it up.
    last_parent_path = "\0"  # no node's path: the first node finds its parent by lookup
    last_parent: Node | None = None
    while True:
        plen = read_i32_be(buf, pos)
        pos += 4
        if plen < 0 or pos + plen > total:
            raise SnapshotError(pos - 4, f"bad path length {plen}")
        path = buf[pos : pos + plen].decode()
        pos += plen
        if path == "/":
            break
        dlen = read_i32_be(buf, pos)
        pos += 4
        if dlen == -1:
            data = None  # null data stays null, as DataNode.deserialize's readBuffer keeps it
        elif dlen < 0:
            raise SnapshotError(pos - 4, f"bad data length {dlen} of {path!r}")
        else:
            if pos + dlen > total:
                raise SnapshotError(pos - 4, f"bad data length {dlen} of {path!r}")
            data = buf[pos : pos + dlen]
            pos += dlen
            size += dlen
        # long acl, then StatPersisted (as _NODE_TAIL): czxid, mzxid, ctime, mtime, version, cversion, aversion,
        # ephemeralOwner, pzxid
        if pos + tail_size > total:
            raise SnapshotError(pos, f"node {path!r} is cut short")
        acl = read_i64_be(buf, pos)
        czxid = read_i64_be(buf, pos + 8)
        mzxid = read_i64_be(buf, pos + 16)
        ctime = read_i64_be(buf, pos + 24)
        mtime = read_i64_be(buf, pos + 32)
        version = read_i32_be(buf, pos + 40)
        cversion = read_i32_be(buf, pos + 44)
        aversion = read_i32_be(buf, pos + 48)
        owner = read_i64_be(buf, pos + 52)
        pzxid = read_i64_be(buf, pos + 60)
        pos += tail_size
        try:
            node_acl = acls[acl]
        except KeyError:
            raise SnapshotError(pos - tail_size, f"node {path!r} names ACL {acl}, not in the ACL cache") from None
        # Through __init__ (a compiled class's __new__ runs it too), then what a new node does not share
        node = Node(data, node_acl, czxid, ctime, owner)
        node.mzxid, node.mtime, node.pzxid = mzxid, mtime, pzxid
        node.version, node.cversion, node.aversion = version, cversion, aversion
        if not path:
            nodes["/"] = node
        else:
            cut = path.rfind("/")
            if last_parent is None or cut != len(last_parent_path) or not path.startswith(last_parent_path):
                parent_path = path[:cut]
                found = nodes.get(parent_path or "/")
                if found is None or not path.startswith("/"):
                    raise SnapshotError(pos, f"node {path!r} comes before its parent")
                last_parent = found
                last_parent_path = parent_path
                got = children_of.get(id(found))
                if got is None:
                    got = children_of[id(found)] = []
                    parents.append((parent_path or "/", found, got))
                last_children = got
            last_children.append(path)
            nodes[path] = node
            size += len(path)
            if owner:
                if is_container(owner):
                    tree.containers.add(path)
                elif is_ttl(owner, extended_types):
                    tree.ttls.add(path)
                else:
                    tree.ephemerals.setdefault(owner, set()).add(path)
        count += 1
        if count == LARGE:
            keep_hashes(nodes)
        if progress is not None and count % 100_000 == 0:
            progress(pos, total)
    root = nodes.get("/")
    if root is None:
        raise SnapshotError(pos, "snapshot has no root node")
    for name in ("/", ZOOKEEPER, QUOTA, CONFIG):
        if name not in nodes:
            raise SnapshotError(pos, f"snapshot has no {name} node")
    for _, node, paths in parents:
        node.children = _children_table(paths)
    if len(nodes) != count:  # a path written twice (the later node won): count what the map holds
        size = approximate_size(nodes) - 1 - data_length(root.data)
        parents = [(path, node, []) for path, node in nodes.items() if node.children is not None]
    # ZooKeeper's node map holds the root twice (as "" and "/"): see node.approximate_size
    tree.approximate_data_size = size + 1 + data_length(root.data)
    # ...and then recounts every quota's subtree into its stats node (setupQuota), after the size: ZooKeeper's
    # nodeDataSize does not follow the stats nodes' rewrites.
    tree.quotas.setup()
    for path, node, _ in parents:
        n = node.num_children
        if n > javaorder.INITIAL_CAPACITY * 3 // 4:
            tree._child_capacity[path] = javaorder.grown_capacity(n, javaorder.INITIAL_CAPACITY)
    tree.track_digest = track_digest
    tree.digest = tree.recompute_digest() if track_digest else 0
    return tree, sessions, pos


def _check_seal(buf: bytes, pos: int, start: int = 0, running: int = 1) -> int:
    """Check the seal at `pos` against the Adler32 of every byte before it (`running` being that of
    buf[:start]); returns the running checksum past the seal."""
    (val,) = _LONG.unpack_from(buf, pos)
    if bytes(buf[pos + 8 : pos + 13]) != _END:
        raise SnapshotError(pos, "seal is not followed by \"/\"")
    actual = zlib.adler32(memoryview(buf)[start:pos], running)
    if val != actual:
        raise SnapshotError(pos, f"checksum mismatch (stored 0x{val & 0xFFFFFFFF:08x}, computed 0x{actual:08x})")
    return actual
