"""The standalone server's write path around the core: a reply leaves only once its txn is on disk, whichever
thread synced it; a lone client's write is synced on the loop thread (no hand-off to the writer thread and
back); with several clients the loop keeps serving while a sync runs."""

from __future__ import annotations

import asyncio
import logging
import struct
import threading
from pathlib import Path

import pytest

from zoopark.config import Config
from zoopark.core.jute.constants import OpCode
from zoopark.core.jute.io import Writer
from zoopark.core.jute.records import OPEN_ACL_UNSAFE, ConnectRequest, CreateRequest, GetDataRequest
from zoopark.persist import txnlog
from zoopark.runtime import server as server_mod
from zoopark.runtime.server import Server

_REPLY = struct.Struct(">iqi")  # xid, zxid, err


def frame(xid: int | None, op: int | None, record) -> bytes:
    w = Writer()
    if xid is not None:
        w.int(xid)
        w.int(op)
    record.write(w)
    if xid is None:
        w.bool(False)  # ConnectRequest's readOnly
    body = w.getvalue()
    return struct.pack(">i", len(body)) + body


class Transport:
    """What the server writes to one client: each reply's (xid, zxid, err), checked against the disk as it
    is written."""

    def __init__(self, log_dir: Path, port: int) -> None:
        self.log_dir, self.port = log_dir, port
        self.replies: list[tuple[int, int, int]] = []
        self.buf = bytearray()
        self.handshaken = False
        self.written_before_durable: list[int] = []

    def write(self, data: bytes) -> None:
        self.buf += data
        while len(self.buf) >= 4:
            (n,) = struct.unpack_from(">i", self.buf)
            if len(self.buf) < 4 + n:
                break
            body = bytes(self.buf[4 : 4 + n])
            del self.buf[: 4 + n]
            if not self.handshaken:
                self.handshaken = True
                continue
            xid, zxid, err = _REPLY.unpack_from(body)
            if xid > 0 and zxid and zxid not in {e.zxid for e in txnlog.iter_entries(self.log_dir)}:
                self.written_before_durable.append(zxid)
            self.replies.append((xid, zxid, err))

    def get_extra_info(self, key: str, default=None):
        return ("127.0.0.1", self.port) if key == "peername" else default

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...
    def can_write_eof(self) -> bool:
        return False


async def until(cond, what: str, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        assert loop.time() < end, f"timed out waiting for {what}"
        await asyncio.sleep(0.001)


async def started(tmp_path: Path) -> Server:
    cfg = Config(data_dir=tmp_path, data_log_dir=tmp_path, client_port=0, client_port_address="127.0.0.1")
    server = Server(cfg)
    await server.start()
    return server


async def client(server: Server, tmp_path: Path, n: int):
    conn = server.port.factory()()
    t = Transport(Path(server.cfg.log_dir), 40000 + n)
    conn.connection_made(t)
    conn.data_received(frame(None, None, ConnectRequest(0, 0, 30000, 0, bytes(16))))
    await until(lambda: t.handshaken, "the session")
    return conn, t


def create(xid: int, path: str) -> bytes:
    return frame(xid, OpCode.CREATE, CreateRequest(path, b"x", list(OPEN_ACL_UNSAFE), 0))


def test_a_lone_clients_write_is_synced_and_answered_in_the_callback_that_carried_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(server_mod, "_INLINE_SYNC_MAX_MS", float("inf"))  # whatever this disk's speed now

    async def main() -> None:
        server = await started(tmp_path)
        try:
            conn, t = await client(server, tmp_path, 1)
            await asyncio.sleep(server_mod._SOLO_NS / 1e9 * 2)  # this client has been alone that long
            fsyncs = server.writer.stats.fsyncs
            for xid in range(1, 6):
                conn.data_received(create(xid, f"/lone{xid}"))
                assert [r[0] for r in t.replies] == list(range(1, xid + 1)), "answered before the loop turned"
            assert server.writer.stats.fsyncs == fsyncs + 5, "each write was synced before its reply"
            assert t.written_before_durable == []
        finally:
            await server.stop()
    asyncio.run(main())


def test_with_two_clients_the_loop_serves_one_while_the_others_write_is_being_synced(tmp_path, monkeypatch) -> None:
    gate = threading.Event()
    held = threading.Event()
    real = txnlog.TxnLog._write_synced

    def slow_disk(self, data: bytes) -> None:
        held.set()
        if not gate.wait(5):
            raise AssertionError("the sync was held for 5 s: the loop waited on it")
        real(self, data)

    async def main() -> None:
        server = await started(tmp_path)
        try:
            a, ta = await client(server, tmp_path, 1)
            b, tb = await client(server, tmp_path, 2)
            await asyncio.sleep(server_mod._SOLO_NS / 1e9 * 2)
            monkeypatch.setattr(txnlog.TxnLog, "_write_synced", slow_disk)
            fsyncs = server.writer.stats.fsyncs
            a.data_received(create(1, "/a"))
            assert ta.replies == [], "the write waits for its sync"
            await until(held.is_set, "the sync to start")
            b.data_received(frame(1, OpCode.GET_DATA, GetDataRequest("/", False)))
            b.data_received(create(2, "/b"))
            assert [r[0] for r in tb.replies] == [1], "the other client was served while the disk was busy"
            gate.set()
            await until(lambda: len(ta.replies) == 1 and len(tb.replies) == 2, "both writes")
            assert server.writer.stats.fsyncs == fsyncs + 2  # b's write queued behind a's sync
            assert ta.written_before_durable == [] and tb.written_before_durable == []
            assert ta.replies[0][2] == 0 and tb.replies[1][2] == 0
        finally:
            gate.set()
            await server.stop()
    asyncio.run(main())


@pytest.mark.parametrize("clients", [1, 3])
def test_no_reply_leaves_before_its_txn_is_on_disk(tmp_path, clients) -> None:
    async def main() -> None:
        server = await started(tmp_path)
        try:
            conns = [await client(server, tmp_path, n) for n in range(clients)]
            for xid in range(1, 30):
                for n, (conn, _) in enumerate(conns):
                    conn.data_received(create(xid, f"/c{n}-{xid}"))
                await asyncio.sleep(0)
            await until(lambda: all(len(t.replies) == 29 for _, t in conns), "every reply")
            for _, t in conns:
                assert t.written_before_durable == []
                assert [r[0] for r in t.replies] == list(range(1, 30)), "in request order"
        finally:
            await server.stop()
    asyncio.run(main())


def test_a_slow_disk_never_blocks_the_loop_even_for_a_lone_client(tmp_path, monkeypatch) -> None:
    real = txnlog.TxnLog._write_synced

    def slow_disk(self, data: bytes) -> None:
        real(self, data)
        self.sync_seconds = 0.002  # as a disk taking 2 ms to sync would show

    monkeypatch.setattr(txnlog.TxnLog, "_write_synced", slow_disk)

    async def main() -> None:
        server = await started(tmp_path)
        try:
            conn, t = await client(server, tmp_path, 1)
            await asyncio.sleep(server_mod._SOLO_NS / 1e9 * 2)
            for xid in range(1, 4):
                conn.data_received(create(xid, f"/slow{xid}"))
                assert len(t.replies) == xid - 1, "handed to the writer thread: answered after a loop turn"
                await until(lambda n=xid: len(t.replies) == n, "the reply")
            assert t.written_before_durable == []
        finally:
            await server.stop()
    asyncio.run(main())


def test_a_session_the_client_closed_is_logged_at_debug_as_zookeeper_does_and_a_refused_frame_at_info(
        tmp_path, caplog) -> None:
    async def main() -> None:
        server = await started(tmp_path)
        try:
            conn, t = await client(server, tmp_path, 1)
            conn.data_received(struct.pack(">iii", 8, 1, OpCode.CLOSE_SESSION))
            await until(lambda: conn.closed, "the close")
            bad, _ = await client(server, tmp_path, 2)
            bad.data_received(struct.pack(">i", -5))
            assert bad.closed
        finally:
            await server.stop()
    with caplog.at_level(logging.DEBUG, logger="zoopark.net"):
        asyncio.run(main())
    closes = [(r.levelno, r.getMessage()) for r in caplog.records if r.getMessage().startswith("closing connection")]
    assert closes[0] == (logging.DEBUG, "closing connection from 127.0.0.1: client closed the session")
    assert closes[1][0] == logging.INFO and "frame length -5" in closes[1][1]


@pytest.mark.parametrize("level", [logging.DEBUG, logging.INFO])
def test_the_cores_log_lines_keep_their_level_and_session(tmp_path, caplog, level) -> None:
    """The core's "established session" line is DEBUG, as ZooKeeper's: logged with its session when DEBUG is
    on for zoopark.core, and not at all at INFO (the server skips it without formatting a record)."""
    async def main() -> None:
        server = await started(tmp_path)
        try:
            conn, t = await client(server, tmp_path, 1)
        finally:
            await server.stop()
    with caplog.at_level(level, logger="zoopark.core"):
        asyncio.run(main())
    lines = [r for r in caplog.records if r.name == "zoopark.core" and r.getMessage().startswith("established")]
    if level == logging.DEBUG:
        assert len(lines) == 1 and lines[0].levelno == logging.DEBUG
        assert lines[0].getMessage().startswith(f"established session 0x{lines[0].session:x} ")
    else:
        assert lines == []
