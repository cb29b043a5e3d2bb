"""Side by side: the same loads against zoopark and Apache ZooKeeper, alternating A/B/A/B, with ratios.

    python -m bench.run [--quick] [--only get,set] [--rounds 2] [--rss-nodes 1000000] [--write-docs]
    python -m bench.run --only sessions,watches [--sessions 10000] [--watches 1000000 --watch-sessions 100]

Each round starts fresh servers (data in a temp dir, fsync on, ZooKeeper with its zkEnv.sh heap of 1000 MB),
creates the fixture nodes, checks that the row's requests succeed on it (every reply read whole, a multi's
ops included), runs the load from several worker processes, and stops the servers by PID.

Ops are requests answered: create+delete counts its create and its delete as two (as ZooKeeper's own
throughput figures count requests), a multi as one whatever its ops.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import math
import os
import platform
import statistics
import time
from pathlib import Path

from tests.procs import ServerProcess, ZooKeeperProcess, ZooParkProcess, mntr

from . import proto
from .load import Conn, Generator, Result, cpu_count, open_conns, probe, run_parallel

ROOT = Path(__file__).resolve().parent.parent


class BenchZooKeeper(ZooKeeperProcess):
    heap_mb = 1000  # zkEnv.sh's ZK_SERVER_HEAP default; --zk-heap raises it for 5,000,000 znodes

    def command(self, cfg: Path) -> list[str]:
        cmd = super().command(cfg)
        return [cmd[0], f"-Xmx{self.heap_mb}m", *cmd[2:]]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def with_cpu(pids: list[int], run):
    """run()'s Result, with the servers' CPU over it (`server_cores`): a ratio is speed or waiting."""
    c0, t0 = sum(cpu_s(p) for p in pids), time.monotonic()
    r = run()
    r.server_cores = (sum(cpu_s(p) for p in pids) - c0) / (time.monotonic() - t0)
    return r


def cpu_per_1k_ms(r) -> float:
    """Server CPU milliseconds per 1,000 operations."""
    return r.server_cores / r.rate * 1e6 if r.rate else float("nan")


# ---- fixtures ----------------------------------------------------------------------------------


class Pipeline(Generator):
    """Send a list of requests with a bounded window; count errors."""

    def __init__(self, templates, window: int) -> None:
        super().__init__(None, 0)
        self.todo = iter(templates)
        self.window = window
        self.inflight = 0
        self.done = asyncio.get_running_loop().create_future()
        self.exhausted = False

    def pump(self, conn: Conn) -> None:
        while not self.exhausted and self.inflight < self.window:
            t = next(self.todo, None)
            if t is None:
                self.exhausted = True
                break
            conn.send(t)
            self.inflight += 1
        if self.exhausted and self.inflight == 0 and not self.done.done():
            self.done.set_result(None)

    def on_reply(self, conn: Conn, latency_s: float, err: int) -> None:
        self.inflight -= 1
        if err:
            self.result.errors += 1
        self.result.ops += 1
        self.pump(conn)


async def pipeline(host: str, port: int, templates, window: int = 2000) -> Result:
    p = Pipeline(templates, window)
    (c,) = await open_conns(host, port, 1, p)
    p.pump(c)
    await p.done
    c.transport.close()
    return p.result


def setup_fixtures(server: ServerProcess) -> None:
    data = b"x" * 100
    tpls = [proto.create("/bench", b""), proto.create("/bench/c", b""), proto.create("/bench/cd", b""),
            proto.create("/bench/w", b"w")]
    tpls += [proto.create(f"/bench/n{i}", data) for i in range(1000)]
    r = asyncio.run(pipeline(server.host, server.port, tpls))
    assert r.errors == 0, f"fixture creation failed {r.errors} times"


def check_load(server: ServerProcess, workload: str) -> None:
    """Fail the row if the workload's requests fail on this server (each reply checked whole, a multi's ops
    included): a load answered with errors measures nothing."""
    failures = asyncio.run(probe(server.host, server.port, workload))
    assert not failures, f"{workload}: {len(failures)} of its requests failed on {type(server).__name__}, " \
                         f"(header error, errors per op) e.g. {failures[:3]}"


# ---- workloads ---------------------------------------------------------------------------------


def throughput(server: ServerProcess, workload: str, cfg: argparse.Namespace,
               tls: tuple[int, dict[str, str]] | None = None) -> Result:
    """`tls`: (the secure port, the client's certificate files) to load over TLS instead."""
    port, files = tls or (server.port, None)
    params = [dict(host=server.host, port=port, workload=workload, worker=w, conns=cfg.conns,
                   depth=cfg.depth, warmup_s=cfg.warmup, seconds=cfg.seconds, tls=files)
              for w in range(cfg.workers)]
    return run_parallel("closed", params)


def fixed_rate(server: ServerProcess, workload: str, cfg: argparse.Namespace) -> Result:
    per = cfg.rate / 2
    params = [dict(host=server.host, port=server.port, workload=workload, worker=w, conns=8, rate=per,
                   warmup_s=cfg.warmup, seconds=cfg.seconds) for w in range(2)]
    return run_parallel("open", params)


def storm(server: ServerProcess, cfg: argparse.Namespace, tls: tuple[int, dict[str, str]] | None = None) -> Result:
    port, files = tls or (server.port, None)
    params = [dict(host=server.host, port=port, concurrency=16, seconds=cfg.seconds, tls=files) for _ in range(2)]
    return run_parallel("storm", params)


def tls_server(kind: str) -> tuple[ServerProcess, tuple[int, dict[str, str]]]:
    """A server with a secureClientPort (ZooKeeper on its Netty factory, as its TLS needs), certificates made
    for it (a CA, a server and a client certificate; clientAuth need), and the client's files."""
    from tests.certs import Pki
    from tests.procs import free_port

    port = free_port()
    extra = {"maxClientCnxns": "0", "secureClientPort": str(port),
             "serverCnxnFactory": "org.apache.zookeeper.server.NettyServerCnxnFactory"}
    server: ServerProcess = ZooParkProcess(extra=extra) if kind == "zoopark" else BenchZooKeeper(extra=extra)
    pki = Pki.make(server.tmp)
    server.extra.update(pki.server_pem())
    return server, (port, pki.client_files(pki.client, "client"))


class FanOut(Generator):
    def __init__(self) -> None:
        super().__init__(None, 0)
        self.waiting = 0
        self.all_in = None
        self.t_set = 0.0

    def on_reply(self, conn: Conn, latency_s: float, err: int) -> None:
        pass

    def on_event(self, conn: Conn, now: float) -> None:
        self.waiting -= 1
        if self.waiting == 0 and self.all_in is not None and not self.all_in.done():
            self.all_in.set_result(now)


async def _fan_out(host: str, port: int, sessions: int, rounds: int) -> Result:
    gen = FanOut()
    watchers = await open_conns(host, port, sessions, gen)
    writer_gen = Generator(None, 0)
    writer_gen.running = False
    (writer,) = await open_conns(host, port, 1, writer_gen)
    arm = proto.get_data("/bench/w", watch=True)
    setw = proto.set_data("/bench/w", b"y" * 100)
    sync_probe = proto.exists("/bench/w")
    res = Result()
    t0 = time.perf_counter()
    for _ in range(rounds):
        for c in watchers:
            c.send(arm)
        # a cheap round trip on each watcher so that every watch is registered before the write
        for c in watchers:
            c.send(sync_probe)
        await asyncio.sleep(0)
        while any(c.sent for c in watchers):
            await asyncio.sleep(0.001)
        gen.waiting = sessions
        gen.all_in = asyncio.get_running_loop().create_future()
        t_set = time.perf_counter()
        writer.send(setw)
        t_done = await asyncio.wait_for(gen.all_in, 30)
        res.latencies_us.append((t_done - t_set) * 1e6)
        res.ops += sessions
    res.seconds = time.perf_counter() - t0
    for c in [*watchers, writer]:
        c.transport.close()
    return res


def fan_out(server: ServerProcess, cfg: argparse.Namespace) -> Result:
    return asyncio.run(_fan_out(server.host, server.port, cfg.fan_out_sessions, cfg.fan_out_rounds))


def rss_with_nodes(server: ServerProcess, n: int) -> float:
    data = b"x" * 100

    def tpls():
        yield proto.create("/rss", b"")
        for i in range(n):
            yield proto.create(f"/rss/node-{i:08d}", data)
    r = asyncio.run(pipeline(server.host, server.port, tpls(), window=5000))
    assert r.errors == 0
    time.sleep(2)  # let ZooKeeper's JVM settle after the burst (RSS is sampled, not synchronised)
    return rss_mb(server.pid)


def restart_time(server: ServerProcess, n: int) -> tuple[float, float]:
    """Fill the server with n znodes of 100 bytes, stop it (SIGTERM), start it again on the same data: the
    seconds until it serves (srvr shows a Mode) and its RSS afterwards."""
    rss_with_nodes(server, n)
    server.stop()
    t0 = time.monotonic()
    server.start(timeout=600)
    took = time.monotonic() - t0
    time.sleep(2)  # RSS is sampled once the JVM / the snapshot child has settled
    return took, rss_mb(server.pid)


def sessions_row(server: ServerProcess, cfg: argparse.Namespace) -> tuple[Result, float, float]:
    """cfg.sessions sessions, each on its own connection with a data watch on /bench/w, opened as fast as the
    server takes them: the opening (Result: sessions/s, each session's connect + getData time, the server's
    CPU), the server's RSS with all open, and its CPU (cores) over cfg.idle_seconds of pings only."""
    from .scale import Holders

    with Holders(server.host, server.port, cfg.sessions, ["/bench/w"], procs=cfg.holders) as h:
        c0 = cpu_s(server.pid)
        secs, lat, errors = h.open()
        assert errors == 0, f"{errors} of {cfg.sessions} sessions failed to open"
        r = Result(ops=cfg.sessions, seconds=secs, latencies_us=lat)
        r.server_cores = (cpu_s(server.pid) - c0) / secs
        time.sleep(2)  # RSS is sampled once the burst has settled
        mem = rss_mb(server.pid)
        c0, t0 = cpu_s(server.pid), time.monotonic()
        time.sleep(cfg.idle_seconds)
        idle = (cpu_s(server.pid) - c0) / (time.monotonic() - t0)
        alive = int(mntr(server.port).get("zk_num_alive_connections", "0"))
        assert alive >= cfg.sessions, f"only {alive} of {cfg.sessions} sessions outlived the idle window"
    return r, mem, idle


def watches_row(server: ServerProcess, cfg: argparse.Namespace) -> tuple[Result, float, float]:
    """cfg.watches data watches: cfg.watch_sessions sessions, each watching every one of watches / sessions
    znodes (100 bytes each). The setting (Result: watches/s, the server's CPU), the server's RSS with them all
    set, and its RSS before (the znodes alone)."""
    from .scale import Holders

    per = cfg.watches // cfg.watch_sessions
    paths = [f"/scale/n{i:07d}" for i in range(per)]
    data = b"x" * 100
    r = asyncio.run(pipeline(server.host, server.port,
                             [proto.create("/scale", b""), *(proto.create(p, data) for p in paths)], window=5000))
    assert r.errors == 0
    time.sleep(2)
    before = rss_mb(server.pid)
    with Holders(server.host, server.port, cfg.watch_sessions, paths, procs=min(cfg.holders, cfg.watch_sessions)) \
            as h:
        c0 = cpu_s(server.pid)
        secs, _, errors = h.open()
        assert errors == 0, f"{errors} getData(watch) requests or sessions failed"
        r = Result(ops=per * cfg.watch_sessions, seconds=secs)
        r.server_cores = (cpu_s(server.pid) - c0) / secs
        time.sleep(2)
        after = rss_mb(server.pid)
    return r, after, before


def fsync_floor(seconds: float) -> Result:
    """The disk's own floor for a durable write: append 100 bytes and fdatasync, in a loop, in a temp dir on
    the same filesystem the servers use."""
    import os
    import tempfile

    r = Result()
    with tempfile.TemporaryDirectory(prefix="fsync-floor-") as d:
        fd = os.open(os.path.join(d, "f"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            t_end = time.perf_counter() + seconds
            t0 = time.perf_counter()
            for _ in range(10_000_000):
                t = time.perf_counter()
                if t >= t_end:
                    break
                os.write(fd, b"x" * 100)
                os.fdatasync(fd)
                r.latencies_us.append((time.perf_counter() - t) * 1e6)
                r.ops += 1
            r.seconds = time.perf_counter() - t0
        finally:
            os.close(fd)
    return r


def bare_serial(workload: str, seconds: float) -> Result:
    """`workload`@1 against bench.bare (a server doing nothing but read, sync a write, reply), in a fresh temp
    dir on the same filesystem: the machine's own floor for a serial request."""
    import subprocess
    import sys
    import tempfile

    from tests.procs import free_port

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bare-") as d:
        proc = subprocess.Popen([sys.executable, "-m", "bench.bare", str(port), d], cwd=ROOT,
                                stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready", "bench.bare did not start"
            params = [dict(host="127.0.0.1", port=port, workload=workload, warmup_s=0.5, seconds=seconds)]
            return run_parallel("serial", params)
        finally:
            proc.kill()
            proc.wait(timeout=30)


# ---- the runner --------------------------------------------------------------------------------


def run_ensemble(kind: str, workload: str, cfg: argparse.Namespace) -> tuple[Result | float, float]:
    """The 3-server rows: load spread over the members (one worker each), or a leader fail-over."""
    from .ensemble import Ensemble, failover_seconds

    ens = Ensemble(kind).start()
    try:
        if workload == "failover":
            return failover_seconds(ens), 0.0
        setup_fixtures(ens.leader())
        base = workload.split("@")[0]
        params = [dict(host=p.host, port=p.port, workload=base, worker=w, conns=cfg.conns, depth=cfg.depth,
                       warmup_s=cfg.warmup, seconds=cfg.seconds) for w, p in enumerate(ens.members)]
        r = with_cpu([p.pid for p in ens.members], lambda: run_parallel("closed", params))
        return r, sum(rss_mb(p.pid) for p in ens.members)
    finally:
        ens.stop()


def run_one(kind: str, workload: str, cfg: argparse.Namespace) -> tuple[Result | float, float]:
    if workload.endswith("@3") or workload == "failover":
        return run_ensemble(kind, workload, cfg)
    if workload.endswith("@tls"):
        server, tls = tls_server(kind)
        with server:
            setup_fixtures(server)  # over the plain port
            base = workload.split("@")[0]
            r = with_cpu([server.pid], lambda: storm(server, cfg, tls) if base == "connect"
                         else throughput(server, base, cfg, tls))
            return r, rss_mb(server.pid)
    server = ZooParkProcess(extra={"maxClientCnxns": "0"}) if kind == "zoopark" \
        else BenchZooKeeper(extra={"maxClientCnxns": "0"})
    with server:
        if workload == "rss":
            return rss_with_nodes(server, cfg.rss_nodes), 0.0
        if workload == "restart":
            return restart_time(server, cfg.rss_nodes)
        if workload == "watches":
            return watches_row(server, cfg)
        setup_fixtures(server)
        if workload == "sessions":
            return sessions_row(server, cfg)
        if workload == "connect":
            r = with_cpu([server.pid], lambda: storm(server, cfg))
        elif workload == "watch":
            r = with_cpu([server.pid], lambda: fan_out(server, cfg))
        elif workload.endswith("@rate"):
            check_load(server, workload.split("@")[0])
            r = with_cpu([server.pid], lambda: fixed_rate(server, workload.split("@")[0], cfg))
        elif workload.endswith("@1"):  # one client, one request at a time: the latency of a durable write
            check_load(server, workload[:-2])
            params = [dict(host=server.host, port=server.port, workload=workload[:-2], warmup_s=cfg.warmup,
                           seconds=cfg.seconds)]
            r = with_cpu([server.pid], lambda: run_parallel("serial", params))
        else:
            check_load(server, workload)
            r = with_cpu([server.pid], lambda: throughput(server, workload, cfg))
        return r, rss_mb(server.pid)


def beside_floors(runs: list[tuple[str, str, float, float, float]]) -> str:
    """The @1 rows' runs beside what the machine allows: the bare server (bench.bare) and the disk."""
    text = ""
    sets = [r for r in runs if r[0] == "set@1"]
    if sets:
        each = "; ".join(f"{t} {p50:.3f} / {bare:.3f} / {disk:.3f} ({p50 - disk:+.3f}; {p50 - bare:+.3f})"
                         for _, t, p50, bare, disk in sets)
        text += ("\n\nset@1 beside its floors, measured right after each run, p50 ms: run / bare server (bench.bare:"
                 " read, one pwritev2(RWF_DSYNC), reply) / disk (append 100 bytes + fdatasync in a loop, same "
                 f"filesystem) (gap to the disk; the server's own, over the bare server): {each}.")
    gets = [r for r in runs if r[0] == "get@1"]
    if gets:
        each = "; ".join(f"{t} {p50:.3f} / {bare:.3f} ({p50 - bare:+.3f})" for _, t, p50, bare, _ in gets)
        text += ("\n\nget@1 beside the bare server's read round trip, measured right after each run, p50 ms: "
                 f"run / bare (the server's own): {each}.")
    return text


def fmt(x: float) -> str:
    return "nan" if math.isnan(x) else f"{x:,.0f}" if x >= 100 else f"{x:.2f}"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.run")
    ap.add_argument("--quick", action="store_true", help="short runs (about 2 minutes in all)")
    ap.add_argument("--only",
                    default="get,exists,set,create,create+delete,multi,mixed,mixed@rate,set@rate,create@rate,"
                            "set@1,get@1,watch,connect,rss,restart,"
                            "get@3,set@3,mixed@3,failover,get@tls,set@tls,connect@tls,sessions,watches")
    ap.add_argument("--targets", default="zoopark,zk")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--conns", type=int, default=8)
    ap.add_argument("--depth", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--rate", type=float, default=2000.0)
    ap.add_argument("--rss-nodes", type=int, default=1_000_000)
    ap.add_argument("--fan-out-sessions", type=int, default=500)
    ap.add_argument("--fan-out-rounds", type=int, default=20)
    ap.add_argument("--sessions", type=int, default=10_000, help="the sessions row's sessions")
    ap.add_argument("--idle-seconds", type=float, default=10.0, help="the sessions row's idle window")
    ap.add_argument("--watches", type=int, default=1_000_000, help="the watches row's watches")
    ap.add_argument("--watch-sessions", type=int, default=100, help="the sessions that set them")
    ap.add_argument("--holders", type=int, default=4, help="processes holding the scale rows' sessions")
    ap.add_argument("--zk-heap", type=int, default=1000, help="ZooKeeper's -Xmx in MB")
    ap.add_argument("--write-docs", action="store_true")
    cfg = ap.parse_args(argv)
    BenchZooKeeper.heap_mb = cfg.zk_heap
    from .scale import raise_nofile

    raise_nofile(cfg.sessions + 4096)  # the servers started below inherit it
    if cfg.quick:
        cfg.seconds, cfg.warmup, cfg.rounds, cfg.rss_nodes, cfg.fan_out_rounds = 3.0, 1.0, 1, 100_000, 5
        cfg.sessions, cfg.idle_seconds, cfg.watches = min(cfg.sessions, 2000), 5.0, min(cfg.watches, 100_000)
    targets = cfg.targets.split(",")
    rows = []
    # The @1 rows' runs: (row, target, its p50, the bare server's right after, and for set@1 the disk floor's)
    beside_floor: list[tuple[str, str, float, float, float]] = []
    for workload in cfg.only.split(","):
        results: dict[str, list] = {t: [] for t in targets}
        for _ in range(cfg.rounds):
            for t in targets:  # A/B/A/B
                results[t].append(run_one(t, workload, cfg))
                if workload in ("set@1", "get@1"):  # the disk's rate limit moves within minutes: floors per run
                    secs = min(cfg.seconds, 3.0)
                    bare = bare_serial(workload[:-2], secs).percentile_ms(50)
                    disk = fsync_floor(secs).percentile_ms(50) if workload == "set@1" else math.nan
                    beside_floor.append((workload, t, results[t][-1][0].percentile_ms(50), bare, disk))
        rows.append((workload, results))
        print(render([(workload, results)], targets, header=not rows[:-1]), flush=True)
    table = render(rows, targets)
    table += beside_floors(beside_floor)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    text = describe(cfg) + "\n" + table
    (out / f"{stamp}.md").write_text(text)
    print("\n" + text)
    if cfg.write_docs:
        docs = ROOT / "docs" / "benchmarks.md"
        head = docs.read_text().split("<!-- results -->")[0] if docs.exists() else "# Benchmarks\n\n"
        docs.write_text(head + "<!-- results -->\n" + text)


def describe(cfg: argparse.Namespace) -> str:
    return (f"Machine: {platform.machine()}, {cpu_count()} cores, Python {platform.python_version()}. "
            f"Load: {cfg.workers} processes x {cfg.conns} connections x depth {cfg.depth}, {cfg.seconds:g} s "
            f"after {cfg.warmup:g} s warm-up, {cfg.rounds} rounds alternating zoopark / ZooKeeper, fresh "
            f"servers each round, fsync on. Fixed-rate rows (@rate): {cfg.rate:g} req/s open loop. create+delete: each "
            f"connection creates a znode and deletes it, each request an op; multi: check + 2 setData in one "
            f"multi, one op. Watch: "
            f"{cfg.fan_out_sessions} sessions x {cfg.fan_out_rounds} rounds. RSS: {cfg.rss_nodes:,} znodes "
            f"of 100 bytes. Scale: {cfg.sessions:,} sessions (30 s timeout, pinging every 10 s) idle "
            f"{cfg.idle_seconds:g} s; {cfg.watches:,} watches from {cfg.watch_sessions} sessions. ZooKeeper "
            f"-Xmx{cfg.zk_heap}m.\n")


def render(rows, targets, header: bool = True) -> str:
    lines = []
    if header:
        lines.append("| workload | zoopark ops/s | ZooKeeper ops/s | ratio | zoopark p50 / p99 ms | "
                     "ZooKeeper p50 / p99 ms | RSS MB zoopark / ZooKeeper | CPU ms per 1k ops zoopark / ZooKeeper |")
        lines.append("|---|---|---|---|---|---|---|---|")
    for workload, results in rows:
        if workload == "failover":
            zp_s = statistics.mean(r[0] for r in results.get("zoopark", [(float("nan"), 0)]))
            zk_s = statistics.mean(r[0] for r in results.get("zk", [(float("nan"), 0)]))
            lines.append(f"| failover (s, leader SIGKILL to first ack) | {zp_s:.2f} s | {zk_s:.2f} s | "
                         f"{zk_s / zp_s if zp_s else float('nan'):.2f} | | | | |")
            continue
        if workload == "restart":
            zp_s = statistics.mean(r[0] for r in results.get("zoopark", [(float("nan"), 0)]))
            zk_s = statistics.mean(r[0] for r in results.get("zk", [(float("nan"), 0)]))
            zp_m = statistics.mean(r[1] for r in results.get("zoopark", [(0, float("nan"))]))
            zk_m = statistics.mean(r[1] for r in results.get("zk", [(0, float("nan"))]))
            lines.append(f"| restart (s to serving) | {zp_s:.2f} s | {zk_s:.2f} s | "
                         f"{zk_s / zp_s if zp_s else float('nan'):.2f} | | | {fmt(zp_m)} / {fmt(zk_m)} | |")
            continue
        if workload == "sessions":
            lines += render_sessions(results)
            continue
        if workload == "watches":
            lines += render_watches(results)
            continue
        if workload == "rss":
            zp = statistics.mean(r[0] for r in results.get("zoopark", [(float("nan"), 0)]))
            zk = statistics.mean(r[0] for r in results.get("zk", [(float("nan"), 0)]))
            lines.append(f"| rss | | | {zp / zk if zk else float('nan'):.2f} | | | {fmt(zp)} / {fmt(zk)} | |")
            continue
        cells = {}
        for t in ("zoopark", "zk"):
            rs = [r for r, _ in results.get(t, [])]
            if not rs:
                cells[t] = (float("nan"), float("nan"), float("nan"), float("nan"), float("nan"))
                continue
            merged = Result()
            for r in rs:
                merged.merge(r)
            rate = statistics.mean(r.rate for r in rs)
            mem = statistics.mean(m for _, m in results[t])
            cpu = statistics.mean(cpu_per_1k_ms(r) for r in rs)
            cells[t] = (rate, merged.percentile_ms(50), merged.percentile_ms(99), mem, cpu)
        zp, zk = cells["zoopark"], cells["zk"]
        errors = {t: sum(r.errors for r, _ in results.get(t, [])) for t in ("zoopark", "zk")}
        if any(errors.values()):  # counted in ops/s, but a row with failed requests is not a fair comparison
            workload += f" ({errors['zoopark']:,} / {errors['zk']:,} errors)"
        ratio = zp[0] / zk[0] if zk[0] and not math.isnan(zk[0]) else float("nan")
        if workload.endswith("@rate") or workload == "watch":
            ratio = zk[2] / zp[2] if zp[2] else float("nan")  # lower latency is better: ZK p99 / ours
        lines.append(f"| {workload} | {fmt(zp[0])} | {fmt(zk[0])} | {ratio:.2f} | {zp[1]:.2f} / {zp[2]:.2f} | "
                     f"{zk[1]:.2f} / {zk[2]:.2f} | {fmt(zp[3])} / {fmt(zk[3])} | {zp[4]:.1f} / {zk[4]:.1f} |")
    return "\n".join(lines)


def _cells(results, t: str):
    """The mean rate, the merged p50 / p99 ms, the mean of the second and third values, CPU per 1k ops."""
    rows = results.get(t, [])
    if not rows:
        return (float("nan"),) * 7
    merged = Result()
    for r, *_ in rows:
        merged.merge(r)
    return (statistics.mean(r.rate for r, *_ in rows), statistics.mean(r.seconds for r, *_ in rows),
            merged.percentile_ms(50), merged.percentile_ms(99), statistics.mean(x[1] for x in rows),
            statistics.mean(x[2] for x in rows), statistics.mean(cpu_per_1k_ms(x[0]) for x in rows))


def _ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(b) else float("nan")


def render_sessions(results) -> list[str]:
    zp, zk = _cells(results, "zoopark"), _cells(results, "zk")
    n = results[next(iter(results))][0][0].ops
    return [
        f"| sessions: open {n:,}, each with a watch (sessions/s and s to open all; ratio ours / ZK, higher is "
        f"better) | {fmt(zp[0])} ({zp[1]:.2f} s) | {fmt(zk[0])} ({zk[1]:.2f} s) | {_ratio(zp[0], zk[0]):.2f} | "
        f"{zp[2]:.2f} / {zp[3]:.2f} | {zk[2]:.2f} / {zk[3]:.2f} | {fmt(zp[4])} / {fmt(zk[4])} | "
        f"{zp[6]:.1f} / {zk[6]:.1f} |",
        f"| sessions: RSS with all open (MB; ratio ours / ZK, lower is better) | | | {_ratio(zp[4], zk[4]):.2f} | "
        f"| | {fmt(zp[4])} / {fmt(zk[4])} | |",
        f"| sessions: idle, pings only (server CPU ms per s; ratio ZK / ours, higher is better) | "
        f"{zp[5] * 1000:.1f} | {zk[5] * 1000:.1f} | {_ratio(zk[5], zp[5]):.2f} | | | | |",
    ]


def render_watches(results) -> list[str]:
    zp, zk = _cells(results, "zoopark"), _cells(results, "zk")
    n = results[next(iter(results))][0][0].ops
    return [
        f"| watches: set {n:,} (watches/s and s to set all; ratio ours / ZK, higher is better) | "
        f"{fmt(zp[0])} ({zp[1]:.2f} s) | {fmt(zk[0])} ({zk[1]:.2f} s) | {_ratio(zp[0], zk[0]):.2f} | | | "
        f"{fmt(zp[4])} / {fmt(zk[4])} | {zp[6]:.1f} / {zk[6]:.1f} |",
        f"| watches: RSS with all set (MB, the znodes alone in brackets; ratio ours / ZK, lower is better) | | | "
        f"{_ratio(zp[4], zk[4]):.2f} | | | {fmt(zp[4])} ({fmt(zp[5])}) / {fmt(zk[4])} ({fmt(zk[5])}) | |",
    ]


if __name__ == "__main__":
    main()
