"""Micro-benchmark of the write path's quota cost: the prep stage (Prep.prep) and the tree (DataTree.apply) on
creates, setData and deletes, in-process, without a socket or a disk.

    python -m bench.quota [--ops N] [--rounds R] [--scenario none|elsewhere|covered]

`none`: a tree without any quota (what every server without quotas pays); `elsewhere`: a quota on another
subtree; `covered`: a quota (soft and hard limits far above the load) over the written subtree, with
enforceQuota on. The quota nodes are made by ordinary creates, so the same script measures a zoopark without
quota support (PYTHONPATH=<older checkout>/src) for a before/after comparison of `none`.
"""

from __future__ import annotations

import argparse
import gc
import time

from zoopark.core.jute.constants import OpCode
from zoopark.core.jute.records import (
    OPEN_ACL_UNSAFE,
    CreateRequest,
    CreateTxn,
    DeleteRequest,
    DeleteTxn,
    SetDataRequest,
    SetDataTxn,
    TxnHeader,
)
from zoopark.core.server.prep import Prep, Request
from zoopark.core.session import SessionTable
from zoopark.core.tree.datatree import DataTree

ACL = tuple(OPEN_ACL_UNSAFE)
SESSION = 0x42
LIMITS = b"count=-1,bytes=-1=;byteHardLimit=1000000000;countHardLimit=1000000000"


def _setup(scenario: str) -> tuple[DataTree, int]:
    tree = DataTree()
    zxid = 1
    paths = ["/b", "/other"]
    if scenario != "none":
        quota_of = "/b" if scenario == "covered" else "/other"
        paths += ["/zookeeper/quota" + quota_of, f"/zookeeper/quota{quota_of}/zookeeper_limits",
                  f"/zookeeper/quota{quota_of}/zookeeper_stats"]
    for path in paths:
        data = LIMITS if path.endswith("limits") else b"count=0,bytes=0" if path.endswith("stats") else b""
        tree.apply(TxnHeader(SESSION, 0, zxid, 0, OpCode.CREATE), CreateTxn(path, data, ACL, False, -1))
        zxid += 1
    return tree, zxid


def bench_apply(scenario: str, ops: int) -> dict[str, float]:
    tree, zxid = _setup(scenario)
    paths = [f"/b/n{i}" for i in range(ops)]
    data = b"x" * 32
    out = {}
    for name, op, make in (
        ("create", OpCode.CREATE, lambda p: CreateTxn(p, data, ACL, False, -1)),
        ("setData", OpCode.SET_DATA, lambda p: SetDataTxn(p, data + b"y", 1)),
        ("delete", OpCode.DELETE, lambda p: DeleteTxn(p)),
    ):
        txns = [(TxnHeader(SESSION, i, zxid + i, 0, op), make(p)) for i, p in enumerate(paths)]
        zxid += ops
        apply = tree.apply
        t0 = time.perf_counter()
        for hdr, txn in txns:
            apply(hdr, txn)
        out[name] = (time.perf_counter() - t0) / ops * 1e6
    return out


def bench_prep(scenario: str, ops: int) -> dict[str, float]:
    tree, zxid = _setup(scenario)
    sessions = SessionTable(2000)
    sessions.add(SESSION, 30_000, 0)
    for i in range(ops):  # the nodes setData and delete prep against
        tree.apply(TxnHeader(SESSION, 0, zxid + i, 0, OpCode.CREATE), CreateTxn(f"/b/m{i}", b"x", ACL, False, -1))
    zxid += ops
    try:
        prep = Prep(tree, sessions, False, enforce_quota=scenario == "covered")
    except TypeError:  # a zoopark without quotas
        prep = Prep(tree, sessions, False)
    data = b"x" * 32
    out = {}
    for name, op, make in (
        ("create", OpCode.CREATE, lambda i: CreateRequest(f"/b/n{i}", data, ACL, 0)),
        ("setData", OpCode.SET_DATA, lambda i: SetDataRequest(f"/b/m{i}", data, -1)),
        ("delete", OpCode.DELETE, lambda i: DeleteRequest(f"/b/m{i}", -1)),
    ):
        reqs = [Request(SESSION, op, make(i), []) for i in range(ops)]
        t0 = time.perf_counter()
        for i, req in enumerate(reqs):
            txn_type, _ = prep.prep(req, zxid + i)
            assert txn_type == op, txn_type
        prep.committed(zxid + ops)  # drop the overlay as commits would (not timed)
        out[name] = (time.perf_counter() - t0) / ops * 1e6
        zxid += ops
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ops", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--scenario", choices=("none", "elsewhere", "covered"), default="none")
    args = ap.parse_args()
    gc.disable()  # what is measured is the code, not when the collector happens to run
    for stage, fn in (("apply", bench_apply), ("prep", bench_prep)):
        best: dict[str, float] = {}
        for _ in range(args.rounds):
            for k, v in fn(args.scenario, args.ops).items():
                best[k] = min(best.get(k, v), v)
            gc.collect()
        print(f"{args.scenario:9s} {stage:5s} " + "  ".join(f"{k} {v:.3f} us" for k, v in best.items()))


if __name__ == "__main__":
    main()
