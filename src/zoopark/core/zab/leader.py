"""The leader's side of ZAB as a pure state machine (ZooKeeper 3.8's Leader + LearnerHandler).

Phases: discovery (a quorum's FOLLOWERINFO → a new epoch above every accepted one → LEADERINFO; a quorum's
ACKEPOCH, none of them ahead of us), synchronisation (per learner: DIFF / TRUNC / SNAP from our history, then
NEWLEADER; a quorum's ACK of NEWLEADER establishes the epoch and UPTODATE goes out), broadcast (PROPOSAL to
every synced learner, COMMIT in zxid order once a quorum has ACKed, each ACK sent by a learner only after its
fsync). The leader steps down when it cannot hear a quorum within syncLimit (initLimit while establishing).

The history this leader starts from becomes the new epoch's initial history: everything it logged, committed
or not, is delivered, and learners are made to match it (TRUNC cuts what they hold beyond it).
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ..jute.quorum import PROTOCOL_VERSION, LearnerInfo, PacketType, QuorumPacket, epoch_of, make_zxid
from . import verifier as qv
from .actions import (
    Activated,
    Append,
    ClosePeer,
    Deliver,
    Entry,
    EpochPersisted,
    PersistEpoch,
    RoleChanged,
    SeenConfig,
    Synced,
    ToPeer,
)


class StepDown(Exception):
    pass


@dataclass
class _Learner:
    sid: int
    accepted_epoch: int
    phase: str = "info"  # info → epoch_acked → synced (NEWLEADER queued) → acked (NEWLEADER ACKed) → uptodate
    last_zxid: int = -1
    current_epoch: int = -1
    last_heard_ms: int = 0
    observer: bool = False  # came with OBSERVERINFO: no vote, learns committed txns through INFORM
    acked_zxid: int = 0  # the newest proposal it has ACKed (a follower's lag: how far behind our last)


@dataclass
class Leader:
    my_id: int
    voters: frozenset[int]
    accepted_epoch: int
    current_epoch: int
    last_zxid: int  # the last txn we logged: our history's end
    window: list[Entry]  # our newest logged txns (all of them in the simulator)
    snapshot: Callable[[], tuple[int, bytes]]  # (zxid, raw state) of what we have delivered
    last_delivered: int  # the last txn applied to our state
    tick_ms: int = 2000
    init_limit: int = 10
    sync_limit: int = 5
    window_complete: bool = False  # the window starts at the very first txn: DIFF works from zxid 0
    started_ms: int = 0
    learners: dict[int, _Learner] = field(default_factory=dict)
    epoch: int | None = None  # the new epoch, once a quorum's FOLLOWERINFO fixed it
    epoch_persisted: bool = False
    established: bool = False
    newleader_acks: set[int] = field(default_factory=set)
    epoch_acks: set[int] = field(default_factory=set)
    current_epoch_persisted: bool = False
    outstanding: dict[int, set[int]] = field(default_factory=dict)  # zxid -> who has it durably
    last_committed: int = 0
    counter: int = 0
    next_ping_ms: int = 0
    established_ms: int = 0
    proposal_count: int = 0
    proposal_sizes: tuple[int, int, int] = (-1, -1, -1)  # last / min / max, as srvr's "Proposal sizes" line
    stepped_down: str | None = None  # why it stepped down: from then on it emits nothing
    # Dynamic reconfiguration (reconfigEnabled): the active configuration and the last one proposed (newer
    # while a reconfig is under way); without them the configuration is `voters`, fixed.
    config: qv.QuorumVerifier | None = None
    last_seen: qv.QuorumVerifier | None = None
    reconfig_enabled: bool = False
    allowed_to_commit: bool = True  # False once a committed reconfig named another leader

    def __post_init__(self) -> None:
        if self.config is None:
            self.config = qv.of_ids(self.voters)
        if self.last_seen is None or self.last_seen.version < self.config.version:
            self.last_seen = self.config
        self.voters = self.config.voters
        self._needs: dict[int, tuple[qv.QuorumVerifier, ...]] = {}  # zxid -> configurations whose quorum it needs
        self._reconfigs: dict[int, qv.QuorumVerifier] = {}  # outstanding reconfig proposals' configurations
        self._stuck_since: int | None = None  # since when the oldest proposal has had no quorum to commit it
        self.last_committed = self.last_zxid
        self.summary = (self.current_epoch, self.last_zxid)  # leaderStateSummary, fixed at the start
        self._txns: dict[int, bytes] = {}  # the outstanding proposals' txns
        self._unsynced: deque[int] = deque()  # proposals not yet on our own disk, in zxid order
        # `outstanding`'s zxids, oldest first: the next to commit without iterating the dict, which costs what
        # was deleted from its front since it last grew (about 1 us per commit with a thousand in flight)
        self._order: deque[int] = deque()
        self._writing_current = False

    # ---- helpers ---------------------------------------------------------------------------------

    def _down(self, reason: str) -> StepDown:
        """Step down. From then on this leader emits nothing: every later input returns no action (a proposal
        raises StepDown again), however long its adapter takes to notice; the first reason is remembered."""
        if self.stepped_down is None:
            self.stepped_down = reason
        return StepDown(reason)

    def quorum(self, sids: set[int]) -> bool:
        """A quorum of the active configuration, and of the last proposed one while a reconfig is under way
        (ZooKeeper's SyncedLearnerTracker over both)."""
        return all(c.has_quorum(sids) for c in self._configs())

    def _configs(self) -> tuple[qv.QuorumVerifier, ...]:
        """The active configuration, every one proposed since (outstanding reconfigs: one, unless a second
        slipped past the prep's check), and the last one seen."""
        config, seen = self.config, self.last_seen
        assert config is not None and seen is not None
        out = [config, *(c for c in self._reconfigs.values() if c.version > config.version)]
        if seen.version > config.version and seen not in out:
            out.append(seen)
        return tuple(out)

    def quorum_synced(self, config: qv.QuorumVerifier) -> bool:
        """Leader.isQuorumSynced: we (if a voter of `config`) and the followers in broadcast that `config`
        makes voters are a quorum of it."""
        ids = {self.my_id} | {lr.sid for lr in self.learners.values() if lr.phase == "uptodate" and not lr.observer}
        return config.has_quorum(ids)

    def _activate(self, config: qv.QuorumVerifier, designated: int) -> list:
        self.config = config
        self.voters = config.voters
        if designated != self.my_id:
            self.allowed_to_commit = False  # the designated leader takes over; ours would not be its history
        return [Activated(config, designated)]

    def _learner_summary_ahead(self, lr: _Learner) -> bool:
        """StateSummary.isMoreRecentThan: is the learner further than we are?"""
        epoch, zxid = self.summary
        return lr.current_epoch > epoch or (lr.current_epoch == epoch and lr.last_zxid > zxid)

    # ---- start -------------------------------------------------------------------------------------

    def start(self, now_ms: int) -> list:
        """Deliver our whole history (it is the new epoch's starting point), then wait for learners."""
        if self.stepped_down is not None:
            return []
        self.started_ms = now_ms
        self.next_ping_ms = now_ms
        out: list = []
        for zxid, txn in self.window:
            if zxid > self.last_delivered:
                out.append(Deliver(zxid, txn))
                self.last_delivered = zxid
        out += self._maybe_fix_epoch(now_ms)
        return out

    # ---- inputs ------------------------------------------------------------------------------------

    def on_packet(self, sid: int, p: QuorumPacket, now_ms: int) -> list:
        if self.stepped_down is not None:
            return []
        lr = self.learners.get(sid)
        if lr is not None:
            lr.last_heard_ms = now_ms
        t = p.type
        if t in (PacketType.FOLLOWERINFO, PacketType.OBSERVERINFO):
            return self._on_info(sid, p, now_ms)
        if lr is None:
            return []
        if t == PacketType.ACKEPOCH:
            return self._on_ackepoch(lr, p, now_ms)
        if t == PacketType.ACK:
            return self._on_ack(lr, p.zxid, now_ms)
        # PING replies and anything else: they only prove the learner is alive.
        return []

    def on_disconnected(self, sid: int) -> list:
        if self.stepped_down is not None:
            return []
        self.learners.pop(sid, None)
        return []

    def on_synced(self, zxid: int) -> list:
        """Our own log has everything up to `zxid` on disk: that is our ACK (each proposal once, oldest first:
        a sync costs what it made durable, not what is outstanding)."""
        if self.stepped_down is not None:
            return []
        unsynced, outstanding = self._unsynced, self.outstanding
        while unsynced and unsynced[0] <= zxid:
            acks = outstanding.get(unsynced.popleft())
            if acks is not None:
                acks.add(self.my_id)
        return self._try_commit()

    def on_epoch_persisted(self, e: EpochPersisted, now_ms: int) -> list:
        if self.stepped_down is not None:
            return []
        out: list = []
        if e.name == "acceptedEpoch" and e.epoch == self.epoch:
            self.accepted_epoch = e.epoch
            self.epoch_persisted = True
            info = QuorumPacket(PacketType.LEADERINFO, make_zxid(e.epoch, 0), struct.pack(">i", PROTOCOL_VERSION))
            for lr in self.learners.values():
                out.append(ToPeer(lr.sid, info))
            out += self._maybe_sync_all()
            if not self._writing_current and self._epoch_quorum():
                # We alone are a quorum (one voter, standaloneEnabled=false): no ACKEPOCH to wait for.
                self._writing_current = True
                out.append(PersistEpoch("currentEpoch", e.epoch, (EpochPersisted("currentEpoch", e.epoch),)))
        elif e.name == "currentEpoch" and e.epoch == self.epoch:
            self.current_epoch = e.epoch
            self.current_epoch_persisted = True
            out += self._maybe_sync_all()
            if not self.established and self.quorum(self.newleader_acks | {self.my_id}):
                out += self._establish(now_ms)  # a quorum of one: no NEWLEADER ACK to wait for
        return out

    def tick(self, now_ms: int) -> list:
        if self.stepped_down is not None:
            return []
        out: list = []
        if not self.established and now_ms - self.started_ms > self.init_limit * self.tick_ms:
            raise self._down(f"no quorum established epoch {self.epoch} within initLimit")
        heard = {sid for sid, lr in self.learners.items() if now_ms - lr.last_heard_ms <= self._silence_limit_ms(lr)}
        if self.established and not self.quorum(heard | {self.my_id}):
            raise self._down("not sufficient followers synced, only synced with sids: "
                           f"{sorted(heard | {self.my_id})}")
        self._check_stuck(heard, now_ms)
        for sid in [sid for sid in self.learners if sid not in heard]:
            # A learner silent for that long is gone (ZooKeeper's LearnerHandler read times out): close it;
            # it comes back through an election and a new sync.
            limit = self._silence_limit_ms(self.learners.pop(sid))
            out.append(ClosePeer(sid, f"nothing from learner {sid} for {limit} ms"))
        if now_ms >= self.next_ping_ms:
            self.next_ping_ms = now_ms + self.tick_ms // 2
            for lr in self.learners.values():
                if lr.phase in ("synced", "acked", "uptodate"):
                    out.append(ToPeer(lr.sid, QuorumPacket(PacketType.PING, self.last_committed)))
        return out

    def _check_stuck(self, heard: set[int], now_ms: int) -> None:
        """The oldest proposal also needs a quorum of a configuration that was active when it was made. After
        a reconfig commits, the members it made observers (or that left) never ACK again: if the followers we
        hear from are no quorum of it for syncLimit, the proposal can never commit, and we step down (the next
        leader's epoch settles it with a quorum of the configurations in force). ZooKeeper's leader waits
        forever there."""
        if not self.outstanding:
            self._stuck_since = None
            return
        zxid = self._order[0]
        voting = {sid for sid in heard if not self.learners[sid].observer} | {self.my_id}
        assert self.config is not None
        if all(c.has_quorum(voting) for c in self._needs.get(zxid, (self.config,))):
            self._stuck_since = None
            return
        if self._stuck_since is None:
            self._stuck_since = now_ms
        elif now_ms - self._stuck_since > self.sync_limit * self.tick_ms:
            raise self._down(f"proposal 0x{zxid:x} needs a quorum of a configuration whose members are gone")

    def _silence_limit_ms(self, lr: _Learner) -> int:
        """How long a learner may stay silent. ZooKeeper's LearnerHandler reads with initLimit until the
        epoch is established and the learner has ACKed NEWLEADER (a sync, or the reload a learner does
        before it, can take that long), and with syncLimit from then on."""
        return (self.sync_limit if lr.phase == "uptodate" else self.init_limit) * self.tick_ms

    def propose_at(self, zxid: int, txn: bytes) -> list:
        """Propose a txn its maker already numbered (the server core numbers its txns from (epoch, 1))."""
        if self.stepped_down is not None:
            raise StepDown(f"stepped down: {self.stepped_down}")
        got, out = self.propose(lambda z: txn)
        if got != zxid:
            raise self._down(f"txn numbered 0x{zxid:x} where the leader is at 0x{got:x}")
        return out

    def propose(self, txn_for: Callable[[int], bytes]) -> tuple[int, list]:
        """A new txn in this epoch: `txn_for(zxid)` builds its bytes (its header holds the zxid)."""
        if self.stepped_down is not None:
            raise StepDown(f"stepped down: {self.stepped_down}")
        if not self.established or self.epoch is None:
            raise self._down("not serving")
        self.counter += 1
        zxid = make_zxid(self.epoch, self.counter)
        txn = txn_for(zxid)
        self.window.append((zxid, txn))
        self.last_zxid = zxid
        self.outstanding[zxid] = set()
        self._order.append(zxid)
        new = qv.of_txn(txn) if self.reconfig_enabled else None
        seen: list = []
        if new is not None:
            self.last_seen = new
            self._reconfigs[zxid] = new
            seen.append(SeenConfig(new))
        config, last_seen = self.config, self.last_seen
        assert config is not None and last_seen is not None
        if self._reconfigs or last_seen.version > config.version:
            self._needs[zxid] = self._configs()  # else the active configuration's quorum alone
        self._unsynced.append(zxid)
        self._txns[zxid] = txn
        size = len(txn)
        _, lo, hi = self.proposal_sizes
        self.proposal_sizes = (size, size if lo < 0 else min(lo, size), max(hi, size))
        self.proposal_count += 1
        out: list = [*seen, Append([(zxid, txn)], (Synced(zxid),))]
        packet = QuorumPacket(PacketType.PROPOSAL, zxid, txn)
        for lr in self.learners.values():
            if lr.phase in ("synced", "acked", "uptodate") and not lr.observer:
                out.append(ToPeer(lr.sid, packet))
        return zxid, out

    # ---- discovery ---------------------------------------------------------------------------------

    def _on_info(self, sid: int, p: QuorumPacket, now_ms: int) -> list:
        try:
            LearnerInfo.decode(p.data or b"")
        except Exception:  # noqa: BLE001 - a malformed FOLLOWERINFO: treat as no learner
            return []
        known = self.learners.get(sid)
        if known is not None and known.phase != "info":
            return []  # a FOLLOWERINFO said again while we were answering it
        lr = _Learner(sid, epoch_of(p.zxid), last_heard_ms=now_ms, observer=p.type == PacketType.OBSERVERINFO)
        self.learners[sid] = lr
        out: list = []
        if self.epoch is None:
            out += self._maybe_fix_epoch(now_ms)
        elif self.epoch_persisted:
            # A learner that accepted a newer epoch refuses this LEADERINFO and goes back to electing.
            out.append(ToPeer(sid, QuorumPacket(PacketType.LEADERINFO, make_zxid(self.epoch, 0),
                                                struct.pack(">i", PROTOCOL_VERSION))))
        return out

    def _maybe_fix_epoch(self, now_ms: int) -> list:
        """getEpochToPropose: once a quorum (us included) has told us its accepted epoch, the new epoch is one
        above all of them; persisted as our acceptedEpoch before any learner hears it."""
        if self.epoch is not None:
            return []
        # getEpochToPropose counts the active configuration's voters only (a reconfig under way is settled
        # by NEWLEADER, which needs a quorum of both).
        assert self.config is not None
        present = {sid for sid in self.learners if sid in self.config.voters} | {self.my_id}
        if not self.config.has_quorum(present):
            return []
        epoch = max([self.accepted_epoch] + [lr.accepted_epoch for lr in self.learners.values()]) + 1
        self.epoch = epoch
        out: list = []
        assert self.config is not None and self.last_seen is not None
        if self.reconfig_enabled and self.config.version == 0 == self.last_seen.version:
            # ZOOKEEPER-1783: a configuration that never had a version gets the new epoch's first zxid as its
            # version, and becomes active with the epoch (every member learns it from NEWLEADER).
            self.last_seen = self.config.with_version(make_zxid(epoch, 0))
            out.append(SeenConfig(self.last_seen))
        return [*out, PersistEpoch("acceptedEpoch", epoch, (EpochPersisted("acceptedEpoch", epoch),))]

    def _epoch_quorum(self) -> bool:
        """waitForEpochAck: a quorum of the active configuration's voters has acknowledged the epoch."""
        assert self.config is not None
        return self.config.has_quorum(self.epoch_acks | {self.my_id})

    def _on_ackepoch(self, lr: _Learner, p: QuorumPacket, now_ms: int) -> list:
        if lr.phase != "info" or not self.epoch_persisted:
            return []
        data = p.data or b""
        lr.current_epoch = struct.unpack_from(">i", data, 0)[0] if len(data) >= 4 else -1
        lr.last_zxid = p.zxid
        if not self.current_epoch_persisted and not self._writing_current and self._learner_summary_ahead(lr):
            # waitForEpochAck: while the epoch is being settled, a learner further than us may not join;
            # its handler ends (ZooKeeper throws in that LearnerHandler), and without a quorum we step down.
            self.learners.pop(lr.sid, None)
            return [ClosePeer(lr.sid, f"follower {lr.sid} is ahead of the leader: epoch {lr.current_epoch} "
                                      f"zxid 0x{lr.last_zxid:x}, ours {self.summary[0]} 0x{self.summary[1]:x}")]
        lr.phase = "epoch_acked"
        self.epoch_acks.add(lr.sid)
        if not self.current_epoch_persisted and not self._writing_current and self.epoch is not None \
                and self._epoch_quorum():
            self._writing_current = True  # no learner is synced until it is on disk
            return [PersistEpoch("currentEpoch", self.epoch, (EpochPersisted("currentEpoch", self.epoch),))]
        return self._maybe_sync_all()

    # ---- synchronisation ---------------------------------------------------------------------------

    def _maybe_sync_all(self) -> list:
        if not self.current_epoch_persisted:
            return []
        out: list = []
        for lr in self.learners.values():
            if lr.phase == "epoch_acked":
                out += self._sync(lr)
        return out

    def _sync(self, lr: _Learner) -> list:
        """LearnerHandler.syncFollower: DIFF if our window covers the learner's position, TRUNC first if it
        holds txns we do not, SNAP otherwise; then whatever is outstanding, then NEWLEADER."""
        assert self.epoch is not None
        peer = lr.last_zxid
        zxids = [z for z, _ in self.window]
        out: list = []
        start: int | None = None
        # Measured against what we have committed: proposals still outstanding are forwarded after the sync,
        # and a learner that logged one of them before it reconnected is truncated to our committed end
        # first (it could otherwise serve a txn that a later leader does not have).
        ref = self.last_committed
        after_ref = next((k for k, z in enumerate(zxids) if z > ref), len(zxids))
        if peer == ref:
            out.append(ToPeer(lr.sid, QuorumPacket(PacketType.DIFF, ref)))
            start = after_ref
        elif peer > ref:
            out.append(ToPeer(lr.sid, QuorumPacket(PacketType.TRUNC, ref)))
            start = after_ref
        else:
            i = next((k for k, z in enumerate(zxids) if z > peer), len(zxids))
            if i > 0:
                prev = zxids[i - 1]
                out.append(ToPeer(lr.sid, QuorumPacket(PacketType.DIFF if prev == peer else PacketType.TRUNC,
                                                       ref if prev == peer else prev)))
                start = i
            elif self.window_complete and peer == 0:
                out.append(ToPeer(lr.sid, QuorumPacket(PacketType.DIFF, ref)))
                start = 0
        if start is None:
            zxid, raw = self.snapshot()
            out.append(ToPeer(lr.sid, QuorumPacket(PacketType.SNAP, zxid)))
            out.append(ToPeer(lr.sid, ("snapshot", raw)))
            start = next((k for k, z in enumerate(zxids) if z > zxid), len(zxids))
        for z, txn in self.window[start:]:
            if lr.observer and z > self.last_committed:
                break  # observers hear of a txn only once it has committed (an INFORM), as in startForwarding
            out.append(ToPeer(lr.sid, QuorumPacket(PacketType.PROPOSAL, z, txn)))
            if z <= self.last_committed:
                out.append(ToPeer(lr.sid, QuorumPacket(PacketType.COMMIT, z)))
        # NEWLEADER carries the configuration the learner is to adopt once up to date (ZooKeeper's
        # getQuorumVerifierBytes: the last one seen).
        config = self.last_seen.data() if self.reconfig_enabled and self.last_seen is not None else None
        out.append(ToPeer(lr.sid, QuorumPacket(PacketType.NEWLEADER, make_zxid(self.epoch, 0), config)))
        lr.phase = "synced"
        lr.acked_zxid = self.last_zxid  # what the sync brings it to (its ACK of NEWLEADER confirms it)
        return out

    def _on_ack(self, lr: _Learner, zxid: int, now_ms: int) -> list:
        assert self.epoch is not None
        if zxid == make_zxid(self.epoch, 0):
            if lr.phase == "synced":
                lr.phase = "acked"
                self.newleader_acks.add(lr.sid)
                if self.established:
                    lr.phase = "uptodate"
                    return [ToPeer(lr.sid, QuorumPacket(PacketType.UPTODATE, make_zxid(self.epoch, 0)))]
                if self.quorum(self.newleader_acks | {self.my_id}):
                    return self._establish(now_ms)
            return []
        lr.acked_zxid = max(lr.acked_zxid, zxid)
        acks = self.outstanding.get(zxid)
        if acks is not None and lr.phase in ("acked", "uptodate", "synced") and not lr.observer:
            acks.add(lr.sid)
            return self._try_commit()
        return []

    def lag(self, lr: _Learner) -> int:
        """How many of our proposals a follower has yet to ACK (observers do not ACK: they count as 0)."""
        if lr.observer or lr.phase != "uptodate":
            return 0
        if epoch_of(lr.acked_zxid) != self.epoch:
            return self.counter  # every proposal of this epoch is still to come
        return max(0, self.counter - (lr.acked_zxid & 0xFFFFFFFF))

    def _establish(self, now_ms: int) -> list:
        self.established = True
        self.established_ms = now_ms
        assert self.epoch is not None
        out: list = [RoleChanged("LEADING", self.my_id, self.epoch, serving=True)]
        assert self.config is not None and self.last_seen is not None
        if self.reconfig_enabled and self.last_seen.version > self.config.version:
            # startZkServer: the configuration NEWLEADER carried is active now that a quorum of it has it.
            new = self.last_seen
            acks = (self.newleader_acks & new.voters) - {self.my_id}
            out += self._activate(new, self.my_id if self.my_id in new.voters or not acks else min(acks))
        for lr in self.learners.values():
            if lr.phase == "acked":
                lr.phase = "uptodate"
                out.append(ToPeer(lr.sid, QuorumPacket(PacketType.UPTODATE, make_zxid(self.epoch, 0))))
        return out

    # ---- broadcast ---------------------------------------------------------------------------------

    def _try_commit(self) -> list:
        out: list = []
        order = self._order
        for _ in range(len(order)):
            if not order or not self.allowed_to_commit:
                break
            zxid = order[0]  # proposals are added in zxid order
            acks = self.outstanding[zxid]
            needs = self._needs.get(zxid)
            assert self.config is not None
            if not (self.config.has_quorum(acks) if needs is None else all(c.has_quorum(acks) for c in needs)):
                break
            new = self._reconfigs.pop(zxid, None)
            designated = self._designated(new, zxid) if new is not None else None
            del self.outstanding[zxid]
            order.popleft()
            if needs is not None:
                del self._needs[zxid]
            self.last_committed = zxid
            commit = QuorumPacket(PacketType.COMMIT, zxid)
            txn = self._txns.pop(zxid)
            inform = None
            if new is not None and designated is not None:
                # COMMITANDACTIVATE / INFORMANDACTIVATE name the leader from now on.
                out += self._activate(new, designated)
                named = struct.pack(">q", designated)
                commit = QuorumPacket(PacketType.COMMITANDACTIVATE, zxid, named)
                inform = QuorumPacket(PacketType.INFORMANDACTIVATE, zxid, named + txn)
            for lr in self.learners.values():
                if lr.phase in ("synced", "acked", "uptodate"):
                    if lr.observer:
                        inform = inform or QuorumPacket(PacketType.INFORM, zxid, txn)
                        out.append(ToPeer(lr.sid, inform))
                    else:
                        out.append(ToPeer(lr.sid, commit))
            out.append(Deliver(zxid, txn))
            self.last_delivered = zxid
        return out

    def _designated(self, new: qv.QuorumVerifier, zxid: int) -> int:
        """Leader.getDesignatedLeader: ourselves if a voter of the new configuration; else, of its voters that
        ACKed the reconfig, the one that ACKed the most of the proposals after it."""
        if self.my_id in new.voters:
            return self.my_id
        candidates = (self.outstanding[zxid] & new.voters) - {self.my_id}
        best = min(candidates)
        for z in [z for z in self.outstanding if z > zxid]:
            for c in self._needs.get(z, (new,)):
                candidates &= self.outstanding[z] & c.voters
                if not candidates:
                    return best
                best = min(candidates)
                if len(candidates) == 1:
                    return best
        return best
