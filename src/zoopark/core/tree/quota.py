"""ZooKeeper 3.8's quotas, as its DataTree keeps them and its PrepRequestProcessor enforces them.

A quota on `/p` is two ordinary znodes that clients (zkCli's setquota) write: `/zookeeper/quota/p/zookeeper_limits`
(the limits) and `/zookeeper/quota/p/zookeeper_stats` (count and bytes of the subtree). The tree learns of a quota
when its limits node is created and forgets it when that node is deleted (ZooKeeper's PathTrie, `prefixes` here);
every create, delete and setData under `/p` then rewrites the stats node's data in place, on every member, as it
applies the txn: no txn carries the stats. A loaded snapshot recounts every quota's subtree (setupQuota).

The text is StatsTrack's: `count=N,bytes=M`, and when other keys are present `=` then `;key=value` sorted
(`count=3,bytes=-1=;byteHardLimit=-1;countHardLimit=-1`). Its parser is Java's, quirks included (a value-less
key reads -1, separators `,` and `;`); text Java's would throw on is `MalformedStats` here.

ZooKeeper's own string handling is reproduced where clients can reach it: a limits node created under any node
whose path starts with `/zookeeper/quota` (`/zookeeper/quotaX/zookeeper_limits` sets a quota on `/X`), and
PathTrie ignoring empty components. Where ZooKeeper's would throw inside the commit path (a quota on `""`, a
stats node holding text StatsTrack cannot parse), the tree leaves that quota alone instead: a server does not
die of a client's bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .datatree import DataTree

ZOOKEEPER = "/zookeeper"
QUOTA = "/zookeeper/quota"
LIMIT_NODE = "zookeeper_limits"
STAT_NODE = "zookeeper_stats"
COUNT, BYTES, COUNT_HARD, BYTES_HARD = "count", "bytes", "countHardLimit", "byteHardLimit"

_PAIRS = re.compile(r"[,;]+")
_LONG = re.compile(r"[+-]?[0-9]+")
_JAVA_WHITESPACE = "".join(chr(c) for c in range(33))  # what String.trim() removes
_LONG_MIN, _LONG_MAX = -(1 << 63), (1 << 63) - 1


class MalformedStats(ValueError):
    """Text StatsTrack's constructor would throw on."""


def _java_split(text: str, sep: re.Pattern[str] | str) -> list[str]:
    """String.split: trailing empty strings removed."""
    parts = sep.split(text) if isinstance(sep, re.Pattern) else text.split(sep)
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def parse_stats(data: bytes | None) -> dict[str, int]:
    """StatsTrack(byte[]): `key=long` pairs split on `,` / `;`; an empty value reads -1."""
    if data is None:
        raise MalformedStats("null data")
    text = data.decode("utf-8", "replace")
    stats: dict[str, int] = {}
    if not text:
        return stats
    for pair in _java_split(text, _PAIRS):
        kv = _java_split(pair, "=")
        if len(kv) < 2:
            raise MalformedStats(f"no value in {pair!r}")
        value = kv[1] or "-1"
        if not _LONG.fullmatch(value) or not _LONG_MIN <= int(value) <= _LONG_MAX:
            raise MalformedStats(f"{value!r} is not a long")
        stats[kv[0]] = int(value)
    return stats


def format_stats(stats: dict[str, int]) -> bytes:
    """StatsTrack.toString: count and bytes first (-1 when absent); other keys sorted after an extra `=`."""
    text = f"count={stats.get(COUNT, -1)},bytes={stats.get(BYTES, -1)}"
    rest = sorted(k for k in stats if k not in (COUNT, BYTES))
    if rest:
        text += "=" + "".join(f";{k}={stats[k]}" for k in rest)
    return text.encode()


def trie_key(path: str) -> tuple[str, ...]:
    """PathTrie's components: split on `/`, blank ones dropped."""
    return tuple(p for p in path.split("/") if p.strip(_JAVA_WHITESPACE))


def trim_quota_path(quota_path: str) -> str:
    """Quotas.trimQuotaPath: what follows `/zookeeper/quota` (Java's substring; "" where it would throw)."""
    return quota_path[len(QUOTA):]


def limit_path(path: str) -> str:
    return f"{QUOTA}{path}/{LIMIT_NODE}"


def stat_path(path: str) -> str:
    return f"{QUOTA}{path}/{STAT_NODE}"


def top_namespace(path: str) -> str | None:
    """PathUtils.getTopNamespace: the first component of the path."""
    parts = _java_split(path, "/")
    return parts[1] if len(parts) > 1 else None


class Quotas:
    """The tree's quota bookkeeping: the set of quota'd prefixes and the stats updates. `prefixes` is shared
    with the DataTree, whose write paths test it before calling in: a tree without quotas pays one truth test
    of an empty set per write (and a string prefix test per create and delete)."""

    __slots__ = ("tree", "prefixes", "heads")

    def __init__(self, tree: DataTree) -> None:
        self.tree = tree
        self.prefixes: set[tuple[str, ...]] = set()
        self.heads: set[str] = set()  # the first components of `prefixes`: most writes are decided by it

    # ---- PathTrie ----------------------------------------------------------------------------

    def add(self, path: str) -> None:
        key = trie_key(path)
        if key:  # ZooKeeper's addPath("") throws; a property on the trie's root is never found anyway
            self.prefixes.add(key)
            self.heads.add(key[0])

    def remove(self, path: str) -> None:
        self.prefixes.discard(trie_key(path))
        self.heads = {key[0] for key in self.prefixes}

    def clear(self) -> None:
        self.prefixes.clear()
        self.heads.clear()

    def max_prefix(self, path: str) -> str | None:
        """DataTree.getMaxPrefixWithQuota: the deepest quota'd prefix of `path`, or None."""
        prefixes = self.prefixes
        if not prefixes:
            return None
        # A node's path has no empty component; its first one, unless blank, must head some prefix.
        end = path.find("/", 1)
        head = path[1:end] if end > 0 else path[1:]
        if head not in self.heads and head.strip(_JAVA_WHITESPACE):
            return None
        key = trie_key(path)
        for n in range(len(key), 0, -1):
            if key[:n] in prefixes:
                return "/" + "/".join(key[:n])
        return None

    # ---- keeping the stats -------------------------------------------------------------------

    def created(self, parent_path: str, name: str, path: str, data: bytes | None) -> None:
        """After DataTree.createNode put `path` in the tree."""
        if parent_path.startswith(QUOTA):
            if name == LIMIT_NODE:
                self.add(trim_quota_path(parent_path))
            if name == STAT_NODE:
                self.recount(trim_quota_path(parent_path))
        prefix = self.max_prefix(path)
        if prefix is not None:
            self.update(prefix, 0 if data is None else len(data), 1)

    def deleted(self, parent_path: str, name: str, path: str, data: bytes | None) -> None:
        """After DataTree.deleteNode took `path` (which held `data`) out of the tree."""
        if name == LIMIT_NODE and parent_path.startswith(ZOOKEEPER):  # sic: ZooKeeper tests /zookeeper here
            self.remove(trim_quota_path(parent_path))
        prefix = self.max_prefix(path)
        if prefix is not None:
            self.update(prefix, -(0 if data is None else len(data)), -1)

    def data_changed(self, path: str, old: bytes | None, new: bytes | None) -> None:
        prefix = self.max_prefix(path)
        if prefix is not None:
            self.update(prefix, (0 if new is None else len(new)) - (0 if old is None else len(old)), 0)

    def update(self, prefix: str, bytes_diff: int, count_diff: int) -> None:
        """DataTree.updateQuotaStat: rewrite the stats node's data in place. As in ZooKeeper, this is no
        change of the node (no zxid, version or watch) and the approximate data size does not follow it."""
        node = self.tree.nodes.get(stat_path(prefix))
        if node is None:
            return  # ZooKeeper logs "Missing node for stat" and goes on
        try:
            stats = parse_stats(node.data)
        except MalformedStats:
            return
        stats[COUNT] = stats.get(COUNT, -1) + count_diff
        stats[BYTES] = stats.get(BYTES, -1) + bytes_diff
        node.data = format_stats(stats)
        node.changed()

    def recount(self, path: str) -> None:
        """DataTree.updateQuotaForPath: count the subtree at `path` into its stats node (`count=N,bytes=M`)."""
        node = self.tree.nodes.get(stat_path(path))
        if node is None:
            return
        count, nbytes = self.subtree_counts(path)
        self.tree.rewrite_system_data(stat_path(path), format_stats({COUNT: count, BYTES: nbytes}))

    def subtree_counts(self, path: str) -> tuple[int, int]:
        nodes = self.tree.nodes
        root = "/" if path == "" else path  # ZooKeeper's node map holds the root as "" too
        if root not in nodes:
            return 0, 0
        count = nbytes = 0
        stack = [root]
        while stack:
            p = stack.pop()
            node = nodes.get(p)
            if node is None:
                continue
            count += 1
            nbytes += 0 if node.data is None else len(node.data)
            if node.children:
                base = "" if p == "/" else p
                stack.extend(f"{base}/{c}" for c in node.children)
        return count, nbytes

    def setup(self) -> None:
        """DataTree.setupQuota, after a snapshot is loaded: every leaf `.../zookeeper_limits` under
        /zookeeper/quota is a quota; recount its subtree."""
        self.clear()
        end = "/" + LIMIT_NODE
        for path in self._leaves(QUOTA):
            if path.endswith(end):
                real = path[len(QUOTA):path.index(end)]
                self.recount(real)
                self.add(real)

    def _leaves(self, top: str) -> Iterator[str]:
        nodes = self.tree.nodes
        if top not in nodes:
            return
        stack = [top]
        while stack:
            p = stack.pop()
            node = nodes[p]
            if not node.children:
                yield p
            else:
                stack.extend(f"{p}/{c}" for c in node.children if f"{p}/{c}" in nodes)


# ---- enforcement (PrepRequestProcessor -> ZooKeeperServer.checkQuota) -------------------------


class QuotaCheck:
    """What ZooKeeperServer.checkQuota found for one create or setData: the warnings it logs (its text) and
    whether a hard limit refuses the write (`exceeded`), with the namespace its error metric counts."""

    __slots__ = ("messages", "exceeded", "namespace")

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.exceeded = False
        self.namespace: str | None = None


def check(tree: DataTree, path: str, bytes_diff: int, count_diff: int) -> QuotaCheck | None:
    """None when no quota applies; else the verdict. Reads the committed tree, as ZooKeeper's does (its
    outstanding changes are not counted: two creates in one multi are each checked against the tree).
    Raises MalformedStats where ZooKeeper's StatsTrack throws on the limits or stats text (the request then
    fails with MARSHALLINGERROR, as PrepRequestProcessor fails a request on any exception)."""
    prefix = tree.quotas.max_prefix(path)
    if prefix is None:
        return None
    limits_node = tree.nodes.get(limit_path(prefix))
    stats_node = tree.nodes.get(stat_path(prefix))
    if limits_node is None or stats_node is None:
        return None  # ZooKeeper logs "Missing limit node" / "Missing node for stat" and allows the write
    limits = parse_stats(limits_node.data)
    soft_count, hard_count = limits.get(COUNT, -1), limits.get(COUNT_HARD, -1)
    soft_bytes, hard_bytes = limits.get(BYTES, -1), limits.get(BYTES_HARD, -1)
    check_count = count_diff != 0 and (soft_count > -1 or hard_count > -1)
    check_bytes = bytes_diff != 0 and (soft_bytes > -1 or hard_bytes > -1)
    if not check_count and not check_bytes:
        return None
    current = parse_stats(stats_node.data)
    verdict = QuotaCheck()
    for wanted, what, diff, soft, hard, name in (
        (check_count, "count", count_diff, soft_count, hard_count, "Count"),
        (check_bytes, "bytes", bytes_diff, soft_bytes, hard_bytes, "Byte"),
    ):
        if not wanted:
            continue
        new = current.get(COUNT if what == "count" else BYTES, -1) + diff
        limit = hard if hard > -1 else soft
        if new > limit:
            kind = "hard" if hard > -1 else "soft"
            verdict.messages.append(f"Quota exceeded: {prefix} [current {what}={new}, {kind}{name}Limit={limit}]")
            if hard > -1:
                verdict.exceeded = True
                verdict.namespace = top_namespace(path)
                return verdict
    return verdict


# ---- metrics (QuotaMetricsUtils) ----------------------------------------------------------------

COUNT_LIMIT = "quota_count_limit_per_namespace"
BYTES_LIMIT = "quota_bytes_limit_per_namespace"
COUNT_USAGE = "quota_count_usage_per_namespace"
BYTES_USAGE = "quota_bytes_usage_per_namespace"
EXCEEDED = "quota_exceeded_error_per_namespace"


def namespace_metrics(tree: DataTree) -> dict[str, dict[str, int]]:
    """The four gauge sets ZooKeeper registers, each namespace -> value: limits from every leaf limits node
    (a hard limit when set, else the soft one), usage from every leaf stats node, summed per top namespace."""
    out: dict[str, dict[str, int]] = {COUNT_LIMIT: {}, BYTES_LIMIT: {}, COUNT_USAGE: {}, BYTES_USAGE: {}}
    limit_end, stat_end = "/" + LIMIT_NODE, "/" + STAT_NODE
    for path in tree.quotas._leaves(QUOTA):
        is_limit, is_stat = path.endswith(limit_end), path.endswith(stat_end)
        if not is_limit and not is_stat:
            continue
        namespace = top_namespace(trim_quota_path(path))
        data = tree.nodes[path].data
        if namespace is None or data is None:
            continue
        try:
            st = parse_stats(data)
        except MalformedStats:
            continue  # ZooKeeper's scrape would throw
        count, nbytes = st.get(COUNT, -1), st.get(BYTES, -1)
        if is_limit:
            hard_count, hard_bytes = st.get(COUNT_HARD, -1), st.get(BYTES_HARD, -1)
            pairs = ((COUNT_LIMIT, hard_count if hard_count > -1 else count),
                     (BYTES_LIMIT, hard_bytes if hard_bytes > -1 else nbytes))
        else:
            pairs = ((COUNT_USAGE, count), (BYTES_USAGE, nbytes))
        for name, value in pairs:
            out[name][namespace] = out[name].get(namespace, 0) + value
    return out
