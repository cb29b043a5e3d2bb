"""The benchmark's load generator against a live zoopark, briefly: every row's requests succeed, and each kind
of client (pipelined, serial, connect storm) measures something. Nothing else runs bench/ under `make test`;
a bench broken by a server change (as bench.writepath once was) would otherwise go unnoticed until the next
measurement."""

from __future__ import annotations

import asyncio

from bench import load
from bench.run import bare_serial, beside_floors, check_load, setup_fixtures

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


def test_the_bare_server_answers_the_serial_client_and_the_floors_print():
    """bench.bare, the @1 rows' machine floor, answers each serial request with its own xid (the client checks
    it), and the report splits a run's gap into the machine's part and the server's own."""
    for row in ("set", "get"):
        r = bare_serial(row, 0.3)
        assert r.ops > 0 and r.errors == 0 and len(r.latencies_us) == r.ops
    text = beside_floors([("set@1", "zoopark", 0.23, 0.16, 0.13), ("get@1", "zoopark", 0.08, 0.06, float("nan"))])
    assert "zoopark 0.230 / 0.160 / 0.130 (+0.100; +0.070)" in text
    assert "zoopark 0.080 / 0.060 (+0.020)" in text
