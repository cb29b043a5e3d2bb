"""An ensemble member: election, then following the leader over the quorum port (ZooKeeper 3.8's protocol),
with the txn log, snapshots and epochs on disk as ZooKeeper keeps them.

Electing with ZooKeeper servers or other members; following a leader (ZooKeeper's or ours) through
discovery, DIFF / TRUNC / SNAP sync and broadcast, every ACK sent only after the fsync, the tree kept current
from COMMITs (or INFORMs, as an observer); serving clients, reads here and writes forwarded to the leader
(REQUEST); leading (runtime/leading.py).
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time

from ..config import Config
from ..core.jute.quorum import PacketType, QuorumPacket
from ..core.jute.txns import decode_txn_entry
from ..core.server.actions import Committed, Forward, Revalidate, Revalidated, SyncDone
from ..core.server.core import ServerCore, replay_txn
from ..core.tree import snapshot as snap
from ..core.zab.actions import (
    Append,
    Deliver,
    EpochPersisted,
    InstallSnapshot,
    PersistEpoch,
    PingReply,
    RoleChanged,
    SnapshotInstalled,
    Synced,
    ToPeer,
    Truncate,
    UpdatingEpoch,
)
from ..core.zab.election import PeerState
from ..core.zab.learner import Learner, LeaveLeader
from ..net.quorum import LeaderLink, connect_leader
from ..persist import epochs
from ..persist.recovery import recover
from ..persist.writer import LogWriter
from ..quorumconfig import quorum_config_text
from .batching import TurnBatch
from .elector import Elector
from .saslconf import quorum_sasl
from .server import Server
from .snapshotter import write_now

log = logging.getLogger("zoopark.member")
_TICK_S = 0.1
_WINDOW = 500  # ZooKeeper's committedLog: the newest txns a leader can send as a DIFF


def _now_ms() -> int:
    return time.monotonic_ns() // 1_000_000


async def _unless_stopped(coro, stop: asyncio.Event):
    """The coroutine's result, or None if `stop` is set first (an election without a quorum never ends)."""
    task = asyncio.ensure_future(coro)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([task, stopper], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    if task.done():
        return task.result()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return None


class Member:
    def __init__(self, cfg: Config) -> None:
        assert cfg.my_id is not None
        self.cfg = cfg
        self.my_id = cfg.my_id
        self.servers = {s.id: s for s in cfg.servers}
        self.observer = self.servers[self.my_id].observer
        self.tree = None
        self.sessions: dict[int, int] = {}
        self.writer: LogWriter | None = None
        self.link: LeaderLink | None = None
        self.learner: Learner | None = None
        self.left: asyncio.Event | None = None
        self.state = "LOOKING"
        self.serving = False
        self.leader: int | None = None
        self.window: list[tuple[int, bytes]] = []
        self.server: Server | None = None
        self.core: ServerCore | None = None
        self.batch: TurnBatch | None = None
        self.ro_server: Server | None = None
        self.leader_run = None  # the LeaderRun while leading
        self._closed = False
        self.quorum_tls = None  # sslQuorum: the election and quorum ports' contexts (net.tls.QuorumTls)
        if cfg.ssl_quorum:
            from ..config import quorum_tls_settings
            from ..net.tls import quorum_contexts

            self.quorum_tls = quorum_contexts(quorum_tls_settings(cfg))
        self.quorum_sasl = quorum_sasl(cfg)  # quorum.auth.*: net.quorumsasl.QuorumSasl, or None

    # ---- start-up ----------------------------------------------------------------------------------

    def load(self, settle_marker: bool = True) -> None:
        window: list[tuple[int, bytes]] = []

        def apply(tree, sessions, e) -> None:
            replay_txn(tree, sessions, e.hdr, e.record)
            window.append((e.zxid, e.raw))
            if len(window) > 2 * _WINDOW:
                del window[:-_WINDOW]
        rec = recover(self.cfg.snap_dir, self.cfg.log_dir, apply,
                      extended_types=self.cfg.extended_types_enabled, trust_empty=self.cfg.snapshot_trust_empty)
        self.window = window[-_WINDOW:]
        self.tree, self.sessions = rec.tree, rec.sessions
        if rec.snapshot_zxid < 0:  # ZooKeeper's first snapshot already holds /zookeeper/config
            rec.tree.init_config_node(quorum_config_text(self.cfg).encode(), self.cfg.config_version,
                                      time.time_ns() // 1_000_000)
            write_now(self.cfg.snap_dir, rec.tree, rec.sessions, self.cfg.digest_enabled)
        self.accepted, self.current = epochs.load_epochs(self.cfg.snap_dir, self.tree.last_zxid, settle_marker)
        log.info("loaded: last zxid 0x%x, accepted epoch %d, current epoch %d, %d znodes", self.tree.last_zxid,
                 self.accepted, self.current, len(self.tree.nodes))

    async def run(self, stop: asyncio.Event) -> None:
        self.load()
        loop = asyncio.get_running_loop()
        self.writer = LogWriter(self.cfg.log_dir, self.cfg.pre_alloc_size_bytes, self.cfg.force_sync,
                                loop.call_soon_threadsafe, self._log_failed)
        elector = Elector(self.my_id, list(self.cfg.servers), quorum_config_text(self.cfg), self.quorum_tls,
                          self.quorum_sasl)
        await elector.start()
        from ..admin.commands import Context
        from .ops import Ops

        ops = Ops(self.cfg, lambda: Context(self.client_server(), self, self.cfg))
        await ops.start()
        try:
            while not stop.is_set():
                self.state, self.serving = "LOOKING", False
                read_only = asyncio.create_task(self._read_only()) if self.cfg.read_only_mode_enabled else None
                try:
                    d = await _unless_stopped(elector.elect(self.tree.last_zxid, self.current), stop)
                    if d is None:
                        break
                finally:
                    if read_only is not None:
                        read_only.cancel()
                        await asyncio.gather(read_only, return_exceptions=True)
                        await self._stop_read_only()
                try:
                    await self._play(d, stop)
                except Exception:  # noqa: BLE001 - a member never exits on its own: the role ends, it elects
                    log.exception("the %s role failed; electing again", self.state)
                elector.election.set_state(PeerState.LOOKING)
                if not stop.is_set():
                    self._reload_or_keep()
        finally:
            await ops.stop()
            await elector.stop()
            if self.link is not None:
                self.link.close("shutting down")
            self.writer.close()

    async def _play(self, d, stop: asyncio.Event) -> None:
        """The role the election gave us, until it ends."""
        if d.state == PeerState.LEADING:
            from .leading import LeaderRun

            self.state = "LEADING"
            self.leader = self.my_id
            self.leader_run = LeaderRun(self, stop)
            try:
                reason = await self.leader_run.run()
            finally:
                self.leader_run.end("the role is over")
                self.leader_run = None
            log.info("no longer leading: %s", reason)
        else:
            self.state = "OBSERVING" if self.observer else "FOLLOWING"
            await self.follow(d.vote.leader, stop)

    # ---- following ---------------------------------------------------------------------------------

    async def follow(self, leader: int, stop: asyncio.Event) -> None:
        spec = self.servers[leader]
        me = self.servers[self.my_id]
        self.leader = leader
        self.left = asyncio.Event()
        self.learner = None  # until connected: the ticker has nothing to time out before then
        ticker = asyncio.create_task(self._tick())
        stopper = asyncio.create_task(stop.wait())
        try:
            for attempt in range(50):
                try:
                    self.link = await connect_leader(spec.host, spec.quorum_port, me.host, self._on_item,
                                                     self._on_lost, tls=self.quorum_tls,
                                                     sasl=self.quorum_sasl)
                except ConnectionError as e:
                    log.warning("%s", e)
                    return
                log.info("%s leader %d at %s:%d", "observing" if self.observer else "following", leader, spec.host,
                         spec.quorum_port)
                self._closed = False
                dialled = time.monotonic()
                last = self.tree.last_zxid
                self._begin_role()
                learner = self.learner = Learner(self.my_id, leader, self.accepted, self.current, last, last,
                                                 self.cfg.tick_time_ms, self.cfg.init_limit or 10,
                                                 self.cfg.sync_limit or 5, observer=self.observer)
                self._execute(self._guard(lambda lr=learner: lr.start(_now_ms())))
                await asyncio.wait([asyncio.create_task(self.left.wait()), stopper],
                                   return_when=asyncio.FIRST_COMPLETED)
                # Closed at once, before the leader said a word (LEADERINFO): it was not listening yet behind
                # whatever accepted our connection (a proxy, a load balancer). Dial again, as for a refused
                # connect. A leader that stays silent is a dead leader: elect.
                quick_close = self._closed and time.monotonic() - dialled < 1.0
                if stop.is_set() or learner.phase != "info" or not quick_close or attempt == 49:
                    break
                self.left.clear()
                self.learner = None
                await asyncio.sleep(0.1)
        finally:
            ticker.cancel()
            stopper.cancel()
            self._end_role()
            if self.link is not None:
                self.link.close("leaving the leader")
            self.link, self.learner, self.serving = None, None, False
            await self._stop_clients()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(_TICK_S)
            if self.learner is not None:
                self._execute(self._guard(lambda: self.learner.tick(_now_ms())))

    def _guard(self, fn) -> list:
        try:
            return fn()
        except LeaveLeader as e:
            self._leave(str(e))
            return []

    def _leave(self, reason: str) -> None:
        log.warning("stopped following leader %s: %s", self.leader, reason)
        self._end_role()  # at once: nothing of this role is logged, sent or served from here on
        if self.left is not None:
            self.left.set()

    # ---- role generations: the fence ---------------------------------------------------------------

    def _begin_role(self) -> None:
        """A role (one connection to a leader) begins: a new log generation; everything it logs, sends and
        serves goes through `self.batch`, which is fenced by it (runtime/batching.py)."""
        assert self.writer is not None
        self.batch = TurnBatch(asyncio.get_running_loop(), self.writer, self.writer.begin())

    def _end_role(self) -> None:
        if self.batch is not None:
            self.batch.end()

    def _role_live(self) -> bool:
        return self.batch is not None and self.batch.live

    def _on_item(self, item) -> None:
        if isinstance(item, QuorumPacket) and item.type == PacketType.SYNC:
            if self.server is not None:
                self.server._step(SyncDone())
            return
        if isinstance(item, QuorumPacket) and item.type == PacketType.REVALIDATE:
            data = item.data or b""
            if self.server is not None and len(data) >= 9:
                session, valid = struct.unpack_from(">q?", data, 0)
                self.server._step(Revalidated(session, valid))
            return
        if self.learner is not None:
            self._execute(self._guard(lambda: self.learner.on_packet(item, _now_ms())))

    def _on_lost(self, reason: str) -> None:
        self._closed = True
        self._leave(reason)

    # ---- actions -----------------------------------------------------------------------------------

    def _execute(self, actions: list) -> None:
        if not self._role_live():
            return  # an ended role's actions: never executed (its generation is fenced)
        for a in actions:
            t = type(a)
            if t is ToPeer:
                if self.link is not None:
                    self.link.send(a.packet)
            elif t is PingReply:
                self._send(QuorumPacket(PacketType.PING, a.zxid, self._touches()))
            elif t is Append:
                assert self.batch is not None
                then = a.then
                self.batch.append(list(a.entries), lambda then=then: self._then(then))
                if self.core is not None and a.entries:
                    self.core.proposal_seen(a.entries[-1][0])
            elif t is PersistEpoch:
                epochs.write_epoch(self.cfg.snap_dir, a.name, a.epoch)
                if a.name == epochs.ACCEPTED:
                    self.accepted = a.epoch
                else:
                    self.current = a.epoch
                self._then(a.then)
            elif t is UpdatingEpoch:
                epochs.mark_updating(self.cfg.snap_dir, a.active)
            elif t is Deliver:
                hdr, record = decode_txn_entry(a.txn)
                if self.server is not None and self.core is not None:
                    self.server._step(Committed(hdr, record))
                else:
                    replay_txn(self.tree, self.sessions, hdr, record)
                self.window.append((a.zxid, a.txn))
                if len(self.window) > 2 * _WINDOW:
                    del self.window[:-_WINDOW]
            elif t is InstallSnapshot:
                got = snap.deserialize_body(a.raw, self.cfg.extended_types_enabled)
                got.tree.last_zxid = a.zxid
                self.tree, self.sessions = got.tree, got.sessions
                path = write_now(self.cfg.snap_dir, self.tree, self.sessions, self.cfg.digest_enabled)
                assert self.writer is not None
                self.writer.roll()
                log.info("installed the leader's snapshot at zxid 0x%x (%d znodes) as %s", a.zxid,
                         len(self.tree.nodes), path.name)
                self._then(a.then)
            elif t is Truncate:
                self._truncate(a.zxid)
            elif t is RoleChanged:
                if a.serving:
                    self.serving = True
                    log.info("following leader %d in epoch %s: synced and serving (zxid 0x%x)", a.leader,
                             a.epoch, self.tree.last_zxid)
                    self._serve_clients()

    def _then(self, items: tuple) -> None:
        learner = self.learner
        for ev in items:
            if isinstance(ev, (Synced, EpochPersisted, SnapshotInstalled)):
                if learner is None or learner is not self.learner:
                    continue
                if isinstance(ev, Synced):
                    self._execute(self._guard(lambda ev=ev: learner.on_synced(ev.zxid)))
                elif isinstance(ev, EpochPersisted):
                    self._execute(self._guard(lambda ev=ev: learner.on_epoch_persisted(ev)))
            else:
                self._execute([ev])

    def _reload(self) -> None:
        """Out of a role, the state is the log again (ZooKeeper reloads its database): txns we logged but never
        saw committed are part of it, so the next leader hears our true last zxid and truncates what it must."""
        assert self.writer is not None
        self.writer.drain()  # the role's generation has ended: what it queued is dropped, not written
        self.load()

    def _reload_or_keep(self) -> None:
        """A member never exits on its own: if the reload fails, it elects with the state it has."""
        try:
            self._reload()
        except Exception:  # noqa: BLE001 - logged; the disk is looked at again after the next role
            log.exception("reloading the database failed; electing with the state in memory (last zxid 0x%x)",
                          self.tree.last_zxid)

    def _serve_clients(self) -> None:
        """Synced with the leader: serve clients, reads here, writes through the leader. The core exists
        from now on (commits go to it); the port opens in the background."""
        if self.server is not None:
            return
        server = self.server = Server.replica(self.cfg, self.tree, self.sessions,
                                              "observer" if self.observer else "follower",
                                              on_forward=self._forward)
        self.core = server.core
        self.core.become_follower()
        server.fence = self._role_live
        server.ensemble_stats = self.stats
        asyncio.get_running_loop().create_task(self._open(server))

    async def _open(self, server: Server) -> None:
        await server.open_port()
        if self.server is not server:  # the role ended while the port was opening: close it again
            await server.close_port()

    # ---- for the admin server ----------------------------------------------------------------------

    def client_server(self) -> Server | None:
        """The client-facing server of the current role (leader's, follower's, read-only), if any."""
        if self.leader_run is not None:
            return self.leader_run.server
        return self.server or self.ro_server

    def zab_state(self) -> str:
        """ZooKeeper's ZabState: election, discovery, synchronization or broadcast."""
        if self.state == "LOOKING":
            return "election"
        if self.leader_run is not None:
            ld = self.leader_run.leader
            return "broadcast" if ld.established else "discovery" if not ld.current_epoch_persisted else \
                "synchronization"
        lr = self.learner
        if lr is None or lr.phase in ("info", "epoch"):
            return "discovery"
        return "broadcast" if lr.phase == "broadcast" else "synchronization"

    # ---- read-only mode ----------------------------------------------------------------------------

    async def _read_only(self) -> None:
        """readonlymode.enabled: after max(2 s, tickTime) without a leader, serve read-only clients from what
        is on disk (ZooKeeper's ReadOnlyZooKeeperServer), until the next role begins."""
        await asyncio.sleep(max(2000, self.cfg.tick_time_ms) / 1000)
        server = self.ro_server = Server.replica(self.cfg, self.tree, {}, "read-only")
        server.core.become_read_only()
        server.fence = lambda: self.ro_server is server  # read-only mode ends the moment a role begins
        await server.open_port()
        log.warning("no quorum: serving read-only clients at zxid 0x%x", self.tree.last_zxid)

    async def _stop_read_only(self) -> None:
        server, self.ro_server = self.ro_server, None
        if server is None:
            return
        await server.close_port()
        for sid in list(server.core.sessions.sessions):  # local sessions: their watches go with them
            server.core.tree.remove_session_watches(sid)
        log.info("read-only mode ended")

    def stats(self) -> dict[str, int | str]:
        """mntr's rows of a follower or an observer (ZooKeeper 3.8's names)."""
        lr = self.learner
        rows: dict[str, int | str] = {
            "zk_peer_state": f"{'observing' if self.observer else 'following'} - "
                             f"{'broadcast' if lr is not None and lr.phase == 'broadcast' else 'synchronization'}",
            "zk_quorum_size": sum(1 for s in self.servers.values() if not s.observer),
            "zk_learner_proposal_received_count": lr.proposals_received if lr is not None else 0,
            "zk_learner_commit_received_count": lr.commits_received if lr is not None else 0,
        }
        if self.observer and self.leader is not None:
            rows["zk_observer_master_id"] = self.leader
        return rows

    async def _stop_clients(self) -> None:
        """Not following any more: ZooKeeper drops every client connection; so do we."""
        server, core = self.server, self.core
        self.server, self.core = None, None
        if server is not None:
            await server.close_port()
        if core is not None:
            self.tree = core.tree
            self.sessions = {sid: s.timeout_ms for sid, s in core.sessions.sessions.items()}

    def _forward(self, f: Forward | Revalidate) -> None:
        if isinstance(f, Revalidate):
            self._send(QuorumPacket(PacketType.REVALIDATE, -1, struct.pack(">qi", f.session, f.timeout_ms)))
        else:
            data = struct.pack(">qii", f.session, f.cxid, f.op) + f.body
            self._send(QuorumPacket(PacketType.REQUEST, 0, data, tuple(f.auth) or None))

    def _send(self, packet: QuorumPacket) -> None:
        link = self.link
        if link is not None and not link.closed and link.transport is not None and self.batch is not None:
            self.batch.write(link.transport, packet.encode())

    def _touches(self) -> bytes:
        """The sessions of our clients, for the leader's session tracker (a PING reply's payload)."""
        if self.core is None:
            return b""
        return b"".join(struct.pack(">qi", sid, timeout) for sid, timeout in self.core.take_touches())

    def _truncate(self, zxid: int) -> None:
        """TRUNC: cut the log after `zxid` and rebuild the tree from what is left."""
        assert self.writer is not None and self.batch is not None
        self.batch.flush()  # TRUNC comes at the start of a sync: nothing of this role is queued behind it
        self.writer.truncate(zxid)
        log.warning("truncated the txn log after zxid 0x%x at the leader's request", zxid)
        # The sync this TRUNC begins has raised the updatingEpoch marker; its txns (of an epoch possibly
        # newer than currentEpoch) come next, so the marker must outlive this reload.
        self.load(settle_marker=False)

    def _log_failed(self, exc: BaseException, callbacks: list, generation: int) -> None:
        """The writer ended `generation` (nothing unwritten of it was acknowledged): its role ends too; the
        next role logs under a new generation, in a new file."""
        run = self.leader_run
        if run is not None and run.batch.generation == generation:
            log.error("txn log write failed: %s; leaving LEADING", exc)
            run.end(f"log write failed: {exc}")
        elif self.batch is not None and self.batch.generation == generation:
            log.error("txn log write failed: %s; leaving the leader", exc)
            self._leave(f"log write failed: {exc}")
