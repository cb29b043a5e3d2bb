"""Micro-benchmark of the standalone server's write path around the core: the real Server, ClientConnection,
LogWriter thread and txn log (fdatasync on, in a temp dir) on a uvloop loop, with in-process clients whose
transports only count replies (no sockets). Each client keeps `depth` requests in flight and sends as many new
ones as replies it got, one "socket read" per loop turn. What it measures is the CPU per write of everything
`bench.corepath` leaves out but the kernel's socket work: framing, the adapter's actions, the writer thread
(encode, checksum, write, fsync) and the reply path.

    python -m bench.writepath [--op set|create|multi] [--conns 16] [--depth 32] [--ops N] [--rounds R] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import pstats
import struct
import tempfile
import time
from pathlib import Path

from zoopark.config import Config
from zoopark.net.client import ClientConnection
from zoopark.runtime.server import Server

from .proto import connect_frame, create, guarded_update, set_data

_LEN = struct.Struct(">i")


class Client:
    """One connection's client side: counts replies and sends a new request for each."""

    def __init__(self, bench: Bench, conn: ClientConnection) -> None:
        self.bench = bench
        self.conn = conn
        self.buf = bytearray()
        self.xid = 0
        self.owed = 0  # requests to send at the next turn
        self.ready = False

    # the transport the server writes to
    def write(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        pos, end, n = 0, len(buf), 0
        while end - pos >= 4:
            (k,) = _LEN.unpack_from(buf, pos)
            if end - pos - 4 < k:
                break
            pos += 4 + k
            n += 1
        del buf[:pos]
        if not self.ready:
            self.ready = True
            n -= 1
            self.bench.sessions += 1
        if n:
            self.bench.replied(self, n)

    def get_extra_info(self, key: str, default=None):
        return ("127.0.0.1", 40000 + self.conn.id) if key == "peername" else default

    def is_closing(self) -> bool:
        return False

    def can_write_eof(self) -> bool:  # the server's close asks (net/client.py _shut)
        return False

    def _nothing(self) -> None:
        pass

    pause_reading = resume_reading = close = abort = _nothing

    def send(self, n: int) -> None:
        frames = []
        tpl = self.bench.next_template
        for _ in range(n):
            self.xid += 1
            frames.append(tpl().frame(self.xid))
        self.conn.data_received(b"".join(frames))


class Bench:
    def __init__(self, op: str, conns: int, depth: int, ops: int) -> None:
        self.op, self.nconns, self.depth, self.ops = op, conns, depth, ops
        self.sessions = 0
        self.done_ops = 0
        self.sent = 0
        self.finished: asyncio.Future | None = None
        self.dirty: list[Client] = []
        self.turn_scheduled = False
        if op == "set":
            sets = [set_data(f"/n{i}", b"y" * 100) for i in range(1000)]
            counter = iter(range(1 << 62))
            self.next_template = lambda: sets[next(counter) % 1000]
        elif op == "multi":  # bench.load's: check + 2 setData
            multis = [guarded_update("/n0", [f"/n{i}", f"/n{(i + 500) % 1000}"], b"y" * 100) for i in range(1000)]
            counter = iter(range(1 << 62))
            self.next_template = lambda: multis[next(counter) % 1000]
        else:
            counter = iter(range(1 << 62))
            self.next_template = lambda: create(f"/c{next(counter)}", b"z" * 100)

    def replied(self, client: Client, n: int) -> None:
        self.done_ops += n
        if self.done_ops >= self.ops:
            if self.finished is not None and not self.finished.done():
                self.finished.set_result(None)
            return
        client.owed += n
        self.dirty.append(client)
        if not self.turn_scheduled:
            self.turn_scheduled = True
            asyncio.get_running_loop().call_soon(self.turn)

    def turn(self) -> None:
        """The next "socket reads": each client whose replies came sends that many new requests."""
        self.turn_scheduled = False
        dirty, self.dirty = self.dirty, []
        for c in dirty:
            if c.owed:
                n, c.owed = c.owed, 0
                c.send(n)


async def run_once(op: str, conns: int, depth: int, ops: int, profile: cProfile.Profile | None) -> tuple[float, float, float]:
    """(process CPU s, main thread CPU s, wall s) for `ops` requests."""
    with tempfile.TemporaryDirectory(prefix="writepath-") as d:
        cfg = Config(data_dir=Path(d), data_log_dir=Path(d), client_port=0, client_port_address="127.0.0.1")
        server = Server(cfg)
        await server.start()
        try:
            bench = Bench(op, conns, depth, ops)
            clients = []
            for _ in range(conns):
                conn = server.port.factory()()
                client = Client(bench, conn)
                conn.connection_made(client)
                conn.data_received(connect_frame())
                clients.append(client)
            for _ in range(1000):
                if bench.sessions == conns:
                    break
                await asyncio.sleep(0.01)
            if op in ("set", "multi"):  # the znodes the sets write, over the first connection
                fill = Bench("create", 1, 0, 1000)
                fill.next_template = iter([create(f"/n{i}", b"x" * 100) for i in range(1000)]).__next__
                fill.finished = asyncio.get_running_loop().create_future()
                clients[0].bench = fill
                clients[0].send(1000)
                await fill.finished
                clients[0].bench = bench
            gc.collect()
            bench.finished = asyncio.get_running_loop().create_future()
            if profile is not None:
                profile.enable()
            c0, m0, t0 = time.process_time(), time.thread_time(), time.perf_counter()
            for c in clients:
                c.send(depth)
            await bench.finished
            c1, m1, t1 = time.process_time(), time.thread_time(), time.perf_counter()
            if profile is not None:
                profile.disable()
            return c1 - c0, m1 - m0, t1 - t0
        finally:
            await server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.writepath")
    ap.add_argument("--op", default="set", choices=("set", "create", "multi"))
    ap.add_argument("--conns", type=int, default=16)
    ap.add_argument("--depth", type=int, default=32)
    ap.add_argument("--ops", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--profile", action="store_true")
    a = ap.parse_args()
    import uvloop

    from zoopark.runtime import server as server_module

    if hasattr(server_module, "tune_gc"):  # as run_server does (absent in older trees: compare with both)
        server_module.tune_gc()
    prof = cProfile.Profile() if a.profile else None
    runs = [uvloop.run(run_once(a.op, a.conns, a.depth, a.ops, prof)) for _ in range(1 if prof else a.rounds)]
    if prof is not None:
        pstats.Stats(prof).sort_stats("tottime").print_stats(30)
        return
    cpu, main_, wall = (min(r[i] for r in runs) for i in range(3))
    us = 1e6 / a.ops
    print(f"{a.op}: {cpu * us:.2f} us CPU per request ({main_ * us:.2f} on the loop thread), {a.ops / wall:,.0f}/s "
          f"(best of {a.rounds} x {a.ops}, {a.conns} connections x depth {a.depth})")


if __name__ == "__main__":
    main()
