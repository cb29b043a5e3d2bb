"""One standalone zoopark server: recovery, the client port, the txn log writer and the clock around a ServerCore.

Everything runs on one asyncio loop (uvloop when available) except the log writer's fsync thread. Each input
goes through `core.step`, and the actions it returns are executed in order: replies are coalesced per
connection and written once per callback; AppendLog entries are handed to the writer, and their `then`
inputs come back into the core only after the fsync.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import time
from pathlib import Path
from time import monotonic_ns

from ..admin import fourlw
from ..config import Config
from ..core.jute.records import TxnHeader
from ..core.server.actions import (
    AppendLog,
    Close,
    Connected,
    Disconnected,
    Frame,
    Log,
    LogFailed,
    LogSynced,
    Send,
    Tick,
)
from ..core.server.core import ServerCore, replay_txn
from ..core.server.sasl import NONCE_BYTES
from ..core.server.settings import CoreSettings
from ..net.client import ClientConnection, ClientHandler, ClientPort, ClientPortSettings
from ..persist import purge
from ..persist.recovery import Recovered, recover
from ..persist.writer import LogWriter
from .clock import now_ms
from .saslconf import sasl_settings
from .snapshotter import Snapshotter, fork_child, write_now

log = logging.getLogger("zoopark.server")
_core_log = logging.getLogger("zoopark.core")
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
_TICK_S = 0.1
# A lone write is synced on the loop thread itself instead of being handed to the log writer's thread and back
# (two thread wake-ups, a good part of a serial write's latency): when one connection alone has sent requests
# for a while, no other write is outstanding, the batch is small and recent syncs were quick. The loop then has
# nobody else to serve while it waits for the disk. With several clients the thread syncs while the loop
# works on and the writes that arrive meanwhile share the next sync (group commit); a slow disk (syncs of a
# millisecond or more lately, on average) does not block the loop.
_SOLO_NS = 10_000_000
_LONE_BATCH_MAX = 8
_INLINE_SYNC_MAX_MS = 1.0


def core_settings(cfg: Config) -> CoreSettings:
    return CoreSettings(
        **sasl_settings(cfg),
        tick_ms=cfg.tick_time_ms,
        min_session_timeout_ms=cfg.min_session_timeout_ms,
        max_session_timeout_ms=cfg.max_session_timeout_ms,
        server_id=0,
        extended_types=cfg.extended_types_enabled,
        super_digest=cfg.super_digest,
        x509_super_user=cfg.x509_super_user,
        container_check_interval_ms=cfg.container_check_interval_ms,
        container_max_per_minute=cfg.container_max_per_minute,
        enforce_quota=cfg.enforce_quota,
        reconfig_enabled=cfg.reconfig_enabled,
    )


async def listen_clients(port: ClientPort, cfg: Config, role: str = "") -> None:
    """Open clientPort (plain, or plain and TLS with client.portUnification) and secureClientPort (TLS) on
    `port`; `role` names an ensemble member's serving role in the log."""
    ctx = None
    if cfg.tls_needed:
        from ..config import tls_settings
        from ..net.tls import server_context

        ctx = server_context(tls_settings(cfg))  # config.py has loaded these stores once already
    unified = cfg.client_port_unification
    as_role = f" as {role}" if role else ""
    if cfg.client_port is not None:
        await port.start(cfg.client_port_address, cfg.client_port, ctx if unified else None, unified)
        log.info("serving clients on %s:%d%s%s", cfg.client_port_address, port.bound_ports()[-1],
                 " (TLS and plain: client.portUnification)" if unified else "", as_role)
    if cfg.secure_client_port is not None:
        await port.start(cfg.secure_client_port_address, cfg.secure_client_port, ctx)
        log.info("serving TLS clients on %s:%d (ssl.clientAuth=%s)%s", cfg.secure_client_port_address,
                 port.bound_ports()[-1], cfg.ssl_client_auth, as_role)


async def autopurge(cfg: Config) -> None:
    """autopurge.purgeInterval: ZooKeeper's DatadirCleanupManager, run off the loop."""
    retain = cfg.autopurge_snap_retain_count
    while True:
        try:
            result = await asyncio.to_thread(purge.purge, cfg.snap_dir, cfg.log_dir, retain)
            log.info("autopurge: kept %d snapshots and %d logs, removed %d files",
                     len(result.kept_snapshots), len(result.kept_logs), len(result.removed))
        except OSError as e:
            log.error("autopurge failed: %s", e)
        await asyncio.sleep(cfg.autopurge_purge_interval_h * 3600.0)


class Server(ClientHandler):
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.core = ServerCore(core_settings(cfg))
        self.port = ClientPort(self, ClientPortSettings(
            max_client_cnxns=cfg.max_client_cnxns,
            jute_max_buffer_bytes=cfg.jute_max_buffer_bytes,
            handshake_timeout_s=cfg.sessionless_cnxn_timeout_ms / 1000,
        ))
        self.writer: LogWriter | None = None
        self.started_at = time.time()
        self._dirty: dict[int, list[bytes]] = {}
        self._batch: list[tuple[int, bytes]] = []
        self._paused = False
        self._thens: list[object] = []
        self._lone = False  # the callback running now may sync inline (see _SOLO_NS)
        self._kick_due = False  # the log writer is woken at the end of this loop turn
        self._solo_conn = 0  # the connection that sent the last requests
        self._solo_since = 0  # monotonic ns: since when it alone has
        self._tick_task: asyncio.Task | None = None
        self._purge_task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.recovered: Recovered | None = None
        self._children: list[int] = []
        self.mode = "standalone"  # srvr's Mode (an ensemble member's roles: runtime/roleport.py)
        self.snapshotter = Snapshotter(
            cfg.snap_dir, cfg.snap_count, cfg.snap_size_limit_kb * 1024, cfg.digest_enabled, fsync=cfg.force_sync)

    # ---- lifecycle ---------------------------------------------------------------------------

    def recover(self) -> Recovered:
        """Load the newest snapshot and replay the txn log after it into a new core."""
        start = time.monotonic()
        rec = recover(
            self.cfg.snap_dir, self.cfg.log_dir,
            lambda tree, sessions, e: replay_txn(tree, sessions, e.hdr, e.record),
            extended_types=self.cfg.extended_types_enabled,
            trust_empty=self.cfg.snapshot_trust_empty,
            verify_digest=self._verify_digest_in_child,
        )
        gc.freeze()  # the loaded tree lives as long as the server: keep it out of every later collection
        self.core = ServerCore(core_settings(self.cfg), rec.tree, rec.sessions)
        self.recovered = rec
        log.info("recovered in %.2f s: snapshot 0x%x, %d txns replayed, last zxid 0x%x, %d znodes, %d sessions",
                 time.monotonic() - start, max(rec.snapshot_zxid, 0), rec.replayed, rec.tree.last_zxid,
                 len(rec.tree.nodes), len(rec.sessions))
        if rec.snapshot_zxid < 0:
            # ZooKeeper's start-up snapshot: from here on a log is never without the snapshot it follows.
            path = write_now(self.cfg.snap_dir, rec.tree, rec.sessions, self.cfg.digest_enabled)
            log.info("wrote the initial snapshot %s", path)
        return rec

    def _verify_digest_in_child(self, tree, zxid_digest: tuple[int, int, int]) -> None:
        """Compare the loaded tree with its snapshot's digest in a forked child: the result is logged, and
        start-up does not wait for a pass over every node."""
        def work() -> int:
            actual = tree.recompute_digest()
            if actual == zxid_digest[2]:
                log.info("tree digest at zxid 0x%x matches the snapshot's", zxid_digest[0])
                return 0
            log.error("tree digest at zxid 0x%x is %d, the snapshot recorded %d: the snapshot does not match "
                      "the history that wrote it", zxid_digest[0], actual, zxid_digest[2])
            return 2
        self._children.append(fork_child(work))

    def _reap_children(self) -> None:
        for pid in list(self._children):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                self._children.remove(pid)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        rec = self.recover()
        self.core.start(now_ms())
        self.writer = LogWriter(
            Path(self.cfg.log_dir),
            prealloc_bytes=self.cfg.pre_alloc_size_bytes,
            force_sync=self.cfg.force_sync,
            notify=self._loop.call_soon_threadsafe,
            on_error=self._log_error,
        )
        if rec.snapshot_zxid >= 0 and rec.replayed:
            self._snapshot()  # as ZooKeeper does at start-up, so the next start replays less
        await self._listen()
        self._tick_task = asyncio.create_task(self._ticker())
        if self.cfg.autopurge_purge_interval_h > 0:
            self._purge_task = asyncio.create_task(autopurge(self.cfg))

    def _snapshot(self) -> None:
        assert self.writer is not None and self._loop is not None
        self.writer.roll()
        pid = self.snapshotter.start(self.core.tree, self.core.sessions)
        try:  # hear of the child's exit at once (the ticker polls too, where pidfd is missing)
            fd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            return
        loop = self._loop

        def exited() -> None:
            loop.remove_reader(fd)
            os.close(fd)
            self.snapshotter.poll()
        loop.add_reader(fd, exited)

    async def _listen(self) -> None:
        await listen_clients(self.port, self.cfg)

    async def stop(self) -> None:
        for task in (self._tick_task, self._purge_task):
            if task is not None:
                task.cancel()
        self.snapshotter.stop()
        await self.port.stop()
        if self.writer is not None:
            self.writer.close()

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(_TICK_S)
            self._step(Tick())
            self.snapshotter.poll()
            if self._children:
                self._reap_children()

    # ---- core in, actions out ----------------------------------------------------------------

    def _step(self, event: object) -> None:
        actions = self.core.step(event, now_ms())
        if actions:
            self._execute(actions)
        self._submit()
        self._flush()

    def _execute(self, actions: list) -> None:
        """Run actions in order. Log appends are gathered and handed to the writer once, at the end: one
        submit per callback however many writes it carried (the writer then groups callbacks per fsync)."""
        for a in actions:
            t = type(a)
            if t is Send:
                q = self._dirty.get(a.conn)
                if q is None:
                    self._dirty[a.conn] = [a.data]
                else:
                    q.append(a.data)
            elif t is AppendLog:
                self._batch.extend(a.entries)
                self._thens.extend(a.then)
            elif t is Close:
                self._flush_one(a.conn)
                conn = self.port.conns.get(a.conn)
                if conn is not None:
                    conn.close(a.reason)
            elif t is Log:
                # Most lines are DEBUG ("established session", one per connect): not enabled, nothing is built.
                level = _LEVELS.get(a.level) or logging.getLevelName(a.level.upper())
                if _core_log.isEnabledFor(level):
                    _core_log.log(level, "%s", a.message, extra={"session": a.session, "zxid": a.zxid})
            else:
                raise AssertionError(f"{a!r} in a standalone server")

    def _throttle(self) -> None:
        """globalOutstandingLimit: stop reading from clients while too many writes wait for the disk."""
        outstanding = len(self.core.proposals)
        if not self._paused and outstanding > self.cfg.global_outstanding_limit:
            self._paused = True
            self.port.pause_all()
        elif self._paused and outstanding <= self.cfg.global_outstanding_limit // 2:
            self._paused = False
            self.port.resume_all()

    def _submit(self) -> None:
        if not self._batch:
            # Nothing appended, so nothing more outstanding: only a paused port may have to resume.
            if self._paused:
                self._throttle()
            return
        self._throttle()
        batch, thens = self._batch, self._thens
        self._batch, self._thens = [], []
        assert self.writer is not None
        writer = self.writer
        lone = (self._lone and len(batch) <= _LONE_BATCH_MAX and len(self.core.proposals) == len(batch)
                and writer.stats.typical_fsync_ms < _INLINE_SYNC_MAX_MS)
        # The thread is woken once per loop turn, after the turn's callbacks have queued their batches: it
        # then syncs them together, and does not contend for the GIL with the callbacks still to run.
        writer.submit(batch, lambda: self._durable(thens), inline=lone, wake=lone)
        if not lone and not self._kick_due:
            self._kick_due = True
            assert self._loop is not None
            self._loop.call_soon(self._kick)
        if self.snapshotter.appended(len(batch), sum([len(e) for _, e in batch])):
            self._snapshot()

    def _kick(self) -> None:
        self._kick_due = False
        assert self.writer is not None
        self.writer.kick()

    def _durable(self, thens: list[object]) -> None:
        # Every `then` so far is a LogSynced, and committing up to the last one commits them all.
        if len(thens) == 1 or all(type(ev) is LogSynced for ev in thens):
            todo = thens[-1:]  # the usual case: a callback's own txns
        else:
            todo = [ev for ev in thens if type(ev) is not LogSynced]
            todo += [ev for ev in thens if type(ev) is LogSynced][-1:]
        for ev in todo:
            actions = self.core.step(ev, now_ms())
            if actions:
                self._execute(actions)
        self._submit()
        self._flush()

    def _log_error(self, exc: BaseException, callbacks: list, generation: int) -> None:
        """Runs on the loop: the core takes back every txn not yet durable, then the writer accepts again (in a
        new generation: nothing submitted before this point is written)."""
        log.error("txn log failure: %s; %d batches were not written", exc, len(callbacks))
        zxid = self._first_unsynced_zxid()
        if zxid is not None:
            self._step(LogFailed(zxid, str(exc)))
        assert self.writer is not None
        self.writer.resume()

    def _first_unsynced_zxid(self) -> int | None:
        props = self.core.proposals
        return props[0].zxid if props else None

    def _flush(self) -> None:
        if not self._dirty:
            return
        conns = self.port.conns
        for conn_id, parts in self._dirty.items():
            conn = conns.get(conn_id)
            if conn is not None:
                conn.write(parts[0] if len(parts) == 1 else b"".join(parts))
        self._dirty.clear()

    def _flush_one(self, conn_id: int) -> None:
        parts = self._dirty.pop(conn_id, None)
        conn = self.port.conns.get(conn_id)
        if parts and conn is not None:
            conn.write(b"".join(parts))

    # ---- ClientHandler -----------------------------------------------------------------------

    def connected(self, conn: ClientConnection) -> None:
        # The SASL nonce: chance is an input to the core (os.urandom, as Java's SecureRandom).
        nonce = os.urandom(NONCE_BYTES) if self.core.sasl_enabled else b""
        # Positional: a compiled class parses keyword arguments the slow way (once per connect).
        self._step(Connected(conn.id, conn.remote_ip, conn.remote_port, nonce, conn.x509_subject))

    def frames(self, conn: ClientConnection, frames: list[bytes]) -> None:
        now = monotonic_ns()
        if conn.id != self._solo_conn:
            self._solo_conn, self._solo_since = conn.id, now
        self._lone = now - self._solo_since > _SOLO_NS
        t = now_ms()
        step = self.core.step
        for f in frames:
            actions = step(Frame(conn.id, f), t)
            if actions:
                self._execute(actions)
        self._submit()
        self._flush()
        self._lone = False

    def disconnected(self, conn: ClientConnection) -> None:
        self._step(Disconnected(conn.id))

    def four_letter(self, cmd: str, conn: ClientConnection) -> str | None:
        return fourlw.answer_on(cmd, self, conn.id, conn.remote_ip)


# A request allocates a few dozen container objects that reference counting frees at once, but hundreds of
# requests in flight keep the collector's count of young objects high: at CPython's default threshold (700) a
# young-generation collection ran every ~130 writes, 5-6 % of a write's CPU. At 20,000 one runs about every
# 10,000 writes and takes about 0.4 ms.
_GC_YOUNG_THRESHOLD = 20_000


def tune_gc() -> None:
    gc.set_threshold(_GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def run_server(cfg: Config) -> None:
    """Run until SIGTERM / SIGINT."""
    tune_gc()
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is a pinned dependency
        pass
    asyncio.run(_main(cfg))


async def _main(cfg: Config) -> None:
    if not cfg.is_standalone:
        from . import dynconfig
        from .member import Member

        dynconfig.write_backup(cfg)  # as QuorumPeerConfig.parse does, before the member starts

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await Member(cfg).run(stop)
        return
    server = Server(cfg)
    await server.start()
    from ..admin.commands import Context
    from .ops import Ops

    ops = Ops(cfg, lambda: Context(server, None, cfg))
    await ops.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down")
    await ops.stop()
    await server.stop()


__all__ = ["Server", "run_server", "TxnHeader"]
