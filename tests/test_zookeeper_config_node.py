"""/zookeeper/config: an ensemble member serves its configuration there as ZooKeeper 3.8 does (the text of
QuorumMaj.toString, the Stat ZKDatabase.initConfigInZKDatabase gives it), in every role; standalone it is empty.

The text is checked against ZooKeeper's own QuorumMaj on random configurations, and the node against real
ZooKeeper ensembles run with the very same zoo.cfg (same ports: the text is then identical byte for byte)."""

from __future__ import annotations

import random
import subprocess
import time
from pathlib import Path

import pytest
from kazoo.client import KazooClient

from zoopark.config import ConfigError, parse_config
from zoopark.core.server.core import ServerCore
from zoopark.core.server.settings import CoreSettings
from zoopark.core.tree.datatree import CONFIG
from zoopark.quorumconfig import quorum_config_text

from procs import (
    ZooKeeperProcess,
    ZooParkProcess,
    close_clients,
    ensemble_config,
    ensemble_ports,
    four_letter,
    free_port,
    member,
    mntr,
    server_mode,
    wait_settled,
    zk_classpath,
)
from references import ZKCLI, needs

JAVA_SRC = Path(__file__).parent / "java" / "QuorumConfigText.java"
needs_zookeeper = needs("zookeeper")


def stat_but_mtime(st) -> tuple:
    return (st.czxid, st.mzxid, st.ctime, st.version, st.cversion, st.aversion, st.ephemeralOwner,
            st.dataLength, st.numChildren, st.pzxid)


# ---- the text ------------------------------------------------------------------------------------------


def random_servers(rng: random.Random) -> list[str]:
    """server.N lines as operators write them: any ids, host names or addresses, roles given or not, client
    addresses given as port, host:port or not at all (ports all distinct)."""
    ports = iter(rng.sample(range(1024, 65000), 100))
    lines = []
    for sid in rng.sample(range(1, rng.choice([20, 40, 300])), rng.randint(1, 15)):
        host = rng.choice(["127.0.0.1", "127.0.0.2", "localhost", "127.0.1.9"])
        line = f"server.{sid}={host}:{next(ports)}:{next(ports)}" + rng.choice(["", ":participant", ":observer"])
        line += rng.choice(["", f";{next(ports)}", f";{host}:{next(ports)}", f";0.0.0.0:{next(ports)}"])
        lines.append(line)
    return lines


@needs("zookeeper", "javac")  # the source-file launcher compiles
def test_text_is_zookeepers_quorum_maj_to_string(tmp_path) -> None:
    """The member order (HashMap over java.util.Properties' order), roles, client addresses and version, as
    ZooKeeper's own QuorumMaj prints them, for 150 random configurations (seed 11)."""
    rng = random.Random(11)
    # standaloneEnabled=false: QuorumPeerConfig refuses a lone participant with observers otherwise
    required = ["initLimit=10", "syncLimit=5", f"dataDir={tmp_path}", "clientPort=2181", "standaloneEnabled=false"]
    others = ["tickTime=2000", "4lw.commands.whitelist=*", "admin.enableServer=false", "snapCount=1000",
              "maxClientCnxns=0", "autopurge.purgeInterval=1", "clientPortAddress=0.0.0.0"]
    configs = []
    for _ in range(150):
        lines = random_servers(rng) + required + rng.sample(others, rng.randint(0, len(others)))
        rng.shuffle(lines)
        if rng.random() < 0.2:
            lines.append(f"version={rng.randint(1, 1 << 40):x}")
        configs.append("\n".join(lines) + "\n")
    java = subprocess.run(["java", "-cp", zk_classpath(), str(JAVA_SRC)], input="".join(c + "--\n" for c in configs),
                          capture_output=True, text=True, timeout=120, check=True)
    theirs = java.stdout.split("\n--\n")[:-1]
    assert len(theirs) == len(configs)
    for text, expected in zip(configs, theirs, strict=True):
        mine = next(ln for ln in text.splitlines() if ln.startswith("server."))
        (tmp_path / "myid").write_text(mine[len("server."):].split("=", 1)[0] + "\n")
        if ";" in mine:  # clientPort may only repeat the server line's
            text = text.replace("clientPort=2181\n", f"clientPort={mine.split(';')[1].split(':')[-1]}\n")
        if not any(ln.startswith("server.") and ":observer" not in ln for ln in text.splitlines()):
            with pytest.raises(ConfigError, match="participants"):  # QuorumPeerConfig refuses it too
                parse_config(text, tmp_path)
            continue
        assert quorum_config_text(parse_config(text, tmp_path)) == expected, text


def test_text_of_a_plain_ensemble(tmp_path) -> None:
    """clientPort= in zoo.cfg gives no `;client` part; a server line's client address is printed as given,
    0.0.0.0 for a bare port."""
    (tmp_path / "myid").write_text("3\n")
    cfg = parse_config(f"dataDir={tmp_path}\nclientPort=2181\ninitLimit=5\nsyncLimit=2\n"
                       "server.1=127.0.0.1:2888:3888;127.0.0.1:2181\nserver.2=localhost:2889:3889:observer;2182\n"
                       "server.3=127.0.0.1:2890:3890\n", tmp_path)
    assert quorum_config_text(cfg) == (
        "server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181\n"
        "server.2=localhost:2889:3889:observer;0.0.0.0:2182\n"
        "server.3=127.0.0.1:2890:3890:participant\n"
        "version=0")


# ---- the node, in the core -----------------------------------------------------------------------------

TEXT = b"server.1=127.0.0.1:2888:3888:participant\nversion=100000000"


def test_standalone_leaves_it_empty() -> None:
    core = ServerCore(CoreSettings())
    core.start(5000)
    node = core.tree.get(CONFIG)
    assert node.data == b"" and (node.mzxid, node.version, node.aversion, node.mtime) == (0, 0, -1, 0)
    assert core.tree.approximate_data_size == 44  # "", "/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"


def test_a_member_fills_it_with_the_configs_version_as_mzxid() -> None:
    settings = CoreSettings(quorum_config=TEXT, quorum_config_version=0x100000000)
    leader = ServerCore(settings)
    leader.start(5000)
    node = leader.tree.get(CONFIG)
    assert node.data == TEXT
    assert (node.czxid, node.mzxid, node.ctime, node.mtime, node.version, node.aversion) == \
        (0, 0x100000000, 0, 5000, -1, -1)
    assert leader.tree.approximate_data_size == 44 + len(TEXT)
    # The next role on the same tree: a leader keeps the node it has (ZooKeeper's leader never rewrites it);
    # a learner rewrites it at every sync (Learner.syncWithLeader), so its mtime is that of its last sync.
    again = ServerCore(settings, leader.tree)
    again.start(9000)
    assert again.tree.get(CONFIG).mtime == 5000
    follower = ServerCore(settings, leader.tree)
    follower.start(12000)
    follower.become_follower()
    assert follower.tree.get(CONFIG).mtime == 12000
    assert follower.tree.approximate_data_size == 44 + len(TEXT)
    # A node holding another text (a snapshot from an older configuration) is rewritten by any role.
    changed = ServerCore(CoreSettings(quorum_config=TEXT + b"0", quorum_config_version=0x100000000), leader.tree)
    changed.start(15000)
    assert (changed.tree.get(CONFIG).data, changed.tree.get(CONFIG).mtime) == (TEXT + b"0", 15000)


def test_a_members_first_snapshot_already_holds_it(tmp_path) -> None:
    """ZooKeeper's first snapshot of a member holds the node: a ZooKeeper server started on a data dir that
    a zoopark member began would otherwise serve it empty until its first sync."""
    from zoopark.persist.snapfiles import load_newest
    from zoopark.runtime.member import Member

    ports = ensemble_ports([1, 2, 3])
    text = "".join(f"{k}={v}\n" for k, v in ensemble_config(ports).items())
    (tmp_path / "myid").write_text("2")
    cfg = parse_config(f"tickTime=500\ndataDir={tmp_path}\nclientPort={free_port()}\n{text}", tmp_path)
    Member(cfg).load()
    node = load_newest(cfg.snap_dir).snapshot.tree.get(CONFIG)
    assert node.data == quorum_config_text(cfg).encode() and node.mzxid == cfg.config_version


# ---- the node, live, against ZooKeeper -----------------------------------------------------------------


def config_node(port: int) -> tuple[bytes, tuple, int, list]:
    c = KazooClient(f"127.0.0.1:{port}", timeout=15.0)
    c.start(timeout=30)
    try:
        data, st = c.get("/zookeeper/config")
        acl, _ = c.get_acls("/zookeeper/config")
        return data, stat_but_mtime(st), st.mtime, [(a.perms, a.id.scheme, a.id.id) for a in acl]
    finally:
        close_clients([c])


def ensemble_run(cls, ports: dict[int, tuple[int, int]], client_ports: dict[int, int]) -> dict[str, tuple]:
    """Three participants and an observer whose server lines give client addresses in each form: the roles, and
    what each member serves in /zookeeper/config, its mntr zk_approximate_data_size and its conf."""
    extra = ensemble_config(ports, observers=(17,))
    extra["server.1"] += f";127.0.0.1:{client_ports[1]}"
    extra["server.2"] += f";{client_ports[2]}"
    members = []
    for sid in ports:
        own = dict(extra)
        if sid == 2:  # its client address is 0.0.0.0: a specific clientPortAddress would contradict it
            own["clientPortAddress"] = "0.0.0.0"
        members.append(member(cls, sid, own, port=client_ports[sid]))
    started_ms = time.time() * 1000
    try:
        for p in members:
            p.start(wait=False)
        wait_settled(members, timeout=90)
        out: dict = {"roles": sorted(server_mode(p.port) for p in members)}
        for sid, p in zip(ports, members, strict=True):  # which member leads may differ from run to run
            data, stat, mtime, acl = config_node(p.port)
            assert started_ms - 1000 <= mtime <= time.time() * 1000, (cls.kind, mtime)
            conf = four_letter(p.port, "conf")  # from serverId on: the member's ids, ports and the membership
            out[sid] = (data, stat, acl, mntr(p.port)["zk_approximate_data_size"], conf[conf.index("serverId="):])
        return out
    finally:
        for p in members:
            p.cleanup()


@pytest.mark.xdist_group("ensembles")
@needs_zookeeper
def test_every_role_serves_what_zookeeper_serves_for_the_same_zoo_cfg() -> None:
    ids = (1, 2, 3, 17)
    ports = ensemble_ports(ids)
    client_ports = {i: free_port() for i in ids}
    theirs = ensemble_run(ZooKeeperProcess, ports, client_ports)
    ours = ensemble_run(ZooParkProcess, ports, client_ports)
    assert theirs["roles"] == ["follower", "follower", "leader", "observer"]  # the reference itself
    data = theirs[1][0]
    assert data.startswith(b"server.17=") and b";0.0.0.0:" in data and data.endswith(b"\nversion=0")
    assert ours == theirs


@needs_zookeeper
def test_standalone_as_zookeeper() -> None:
    out = []
    for cls in (ZooKeeperProcess, ZooParkProcess):
        with cls() as p:
            c = KazooClient(p.hosts, timeout=15.0)
            c.start(timeout=30)
            data, st = c.get("/zookeeper/config")
            out.append((data, st, mntr(p.port)["zk_approximate_data_size"]))
            close_clients([c])
    assert out[0] == out[1]
    assert out[0][0] == b"" and out[0][2] == "44"


@pytest.mark.xdist_group("ensembles")
@needs_zookeeper
def test_a_zoopark_follower_of_a_zookeeper_leader_serves_its_own_config() -> None:
    """Synced from ZooKeeper's leader (whose snapshot carries the leader's node), the member rewrites the node
    from its own configuration, as ZooKeeper's learners do; the text is the same as the leader's."""
    extra = ensemble_config(ensemble_ports((1, 2, 3)))
    zks = {i: member(ZooKeeperProcess, i, extra) for i in (2, 3)}
    zp = member(ZooParkProcess, 1, extra)
    try:
        for p in zks.values():
            p.start(wait=False)
        settled = wait_settled(list(zks.values()), timeout=90)
        leader_data, leader_stat, _, leader_acl = config_node(settled["leader"][0].port)
        synced_after_ms = time.time() * 1000
        zp.start(timeout=90)
        data, stat, mtime, acl = config_node(zp.port)
        assert (data, stat, acl) == (leader_data, leader_stat, leader_acl)
        assert mtime >= synced_after_ms - 1000
        assert data == quorum_config_text(parse_config((zp.tmp / "zoo.cfg").read_text(), zp.tmp)).encode()
    finally:
        for p in [*zks.values(), zp]:
            p.cleanup()


@pytest.mark.xdist_group("ensembles")
def test_a_read_only_member_serves_it_too() -> None:
    ports = ensemble_ports((1, 2, 3))
    extra = ensemble_config(ports)
    extra["readonlymode.enabled"] = "true"
    members = [member(ZooParkProcess, i, extra) for i in ports]
    try:
        for p in members:
            p.start(wait=False)
        roles = wait_settled(members, timeout=90)
        survivor = roles["follower"][0]
        before = config_node(survivor.port)
        for p in members:
            if p is not survivor:
                p.kill()
        deadline = time.monotonic() + 60
        while server_mode(survivor.port) != "read-only":
            assert time.monotonic() < deadline, "never read-only"
            time.sleep(0.05)
        c = KazooClient(survivor.hosts, timeout=10.0, read_only=True)
        c.start(timeout=30)
        try:
            data, st = c.get("/zookeeper/config")
        finally:
            close_clients([c])
        assert (data, stat_but_mtime(st)) == before[:2]
        assert data.endswith(b"\nversion=0") and data.count(b"server.") == 3
        # ReadOnlyZooKeeperServer.dumpConf: the member's settings, no membership
        conf = four_letter(survivor.port, "conf")
        assert "\nserverId=" in conf and conf.endswith("\npeerType=0\n") and "membership" not in conf
    finally:
        for p in members:
            p.cleanup()


@needs("zkcli")
def test_zkcli_config_reads_it() -> None:
    """zkCli's `config` prints the node (ZooKeeper's getConfig)."""
    ports = ensemble_ports((1, 2, 3))
    members = [member(ZooParkProcess, i, ensemble_config(ports)) for i in ports]
    try:
        for p in members:
            p.start(wait=False)
        wait_settled(members, timeout=90)
        out = subprocess.run([ZKCLI, "-server", members[0].hosts, "config"], capture_output=True, text=True,
                             timeout=120).stdout
        expected = quorum_config_text(parse_config((members[0].tmp / "zoo.cfg").read_text(), members[0].tmp))
        assert expected in out
    finally:
        for p in members:
            p.cleanup()


CURATOR_JARS = ("curator-client", "curator-framework", "zookeeper", "zookeeper-jute", "guava", "failureaccess",
                "slf4j-api", "slf4j-nop")


@pytest.mark.xdist_group("ensembles")
@needs("curator", "javac")
def test_curators_ensemble_tracker_reads_it() -> None:
    """Curator's getConfig() and its EnsembleTracker parse the node into the members of the ensemble."""
    java_dir = Path("/usr/share/java")
    cp = ":".join(str(java_dir / f"{j}.jar") for j in CURATOR_JARS if (java_dir / f"{j}.jar").exists())
    ports = ensemble_ports((1, 2, 3))
    client_ports = {i: free_port() for i in ports}
    extra = ensemble_config(ports)
    for sid in ports:
        extra[f"server.{sid}"] += f";127.0.0.1:{client_ports[sid]}"
    members = [member(ZooParkProcess, sid, extra, port=client_ports[sid]) for sid in ports]
    try:
        for p in members:
            p.start(wait=False)
        wait_settled(members, timeout=90)
        run = subprocess.run(["java", "-cp", cp, str(Path(__file__).parent / "java" / "CuratorEnsemble.java"),
                              members[0].hosts], capture_output=True, text=True, timeout=180)
        assert run.returncode == 0, run.stderr[-3000:]
        text, tracked = run.stdout.split("\n--\n")
        expected = quorum_config_text(parse_config((members[0].tmp / "zoo.cfg").read_text(), members[0].tmp))
        assert text == expected
        assert tracked.splitlines() == [f"MEMBER {line[len('server.'):].replace('=', ' ', 1)}"
                                        for line in expected.splitlines()[:-1]]
    finally:
        for p in members:
            p.cleanup()
