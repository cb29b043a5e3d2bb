"""zoo.cfg's SASL keys: the JAAS file (in zoo.cfg or SERVER_JVMFLAGS / JVMFLAGS), providers, enforcement, and
what the core is given."""

from __future__ import annotations

from pathlib import Path

import pytest

from zoopark.config import ConfigError, parse_config
from zoopark.runtime.server import core_settings

JAAS = 'Server {\n org.apache.zookeeper.server.auth.DigestLoginModule required user_alice="a-pw";\n};\n'
SASL_PROVIDER = "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n"


def cfg(text: str, tmp_path: Path, env: dict[str, str] | None = None):
    return parse_config(f"dataDir={tmp_path}\nclientPort=2181\n{text}", tmp_path, env=env)


@pytest.fixture
def jaas_file(tmp_path) -> Path:
    p = tmp_path / "server.jaas"
    p.write_text(JAAS)
    return p


def test_the_jaas_file_in_zoo_cfg_gives_the_core_its_users(tmp_path, jaas_file):
    c = cfg(f"java.security.auth.login.config={jaas_file}\n{SASL_PROVIDER}superUser=alice\n", tmp_path)
    s = core_settings(c)
    assert dict(s.sasl_users) == {"alice": "a-pw"}
    assert s.sasl_super_users == {"alice"} and "sasl" in s.auth_schemes
    assert "a-pw" not in repr(c) and "a-pw" not in repr(s)


@pytest.mark.parametrize("var", ["SERVER_JVMFLAGS", "JVMFLAGS"])
def test_the_jaas_file_from_the_jvm_flags_as_zkserver_sh_passes_them(tmp_path, jaas_file, var):
    c = cfg("", tmp_path, env={var: f"-Xmx1g -Djava.security.auth.login.config={jaas_file}"})
    assert c.jaas_config == str(jaas_file)
    assert cfg("", tmp_path, env={}).jaas_config is None
    assert core_settings(cfg("", tmp_path, env={})).sasl_users is None  # SASL not configured


def test_zoo_cfg_wins_over_the_environment(tmp_path, jaas_file):
    c = cfg(f"java.security.auth.login.config={jaas_file}\n", tmp_path,
            env={"SERVER_JVMFLAGS": "-Djava.security.auth.login.config=/elsewhere"})
    assert c.jaas_config == str(jaas_file)


def test_super_password_and_login_context(tmp_path):
    p = tmp_path / "j.jaas"
    p.write_text(JAAS.replace("Server", "ZkServer"))
    c = cfg(f"java.security.auth.login.config={p}\nzookeeper.sasl.serverconfig=ZkServer\n"
            "SASLAuthenticationProvider.superPassword=su-pw\n", tmp_path)
    assert dict(core_settings(c).sasl_users) == {"alice": "a-pw", "super": "su-pw"}
    other = cfg(f"java.security.auth.login.config={p}\n", tmp_path)  # no Server section: no SASL
    assert core_settings(other).sasl_users is None


@pytest.mark.parametrize(("text", "message"), [
    ("java.security.auth.login.config=/no/such/file\n", "java.security.auth.login.config: cannot read"),
    ("enforce.auth.enabled=true\n", "enforce.auth.schemes must be configured"),
    ("enforce.auth.enabled=true\nenforce.auth.schemes=sasl\n", "scheme sasl is not available"),
    ("sessionRequireClientSASLAuth=true\n", "sessionRequireClientSASLAuth: authentication scheme sasl"),
])
def test_what_zookeeper_refuses_at_start(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        cfg(text, tmp_path)


def test_a_bad_jaas_file_stops_start_naming_the_line(tmp_path):
    p = tmp_path / "bad.jaas"
    p.write_text("Server {\n a.B required\n user_x=;\n};\n")
    with pytest.raises(ConfigError, match="line 3"):
        cfg(f"java.security.auth.login.config={p}\n", tmp_path)


def test_enforcement_settings(tmp_path):
    assert cfg("", tmp_path).enforced_auth_schemes == ()
    assert cfg(f"{SASL_PROVIDER}sessionRequireClientSASLAuth=true\nenforce.auth.schemes=digest\n",
               tmp_path).enforced_auth_schemes == ("sasl",)  # it overrides enforce.auth.*
    c = cfg("enforce.auth.enabled=true\nenforce.auth.schemes=digest, ip\n", tmp_path)
    assert core_settings(c).enforce_auth_schemes == ("digest", "ip")
    assert cfg("enforce.auth.schemes=digest\n", tmp_path).enforced_auth_schemes == ()  # not enabled


def test_a_kerberos_section_with_an_unreadable_keytab_stops_start(tmp_path):
    p = tmp_path / "krb.jaas"
    p.write_text('Server {\n com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true\n'
                 f' keyTab="{tmp_path}/missing.keytab" principal="zookeeper/localhost@EXAMPLE.COM";\n}};\n')
    with pytest.raises(ConfigError, match="cannot read keyTab .*missing.keytab"):
        cfg(f"java.security.auth.login.config={p}\n", tmp_path)
