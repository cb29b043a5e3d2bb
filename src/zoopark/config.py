"""zoo.cfg (+ myid) -> a frozen, validated Config.

ZooKeeper's format: java.util.Properties lines `key=value`, `#` / `!` comments. Keys ZooKeeper takes as Java
system properties (jute.maxbuffer, zookeeper.extendedTypesEnabled, ...) are accepted here too, with or without
their `zookeeper.` prefix. An unknown key is logged and kept in `Config.extra`; a bad value raises ConfigError
naming the key.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("zoopark.config")


class ConfigError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class ServerSpec:
    id: int
    host: str
    quorum_port: int
    election_port: int
    observer: bool = False
    client_address: str | None = None
    client_port: int | None = None


def _int(key: str, v: str) -> int:
    try:
        return int(v.strip())
    except ValueError:
        raise ConfigError(f"{key}: {v!r} is not an integer") from None


def _bool(key: str, v: str) -> bool:
    s = v.strip().lower()
    if s in ("true", "yes"):
        return True
    if s in ("false", "no"):
        return False
    raise ConfigError(f"{key}: {v!r} is not a boolean (true/false/yes/no)")


def _port(key: str, v: str) -> int:
    p = _int(key, v)
    if not 1 <= p <= 65535:
        raise ConfigError(f"{key}: {p} is not a port number (1..65535)")
    return p


def _positive(key: str, v: str) -> int:
    n = _int(key, v)
    if n <= 0:
        raise ConfigError(f"{key}: {n} must be positive")
    return n


def _non_negative(key: str, v: str) -> int:
    n = _int(key, v)
    if n < 0:
        raise ConfigError(f"{key}: {n} must not be negative")
    return n


def _str(key: str, v: str) -> str:
    return v.strip()


# key in zoo.cfg -> (Config field, parser). Aliases map to the same field.
_KEYS: dict[str, tuple[str, Callable[[str, str], Any]]] = {
    "tickTime": ("tick_time_ms", _positive),
    "initLimit": ("init_limit", _positive),
    "syncLimit": ("sync_limit", _positive),
    "dataDir": ("data_dir", _str),
    "dataLogDir": ("data_log_dir", _str),
    "clientPort": ("client_port", _port),
    "clientPortAddress": ("client_port_address", _str),
    "maxClientCnxns": ("max_client_cnxns", _non_negative),
    "maxCnxns": ("max_cnxns", _non_negative),
    "minSessionTimeout": ("min_session_timeout_cfg", _int),
    "maxSessionTimeout": ("max_session_timeout_cfg", _int),
    "peerType": ("peer_type", _str),
    "electionAlg": ("election_alg", _int),
    "standaloneEnabled": ("standalone_enabled", _bool),
    "reconfigEnabled": ("reconfig_enabled", _bool),
    "autopurge.snapRetainCount": ("autopurge_snap_retain_count", _int),
    "autopurge.purgeInterval": ("autopurge_purge_interval_h", _int),
    "4lw.commands.whitelist": ("four_letter_words", _str),
    "snapCount": ("snap_count", _positive),
    "zookeeper.snapCount": ("snap_count", _positive),
    "preAllocSize": ("pre_alloc_size_kb", _positive),
    "zookeeper.preAllocSize": ("pre_alloc_size_kb", _positive),
    "jute.maxbuffer": ("jute_max_buffer_bytes", _positive),
    "extendedTypesEnabled": ("extended_types_enabled", _bool),
    "zookeeper.extendedTypesEnabled": ("extended_types_enabled", _bool),
    "superDigest": ("super_digest", _str),
    "zookeeper.DigestAuthenticationProvider.superDigest": ("super_digest", _str),
    "forceSync": ("force_sync", _bool),
    "zookeeper.forceSync": ("force_sync", _bool),
    "globalOutstandingLimit": ("global_outstanding_limit", _positive),
    "zookeeper.globalOutstandingLimit": ("global_outstanding_limit", _positive),
    "readonlymode.enabled": ("read_only_mode_enabled", _bool),
    "syncEnabled": ("sync_enabled", _bool),
    "znode.container.checkIntervalMs": ("container_check_interval_ms", _positive),
    "znode.container.maxPerMinute": ("container_max_per_minute", _positive),
    "admin.enableServer": ("admin_enable_server", _bool),
    "admin.serverAddress": ("admin_server_address", _str),
    "admin.serverPort": ("admin_server_port", _port),
    "admin.commandURL": ("admin_command_url", _str),
    "metricsProvider.className": ("metrics_provider_class", _str),
    "metricsProvider.httpPort": ("metrics_http_port", _port),
    "metricsProvider.httpHost": ("metrics_http_host", _str),
    "quorumListenOnAllIPs": ("quorum_listen_on_all_ips", _bool),
    "localSessionsEnabled": ("local_sessions_enabled", _bool),
    "leaderServes": ("leader_serves", _bool),
    "cnxTimeout": ("cnx_timeout_ms", _positive),
    "electionPortBindRetry": ("election_port_bind_retry", _non_negative),
    "zookeeper.digest.enabled": ("digest_enabled", _bool),
    "snapshot.trust.empty": ("snapshot_trust_empty", _bool),
    "zookeeper.snapshot.trust.empty": ("snapshot_trust_empty", _bool),
    "snapSizeLimitInKb": ("snap_size_limit_kb", _int),
    "zookeeper.snapSizeLimitInKb": ("snap_size_limit_kb", _int),
    "digest.enabled": ("digest_enabled", _bool),
    "secureClientPort": ("secure_client_port", _port),
    "nio.sessionlessCnxnTimeout": ("sessionless_cnxn_timeout_ms", _positive),
    "zookeeper.nio.sessionlessCnxnTimeout": ("sessionless_cnxn_timeout_ms", _positive),
}
_UNSUPPORTED = {"secureClientPort", "secureClientPortAddress", "sslQuorum", "portUnification"}


@dataclass(frozen=True, slots=True)
class Config:
    data_dir: Path
    data_log_dir: Path
    tick_time_ms: int = 3000
    init_limit: int | None = None
    sync_limit: int | None = None
    client_port: int | None = None
    client_port_address: str = "0.0.0.0"
    secure_client_port: int | None = None
    max_client_cnxns: int = 60
    max_cnxns: int = 0
    min_session_timeout_cfg: int = -1
    max_session_timeout_cfg: int = -1
    servers: tuple[ServerSpec, ...] = ()
    my_id: int | None = None
    peer_type: str = "participant"
    election_alg: int = 3
    standalone_enabled: bool = True
    reconfig_enabled: bool = False
    autopurge_snap_retain_count: int = 3
    autopurge_purge_interval_h: int = 0
    four_letter_words: frozenset[str] = frozenset({"srvr"})
    snap_count: int = 100_000
    snap_size_limit_kb: int = 4_194_304  # ZooKeeper's default, 4 GB of log since the last snapshot
    snapshot_trust_empty: bool = False
    pre_alloc_size_kb: int = 65536
    jute_max_buffer_bytes: int = 0xFFFFF
    extended_types_enabled: bool = False
    super_digest: str | None = None
    force_sync: bool = True
    global_outstanding_limit: int = 1000
    read_only_mode_enabled: bool = False
    sync_enabled: bool = True
    container_check_interval_ms: int = 60_000
    container_max_per_minute: int = 10_000
    admin_enable_server: bool = True
    admin_server_address: str = "0.0.0.0"
    admin_server_port: int = 8080
    admin_command_url: str = "/commands"
    metrics_provider_class: str | None = None
    metrics_http_port: int = 7000
    metrics_http_host: str = "0.0.0.0"
    quorum_listen_on_all_ips: bool = False
    local_sessions_enabled: bool = False
    leader_serves: bool = True
    cnx_timeout_ms: int = 5000
    election_port_bind_retry: int = 3
    source_text: str = ""  # the config file as read (the admin server's initial_configuration)
    digest_enabled: bool = True
    sessionless_cnxn_timeout_ms: int = 10_000
    extra: tuple[tuple[str, str], ...] = field(default=())

    @property
    def min_session_timeout_ms(self) -> int:
        return self.min_session_timeout_cfg if self.min_session_timeout_cfg > 0 else 2 * self.tick_time_ms

    @property
    def max_session_timeout_ms(self) -> int:
        return self.max_session_timeout_cfg if self.max_session_timeout_cfg > 0 else 20 * self.tick_time_ms

    @property
    def is_standalone(self) -> bool:
        return not self.servers or (len(self.servers) == 1 and self.standalone_enabled)

    @property
    def snap_dir(self) -> Path:
        return self.data_dir / "version-2"

    @property
    def log_dir(self) -> Path:
        return self.data_log_dir / "version-2"

    @property
    def pre_alloc_size_bytes(self) -> int:
        return self.pre_alloc_size_kb * 1024


def parse_properties(text: str) -> list[tuple[str, str]]:
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        for sep in ("=", ":"):
            if sep in line:
                k, v = line.split(sep, 1)
                break
        else:
            k, v = line, ""
        out.append((k.strip(), v.strip()))
    return out


def _server(key: str, value: str) -> ServerSpec:
    """server.N=host:quorumPort:electionPort[:participant|:observer][;[clientAddr:]clientPort]"""
    try:
        sid = int(key.split(".", 1)[1])
    except ValueError:
        raise ConfigError(f"{key}: the server id is not an integer") from None
    addr, _, client = value.partition(";")
    parts = addr.strip().split(":")
    if len(parts) not in (3, 4):
        raise ConfigError(f"{key}: {value!r} is not host:quorumPort:electionPort[:participant|observer]")
    observer = False
    if len(parts) == 4:
        if parts[3] not in ("participant", "observer"):
            raise ConfigError(f"{key}: role {parts[3]!r} is neither participant nor observer")
        observer = parts[3] == "observer"
    client_address, client_port = None, None
    if client.strip():
        c = client.strip()
        if ":" in c:
            client_address, c = c.rsplit(":", 1)
        client_port = _port(key, c)
    return ServerSpec(sid, parts[0], _port(key, parts[1]), _port(key, parts[2]), observer, client_address, client_port)


def parse_config(text: str, base_dir: Path | None = None, overrides: dict[str, str] | None = None) -> Config:
    base_dir = base_dir or Path.cwd()
    values: dict[str, Any] = {}
    servers: dict[int, ServerSpec] = {}
    extra: list[tuple[str, str]] = []
    items = parse_properties(text) + list((overrides or {}).items())
    for key, value in items:
        if key.startswith("server."):
            spec = _server(key, value)
            if spec.id in servers:
                raise ConfigError(f"{key}: server id {spec.id} is given twice")
            servers[spec.id] = spec
        elif key in _KEYS:
            name, parse = _KEYS[key]
            values[name] = parse(key, value)
            if key in _UNSUPPORTED:
                log.warning("%s is not supported by zoopark; ignored", key)
        elif key.startswith("group.") or key.startswith("weight."):
            raise ConfigError(f"{key}: hierarchical quorums are not supported")
        else:
            log.warning("unknown configuration key %s=%s (ignored)", key, value)
            extra.append((key, value))
    if "data_dir" not in values or not values["data_dir"]:
        raise ConfigError("dataDir: is required")
    data_dir = Path(values.pop("data_dir"))
    values["data_dir"] = data_dir
    values["data_log_dir"] = Path(values.pop("data_log_dir", None) or data_dir)
    if "four_letter_words" in values:
        words = frozenset(w.strip() for w in values["four_letter_words"].split(",") if w.strip())
        values["four_letter_words"] = words
    snap_retain = values.get("autopurge_snap_retain_count", 3)
    if snap_retain < 3:
        log.warning("autopurge.snapRetainCount=%d raised to the minimum of 3", snap_retain)
        values["autopurge_snap_retain_count"] = 3
    if values.get("election_alg", 3) != 3:
        raise ConfigError(f"electionAlg: {values['election_alg']} is not supported (only 3)")
    if values.get("peer_type", "participant") not in ("participant", "observer"):
        raise ConfigError(f"peerType: {values['peer_type']!r} is neither participant nor observer")
    if values.get("super_digest") == "":
        values["super_digest"] = None
    cfg = Config(servers=tuple(sorted(servers.values(), key=lambda s: s.id)), extra=tuple(extra), **values)
    return _validate(cfg, base_dir)


def _validate(cfg: Config, base_dir: Path) -> Config:
    if cfg.min_session_timeout_ms > cfg.max_session_timeout_ms:
        raise ConfigError(
            f"minSessionTimeout: {cfg.min_session_timeout_ms} is larger than maxSessionTimeout {cfg.max_session_timeout_ms}")
    if not cfg.servers:
        if cfg.client_port is None:
            raise ConfigError("clientPort: is required")
        return cfg
    if cfg.init_limit is None:
        raise ConfigError("initLimit: is required when servers are configured")
    if cfg.sync_limit is None:
        raise ConfigError("syncLimit: is required when servers are configured")
    seen: dict[tuple[str, int], int] = {}
    for s in cfg.servers:
        for port in (s.quorum_port, s.election_port):
            other = seen.get((s.host, port))
            if other is not None:
                raise ConfigError(f"server.{s.id}: address {s.host}:{port} is also used by server.{other}")
            seen[(s.host, port)] = s.id
    myid_file = cfg.data_dir / "myid"
    try:
        my_id = int(myid_file.read_text().strip())
    except FileNotFoundError:
        raise ConfigError(f"myid: {myid_file} is missing (it must hold this server's id)") from None
    except ValueError:
        raise ConfigError(f"myid: {myid_file} does not hold an integer") from None
    if my_id not in {s.id for s in cfg.servers}:
        raise ConfigError(f"myid: {my_id} matches no server.N line")
    me = next(s for s in cfg.servers if s.id == my_id)
    client_port = cfg.client_port if cfg.client_port is not None else me.client_port
    if client_port is None:
        raise ConfigError(f"clientPort: is required (or give server.{my_id} a ;clientPort)")
    from dataclasses import replace

    return replace(cfg, my_id=my_id, client_port=client_port)


def load_config(path: str | Path, overrides: dict[str, str] | None = None) -> Config:
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as e:
        raise ConfigError(f"cannot read {p}: {e.strerror}") from None
    return dataclasses.replace(parse_config(text, p.parent, overrides), source_text=text)
