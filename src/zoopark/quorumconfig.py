"""The text ZooKeeper 3.8 serves in /zookeeper/config: QuorumMaj.toString of the configured ensemble, down to
the order Java's hash tables put the members in (core/zab/verifier.py prints it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .core.zab.verifier import QuorumVerifier, java_host, member_order, parse

if TYPE_CHECKING:
    from .config import Config


def verifier(cfg: Config) -> QuorumVerifier:
    """The configured ensemble as a QuorumVerifier, members in ZooKeeper's order."""
    by_id = {s.id: s for s in cfg.servers}
    return QuorumVerifier(tuple(by_id[sid] for sid in cfg.member_order or sorted(by_id)), cfg.config_version)


def last_seen(cfg: Config) -> QuorumVerifier | None:
    """The configuration <zoo.cfg>.dynamic.next held at start (a reconfig proposed and not committed), as
    QuorumPeerConfig reads it (only beside a dynamicConfigFile) and QuorumPeer takes it (only with
    reconfigEnabled: setLastSeenQuorumVerifier keeps nothing otherwise); None if there is none."""
    if cfg.next_dynamic_text is None or not cfg.reconfig_enabled:
        return None
    return parse(cfg.next_dynamic_text)


def quorum_config_text(cfg: Config) -> str:
    """The ensemble's configuration as ZooKeeper 3.8 serves it in /zookeeper/config (QuorumMaj.toString):
    `server.N=host:quorumPort:electionPort:participant|observer[;clientHost:clientPort]` lines and
    `version=<hex>`, no final newline. A client address is printed only where the server line gives one
    (clientPort= in zoo.cfg is "from the static config" and left out)."""
    return verifier(cfg).text()


__all__ = ["java_host", "last_seen", "member_order", "quorum_config_text", "verifier"]
