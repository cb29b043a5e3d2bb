"""zoo.cfg parsing: ZooKeeper's keys and defaults, both spellings of system-property keys, clear errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from zoopark.config import ConfigError, load_config, parse_config


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
    assert "someFutureKey" in caplog.text


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
