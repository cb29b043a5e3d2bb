"""The order in which ZooKeeper lists a node's children: its java.util.HashSet's iteration order.

DataNode keeps children in `new HashSet<String>(8)`: a table of 8 buckets, doubled whenever the count
exceeds three quarters of it, never shrunk. Iteration walks the buckets in index order (index = the spread
String.hashCode masked by the table size) and, within a bucket, the entries in insertion order. We keep
children in an insertion-ordered dict and the table size per node, so a stable sort by bucket reproduces
ZooKeeper's order exactly (bar a bucket of 8+ colliding names, where Java would treeify or resize).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from ..jute.records import Id

INITIAL_CAPACITY = 8


@lru_cache(maxsize=65536)
def java_hash(s: str) -> int:
    """String.hashCode over UTF-16 code units, as an unsigned 32-bit value."""
    h = 0
    if s.isascii():
        for c in s.encode("ascii"):
            h = (31 * h + c) & 0xFFFFFFFF
        return h
    b = s.encode("utf-16-be")
    for i in range(0, len(b), 2):
        h = (31 * h + (b[i] << 8 | b[i + 1])) & 0xFFFFFFFF
    return h


def bucket(name: str, capacity: int) -> int:
    h = java_hash(name)
    return (h ^ (h >> 16)) & (capacity - 1)


def grown_capacity(size: int, capacity: int) -> int:
    """The table size after an insert made the set `size` long (HashMap.putVal's resize rule)."""
    while size > capacity * 3 // 4:
        capacity *= 2
    return capacity


def ordered(children: Iterable[str], capacity: int) -> list[str]:
    """`children` (in insertion order) as ZooKeeper's getChildren lists them."""
    return sorted(children, key=lambda name: bucket(name, capacity))


def _signed32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


def id_hash(scheme: str, ident: str) -> int:
    """The jute-generated Id.hashCode: 37 * (37 * 17 + scheme.hashCode()) + id.hashCode(), as int32."""
    result = 37 * 17 + _signed32(java_hash(scheme))
    result = 37 * _signed32(result) + _signed32(java_hash(ident))
    return result & 0xFFFFFFFF


def auth_ordered(ids: Iterable[Id]) -> list[Id]:
    """A connection's auth ids in ZooKeeper's order: a ConcurrentHashMap-backed set of 16 buckets (it never
    holds the 13 ids that would grow it), iterated by bucket, then insertion."""
    def key(i: Id) -> int:
        h = id_hash(i.scheme, i.id)
        return ((h ^ (h >> 16)) & 0x7FFFFFFF) & 15
    return sorted(ids, key=key)
