"""Settings ZooKeeper reads as system properties take effect in zoopark in both zoo.cfg spellings (`key=` and
`zookeeper.key=`), each shown by what a client or an operator sees; superDigest is checked against ZooKeeper 3.8
too, in its two spellings (zoo.cfg's, which ZooKeeper passes on as the property, and -D)."""

from __future__ import annotations

import json
import socket
import time
import urllib.request

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.security import make_acl, make_digest_acl_credential

from zoopark.core.jute.constants import Err, OpCode
from zoopark.core.jute.records import ACL, CreateRequest, CreateTTLRequest, DeleteRequest, ExistsRequest, Id

from procs import ZooKeeperProcess, ZooParkProcess, close_clients, four_letter, free_port, wait_until
from rawclient import RawClient
from references import demand

SUPER_PASSWORD = "s3cret"
SUPER_DIGEST = make_digest_acl_credential("super", SUPER_PASSWORD)  # "super:<base64 sha1>"
OPEN = [ACL(31, Id("world", "anyone"))]


def what_super_sees(p) -> tuple[str, object]:
    """Alice keeps /secret to herself; another client cannot read it, then can once it is `super`."""
    alice = KazooClient(p.hosts, timeout=15.0, auth_data=[("digest", "alice:pw")])
    other = KazooClient(p.hosts, timeout=15.0)
    try:
        alice.start(timeout=30)
        alice.create("/secret", b"alice's", acl=[make_acl("digest", make_digest_acl_credential("alice", "pw"),
                                                          all=True)])
        other.start(timeout=30)
        try:
            before: object = other.get("/secret")[0]
        except NoAuthError:
            before = "NoAuthError"
        other.add_auth("digest", f"super:{SUPER_PASSWORD}")
        return before, other.get("/secret")[0]
    finally:
        close_clients([alice, other])


@pytest.mark.parametrize("kind,spelling", [
    ("zookeeper", "zoo.cfg"), ("zookeeper", "-D"), ("zoopark", "zoo.cfg"), ("zoopark", "zookeeper.-prefixed"),
])
def test_super_digest_lets_super_read_everything(kind: str, spelling: str) -> None:
    if kind == "zookeeper":
        demand("zookeeper")
    key = "DigestAuthenticationProvider.superDigest"
    if kind == "zookeeper" and spelling == "-D":
        p = ZooKeeperProcess(jvm_props={f"zookeeper.{key}": SUPER_DIGEST})
    else:
        cls = ZooKeeperProcess if kind == "zookeeper" else ZooParkProcess
        p = cls(extra={(f"zookeeper.{key}" if spelling.startswith("zookeeper.") else key): SUPER_DIGEST})
    with p:
        assert what_super_sees(p) == ("NoAuthError", b"alice's")


def test_without_a_super_digest_super_is_nobody() -> None:
    with ZooParkProcess() as p:
        with pytest.raises(NoAuthError):
            what_super_sees(p)


class Stripped(ZooParkProcess):
    """zoopark with none of the test defaults for the keys under test (procs sets 4lw.commands.whitelist=* and
    admin.enableServer=false)."""

    def config_text(self) -> str:
        lines = super().config_text().splitlines(keepends=True)
        return "".join(ln for ln in lines if not ln.startswith(("4lw.commands.whitelist=*", "admin.enableServer=false")))


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.mark.parametrize("prefix", ["", "zookeeper."])
def test_property_settings_take_effect_in_both_spellings(prefix: str) -> None:
    admin_port = free_port()
    settings = {
        "4lw.commands.whitelist": "srvr,ruok,mntr",
        "jute.maxbuffer": "4000",
        "extendedTypesEnabled": "true",
        "znode.container.checkIntervalMs": "200",
        "nio.sessionlessCnxnTimeout": "1000",
        "preAllocSize": "128",
        "admin.enableServer": "true",
        "admin.serverAddress": "127.0.0.1",
        "admin.serverPort": str(admin_port),
        "admin.commandURL": "/cmds",
    }
    with Stripped(extra={prefix + k: v for k, v in settings.items()}) as p:
        # 4lw.commands.whitelist
        assert four_letter(p.port, "ruok") == "imok"
        assert four_letter(p.port, "conf") == "conf is not executed because it is not in the whitelist.\n"
        # admin.* (the admin server starts after the client port)
        wait_until("the admin server listens", lambda: port_open(admin_port), 10)
        with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/cmds/ruok", timeout=10) as r:
            assert json.load(r)["command"] == "ruok"
        raw = RawClient(p.port, timeout=10.0)
        raw.connect()
        # extendedTypesEnabled: TTL nodes
        hdr, _ = raw.call(OpCode.CREATE_TTL, CreateTTLRequest("/ttl", b"", OPEN, 5, 60_000))
        assert hdr.err == Err.OK
        # znode.container.checkIntervalMs: an emptied container goes within a few intervals, not a minute
        assert raw.call(OpCode.CREATE_CONTAINER, CreateRequest("/box", b"", OPEN, 4))[0].err == Err.OK
        assert raw.call(OpCode.CREATE, CreateRequest("/box/item", b"", OPEN, 0))[0].err == Err.OK
        assert raw.call(OpCode.DELETE, DeleteRequest("/box/item", -1))[0].err == Err.OK
        wait_until("the empty container is reaped",
                   lambda: raw.call(OpCode.EXISTS, ExistsRequest("/box", False))[0].err == Err.NONODE, 10)
        # preAllocSize: the txn log is preallocated in 128 KB steps
        logs = list((p.data_dir / "version-2").glob("log.*"))
        assert [f.stat().st_size for f in logs] == [128 * 1024]
        # jute.maxbuffer: a request over it closes the connection
        raw.send_frame(b"\0" * 5000)
        assert raw.closed_by_server()
        raw.close()
        # nio.sessionlessCnxnTimeout: a connection that never says hello is closed after about a second
        with socket.create_connection(("127.0.0.1", p.port), timeout=10) as s:
            start = time.monotonic()
            assert s.recv(1) == b""
            assert time.monotonic() - start < 5
