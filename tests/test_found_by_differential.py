"""What the broadened differential (tests/test_differential.py) found, pinned down one by one: a closed or
expired session's watches, mntr's approximate_data_size, cons' lcxid after createSession, paths with
characters beyond 0xFFFF."""

from __future__ import annotations

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import BadArgumentsError

from zoopark.core.jute.constants import OpCode
from zoopark.core.jute.records import ExistsRequest, GetDataRequest
from zoopark.core.server.settings import CoreSettings
from zoopark.core.tree import snapshot as snap
from zoopark.core.tree.datatree import DataTree
from zoopark.core.tree.paths import InvalidPath, validate_path

from corehelp import Harness
from procs import ZooKeeperProcess, ZooParkProcess, four_letter, mntr
from references import needs

needs_zk = needs("zookeeper")


def test_closed_and_expired_sessions_leave_no_watches() -> None:
    """ZooKeeper drops a connection's watches when it closes; a closed session's connection closes after the
    closeSession reply, an expired one's when the expiry is applied: no watch may outlive either."""
    h = Harness(CoreSettings(tick_ms=2000, min_session_timeout_ms=4000, max_session_timeout_ms=40000))
    a, _ = h.connect(timeout_ms=40000)
    assert h.request(a, OpCode.GET_DATA, GetDataRequest("/", True)).err == 0
    assert h.request(a, OpCode.EXISTS, ExistsRequest("/missing", True), xid=2).err != 0
    assert h.core.tree.watch_count() == 2
    h.request(a, OpCode.CLOSE_SESSION, None, xid=3)
    assert a.closed is not None
    assert h.core.tree.watch_count() == 0

    b, _ = h.connect(timeout_ms=4000)
    keep, _ = h.connect(timeout_ms=40000)
    assert h.request(b, OpCode.EXISTS, ExistsRequest("/x", True)).err != 0
    for _ in range(6):
        h.advance(1000)
        h.request(keep, OpCode.PING, None, xid=-2)
    assert b.closed is not None
    assert h.core.tree.watch_count() == 0


def test_cons_shows_lcxid_zero_after_create_session() -> None:
    h = Harness()
    a, _ = h.connect()
    assert h.core.conns[a.id].stats.last_cxid == 0  # the createSession request is cxid 0 in ZooKeeper


def test_approximate_data_size_counts_as_zookeepers_datatree() -> None:
    """Every entry of ZooKeeper's node map: the root as "" and again as "/", /zookeeper, its quota and config
    (44 characters of paths); a reloaded tree counts the root's data twice, as DataTree.deserialize does."""
    tree = DataTree()
    assert tree.approximate_data_size == len("/") + len("/zookeeper") + len("/zookeeper/quota") + \
        len("/zookeeper/config")
    tree.set_data("/", b"abc", 1, 1, 1, [])
    assert tree.approximate_data_size == 44 + 3
    back = snap.deserialize(b"".join(snap.serialize(tree, {}, None))).tree
    assert back.approximate_data_size == 44 + 3 + 3


def test_paths_beyond_the_basic_plane_are_invalid() -> None:
    """Java holds such a character as a surrogate pair, which validatePath refuses."""
    with pytest.raises(InvalidPath, match="invalid character @2"):
        validate_path("/a\U0001F600b")
    validate_path("/\u00e9t\u00e9")


@needs_zk
def test_the_same_counts_as_zookeeper_after_restart() -> None:
    """mntr's approximate_data_size and cons' lcxid, live and after a restart, as ZooKeeper 3.8 shows them."""
    seen = {}
    for cls in (ZooKeeperProcess, ZooParkProcess):
        first = cls()
        first.start()
        try:
            kz = KazooClient(first.hosts, timeout=15.0)
            kz.start(timeout=30)
            kz.set("/", b"root data")
            kz.create("/\u00e9t\u00e9", b"12345")
            kz.create("/n", None)
            with pytest.raises(BadArgumentsError):
                kz.create("/a\U0001F600b", b"x")
            cons = four_letter(first.port, "cons")
            live = mntr(first.port)["zk_approximate_data_size"]
            kz.stop()
            kz.close()
            first.stop()
            restarted = []
            for _ in range(2):  # the log replayed over the empty tree; then the snapshot the restart took
                again = cls(data_dir=first.data_dir, port=first.port)
                again.start()
                restarted.append(mntr(again.port)["zk_approximate_data_size"])
                again.stop()
            seen[cls.kind] = (live, *restarted, "lcxid=0x" in cons)
        finally:
            first.cleanup()
    # 44 + "root data" + "/été" + "12345" + "/n" (null: 0); a reloaded snapshot counts the root's data twice.
    assert seen["zookeeper"] == ("64", "64", "73", True)
    assert seen["zoopark"] == seen["zookeeper"]
