"""Quotas in the pure core: StatsTrack's text, the stats the tree keeps on create / delete / setData / multi,
the recount when a snapshot loads, enforcement in the prep stage (QUOTAEXCEEDED, the rate-limited warnings,
the per-namespace error count), replicas applying the same txns, and the cost to a tree without quotas."""

from __future__ import annotations

import pytest

from zoopark import _build
from zoopark.core.jute.constants import Err, OpCode
from zoopark.core.jute.io import Reader, Writer
from zoopark.core.jute.records import (
    OPEN_ACL_UNSAFE,
    CreateRequest,
    CreateTxn,
    DeleteTxn,
    GetDataRequest,
    GetDataResponse,
    MultiHeader,
    SetDataRequest,
    SetDataTxn,
    TxnHeader,
)
from zoopark.core.jute.txns import decode_txn_entry
from zoopark.core.server.actions import Frame
from zoopark.core.server.core import replay_txn
from zoopark.core.server.ratelog import RateLogger
from zoopark.core.server.settings import CoreSettings
from zoopark.core.tree import quota
from zoopark.core.tree import snapshot as snap
from zoopark.core.tree.datatree import DataTree
from zoopark.core.tree.quota import MalformedStats, format_stats, parse_stats

from corehelp import Harness, parse_reply

ACL = tuple(OPEN_ACL_UNSAFE)
OPEN = list(OPEN_ACL_UNSAFE)
# What zkCli's setquota writes (SetQuotaCommand): -n 3, then the stats node it creates.
LIMITS_N3 = b"count=3,bytes=-1=;byteHardLimit=-1;countHardLimit=-1"


# ---- StatsTrack ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, parsed, formatted", [
    (b"count=2,bytes=3", {"count": 2, "bytes": 3}, b"count=2,bytes=3"),
    (LIMITS_N3, {"count": 3, "bytes": -1, "byteHardLimit": -1, "countHardLimit": -1}, LIMITS_N3),
    (b"countHardLimit=5;count=1", {"countHardLimit": 5, "count": 1}, b"count=1,bytes=-1=;countHardLimit=5"),
    (b"count==5,bytes=7", {"count": -1, "bytes": 7}, b"count=-1,bytes=7"),  # an empty value: -1
    (b"count=4,,;bytes=+5=", {"count": 4, "bytes": 5}, b"count=4,bytes=5"),
    (b"", {}, b"count=-1,bytes=-1"),
])
def test_stats_text_as_statstrack_reads_and_writes_it(text, parsed, formatted):
    assert parse_stats(text) == parsed
    assert format_stats(parsed) == formatted


@pytest.mark.parametrize("text", [b"count", b"count=", b"count=x", b",count=1", b"count=99999999999999999999", None])
def test_stats_text_statstrack_throws_on_is_malformed(text):
    with pytest.raises(MalformedStats):
        parse_stats(text)


# ---- the tree keeps the stats -----------------------------------------------------------------

class Tree:
    def __init__(self, tree: DataTree | None = None) -> None:
        self.tree = tree or DataTree()
        self.zxid = self.tree.last_zxid + 1

    def apply(self, op: int, txn: object) -> int:
        rc = self.tree.apply(TxnHeader(1, 0, self.zxid, 0, op), txn)
        self.zxid += 1
        return rc.err

    def create(self, path: str, data: bytes | None = b"") -> None:
        assert self.apply(OpCode.CREATE, CreateTxn(path, data, ACL, False, -1)) == 0

    def set(self, path: str, data: bytes | None) -> None:
        assert self.apply(OpCode.SET_DATA, SetDataTxn(path, data, 1)) == 0

    def delete(self, path: str) -> None:
        assert self.apply(OpCode.DELETE, DeleteTxn(path)) == 0

    def setquota(self, path: str, limits: bytes = LIMITS_N3) -> None:
        """The creates zkCli's setquota makes."""
        parts = path.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            qp = quota.QUOTA + "/" + "/".join(parts[:i])
            if qp not in self.tree.nodes:
                self.create(qp, None)
        self.create(quota.limit_path(path), limits)
        self.create(quota.stat_path(path), b"count=0,bytes=0")

    def stats(self, path: str) -> bytes | None:
        return self.tree.nodes[quota.stat_path(path)].data


def test_stats_count_the_subtree_from_the_quota_on():
    t = Tree()
    t.create("/a", b"x")
    t.create("/a/b", b"yy")
    t.setquota("/a")
    assert t.stats("/a") == b"count=2,bytes=3"  # counted when the stats node is created
    t.create("/a/b/c", b"1234")
    t.create("/elsewhere", b"zzzz")
    assert t.stats("/a") == b"count=3,bytes=7"
    t.set("/a/b", b"")
    assert t.stats("/a") == b"count=3,bytes=5"
    t.set("/a/b", None)  # null data counts 0, as ZooKeeper's
    t.delete("/a/b/c")
    assert t.stats("/a") == b"count=2,bytes=1"
    stat_node = t.tree.nodes[quota.stat_path("/a")]
    assert stat_node.version == 0 and stat_node.stat().data_length == len(b"count=2,bytes=1")


def test_the_deepest_quota_counts_and_deleting_limits_ends_the_quota():
    t = Tree()
    for p in ("/p", "/p/q", "/p/q/r"):
        t.create(p, b"d")
    t.setquota("/p/q")
    t.create("/p/q/r/s", b"dd")
    t.create("/p/other", b"ddd")  # under /p, which has no quota
    assert t.stats("/p/q") == b"count=3,bytes=4"
    t.delete(quota.limit_path("/p/q"))
    t.create("/p/q/r/t", b"dddd")
    assert t.stats("/p/q") == b"count=3,bytes=4"
    assert not t.tree.quotas.prefixes


def test_a_multi_updates_the_stats_of_each_op():
    from zoopark.core.jute.txns import multi_txn

    t = Tree()
    t.create("/m")
    t.setquota("/m")
    txn = multi_txn([(OpCode.CREATE, CreateTxn("/m/a", b"12", ACL, False, -1)),
                     (OpCode.SET_DATA, SetDataTxn("/m", b"123", 1)),
                     (OpCode.CREATE, CreateTxn("/m/b", None, ACL, False, -1))])
    assert t.apply(OpCode.MULTI, txn) == 0
    assert t.stats("/m") == b"count=3,bytes=5"


def test_stats_text_keeps_keys_others_wrote_and_garbage_is_left_alone():
    t = Tree()
    t.create("/k")
    t.setquota("/k")
    t.set(quota.stat_path("/k"), b"count=1,bytes=0=;mine=7")
    t.create("/k/a", b"x")
    assert t.stats("/k") == b"count=2,bytes=1=;mine=7"
    t.set(quota.stat_path("/k"), b"not stats")  # ZooKeeper's commit would throw here; the tree goes on
    t.create("/k/b", b"x")
    assert t.stats("/k") == b"not stats"


def test_quota_on_zookeeper_counts_its_own_stats_node_twice_as_zookeeper_does():
    """zkCli's `setquota -n 1 /zookeeper` against ZooKeeper 3.8 (with no other quota) lists count=7: the
    stats node is counted by the recount and again by the create that made it."""
    t = Tree()
    t.setquota("/zookeeper", b"count=1,bytes=-1=;byteHardLimit=-1;countHardLimit=-1")
    count = parse_stats(t.stats("/zookeeper"))["count"]
    assert count == 7  # /zookeeper, quota, config, quota/zookeeper, limits, stats, + stats again


def test_a_snapshot_load_recounts_every_quota_after_the_size():
    t = Tree()
    t.create("/s", b"abc")
    t.setquota("/s")
    t.set(quota.stat_path("/s"), b"count=99,bytes=99")  # stale or tampered stats in the snapshot
    body = snap.serialize_body(t.tree, {})
    loaded = snap.deserialize_body(body).tree
    assert loaded.nodes[quota.stat_path("/s")].data == b"count=1,bytes=3"
    # DataTree.deserialize counts nodeDataSize before setupQuota rewrites the stats nodes.
    assert loaded.approximate_data_size == t.tree.approximate_data_size
    assert loaded.quotas.prefixes == {("s",)}
    Tree(loaded).create("/s/x", b"12")
    assert loaded.nodes[quota.stat_path("/s")].data == b"count=2,bytes=5"


def test_limits_under_quota_look_alikes_follow_zookeepers_string_rules():
    """A limits node under /zookeeper/quotaX sets a quota on /X (Quotas.trimQuotaPath cuts 16 characters);
    one right under /zookeeper/quota (a quota on "", which ZooKeeper's PathTrie refuses) is no quota."""
    t = Tree()
    t.create("/X")
    t.create("/zookeeper/quotaX")
    t.create("/zookeeper/quotaX/zookeeper_limits", LIMITS_N3)
    assert t.tree.quotas.max_prefix("/X/y") == "/X"
    t.create("/zookeeper/quota/zookeeper_limits", LIMITS_N3)
    t.create("/zookeeper/quota/zookeeper_stats", b"")
    assert t.tree.quotas.prefixes == {("X",)}


# ---- replicas -----------------------------------------------------------------------------------

def test_replicas_applying_the_logged_txns_keep_the_same_stats():
    h = Harness(CoreSettings(enforce_quota=True))
    c, _ = h.connect()
    for i, (path, data) in enumerate([("/r", b"1"), ("/zookeeper/quota/r", None),
                                      ("/zookeeper/quota/r/zookeeper_limits", LIMITS_N3),
                                      ("/zookeeper/quota/r/zookeeper_stats", b"count=0,bytes=0"),
                                      ("/r/a", b"22"), ("/r/b", b"333"), ("/r/c", b"4444")]):
        h.request(c, OpCode.CREATE, CreateRequest(path, data, OPEN, 0), xid=i + 1)
    follower = DataTree()
    for _, entry in h.log:
        hdr, txn = decode_txn_entry(entry)
        replay_txn(follower, {}, hdr, txn)
    stats = quota.stat_path("/r")
    assert follower.nodes[stats].data == h.core.tree.nodes[stats].data == b"count=4,bytes=10"


# ---- enforcement ----------------------------------------------------------------------------------

def _quota_harness(limits: bytes, enforce: bool = True) -> tuple[Harness, object]:
    h = Harness(CoreSettings(enforce_quota=enforce))
    c, _ = h.connect()
    for path, data in [("/q", b""), ("/zookeeper/quota/q", None), ("/zookeeper/quota/q/zookeeper_limits", limits),
                       ("/zookeeper/quota/q/zookeeper_stats", b"count=0,bytes=0")]:
        assert h.request(c, OpCode.CREATE, CreateRequest(path, data, OPEN, 0)).err == 0
    return h, c


def _stats(h: Harness, c) -> bytes:
    r = h.request(c, OpCode.GET_DATA, GetDataRequest(quota.stat_path("/q"), False), xid=99)
    return GetDataResponse.read(Reader(r.body)).data


def test_hard_count_limit_refuses_creates_with_quotaexceeded():
    h, c = _quota_harness(b"count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=2")
    assert h.request(c, OpCode.CREATE, CreateRequest("/q/a", b"", OPEN, 0)).err == 0
    assert h.request(c, OpCode.CREATE, CreateRequest("/q/b", b"", OPEN, 0)).err == Err.QUOTAEXCEEDED
    assert _stats(h, c) == b"count=2,bytes=0"
    assert h.core.quota_exceeded == {"q": 1}
    assert [log.message for log in h.logs if "Quota" in log.message] == [
        "Message:Quota exceeded: /q [current count=3, hardCountLimit=2] Value:null"]


def test_hard_byte_limit_refuses_setdata_and_counts_the_size_difference():
    h, c = _quota_harness(b"count=-1,bytes=-1=;byteHardLimit=10;countHardLimit=-1")
    assert h.request(c, OpCode.CREATE, CreateRequest("/q/a", b"12345", OPEN, 0)).err == 0
    assert h.request(c, OpCode.SET_DATA, SetDataRequest("/q/a", b"1234567890", -1)).err == 0
    assert h.request(c, OpCode.SET_DATA, SetDataRequest("/q/a", b"12345678901", -1)).err == Err.QUOTAEXCEEDED
    # The quota check comes before the version check, as in ZooKeeper's PrepRequestProcessor.
    assert h.request(c, OpCode.SET_DATA, SetDataRequest("/q/a", b"12345678901", 7)).err == Err.QUOTAEXCEEDED
    assert h.request(c, OpCode.SET_DATA, SetDataRequest("/q", b"x", -1)).err == Err.QUOTAEXCEEDED
    assert _stats(h, c) == b"count=2,bytes=10"


def _multi(h: Harness, c, ops: list[tuple[int, object]]) -> list[tuple[int, int]]:
    w = Writer()
    for op, rec in ops:
        MultiHeader(op, False, -1).write(w)
        rec.write(w)  # type: ignore[attr-defined]
    MultiHeader(-1, True, -1).write(w)
    before = len(c.frames)
    h.step(Frame(c.id, b"\x00\x00\x00\x05\x00\x00\x00\x0e" + w.getvalue()))
    r = Reader(parse_reply(c.frames[before]).body)
    out = []
    for _ in ops:
        mh = MultiHeader.read(r)
        out.append((mh.type, mh.err))
        if mh.type == -1:
            r.int()
        elif mh.type in (OpCode.CREATE,):
            r.ustring()
    return out


def test_a_multi_past_a_hard_limit_fails_whole_and_checks_against_the_committed_tree():
    h, c = _quota_harness(b"count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=3")
    refused = _multi(h, c, [(OpCode.CREATE, CreateRequest("/q/a", b"", OPEN, 0)),
                            (OpCode.CREATE, CreateRequest("/q/b", b"", OPEN, 0))])
    # ZooKeeper checks each op against the tree as committed, not the multi's own earlier ops: both pass.
    assert refused == [(OpCode.CREATE, 0), (OpCode.CREATE, 0)]
    assert _stats(h, c) == b"count=3,bytes=0"
    failed = _multi(h, c, [(OpCode.SET_DATA, SetDataRequest("/q", b"", -1)),
                           (OpCode.CREATE, CreateRequest("/q/c", b"", OPEN, 0))])
    assert failed == [(-1, 0), (-1, Err.QUOTAEXCEEDED)]
    assert _stats(h, c) == b"count=3,bytes=0"


def test_soft_limits_log_and_allow_and_repeats_are_rate_limited():
    h, c = _quota_harness(b"count=1,bytes=-1=;byteHardLimit=-1;countHardLimit=-1")
    h.request(c, OpCode.CREATE, CreateRequest("/q/a", b"", OPEN, 0))  # count 2 > 1
    h.request(c, OpCode.SET_DATA, SetDataRequest("/q/a", b"x", -1))  # no byte limit: no check, no log
    lines = [log for log in h.logs if "Quota" in log.message]
    assert [(x.level, x.message) for x in lines] == [
        ("warning", "Message:Quota exceeded: /q [current count=2, softCountLimit=1] Value:null")]
    assert h.core.quota_exceeded == {}


def test_without_enforcequota_nothing_is_checked():
    h, c = _quota_harness(b"count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=1", enforce=False)
    for name in "abc":
        assert h.request(c, OpCode.CREATE, CreateRequest(f"/q/{name}", b"", OPEN, 0)).err == 0
    assert _stats(h, c) == b"count=4,bytes=0"
    assert not [log for log in h.logs if "Quota" in log.message]


def test_rate_logger_says_a_repeat_once_per_interval_as_zookeepers():
    r = RateLogger(100)
    assert r.log("m", 0) == ["Message:m Value:null"]
    assert r.log("m", 10) == [] and r.log("m", 20) == []
    assert r.log("m", 150) == ["[3 times] Message: m"]
    assert r.log("other", 160) == ["Message:other Value:null"]
    assert r.log("other", 170) == [] and r.log("m", 180) == ["Message: other", "Message:m Value:null"]


# ---- the cost to a tree without quotas ----------------------------------------------------------------

@pytest.mark.skipif(_build.RUNNING == "compiled", reason="a compiled class cannot be patched; make test runs this "
                    "file on the pure source too")
def test_a_tree_without_quotas_never_calls_into_the_quota_code(monkeypatch):
    t = Tree()

    def boom(*a, **kw):
        raise AssertionError("quota work in a tree without quotas")

    for name in ("created", "deleted", "data_changed", "max_prefix"):
        monkeypatch.setattr(quota.Quotas, name, boom)
    t.create("/n", b"1")
    t.create("/zookeeper/quota/n")  # a quota's parent node is ordinary until its limits node exists
    t.set("/n", b"22")
    t.delete("/n")
