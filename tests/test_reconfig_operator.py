"""Dynamic reconfiguration as an operator uses it, on real ensembles of ZooKeeper 3.8 and of zoopark: kazoo's own
reconfig tests, zkCli's `reconfig` / `config` and the files each member writes (compared with what ZooKeeper
prints and writes in the same scenario), growing 1 → 3 → 5 and shrinking back under client load with no lost
write, removing the leader, an observer promoted and demoted, a proposal's .next file, and mixed ensembles.

Every test runs against ZooKeeper too, so the expectations are ZooKeeper's behaviour, checked on every run."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
from pathlib import Path

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import (
    BadArgumentsError,
    BadVersionError,
    ConnectionLoss,
    NewConfigNoQuorumError,
    NoAuthError,
    NodeExistsError,
    ReconfigDisabledError,
    SessionExpiredError,
)

from reconfighelp import (
    config_of,
    dynamic_ensemble,
    new_member,
    reconfig_settings,
    server_line,
    start_ensemble,
    start_together,
    stop_all,
    super_client,
    wait_members,
    zkcli,
)

from procs import (
    ServerProcess,
    ZooKeeperProcess,
    ZooParkProcess,
    close_clients,
    free_port,
    server_mode,
    wait_settled,
    wait_until,
)
from references import needs

pytestmark = [needs("zookeeper"), pytest.mark.xdist_group("reconfig")]

KIND = pytest.mark.parametrize("cls", [pytest.param(ZooKeeperProcess, id="zookeeper"),
                                       pytest.param(ZooParkProcess, id="zoopark")])


def three(cls: type[ServerProcess], **kw) -> list[ServerProcess]:
    return start_ensemble({1: cls, 2: cls, 3: cls}, **kw)


# ---- kazoo's own tests -------------------------------------------------------------------------------------


def kazoo_reconfig_case(name: str, members: list[ServerProcess]) -> unittest.TestCase:
    """kazoo.tests.test_client.TestReconfig's test `name`, its harness pointed at our ensemble instead of the one
    kazoo's harness would start (ZOOKEEPER_PATH and friends)."""
    from kazoo.tests.test_client import TestReconfig

    class Running:
        running = True

        def __init__(self, address: str) -> None:
            self.address = address

    class Cluster(list):
        def start(self) -> None:
            pass

        def terminate(self) -> None:
            pass

    class OnOurEnsemble(TestReconfig):
        @property
        def cluster(self):
            return Cluster(Running(m.hosts) for m in members)

    return OnOurEnsemble(name)


@KIND
@pytest.mark.parametrize("name", ["test_no_super_auth", "test_add_remove_observer", "test_bad_input"])
def test_kazoos_reconfig_tests(cls, name) -> None:
    """kazoo's TestReconfig, unchanged: a reconfig without super is NOAUTH; super adds an observer (server.100 on
    ports nobody listens on), removes it, and a fromConfig in the future is BADVERSION; a joining string that
    is no server line is BADARGUMENTS."""
    members = three(cls)
    try:
        result = unittest.TestResult()
        kazoo_reconfig_case(name, members).run(result)
        assert result.testsRun == 1 and not result.skipped
        assert result.wasSuccessful(), "\n".join(t for _, t in result.errors + result.failures)
    finally:
        stop_all(members)


@pytest.mark.parametrize("cls", [pytest.param(ZooKeeperProcess, id="zookeeper"),
                                 pytest.param(ZooParkProcess, id="zoopark")])
def test_reconfig_disabled(cls) -> None:
    """Without reconfigEnabled every reconfig is RECONFIGDISABLED, even super's, and zkCli says so; the
    configuration does not change. (zoopark answers this already.)"""
    members = three(cls, reconfig_enabled=False)
    try:
        with super_client(members) as zk:
            before = config_of(zk)
            for args in ({"joining": None, "leaving": "3", "new_members": None},
                         {"joining": "some thing", "leaving": None, "new_members": None}):
                with pytest.raises(ReconfigDisabledError):
                    zk.reconfig(**args)
            assert config_of(zk) == before
        out, err = zkcli(members[0].port, "reconfig -remove 3\n")
        assert (out, err) == ("", "KeeperErrorCode = Reconfig is disabled\n")
    finally:
        stop_all(members)


@pytest.mark.parametrize("cls", [pytest.param(ZooKeeperProcess, id="zookeeper"),
                                 pytest.param(ZooParkProcess, id="zoopark")])
def test_zoo_cfg_is_backed_up_at_start(cls) -> None:
    """Members whose zoo.cfg holds the server lines copy it to zoo.cfg.bak at start when reconfigEnabled is on,
    byte for byte; with it off, or standalone, nothing is written. (zoopark does this already.)"""
    enabled, disabled = three(cls), three(cls, reconfig_enabled=False)
    alone = cls(extra=reconfig_settings())
    try:
        alone.start()
        for m in enabled:
            assert (m.tmp / "zoo.cfg.bak").read_text() == m.config_text()
        for m in [*disabled, alone]:
            assert sorted(f.name for f in m.tmp.iterdir() if f.name.startswith("zoo.cfg")) == ["zoo.cfg"]
    finally:
        stop_all([*enabled, *disabled, alone])


# ---- zkCli and the files ----------------------------------------------------------------------------------


def zkcli_script(members: list[ServerProcess], spare: ServerProcess, members_file: Path) -> str:
    lines = ",".join(server_line(m.sid, m) for m in members)
    return "\n".join([
        "config",
        "reconfig -remove 3",  # before addauth: Insufficient permission
        "addauth digest super:test",
        "reconfig -add server.7=garbage",
        "reconfig -add foo",
        "reconfig -remove 3 -v 1",
        "reconfig -remove 1,2,3",
        "reconfig -file /nonexistent",
        "reconfig",
        f"reconfig -add {server_line(4, spare, 'observer')}",
        "config",
        "reconfig -remove 4",
        f"reconfig -members {lines}",
        f"reconfig -file {members_file}",
        "reconfig -remove 99",
        "config -s",
        "",
    ])


class Normalizer:
    """Ports, paths, versions and times of one ensemble's run replaced by names, so two runs compare."""

    def __init__(self, members: list[ServerProcess], spare: ServerProcess) -> None:
        self.names: dict[str, str] = {}
        for m in [*members, spare]:
            qp, ep = m.quorum_ports
            self.names.update({str(m.port): f"C{m.sid}", str(qp): f"Q{m.sid}", str(ep): f"E{m.sid}",
                               str(m.tmp): f"<dir{m.sid}>"})
        self.versions: dict[str, str] = {}

    def version(self, v: str) -> str:
        return self.versions.setdefault(v.lower().lstrip("0") or "0", f"V{len(self.versions) + 1}")

    def __call__(self, text: str) -> str:
        text = re.sub(r"version=([0-9a-f]+)", lambda m: f"version={self.version(m.group(1))}", text)
        text = re.sub(r"dynamic\.([0-9a-f]+)\b", lambda m: f"dynamic.{self.version(m.group(1))}", text)
        text = re.sub(r"mZxid = 0x([0-9a-f]+)", lambda m: f"mZxid = {self.version(m.group(1))}", text)
        text = re.sub(r"mtime = .*", "mtime = <time>", text)
        text = re.sub(r"(?m)^([0-9a-f]+)(?= \S*:\d)", lambda m: self.version(m.group(1)), text)  # config -c
        for path in sorted((k for k in self.names if k.startswith("/")), key=len, reverse=True):
            text = text.replace(path, self.names[path])
        return re.sub(r"\b\d{4,5}\b", lambda m: self.names.get(m.group(0), m.group(0)), text)


def files(m: ServerProcess, norm: Normalizer) -> dict[str, str]:
    return {norm(f.name): norm(f.read_text()) for f in sorted(m.tmp.iterdir()) if f.name.startswith("zoo.cfg")}


def zkcli_run(cls: type[ServerProcess]) -> tuple[str, str, list[dict[str, str]]]:
    """The zkCli script against a 3-member ensemble of `cls` whose zoo.cfg names a dynamic file: its normalized
    output, error output, and each member's zoo.cfg* files once the last configuration is active."""
    ms = dynamic_ensemble({1: cls, 2: cls, 3: cls})
    spare = new_member(cls, 4, {})  # never started: an observer added and removed
    try:
        start_together(ms)
        members_file = ms[0].tmp / "members.txt"
        members_file.write_text("".join(server_line(m.sid, m) + "\n" for m in ms))
        norm = Normalizer(ms, spare)
        out, err = zkcli(ms[0].port, zkcli_script(ms, spare, members_file), auth=False)
        with super_client(ms) as zk:
            version = config_of(zk)[1]
        for m in ms:
            wait_until(f"member {m.sid} activated version {version:x}",
                       lambda m=m: (m.tmp / f"zoo.cfg.dynamic.{version:x}").exists())
        return norm(out), norm(err), [files(m, norm) for m in ms]
    finally:
        stop_all([*ms, spare])


@pytest.fixture(scope="module")
def zookeepers_zkcli_run():
    return zkcli_run(ZooKeeperProcess)


@KIND
def test_zkcli_reconfig_and_config_as_zookeeper(cls, zookeepers_zkcli_run) -> None:
    """zkCli's config, reconfig -add / -remove / -members / -file / -v and their errors (no auth, garbage,
    a wrong version, no quorum left, a missing file, no arguments), and the files every member then holds,
    as a ZooKeeper ensemble prints and writes them in the same scenario."""
    out, err, member_files = zkcli_run(cls)
    theirs_out, theirs_err, theirs_files = zookeepers_zkcli_run
    assert out == theirs_out
    assert err == theirs_err
    assert member_files == theirs_files
    # what ZooKeeper itself says, pinned, so that a change of its behaviour shows here
    assert err.splitlines()[:5] == ["Insufficient permission : ", "Arguments are not valid : ",
                                    "Arguments are not valid : ", "version No is not valid : ",
                                    "Arguments are not valid : "]
    assert "Committed new configuration:\nserver.1=127.0.0.1:Q1:E1:participant;127.0.0.1:C1\n" in out


SHELL_EXTRA = "config -c\nreconfig -v xyz -remove 4\nreconfig -add a -members b\nreconfig -file a -members b\n" \
              "reconfig -bogus\nreconfig -remove\nconfig -s -w\n"


def test_zoopark_shell_reconfig_and_config_as_zkcli() -> None:
    """`zoopark shell` runs the same config / reconfig script as zkCli against a ZooKeeper ensemble, and prints
    the same lines on the same streams (after zkCli's run, so its versions are later ones: each transcript's
    versions are named in order)."""
    ms = start_together(dynamic_ensemble({1: ZooKeeperProcess, 2: ZooKeeperProcess, 3: ZooKeeperProcess}))
    spare = new_member(ZooKeeperProcess, 4, {})
    try:
        members_file = ms[0].tmp / "members.txt"
        members_file.write_text("".join(server_line(m.sid, m) + "\n" for m in ms))
        script = zkcli_script(ms, spare, members_file) + SHELL_EXTRA
        out, err = zkcli(ms[0].port, script, auth=False)
        shell = subprocess.run([sys.executable, "-m", "zoopark", "shell", "-server", ms[0].hosts], input=script,
                               capture_output=True, text=True, timeout=120)
        theirs, ours = Normalizer(ms, spare), Normalizer(ms, spare)
        assert ours(shell.stdout) == theirs(out)
        assert ours(shell.stderr) == theirs(err)
        assert "Can't use -file and -members together (conflicting non-incremental modes)\n" in err
    finally:
        stop_all([*ms, spare])


# ---- growing, shrinking, the leader, observers ------------------------------------------------------------


class Writer(threading.Thread):
    """Creates /load/n-<i> one after another through `hosts` until stopped (at most 20,000, at most 10 minutes),
    retrying the same path for up to a minute after a connection loss; records each create the server
    acknowledged."""

    def __init__(self, hosts: str) -> None:
        super().__init__(daemon=True)
        self.zk = KazooClient(hosts=hosts, timeout=30, connection_retry={"max_tries": -1, "delay": 0.1})
        self.zk.start(timeout=60)
        self.zk.ensure_path("/load")
        self.acked: list[str] = []
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        deadline = time.monotonic() + 600
        try:
            for i in range(20_000):
                if self.stopping.is_set() or time.monotonic() > deadline:
                    return
                path = f"/load/n-{i:05d}"
                retry_until = time.monotonic() + 60
                while True:
                    try:
                        self.zk.create(path, b"x")
                    except NodeExistsError:
                        pass  # the lost reply's create went through
                    except (ConnectionLoss, SessionExpiredError):
                        if time.monotonic() > retry_until:
                            raise
                        time.sleep(0.05)
                        continue
                    self.acked.append(path)
                    break
        except BaseException as e:  # reported by stop()
            self.error = e

    def wait_progress(self, what: str, count: int = 20) -> None:
        done = len(self.acked)

        def moved() -> bool:
            assert self.error is None, self.error
            return len(self.acked) >= done + count
        wait_until(what, moved)

    def stop(self) -> list[str]:
        self.stopping.set()
        self.join(60)
        close_clients([self.zk])
        assert self.error is None, self.error
        return self.acked


def assert_all_have(members: list[ServerProcess], acked: list[str]) -> None:
    """Every acknowledged create is on every member (each asked directly, after a sync)."""
    for m in members:
        zk = KazooClient(hosts=m.hosts, timeout=30)
        zk.start(timeout=60)
        try:
            zk.sync("/load")
            have = {f"/load/{c}" for c in zk.get_children("/load")}
            lost = [p for p in acked if p not in have]
            assert not lost, f"member {m.sid} lacks {len(lost)} acknowledged creates, e.g. {lost[:3]}"
        finally:
            close_clients([zk])


def reconfig(zk: KazooClient, **kw) -> None:
    args = {"joining": None, "leaving": None, "new_members": None, **kw}
    zk.reconfig(**args)


@KIND
def test_one_member_ensemble(cls) -> None:
    """standaloneEnabled=false and one participant: a one-member ensemble that leads, serves, and activates
    its configuration under the first zxid's version, as every ensemble with reconfigEnabled does."""
    first = new_member(cls, 1, {}, standalone_enabled=False)
    try:
        first.start()
        assert server_mode(first.port) == "leader"
        with super_client([first]) as zk:
            zk.create("/one", b"1")
            servers, version = config_of(zk)
        assert servers == {1: server_line(1, first).split("=", 1)[1]} and version == 0x100000000
        wait_until("the version activated", lambda: (first.tmp / "zoo.cfg.dynamic.100000000").exists())
        assert (first.tmp / "zoo.cfg.dynamic.100000000").read_text() == server_line(1, first)
    finally:
        first.cleanup()


@KIND
def test_grow_one_to_three_to_five_and_shrink_back_under_load(cls) -> None:
    """A one-member ensemble (standaloneEnabled=false) grows by reconfig -add to 3 and 5 members and shrinks
    back to 1 while a client writes through member 1: no acknowledged write is lost, and each member that joins
    has them all."""
    first = new_member(cls, 1, {}, standalone_enabled=False)
    members = {1: first}
    started = [first]
    try:
        first.start()
        assert server_mode(first.port) == "leader"
        writer = Writer(first.hosts)
        writer.start()
        with super_client([first]) as zk:
            for sid in (2, 3, 4, 5):
                m = new_member(cls, sid, dict(members), standalone_enabled=False)
                started.append(m)
                m.start()  # it follows as a non-voting member: the new configuration's quorum must be synced
                reconfig(zk, joining=server_line(sid, m))
                members[sid] = m
                wait_members(zk, set(members))
                writer.wait_progress(f"creates after member {sid} joined")
            assert_all_have(list(members.values()), list(writer.acked))
            for sid in (5, 4, 3, 2):
                reconfig(zk, leaving=str(sid))
                del members[sid]
                wait_members(zk, set(members))
                writer.wait_progress(f"creates after member {sid} left")
        acked = writer.stop()
        assert len(acked) > 160
        assert_all_have([first], acked)
        assert server_mode(first.port) == "leader"
    finally:
        stop_all(started)


@KIND
def test_removing_the_leader(cls) -> None:
    """Removing the leader commits (the old configuration's quorum acknowledged it), the remaining two elect a
    new leader among themselves and serve writes; /zookeeper/config lists just them."""
    members = three(cls)
    try:
        roles = wait_settled(members)
        leader, followers = roles["leader"][0], roles["follower"]
        with super_client(followers) as zk:
            zk.create("/before", b"1")
            try:
                reconfig(zk, leaving=str(leader.sid))
            except ConnectionLoss:
                pass  # the leader's departure may take the reply with it; the configuration says what happened
            wait_members(zk, {f.sid for f in followers})
            wait_settled(followers)
            try:
                zk.retry(zk.create, "/after", b"2")  # the client may still be moving to a serving member
            except NodeExistsError:
                pass  # a try whose reply was lost went through
            assert zk.retry(zk.exists, "/before") and zk.retry(zk.exists, "/after")
    finally:
        stop_all(members)


@KIND
def test_observer_becomes_participant_and_back(cls) -> None:
    """server.4 starts as an observer; reconfig -add with :participant makes it vote (it follows), and with
    :observer again makes it observe; each time /zookeeper/config says its role. (A joining line needs all three
    ports, the client's too: without it ZooKeeper answers BADARGUMENTS.)"""
    members = start_ensemble({1: cls, 2: cls, 3: cls, 4: cls}, observers=(4,))
    try:
        fourth = members[3]
        assert server_mode(fourth.port) == "observer"
        with super_client(members[:3]) as zk:
            for role, mode in (("participant", ("follower", "leader")), ("observer", ("observer",))):
                reconfig(zk, joining=server_line(4, fourth, role))
                wait_until(f"server 4 a {role} in /zookeeper/config",
                           lambda role=role: zk.retry(config_of, zk)[0].get(4, "").split(";")[0].endswith(role))
                wait_until(f"server 4 {mode}", lambda mode=mode: server_mode(fourth.port) in mode)
            zk.retry(zk.ensure_path, "/still")
    finally:
        stop_all(members)


def pending_ensemble(cls: type[ServerProcess]) -> tuple[list[ServerProcess], ServerProcess]:
    """Three members slow to give up on stopped followers, and a fourth, never started: the observer a pending
    reconfig adds."""
    members = start_ensemble({1: cls, 2: cls, 3: cls}, extra={"tickTime": "2000", "syncLimit": "10"})
    return members, new_member(cls, 4, {})


def propose_with_followers_stopped(zk: KazooClient, leader: ServerProcess, followers: list[ServerProcess],
                                   spare: ServerProcess):
    """Stop the followers (SIGSTOP), send a reconfig adding `spare` as an observer, and wait for the leader's
    zoo.cfg.dynamic.next; returns the reconfig's async result and that file."""
    for f in followers:
        f.proc.send_signal(signal.SIGSTOP)
    pending = zk.reconfig_async(server_line(4, spare, "observer"), None, None, -1)
    nxt = leader.tmp / "zoo.cfg.dynamic.next"
    wait_until("zoo.cfg.dynamic.next on the leader", nxt.exists, timeout=15)
    return pending, nxt


@KIND
def test_a_pending_proposal_leaves_next_on_the_leader(cls) -> None:
    """While a reconfig cannot commit (both followers stopped), the leader holds it in zoo.cfg.dynamic.next,
    version included; once it commits, .next is gone and zoo.cfg.dynamic.<version> is active."""
    members, spare = pending_ensemble(cls)
    try:
        roles = wait_settled(members)
        leader, followers = roles["leader"][0], roles["follower"]
        with super_client([leader]) as zk:
            try:
                pending, nxt = propose_with_followers_stopped(zk, leader, followers, spare)
                text = nxt.read_text()
                assert text.startswith("server.1=") and server_line(4, spare, "observer") in text
                assert re.search(r"\nversion=[0-9a-f]+$", text)
            finally:
                for f in followers:
                    f.proc.send_signal(signal.SIGCONT)
            committed = pending.get(timeout=60)[0].decode()
        version = re.search(r"version=([0-9a-f]+)$", committed).group(1)
        assert text.endswith(f"version={version}")
        wait_until(".next gone", lambda: not nxt.exists())
        assert f"zoo.cfg.dynamic.{version}" in (leader.tmp / "zoo.cfg").read_text()
    finally:
        stop_all([*members, spare])


@KIND
def test_a_member_restarted_with_a_pending_proposal_completes_it(cls) -> None:
    """QuorumPeerConfig reads <zoo.cfg>.dynamic.next at start as the last configuration seen: a leader that
    logged a reconfig its followers never got (stopped, then killed), killed and restarted with them, leads
    again (the highest zxid) and activates it as it establishes (Leader.startZkServer), so every member
    serves the configuration .next held, at its version, and .next is gone."""
    members, spare = pending_ensemble(cls)
    try:
        roles = wait_settled(members)
        leader, followers = roles["leader"][0], roles["follower"]
        with super_client([leader]) as zk:
            _, nxt = propose_with_followers_stopped(zk, leader, followers, spare)
            for f in followers:
                f.kill()  # the proposal dies unread in their sockets
            leader.kill()
        version = re.search(r"version=([0-9a-f]+)$", nxt.read_text()).group(1)
        # The old leader first, then one follower: its higher zxid makes it the leader of the two.
        leader.start(wait=False, keep_config=True)
        followers[0].start(keep_config=True)
        wait_settled([leader, followers[0]])
        followers[1].start(keep_config=True)
        wait_settled(members)
        for m in members:
            with super_client([m]) as zk:
                wait_until(f"server {m.sid} serves version {version}",
                           lambda zk=zk: zk.retry(config_of, zk)[1] == int(version, 16))
                assert server_line(4, spare, "observer").split("=", 1)[1] == \
                    zk.retry(config_of, zk)[0][4]
        wait_until(".next gone", lambda: not nxt.exists())
        assert f"zoo.cfg.dynamic.{version}" in (leader.tmp / "zoo.cfg").read_text()
    finally:
        stop_all([*members, spare])


def refuses(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


@KIND
def test_a_reconfig_moves_a_members_client_port(cls) -> None:
    """A reconfig that gives a member another client port moves it (QuorumPeer.processReconfig:
    cnxnFactory.reconfigure): the member serves clients on the new port and no longer listens on the old
    one, and a session connected through the old port before the move goes on (accepted connections stay).
    Done to a follower, then to the leader."""
    members = three(cls)
    clients: list[KazooClient] = []
    try:
        roles = wait_settled(members)
        for moved in (roles["follower"][0], roles["leader"][0]):
            old = moved.port
            before = KazooClient(hosts=f"127.0.0.1:{old}", timeout=10.0)
            before.start(timeout=30)
            clients.append(before)
            session = before.client_id
            before.create(f"/before{moved.sid}", b"x")
            new = free_port()
            qp, ep = moved.quorum_ports
            with super_client([m for m in members if m is not moved]) as zk:
                reconfig(zk, joining=f"server.{moved.sid}=127.0.0.1:{qp}:{ep}:participant;127.0.0.1:{new}")
                assert zk.retry(config_of, zk)[0][moved.sid].endswith(f";127.0.0.1:{new}")
            wait_until(f"server {moved.sid} serves on its new port", lambda new=new: server_mode(new) != "")
            wait_until(f"server {moved.sid} no longer listens on {old}", lambda old=old: refuses(old))
            assert before.exists(f"/before{moved.sid}") is not None and before.client_id == session
            moved.port = new
            after = KazooClient(hosts=f"127.0.0.1:{new}", timeout=10.0)
            after.start(timeout=30)
            clients.append(after)
            assert after.exists(f"/before{moved.sid}") is not None
        wait_settled(members)
    finally:
        close_clients(clients)
        stop_all(members)


# ---- mixed ensembles ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("via", ["zoopark", "zookeeper"])
def test_mixed_ensemble_reconfig(via) -> None:
    """Two ZooKeeper members and a zoopark member: a reconfig sent to the member of kind `via` removes a member
    of the other kind and adds it back; every member, of either kind, ends with the same /zookeeper/config and
    activates it (its zoo.cfg names the new dynamic file)."""
    members = start_ensemble({1: ZooKeeperProcess, 2: ZooKeeperProcess, 3: ZooParkProcess})
    try:
        entry = next(m for m in members if m.kind == via)
        target = next(m for m in members if m.kind != via and m is not entry)
        with super_client([entry]) as zk:
            # Removing the leader drops the clients of the member the request went through as it follows the
            # designated leader (ConnectionLoss, as docs/reconfig.md says): ask again, the same change.
            zk.retry(reconfig, zk, leaving=str(target.sid))
            wait_members(zk, {m.sid for m in members} - {target.sid})
            zk.retry(reconfig, zk, joining=server_line(target.sid, target))
            wait_members(zk, {m.sid for m in members})
            servers, version = config_of(zk)
        for m in members:
            wait_until(f"member {m.sid} on version {version:x}",
                       lambda m=m: f"zoo.cfg.dynamic.{version:x}" in (m.tmp / "zoo.cfg").read_text())
            with super_client([m]) as zk:
                assert config_of(zk) == (servers, version)
        wait_settled(members)
    finally:
        stop_all(members)


@KIND
def test_bad_reconfigs_change_nothing(cls) -> None:
    """Refused reconfigs (no auth, a garbage server line, a joining line without its client port, a stale
    fromConfig, removing every member, a new member list most of whose members are not synced) leave the
    configuration and its version as they were."""
    members = three(cls)
    spares: list[ServerProcess] = []
    try:
        with super_client(members) as zk:
            before = config_of(zk)
            anonymous = KazooClient(hosts=members[0].hosts)
            anonymous.start(timeout=60)
            try:
                with pytest.raises(NoAuthError):
                    anonymous.reconfig(joining=None, leaving="3", new_members=None)
            finally:
                close_clients([anonymous])
            absent = [new_member(cls, sid, {}) for sid in (4, 5)]  # never started
            spares.extend(absent)
            nobody_synced = ",".join([server_line(1, members[0])] + [server_line(m.sid, m) for m in absent])
            for kw, error in (({"joining": "server.7=garbage"}, BadArgumentsError),
                              ({"joining": "server.7=127.0.0.1:1:2"}, BadArgumentsError),  # no client port
                              ({"leaving": "3", "from_config": before[1] + 1}, BadVersionError),
                              ({"leaving": "1,2,3"}, BadArgumentsError),
                              ({"new_members": nobody_synced}, NewConfigNoQuorumError)):
                with pytest.raises(error):
                    reconfig(zk, **kw)
            assert config_of(zk) == before
    finally:
        stop_all([*members, *spares])

