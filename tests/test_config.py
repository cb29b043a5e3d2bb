"""zoo.cfg parsing: ZooKeeper's keys and defaults, both spellings of system-property keys, clear errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from zoopark import config as config_module
from zoopark.config import ConfigError, key_kind, load_config, parse_config

from references import needs


def cfg(text: str, tmp_path: Path, **kw):
    return parse_config(f"dataDir={tmp_path}\nclientPort=2181\n" + text, tmp_path, **kw)


def test_defaults_follow_zookeeper(tmp_path):
    c = cfg("", tmp_path)
    assert c.tick_time_ms == 3000
    assert (c.min_session_timeout_ms, c.max_session_timeout_ms) == (6000, 60000)
    assert c.max_client_cnxns == 60
    assert c.jute_max_buffer_bytes == 0xFFFFF
    assert c.four_letter_words == frozenset({"srvr"})
    assert c.snap_count == 100_000 and c.pre_alloc_size_bytes == 64 * 1024 * 1024
    assert c.force_sync and not c.extended_types_enabled
    assert c.data_log_dir == c.data_dir and c.log_dir == c.data_dir / "version-2"
    assert c.is_standalone


def test_keys_and_system_property_spellings(tmp_path):
    c = cfg("tickTime=100\nminSessionTimeout=500\nmaxSessionTimeout=9000\n4lw.commands.whitelist=ruok, srvr,stat\n"
            "zookeeper.extendedTypesEnabled=true\njute.maxbuffer=4096\nforceSync=no\n"
            "zookeeper.DigestAuthenticationProvider.superDigest=super:abc\ndataLogDir=/tmp/x\n", tmp_path)
    assert c.tick_time_ms == 100
    assert (c.min_session_timeout_ms, c.max_session_timeout_ms) == (500, 9000)
    assert c.four_letter_words == frozenset({"ruok", "srvr", "stat"})
    assert c.extended_types_enabled and c.jute_max_buffer_bytes == 4096 and not c.force_sync
    assert c.super_digest == "super:abc" and c.log_dir == Path("/tmp/x/version-2")


@pytest.mark.parametrize("line,key", [
    ("tickTime=abc", "tickTime"),
    ("clientPort=70000", "clientPort"),
    ("forceSync=maybe", "forceSync"),
    ("minSessionTimeout=90000", "minSessionTimeout"),
    ("electionAlg=1", "electionAlg"),
    ("server.1=localhost:2888", "server.1"),
])
def test_bad_values_name_their_key(tmp_path, line, key):
    with pytest.raises(ConfigError) as e:
        cfg(line, tmp_path)
    assert str(e.value).startswith(key)


def test_unknown_key_is_logged_and_kept(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="zoopark.config"):
        c = cfg("someFutureKey=1\n", tmp_path)
    assert ("someFutureKey", "1") in c.extra
    assert "unknown configuration key someFutureKey=1" in caplog.text


# A value for each key ZooKeeper reads as a system property, other than zoopark's default.
PROPERTY_VALUES = {
    "4lw.commands.whitelist": "ruok", "snapCount": "1234", "snapSizeLimitInKb": "77", "snapshot.trust.empty": "true",
    "preAllocSize": "16", "jute.maxbuffer": "4096", "extendedTypesEnabled": "true",
    "DigestAuthenticationProvider.superDigest": "super:abc", "forceSync": "no", "globalOutstandingLimit": "9",
    "readonlymode.enabled": "true", "znode.container.checkIntervalMs": "250", "znode.container.maxPerMinute": "5",
    "admin.enableServer": "false", "admin.serverAddress": "127.0.0.2", "admin.serverPort": "8181",
    "admin.commandURL": "/cmds", "digest.enabled": "false", "nio.sessionlessCnxnTimeout": "1500",
    "java.security.auth.login.config": "/dev/null", "sasl.serverconfig": "ZkServer",
    "SASLAuthenticationProvider.superPassword": "pw",
    # (these two need a provider for their scheme: the second line gives it)
    "sessionRequireClientSASLAuth": "true\nauthProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider",
    "enforce.auth.enabled": "true\nenforce.auth.schemes=digest", "enforce.auth.schemes": "ip,digest",
    "kerberos.removeHostFromPrincipal": "true", "kerberos.removeRealmFromPrincipal": "true",
    "allowSaslFailedClients": "true", "enforceQuota": "true",
    "ssl.keyStore.location": "/k.p12", "ssl.keyStore.password": "pw", "ssl.keyStore.passwordPath": "/pw",
    "ssl.keyStore.type": "JKS", "ssl.trustStore.location": "/t.p12", "ssl.trustStore.password": "pw",
    "ssl.trustStore.passwordPath": "/pw", "ssl.trustStore.type": "pkcs12", "ssl.protocol": "TLSv1.3",
    "ssl.enabledProtocols": "TLSv1.2,TLSv1.3", "ssl.ciphersuites": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "ssl.clientAuth": "want", "ssl.hostnameVerification": "false", "ssl.authProvider": "x509x",
    "X509AuthenticationProvider.superUser": "CN=admin",
    # (the quorum's stores are loaded only with sslQuorum=true: tests/test_quorum_tls.py)
    "ssl.quorum.keyStore.location": "/q.p12", "ssl.quorum.keyStore.password": "pw",
    "ssl.quorum.keyStore.passwordPath": "/pw", "ssl.quorum.keyStore.type": "JKS",
    "ssl.quorum.trustStore.location": "/qt.p12", "ssl.quorum.trustStore.password": "pw",
    "ssl.quorum.trustStore.passwordPath": "/pw", "ssl.quorum.trustStore.type": "pkcs12",
    "ssl.quorum.protocol": "TLSv1.3", "ssl.quorum.enabledProtocols": "TLSv1.2,TLSv1.3",
    "ssl.quorum.ciphersuites": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ssl.quorum.clientAuth": "want",
    "ssl.quorum.hostnameVerification": "false", "quorumCnxnTimeoutMs": "2500",
}
# Keys whose every other value needs companions (client.portUnification=true needs a keystore): tested in
# tests/test_tls_config.py.
PROPERTY_KEYS_TESTED_ELSEWHERE = {"client.portUnification"}


def test_every_system_property_key_has_a_test_value():
    assert set(PROPERTY_VALUES) | PROPERTY_KEYS_TESTED_ELSEWHERE == set(config_module._PROPERTY_KEYS)


@pytest.mark.parametrize("key", sorted(PROPERTY_VALUES))
def test_system_property_keys_take_both_spellings(tmp_path, key):
    """`snapCount=` and `zookeeper.snapCount=` are one setting (ZooKeeper passes the first on as the second)."""
    default = cfg("", tmp_path)
    bare = cfg(f"{key}={PROPERTY_VALUES[key]}\n", tmp_path)
    prefixed = cfg(f"zookeeper.{key}={PROPERTY_VALUES[key]}\n", tmp_path)
    assert bare == prefixed != default
    assert key_kind(key) == key_kind(f"zookeeper.{key}") == "implemented"


def test_super_digest_under_zookeepers_name(tmp_path, caplog):
    assert cfg("DigestAuthenticationProvider.superDigest=super:x\n", tmp_path).super_digest == "super:x"
    with caplog.at_level(logging.WARNING, logger="zoopark.config"):
        assert cfg("superDigest=super:y\n", tmp_path).super_digest == "super:y"  # zoopark's older spelling
    assert "DigestAuthenticationProvider.superDigest" in caplog.text


@pytest.mark.parametrize("line", ["maxCnxns=10", "zookeeper.maxCnxns=10", "zookeeper.ssl.ocsp=true",
                                  "ssl.crl=true", "zookeeper.ssl.quorum.ocsp=true",
                                  "metricsProvider.exportJvmInfo=false",
                                  "localSessionsEnabled=true",
                                  "zookeeper.leaderServes=no",
                                  "quorum.auth.kerberos.servicePrincipal=zkquorum/host1"])
def test_zookeeper_settings_zoopark_does_not_implement_are_said_to_be_ignored(tmp_path, caplog, line):
    with caplog.at_level(logging.INFO, logger="zoopark.config"):
        c = cfg(line + "\n", tmp_path)
    key, value = line.split("=")
    assert c.ignored == ((key, value),) and c.extra == ()
    assert f"{line}: a ZooKeeper 3.8 setting zoopark accepts but does not implement; ignored" in caplog.text
    assert "unknown" not in caplog.text


@pytest.mark.parametrize("line", ["secureClientPort=abc", "syncEnabled=maybe", "quorum.cnxn.threads.size=x"])
def test_unimplemented_settings_zookeeper_parses_still_need_good_values(tmp_path, line):
    """ZooKeeper parses these as it reads zoo.cfg and stops on a bad value: so does zoopark, naming the key."""
    with pytest.raises(ConfigError) as e:
        cfg(line + "\n", tmp_path)
    assert str(e.value).startswith(line.split("=")[0] + ":")
    assert set(config_module._CFG_IGNORED_VALUES) <= set(config_module._CFG_IGNORED)


@pytest.mark.parametrize("line", ["maxCnxns=0", "syncEnabled=true", "leaderServes=yes", "skipACL=no",
                                  "zookeeper.closeSessionTxn.enabled=true"])
def test_a_setting_asking_for_what_zoopark_does_is_not_a_warning(tmp_path, caplog, line):
    with caplog.at_level(logging.INFO, logger="zoopark.config"):
        c = cfg(line + "\n", tmp_path)
    assert c.ignored == () and c.extra == ()
    assert f"{line}: as zoopark always does" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_zoo_cfg_keys_have_no_prefixed_spelling(tmp_path, caplog):
    """ZooKeeper reads tickTime from zoo.cfg only: zookeeper.tickTime= would set a property nobody reads."""
    with caplog.at_level(logging.WARNING, logger="zoopark.config"):
        c = cfg("zookeeper.tickTime=100\n", tmp_path)
    assert c.tick_time_ms == 3000 and c.extra == (("zookeeper.tickTime", "100"),)
    assert "did you mean tickTime?" in caplog.text


def zookeeper_jar_property_names() -> set[str]:
    """Every `zookeeper.*` system property name in ZooKeeper 3.8's server classes (constant strings), but for
    package names and the embedded / test-controller API's own settings."""
    import re
    import zipfile

    jar = zipfile.ZipFile("/usr/share/java/zookeeper.jar")
    names: set[str] = set()
    for entry in jar.namelist():
        if entry.startswith("org/apache/zookeeper/server") and entry.endswith(".class"):
            for m in re.finditer(rb"(?<![A-Za-z.])zookeeper\.[A-Za-z0-9_.\-]+", jar.read(entry)):
                names.add(m.group().decode())
    return names - {"zookeeper.configuration", "zookeeper.controllerPort", "zookeeper.clientPortAddress"}


@needs("zookeeper")
def test_every_system_property_zookeeper_reads_is_known(tmp_path):
    names = zookeeper_jar_property_names()
    assert "zookeeper.DigestAuthenticationProvider.superDigest" in names and len(names) > 100  # the scan works
    unknown = sorted(n for n in names if key_kind(n) == "unknown" and not n.endswith("."))
    assert unknown == []
    assert key_kind("DigestAuthenticationProvider.superDigest") == "implemented"


@pytest.mark.parametrize("text,message", [
    ("clientPortAddress=127.0.0.1\n", "clientPortAddress: is set but clientPort is not set"),
    ("clientPort=2181\nclientPortAddress=127.0.0.1\nserver.1=127.0.0.1:2888:3888;2181\n", "clientPort: "),
    ("clientPort=2182\nserver.1=127.0.0.1:2888:3888;127.0.0.1:2181\n", "clientPort: "),
])
def test_client_addresses_zookeeper_refuses(tmp_path, text, message):
    """QuorumPeerConfig: clientPortAddress needs clientPort; clientPort (and a specific clientPortAddress) may
    only repeat the server line's client address."""
    (tmp_path / "myid").write_text("1\n")
    with pytest.raises(ConfigError, match=message):
        parse_config(f"dataDir={tmp_path}\ninitLimit=5\nsyncLimit=2\n" + text, tmp_path)


def test_the_server_lines_client_address_is_served(tmp_path):
    (tmp_path / "myid").write_text("1\n")
    c = parse_config(f"dataDir={tmp_path}\ninitLimit=5\nsyncLimit=2\nclientPort=2181\n"
                     "server.1=127.0.0.1:2888:3888;127.0.0.3:2181\n", tmp_path)
    assert (c.client_port_address, c.client_port) == ("127.0.0.3", 2181)


def test_snap_retain_count_has_zookeepers_minimum(tmp_path):
    assert cfg("autopurge.snapRetainCount=1\n", tmp_path).autopurge_snap_retain_count == 3


def test_ensemble_servers_and_myid(tmp_path):
    text = ("initLimit=5\nsyncLimit=2\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.2:2888:3888:participant\n"
            "server.3=127.0.0.3:2888:3888:observer;127.0.0.3:2181\n")
    with pytest.raises(ConfigError, match="myid"):
        cfg(text, tmp_path)
    (tmp_path / "myid").write_text("2\n")
    c = cfg(text, tmp_path)
    assert c.my_id == 2 and not c.is_standalone
    assert [s.id for s in c.servers] == [1, 2, 3]
    assert c.servers[2].observer and c.servers[2].client_port == 2181
    with pytest.raises(ConfigError, match="initLimit"):
        cfg(text.replace("initLimit=5\n", ""), tmp_path)


def test_the_shipped_config_and_debians_sample_load(tmp_path):
    root = Path(__file__).resolve().parent.parent
    c = load_config(root / "conf" / "zoo.cfg")
    assert (c.client_port, c.client_port_address, c.tick_time_ms) == (2181, "127.0.0.1", 2000)
    sample = Path("/etc/zookeeper/conf_example/zoo.cfg")
    if sample.exists():
        assert load_config(sample).client_port == 2181
