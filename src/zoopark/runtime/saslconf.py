"""What the core is told about SASL, from the configuration and the JAAS file it names."""

from __future__ import annotations

from typing import Any

from .. import jaas
from ..config import Config
from ..net.quorumsasl import QuorumSasl
from .gss import Acceptor, default_realm


def _server_section(cfg: Config) -> list[jaas.LoginModule] | None:
    return jaas.load(cfg.jaas_config).get(cfg.sasl_login_context) if cfg.jaas_config else None


def _gssapi(modules: list[jaas.LoginModule]) -> Acceptor | None:
    """A Krb5LoginModule in the JAAS Server section: GSSAPI with its principal and keyTab."""
    for m in modules:
        if m.class_name == jaas.KRB5_LOGIN_MODULE and m.options.get("principal") and m.options.get("keyTab"):
            return Acceptor(m.options["principal"], m.options["keyTab"])
    return None


def _digest_users(cfg: Config, modules: list[jaas.LoginModule]) -> tuple[tuple[str, str], ...]:
    users = jaas.digest_users(modules)
    if cfg.sasl_super_password is not None:  # SaslServerCallbackHandler: user "super"'s password, if set
        users["super"] = cfg.sasl_super_password
    return tuple(users.items())


def sasl_settings(cfg: Config) -> dict[str, Any]:
    """CoreSettings' SASL and authentication fields. The JAAS file was checked when the configuration was
    loaded; it is read again here so no password sits in the Config."""
    modules = _server_section(cfg)
    gssapi = _gssapi(modules) if modules is not None else None
    return {
        "sasl_users": _digest_users(cfg, modules) if modules is not None and gssapi is None else None,
        "sasl_gssapi": gssapi,
        "kerberos_default_realm": default_realm() if gssapi is not None else "",
        "kerberos_remove_host": cfg.kerberos_remove_host,
        "kerberos_remove_realm": cfg.kerberos_remove_realm,
        "sasl_super_users": frozenset(cfg.sasl_super_users),
        "auth_schemes": cfg.auth_schemes,
        "enforce_auth_schemes": cfg.enforced_auth_schemes,
        "allow_sasl_failed_clients": cfg.allow_sasl_failed_clients,
    }


def quorum_sasl(cfg: Config) -> QuorumSasl | None:
    """The quorum's SASL settings (quorum.auth.*), with the QuorumServer section's users and the QuorumLearner
    section's name and password (config.py checked both sections exist when it loaded the configuration), and
    ZooKeeper's socket timeouts during the exchange: zookeeper.quorumCnxnTimeoutMs, else tickTime x syncLimit,
    on the election port (QuorumPeer.createCnxnManager); tickTime x initLimit on the quorum port."""
    if not cfg.quorum_auth_enable_sasl:
        return None
    sections = jaas.load(cfg.jaas_config) if cfg.jaas_config else {}
    learner = jaas.digest_login(sections.get(cfg.quorum_auth_learner_login_context, []))
    tick_ms = cfg.tick_time_ms
    election_ms = cfg.quorum_cnxn_timeout_ms if cfg.quorum_cnxn_timeout_ms > 0 else tick_ms * (cfg.sync_limit or 5)
    return QuorumSasl(cfg.quorum_auth_learner_require_sasl, cfg.quorum_auth_server_require_sasl,
                      jaas.digest_users(sections.get(cfg.quorum_auth_server_login_context, [])),
                      *(learner or ("", "")), election_timeout_s=election_ms / 1000,
                      quorum_timeout_s=tick_ms * (cfg.init_limit or 10) / 1000)
