"""Dynamic reconfiguration on live ensembles: the reconfig request's answers (errors and the new
configuration) on zoopark as on ZooKeeper 3.8, and a zoopark ensemble that grows and loses its leader to a
reconfig under client load without losing a write."""

from __future__ import annotations

import re
import threading

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import KazooException

from reconfighelp import SUPER_AUTH, reconfig_settings

from procs import (
    ServerProcess,
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
    wait_until,
)
from references import needs

pytestmark = pytest.mark.xdist_group("ensembles")



def reconfig_config(ports: dict[int, tuple[int, int]], client_ports: dict[int, int],
                    standalone: bool = True) -> dict[int, dict[str, str]]:
    """Each member's zoo.cfg lines: reconfigEnabled, the super digest, server lines with client ports;
    `standalone`: standaloneEnabled (a reconfig must then leave two voters, else one)."""
    base = ensemble_config(ports)
    base.update({f"server.{i}": f"127.0.0.1:{qp}:{ep}:participant;127.0.0.1:{client_ports[i]}"
                 for i, (qp, ep) in ports.items()})
    base.update({**reconfig_settings(), "standaloneEnabled": str(standalone).lower()})
    return {i: dict(base) for i in ports}


def connect(port: int, auth: bool = False) -> KazooClient:
    c = KazooClient(f"127.0.0.1:{port}", timeout=15.0, auth_data=[SUPER_AUTH] if auth else None,
                    connection_retry={"max_tries": -1, "delay": 0.1, "max_delay": 0.5})
    c.start(timeout=30)
    return c


def start_ensemble(cls: type[ServerProcess], n: int) -> tuple[dict[int, ServerProcess], dict]:
    ports = ensemble_ports(range(1, n + 1))
    client_ports = {i: free_port() for i in ports}
    cfgs = reconfig_config(ports, client_ports)
    members = {i: member(cls, i, cfgs[i], port=client_ports[i]) for i in ports}
    for p in members.values():
        p.start(wait=False)
    wait_settled(list(members.values()))
    return members, ports


def _outcome(fn) -> str:
    try:
        data, _stat = fn()
    except KazooException as e:
        return type(e).__name__
    return "ok:" + normalise(data.decode())


def normalise(text: str) -> str:
    """A configuration with its ports and version replaced by their order of appearance, so two ensembles on
    different ports compare."""
    seen: dict[str, str] = {}
    text = re.sub(r"version=[0-9a-f]+", "version=V", text)
    return re.sub(r":(\d{2,5})", lambda m: ":" + seen.setdefault(m.group(1), f"P{len(seen)}"), text)


def reconfig_answers(cls: type[ServerProcess]) -> list[str]:
    members, _ = start_ensemble(cls, 3)
    clients: list[KazooClient] = []
    try:
        leader = next(p for p in members.values() if server_mode(p.port) == "leader")
        plain = connect(leader.port)
        admin = connect(leader.port, auth=True)
        clients += [plain, admin]
        spare = [free_port() for _ in range(3)]
        joining = f"server.100=127.0.0.1:{spare[0]}:{spare[1]}:observer;127.0.0.1:{spare[2]}"
        # The configuration's version before any reconfig: the first epoch's (ZOOKEEPER-1783), on every member.
        readers = [connect(p.port) for p in members.values()]
        clients += readers
        first = {c.get("/zookeeper/config")[0].decode().rsplit("\n", 1)[1] for c in readers}
        out = [f"initial: {sorted(first)}"]
        fired = [threading.Event() for _ in readers]  # a data watch on /zookeeper/config on every member
        seen: list[str] = []
        for c, ev in zip(readers, fired, strict=True):
            c.get("/zookeeper/config", watch=lambda e, ev=ev: (seen.append(f"{e.type} {e.path}"), ev.set()))
        out += [
            _outcome(lambda: plain.reconfig(joining=joining, leaving=None, new_members=None)),
            _outcome(lambda: plain.reconfig(joining="some thing", leaving=None, new_members=None)),
            _outcome(lambda: admin.reconfig(joining="server.7=127.0.0.1:1:1;2", leaving=None, new_members=None)),
            _outcome(lambda: admin.reconfig(joining="server.7=127.0.0.1:3:4", leaving=None, new_members=None)),
            _outcome(lambda: admin.reconfig(joining=None, leaving="1,2,3", new_members=None)),
            _outcome(lambda: admin.reconfig(joining=None, leaving=None,
                                            new_members="server.1=127.0.0.1:5:6:participant;7")),
            _outcome(lambda: admin.reconfig(joining=None, leaving=None, new_members="server.1=127.0.0.1:5")),
            _outcome(lambda: admin.reconfig(joining=None, leaving="x", new_members=None)),
            _outcome(lambda: admin.reconfig(joining=joining, leaving=None, new_members=None)),
        ]
        wait_until("the watches fire", lambda: all(ev.is_set() for ev in fired), 30)
        out.append(f"watches: {sorted(seen)}")
        data, _ = admin.get("/zookeeper/config")
        version = int(data.decode().rsplit("version=", 1)[1], 16)
        out += [
            _outcome(lambda: admin.reconfig(joining=None, leaving="100", new_members=None, from_config=version + 1)),
            _outcome(lambda: admin.reconfig(joining=None, leaving="100", new_members=None, from_config=version)),
            # Two participants that are not running and one that is: no synced quorum of the new configuration.
            _outcome(lambda: admin.reconfig(joining=None, leaving=None, new_members=",".join(
                [f"server.{i}=127.0.0.1:{free_port()}:{free_port()}:participant;{free_port()}" for i in (8, 9)]
                + [f"server.1={members_line(admin, 1)}"]))),
        ]
        config, stat = admin.get("/zookeeper/config")
        out.append(f"node: {normalise(config.decode())} mzxid==version:"
                   f"{stat.mzxid == int(config.decode().rsplit('=', 1)[1], 16)} version:{stat.version}")
        out += server_line_answers(admin, members_line(admin, 1))
        return out
    finally:
        close_clients(clients)
        for p in members.values():
            p.stop()
            p.cleanup()


def server_line_answers(admin: KazooClient, line1: str) -> list[str]:
    """Server lines that QuorumServer accepts or refuses, in joining servers and in a new member list: an IPv6
    literal, a role in capitals, several addresses, a port out of range or not a number, an unclosed bracket;
    a joining member on another's loopback port (checkAddressDuplicate leaves loopback out); a member list
    with another key, with observers alone, with a version that is not hex."""
    p = [free_port() for _ in range(3)]
    q1 = line1.split(":")[1]
    answers = []
    for joining in [f"server.20=[::1]:{p[0]}:{p[1]}:observer;[::1]:{p[2]}",
                    f"server.21=127.0.0.1:{p[0]}:{p[1]}:OBSERVER;{p[2]}",
                    f"server.22=127.0.0.1:{p[0]}:{p[1]}|127.0.0.1:{p[2]}:{p[0]}:observer;{p[2]}",
                    f"server.23=127.0.0.1:70000:{p[1]}:observer;{p[2]}",
                    f"server.23=127.0.0.1:{p[0]}:{p[1]}:observer;x",
                    f"server.23=[::1:{p[0]}:{p[1]}:observer;{p[2]}",
                    f"server.23=127.0.0.1:{p[0]}:{p[1]}:voter;{p[2]}",
                    f"server.24=127.0.0.1:{q1}:{p[1]}:observer;{p[2]}",
                    f"server.+25=127.0.0.1:{p[0]}:{p[1]}:observer;{p[2]}"]:
        answers.append(_outcome(lambda j=joining: admin.reconfig(joining=j, leaving=None, new_members=None)))
    answers.append(_outcome(lambda: admin.reconfig(joining=None, leaving="20,21,24,25", new_members=None)))
    for members in [f"server.1={line1},tickTime=2000",
                    f"server.1={line1.replace('participant', 'observer')}",
                    f"server.1={line1},version=xyz",
                    f"server.1={line1},server.y=127.0.0.1:{p[0]}:{p[1]};{p[2]}"]:
        answers.append(_outcome(lambda m=members: admin.reconfig(joining=None, leaving=None, new_members=m)))
    return answers


def members_line(client: KazooClient, sid: int) -> str:
    data, _ = client.get("/zookeeper/config")
    return next(line.split("=", 1)[1] for line in data.decode().splitlines() if line.startswith(f"server.{sid}="))


@needs("zookeeper")
def test_reconfig_answers_as_zookeeper() -> None:
    """The same reconfig requests, on three ZooKeeper 3.8 servers and on three zoopark members, get the same
    answers: NOAUTH without super, BADARGUMENTS for bad server lines and for fewer than two voters, the new
    configuration (with the joining observer, then without it), BADVERSION for a future config id,
    NEWCONFIGNOQUORUM, and /zookeeper/config as the last reconfig left it; then server lines QuorumServer reads
    (IPv6, roles in any case, a signed id, a loopback port shared) or refuses (BADARGUMENTS for a ConfigException,
    MARSHALLINGERROR for a RuntimeException), the new members listed in the order ZooKeeper answers them."""
    zk = reconfig_answers(ZooKeeperProcess)
    ours = reconfig_answers(ZooParkProcess)
    assert ours == zk
    assert zk[1] == "NoAuthError" and zk[2] == "BadArgumentsError" and zk[9].startswith("ok:")
    assert zk[10] == "watches: " + str(["CHANGED /zookeeper/config"] * 3)
    assert [a.split(":", 1)[0] for a in zk[15:]] == ["ok", "ok", "BadArgumentsError", "MarshallingError"] + \
        ["BadArgumentsError"] * 3 + ["ok"] * 3 + ["BadArgumentsError"] + ["MarshallingError"] * 3


def test_grow_and_remove_the_leader_under_load() -> None:
    """Three zoopark members grow to five (two new members started outside the configuration join it and
    sync), then the leader is removed by a reconfig: the others elect a new one, the removed member goes on
    as a non-voting follower, and no write a client saw acknowledged is lost."""
    ports = ensemble_ports(range(1, 6))
    client_ports = {i: free_port() for i in ports}
    first = {i: ports[i] for i in (1, 2, 3)}
    cfg3 = reconfig_config(first, client_ports, standalone=False)[1]
    members = {i: member(ZooParkProcess, i, cfg3, port=client_ports[i]) for i in (1, 2, 3)}
    # The new members start with the ensemble they are to join, and themselves as participants.
    cfg5 = reconfig_config(ports, client_ports, standalone=False)[1]
    clients: list[KazooClient] = []
    acked: list[str] = []
    stop = threading.Event()
    try:
        for p in members.values():
            p.start(wait=False)
        roles = wait_settled(list(members.values()))
        admin = connect(roles["leader"][0].port, auth=True)
        writer = connect(roles["follower"][0].port)
        clients += [admin, writer]
        writer.ensure_path("/load")

        def load() -> None:
            n = 0
            while not stop.is_set() and n < 100_000:
                n += 1
                try:
                    path = writer.create(f"/load/n-{n}", b"x")
                except KazooException:
                    continue
                acked.append(path)
        t = threading.Thread(target=load, daemon=True)
        t.start()
        for i in (4, 5):
            members[i] = member(ZooParkProcess, i, cfg5, port=client_ports[i])
            members[i].start(wait=False)
        wait_until("the new members follow", lambda: all(server_mode(members[i].port) == "follower" for i in (4, 5)))
        joining = ",".join(f"server.{i}=127.0.0.1:{ports[i][0]}:{ports[i][1]}:participant;127.0.0.1:{client_ports[i]}"
                           for i in (4, 5))
        data, _ = admin.reconfig(joining=joining, leaving=None, new_members=None)
        assert sorted(re.findall(r"server\.(\d+)=", data.decode())) == ["1", "2", "3", "4", "5"]
        leader_id = next(i for i, p in members.items() if server_mode(p.port) == "leader")
        conf = four_letter(members[leader_id].port, "conf")
        assert conf.split("membership: \n", 1)[1] == data.decode()  # conf shows the active configuration
        assert mntr(members[leader_id].port)["zk_quorum_size"] == "5"
        data, _ = admin.reconfig(joining=None, leaving=str(leader_id), new_members=None)
        assert f"server.{leader_id}=" not in data.decode()
        rest = [p for i, p in members.items() if i != leader_id]
        wait_until("a new leader among the others",
                   lambda: [server_mode(p.port) for p in rest].count("leader") == 1)
        wait_until("the removed member follows", lambda: server_mode(members[leader_id].port) == "follower")
        stop.set()
        t.join(timeout=60)
        assert len(acked) > 10
        reader = connect(next(p for p in rest if server_mode(p.port) == "leader").port)
        clients.append(reader)
        reader.sync("/load")
        have = {f"/load/{c}" for c in reader.get_children("/load")}
        assert set(acked) <= have
        config, _ = reader.get("/zookeeper/config")
        assert sorted(re.findall(r"server\.(\d+)=", config.decode())) == sorted(str(i) for i in ports if i != leader_id)
    finally:
        stop.set()
        close_clients(clients)
        for p in members.values():
            p.stop()
            p.cleanup()


@needs("zookeeper")
def test_a_mixed_ensemble_reconfigures_across_implementations() -> None:
    """Two ZooKeeper 3.8 servers and a zoopark leader: a reconfig sent through a ZooKeeper follower adds and
    removes an observer (every member serves the same /zookeeper/config), then one removes the zoopark
    leader: the ZooKeeper servers take the designated leader from our COMMITANDACTIVATE, a write goes
    through, and the removed zoopark member goes on as a non-voting follower of the ZooKeeper leader."""
    ports = ensemble_ports((1, 2, 3))
    client_ports = {i: free_port() for i in ports}
    cfgs = reconfig_config(ports, client_ports)
    kinds: dict[int, type[ServerProcess]] = {1: ZooKeeperProcess, 2: ZooKeeperProcess, 3: ZooParkProcess}
    members = {i: member(kinds[i], i, cfgs[i], port=client_ports[i]) for i in ports}
    clients: list[KazooClient] = []
    try:
        members[3].start(wait=False)  # LOOKING first: with the highest id it leads
        wait_until("zoopark LOOKING", lambda: "LOOKING" in members[3].log_path.read_text(), 60)
        for i in (1, 2):
            members[i].start(wait=False)
        roles = wait_settled(list(members.values()))
        assert roles["leader"] == [members[3]]
        via_zk = connect(members[1].port, auth=True)
        clients.append(via_zk)
        spare = [free_port() for _ in range(3)]
        joining = f"server.100=127.0.0.1:{spare[0]}:{spare[1]}:observer;127.0.0.1:{spare[2]}"
        data, _ = via_zk.reconfig(joining=joining, leaving=None, new_members=None)
        assert joining in data.decode()
        readers = {i: connect(p.port) for i, p in members.items()}
        clients += readers.values()
        for c in readers.values():
            c.sync("/zookeeper/config")
        assert {c.get("/zookeeper/config")[0] for c in readers.values()} == {data}
        data, _ = via_zk.reconfig(joining=None, leaving="100", new_members=None)
        assert joining not in data.decode()
        try:
            via_zk.reconfig(joining=None, leaving="3", new_members=None)
        except KazooException:
            pass  # its follower restarts its role with the new leader: the reply may be lost, as on ZooKeeper
        wait_until("a ZooKeeper leader", lambda: "leader" in (server_mode(members[1].port),
                                                               server_mode(members[2].port)))
        wait_until("the removed zoopark member follows", lambda: server_mode(members[3].port) == "follower")
        readers[1].create("/after", b"x")
        for c in readers.values():
            c.sync("/after")
        configs = {c.get("/zookeeper/config")[0] for c in readers.values()}
        assert len(configs) == 1 and "server.3=" not in configs.pop().decode()
        assert all(c.exists("/after") for c in readers.values())
    finally:
        close_clients(clients)
        for p in members.values():
            p.stop()
            p.cleanup()


def test_one_member_grows_to_three_and_back_under_load() -> None:
    """A one-member ensemble (standaloneEnabled=false) grows to three and shrinks back to one while a
    client writes: the new members start with a configuration naming all three (version 0), adopt the
    running one from its leader's notifications (version 100000000, newer), follow it as non-voters, and
    become voters by the reconfig; every write acknowledged is there at the end."""
    ports = ensemble_ports((1, 2, 3))
    client_ports = {i: free_port() for i in ports}
    one = reconfig_config({1: ports[1]}, client_ports, standalone=False)[1]
    three = reconfig_config(ports, client_ports, standalone=False)[1]
    members = {1: member(ZooParkProcess, 1, one, port=client_ports[1])}
    clients: list[KazooClient] = []
    acked: list[str] = []
    stop = threading.Event()
    try:
        members[1].start()
        wait_until("member 1 leads", lambda: server_mode(members[1].port) == "leader")
        admin = connect(members[1].port, auth=True)
        writer = connect(members[1].port)
        clients += [admin, writer]
        writer.ensure_path("/load")

        def load() -> None:
            for n in range(100_000):
                if stop.is_set():
                    return
                try:
                    acked.append(writer.create(f"/load/n-{n}", b"x"))
                except KazooException:
                    continue
        t = threading.Thread(target=load, daemon=True)
        t.start()
        for i in (2, 3):  # one at a time: two newcomers could otherwise elect each other under their config
            members[i] = member(ZooParkProcess, i, three, port=client_ports[i])
            members[i].start(wait=False)
            wait_until(f"member {i} follows", lambda i=i: server_mode(members[i].port) == "follower")
        line = {i: f"server.{i}=127.0.0.1:{ports[i][0]}:{ports[i][1]}:participant;127.0.0.1:{client_ports[i]}"
                for i in ports}
        data, _ = admin.reconfig(joining=f"{line[2]},{line[3]}", leaving=None, new_members=None)
        assert sorted(re.findall(r"server\.(\d+)=", data.decode())) == ["1", "2", "3"]
        assert mntr(members[1].port)["zk_quorum_size"] == "3"
        n_before = len(acked)
        wait_until("writes go on with three voters", lambda: len(acked) > n_before + 20)
        data, _ = admin.reconfig(joining=None, leaving="2,3", new_members=None)
        assert sorted(re.findall(r"server\.(\d+)=", data.decode())) == ["1"]
        n_before = len(acked)
        wait_until("writes go on with one voter", lambda: len(acked) > n_before + 20)
        stop.set()
        t.join(timeout=60)
        for i in (2, 3):  # removed, they follow as non-voters and serve what the leader commits
            reader = connect(members[i].port)
            clients.append(reader)
            reader.sync("/load")
            assert {f"/load/{c}" for c in reader.get_children("/load")} >= set(acked)
        assert {f"/load/{c}" for c in admin.get_children("/load")} >= set(acked)
    finally:
        stop.set()
        close_clients(clients)
        for p in members.values():
            p.stop()
            p.cleanup()


@needs("zookeeper")
@pytest.mark.parametrize("enabled", [False, True])
def test_a_standalone_server_answers_reconfig_as_zookeeper(enabled: bool) -> None:
    """A standalone server cannot be reconfigured: RECONFIGDISABLED without reconfigEnabled, UNIMPLEMENTED
    with it, on zoopark as on ZooKeeper 3.8."""
    answers = []
    for cls in (ZooKeeperProcess, ZooParkProcess):
        extra = reconfig_settings(enabled)
        with cls(extra=extra) as p:
            c = connect(p.port, auth=True)
            try:
                answers.append(_outcome(lambda c=c: c.reconfig(joining=None, leaving="1", new_members=None)))
            finally:
                close_clients([c])
    assert answers[0] == answers[1] == ("UnimplementedError" if enabled else "ReconfigDisabledError")
