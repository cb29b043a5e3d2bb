"""Micro-benchmark of a connect storm's sessions around the core: the real Server, ClientPort, ClientConnection,
LogWriter thread and txn log (fdatasync on, in a temp dir) on a uvloop loop, with in-process clients whose
transports stand in for sockets. Each of `loops` clients repeats bench.load's storm loop: connect, send a
ConnectRequest, wait for the ConnectResponse (both durable: the createSession txn is synced first), send
closeSession, wait for its reply and the server's half-close, close its side. A client's next bytes arrive one
loop turn after the reply they answer, as a socket read would. What it measures is the CPU per session of
everything but the kernel's socket work (accept, reads, writes, shutdown, close) and uvloop's transports:
the client port, the adapter's actions, the core, the writer thread's hand-offs and its syncs.

    python -m bench.connectpath [--loops 32] [--sessions 20000] [--rounds 5] [--profile]
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
from zoopark.runtime.server import Server

from .proto import close_session, connect_frame

_LEN = struct.Struct(">i")


class Transport:
    """One connection's socket, from the server's side: counts the frames written to it and drives its client."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.conn = bench.server.port.factory()()
        self.buf = bytearray()
        self.frames = 0
        self.closing = False
        self.peer = ("127.0.0.1", 40000 + self.conn.id % 20000)

    def start(self) -> None:
        self.conn.connection_made(self)
        self.conn.data_received(self.bench.connect)

    # what the server calls
    def write(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        pos, end = 0, len(buf)
        while end - pos >= 4:
            (k,) = _LEN.unpack_from(buf, pos)
            if end - pos - 4 < k:
                break
            pos += 4 + k
            self.frames += 1
            if self.frames == 1:  # the ConnectResponse: the client sends closeSession at its next read
                self.bench.loop.call_soon(self.conn.data_received, self.bench.close)
        del buf[:pos]

    def write_eof(self) -> None:  # the server's half-close after the closeSession reply: the client closes
        assert self.frames == 2, "half-closed before the closeSession reply"
        self.bench.loop.call_soon(self.client_closed)

    def client_closed(self) -> None:
        self.closing = True
        self.conn.eof_received()
        self.conn.connection_lost(None)
        self.bench.ended()

    def get_extra_info(self, key: str, default=None):
        return self.peer if key == "peername" else default

    def is_closing(self) -> bool:
        return self.closing

    def can_write_eof(self) -> bool:
        return True

    def get_write_buffer_size(self) -> int:
        return 0

    def close(self) -> None:
        self.closing = True

    abort = close

    def pause_reading(self) -> None:
        pass

    resume_reading = pause_reading


class Bench:
    def __init__(self, server: Server, loops: int, sessions: int) -> None:
        self.server = server
        self.loop = asyncio.get_running_loop()
        self.loops = loops
        self.sessions = sessions
        self.started = 0
        self.done = 0
        self.connect = connect_frame()
        self.close = close_session().frame(1)
        self.finished = self.loop.create_future()

    def begin(self) -> None:
        for _ in range(self.loops):
            self.next()

    def next(self) -> None:
        if self.started < self.sessions:
            self.started += 1
            Transport(self).start()

    def ended(self) -> None:
        self.done += 1
        if self.done == self.sessions:
            self.finished.set_result(None)
        else:
            self.loop.call_soon(self.next)  # the next connection is accepted at a later turn, as a socket's


async def run_once(loops: int, sessions: int, profile: cProfile.Profile | None) -> tuple[float, float, float]:
    """(process CPU s, main thread CPU s, wall s) for `sessions` sessions."""
    with tempfile.TemporaryDirectory(prefix="connectpath-") as d:
        cfg = Config(data_dir=Path(d), data_log_dir=Path(d), client_port=0, client_port_address="127.0.0.1",
                     max_client_cnxns=0)
        server = Server(cfg)
        await server.start()
        try:
            warm = Bench(server, loops, min(sessions, 2000))
            warm.begin()
            await warm.finished
            gc.collect()
            bench = Bench(server, loops, sessions)
            if profile is not None:
                profile.enable()
            c0, m0, t0 = time.process_time(), time.thread_time(), time.perf_counter()
            bench.begin()
            await bench.finished
            c1, m1, t1 = time.process_time(), time.thread_time(), time.perf_counter()
            if profile is not None:
                profile.disable()
            assert not server.port.conns, "a connection outlived its session"
            return c1 - c0, m1 - m0, t1 - t0
        finally:
            await server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.connectpath")
    ap.add_argument("--loops", type=int, default=32)
    ap.add_argument("--sessions", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--profile", action="store_true")
    a = ap.parse_args()
    import uvloop

    from zoopark.runtime import server as server_module

    server_module.tune_gc()
    prof = cProfile.Profile() if a.profile else None
    runs = [uvloop.run(run_once(a.loops, a.sessions, prof)) for _ in range(1 if prof else a.rounds)]
    if prof is not None:
        pstats.Stats(prof).sort_stats("tottime").print_stats(40)
        return
    us = 1e6 / a.sessions
    cpus = sorted(r[0] * us for r in runs)
    mains = sorted(r[1] * us for r in runs)
    print(f"connect: {cpus[0]:.1f} us CPU per session (runs {cpus[0]:.1f}..{cpus[-1]:.1f}), the loop thread "
          f"{mains[0]:.1f} ({mains[0]:.1f}..{mains[-1]:.1f}), {a.sessions / min(r[2] for r in runs):,.0f} sessions/s "
          f"(best of {a.rounds} x {a.sessions}, {a.loops} loops)")


if __name__ == "__main__":
    main()
