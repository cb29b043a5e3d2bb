"""The benchmark's load generator against a live zoopark, briefly: every row's requests succeed, and each kind
of client (pipelined, serial, connect storm) measures something. Nothing else runs bench/ under `make test`;
a bench broken by a server change (as bench.writepath once was) would otherwise go unnoticed until the next
measurement."""

from __future__ import annotations

import asyncio

from bench import load
from bench.run import check_load, setup_fixtures

from procs import ZooParkProcess

ROWS = ("get", "exists", "set", "create", "create+delete", "multi", "mixed")


def test_every_rows_requests_succeed_and_each_client_measures():
    with ZooParkProcess() as zp:
        setup_fixtures(zp)
        for row in ROWS:
            check_load(zp, row)  # each reply checked whole, a multi's ops included
        closed = asyncio.run(load.closed_loop(zp.host, zp.port, "multi", worker=0, conns=2, depth=4,
                                              warmup_s=0.1, seconds=0.5))
        assert closed.ops > 0 and closed.errors == 0 and len(closed.latencies_us) == closed.ops
        for row in ("get", "set"):
            serial = load.serial(zp.host, zp.port, row, warmup_s=0.1, seconds=0.5)
            assert serial.ops > 0 and serial.errors == 0 and len(serial.latencies_us) == serial.ops
        storm = asyncio.run(load.connect_storm(zp.host, zp.port, concurrency=4, seconds=0.5))
        assert storm.ops > 0 and storm.errors == 0
