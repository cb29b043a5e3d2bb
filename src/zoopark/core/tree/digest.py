"""ZooKeeper 3.8's tree digest (DigestCalculator, version 2, summed as AdHash).

Each node's digest is CRC32 over its path, its data and 60 bytes of its persisted stat; the tree's digest is
the 64-bit wrapping sum over every node outside /zookeeper/. Replicas (and ZooKeeper) compare it to detect
divergence; snapshots record it.
"""

from __future__ import annotations

import struct
import zlib

from .node import Node

DIGEST_VERSION = 2
_STAT = struct.Struct(">qqqqqiiiq")
_EXCLUDED = "/zookeeper/"
_MASK64 = (1 << 64) - 1


def node_digest(path: str, data: bytes | None, czxid: int, mzxid: int, pzxid: int, ctime: int, mtime: int,
                version: int, cversion: int, aversion: int, owner: int) -> int:
    if path.startswith(_EXCLUDED):
        return 0
    if path == "/":
        path = ""
    crc = zlib.crc32(path.encode("utf-8"))
    if data:
        crc = zlib.crc32(data, crc)
    return zlib.crc32(_STAT.pack(czxid, mzxid, pzxid, ctime, mtime, version, cversion, aversion, owner), crc)


def of(path: str, node: Node) -> int:
    return node_digest(path, node.data, node.czxid, node.mzxid, node.pzxid, node.ctime, node.mtime,
                       node.version, node.cversion, node.aversion, node.owner)


def add(total: int, d: int) -> int:
    v = (total + d) & _MASK64
    return v - (1 << 64) if v >= 1 << 63 else v
