"""ZooKeeper's ContainerManager, as a pure function: which containers and TTL nodes are due for removal."""

from __future__ import annotations

from ..tree.datatree import DataTree
from ..tree.node import ttl_of


def candidates(tree: DataTree, now_ms: int, limit: int) -> list[str]:
    """Empty containers that once had children, and childless TTL nodes unmodified for longer than their TTL
    (ContainerManager.getCandidates), at most `limit` of them."""
    out = []
    for path in sorted(tree.containers):
        n = tree.get(path)
        if n is not None and not n.children and n.cversion > 0:
            out.append(path)
    for path in sorted(tree.ttls):
        n = tree.get(path)
        if n is not None and not n.children:
            ttl = ttl_of(n.owner)
            if ttl and now_ms - n.mtime > ttl:
                out.append(path)
    return out[:limit]
