"""Leading an ensemble: the ZAB leader over the quorum port, and the client port served by a ServerCore whose
writes the leader orders. Learners (zoopark's or ZooKeeper 3.8's) connect to our quorum port; the requests
they forward for their clients (REQUEST), their session touches (PING) and revalidations (REVALIDATE) are
answered here."""

from __future__ import annotations

import asyncio
import logging
import struct
import time

from .. import timings
from ..core.jute.constants import OpCode
from ..core.jute.io import encode_string
from ..core.jute.quorum import (
    SNAP_SIGNATURE,
    LearnerInfo,
    PacketType,
    QuorumPacket,
    QuorumStreamDecoder,
    QuorumWireError,
)
from ..core.jute.txns import decode_txn_entry
from ..core.server.actions import Propose, Remote, Touch
from ..core.server.core import ServerCore, replay_txn
from ..core.tree import snapshot as snap
from ..core.zab.actions import (
    Append,
    ClosePeer,
    Deliver,
    EpochPersisted,
    PersistEpoch,
    RoleChanged,
    Synced,
    ToPeer,
)
from ..core.zab.leader import Leader, StepDown
from ..net import peertls, quorumsasl
from ..persist import epochs
from .batching import TurnBatch
from .server import Server

log = logging.getLogger("zoopark.leader")
_TICK_S = 0.05
_SESSION = struct.Struct(">qi")


def _now_ms() -> int:
    return time.monotonic_ns() // 1_000_000


class _LearnerLink(asyncio.Protocol):
    def __init__(self, run: LeaderRun) -> None:
        self.run = run
        self.sid: int | None = None
        self.decoder = QuorumStreamDecoder()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            items = self.decoder.feed(data)
        except QuorumWireError as e:
            log.warning("learner %s: %s; closing", self.sid, e)
            self.close()
            return
        for p in items:
            if isinstance(p, QuorumPacket):
                self.run.on_packet(self, p)

    def send(self, item) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if isinstance(item, tuple):  # a SNAP's database, then the signature
            data = item[1] + encode_string(SNAP_SIGNATURE)
        else:
            data = item.encode()
        self.run.batch.write(self.transport, data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc) -> None:  # type: ignore[override]
        self.run.on_lost(self)


class LeaderRun:
    def __init__(self, member, stop: asyncio.Event) -> None:
        self.m = member
        self.stop = stop
        cfg = member.cfg
        self.links: dict[int, _LearnerLink] = {}
        self.server: Server | None = None
        self.core: ServerCore | None = None
        self.ended = asyncio.Event()
        self.reason = ""
        self.pending_syncs: list[tuple[int, int]] = []  # (zxid, learner): SYNC once zxid has committed
        self.proposed_at: dict[int, float] = {}  # zxid -> when proposed (proposal latency)
        # This role's log generation fences everything it does (runtime/batching.py): once it has ended, the
        # log refuses its appends, and no packet, reply or commit of it goes out.
        self.batch = TurnBatch(asyncio.get_event_loop(), member.writer, member.writer.begin())
        self.leader = Leader(
            member.my_id, frozenset(s.id for s in cfg.servers if not s.observer), member.accepted, member.current,
            member.tree.last_zxid, list(member.window), self._snapshot, member.tree.last_zxid, cfg.tick_time_ms,
            cfg.init_limit or 10, cfg.sync_limit or 5)

    def _snapshot(self) -> tuple[int, bytes]:
        tree = self.core.tree if self.core is not None else self.m.tree
        sessions = ({sid: s.timeout_ms for sid, s in self.core.sessions.sessions.items()} if self.core is not None
                    else self.m.sessions)
        return tree.last_zxid, snap.serialize_body(tree, sessions)

    async def run(self) -> str:
        me = self.m.servers[self.m.my_id]
        loop = asyncio.get_running_loop()
        learners = quorumsasl.accepting(lambda: _LearnerLink(self), self.m.quorum_sasl, "quorum port")
        listener = await peertls.listen(loop, learners, me.host, me.quorum_port, self.m.quorum_tls, "quorum port")
        log.info("LEADING: listening for learners on %s:%d", me.host, me.quorum_port)
        self._execute(self._guard(lambda: self.leader.start(_now_ms())))
        ticker = asyncio.create_task(self._tick())
        stopper = asyncio.create_task(self.stop.wait())
        try:
            await asyncio.wait([asyncio.create_task(self.ended.wait()), stopper], return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.batch.end()
            ticker.cancel()
            stopper.cancel()
            listener.close()
            for link in list(self.links.values()):
                link.close()
            if self.server is not None:
                await self.server.close_port()
            if self.core is not None:  # what we served becomes the member's state again
                self.m.tree = self.core.tree
                self.m.sessions = {sid: s.timeout_ms for sid, s in self.core.sessions.sessions.items()}
        return self.reason or "stopped"

    # ---- learners ------------------------------------------------------------------------------

    def on_packet(self, link: _LearnerLink, p: QuorumPacket) -> None:
        now = _now_ms()
        if link.sid is None:
            if p.type not in (PacketType.FOLLOWERINFO, PacketType.OBSERVERINFO):
                link.close()
                return
            try:
                link.sid = LearnerInfo.decode(p.data or b"").server_id
            except Exception:  # noqa: BLE001 - not a learner: drop it
                link.close()
                return
            old = self.links.get(link.sid)
            if old is not None and old is not link:
                old.sid = None
                old.close()
            self.links[link.sid] = link
        sid = link.sid
        t = p.type
        if t == PacketType.REQUEST:
            self._request(sid, p)
        elif t == PacketType.REVALIDATE:
            self._revalidate(link, p)
        elif t == PacketType.PING and self.core is not None and p.data:
            touches = tuple(_SESSION.unpack_from(p.data, i) for i in range(0, len(p.data) - 11, 12))
            self.core.step(Touch(touches), now)
        self._execute(self._guard(lambda: self.leader.on_packet(sid, p, now)))

    def on_lost(self, link: _LearnerLink) -> None:
        if link.sid is not None and self.links.get(link.sid) is link:
            del self.links[link.sid]
            self._execute(self._guard(lambda: self.leader.on_disconnected(link.sid)))

    def _request(self, sid: int, p: QuorumPacket) -> None:
        data = p.data or b""
        if self.core is None or self.server is None or len(data) < 16:
            return
        session, cxid, op = struct.unpack_from(">qii", data, 0)
        if op == OpCode.SYNC:  # answered once everything proposed before it has committed
            self._sync_after(sid, self.leader.last_zxid)
            return
        self.server._execute(self.core.step(Remote(session, cxid, op, data[16:], tuple(p.authinfo or ()), sid),
                                            _now_ms()))
        self.server._flush()

    def _sync_after(self, sid: int, zxid: int) -> None:
        self.pending_syncs.append((zxid, sid))
        self._release_syncs()

    def _release_syncs(self) -> None:
        keep = []
        for zxid, sid in self.pending_syncs:
            if zxid <= self.leader.last_committed:
                link = self.links.get(sid)
                if link is not None:
                    link.send(QuorumPacket(PacketType.SYNC, 0))
            else:
                keep.append((zxid, sid))
        self.pending_syncs = keep

    def _revalidate(self, link: _LearnerLink, p: QuorumPacket) -> None:
        data = p.data or b""
        if len(data) < 12:
            return
        session, _timeout = _SESSION.unpack_from(data, 0)
        # established (learners revalidate only once they are, too); the learner owns the session from now on
        valid = self.core is not None and link.sid is not None and self.core.revalidate(session, link.sid)
        link.send(QuorumPacket(PacketType.REVALIDATE, p.zxid, struct.pack(">q?", session, valid)))

    # ---- actions -------------------------------------------------------------------------------

    def _guard(self, fn) -> list:
        try:
            return fn()
        except StepDown as e:
            self.end(str(e))
            return []

    def end(self, reason: str) -> None:
        """The role is over (stepped down, the log failed, stopping): fenced at once, so the tasks that run
        until run() notices do nothing any more."""
        self.batch.end()
        if not self.ended.is_set():
            log.warning("leaving LEADING: %s", reason)
            self.reason = reason
            self.ended.set()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(_TICK_S)
            self._execute(self._guard(lambda: self.leader.tick(_now_ms())))

    def _execute(self, actions: list) -> None:
        if not self.batch.live:
            return  # a deposed leader's actions are never executed
        for a in actions:
            t = type(a)
            if t is ToPeer:
                link = self.links.get(a.sid)
                if link is not None:
                    link.send(a.packet)
            elif t is Append:
                then = a.then
                self.batch.append(list(a.entries), lambda then=then: self._then(then))
            elif t is PersistEpoch:
                epochs.write_epoch(self.m.cfg.snap_dir, a.name, a.epoch)
                if a.name == epochs.ACCEPTED:
                    self.m.accepted = a.epoch
                else:
                    self.m.current = a.epoch
                self._then(a.then)
            elif t is Deliver:
                if self.server is not None:
                    began = self.proposed_at.pop(a.zxid, None)
                    if began is not None:
                        timings.PROPOSAL.observe(time.monotonic() - began)
                    self.server.committed(a.zxid)
                    self._release_syncs()
                else:  # our own history, delivered as the new epoch begins
                    hdr, record = decode_txn_entry(a.txn)
                    replay_txn(self.m.tree, self.m.sessions, hdr, record)
            elif t is ClosePeer:
                link = self.links.get(a.sid)
                log.warning("%s", a.reason)
                if link is not None:
                    link.close()
            elif t is RoleChanged and a.serving:
                self._serve(a.epoch)

    def _then(self, items: tuple) -> None:
        for ev in items:
            if isinstance(ev, Synced):
                self._execute(self._guard(lambda ev=ev: self.leader.on_synced(ev.zxid)))
            elif isinstance(ev, EpochPersisted):
                self._execute(self._guard(lambda ev=ev: self.leader.on_epoch_persisted(ev, _now_ms())))
            else:
                self._execute([ev])

    def _serve(self, epoch: int) -> None:
        """Established: the core that orders clients' writes exists from now on (learners' requests,
        touches and revalidations find it at once); the client port opens in the background."""
        server = self.server = Server.replica(self.m.cfg, self.m.tree, self.m.sessions, "leader",
                                              on_propose=self._propose)
        self.core = server.core
        self.core.begin_epoch(epoch)
        server.fence = lambda: self.batch.live
        server.ensemble_stats = self.stats
        server.proposal_sizes = self.proposal_sizes
        asyncio.get_running_loop().create_task(self._open(server, epoch))

    async def _open(self, server: Server, epoch: int) -> None:
        await server.open_port()
        if self.ended.is_set():  # stepped down while the port was opening: close it again
            await server.close_port()
            return
        log.info("LEADING epoch %d: established with a quorum, serving clients", epoch)

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
            "zk_synced_non_voting_followers": 0,
            "zk_synced_observers": sum(1 for lr in synced if lr.observer),
            "zk_pending_syncs": len(self.pending_syncs),
            "zk_last_proposal_size": last,
            "zk_min_proposal_size": lo,
            "zk_max_proposal_size": hi,
            "zk_proposal_count": ld.proposal_count,
            "zk_quorum_size": len(ld.voters),
            "zk_leader_uptime": max(0, _now_ms() - ld.established_ms),
            "zk_followers": sum(1 for lr in learners if lr.sid in ld.voters),
            "zk_outstanding_proposals": len(ld.outstanding),
            "zk_epoch": ld.epoch or 0,
            "zk_max_follower_lag": max((ld.lag(lr) for lr in learners), default=0),
        }

    def learner_lags(self) -> dict[int, int]:
        """Each synced follower's lag in proposals (observers: 0, they do not ACK)."""
        return {lr.sid: self.leader.lag(lr) for lr in self.leader.learners.values()}

    def proposal_sizes(self) -> tuple[int, int, int]:
        return self.leader.proposal_sizes

    def _propose(self, p: Propose) -> None:
        self.proposed_at[p.zxid] = time.monotonic()
        self._execute(self._guard(lambda: self.leader.propose_at(p.zxid, p.entry)))
