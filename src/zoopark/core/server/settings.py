"""What the core needs to know of the configuration (the runtime builds it from zoopark.config.Config)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .sasl import SaslMechanism


@dataclass(frozen=True, slots=True)
class CoreSettings:
    tick_ms: int = 2000
    min_session_timeout_ms: int = 4000
    max_session_timeout_ms: int = 40000
    server_id: int = 0
    extended_types: bool = False
    super_digest: str | None = None  # "super:<base64 sha1>"
    x509_super_user: str | None = None  # X509AuthenticationProvider.superUser
    container_check_interval_ms: int = 60_000
    container_max_per_minute: int = 10_000
    outstanding_writes_max: int = 10_000
    enforce_quota: bool = False  # zookeeper.enforceQuota: hard quota limits refuse writes (QUOTAEXCEEDED)
    # An ensemble member's /zookeeper/config (QuorumMaj.toString) and the config's version; None standalone,
    # where ZooKeeper leaves the node empty.
    quorum_config: bytes | None = None
    quorum_config_version: int = 0
    reconfig_enabled: bool = False  # reconfigEnabled: the reconfig request is served (else RECONFIGDISABLED)
    # SASL (DIGEST-MD5): the JAAS Server section's users and passwords, None when SASL is not configured.
    sasl_users: tuple[tuple[str, str], ...] | None = field(default=None, repr=False)
    # SASL GSSAPI (Kerberos): a factory of the adapter's per-connection mechanism (see runtime/gss.py); when
    # set it replaces DIGEST-MD5, as ZooKeeper's createSaslServer picks GSSAPI for a Kerberos login.
    sasl_gssapi: Callable[[], SaslMechanism] | None = None
    kerberos_default_realm: str = ""  # krb5.conf's default_realm ("" when there is none, as in Java)
    kerberos_remove_host: bool = False  # zookeeper.kerberos.removeHostFromPrincipal
    kerberos_remove_realm: bool = False  # zookeeper.kerberos.removeRealmFromPrincipal
    sasl_super_users: frozenset[str] = frozenset()  # zookeeper.superUser
    auth_schemes: frozenset[str] = frozenset({"digest", "ip"})  # ACL schemes with a registered provider
    # A connection must hold an id of one of these schemes before any request but AUTH and SASL
    # (AuthenticationHelper: enforce.auth.*, sessionRequireClientSASLAuth); () = no enforcement.
    enforce_auth_schemes: tuple[str, ...] = ()
    allow_sasl_failed_clients: bool = False  # zookeeper.allowSaslFailedClients: keep them (unless sasl is enforced)
