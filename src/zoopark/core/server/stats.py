"""Counters behind srvr / stat / cons / mntr: the server's and each connection's (ZooKeeper's ServerStats
and ServerCnxn stats). Kept by the core as it answers; read by the admin layer."""

from __future__ import annotations

import bisect

from ..jute.constants import OpCode

# FinalRequestProcessor's lastOp names, shown as `lop` by cons.
OP_NAMES: dict[int, str] = {
    OpCode.PING: "PING", OpCode.CREATE_SESSION: "SESS", OpCode.MULTI: "MULT", OpCode.MULTI_READ: "MLTR",
    OpCode.CREATE: "CREA", OpCode.CREATE2: "CREA", OpCode.CREATE_TTL: "CREA", OpCode.CREATE_CONTAINER: "CREA",
    OpCode.DELETE: "DELE", OpCode.DELETE_CONTAINER: "DELE", OpCode.SET_DATA: "SETD", OpCode.RECONFIG: "RECO",
    OpCode.SET_ACL: "SETA", OpCode.CLOSE_SESSION: "CLOS", OpCode.SYNC: "SYNC", OpCode.CHECK: "CHEC",
    OpCode.EXISTS: "EXIS", OpCode.GET_DATA: "GETD", OpCode.SET_WATCHES: "SETW", OpCode.SET_WATCHES2: "STW2",
    OpCode.ADD_WATCH: "ADDW", OpCode.GET_ACL: "GETA", OpCode.GET_CHILDREN: "GETC",
    OpCode.GET_ALL_CHILDREN_NUMBER: "GETACN", OpCode.GET_CHILDREN2: "GETC", OpCode.CHECK_WATCHES: "CHKW",
    OpCode.REMOVE_WATCHES: "REMW", OpCode.WHO_AM_I: "HOMI", OpCode.GET_EPHEMERALS: "GETE",
}


class Latency:
    __slots__ = ("min_ms", "max_ms", "total_ms", "count", "last_ms")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.min_ms = 0
        self.max_ms = 0
        self.total_ms = 0
        self.count = 0
        self.last_ms = 0

    def add(self, ms: int) -> None:
        if self.count == 0 or ms < self.min_ms:
            self.min_ms = ms
        if ms > self.max_ms:
            self.max_ms = ms
        self.total_ms += ms
        self.count += 1
        self.last_ms = ms

    def avg(self) -> float:
        return self.total_ms / self.count if self.count else 0.0


# Upper bounds (ms) of the latency histogram's buckets; the last bucket takes the rest.
LATENCY_BUCKETS_MS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


def latency_bucket(ms: int) -> int:
    """The bucket of `ms`: the first whose upper bound is at least `ms` (the last for anything longer)."""
    return bisect.bisect_left(LATENCY_BUCKETS_MS, ms)


class ConnStats:
    __slots__ = ("remote_port", "established_ms", "recved", "sent", "last_op", "last_cxid", "last_zxid",
                 "last_resp_ms", "latency")

    def __init__(self, remote_port: int, established_ms: int) -> None:
        self.remote_port = remote_port
        self.established_ms = established_ms
        self.latency = Latency()
        self.reset()

    def reset(self) -> None:
        self.recved = 0
        self.sent = 0
        self.last_op = "NA"
        self.last_cxid = -1
        self.last_zxid = -1
        self.last_resp_ms = 0
        self.latency.reset()


class CoreStats:
    """Server-wide counters; `reset` is srst, which (as ZooKeeper's) leaves the read, write and notification
    totals alone: they only grow (Prometheus counters and the dashboard's rates are made of them)."""

    __slots__ = ("packets_received", "packets_sent", "reads", "writes", "notifications", "outstanding",
                 "latency", "latency_hist", "latency_sum_ms")

    def __init__(self) -> None:
        self.outstanding = 0
        self.latency = Latency()
        self.latency_hist = [0] * (len(LATENCY_BUCKETS_MS) + 1)  # only grows: percentiles over any interval
        self.latency_sum_ms = 0  # only grows (the histogram's sum)
        self.reads = 0
        self.writes = 0
        self.notifications = 0
        self.reset()

    def reset(self) -> None:
        self.packets_received = 0
        self.packets_sent = 0
        self.latency.reset()
