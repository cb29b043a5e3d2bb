"""Scale rows: many sessions held open, or many watches set, while the parent samples the server.

Each holder process opens its share of the sessions (a bounded number of handshakes in flight, so the count
is what the server takes, not what the generator can queue), sends each session's requests (a window of
them in flight), reports, then keeps every session alive with pings at a third of the session timeout, as
the Java and C clients do, until the parent has measured and releases it. The sessions must stay open while
the parent samples: a server drops a session's watches when it closes.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import resource
import struct
import time
from array import array
from dataclasses import dataclass

from . import proto
from .load import Conn, Generator

PING = struct.pack(">iii", 8, -2, 11)  # xid -2, OpCode.PING: no body


def raise_nofile(need: int) -> None:
    """Raise this process's descriptor limit to `need` (the hard limit too when allowed): the servers and
    holders started after this inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(need, soft), max(need, hard)))
    except (ValueError, PermissionError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Session(Generator):
    """Replies on one connection: send the next of its requests while fewer than `window` are in flight."""

    def __init__(self, templates: list[proto.Template], window: int) -> None:
        super().__init__(None, 0)
        self.todo = iter(templates)
        self.left = len(templates)
        self.window = window
        self.done = asyncio.get_running_loop().create_future()

    def start(self, conn: Conn) -> None:
        for _ in range(self.window):
            t = next(self.todo, None)
            if t is None:
                break
            conn.send(t)
        if self.left == 0:
            self.done.set_result(None)

    def on_reply(self, conn: Conn, latency_s: float, err: int) -> None:
        if err:
            self.result.errors += 1
        self.left -= 1
        t = next(self.todo, None)
        if t is not None:
            conn.send(t)
        elif self.left == 0 and not self.done.done():
            self.done.set_result(None)


@dataclass
class Held:
    """One holder's report: when it started and finished opening, each session's open time, errors."""

    t0: float
    t1: float
    latencies_us: array
    errors: int


async def _hold(host: str, port: int, sessions: int, paths: list[str], window: int, concurrency: int,
                timeout_ms: int, reports, release) -> None:
    loop = asyncio.get_running_loop()
    conns: list[Conn] = []
    lat = array("d")
    errors = 0
    sem = asyncio.Semaphore(concurrency)
    interval = timeout_ms / 3000  # a third of the session timeout, in seconds
    frame = proto.connect_frame(timeout_ms)
    tpls = [proto.get_data(p, watch=True) for p in paths]  # built once: shared by this holder's sessions

    def ping(c: Conn) -> None:
        if c.transport is not None and not c.transport.is_closing():
            c.transport.write(PING)
            loop.call_later(interval, ping, c)

    async def one() -> None:
        nonlocal errors
        async with sem:
            t = time.perf_counter()
            gen = Session(tpls, window)
            try:
                _, c = await loop.create_connection(lambda: _Conn(gen, frame), host, port)
                await asyncio.wait_for(c.ready, 60)
                gen.start(c)
                await asyncio.wait_for(gen.done, 600)
            except (ConnectionError, OSError, asyncio.TimeoutError):
                errors += 1
                return
            errors += gen.result.errors
            lat.append((time.perf_counter() - t) * 1e6)
            conns.append(c)
            loop.call_later(interval, ping, c)

    t0 = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(sessions)))
    t1 = time.perf_counter()
    reports.put(Held(t0, t1, lat, errors))
    while not release.is_set():  # bounded by the parent, which always releases
        await asyncio.sleep(0.2)
    for c in conns:
        if c.transport is not None:
            c.transport.close()
    await asyncio.sleep(0.1)


class _Conn(Conn):
    """A Conn that asks for its own session timeout."""

    def __init__(self, gen: Generator, frame: bytes) -> None:
        super().__init__(gen)
        self.frame = frame

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self.transport = transport
        transport.write(self.frame)


def _holder(host, port, sessions, paths, window, concurrency, timeout_ms, go, reports, release) -> None:
    raise_nofile(sessions + 256)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    go.wait(60)
    asyncio.run(_hold(host, port, sessions, paths, window, concurrency, timeout_ms, reports, release))


class Holders:
    """`sessions` sessions over `procs` processes, each session sending getData(watch) on `paths`."""

    def __init__(self, host: str, port: int, sessions: int, paths: list[str], procs: int = 4, window: int = 100,
                 concurrency: int = 0, timeout_ms: int = 30_000) -> None:
        # 48 handshakes in flight in all by default: within ZooKeeper's default listen backlog of 50, so
        # neither server sees SYNs dropped and retried a second later (zoopark listens with 1,024)
        concurrency = concurrency or max(1, 48 // procs)
        ctx = mp.get_context("fork")
        self.go, self.release, self.reports = ctx.Event(), ctx.Event(), ctx.Queue()
        shares = [sessions // procs + (1 if i < sessions % procs else 0) for i in range(procs)]
        self.procs = [ctx.Process(target=_holder, args=(host, port, n, paths, window, concurrency, timeout_ms,
                                                        self.go, self.reports, self.release))
                      for n in shares if n]

    def open(self, timeout: float = 900.0) -> tuple[float, array, int]:
        """Start the holders together; wait until every session is open and its requests answered. Returns
        the seconds from the start to the last session, each session's open time, and the errors."""
        for p in self.procs:
            p.start()
        time.sleep(0.5)  # let the children reach go.wait; their start time is taken after it
        self.go.set()
        held = [self.reports.get(timeout=timeout) for _ in self.procs]
        lat = array("d")
        for h in held:
            lat.extend(h.latencies_us)
        return max(h.t1 for h in held) - min(h.t0 for h in held), lat, sum(h.errors for h in held)

    def close(self) -> None:
        self.release.set()
        for p in self.procs:
            p.join(30)
            if p.is_alive():
                p.kill()
                p.join()

    def __enter__(self) -> Holders:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
