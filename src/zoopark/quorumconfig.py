"""The text ZooKeeper 3.8 serves in /zookeeper/config: QuorumMaj.toString of the configured ensemble, down to
the order Java's hash tables put the members in."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from .javaprops import properties_order

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


def member_order(keys: list[str]) -> tuple[int, ...]:
    """The order QuorumMaj.toString lists members in: QuorumMaj puts the `server.N` keys in the order
    Properties iterates them into a HashMap<Long, QuorumServer> (16 buckets, doubled past three quarters full,
    bucket = the spread Long.hashCode), which it iterates by bucket, then insertion."""
    ids = [int(k.split(".", 1)[1]) for k in properties_order(keys) if k.startswith("server.")]
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
