"""What the core needs to know of the configuration (the runtime builds it from zoopark.config.Config)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CoreSettings:
    tick_ms: int = 2000
    min_session_timeout_ms: int = 4000
    max_session_timeout_ms: int = 40000
    server_id: int = 0
    extended_types: bool = False
    super_digest: str | None = None  # "super:<base64 sha1>"
    container_check_interval_ms: int = 60_000
    container_max_per_minute: int = 10_000
    outstanding_writes_max: int = 10_000
    # An ensemble member's /zookeeper/config (QuorumMaj.toString) and the config's version; None standalone,
    # where ZooKeeper leaves the node empty.
    quorum_config: bytes | None = None
    quorum_config_version: int = 0
