"""An ensemble member: the executor of the member machine (core/member/machine.py) on the loop.

Every decision is the machine's (election, leading / following / observing, read-only mode, which role
serves a connection, what is logged, sent and answered, and when); the seeded simulator (sim/member.py)
drives the same machine. This adapter only carries inputs in and actions out:
- inputs go through one queue (`feed`), each stepped with the wall clock, the actions of each step executed
  before the next input; disk completions come back as inputs too;
- every fenced action carries its role's generation, and one of an ended role is refused here: an ended
  role cannot append to the log, send to a peer, reply to a client or accept a connection;
- the log writer fences by generation as well: each role appends under a writer generation of its own
  (one TurnBatch per machine generation), so what an ended role still had queued is never written.
The links (election port, quorum port: runtime/peerlinks.py), the client port of a role
(runtime/roleport.py) and the disk (runtime/memberdisk.py) are the I/O around it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import time
from collections import deque

from .. import timings
from ..config import Config
from ..core.member.actions import (
    AppendLog,
    ClientClose,
    ClientSend,
    ClosePort,
    Done,
    DropPeer,
    Loaded,
    LogFailed,
    MarkUpdatingEpoch,
    MoveClientPort,
    Note,
    OpenPort,
    PortClosed,
    PortOpened,
    Reload,
    Reloaded,
    RoleFailed,
    SendPeer,
    SendVote,
    Tick,
    Truncate,
    VoteIn,
    WriteConfig,
    WriteEpoch,
    WriteSnapshot,
)
from ..core.member.machine import MemberMachine, MemberSettings
from ..core.zab.leader import Leader
from ..core.zab.learner import Learner
from ..net.client import ClientConnection
from ..net.election import ElectionPort
from ..quorumconfig import last_seen, quorum_config_text, verifier
from . import dynconfig
from .batching import TurnBatch
from .clock import now_ms
from .memberdisk import WINDOW, MemberDisk
from .peerlinks import QuorumLinks
from .roleport import RolePort, ServingView
from .saslconf import quorum_sasl
from .server import autopurge, core_settings
from .snapshotter import Snapshotter

log = logging.getLogger("zoopark.member")
_TICK_S = 0.05
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


class Member:
    def __init__(self, cfg: Config) -> None:
        assert cfg.my_id is not None
        self.cfg = cfg
        self.my_id = cfg.my_id
        self.servers = {s.id: s for s in cfg.servers}
        self.observer = self.servers[self.my_id].observer
        self.started_at = time.time()
        self.disk = MemberDisk(cfg)
        self.machine: MemberMachine | None = None
        self.inbox: deque = deque()
        self._pumping = False
        self._batch: TurnBatch | None = None
        self._batch_gen = -1
        self.replies: dict[int, list[bytes]] = {}
        self._flush_due = False  # a flush of `replies` is scheduled for the end of this loop turn
        self.conns: dict[int, ClientConnection] = {}
        self.conn_ids = itertools.count(1)
        self.port: RolePort | None = None  # the client port of the current (or last) serving role
        self.quorum_tls = None  # sslQuorum: the election and quorum ports' contexts (net.tls.QuorumTls)
        if cfg.ssl_quorum:
            from ..config import quorum_tls_settings
            from ..net.tls import quorum_contexts

            self.quorum_tls = quorum_contexts(quorum_tls_settings(cfg))
        self.quorum_sasl = quorum_sasl(cfg)  # quorum.auth.*: net.quorumsasl.QuorumSasl, or None
        self.links = QuorumLinks(self)
        self.election: ElectionPort | None = None
        self._seen: tuple[str, int] = ("", -1)  # (mode, gen) last logged
        self._looking_since = time.monotonic()
        # (zxid, when a leader logged it), oldest first, for the proposal latency (a deque: taking from the
        # front of a dict costs what was deleted there since it last grew)
        self._proposed_at: deque[tuple[int, float]] = deque()
        self._paused = False
        self.stopped = False
        self.snapshotter = Snapshotter(cfg.snap_dir, cfg.snap_count, cfg.snap_size_limit_kb * 1024, cfg.digest_enabled,
                                       fsync=cfg.force_sync)

    # ---- start-up and shutdown ---------------------------------------------------------------------

    def load(self, settle_marker: bool = True) -> Loaded:
        return self.disk.load(settle_marker)

    def settings(self) -> MemberSettings:
        cfg = self.cfg
        core = dataclasses.replace(core_settings(cfg), server_id=self.my_id,
                                   quorum_config=quorum_config_text(cfg).encode(),
                                   quorum_config_version=cfg.config_version)
        return MemberSettings(tick_ms=cfg.tick_time_ms, init_limit=cfg.init_limit or 10,
                              sync_limit=cfg.sync_limit or 5, window_limit=WINDOW,
                              read_only=cfg.read_only_mode_enabled, reconfig_enabled=cfg.reconfig_enabled,
                              standalone_enabled=cfg.standalone_enabled, core=core,
                              client_address=(cfg.client_port_address, cfg.client_port)
                              if cfg.client_port is not None else None)

    def _election_peers(self) -> dict[int, tuple[str, int]]:
        """The configured members and those of the last configuration seen (QuorumPeer.connectNewPeers)."""
        pending = last_seen(self.cfg)
        members = list(self.cfg.servers) + (list(pending.members) if pending is not None else [])
        return {m.id: (m.host, m.election_port) for m in members if m.id != self.my_id}

    async def run(self, stop: asyncio.Event) -> None:
        loaded = self.load()
        loop = asyncio.get_running_loop()
        self.disk.open_writer(loop.call_soon_threadsafe, self._log_failed)
        voters = frozenset(s.id for s in self.cfg.servers if not s.observer)
        self.machine = MemberMachine(self.my_id, voters, loaded, self.settings(), observer=self.observer,
                                     config=quorum_config_text(self.cfg).encode(), verifier=verifier(self.cfg),
                                     last_seen=last_seen(self.cfg))
        me = self.servers[self.my_id]
        self.election = ElectionPort(self.my_id, (me.host, me.election_port),
                                     self._election_peers(),
                                     lambda sid, n: self.feed(VoteIn(sid, n)), self.quorum_tls, self.quorum_sasl)
        await self.election.start()
        from ..admin.commands import Context
        from .ops import Ops

        ops = Ops(self.cfg, lambda: Context(self.client_server(), self, self.cfg))
        await ops.start()
        ticker = loop.create_task(self._tick())
        purger = loop.create_task(autopurge(self.cfg)) if self.cfg.autopurge_purge_interval_h > 0 else None
        reloader = loop.create_task(self._reload_certs()) if self.quorum_tls is not None \
            and self.cfg.ssl_quorum_reload_cert_files else None
        try:
            self._run_actions(self.machine.start(now_ms()), tick=True)
            self._pump()
            await stop.wait()
        finally:
            self.stopped = True
            ticker.cancel()
            if purger is not None:
                purger.cancel()
            if reloader is not None:
                reloader.cancel()
            self.snapshotter.stop()
            await ops.stop()
            await self.election.stop()
            self.links.close()
            if self.port is not None:
                await self.port.close()
            if self._batch is not None:
                self._batch.end()
            self.disk.close()

    async def _reload_certs(self) -> None:
        """sslQuorumReloadCertFiles: new ssl.quorum.* store files reach new election and quorum connections."""
        from ..config import quorum_tls_settings
        from .certreload import QuorumCertReloader

        await QuorumCertReloader(quorum_tls_settings(self.cfg), self.install_quorum_tls).run()

    def install_quorum_tls(self, contexts) -> None:
        """The contexts every election and quorum connection opened from now on uses; open ones keep theirs."""
        self.quorum_tls = contexts
        if self.election is not None:
            self.election.tls = contexts

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(_TICK_S)
            self.feed(Tick())
            self.snapshotter.poll()

    # ---- inputs ------------------------------------------------------------------------------------

    def feed(self, event: object) -> None:
        self.inbox.append(event)
        self._pump()

    def feed_all(self, events: list) -> None:
        self.inbox.extend(events)
        self._pump()

    def _pump(self) -> None:
        """Step every queued input, each one's actions executed before the next; then flush the replies and
        bring the links in step with the role."""
        if self._pumping or self.machine is None or self.stopped:
            return
        self._pumping = True
        try:
            m = self.machine
            now = now_ms()  # one reading per run of inputs: they arrived together
            while self.inbox:
                event = self.inbox.popleft()
                try:
                    actions = m.step(event, now)
                except Exception:  # noqa: BLE001 - a member never dies of one input: it is logged and dropped
                    log.exception("the member machine failed on %s", type(event).__name__)
                    continue
                self._run_actions(actions, tick=type(event) is Tick)
            self._after()
        finally:
            self._pumping = False

    # ---- actions -----------------------------------------------------------------------------------

    def batch(self) -> TurnBatch:
        """The current role's turn batch (log appends and peer writes), fenced by a writer generation."""
        m = self.machine
        assert m is not None and self.disk.writer is not None
        if self._batch_gen != m.gen or self._batch is None:
            if self._batch is not None:
                self._batch.end()
            self._batch = TurnBatch(asyncio.get_running_loop(), self.disk.writer, self.disk.writer.begin(),
                                    self._pump)
            self._batch_gen = m.gen
        return self._batch

    def _run_actions(self, actions: list, tick: bool = False) -> None:
        m = self.machine
        assert m is not None
        if self._batch is not None and self._batch_gen != m.gen:
            self._batch.end()  # the role is over: nothing it queued is written or sent from now on
            self._batch = None
        gen = m.gen
        voted = False
        for a in actions:
            t = type(a)
            if getattr(a, "gen", gen) != gen:
                continue  # an ended role's action: refused
            if t is ClientSend:
                q = self.replies.get(a.conn)
                if q is None:
                    self.replies[a.conn] = [a.data]
                else:
                    q.append(a.data)
            elif t is SendPeer:
                self.links.send(a.sid, a.packet, gen, m.mode)
            elif t is AppendLog:
                self._append(a)
            elif t is SendVote:
                assert self.election is not None
                self.election.send(a.sid, a.notification)
                voted = True
            elif t is ClientClose:
                self._flush_one(a.conn)
                conn = self.conns.get(a.conn)
                if conn is not None:
                    conn.close(a.reason)
            elif t is WriteEpoch:
                self.disk.write_epoch(a.name, a.epoch)
                self.inbox.extend(Done(gen, item) for item in a.then)
            elif t is MarkUpdatingEpoch:
                self.disk.mark_updating(a.active)
            elif t is WriteSnapshot:
                self.batch().flush()
                self.disk.write_snapshot(m.tree, m.sessions)
                self.inbox.extend(Done(gen, item) for item in a.then)
            elif t is Truncate:
                self.batch().flush()  # TRUNC starts a sync: nothing of this role is queued behind it
                self._reloaded(gen, lambda z=a.zxid: self.disk.truncate(z))
            elif t is Reload:
                self._reloaded(gen, self.disk.reload)
            elif t is DropPeer:
                self.links.drop(a.sid, a.reason)
            elif t is OpenPort:
                asyncio.get_running_loop().create_task(self._open_port(gen, m.mode))
            elif t is ClosePort:
                asyncio.get_running_loop().create_task(self._close_port())
            elif t is WriteConfig:
                self._write_config(a)
            elif t is MoveClientPort:
                # Every later role's port listens there too (RolePort.open reads cfg); the open one moves now.
                self.cfg = dataclasses.replace(self.cfg, client_port=a.port, client_port_address=a.host)
                asyncio.get_running_loop().create_task(self._move_port(a.host, a.port))
            elif t is Note:
                log.log(_LEVELS.get(a.level, logging.INFO), "%s", a.message)
            else:
                raise AssertionError(f"unknown member action {a!r}")
        if voted and tick and self.election is not None:
            self.election.connect_all()  # resending: re-dial whoever we lost (ZooKeeper's connectAll)

    def _write_config(self, a: WriteConfig) -> None:
        """A configuration proposed (the `.next` file) or now active: written as ZooKeeper writes its dynamic
        files (runtime/dynconfig.py); an active one also names the members we dial from now on (quorum and
        election addresses), and whether we observe."""
        text = a.config.text()
        (dynconfig.write_activated if a.activated else dynconfig.write_next)(self.cfg, text)
        if not a.activated:
            return
        servers = {m.id: m for m in a.config.members}
        servers.setdefault(self.my_id, self.servers[self.my_id])  # removed: we still have our own addresses
        self.servers = servers
        self.observer = self.my_id in a.config.observers
        if self.election is not None:
            self.election.peers = {m.id: (m.host, m.election_port) for m in a.config.members if m.id != self.my_id}
        log.info("configuration version %x active:\n%s", a.config.version, text)

    def _append(self, a: AppendLog) -> None:
        gen, then = a.gen, a.then
        if self.machine is not None and self.machine.mode == "LEADING":
            now = time.monotonic()
            self._proposed_at.extend([(zxid, now) for zxid, _ in a.entries])
        batch = self.batch()
        # Queued here, stepped by the batch's after_all: one run of inputs for everything an fsync released.
        batch.append(list(a.entries), lambda: self.inbox.extend([Done(gen, item) for item in then]))
        core = self.machine.core if self.machine is not None else None
        if self.snapshotter.appended(len(a.entries), sum(len(e) for _, e in a.entries)) and core is not None:
            # snapCount: a fuzzy snapshot of the applied state, in a forked child; the log goes on in a new
            # file, so recovery replays from the file holding the snapshot's zxid onwards (as ZooKeeper).
            self.disk.writer.roll()
            self.snapshotter.start(core.tree, core.sessions)

    def _reloaded(self, gen: int, load) -> None:
        """Reload / Truncate: the machine hears `Reloaded` before any other input."""
        m = self.machine
        assert m is not None
        try:
            loaded = load()
        except Exception:  # noqa: BLE001 - a member never exits on its own: it elects with what it has
            log.exception("reloading the database failed; going on with the state in memory (last zxid 0x%x)",
                          m.peer.last_zxid)
            loaded = Loaded(m.tree, m.sessions, m.peer.last_zxid, list(m.peer.window), m.peer.accepted_epoch,
                            m.peer.current_epoch)
        self.inbox.appendleft(Reloaded(gen, loaded))

    async def _open_port(self, gen: int, mode: str) -> None:
        old, self.port = self.port, RolePort(self)
        if old is not None:
            await old.close()
        try:
            await self.port.open(mode)
        except OSError as e:
            log.error("cannot open the client port: %s", e)
            self.feed(RoleFailed(gen, f"the client port cannot be opened: {e}"))
        self.feed(PortOpened(gen))

    async def _move_port(self, host: str, port: int) -> None:
        if self.port is None:
            return
        try:
            await self.port.port.rebind(host, port)
            log.info("client port moved: serving clients on %s:%d", host, port)
        except OSError as e:
            log.error("cannot move the client port to %s:%d: %s", host, port, e)

    async def _close_port(self) -> None:
        if self.port is not None:
            await self.port.close()
        self.feed(PortClosed())

    def _log_failed(self, exc: BaseException, callbacks: list, generation: int) -> None:
        """The writer ended `generation` (nothing unwritten of it was acknowledged): its role ends too."""
        if self._batch is not None and self._batch.generation == generation:
            log.error("txn log write failed: %s; leaving the role", exc)
            self.feed(LogFailed(self._batch_gen, str(exc)))

    # ---- after each run of inputs ------------------------------------------------------------------

    def _after(self) -> None:
        m = self.machine
        assert m is not None
        if self.replies and not self._flush_due:
            # Once per loop turn, as the turn batch writes to peers: a leader's run of inputs is often one
            # ACK, and a write per connection per ACK was a system call per commit.
            self._flush_due = True
            asyncio.get_running_loop().call_soon(self._flush)
        self.links.reconcile(m.mode, m.gen)
        seen = (m.mode, m.gen)
        if seen != self._seen:
            self._role_began(m, seen[0])
            self._seen = seen
        if m.mode == "LEADING" and self._proposed_at:
            self._committed(m)
        self._throttle(m)

    def _role_began(self, m: MemberMachine, mode: str) -> None:
        was = self._seen[0]
        if mode == "LOOKING":
            self._looking_since = time.monotonic()
            self._proposed_at.clear()
        elif was == "LOOKING" and mode != "READ-ONLY":
            timings.ELECTION.observe(time.monotonic() - self._looking_since)
        role = m.peer.role
        if isinstance(role, Learner):
            log.info("%s: leader %d", mode, role.leader)
        elif mode != "LOOKING":
            log.info("%s", mode)

    def _committed(self, m: MemberMachine) -> None:
        """Proposal latency of what has committed since: the oldest proposals first, up to the first still
        outstanding (zxids are logged in order), so each run of inputs costs what it committed."""
        role = m.peer.role
        if not isinstance(role, Leader):
            return
        last, proposed = role.last_committed, self._proposed_at
        now = time.monotonic()
        observe = timings.PROPOSAL.observe
        while proposed:
            zxid, at = proposed[0]
            if zxid > last:
                break
            proposed.popleft()
            observe(now - at)

    def _flush(self) -> None:
        self._flush_due = False
        if not self.replies:
            return
        replies, self.replies = self.replies, {}
        for conn_id, parts in replies.items():
            conn = self.conns.get(conn_id)
            if conn is not None:
                conn.write(parts[0] if len(parts) == 1 else b"".join(parts))

    def _flush_one(self, conn_id: int) -> None:
        parts = self.replies.pop(conn_id, None)
        conn = self.conns.get(conn_id)
        if parts and conn is not None:
            conn.write(b"".join(parts))

    def _throttle(self, m: MemberMachine) -> None:
        """globalOutstandingLimit: stop reading from clients while too many writes are in flight."""
        port = self.port
        if port is None:
            return
        outstanding = len(m.core.proposals) if m.core is not None else 0
        limit = self.cfg.global_outstanding_limit
        if not self._paused and outstanding > limit:
            self._paused = True
            port.port.pause_all()
        elif self._paused and outstanding <= limit // 2:
            self._paused = False
            port.port.resume_all()

    # ---- what the admin server, the four-letter words and the metrics read --------------------------

    @property
    def state(self) -> str:
        m = self.machine
        if m is None or m.mode in ("LOOKING", "READ-ONLY"):
            return "LOOKING"
        return m.mode

    @property
    def leader(self) -> int | None:
        role = self.machine.peer.role if self.machine is not None else None
        if isinstance(role, Learner):
            return role.leader
        return self.my_id if isinstance(role, Leader) else None

    @property
    def leader_run(self) -> LeaderView | None:
        m = self.machine
        if m is None or not isinstance(m.peer.role, Leader):
            return None
        return LeaderView(m)

    def client_server(self) -> ServingView | None:
        """The role serving clients now (leader's, follower's, observer's, read-only), if any."""
        m = self.machine
        if m is None or m.core is None:
            return None
        return ServingView(self, m.core, m.mode, self.port.port if self.port is not None else None)

    def zab_state(self) -> str:
        """ZooKeeper's ZabState: election, discovery, synchronization or broadcast."""
        m = self.machine
        role = m.peer.role if m is not None else None
        if role is None:
            return "election"
        if isinstance(role, Leader):
            return "broadcast" if role.established else "discovery" if not role.current_epoch_persisted else \
                "synchronization"
        if role.phase in ("info", "epoch"):
            return "discovery"
        return "broadcast" if role.phase == "broadcast" else "synchronization"

    def stats(self) -> dict[str, int | str]:
        """mntr's rows of the role (ZooKeeper 3.8's names)."""
        run = self.leader_run
        if run is not None:
            return run.stats()
        role = self.machine.peer.role if self.machine is not None else None
        lr = role if isinstance(role, Learner) else None
        rows: dict[str, int | str] = {
            "zk_peer_state": f"{'observing' if self.observer else 'following'} - "
                             f"{'broadcast' if lr is not None and lr.phase == 'broadcast' else 'synchronization'}",
            "zk_quorum_size": len(self.machine.peer.config.voters) if self.machine is not None else
            sum(1 for s in self.servers.values() if not s.observer),
            "zk_learner_proposal_received_count": lr.proposals_received if lr is not None else 0,
            "zk_learner_commit_received_count": lr.commits_received if lr is not None else 0,
        }
        if self.observer and lr is not None:
            rows["zk_observer_master_id"] = lr.leader
        return rows

    def proposal_sizes(self) -> tuple[int, int, int]:
        run = self.leader_run
        return run.leader.proposal_sizes if run is not None else (0, 0, 0)


class LeaderView:
    """The leading role, as the admin server and mntr see it."""

    def __init__(self, machine: MemberMachine) -> None:
        self.machine = machine
        role = machine.peer.role
        assert isinstance(role, Leader)
        self.leader = role

    def learner_lags(self) -> dict[int, int]:
        """Each synced follower's lag in proposals (observers: 0, they do not ACK)."""
        return {lr.sid: self.leader.lag(lr) for lr in self.leader.learners.values()}

    def stats(self) -> dict[str, int | str]:
        """mntr's leader rows: ZooKeeper 3.8's names, then ours (zk_followers as 3.4 had it, the outstanding
        proposals, the epoch, and how many proposals the furthest-behind follower has yet to ACK)."""
        ld = self.leader
        learners = list(ld.learners.values())
        synced = [lr for lr in learners if lr.phase == "uptodate"]
        last, lo, hi = ld.proposal_sizes
        return {
            "zk_peer_state": "leading - broadcast",
            "zk_learners": len(learners),
            "zk_synced_followers": sum(1 for lr in synced if not lr.observer),
            "zk_synced_non_voting_followers": sum(1 for lr in synced if not lr.observer and lr.sid not in ld.voters),
            "zk_synced_observers": sum(1 for lr in synced if lr.observer),
            "zk_pending_syncs": len(self.machine.pending_syncs),
            "zk_last_proposal_size": last,
            "zk_min_proposal_size": lo,
            "zk_max_proposal_size": hi,
            "zk_proposal_count": ld.proposal_count,
            "zk_quorum_size": len(ld.voters),
            "zk_leader_uptime": max(0, now_ms() - ld.established_ms),
            "zk_followers": sum(1 for lr in learners if lr.sid in ld.voters),
            "zk_outstanding_proposals": len(ld.outstanding),
            "zk_epoch": ld.epoch or 0,
            "zk_max_follower_lag": max((ld.lag(lr) for lr in learners), default=0),
        }
