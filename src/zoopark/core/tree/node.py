"""A znode as the tree stores it, and the Stat a client sees of it."""

from __future__ import annotations

from librt.strings import BytesWriter, write_i32_be, write_i64_be

from ..jute.constants import CONTAINER_EPHEMERAL_OWNER, EXTENDED_MASK
from ..jute.records import ACL, Stat


def is_container(owner: int) -> bool:
    return owner == CONTAINER_EPHEMERAL_OWNER


def is_ttl(owner: int, extended_types: bool) -> bool:
    return extended_types and owner != CONTAINER_EPHEMERAL_OWNER and (owner & EXTENDED_MASK) == EXTENDED_MASK


def ttl_of(owner: int) -> int:
    return owner & 0x000000FFFFFFFFFF


def ttl_owner(ttl_ms: int) -> int:
    return EXTENDED_MASK | ttl_ms


def data_length(data: bytes | None) -> int:
    """What ZooKeeper counts for a node's data (Stat.dataLength, approximate_data_size): null counts 0."""
    return 0 if data is None else len(data)


def approximate_size(nodes: dict[str, Node]) -> int:
    """DataTree.approximateDataSize: path and data lengths of every entry of ZooKeeper's node map, which holds
    the root twice (as "" and as its alias "/"), so the root's data counts twice and "/" once."""
    total = 0
    for path, node in nodes.items():
        # len() is Java's String.length() here: valid paths have no characters beyond 0xFFFF (see paths).
        total += data_length(node.data) + (0 if path == "/" else len(path))
    root = nodes.get("/")
    return total + (1 + data_length(root.data) if root is not None else 0)


class Node:
    """Stored fields follow ZooKeeper's StatPersisted: `cversion` counts child creations only.

    `data` is None for a node created or set with null data (a buffer of length -1 on the wire), as
    ZooKeeper keeps it: a read returns null again, not empty bytes, and snapshots and logs write -1.
    The Stat a client sees reports cversion as creations + deletions (2 * cversion - children), dataLength 0
    for null data, and ephemeralOwner 0 for containers and TTL nodes, as DataNode.copyStat does.
    """

    __slots__ = (
        "data", "acl", "czxid", "mzxid", "ctime", "mtime", "version", "cversion", "aversion",
        "owner", "pzxid", "children", "_stat",
    )

    def __init__(self, data: bytes | None, acl: tuple[ACL, ...], zxid: int, time_ms: int, owner: int) -> None:
        self.data = data
        self.acl = acl
        self.czxid = zxid
        self.mzxid = zxid
        self.ctime = time_ms
        self.mtime = time_ms
        self.version = 0
        self.cversion = 0
        self.aversion = 0
        self.owner = owner
        self.pzxid = zxid
        self.children: dict[str, None] | None = None  # insertion-ordered, like ZooKeeper's list order needs
        self._stat: bytes | None = None

    def changed(self) -> None:
        self._stat = None

    @property
    def num_children(self) -> int:
        return len(self.children) if self.children else 0

    def client_owner(self) -> int:
        owner = self.owner
        if owner == CONTAINER_EPHEMERAL_OWNER or (owner & EXTENDED_MASK) == EXTENDED_MASK:
            return 0
        return owner

    def stat(self) -> Stat:
        n = self.num_children
        return Stat(
            self.czxid, self.mzxid, self.ctime, self.mtime, self.version, self.cversion * 2 - n,
            self.aversion, self.client_owner(), data_length(self.data), n, self.pzxid,
        )

    def stat_bytes(self) -> bytes:
        """The serialized Stat, cached until the node changes (reads are the hot path)."""
        b = self._stat
        if b is None:
            # Written field by field with librt's writers (the layout of records.STAT): compiled, each is a
            # store, where a struct's pack would box all eleven fields first.
            n = self.num_children
            w = BytesWriter()
            write_i64_be(w, self.czxid)
            write_i64_be(w, self.mzxid)
            write_i64_be(w, self.ctime)
            write_i64_be(w, self.mtime)
            write_i32_be(w, self.version)
            write_i32_be(w, self.cversion * 2 - n)
            write_i32_be(w, self.aversion)
            write_i64_be(w, self.client_owner())
            write_i32_be(w, data_length(self.data))
            write_i32_be(w, n)
            write_i64_be(w, self.pzxid)
            b = self._stat = w.getvalue()
        return b
