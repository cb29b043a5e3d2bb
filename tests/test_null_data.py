"""Null data (a buffer of length -1: null in Java, None in kazoo) stays null and apart from empty data, as in
Apache ZooKeeper 3.8: in replies, Stats, watches, after a restart, in snapshots and txn logs (ours read by
ZooKeeper and theirs by us), in zkCli.sh and our shell, and in logdump / snapdump."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from kazoo.client import KazooClient
from kazoo.protocol.serialization import Create, SetData
from kazoo.security import OPEN_ACL_UNSAFE

from test_shell import zkcli
from zoopark.core.jute.constants import Err, OpCode
from zoopark.core.jute.io import JuteError, Reader, encode_buffer
from zoopark.core.jute.records import OPEN_ACL_UNSAFE as ACL_OPEN
from zoopark.core.jute.records import CreateRequest, CreateTxn, ExistsRequest, SetDataTxn, TxnHeader
from zoopark.core.tree import snapshot as snap
from zoopark.core.tree.datatree import DataTree

from procs import ZooKeeperProcess, ZooParkProcess, mntr
from references import needs

needs_zk = needs("zookeeper")
needs_zkcli = needs("zookeeper", "zkcli")

# What a client reads back from each node `build` makes, on ZooKeeper 3.8.
EXPECTED = {"/null": None, "/empty": b"", "/full": b"x", "/set-null": None, "/set-empty": b"",
            "/multi-null": None, "/multi-empty": b"", "/multi-set-null": None, "/eph-null": None}


# ---- the core, without a server ---------------------------------------------------------------


def _tree_with_null_and_empty() -> DataTree:
    tree = DataTree(track_digest=True)
    for zxid, (path, data) in enumerate([("/n", None), ("/e", b""), ("/s", b"abc")], start=1):
        tree.apply(TxnHeader(1, zxid, zxid, 1000, OpCode.CREATE), CreateTxn(path, data, ACL_OPEN, False, -1))
    tree.apply(TxnHeader(1, 4, 4, 1000, OpCode.SET_DATA), SetDataTxn("/s", None, 1))
    return tree


def test_tree_keeps_null_apart_from_empty() -> None:
    tree = _tree_with_null_and_empty()
    assert tree.get("/n").data is None and tree.get("/s").data is None
    assert tree.get("/e").data == b""
    assert tree.get("/n").stat().data_length == 0  # DataNode.copyStat: null counts 0
    assert struct.unpack_from(">i", tree.get("/s").stat_bytes(), 52)[0] == 0
    # ZooKeeper's count starts at 44 ("/" once, /zookeeper, /zookeeper/quota, /zookeeper/config); null adds 0.
    assert tree.approximate_data_size == 44 + len("/n") + len("/e") + len("/s")


def test_snapshot_writes_null_as_length_minus_one_and_reads_it_back() -> None:
    tree = _tree_with_null_and_empty()
    body = snap.serialize_body(tree, {})
    assert encode_buffer(b"/n") + b"\xff\xff\xff\xff" in body
    assert encode_buffer(b"/e") + b"\x00\x00\x00\x00" in body
    back = snap.deserialize(b"".join(snap.serialize(tree, {}, (4, tree.digest))), track_digest=True).tree
    assert back.get("/n").data is None and back.get("/s").data is None and back.get("/e").data == b""
    assert back.digest == tree.digest and back.approximate_data_size == tree.approximate_data_size


def test_minus_one_is_null_other_negative_lengths_are_not() -> None:
    """BinaryInputArchive reads -1 as null and rejects any other negative length."""
    assert Reader(b"\xff\xff\xff\xff").buffer() is None
    with pytest.raises(JuteError):
        Reader(struct.pack(">i", -2)).buffer()
    with pytest.raises(JuteError):
        Reader(struct.pack(">i", -2)).string()
    # A vector's -1 is null; any other negative count is an empty vector (BinaryIndex is done at once).
    assert Reader(struct.pack(">i", -1)).vector(Reader.int) is None
    assert Reader(struct.pack(">i", -2)).vector(Reader.int) == []
    assert CreateRequest.read(Reader(encode_buffer(b"/a") + encode_buffer(None) + struct.pack(">ii", -1, 0))).acl \
        is None
    assert CreateRequest.read(Reader(encode_buffer(b"/a") + encode_buffer(None) + struct.pack(">ii", -3, 0))).acl \
        == ()


# ---- live servers -------------------------------------------------------------------------------


def build(kz: KazooClient) -> None:
    kz.create("/null", None)  # kazoo sends None as length -1 (its default value is b"")
    kz.create("/empty", b"")
    kz.create("/full", b"x")
    kz.create("/set-null", b"before")
    kz.set("/set-null", None)
    kz.create("/set-empty", None)
    kz.set("/set-empty", b"")
    t = kz.transaction()  # kazoo's transaction refuses None; its records do not
    t._add(Create("/multi-null", None, OPEN_ACL_UNSAFE, 0))
    t._add(Create("/multi-empty", b"", OPEN_ACL_UNSAFE, 0))
    t._add(Create("/multi-set-null", b"y", OPEN_ACL_UNSAFE, 0))
    t._add(SetData("/multi-set-null", None, -1))
    assert not any(isinstance(r, Exception) for r in t.commit())


def read_back(kz: KazooClient) -> dict[str, tuple]:
    out = {}
    for path in EXPECTED:
        if kz.exists(path) is None:
            continue
        data, st = kz.get(path)
        out[path] = (data, st.dataLength, st.version)
    return out


def observe(hosts: str) -> tuple[dict, list]:
    kz = KazooClient(hosts, timeout=15.0)
    kz.start(timeout=30)
    try:
        build(kz)
        kz.create("/eph-null", None, ephemeral=True)
        events = []
        kz.get("/null", watch=lambda e: events.append((e.type, e.path)))
        kz.set("/null", None)
        kz.sync("/")
        children = kz.get_children("/", include_data=True)
        return read_back(kz), [events, sorted(children[0]), children[1].dataLength]
    finally:
        kz.stop()
        kz.close()


def _reopen(server_cls, first) -> object:
    return server_cls(data_dir=first.data_dir, port=first.port, extra=first.extra)


@needs_zk
def test_reads_watches_and_restarts_keep_null_as_zookeeper_does() -> None:
    """The same writes on both servers read back the same, before and after a kill -9 (log replay) and a
    second restart (the snapshot the first one wrote)."""
    seen = {}
    for cls in (ZooKeeperProcess, ZooParkProcess):
        first = cls(extra={"snapCount": "1000"})
        first.start()
        try:
            live = observe(first.hosts)
            first.kill()
            runs = [live]
            for _ in range(2):
                again = _reopen(cls, first)
                again.start()
                kz = KazooClient(again.hosts, timeout=15.0)
                kz.start(timeout=30)
                runs.append(read_back(kz))
                kz.stop()
                kz.close()
                again.stop()
            seen[cls.kind] = runs
        finally:
            first.cleanup()
    zk = seen["zookeeper"]
    assert {p: v[0] for p, v in zk[0][0].items()} == EXPECTED  # the reference says what null looks like
    assert zk[0][1][0] == [("CHANGED", "/null")]
    assert seen["zoopark"] == zk
    assert {p: v[0] for p, v in zk[1].items()} == {p: d for p, d in EXPECTED.items() if p != "/eph-null"}


def _zkcli(hosts: str, *args: str) -> list[str]:
    rc, out, err = zkcli(hosts, " ".join(args))  # zkCli's banner and connect event taken out
    assert rc == 0, err
    return out.splitlines()


def _shell(hosts: str, *args: str) -> list[str]:
    r = subprocess.run([sys.executable, "-m", "zoopark", "shell", "-server", hosts, *args], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


@needs_zkcli
def test_zkcli_and_shell_print_null_for_null_data() -> None:
    """zkCli.sh `get` prints "null" for null data and an empty line for empty data, on both servers;
    `create` without data makes a null node; our shell does the same as zkCli."""
    got = {}
    for cls in (ZooKeeperProcess, ZooParkProcess):
        with cls() as server:
            kz = KazooClient(server.hosts, timeout=15.0)
            kz.start(timeout=30)
            build(kz)
            _zkcli(server.hosts, "create", "/cli")
            _shell(server.hosts, "create", "/shell")
            lines = {p: _zkcli(server.hosts, "get", p) for p in ("/null", "/empty", "/multi-null", "/cli")}
            lines["shell /null"] = _shell(server.hosts, "get", "/null")
            lines["shell /empty"] = _shell(server.hosts, "get", "/empty")
            lines["created"] = [kz.get("/cli")[0], kz.get("/shell")[0]]
            kz.stop()
            kz.close()
            got[cls.kind] = lines
    zk = got["zookeeper"]
    assert zk["/null"] == ["null"] and zk["/empty"] == [""] and zk["created"] == [None, None]
    assert zk["shell /null"] == ["null"] and zk["shell /empty"] == [""]
    assert got["zoopark"] == zk


@needs_zk
def test_bad_buffer_length_is_a_marshalling_error_on_both() -> None:
    """A create whose data has length -2 is not a null create: ZooKeeper answers MARSHALLINGERROR (as an error
    txn, so with a zxid) and creates nothing; so do we."""
    from rawclient import RawClient

    replies = {}
    for cls in (ZooKeeperProcess, ZooParkProcess):
        with cls() as server:
            raw = RawClient(server.port)
            raw.connect()
            body = struct.pack(">ii", 1, OpCode.CREATE) + encode_buffer(b"/bad") + struct.pack(">iii", -2, 0, 0)
            raw.send_frame(body)
            frame = raw.read_frame()
            hdr, _ = raw.call(OpCode.EXISTS, ExistsRequest("/bad", False))
            raw.close()
            replies[cls.kind] = (frame, hdr.err)
    assert replies["zookeeper"] == (struct.pack(">iqi", 1, 2, Err.MARSHALLINGERROR), Err.NONODE)
    assert replies["zoopark"] == replies["zookeeper"]


# ---- files exchanged between the two servers ----------------------------------------------------


def _switch(first_cls, second_cls) -> tuple[dict, dict, str, dict[str, str]]:
    """Nulls written before and after a snapshot on `first_cls` (snapCount 10: ZooKeeper snapshots every
    5 to 10 txns), served from the same dataDir by `second_cls`."""
    extra = {"snapCount": "10"}
    first = first_cls(extra=extra)
    first.start()
    try:
        kz = KazooClient(first.hosts, timeout=15.0)
        kz.start(timeout=30)
        build(kz)
        for i in range(12):  # past a snapshot, then more nulls in the log only
            kz.create(f"/later-{i}", None if i % 2 else b"")
        before = read_back(kz) | {f"/later-{i}": kz.get(f"/later-{i}")[0] for i in range(12)}
        first.kill()
        kz.stop()
        kz.close()
        second = second_cls(extra=extra, data_dir=first.data_dir, port=first.port)
        try:
            second.start()
            kz = KazooClient(second.hosts, timeout=15.0)
            kz.start(timeout=30)
            after = read_back(kz) | {f"/later-{i}": kz.get(f"/later-{i}")[0] for i in range(12)}
            kz.stop()
            kz.close()
            return before, after, second.log_tail(200), mntr(second.port)
        finally:
            second.cleanup()
    finally:
        first.cleanup()


@needs_zk
def test_zookeeper_reads_null_from_zoopark_files() -> None:
    before, after, _, rows = _switch(ZooParkProcess, ZooKeeperProcess)
    assert before["/null"][0] is None and before["/later-1"] is None and before["/later-0"] == b""
    assert after == before
    assert rows["zk_digest_mismatches_count"] == "0"  # ZooKeeper's digest of our snapshot's tree is ours


@needs_zk
def test_zoopark_reads_null_from_zookeeper_files() -> None:
    before, after, log, _ = _switch(ZooKeeperProcess, ZooParkProcess)
    assert before["/null"][0] is None and before["/later-1"] is None and before["/later-0"] == b""
    assert after == before
    assert "matches the snapshot's" in log  # our digest of a tree with null nodes is ZooKeeper's


# ---- logdump and snapdump -----------------------------------------------------------------------


def _dump(tool: str, path: Path, *flags: str) -> str:
    r = subprocess.run([sys.executable, "-m", "zoopark", tool, *flags, str(path)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


@needs_zk
def test_dump_tools_tell_null_from_empty() -> None:
    """Files written by ZooKeeper: logdump and snapdump (text and --json) show null data as null."""
    with ZooKeeperProcess(extra={"snapCount": "1000"}) as zk:
        kz = KazooClient(zk.hosts, timeout=15.0)
        kz.start(timeout=30)
        build(kz)
        kz.stop()
        kz.close()
        zk.stop()
        v2 = zk.data_dir / "version-2"
        log = next(v2.glob("log.*"))
        creates = {}
        for line in _dump("logdump", log, "--json").splitlines():
            doc = json.loads(line)
            if doc.get("type") == "create":
                creates[doc["txn"]["path"]] = doc["txn"]["data"]
            elif doc.get("type") == "multi":
                for sub in doc["txn"]:
                    if sub["type"] == "create":
                        creates[sub["txn"]["path"]] = sub["txn"]["data"]
        assert creates["/null"] is None and creates["/empty"] == "" and creates["/multi-null"] is None
        text = _dump("logdump", log)
        assert "'path': '/null', 'data': None" in text and "'path': '/empty', 'data': ''" in text
        # A snapshot of that tree: ZooKeeper takes one when it starts on the dataDir.
        with ZooKeeperProcess(data_dir=zk.data_dir, port=zk.port):
            pass
        snapshot = max(v2.glob("snapshot.*"), key=lambda p: int(p.name.split(".")[1], 16))
        nodes = {}
        for line in _dump("snapdump", snapshot, "--json", "--data").splitlines()[1:]:
            doc = json.loads(line)
            nodes[doc["path"]] = doc["data"]
        assert {p: nodes[p] for p in ("/null", "/empty", "/set-null", "/multi-null")} == \
            {"/null": None, "/empty": "", "/set-null": None, "/multi-null": None}
        text = _dump("snapdump", snapshot, "--data")
        null_block = text.split("----\n/null\n", 1)[1].split("----", 1)[0]
        empty_block = text.split("----\n/empty\n", 1)[1].split("----", 1)[0]
        assert "  data = null\n" in null_block and "  data = \n" in empty_block


# ---- a member synced by SNAP --------------------------------------------------------------------


@needs_zk
@pytest.mark.xdist_group("ensembles")
@pytest.mark.parametrize("leader_kind", ["zoopark", "zookeeper"])
def test_a_member_synced_by_snapshot_keeps_null(leader_kind: str) -> None:
    """Members 2 and 3 of `leader_kind` lead; member 1, of the other kind, loses its dataDir and comes back
    with nothing: the leader sends it the tree as a snapshot (SNAP), in which null data stays null."""
    from procs import ensemble_config, ensemble_ports, member, wait_settled

    kinds = {"zoopark": ZooParkProcess, "zookeeper": ZooKeeperProcess}
    follower_cls = kinds["zookeeper" if leader_kind == "zoopark" else "zoopark"]
    extra = ensemble_config(ensemble_ports((1, 2, 3)))
    # ZooKeeper says at INFO how it was synced.
    kw = {"jvm_props": {"org.slf4j.simpleLogger.defaultLogLevel": "info"}} if follower_cls is ZooKeeperProcess else {}
    members = {1: member(follower_cls, 1, extra, **kw)} | {i: member(kinds[leader_kind], i, extra) for i in (2, 3)}
    try:
        for i in (2, 3, 1):
            members[i].start(wait=False)
        wait_settled(list(members.values()), timeout=90)
        kz = KazooClient(members[1].hosts, timeout=15.0)
        kz.start(timeout=30)
        build(kz)
        expected = read_back(kz)
        kz.stop()
        kz.close()
        for m in members.values():
            m.stop()
        for f in (members[1].data_dir / "version-2").iterdir():
            f.unlink()
        for i in (2, 3):
            members[i].start(wait=False)
        wait_settled([members[2], members[3]], timeout=90)
        members[1].start(timeout=90)
        kz = KazooClient(members[1].hosts, timeout=15.0)
        kz.start(timeout=30)
        kz.sync("/")
        got = read_back(kz)
        kz.stop()
        kz.close()
        follower_log = members[1].log_tail(10_000)
    finally:
        for m in members.values():
            m.cleanup()
    assert {p: v[0] for p, v in expected.items()} == {p: d for p, d in EXPECTED.items() if p != "/eph-null"}
    assert got == expected
    synced = "installed the leader's snapshot" if follower_cls is ZooParkProcess else "Getting a snapshot from leader"
    assert synced in follower_log
