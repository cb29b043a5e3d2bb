"""The load generator: several processes, each an asyncio + uvloop loop with many pipelined connections.

Closed loop (throughput): each connection keeps `depth` requests in flight for `seconds`.
Open loop (latency at a fixed rate): requests leave on a fixed schedule whatever the replies do, and latency
counts from the scheduled time, so queueing in the server shows.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import random
import ssl
import struct
import time
from array import array
from collections import deque
from dataclasses import dataclass, field

from . import proto

_LEN = struct.Struct(">i")


@dataclass
class Result:
    ops: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_us: array = field(default_factory=lambda: array("d"))
    server_cores: float = float("nan")  # the server processes' CPU (user + system) over the run, in cores

    def merge(self, other: Result) -> None:
        self.ops += other.ops
        self.errors += other.errors
        self.seconds = max(self.seconds, other.seconds)
        self.latencies_us.extend(other.latencies_us)

    @property
    def rate(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0

    def percentile_ms(self, p: float) -> float:
        if not self.latencies_us:
            return float("nan")
        s = sorted(self.latencies_us)
        return s[min(len(s) - 1, int(len(s) * p / 100))] / 1000


class Conn(asyncio.Protocol):
    """One session. Replies come back in request order, so send times queue up FIFO."""

    def __init__(self, gen: Generator) -> None:
        self.gen = gen
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.ready = asyncio.get_running_loop().create_future()
        self.sent: deque[float] = deque()
        self.xid = 0
        self.session_id = 0
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self.transport = transport
        transport.write(proto.connect_frame())

    def connection_lost(self, exc) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed during handshake"))
        if not self.closed.done():
            self.closed.set_result(None)

    def send(self, tpl: proto.Template, at: float | None = None) -> None:
        self.xid += 1
        self.sent.append(time.perf_counter() if at is None else at)
        assert self.transport is not None
        self.transport.write(tpl.frame(self.xid))

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        pos, end = 0, len(buf)
        now = time.perf_counter()
        gen = self.gen
        while end - pos >= 4:
            (n,) = _LEN.unpack_from(buf, pos)
            if end - pos - 4 < n:
                break
            if not self.ready.done():
                self.session_id = struct.unpack_from(">q", buf, pos + 4 + 8)[0]
                self.ready.set_result(None)
            else:
                xid, _zxid, err = proto.REPLY.unpack_from(buf, pos + 4)
                if xid == -1:
                    gen.on_event(self, now)
                elif xid != -2:
                    if gen.bodies:
                        gen.on_body(err, bytes(buf[pos + 20:pos + 4 + n]))
                    gen.on_reply(self, now - self.sent.popleft(), err)
            pos += 4 + n
        del buf[:pos]


class Generator:
    """Closed-loop load on a set of connections."""

    bodies = False  # whether on_body sees each reply's body

    def __init__(self, pick, depth: int) -> None:
        self.pick = pick
        self.depth = depth
        self.measuring = False
        self.running = True
        self.result = Result()

    def on_reply(self, conn: Conn, latency_s: float, err: int) -> None:
        if self.measuring:
            self.result.ops += 1
            if err:
                self.result.errors += 1
            self.result.latencies_us.append(latency_s * 1e6)
        if self.running:
            conn.send(self.pick(conn))

    def on_event(self, conn: Conn, now: float) -> None:
        pass

    def on_body(self, err: int, body: bytes) -> None:
        pass


class Probe(Generator):
    """Replies checked whole: the reply header's error, and a multi's error per op (a failed multi is answered
    with err 0 in the header)."""

    bodies = True

    def __init__(self, pick, expected: int, multi: bool) -> None:
        super().__init__(pick, 0)
        self.left = expected
        self.multi = multi
        self.failures: list[tuple[int, list[int]]] = []
        self.done = asyncio.get_running_loop().create_future()

    def on_body(self, err: int, body: bytes) -> None:
        errs = proto.multi_errors(body) if self.multi and not err else []
        if err or any(errs):
            self.failures.append((err, errs))

    def on_reply(self, conn: Conn, latency_s: float, err: int) -> None:
        self.left -= 1
        if self.left == 0:
            self.done.set_result(None)


async def probe(host: str, port: int, workload: str, conns: int = 4, per_conn: int = 64) -> list[tuple[int, list[int]]]:
    """Send `per_conn` of the workload's requests at once on each of `conns` connections and check every
    reply: the failures as (header error, errors per op of a multi). A load whose requests fail measures
    nothing. `per_conn` even leaves no znode of create+delete behind."""
    gen = Probe(make_picker(workload, 0, conns), conns * per_conn, workload == "multi")
    cs = await open_conns(host, port, conns, gen)
    for c in cs:
        for _ in range(per_conn):
            c.send(gen.pick(c))
    await asyncio.wait_for(gen.done, 30)
    await close_conns(cs)
    return gen.failures


def client_tls(tls: dict[str, str] | None) -> dict:
    """create_connection's TLS arguments for a client holding `tls`'s certificate (certfile, keyfile, ca);
    none for a plain connection. The context is made in the worker process (contexts do not pickle)."""
    if not tls:
        return {}
    ctx = ssl.create_default_context(cafile=tls["ca"])
    ctx.load_cert_chain(tls["certfile"], tls["keyfile"])
    return {"ssl": ctx, "server_hostname": "localhost"}


async def open_conns(host: str, port: int, n: int, gen, tls: dict[str, str] | None = None) -> list[Conn]:
    loop = asyncio.get_running_loop()
    conns = []
    extra = client_tls(tls)
    for _ in range(n):
        _, c = await loop.create_connection(lambda g=gen: Conn(g), host, port, **extra)
        conns.append(c)
    await asyncio.gather(*(c.ready for c in conns))
    return conns


async def close_conns(conns: list[Conn]) -> None:
    for c in conns:
        if c.transport is not None:
            c.transport.close()


class CreateDelete:
    """Each connection creates a znode and then deletes it, over a ring of RING names of its own
    (/bench/cd/w<worker>-c<conn>-<i>): a delete follows its create in the session's order, which both servers
    keep, so with many requests in flight every one still succeeds. Which of the pair comes next follows the
    connection's count of requests sent (its xid)."""

    RING = 64

    def __init__(self, worker: int, data: bytes) -> None:
        self.worker = worker
        self.data = data
        self.pairs: dict[Conn, list[tuple[proto.Template, proto.Template]]] = {}

    def __call__(self, conn: Conn) -> proto.Template:
        ring = self.pairs.get(conn)
        if ring is None:
            base = f"/bench/cd/w{self.worker}-c{len(self.pairs)}-"
            ring = self.pairs[conn] = [(proto.create(f"{base}{i}", self.data), proto.delete(f"{base}{i}"))
                                       for i in range(self.RING)]
        n = conn.xid
        return ring[(n >> 1) % self.RING][n & 1]


def make_picker(workload: str, worker: int, conns_per_worker: int):
    """The workload's next request for a connection: pick(conn) -> Template."""
    rng = random.Random(worker)
    nodes = [f"/bench/n{i}" for i in range(1000)]
    gets = [proto.get_data(p) for p in nodes]
    exist = [proto.exists(p) for p in nodes]
    data = b"x" * 100
    sets = [proto.set_data(p, data) for p in nodes]
    create = proto.create(f"/bench/c/w{worker}-", data, flags=2)
    if workload == "get":
        return lambda conn: gets[rng.randrange(1000)]
    if workload == "exists":
        return lambda conn: exist[rng.randrange(1000)]
    if workload == "set":
        return lambda conn: sets[rng.randrange(1000)]
    if workload == "create":
        return lambda conn: create
    if workload == "create+delete":
        return CreateDelete(worker, data)
    if workload == "multi":  # a guarded update of two znodes 500 apart
        multis = [proto.guarded_update("/bench", [nodes[i], nodes[(i + 500) % 1000]], data) for i in range(1000)]
        return lambda conn: multis[rng.randrange(1000)]
    if workload == "mixed":
        return lambda conn: sets[rng.randrange(1000)] if rng.random() < 0.1 else gets[rng.randrange(1000)]
    raise ValueError(workload)


async def closed_loop(host: str, port: int, workload: str, worker: int, conns: int, depth: int,
                      warmup_s: float, seconds: float, tls: dict[str, str] | None = None) -> Result:
    gen = Generator(make_picker(workload, worker, conns), depth)
    cs = await open_conns(host, port, conns, gen, tls)
    for c in cs:
        for _ in range(depth):
            c.send(gen.pick(c))
    await asyncio.sleep(warmup_s)
    gen.measuring = True
    t0 = time.perf_counter()
    await asyncio.sleep(seconds)
    gen.measuring = False
    gen.result.seconds = time.perf_counter() - t0
    gen.running = False
    await asyncio.sleep(0.2)
    await close_conns(cs)
    return gen.result


async def open_loop(host: str, port: int, workload: str, worker: int, conns: int, rate: float,
                    warmup_s: float, seconds: float) -> Result:
    """Send at `rate` req/s from this worker, on a fixed schedule; latency from the scheduled time."""
    gen = Generator(make_picker(workload, worker, conns), 0)
    gen.running = False  # replies do not trigger sends
    cs = await open_conns(host, port, conns, gen)
    interval = 1.0 / rate
    start = time.perf_counter()
    end_warm = start + warmup_s
    end = end_warm + seconds
    i = 0
    measured_from = None
    while True:
        at = start + i * interval
        if at >= end:
            break
        now = time.perf_counter()
        if at > now:
            await asyncio.sleep(at - now)
        if measured_from is None and at >= end_warm:
            gen.measuring = True
            measured_from = at
        c = cs[i % len(cs)]
        c.send(gen.pick(c), at=at)
        i += 1
    await asyncio.sleep(1.0)
    gen.result.seconds = end - (measured_from or end)
    await close_conns(cs)
    return gen.result


async def connect_storm(host: str, port: int, concurrency: int, seconds: float,
                        tls: dict[str, str] | None = None) -> Result:
    """Sessions opened (handshake, TLS's first when `tls`), closed (closeSession answered) and disconnected,
    as fast as possible."""
    result = Result()
    loop = asyncio.get_running_loop()
    extra = client_tls(tls)
    close = proto.close_session()
    stop_at = time.perf_counter() + seconds

    class Once(Generator):
        def on_reply(self, conn: Conn, latency_s: float, err: int) -> None:
            if conn.transport is not None:
                conn.transport.close()

    async def one_loop() -> None:
        while time.perf_counter() < stop_at:
            t = time.perf_counter()
            gen = Once(None, 0)
            try:
                _, c = await loop.create_connection(lambda g=gen: Conn(g), host, port, **extra)
                await c.ready
                c.send(close)
                await c.closed
            except (ConnectionError, OSError):
                result.errors += 1
                continue
            result.ops += 1
            result.latencies_us.append((time.perf_counter() - t) * 1e6)

    t0 = time.perf_counter()
    await asyncio.gather(*(one_loop() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - t0
    return result


def serial(host: str, port: int, workload: str, warmup_s: float, seconds: float) -> Result:
    """One session, one request at a time, over a blocking socket: the latency of a single request as the
    server gives it. No event loop on the client's side (its turn per request, ~20 us of uvloop and
    protocol code, is not the server's); the thread sleeps in recv as any synchronous client does, so the
    server's threads keep both cores to themselves."""
    import socket

    pick = make_picker(workload, 0, 1)
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = bytearray(1 << 20)
    view = memoryview(buf)

    def reply() -> int:
        """Read one whole frame into buf; its length."""
        got = 0
        while got < 4 or got < 4 + _LEN.unpack_from(buf)[0]:
            n = sock.recv_into(view[got:])
            if not n:
                raise ConnectionError("server closed the connection")
            got += n
        return got

    result = Result()
    try:
        sock.sendall(proto.connect_frame())
        reply()
        xid = 0
        t_measure = time.perf_counter() + warmup_s
        t_end = t_measure + seconds
        perf_counter = time.perf_counter
        for _ in range(100_000_000):
            xid += 1
            frame = pick(None).frame(xid)
            t = perf_counter()
            if t >= t_end:
                break
            sock.sendall(frame)
            reply()
            done = perf_counter()
            got_xid, _zxid, err = proto.REPLY.unpack_from(buf, 4)
            if got_xid != xid:
                raise ConnectionError(f"reply for xid {got_xid}, expected {xid}")
            if t >= t_measure:
                result.ops += 1
                result.errors += err != 0
                result.latencies_us.append((done - t) * 1e6)
        result.seconds = seconds
    finally:
        sock.close()
    return result


def _worker(args: tuple) -> Result:
    kind, params = args
    if kind == "serial":
        return serial(**params)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    return asyncio.run({"closed": closed_loop, "open": open_loop, "storm": connect_storm}[kind](**params))


def run_parallel(kind: str, params: list[dict]) -> Result:
    """Run one worker process per params dict and merge their results."""
    ctx = mp.get_context("fork")
    with ctx.Pool(len(params)) as pool:
        parts = pool.map(_worker, [(kind, p) for p in params])
    total = Result()
    for p in parts:
        total.merge(p)
    return total


def cpu_count() -> int:
    return len(os.sched_getaffinity(0))
