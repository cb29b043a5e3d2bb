"""zoo.cfg (+ myid) -> a frozen, validated Config.

ZooKeeper's format: java.util.Properties lines `key=value`, `#` / `!` comments. ZooKeeper 3.8 takes its own keys
(QuorumPeerConfig.parseProperties: tickTime, dataDir, server.N, ...) and passes any other key on as the Java
system property `zookeeper.<key>`, which its classes read (snapCount, DigestAuthenticationProvider.superDigest,
ssl.*, ...). zoopark has no system properties: zoo.cfg takes those keys with or without the `zookeeper.` prefix.
Each key is one of: implemented; a ZooKeeper setting zoopark accepts but does not implement (logged as such,
kept in `Config.ignored`; quiet when its value asks for what zoopark does anyway); or unknown to ZooKeeper too
(logged, kept in `Config.extra`). A bad value, or a combination ZooKeeper refuses, raises ConfigError naming
the key.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import jaas, javaprops
from .core.zab.verifier import BadServer, parse_server
from .core.zab.verifier import Member as ServerSpec
from .core.zab.verifier import parse as verifier_parse
from .quorumconfig import java_host, member_order

log = logging.getLogger("zoopark.config")


class ConfigError(Exception):
    pass


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


def _list(key: str, v: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in v.split(",") if x.strip())


_TLS_PROTOCOLS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", "TLS")


def _tls_protocol(key: str, v: str) -> str:
    if v.strip() not in _TLS_PROTOCOLS:
        raise ConfigError(f"{key}: {v!r} is not one of {', '.join(_TLS_PROTOCOLS)}")
    return v.strip()


def _tls_protocols(key: str, v: str) -> tuple[str, ...]:
    names = _list(key, v)
    for n in names:
        if n not in _TLS_PROTOCOLS[:-1]:
            raise ConfigError(f"{key}: {n!r} is not one of {', '.join(_TLS_PROTOCOLS[:-1])}")
    return names


def _store_type(key: str, v: str) -> str:
    t = v.strip().upper()
    if t and t not in ("PEM", "PKCS12", "JKS"):
        raise ConfigError(f"{key}: {v!r} is not one of PEM, PKCS12, JKS")
    return t


def _client_auth(key: str, v: str) -> str:
    # X509Util.ClientAuth.fromPropertyValue: case-insensitive; an empty value is the default, need
    t = v.strip().lower() or "need"
    if t not in ("none", "want", "need"):
        raise ConfigError(f"{key}: {v!r} is not one of none, want, need")
    return t


def _java_bool(key: str, v: str) -> bool:
    """QuorumPeerConfig.parseBoolean: true or false in any case, nothing else."""
    s = v.strip().lower()
    if s not in ("true", "false"):
        raise ConfigError(f"{key}: Invalid option {v.strip()} for {key}. Choose 'true' or 'false.'")
    return s == "true"


def _hex(key: str, v: str) -> int:
    try:
        return int(v.strip(), 16)
    except ValueError:
        raise ConfigError(f"{key}: {v!r} is not a hexadecimal number") from None


_Parse = Callable[[str, str], Any]

# QuorumPeerConfig.parseProperties' own keys, which zoopark implements: one spelling (ZooKeeper turns any key
# it does not know into the system property zookeeper.<key>, so zookeeper.tickTime would set nothing).
_CFG_KEYS: dict[str, tuple[str, _Parse]] = {
    "tickTime": ("tick_time_ms", _positive),
    "sslQuorum": ("ssl_quorum", _bool),  # TLS on the quorum and election ports, with the ssl.quorum.* keys
    "sslQuorumReloadCertFiles": ("ssl_quorum_reload_cert_files", _bool),  # new ssl.quorum.* files, no restart
    # Quorum SASL (QuorumAuth): DIGEST-MD5 between members, from the JAAS file's QuorumServer / QuorumLearner
    "quorum.auth.enableSasl": ("quorum_auth_enable_sasl", _bool),
    "quorum.auth.learnerRequireSasl": ("quorum_auth_learner_require_sasl", _bool),
    "quorum.auth.serverRequireSasl": ("quorum_auth_server_require_sasl", _bool),
    "quorum.auth.learner.saslLoginContext": ("quorum_auth_learner_login_context", _str),
    "quorum.auth.server.saslLoginContext": ("quorum_auth_server_login_context", _str),
    "initLimit": ("init_limit", _positive),
    "syncLimit": ("sync_limit", _positive),
    "dataDir": ("data_dir", _str),
    "dataLogDir": ("data_log_dir", _str),
    "clientPort": ("client_port", _port),
    "clientPortAddress": ("client_port_address", _str),
    "maxClientCnxns": ("max_client_cnxns", _non_negative),
    "minSessionTimeout": ("min_session_timeout_cfg", _int),
    "maxSessionTimeout": ("max_session_timeout_cfg", _int),
    "peerType": ("peer_type", _str),
    "electionAlg": ("election_alg", _int),
    "standaloneEnabled": ("standalone_enabled", _java_bool),
    "reconfigEnabled": ("reconfig_enabled", _java_bool),  # the reconfig request; dynamic files (runtime.dynconfig)
    "dynamicConfigFile": ("dynamic_config_file", _str),  # the ensemble's server lines and (in its name) version
    "autopurge.snapRetainCount": ("autopurge_snap_retain_count", _int),
    "autopurge.purgeInterval": ("autopurge_purge_interval_h", _int),
    "metricsProvider.className": ("metrics_provider_class", _str),
    "metricsProvider.httpPort": ("metrics_http_port", _port),
    "metricsProvider.httpHost": ("metrics_http_host", _str),
    "version": ("config_version", _hex),  # QuorumMaj reads it from the static config too
    "secureClientPort": ("secure_client_port", _port),
    "secureClientPortAddress": ("secure_client_port_address", _str),
}

# Keys ZooKeeper reads as Java system properties, here without their `zookeeper.` prefix. zoo.cfg takes them in
# both spellings: ZooKeeper itself passes `snapCount=...` on as zookeeper.snapCount. (jute.maxbuffer,
# readonlymode.enabled and znode.container.* are read without the prefix by ZooKeeper, from -D only; zoopark has
# no -D, so zoo.cfg takes them too.)
_PROPERTY_KEYS: dict[str, tuple[str, _Parse]] = {
    "4lw.commands.whitelist": ("four_letter_words", _str),
    "snapCount": ("snap_count", _positive),
    "snapSizeLimitInKb": ("snap_size_limit_kb", _int),
    "snapshot.trust.empty": ("snapshot_trust_empty", _bool),
    "preAllocSize": ("pre_alloc_size_kb", _positive),
    "jute.maxbuffer": ("jute_max_buffer_bytes", _positive),
    "extendedTypesEnabled": ("extended_types_enabled", _bool),
    "DigestAuthenticationProvider.superDigest": ("super_digest", _str),
    "forceSync": ("force_sync", _bool),
    "globalOutstandingLimit": ("global_outstanding_limit", _positive),
    "readonlymode.enabled": ("read_only_mode_enabled", _bool),
    "znode.container.checkIntervalMs": ("container_check_interval_ms", _positive),
    "znode.container.maxPerMinute": ("container_max_per_minute", _positive),
    "enforceQuota": ("enforce_quota", _bool),  # ZooKeeperServer.ENFORCE_QUOTA: hard limits refuse writes
    "admin.enableServer": ("admin_enable_server", _bool),
    "quorumCnxnTimeoutMs": ("quorum_cnxn_timeout_ms", _int),  # the election port's socket timeout (if > 0)
    # QuorumX509Util's zookeeper.ssl.quorum.* (ZooKeeper passes zoo.cfg's ssl.quorum.* lines on as these)
    "ssl.quorum.keyStore.location": ("ssl_quorum_key_store_location", _str),
    "ssl.quorum.keyStore.password": ("ssl_quorum_key_store_password", _str),
    "ssl.quorum.keyStore.passwordPath": ("ssl_quorum_key_store_password_path", _str),
    "ssl.quorum.keyStore.type": ("ssl_quorum_key_store_type", _store_type),
    "ssl.quorum.trustStore.location": ("ssl_quorum_trust_store_location", _str),
    "ssl.quorum.trustStore.password": ("ssl_quorum_trust_store_password", _str),
    "ssl.quorum.trustStore.passwordPath": ("ssl_quorum_trust_store_password_path", _str),
    "ssl.quorum.trustStore.type": ("ssl_quorum_trust_store_type", _store_type),
    "ssl.quorum.protocol": ("ssl_quorum_protocol", _tls_protocol),
    "ssl.quorum.enabledProtocols": ("ssl_quorum_enabled_protocols", _tls_protocols),
    "ssl.quorum.ciphersuites": ("ssl_quorum_ciphersuites", _list),
    "ssl.quorum.clientAuth": ("ssl_quorum_client_auth", _client_auth),
    "ssl.quorum.hostnameVerification": ("ssl_quorum_hostname_verification", _bool),
    "admin.serverAddress": ("admin_server_address", _str),
    "admin.serverPort": ("admin_server_port", _port),
    "admin.commandURL": ("admin_command_url", _str),
    "digest.enabled": ("digest_enabled", _bool),
    "nio.sessionlessCnxnTimeout": ("sessionless_cnxn_timeout_ms", _positive),
    # SASL for clients. java.security.auth.login.config is a JVM property (ZooKeeper takes it from -D only, as
    # zkServer.sh passes SERVER_JVMFLAGS); zoopark takes it in zoo.cfg too, and from those variables.
    "java.security.auth.login.config": ("jaas_config", _str),
    "sasl.serverconfig": ("sasl_login_context", _str),
    "SASLAuthenticationProvider.superPassword": ("sasl_super_password", _str),
    "sessionRequireClientSASLAuth": ("session_require_client_sasl_auth", _bool),
    "enforce.auth.enabled": ("enforce_auth_enabled", _bool),
    "enforce.auth.schemes": ("enforce_auth_schemes", _str),
    "allowSaslFailedClients": ("allow_sasl_failed_clients", _bool),
    "kerberos.removeHostFromPrincipal": ("kerberos_remove_host", _bool),
    "kerberos.removeRealmFromPrincipal": ("kerberos_remove_realm", _bool),
    # ClientX509Util's zookeeper.ssl.* (the client port's TLS; ssl.quorum.* stays the quorum's)
    "ssl.keyStore.location": ("ssl_key_store_location", _str),
    "ssl.keyStore.password": ("ssl_key_store_password", _str),
    "ssl.keyStore.passwordPath": ("ssl_key_store_password_path", _str),
    "ssl.keyStore.type": ("ssl_key_store_type", _store_type),
    "ssl.trustStore.location": ("ssl_trust_store_location", _str),
    "ssl.trustStore.password": ("ssl_trust_store_password", _str),
    "ssl.trustStore.passwordPath": ("ssl_trust_store_password_path", _str),
    "ssl.trustStore.type": ("ssl_trust_store_type", _store_type),
    "ssl.protocol": ("ssl_protocol", _tls_protocol),
    "ssl.enabledProtocols": ("ssl_enabled_protocols", _tls_protocols),
    "ssl.ciphersuites": ("ssl_ciphersuites", _list),
    "ssl.clientAuth": ("ssl_client_auth", _client_auth),
    "ssl.hostnameVerification": ("ssl_hostname_verification", _bool),
    "ssl.authProvider": ("ssl_auth_provider", _str),
    "client.portUnification": ("client_port_unification", _bool),
    "X509AuthenticationProvider.superUser": ("x509_super_user", _str),
}
# authProvider.<anything>=<class> registers an authentication provider (ProviderRegistry); superUser[.<any>]=<id>
# names a SASL super user (ZooKeeperServer.isSaslSuperUser). Both may be given several times.
_PROPERTY_FAMILIES = ("authProvider.", "superUser.")
SASL_PROVIDER = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
# Provider classes ZooKeeper 3.8 ships -> their scheme (digest and ip are always registered).
AUTH_PROVIDER_SCHEMES = {
    SASL_PROVIDER: "sasl",
    "org.apache.zookeeper.server.auth.DigestAuthenticationProvider": "digest",
    "org.apache.zookeeper.server.auth.IPAuthenticationProvider": "ip",
    "org.apache.zookeeper.server.auth.X509AuthenticationProvider": "x509",
}

# Keys ZooKeeper 3.8 reads that zoopark accepts but does not implement: each maps to the value zoopark behaves as
# (a setting asking for just that is honoured by what zoopark always does), or None. Anything else is logged as
# accepted-but-ignored at start-up, never as unknown.
_CFG_IGNORED: dict[str, str | None] = {
    "localSessionsEnabled": "false", "localSessionsUpgradingEnabled": "false", "observerMasterPort": None, "clientPortListenBacklog": None,
    "connectToLearnerMasterLimit": None, "quorumListenOnAllIPs": "false", "syncEnabled": "true",
    "portUnification": "false",
    "quorum.auth.kerberos.servicePrincipal": None,
    "quorum.cnxn.threads.size": None,
    "jvm.pause.info-threshold.ms": None, "jvm.pause.warn-threshold.ms": None, "jvm.pause.sleep.time.ms": None,
    "jvm.pause.monitor": "false", "multiAddress.enabled": "false", "multiAddress.reachabilityCheckTimeoutMs": None,
    "multiAddress.reachabilityCheckEnabled": None, "oraclePath": None,
}
# Of those, the ones QuorumPeerConfig parses as it reads the file: a bad value stops ZooKeeper, and zoopark.
_CFG_IGNORED_VALUES: dict[str, _Parse] = {
    **dict.fromkeys(("localSessionsEnabled", "localSessionsUpgradingEnabled", "quorumListenOnAllIPs", "syncEnabled",
                     "portUnification",
                     "jvm.pause.monitor", "multiAddress.enabled", "multiAddress.reachabilityCheckEnabled"), _bool),
    **dict.fromkeys(("observerMasterPort", "clientPortListenBacklog",
                     "connectToLearnerMasterLimit", "quorum.cnxn.threads.size", "jvm.pause.info-threshold.ms",
                     "jvm.pause.warn-threshold.ms", "jvm.pause.sleep.time.ms",
                     "multiAddress.reachabilityCheckTimeoutMs"), _int),
}
_CFG_IGNORED_PREFIXES = ("metricsProvider.",)  # the provider's own settings (exportJvmInfo, ...)
_PROPERTY_IGNORED: dict[str, str | None] = {
    "DigestAuthenticationProvider.digestAlg": "SHA1", "DigestAuthenticationProvider.enabled": "true",
    "admin.forceHttps": "false", "admin.httpVersion": None, "admin.idleTimeout": None,
    "admin.portUnification": "false", "audit.enable": "false",
    "audit.impl.class": None, "bitHashCacheSize": None,
    "clientTcpKeepAlive": None, "closeSessionTxn.enabled": "true", "cnxTimeout": None, "commitLogCount": None,
    "commitProcessor.maxCommitBatchSize": None, "commitProcessor.maxReadBatchSize": None,
    "commitProcessor.numWorkerThreads": None, "commitProcessor.shutdownTimeout": None,
    "connection_throttle_decrease_ratio": None, "connection_throttle_drop_decrease": None,
    "connection_throttle_drop_increase": None, "connection_throttle_fill_count": None,
    "connection_throttle_fill_time": None, "connection_throttle_freeze_time": None,
    "connection_throttle_global_session_weight": None, "connection_throttle_local_session_weight": None,
    "connection_throttle_renew_session_weight": None, "connection_throttle_tokens": None,
    "connection_throttle_weight_enabled": None, "datadir.autocreate": "true", "db.autocreate": None,
    "electionPortBindRetry": None, "enableEagerACLCheck": "false", "ensembleAuthName": None,
    "fastleader.maxNotificationInterval": None, "fastleader.minNotificationInterval": None, "flushDelay": None,
    "follower.skipLearnerRequestToNextProcessor": None, "forceSnapshotSync": "false",
    "forward_learner_requests_to_commit_processor_disabled": None, "intBufferStartingSizeBytes": None,
    "jmx.log4j.disable": None, "jmx.log4j.mbean": None, "jute.maxbuffer.extrasize": None,
    "kerberos.canonicalizeHostNames": None, "kinit": None, "largeRequestMaxBytes": None,
    "largeRequestThreshold": None, "leader.ackLoggingFrequency": None, "leader.closeSocketAsync": None,
    "leader.maxConcurrentDiffSyncs": None, "leader.maxConcurrentSnapSyncs": None,
    "leader.maxTimeToWaitForEpoch": None, "leaderConnectDelayDuringRetryMs": None, "leaderServes": "yes",
    "learner.asyncSending": None, "learner.closeSocketAsync": None, "letAnySaslUserDoX": None,
    "maxBatchSize": None, "maxCnxns": "0", "maxGetChildrenResponseCacheSize": None,
    "maxInProcessingDeadWatchers": None, "maxResponseCacheSize": None, "maxWriteQueuePollTime": None,
    "messageTracker.BufferSize": None, "messageTracker.Enabled": None,
    "netty.advancedFlowControl.enabled": None, "netty.server.earlyDropSecureConnectionHandshakes": None,
    "netty.server.outstandingHandshake.limit": None, "nio.directBufferBytes": None,
    "nio.numSelectorThreads": None, "nio.numWorkerThreads": None, "nio.shutdownTimeout": None,
    "observer.election.DelayMs": None, "observer.reconnectDelayMs": None, "observer.syncEnabled": "true",
    "observerMaster.sizeLimit": None, "request_stale_connection_check": None,
    "request_stale_latency_check": None, "request_throttle_drop_stale": None,
    "request_throttle_max_requests": "0", "request_throttle_stall_time": None,
    "request_throttler.shutdownTimeout": None, "requireKerberosConfig": None,
    "security.auth_to_local": None, "serverCnxnFactory": None,
    "skipACL": "no", "snapshot.compression.method": None, "snapshotSizeFactor": None,
    "tcpKeepAlive": None, "testingonly.initialZxid": None, "throttled_op_wait_time": None,
    "txnLogSizeLimitInKb": None, "watchManagerName": None, "watcherCleanIntervalInSeconds": None,
    "watcherCleanThreadsNum": None, "watcherCleanThreshold": None, "fsync.warningthresholdms": None,
    "follower.nodelay": None, "leader.nodelay": None, "znode.container.maxNeverUsedIntervalMs": None,
    "emulate353TTLNodes": "false", "multiAddress.enabled": "false", "multiAddress.reachabilityCheckEnabled": None,
    "multiAddress.reachabilityCheckTimeoutMs": None,
}
# X509Util's zookeeper.ssl.* and zookeeper.ssl.quorum.* (keyStore.location, ...), ZooKeeper's path statistics.
_PROPERTY_IGNORED_PREFIXES = ("ssl.", "pathStats.")
_PREFIX = "zookeeper."


def _property_name(key: str) -> str:
    """A system-property key without its `zookeeper.` prefix, as the tables above name it."""
    return key[len(_PREFIX):] if key.startswith(_PREFIX) else key


def secret(key: str) -> bool:
    """A key whose value is a secret (a keystore password): never logged, never shown."""
    return "password" in key.lower() and not key.lower().endswith("passwordpath")


def shown(key: str, value: str) -> str:
    return "********" if secret(key) else value


def redacted(text: str) -> str:
    """zoo.cfg text with the values of secret keys masked (the admin server's initial_configuration)."""
    def mask(m: re.Match) -> str:
        return m.group(1) + "********" if secret(m.group(2)) else m.group(0)
    return re.sub(r"(?m)^([ \t]*([^#!\s=:][^=:\n]*?)[ \t]*[=:][ \t]*)\S.*$", mask, text)


def key_kind(key: str) -> str:
    """What zoopark makes of a zoo.cfg key: "implemented", "ignored" (ZooKeeper 3.8 reads it, zoopark does not
    implement it), "refused" (hierarchical quorums) or "unknown" (ZooKeeper does not read it either)."""
    name = _property_name(key)
    if key.startswith("server.") or key in _CFG_KEYS or name in _PROPERTY_KEYS or key == "superDigest" \
            or name == "superUser" or name.startswith(_PROPERTY_FAMILIES):
        return "implemented"
    if key.startswith(("group.", "weight.")):
        return "refused"
    if key in _CFG_IGNORED or key.startswith(_CFG_IGNORED_PREFIXES) or name in _PROPERTY_IGNORED \
            or name.startswith(_PROPERTY_IGNORED_PREFIXES):
        return "ignored"
    return "unknown"


def _same_setting(value: str, zoopark: str | None) -> bool:
    if zoopark is None:
        return False
    v, z = value.strip().lower(), zoopark.lower()
    truth = {"true": "true", "yes": "true", "false": "false", "no": "false"}
    return truth.get(v, v) == truth.get(z, z)


@dataclass(frozen=True, slots=True)
class Config:
    data_dir: Path
    data_log_dir: Path
    tick_time_ms: int = 3000
    init_limit: int | None = None
    sync_limit: int | None = None
    client_port: int | None = None
    client_port_address: str = "0.0.0.0"
    max_client_cnxns: int = 60
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
    container_check_interval_ms: int = 60_000
    enforce_quota: bool = False
    container_max_per_minute: int = 10_000
    admin_enable_server: bool = True
    admin_server_address: str = "0.0.0.0"
    admin_server_port: int = 8080
    admin_command_url: str = "/commands"
    metrics_provider_class: str | None = None
    metrics_http_port: int = 7000
    metrics_http_host: str = "0.0.0.0"
    source_text: str = ""  # the config file as read (the admin server's initial_configuration)
    digest_enabled: bool = True
    sessionless_cnxn_timeout_ms: int = 10_000
    config_version: int = 0  # the quorum configuration's version (zoo.cfg's `version`, hex)
    # The client port's TLS (ZooKeeper's secureClientPort, client.portUnification, zookeeper.ssl.*)
    secure_client_port: int | None = None
    secure_client_port_address: str = "0.0.0.0"
    client_port_unification: bool = False
    ssl_key_store_location: str | None = None
    ssl_key_store_password: str | None = field(default=None, repr=False)
    ssl_key_store_password_path: str | None = None
    ssl_key_store_type: str = ""
    ssl_trust_store_location: str | None = None
    ssl_trust_store_password: str | None = field(default=None, repr=False)
    ssl_trust_store_password_path: str | None = None
    ssl_trust_store_type: str = ""
    ssl_protocol: str = "TLSv1.2"  # ZooKeeper 3.8's X509Util.DEFAULT_PROTOCOL
    ssl_enabled_protocols: tuple[str, ...] = ()
    ssl_ciphersuites: tuple[str, ...] = ()
    ssl_client_auth: str = "need"
    ssl_hostname_verification: bool = True  # a client's setting: ZooKeeper's server never checks client names
    ssl_auth_provider: str = "x509"
    # The quorum's TLS (sslQuorum, zookeeper.ssl.quorum.*): both ends present certificates, and both check the
    # other's names (QuorumX509Util verifies the client's hostname too)
    ssl_quorum: bool = False
    ssl_quorum_reload_cert_files: bool = False
    quorum_cnxn_timeout_ms: int = -1  # zookeeper.quorumCnxnTimeoutMs; <= 0: tickTime x syncLimit
    ssl_quorum_key_store_location: str | None = None
    ssl_quorum_key_store_password: str | None = field(default=None, repr=False)
    ssl_quorum_key_store_password_path: str | None = None
    ssl_quorum_key_store_type: str = ""
    ssl_quorum_trust_store_location: str | None = None
    ssl_quorum_trust_store_password: str | None = field(default=None, repr=False)
    ssl_quorum_trust_store_password_path: str | None = None
    ssl_quorum_trust_store_type: str = ""
    ssl_quorum_protocol: str = "TLSv1.2"
    ssl_quorum_enabled_protocols: tuple[str, ...] = ()
    ssl_quorum_ciphersuites: tuple[str, ...] = ()
    ssl_quorum_client_auth: str = "need"
    ssl_quorum_hostname_verification: bool = True
    x509_super_user: str | None = None
    reconfig_enabled: bool = False
    dynamic_config_file: str | None = None  # dynamicConfigFile as given (relative: to the working directory)
    config_path: str | None = None  # the config file as given on the command line (the dynamic files' stem)
    next_dynamic_text: str | None = None  # <config>.dynamic.next at start-up: a proposed, uncommitted config
    member_order: tuple[int, ...] = ()  # server ids in the order ZooKeeper lists them (see _member_order)
    ignored: tuple[tuple[str, str], ...] = field(default=())  # ZooKeeper settings zoopark does not implement
    extra: tuple[tuple[str, str], ...] = field(default=())  # keys ZooKeeper 3.8 does not read either
    jaas_config: str | None = None  # java.security.auth.login.config: the JAAS file (its Server section: SASL)
    sasl_login_context: str = "Server"  # zookeeper.sasl.serverconfig
    quorum_auth_enable_sasl: bool = False  # quorum.auth.*: SASL between members (net.quorumsasl)
    quorum_auth_learner_require_sasl: bool = False
    quorum_auth_server_require_sasl: bool = False
    quorum_auth_learner_login_context: str = "QuorumLearner"
    quorum_auth_server_login_context: str = "QuorumServer"
    sasl_super_password: str | None = field(default=None, repr=False)  # the DIGEST-MD5 password of user "super"
    sasl_super_users: tuple[str, ...] = ()  # zookeeper.superUser[.*]: SASL ids that are super
    auth_providers: tuple[str, ...] = ()  # authProvider.N class names
    session_require_client_sasl_auth: bool = False
    enforce_auth_enabled: bool = False
    enforce_auth_schemes: tuple[str, ...] = ()
    kerberos_remove_host: bool = False
    kerberos_remove_realm: bool = False
    allow_sasl_failed_clients: bool = False

    @property
    def auth_schemes(self) -> frozenset[str]:
        """The ACL schemes registered (ProviderRegistry): digest and ip, those of authProvider.N, and x509 when
        the client port serves TLS (ZooKeeper's Netty factory registers the X509 provider itself)."""
        tls = {"x509"} if self.tls_needed and self.ssl_auth_provider == "x509" else set()
        return frozenset({"digest", "ip"} | tls | {AUTH_PROVIDER_SCHEMES[c] for c in self.auth_providers
                                                   if c in AUTH_PROVIDER_SCHEMES})

    @property
    def enforced_auth_schemes(self) -> tuple[str, ...]:
        """The schemes one of which a connection must have authenticated with before any request
        (AuthenticationHelper; sessionRequireClientSASLAuth means sasl and overrides enforce.auth.*); () = off."""
        if self.session_require_client_sasl_auth:
            return ("sasl",)
        return self.enforce_auth_schemes if self.enforce_auth_enabled else ()

    @property
    def min_session_timeout_ms(self) -> int:
        return self.min_session_timeout_cfg if self.min_session_timeout_cfg > 0 else 2 * self.tick_time_ms

    @property
    def max_session_timeout_ms(self) -> int:
        return self.max_session_timeout_cfg if self.max_session_timeout_cfg > 0 else 20 * self.tick_time_ms

    @property
    def tls_needed(self) -> bool:
        return self.secure_client_port is not None or self.client_port_unification

    @property
    def is_standalone(self) -> bool:
        """QuorumPeerConfig.isDistributed's negation: standaloneEnabled=false makes even one participant an
        ensemble member (one that can grow by reconfig)."""
        return self.standalone_enabled and sum(1 for s in self.servers if not s.observer) <= 1

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
    """zoo.cfg's entries in file order as java.util.Properties.load reads them, keys and values trimmed."""
    return [(k.strip(), v.strip()) for k, v in javaprops.load(text)]


def _server(key: str, value: str) -> ServerSpec:
    """A zoo.cfg server line, read by the same parser as a reconfig's (QuorumServer's rules and messages)."""
    try:
        return parse_server(key, value)
    except BadServer as e:
        raise ConfigError(f"{key}: {e}") from None


def _read_dynamic_file(path: str) -> tuple[list[tuple[str, str]], int]:
    """QuorumPeerConfig.parse's dynamic file: server lines only (no version inside: the version is the file
    name's last extension, in hex, or 0)."""
    try:
        with open(path, encoding="latin-1") as f:  # Properties.load(InputStream) reads ISO 8859-1
            text = f.read()
    except OSError as e:
        raise ConfigError(f"dynamicConfigFile: cannot read {path}: {e.strerror}") from None
    items = parse_properties(text)
    for key, _ in items:
        if key == "version":
            raise ConfigError(f"dynamicConfigFile: {path}: dynamic file shouldn't have version inside")
        if key.startswith(("group", "weight")):
            raise ConfigError(f"{key}: hierarchical quorums are not supported")
        if not key.startswith("server."):
            raise ConfigError(f"dynamicConfigFile: {path}: Unrecognised parameter: {key}")
    suffix = path.rsplit(".", 1)[1] if "." in path else ""
    version = int(suffix, 16) if re.fullmatch(r"[+-]?[0-9a-fA-F]+", suffix) else 0
    return items, version


def parse_servers(items: list[tuple[str, str]]) -> dict[int, ServerSpec]:
    servers: dict[int, ServerSpec] = {}
    for key, value in items:
        if key.startswith("server."):
            spec = _server(key, value)
            if spec.id in servers:  # java.util.Properties keeps the last
                log.warning("%s: server %d is given twice; the last line counts, as in ZooKeeper", key, spec.id)
            servers[spec.id] = spec
    return servers


def check_participants(servers: dict[int, ServerSpec], standalone_enabled: bool, warnings: bool = True) -> None:
    """QuorumPeerConfig.parseDynamicConfig's refusals (and, with `warnings`, its complaints in the log)."""
    voters = sum(1 for s in servers.values() if not s.observer)
    observers = len(servers) - voters
    if voters == 0:
        if not standalone_enabled:
            raise ConfigError("standaloneEnabled: standaloneEnabled = false then number of participants should be "
                              ">0 (server.N lines that are not observers)")
        if observers:
            raise ConfigError("server.N: Observers w/o participants is an invalid configuration")
    elif voters == 1 and standalone_enabled:
        if warnings:
            log.error("Invalid configuration, only one server specified (ignoring): running standalone "
                      "(standaloneEnabled=false makes it a one-member ensemble)")
        if observers:
            raise ConfigError("server.N: Observers w/o quorum is an invalid configuration (one participant runs "
                              "standalone unless standaloneEnabled=false)")
    elif warnings and voters <= 2:
        log.warning("No server failure will be tolerated. You need at least 3 servers.")
    elif warnings and voters % 2 == 0:
        log.warning("Non-optimal configuration, consider an odd number of servers.")


def parse_config(text: str, base_dir: Path | None = None, overrides: dict[str, str] | None = None,
                 env: Mapping[str, str] | None = None, config_path: str | None = None) -> Config:
    """`env`: the environment, for -Djava.security.auth.login.config in SERVER_JVMFLAGS / JVMFLAGS;
    `config_path`: the file `text` came from (its `.dynamic.next` is read, and the dynamic files are named
    after it)."""
    base_dir = base_dir or Path.cwd()
    values: dict[str, Any] = {}
    server_items: list[tuple[str, str]] = []
    extra: list[tuple[str, str]] = []
    ignored: list[tuple[str, str]] = []
    items = parse_properties(text) + list((overrides or {}).items())
    dynamic = any(k == "dynamicConfigFile" for k, _ in items)
    for key, value in items:
        name = _property_name(key)
        kind = key_kind(key)
        if key.startswith("server."):
            if dynamic:
                raise ConfigError(f"parameter: {key} must be in a separate dynamic config file")
            server_items.append((key, value))
        elif kind == "refused":
            raise ConfigError(f"{key}: hierarchical quorums are not supported")
        elif name.startswith("authProvider."):
            values.setdefault("auth_providers", []).append(value.strip())
        elif name == "superUser" or name.startswith("superUser."):
            values.setdefault("sasl_super_users", []).append(value.strip())
        elif key == "superDigest":  # zoopark's early spelling; ZooKeeper never read it
            log.warning("superDigest is not a ZooKeeper setting: write DigestAuthenticationProvider.superDigest")
            values["super_digest"] = value.strip()
        elif kind == "implemented":
            field_name, parse = _CFG_KEYS.get(key) or _PROPERTY_KEYS[name]
            values[field_name] = parse(key, value)
        elif kind == "ignored":
            if key in _CFG_IGNORED_VALUES:
                _CFG_IGNORED_VALUES[key](key, value)
            zoopark = _CFG_IGNORED[key] if key in _CFG_IGNORED else _PROPERTY_IGNORED.get(name)
            if _same_setting(value, zoopark):
                log.info("%s=%s: as zoopark always does", key, shown(key, value))
            else:
                log.warning("%s=%s: a ZooKeeper 3.8 setting zoopark accepts but does not implement; ignored",
                            key, shown(key, value))
                ignored.append((key, shown(key, value)))
        else:
            hint = f" (did you mean {name}?)" if name in _CFG_KEYS else ""
            log.warning("unknown configuration key %s=%s: ZooKeeper 3.8 does not read it either "
                        "(it would set the system property zookeeper.%s); ignored%s", key, shown(key, value), key, hint)
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
    for name in ("auth_providers", "sasl_super_users"):
        if name in values:
            values[name] = tuple(values[name])
    if "enforce_auth_schemes" in values:  # AuthenticationHelper: split on commas, each trimmed
        values["enforce_auth_schemes"] = tuple(s.strip() for s in values["enforce_auth_schemes"].split(","))
    if not values.get("jaas_config") and env is not None:
        flags = f"{env.get('SERVER_JVMFLAGS', '')} {env.get('JVMFLAGS', '')}"  # zkServer.sh's order: last wins
        found = jaas.jvm_flag_property(flags, jaas.JAAS_PROPERTY)
        if found:
            values["jaas_config"] = found
    order_keys = [k for k, _ in items]
    if dynamic:
        # QuorumMaj of the dynamic file's lines, with the version (from the file name) set after them; the
        # static file's `version` is only a system property then
        server_items, version = _read_dynamic_file(values["dynamic_config_file"])
        values["config_version"] = version
        order_keys = [k for k, _ in server_items] + ["version"]
        if config_path is not None:
            try:
                values["next_dynamic_text"] = Path(config_path + ".dynamic.next").read_text(encoding="latin-1")
                verifier_parse(values["next_dynamic_text"])  # QuorumPeerConfig refuses a bad one at start
            except BadServer as e:
                raise ConfigError(f"{config_path}.dynamic.next: {e}") from None
            except FileNotFoundError:
                pass
            except OSError as e:
                log.warning("NextQuorumVerifier is initiated to null: %s", e)
    servers = parse_servers(server_items)
    check_participants(servers, values.get("standalone_enabled", True))
    cfg = Config(servers=tuple(sorted(servers.values(), key=lambda s: s.id)), extra=tuple(extra),
                 ignored=tuple(ignored), member_order=member_order(order_keys), config_path=config_path, **values)
    _validate_auth(cfg)
    return _validate(cfg, base_dir, set(values))


def _validate_auth(cfg: Config) -> None:
    """What ZooKeeper refuses at start: an unreadable JAAS file (ServerCnxnFactory.configureSaslLogin), an
    enforced scheme with no provider (AuthenticationHelper)."""
    for cls in cfg.auth_providers:
        if cls not in AUTH_PROVIDER_SCHEMES:  # ProviderRegistry logs and carries on
            log.warning("authProvider: %s is not a provider zoopark knows; ignored", cls)
    if cfg.enforce_auth_enabled and not cfg.session_require_client_sasl_auth and not any(cfg.enforce_auth_schemes):
        raise ConfigError("enforce.auth.enabled: is true, so enforce.auth.schemes must be configured")
    for scheme in cfg.enforced_auth_schemes:
        if scheme not in cfg.auth_schemes:
            key = "sessionRequireClientSASLAuth" if cfg.session_require_client_sasl_auth else "enforce.auth.schemes"
            raise ConfigError(f"{key}: authentication scheme {scheme} is not available (add authProvider.N=... "
                              "for it)")
    _validate_quorum_sasl(cfg)
    if cfg.jaas_config:
        try:  # a relative path is taken from the working directory, as the JVM does (and dataDir here)
            sections = jaas.load(cfg.jaas_config)
        except jaas.JaasError as e:
            raise ConfigError(f"{jaas.JAAS_PROPERTY}: {e}") from None
        if cfg.sasl_login_context not in sections:
            log.warning("%s: %s has no section %s: SASL is not configured", jaas.JAAS_PROPERTY, cfg.jaas_config,
                        cfg.sasl_login_context)
        for m in sections.get(cfg.sasl_login_context, ()):
            if m.class_name == jaas.KRB5_LOGIN_MODULE and m.options.get("keyTab"):
                _check_kerberos(cfg.sasl_login_context, m.options["keyTab"])


def _validate_quorum_sasl(cfg: Config) -> None:
    """QuorumPeerConfig's checks of the quorum.auth.* keys, then what QuorumPeer.initialize refuses at start:
    with enableSasl, a JAAS file with both login contexts (SaslQuorumAuthServer and SaslQuorumAuthLearner are
    made whether or not SASL is required). zoopark does DIGEST-MD5 only, and needs the learner's name and
    password when it is to authenticate."""
    enabled, server, learner = (cfg.quorum_auth_enable_sasl, cfg.quorum_auth_server_require_sasl,
                                cfg.quorum_auth_learner_require_sasl)
    if not enabled and server:
        raise ConfigError("quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.serverRequireSasl")
    if not enabled and learner:
        raise ConfigError("quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.learnerRequireSasl")
    if not learner and server:
        raise ConfigError("quorum.auth.learnerRequireSasl is disabled, so cannot enable "
                          "quorum.auth.serverRequireSasl")
    if not enabled:
        return
    if not cfg.jaas_config:
        raise ConfigError(f"quorum.auth.enableSasl: needs a JAAS file ({jaas.JAAS_PROPERTY}) with the sections "
                          f"{cfg.quorum_auth_server_login_context} and {cfg.quorum_auth_learner_login_context}")
    try:
        sections = jaas.load(cfg.jaas_config)
    except jaas.JaasError as e:
        raise ConfigError(f"{jaas.JAAS_PROPERTY}: {e}") from None
    for key, context in (("quorum.auth.server.saslLoginContext", cfg.quorum_auth_server_login_context),
                         ("quorum.auth.learner.saslLoginContext", cfg.quorum_auth_learner_login_context)):
        modules = sections.get(context)
        if not modules:
            raise ConfigError(f"{key}: SASL-authentication failed because the specified JAAS configuration "
                              f"section '{context}' could not be found in {cfg.jaas_config}")
        if any(m.class_name != jaas.DIGEST_LOGIN_MODULE for m in modules):
            raise ConfigError(f"{key}: section {context} must log in with {jaas.DIGEST_LOGIN_MODULE}: zoopark "
                              "does quorum SASL with DIGEST-MD5 only (not Kerberos)")
    if learner and jaas.digest_login(sections[cfg.quorum_auth_learner_login_context]) is None:
        raise ConfigError(f"quorum.auth.learner.saslLoginContext: section {cfg.quorum_auth_learner_login_context} "
                          "has no username and password for quorum.auth.learnerRequireSasl")


def _check_kerberos(section: str, keytab: str) -> None:
    """ZooKeeper's server does not start when its Kerberos login fails; zoopark checks what it can up front."""
    import importlib.util

    if importlib.util.find_spec("gssapi") is None:
        raise ConfigError(f"{jaas.JAAS_PROPERTY}: section {section} logs in with Kerberos, which needs the gssapi "
                          "package: pip install 'zoopark[kerberos]'")
    try:
        with open(keytab, "rb"):
            pass
    except OSError as e:
        raise ConfigError(f"{jaas.JAAS_PROPERTY}: section {section}: cannot read keyTab {keytab}: {e.strerror}") \
            from None


def _validate(cfg: Config, base_dir: Path, given: set[str]) -> Config:
    if cfg.min_session_timeout_ms > cfg.max_session_timeout_ms:
        raise ConfigError(
            f"minSessionTimeout: {cfg.min_session_timeout_ms} is larger than maxSessionTimeout {cfg.max_session_timeout_ms}")
    if "client_port_address" in given and cfg.client_port is None:
        raise ConfigError("clientPortAddress: is set but clientPort is not set")  # as QuorumPeerConfig says
    if "secure_client_port_address" in given and cfg.secure_client_port is None:
        raise ConfigError("secureClientPortAddress: is set but secureClientPort is not set")
    cfg = _validate_tls(cfg)
    cfg = _validate_quorum_tls(cfg)
    if not cfg.servers:
        if cfg.client_port is None and cfg.secure_client_port is None:
            raise ConfigError("clientPort: is required (or secureClientPort)")
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
    if me.observer != (cfg.peer_type == "observer") and "peer_type" in given:
        log.warning("peerType=%s does not match server.%d (%s): the server line decides", cfg.peer_type, my_id,
                    "observer" if me.observer else "participant")
    if me.client_port is None:
        if cfg.client_port is None and cfg.secure_client_port is None:
            raise ConfigError(f"clientPort: is required (or give server.{my_id} a ;clientPort)")
        return dataclasses.replace(cfg, my_id=my_id)
    # QuorumPeerConfig.setupClientPort: the server line's client address is the one served; clientPort (and a
    # specific clientPortAddress) may only repeat it.
    address = me.client_address or "0.0.0.0"
    if cfg.client_port is not None and (cfg.client_port != me.client_port or (
            "client_port_address" in given and not _wildcard(cfg.client_port_address)
            and java_host(cfg.client_port_address) != java_host(address))):
        raise ConfigError(f"clientPort: {java_host(cfg.client_port_address)}:{cfg.client_port} differs from "
                          f"server.{my_id}'s client address {java_host(address)}:{me.client_port}")
    return dataclasses.replace(cfg, my_id=my_id, client_port=me.client_port, client_port_address=address)


def _read_password(key: str, path: str | None) -> str | None:
    """X509Util.getPasswordFromConfigPropertyOrFile: the passwordPath file's content, used when no password is
    given."""
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as e:
        raise ConfigError(f"{key}: cannot read {path}: {e.strerror}") from None


def _validate_tls(cfg: Config) -> Config:
    """Read passwordPath files, and when the client port serves TLS, load the stores now: a bad keystore stops
    start-up naming its key, as ZooKeeper's does."""
    if not cfg.tls_needed:
        return cfg
    cfg = _with_passwords(cfg, "ssl")
    if cfg.ssl_auth_provider != "x509":
        raise ConfigError(f"ssl.authProvider: {cfg.ssl_auth_provider!r}: only x509 (ZooKeeper's "
                          "X509AuthenticationProvider) authenticates TLS clients here")
    from .net import tls  # cryptography and ssl load only for a server that serves TLS

    try:
        tls.server_context(tls_settings(cfg))
    except tls.TlsConfigError as e:
        raise ConfigError(str(e)) from None
    return cfg


def _with_passwords(cfg: Config, prefix: str) -> Config:
    """`prefix` ("ssl" or "ssl.quorum"): the key and trust stores' passwordPath files read where no password
    is given."""
    attr = prefix.replace(".", "_")
    for store, key in (("key_store", "keyStore"), ("trust_store", "trustStore")):
        name = f"{attr}_{store}_password"
        path = getattr(cfg, name + "_path")
        if getattr(cfg, name) is None and path:
            cfg = dataclasses.replace(cfg, **{name: _read_password(f"{prefix}.{key}.passwordPath", path)})
    return cfg


def _store_settings(cfg: Config, prefix: str, **more):
    """The zookeeper.`prefix`.* settings ("ssl" or "ssl_quorum") as net.tls takes them."""
    from .net.tls import TlsSettings

    def get(name: str):
        return getattr(cfg, f"{prefix}_{name}")
    return TlsSettings(
        key_store_location=get("key_store_location"), key_store_password=get("key_store_password"),
        key_store_type=get("key_store_type") or None, trust_store_location=get("trust_store_location"),
        trust_store_password=get("trust_store_password"), trust_store_type=get("trust_store_type") or None,
        protocol=get("protocol"), enabled_protocols=get("enabled_protocols"), ciphersuites=get("ciphersuites"),
        client_auth=get("client_auth"), **more)


def tls_settings(cfg: Config):
    """The client port's zookeeper.ssl.* settings as net.tls takes them."""
    return _store_settings(cfg, "ssl")


def _validate_quorum_tls(cfg: Config) -> Config:
    """sslQuorum: read the ssl.quorum.* passwordPath files and load the stores now, so a bad one stops start-up
    naming its key."""
    if not cfg.ssl_quorum:
        return cfg
    cfg = _with_passwords(cfg, "ssl.quorum")
    from .net import tls

    try:
        tls.quorum_contexts(quorum_tls_settings(cfg))
    except tls.TlsConfigError as e:
        raise ConfigError(str(e)) from None
    return cfg


def quorum_tls_settings(cfg: Config):
    """The zookeeper.ssl.quorum.* settings as net.tls takes them."""
    return _store_settings(cfg, "ssl_quorum", hostname_verification=cfg.ssl_quorum_hostname_verification)


def _wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def load_config(path: str | Path, overrides: dict[str, str] | None = None) -> Config:
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as e:
        raise ConfigError(f"cannot read {p}: {e.strerror}") from None
    return dataclasses.replace(parse_config(text, p.parent, overrides, os.environ, str(path)),
                               source_text=text)
