"""The configuration files of dynamic reconfiguration, checked against ZooKeeper 3.8's own code.

- The files a member writes (runtime.dynconfig) against QuorumPeerConfig.writeDynamicConfig / editStaticConfig run
  on the same inputs (tests/java/ReconfigFiles.java), byte for byte, for random zoo.cfg files and configurations.
- The reading of zoo.cfg (config.py: dynamicConfigFile, the server line syntax, standaloneEnabled, reconfigEnabled)
  against QuorumPeerConfig.parse: the same configurations accepted and refused, the same ensemble read.
- A real ZooKeeper ensemble's files at start-up and after a reconfig, against what dynconfig writes from the same
  zoo.cfg and /zookeeper/config text.
"""

from __future__ import annotations

import dataclasses
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from reconfighelp import server_line, start_ensemble, stop_all, super_client
from zoopark import javaprops
from zoopark.config import Config, ConfigError, load_config
from zoopark.quorumconfig import last_seen, quorum_config_text
from zoopark.runtime import dynconfig

from procs import ZooKeeperProcess, wait_settled, wait_until, zk_classpath
from references import needs

JAVA_SRC = Path(__file__).parent / "java" / "ReconfigFiles.java"


def zookeeper(mode: str, dirs: list[Path]) -> list[str]:
    out = subprocess.run(["java", "-cp", zk_classpath(), str(JAVA_SRC), mode, *map(str, dirs)], capture_output=True,
                         text=True, timeout=300, check=True)
    return out.stdout.splitlines()


# ---- java.util.Properties ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "entries"), [
    ("a=1\n", [("a", "1")]),
    ("  a = 1  \n", [("a", "1  ")]),
    ("a:b=c\n", [("a", "b=c")]),
    ("a b\n", [("a", "b")]),
    ("a\\ b=c\n", [("a b", "c")]),
    ("a=x\\\n   y\n", [("a", "xy")]),
    ("a=x\\\\\nb=y\n", [("a", "x\\"), ("b", "y")]),
    ("# c\n! d\n\n   \nk\n", [("k", "")]),
    ("a=\\u0041\\t\\q\n", [("a", "A\tq")]),
    ("a=1\r\nb=2\rc=3", [("a", "1"), ("b", "2"), ("c", "3")]),
    ("a = = 1\n", [("a", "= 1")]),
])
def test_properties_load_as_java(text, entries) -> None:
    assert javaprops.load(text) == entries


# ---- the files written -----------------------------------------------------------------------------------

STATIC_LINES = ["tickTime=2000", "initLimit=10", "syncLimit=5", "dataDir=/var/lib/zookeeper", "clientPort=2181",
                "clientPortAddress=127.0.0.1", "4lw.commands.whitelist=*", "admin.enableServer=false",
                "reconfigEnabled=true", "standaloneEnabled=false", "peerType=participant", "snapCount=1000",
                "autopurge.purgeInterval=1", "dynamicConfigFile=/etc/zookeeper/zoo.cfg.dynamic.100000000",
                "clientPortListenBacklog=10", "weight.1=1", "group.1=1:2:3", "  spaced.key  =  a value  ",
                "colon.key: value", "escaped\\ key=v", "continued=a\\\n    b", "# a comment", "! another", "",
                "note=café \\u00e9",
                "DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=",
                "metricsProvider.className=org.apache.zookeeper.metrics.impl.DefaultMetricsProvider",
                "server.1=127.0.0.1:2888:3888", "server.2=127.0.0.1:2889:3889;2182", "server.12=localhost:1:2:observer"]


def random_config(rng: random.Random) -> tuple[str, list[int]]:
    """A configuration as /zookeeper/config shows it: server lines (ids sort differently as strings and as
    numbers), roles, client addresses given or not, IPv6 literals, and a version."""
    ports = iter(rng.sample(range(1024, 65000), 60))
    ids = rng.sample([1, 2, 3, 9, 10, 11, 25, 100], rng.randint(1, 7))
    lines = []
    for sid in ids:
        host = rng.choice(["127.0.0.1", "localhost", "[0:0:0:0:0:0:0:1]", "zk-3.example"])
        line = f"server.{sid}={host}:{next(ports)}:{next(ports)}:{rng.choice(['participant', 'observer'])}"
        line += rng.choice(["", f";127.0.0.1:{next(ports)}", f";0.0.0.0:{next(ports)}", f";{host}:{next(ports)}"])
        lines.append(line)
    return "\n".join(lines) + f"\nversion={rng.randint(1, 1 << 40):x}", ids


def scenario(root: Path, rng: random.Random) -> tuple[str, str, int]:
    lines = rng.sample(STATIC_LINES, rng.randint(3, len(STATIC_LINES)))
    if rng.random() < 0.3:
        lines.append(rng.choice(lines))  # a key given twice: the last value counts, in the first one's place
    static = "\n".join(lines) + rng.choice(["", "\n"])
    config, ids = random_config(rng)
    my_id = rng.choice(ids + [77])  # 77: a member the configuration leaves out
    for side in ("zk", "zp"):
        (root / side).mkdir(parents=True)
        (root / side / "zoo.cfg").write_text(static)
        (root / side / "config.txt").write_text(config)
        (root / side / "myid").write_text(f"{my_id}\n")
    return static, config, my_id


def files_of(d: Path) -> dict[str, bytes]:
    """zoo.cfg* of a scenario, the directory's path taken out of dynamicConfigFile=."""
    return {f.name: f.read_bytes().replace(str(d.resolve()).encode(), b"<dir>") for f in sorted(d.iterdir())
            if f.name.startswith("zoo.cfg")}


@needs("zookeeper", "javac")
def test_written_files_are_zookeepers_byte_for_byte(tmp_path) -> None:
    """300 random zoo.cfg files and configurations (seed 5): the activated dynamic file, zoo.cfg rewritten
    (keys in java.util.Properties order, comments gone, clientPort* erased when the member's own server line
    gives its client address) and .next, as ZooKeeper writes them."""
    rng = random.Random(5)
    roots = [tmp_path / f"s{i}" for i in range(300)]
    cases = [scenario(root, rng) for root in roots]
    zookeeper("write", [r / "zk" for r in roots])
    for root, (static, config, my_id) in zip(roots, cases, strict=True):
        cfg = Config(data_dir=root, data_log_dir=root, config_path=str(root / "zp" / "zoo.cfg"), my_id=my_id,
                     reconfig_enabled=True)
        dynconfig.write_activated(cfg, config)
        dynconfig.write_next(cfg, config)
        assert files_of(root / "zp") == files_of(root / "zk"), (static, config, my_id)


def test_activation_removes_next_unless_a_newer_proposal_waits(tmp_path) -> None:
    cfg = Config(data_dir=tmp_path, data_log_dir=tmp_path, config_path=str(tmp_path / "zoo.cfg"), my_id=1,
                 reconfig_enabled=True)
    (tmp_path / "zoo.cfg").write_text("tickTime=2000\nserver.1=127.0.0.1:2888:3888\n")
    one = "server.1=127.0.0.1:2888:3888:participant\nversion=100000001"
    two = "server.1=127.0.0.1:2888:3888:participant\nserver.2=127.0.0.1:2889:3889:participant\nversion=100000002"
    dynconfig.write_next(cfg, one)
    dynconfig.write_next(cfg, two)
    dynconfig.write_activated(cfg, one)
    assert (tmp_path / "zoo.cfg.dynamic.next").read_text() == two.replace(":participant\nversion", ":participant\n"
                                                                           "version")
    dynconfig.write_activated(cfg, two)
    assert not (tmp_path / "zoo.cfg.dynamic.next").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["zoo.cfg", "zoo.cfg.dynamic.100000001",
                                                          "zoo.cfg.dynamic.100000002"]
    assert (tmp_path / "zoo.cfg").read_text() == (
        f"tickTime=2000\ndynamicConfigFile={tmp_path.resolve()}/zoo.cfg.dynamic.100000002\n")


def test_nothing_is_written_without_reconfig_enabled(tmp_path) -> None:
    cfg = Config(data_dir=tmp_path, data_log_dir=tmp_path, config_path=str(tmp_path / "zoo.cfg"), my_id=1)
    (tmp_path / "zoo.cfg").write_text("tickTime=2000\n")
    dynconfig.write_next(cfg, "server.1=127.0.0.1:2888:3888:participant\nversion=1")
    dynconfig.write_activated(cfg, "server.1=127.0.0.1:2888:3888:participant\nversion=1")
    dynconfig.write_backup(cfg)
    assert [p.name for p in tmp_path.iterdir()] == ["zoo.cfg"]


# ---- reading zoo.cfg -----------------------------------------------------------------------------------

BASE = "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir={dir}\n"
S1, S2, S3 = "127.0.0.1:2888:3888", "127.0.0.1:2889:3889", "127.0.0.1:2890:3890"
SYNTAX = " does not have the form server_config or server_config;client_config"
# (zoo.cfg lines after BASE, {dynamic file name: text} or {}, myid, what both refusals say or None)
PARSE_CASES = [
    (f"clientPort=2181\nserver.1={S1}\nserver.2={S2}\nserver.3={S3}\n", {}, 1, None),
    (f"clientPort=2181\nserver.1={S1}\nserver.2={S2}\nserver.3={S3}\nreconfigEnabled=true\n", {}, 2, None),
    ("clientPort=2181\ndynamicConfigFile={dir}/zoo.cfg.dynamic.100000000\n",
     {"zoo.cfg.dynamic.100000000": f"server.1={S1};2181\nserver.2={S2}\nserver.3={S3}\n"}, 1, None),
    ("dynamicConfigFile={dir}/zoo.cfg.dynamic\n", {"zoo.cfg.dynamic": f"server.1={S1};127.0.0.1:2181\n"
                                                                      f"server.2={S2};2182\n"}, 1, None),
    ("dynamicConfigFile={dir}/dyn.cfg.abc\n", {"dyn.cfg.abc": f"server.1={S1};2181\nserver.2={S2};2182\n"}, 2, None),
    ("dynamicConfigFile={dir}/dyn\n", {"dyn": f"server.1={S1};2181\nserver.2={S2};2182\n"}, 2, None),
    (f"clientPort=2181\ndynamicConfigFile={{dir}}/d.1\nserver.1={S1}\n", {"d.1": f"server.1={S1}\n"}, 1,
     "parameter: server.1 must be in a separate dynamic config file"),
    ("clientPort=2181\ndynamicConfigFile={dir}/d.1\n", {"d.1": f"server.1={S1}\nserver.2={S2}\nversion=5\n"}, 1,
     "dynamic file shouldn't have version inside"),
    ("clientPort=2181\ndynamicConfigFile={dir}/d.1\n", {"d.1": f"server.1={S1}\nserver.2={S2}\ntickTime=5\n"}, 1,
     "Unrecognised parameter: tickTime"),
    ("clientPort=2181\ndynamicConfigFile={dir}/missing.1\n", {}, 1, "missing.1"),
    ("clientPort=2181\ndynamicConfigFile={dir}/d.2\nversion=7\n", {"d.2": f"server.1={S1}\nserver.2={S2}\n"}, 1,
     None),
    (f"clientPort=2181\nserver.1={S1}\nstandaloneEnabled=false\n", {}, 1, None),
    (f"clientPort=2181\nserver.1={S1}\nstandaloneEnabled=false\nreconfigEnabled=true\n", {}, 1, None),
    ("clientPort=2181\nstandaloneEnabled=false\n", {}, 1,
     "standaloneEnabled = false then number of participants should be >0"),
    (f"clientPort=2181\nserver.1={S1}\nserver.2={S2}:observer\n", {}, 1,
     "Observers w/o quorum is an invalid configuration"),
    (f"clientPort=2181\nserver.1={S1}:observer\nserver.2={S2}:observer\n", {}, 1,
     "Observers w/o participants is an invalid configuration"),
    (f"clientPort=2181\nserver.1={S1}\nserver.2={S2}:observer\nstandaloneEnabled=false\n", {}, 2, None),
    (f"clientPort=2181\nserver.1={S1}\nserver.2={S2}\nstandaloneEnabled=maybe\n", {}, 1,
     "Invalid option maybe for standaloneEnabled. Choose 'true' or 'false.'"),
    (f"clientPort=2181\nserver.1={S1}\nserver.2={S2}\nreconfigEnabled=yes\n", {}, 1,
     "Invalid option yes for reconfigEnabled. Choose 'true' or 'false.'"),
    (f"clientPort=2181\nserver.1={S1}\nserver.2={S2}\nreconfigEnabled=TRUE\n", {}, 1, None),
    # the server line's syntax
    ("server.1=[::1]:2888:3888;2181\nserver.2=[0:0:0:0:0:0:0:1]:2889:3889:participant;[::1]:2182\n", {}, 2, None),
    ("clientPort=2181\nserver.1=[::1]:2888:3888\nserver.2=[0:0:0:0:0:0:0:1]:2889:3889:participant;[::1]:2182\n",
     {}, 2, "2182"),
    ("clientPort=2181\nserver.1=[::1:2888:3888\nserver.2=127.0.0.1:2889:3889\n", {}, 2,
     "[::1:2888:3888 starts with '[' but has no matching ']:'"),
    ("clientPort=2181\nserver.1=[::1]:\nserver.2=127.0.0.1:2889:3889\n", {}, 2,
     "[::1]: doesn't have a port after colon"),
    (f"clientPort=2181\nserver.1={S1}:Observer\nserver.2={S2}\nserver.3={S3}\n", {}, 2, None),
    (f"clientPort=2181\nserver.1={S1}:voter\nserver.2={S2}\n", {}, 2, "Unrecognised peertype: voter"),
    ("clientPort=2181\nserver.1=127.0.0.1:2888\nserver.2=127.0.0.1:2889:3889\n", {}, 2, "127.0.0.1:2888" + SYNTAX),
    ("clientPort=2181\nserver.1=127.0.0.1:2888:3888:participant:x\nserver.2=127.0.0.1:2889:3889\n", {}, 2,
     "127.0.0.1:2888:3888:participant:x" + SYNTAX),
    ("clientPort=2181\nserver.1=127.0.0.1:2888:2888\nserver.2=127.0.0.1:2889:3889\n", {}, 2,
     "Client and election port must be different! Please update the configuration file on server.1"),
    ("clientPort=2181\nserver.1=127.0.0.1:28a8:3888\nserver.2=127.0.0.1:2889:3889\n", {}, 2,
     "Address unresolved: 127.0.0.1:28a8"),
    ("clientPort=2181\nserver.1=127.0.0.1:70000:3888\nserver.2=127.0.0.1:2889:3889\n", {}, 2,
     "port out of range:70000"),
    (f"server.1={S1};2181\nserver.2={S2};127.0.0.1:2182\n", {}, 2, None),
    (f"server.1={S1};2181;2\nserver.2={S2}\n", {}, 2, f"{S1};2181;2" + SYNTAX),
    (f"clientPort=2181\nserver.1={S1};\nserver.2={S2}\n", {}, 1, None),
    (f"server.1={S1};a:b:2181\nserver.2={S2};2182\n", {}, 2, f"{S1};a:b:2181" + SYNTAX),
    (f"server.1={S1};x\nserver.2={S2};2182\n", {}, 2, "Address unresolved"),
    (f"clientPort=2181\nserver.1={S1}|127.0.0.1:2891:3891\nserver.2={S2}\n", {}, 1,
     "Multiple address feature is disabled, but multiple addresses were specified for sid 1"),
    (f"clientPort=2181\nserver.x={S1}\nserver.2={S2}\n", {}, 2, '"x"'),
    (f"clientPort=2181\nserver.1={S1}\nserver.1={S2}\nserver.3={S3}\n", {}, 1, None),
    (f"clientPort=2182\nserver.1={S1};2181\nserver.2={S2}\n", {}, 1, "0.0.0.0:2182"),
    (f"clientPort=2181\nclientPortAddress=127.0.0.2\nserver.1={S1};127.0.0.1:2181\nserver.2={S2}\n", {}, 1,
     "127.0.0.2:2181"),
    (f"clientPort=2181\nclientPortAddress=0.0.0.0\nserver.1={S1};127.0.0.1:2181\nserver.2={S2}\n", {}, 1, None),
]


def zoopark_reads(path: Path) -> str:
    """What zoopark makes of a zoo.cfg, in the terms ReconfigFiles.java prints ZooKeeper's reading in."""
    try:
        cfg = load_config(path)
    except ConfigError as e:
        return f"ERR {e}"
    config = quorum_config_text(cfg).replace("\n", "|") if cfg.servers else ""
    client = cfg.client_port if cfg.client_port is not None else ""
    return f"OK id={cfg.my_id if cfg.my_id is not None else -1} distributed={str(not cfg.is_standalone).lower()} " \
           f"client={client} config={config}"


@needs("zookeeper", "javac")
def test_zoo_cfg_is_read_as_zookeeper_reads_it(tmp_path) -> None:
    """Each zoo.cfg is accepted or refused as ZooKeeper's QuorumPeerConfig.parse does; an accepted one gives the
    same member id, the same ensemble-or-standalone decision, client port and configuration (version included);
    a refusal says what ZooKeeper's says."""
    dirs = []
    for i, (static, dynamic, my_id, _) in enumerate(PARSE_CASES):
        d = tmp_path / f"c{i}"
        d.mkdir()
        (d / "zoo.cfg").write_text(BASE.format(dir=d) + static.format(dir=d))
        (d / "myid").write_text(f"{my_id}\n")
        for name, text in dynamic.items():
            (d / name).write_text(text)
        dirs.append(d)
    theirs = zookeeper("parse", dirs)
    for d, (static, dynamic, _, says), expected in zip(dirs, PARSE_CASES, theirs, strict=True):
        mine = zoopark_reads(d / "zoo.cfg")
        if says is None:
            assert mine == expected, (static, dynamic)
        else:
            assert expected.startswith("ERR") and says in expected, (static, dynamic, expected)
            assert mine.startswith("ERR") and says in mine, (static, dynamic, mine)


@pytest.mark.parametrize(("static", "why"), [
    (f"server.1={S1}\nserver.2={S2}\n", "clientPort: is required"),
    (f"clientPort=2181\nserver.1={S1}\nserver.2={S2}\n", "myid: 9 matches no server.N line"),
])
def test_zoopark_refuses_at_start_what_zookeeper_fails_on_later(tmp_path, static, why) -> None:
    """Where ZooKeeper's parse lets a member through that then serves no client (no client port anywhere) or
    stops in leader election (its id in no server line), zoopark refuses the file, naming the key."""
    (tmp_path / "zoo.cfg").write_text(BASE.format(dir=tmp_path) + static)
    (tmp_path / "myid").write_text("9\n" if "myid" in why else "1\n")
    with pytest.raises(ConfigError, match=why):
        load_config(tmp_path / "zoo.cfg")


# ---- a live ZooKeeper ensemble's files ---------------------------------------------------------------------


@needs("zookeeper")
def test_zookeepers_files_at_start_and_after_reconfig_are_dynconfigs(tmp_path) -> None:
    """A ZooKeeper ensemble with its server lines in zoo.cfg and reconfigEnabled: at start each member backs
    zoo.cfg up as zoo.cfg.bak, and the first leader's config version (its first zxid) is activated as
    zoo.cfg.dynamic.100000000 with zoo.cfg rewritten; removing a follower and adding it back with a client
    address in its server line erases its clientPort lines (only its own). dynconfig writes the same bytes from the same zoo.cfg and the
    /zookeeper/config text each member serves."""
    members = start_ensemble({1: ZooKeeperProcess, 2: ZooKeeperProcess, 3: ZooKeeperProcess})
    try:
        leaving, other = wait_settled(members)["follower"]  # the client stays connected through both reconfigs
        with super_client([other]) as zk:
            zk.sync("/zookeeper/config")
            first = zk.get("/zookeeper/config")[0].decode()
            assert first.endswith("version=100000000")
            check_files(tmp_path / "first", members, first, backup=True)
            zk.reconfig(joining=None, leaving=str(leaving.sid), new_members=None)
            text = zk.reconfig(joining=server_line(leaving.sid, leaving), leaving=None, new_members=None)[0].decode()
        for m in members:
            wait_for_dynamic(m, text)
        check_files(tmp_path / "second", members, text, backup=False)
        assert "clientPort" not in (leaving.tmp / "zoo.cfg").read_text()
        assert "clientPort=" in (other.tmp / "zoo.cfg").read_text()
    finally:
        stop_all(members)


def wait_for_dynamic(member, text: str) -> None:
    name = f"zoo.cfg.dynamic.{dynconfig.config_version(text):x}"
    wait_until(f"{name} on the member on {member.port}",
               lambda: (member.tmp / name).exists() and f"dynamicConfigFile={member.tmp.resolve()}/{name}"
               in (member.tmp / "zoo.cfg").read_text())


def check_files(root: Path, members, text: str, backup: bool) -> None:
    """Replay, from each member's original zoo.cfg (its .bak) and the configuration text, what dynconfig writes;
    compare with the member's own files. Before the replay's activation the static file is the one the member
    had before it (the .bak at the first activation, the member's previous zoo.cfg at a later one)."""
    for m in members:
        wait_for_dynamic(m, text)
        mine = root / str(m.port)
        mine.mkdir(parents=True)
        previous = m.tmp / "zoo.cfg.bak" if backup else m.tmp / "zoo.cfg.before"
        shutil.copy(previous, mine / "zoo.cfg")
        cfg = dataclasses.replace(load_config(mine / "zoo.cfg"), reconfig_enabled=True)
        if backup:
            dynconfig.write_backup(dataclasses.replace(cfg, dynamic_config_file=None))
        dynconfig.write_activated(cfg, text)
        theirs = {f.name: f.read_bytes() for f in m.tmp.iterdir() if f.name.startswith("zoo.cfg")}
        ours = {f.name: f.read_bytes().replace(str(mine.resolve()).encode(), str(m.tmp.resolve()).encode())
                for f in mine.iterdir()}
        name = f"zoo.cfg.dynamic.{dynconfig.config_version(text):x}"
        assert ours["zoo.cfg"] == theirs["zoo.cfg"]
        assert ours[name] == theirs[name]
        if backup:
            assert ours["zoo.cfg.bak"] == theirs["zoo.cfg.bak"]
        shutil.copy(m.tmp / "zoo.cfg", m.tmp / "zoo.cfg.before")



def test_an_ipv6_member_binds_its_bare_address(tmp_path) -> None:
    """[::1] in a server line is the address ::1, held bare as Java holds it (0:0:0:0:0:0:0:1, what a socket
    binds; one address however it is written), printed back in brackets; a bare client port is 0.0.0.0."""
    (tmp_path / "zoo.cfg").write_text(BASE.format(dir=tmp_path) + "server.1=[::1]:2888:3888;[::1]:2181\n"
                                      "server.2=[0:0:0:0:0:0:0:1]:2889:3889;2182\n")
    (tmp_path / "myid").write_text("1\n")
    cfg = load_config(tmp_path / "zoo.cfg")
    v6 = "0:0:0:0:0:0:0:1"
    assert [(s.host, s.client_address) for s in cfg.servers] == [(v6, v6), (v6, "0.0.0.0")]
    assert cfg.client_port_address == v6 and cfg.client_port == 2181
    assert quorum_config_text(cfg).startswith("server.1=[0:0:0:0:0:0:0:1]:2888:3888:participant;"
                                              "[0:0:0:0:0:0:0:1]:2181\n")


def test_a_pending_proposal_is_read_back_at_start(tmp_path) -> None:
    """With a dynamicConfigFile, <zoo.cfg>.dynamic.next (a proposal seen, not committed) is read at start, as
    QuorumPeerConfig reads it into the last seen configuration."""
    (tmp_path / "zoo.cfg").write_text(BASE.format(dir=tmp_path) + f"clientPort=2181\ndynamicConfigFile={tmp_path}/d.5\n")
    (tmp_path / "d.5").write_text(f"server.1={S1}\nserver.2={S2}\n")
    (tmp_path / "myid").write_text("1\n")
    assert load_config(tmp_path / "zoo.cfg").next_dynamic_text is None
    pending = f"server.1={S1}:participant\nserver.2={S2}:participant\nserver.3={S3}:participant\nversion=9"
    (tmp_path / "zoo.cfg.dynamic.next").write_text(pending)
    cfg = load_config(tmp_path / "zoo.cfg")
    assert cfg.next_dynamic_text == pending and cfg.config_version == 5 and len(cfg.servers) == 2
    assert last_seen(cfg) is None  # reconfigEnabled is off: QuorumPeer keeps no last seen configuration
    (tmp_path / "zoo.cfg").write_text(BASE.format(dir=tmp_path) + f"clientPort=2181\ndynamicConfigFile={tmp_path}/d.5\n"
                                      "reconfigEnabled=true\n")
    seen = last_seen(load_config(tmp_path / "zoo.cfg"))
    assert seen is not None and seen.version == 9 and seen.voters == {1, 2, 3}
    (tmp_path / "zoo.cfg.dynamic.next").write_text(pending.replace(":participant\nserver.3", ":voter\nserver.3"))
    with pytest.raises(ConfigError, match="Unrecognised peertype: voter"):
        load_config(tmp_path / "zoo.cfg")
