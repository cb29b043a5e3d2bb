"""The text ZooKeeper 3.8 serves in /zookeeper/config: QuorumMaj.toString of the configured ensemble, down to
the order Java's hash tables put the members in."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from .core.tree import javaorder

if TYPE_CHECKING:
    from .config import Config


def java_host(host: str) -> str:
    """An address as QuorumServer.delimitedHostString prints it: InetSocketAddress.getHostString keeps a host
    name as written and prints an IP literal as Java formats it (IPv6 in full, in brackets)."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ip = ipaddress.ip_address(bare)
    except ValueError:
        return host
    if ip.version == 4:
        return str(ip)
    return "[" + ":".join(f"{int(g, 16):x}" for g in ip.exploded.split(":")) + "]"


def _properties_order(keys: list[str]) -> list[str]:
    """The order java.util.Properties iterates keys `load` put in this order: since Java 9 it is a
    ConcurrentHashMap(8), a table of 16 bins doubled when three quarters full; a bin lists its keys in insertion
    order, except that a resize moves the keys before the bin's last run to the front in reverse
    (ConcurrentHashMap.transfer)."""
    n = 16
    bins: list[list[tuple[int, str]]] = [[] for _ in range(n)]
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            continue  # a repeated key keeps its place and takes the last value
        seen.add(key)
        h = javaorder.java_hash(key)
        h = (h ^ (h >> 16)) & 0x7FFFFFFF
        bins[h & (n - 1)].append((h, key))
        if len(seen) >= n - (n >> 2):
            bins = _transfer(bins, n)
            n *= 2
    return [key for b in bins for _, key in b]


def _transfer(bins: list[list[tuple[int, str]]], n: int) -> list[list[tuple[int, str]]]:
    grown: list[list[tuple[int, str]]] = [[] for _ in range(2 * n)]
    for i, b in enumerate(bins):
        if not b:
            continue
        run_bit, last_run = b[0][0] & n, 0
        for j in range(1, len(b)):
            if b[j][0] & n != run_bit:
                run_bit, last_run = b[j][0] & n, j
        lo, hi = (b[last_run:], []) if run_bit == 0 else ([], b[last_run:])
        for node in b[:last_run]:
            (hi if node[0] & n else lo).insert(0, node)
        grown[i], grown[i + n] = lo, hi
    return grown


def member_order(keys: list[str]) -> tuple[int, ...]:
    """The order QuorumMaj.toString lists members in: QuorumMaj puts the `server.N` keys in the order
    Properties iterates them into a HashMap<Long, QuorumServer> (16 buckets, doubled past three quarters full,
    bucket = the spread Long.hashCode), which it iterates by bucket, then insertion."""
    ids = [int(k.split(".", 1)[1]) for k in _properties_order(keys) if k.startswith("server.")]
    capacity = 16
    while len(ids) > capacity * 3 // 4:
        capacity *= 2

    def bucket(sid: int) -> int:
        h = (sid ^ (sid >> 32)) & 0xFFFFFFFF
        return (h ^ (h >> 16)) & (capacity - 1)
    return tuple(sorted(ids, key=bucket))


def quorum_config_text(cfg: Config) -> str:
    """The ensemble's configuration as ZooKeeper 3.8 serves it in /zookeeper/config (QuorumMaj.toString):
    `server.N=host:quorumPort:electionPort:participant|observer[;clientHost:clientPort]` lines and
    `version=<hex>`, no final newline. A client address is printed only where the server line gives one
    (clientPort= in zoo.cfg is "from the static config" and left out)."""
    by_id = {s.id: s for s in cfg.servers}
    lines = []
    for sid in cfg.member_order or sorted(by_id):
        s = by_id[sid]
        line = (f"server.{sid}={java_host(s.host)}:{s.quorum_port}:{s.election_port}:"
                f"{'observer' if s.observer else 'participant'}")
        if s.client_port is not None:
            line += f";{java_host(s.client_address or '0.0.0.0')}:{s.client_port}"
        lines.append(line + "\n")
    return "".join(lines) + f"version={cfg.config_version:x}"


__all__ = ["java_host", "member_order", "quorum_config_text"]
