"""The same dataDir served by zoopark and by Apache ZooKeeper 3.8, both ways, and ZooKeeper's own tools on
zoopark's files."""

from __future__ import annotations

import subprocess
import sys

from kazoo.client import KazooClient
from kazoo.security import make_digest_acl

from zoopark.core.jute.constants import OpCode
from zoopark.core.jute.records import OPEN_ACL_UNSAFE, CreateRequest

from procs import ZooKeeperProcess, ZooParkProcess, zk_classpath
from rawclient import RawClient
from references import needs

pytestmark = needs("zookeeper")

AUTH = ("digest", "alice:secret")


def dump(client: KazooClient, path: str = "/") -> dict[str, tuple]:
    """Every znode: data, the whole Stat, the ACL."""
    out = {}
    data, stat = client.get(path)
    acl, _ = client.get_acls(path)
    out[path] = (data, tuple(stat), tuple((a.perms, a.id.scheme, a.id.id) for a in acl))
    for child in client.get_children(path):
        out.update(dump(client, path.rstrip("/") + "/" + child))
    return out


def build_tree(client: KazooClient, port: int) -> None:
    client.add_auth(*AUTH)
    client.create("/app", b"root of the app")
    for i in range(30):
        client.create("/app/item-", b"payload %d" % i, sequence=True)
    client.create("/app/config", b"v0")
    for v in range(5):
        client.set("/app/config", b"v%d" % (v + 1), version=v)
    client.create("/secret", b"only alice", acl=[make_digest_acl("alice", "secret", all=True)])
    raw = RawClient(port)
    raw.connect()
    hdr, _ = raw.call(OpCode.CREATE_CONTAINER, CreateRequest("/app/container", b"", list(OPEN_ACL_UNSAFE), 4))
    assert hdr.err == 0
    raw.close()
    client.create("/app/container/child", b"keeps the container")
    client.set_acls("/app/config", [make_digest_acl("alice", "secret", all=True)])
    for i in range(0, 30, 3):
        client.delete("/app/item-%010d" % i)
    t = client.transaction()
    t.create("/multi-a", b"a")
    t.create("/multi-b", b"b")
    t.set_data("/app", b"changed in a multi")
    assert all(r is not None and not isinstance(r, Exception) for r in t.commit())
    client.create("/eph", b"held by a live session", ephemeral=True)


def connect(hosts: str) -> KazooClient:
    c = KazooClient(hosts, timeout=15.0)
    c.start(timeout=30)
    c.add_auth(*AUTH)
    return c


def switch(first, second_cls, extra: dict[str, str]) -> tuple[dict, dict, str]:
    """Build a tree on `first`, kill its server with the session still open, start `second_cls` on the same
    dataDir and port; return both dumps and the second server's log."""
    first.start()
    c = connect(first.hosts)
    build_tree(c, first.port)
    before = dump(c)
    first.kill()  # SIGKILL: what is acknowledged must be there, the session with its ephemeral too
    c.stop()
    c.close()
    second = second_cls(extra=extra, data_dir=first.data_dir, port=first.port)
    try:
        second.start()
        c2 = connect(second.hosts)
        after = dump(c2)
        c2.stop()
        c2.close()
        return before, after, second.log_tail(200)
    finally:
        second.cleanup()


def test_zookeeper_serves_the_tree_zoopark_wrote() -> None:
    extra = {"snapCount": "20"}
    zp = ZooParkProcess(extra=extra)
    try:
        before, after, _ = switch(zp, ZooKeeperProcess, extra)
    finally:
        zp.cleanup()
    assert "/eph" in before and "/app/container/child" in before
    assert after == before


def test_zoopark_serves_the_tree_zookeeper_wrote() -> None:
    extra = {"snapCount": "20"}
    zk = ZooKeeperProcess(extra=extra)
    try:
        before, after, log = switch(zk, ZooParkProcess, extra)
    finally:
        zk.cleanup()
    assert "/eph" in before
    assert after == before
    assert "matches the snapshot's" in log or "txns replayed" in log


def _java(main: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["java", "-cp", zk_classpath(), main, *args], capture_output=True, text=True, timeout=120)


def test_zookeeper_tools_read_zoopark_files() -> None:
    with ZooParkProcess(extra={"snapCount": "20"}) as zp:
        c = connect(zp.hosts)
        build_tree(c, zp.port)
        c.stop()
        c.close()
        zp.stop()
        v2 = zp.data_dir / "version-2"
        snaps = sorted(v2.glob("snapshot.*"), key=lambda p: int(p.name.split(".")[1], 16))
        logs = sorted(v2.glob("log.*"), key=lambda p: int(p.name.split(".")[1], 16))
        assert len(snaps) >= 2 and len(logs) >= 2
        fmt = _java("org.apache.zookeeper.server.SnapshotFormatter", str(snaps[-1]))
        assert fmt.returncode == 0, fmt.stderr
        assert "/app/item-0000000001" in fmt.stdout and "Last zxid" in fmt.stdout
        first = _java("org.apache.zookeeper.server.persistence.TxnLogToolkit", str(logs[0]))
        assert first.returncode == 0, first.stderr
        assert "createSession" in first.stdout and "/app" in first.stdout
        total = 0
        for log in logs:
            out = _java("org.apache.zookeeper.server.persistence.TxnLogToolkit", str(log))
            assert out.returncode == 0, out.stderr
            assert "CRC ERROR" not in out.stdout
            total += sum(1 for line in out.stdout.splitlines() if " zxid 0x" in line)
        ours = subprocess.run([sys.executable, "-m", "zoopark", "logdump", "--json", str(logs[0])],
                              capture_output=True, text=True)
        assert ours.returncode == 0
        assert total >= 1 + 1 + 30 + 1 + 5 + 2 + 1 + 10 + 1 + 1  # session, creates, sets, acl, deletes, multi
