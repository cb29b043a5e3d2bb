"""One standalone zoopark server: recovery, the client port, the txn log writer and the clock around a ServerCore.

Everything runs on one asyncio loop (uvloop when available) except the log writer's fsync thread. Each input
goes through `core.step`, and the actions it returns are executed in order: replies are coalesced per
connection and written once per callback; AppendLog entries are handed to the writer, and their `then`
inputs come back into the core only after the fsync.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from pathlib import Path

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
from ..core.server.core import ServerCore
from ..core.server.settings import CoreSettings
from ..net.client import ClientConnection, ClientHandler, ClientPort, ClientPortSettings
from ..persist import txnlog
from ..persist.writer import LogWriter

log = logging.getLogger("zoopark.server")
_core_log = logging.getLogger("zoopark.core")
_TICK_S = 0.1


def core_settings(cfg: Config) -> CoreSettings:
    return CoreSettings(
        tick_ms=cfg.tick_time_ms,
        min_session_timeout_ms=cfg.min_session_timeout_ms,
        max_session_timeout_ms=cfg.max_session_timeout_ms,
        server_id=0,
        extended_types=cfg.extended_types_enabled,
        super_digest=cfg.super_digest,
        container_check_interval_ms=cfg.container_check_interval_ms,
        container_max_per_minute=cfg.container_max_per_minute,
    )


def now_ms() -> int:
    return time.time_ns() // 1_000_000


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
        self._tick_task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # ---- lifecycle ---------------------------------------------------------------------------

    def recover(self) -> int:
        """Replay the txn log into the core; returns the number of txns replayed."""
        log_dir = Path(self.cfg.log_dir)
        log_dir.mkdir(parents=True, exist_ok=True)
        for warning in txnlog.truncate_torn_tail(log_dir):
            log.warning("%s", warning)
        n = 0
        for entry in txnlog.iter_entries(log_dir):
            self.core.replay(entry.hdr, entry.record)
            n += 1
        return n

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        replayed = self.recover()
        self.core.start(now_ms())
        log.info("recovered %d txns, last zxid 0x%x, %d sessions", replayed, self.core.tree.last_zxid,
                 len(self.core.sessions))
        self.writer = LogWriter(
            Path(self.cfg.log_dir),
            prealloc_bytes=self.cfg.pre_alloc_size_bytes,
            force_sync=self.cfg.force_sync,
            notify=self._loop.call_soon_threadsafe,
            on_error=self._log_error,
        )
        host = self.cfg.client_port_address
        await self.port.start(host, self.cfg.client_port)
        log.info("serving clients on %s:%d", host, self.port.bound_port())
        self._tick_task = asyncio.create_task(self._ticker())

    async def stop(self) -> None:
        if self._tick_task is not None:
            self._tick_task.cancel()
        await self.port.stop()
        if self.writer is not None:
            self.writer.close()

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(_TICK_S)
            self._step(Tick())

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
                _core_log.log(logging.getLevelName(a.level.upper()), "%s", a.message)

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
        self._throttle()
        if not self._batch:
            return
        batch, thens = self._batch, self._thens
        self._batch, self._thens = [], []
        assert self.writer is not None
        self.writer.submit(batch, lambda: self._durable(thens))

    def _durable(self, thens: list[object]) -> None:
        # Every `then` so far is a LogSynced, and committing up to the last one commits them all.
        synced = [ev for ev in thens if type(ev) is LogSynced]
        others = [ev for ev in thens if type(ev) is not LogSynced]
        for ev in [*others, *synced[-1:]]:
            actions = self.core.step(ev, now_ms())
            if actions:
                self._execute(actions)
        self._submit()
        self._flush()

    def _log_error(self, exc: BaseException, callbacks: list) -> None:
        """Runs on the loop: the core takes back every txn not yet durable, then the writer accepts again."""
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
        self._step(Connected(conn.id, conn.remote_ip, conn.remote_port))

    def frames(self, conn: ClientConnection, frames: list[bytes]) -> None:
        t = now_ms()
        step = self.core.step
        for f in frames:
            actions = step(Frame(conn.id, f), t)
            if actions:
                self._execute(actions)
        self._submit()
        self._flush()

    def disconnected(self, conn: ClientConnection) -> None:
        self._step(Disconnected(conn.id))

    def four_letter(self, cmd: str, conn: ClientConnection) -> str | None:
        if cmd not in fourlw.KNOWN:
            return None
        c = self.core.conns.get(conn.id)
        if c is not None:  # ZooKeeper counts the command as a packet received
            c.stats.recved += 1
            self.core.stats.packets_received += 1
        return fourlw.answer(cmd, self, conn.remote_ip)


def run_server(cfg: Config) -> None:
    """Run until SIGTERM / SIGINT."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is a pinned dependency
        pass
    asyncio.run(_main(cfg))


async def _main(cfg: Config) -> None:
    server = Server(cfg)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down")
    await server.stop()


__all__ = ["Server", "run_server", "TxnHeader"]
