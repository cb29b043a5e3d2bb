"""FastLeaderElection as a pure state machine (ZooKeeper 3.8's FastLeaderElection.lookForLeader and its
WorkerReceiver, without threads, queues or clocks).

Inputs: `start(now, last_zxid, current_epoch)` begins an election (the peer is LOOKING); `receive(sid, n, now)`
is a notification from a peer (or from ourselves: ZooKeeper loops its own notification back, and so do we);
`tick(now)` lets timers run. Each returns actions: `SendTo(sid, Notification)` and, once, `Decided(vote,
state)`. After a decision the machine keeps answering LOOKING peers with the vote it settled on, as
ZooKeeper's receiver thread does, until the next `start`.

Votes are ordered as ZooKeeper's totalOrderPredicate: peer epoch, then zxid, then server id, and a server
with no weight (an observer) never wins. A majority of the voters decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..jute.election import Notification, PeerState

FINALIZE_WAIT_MS = 200
MIN_NOTIFICATION_INTERVAL_MS = FINALIZE_WAIT_MS
MAX_NOTIFICATION_INTERVAL_MS = 60_000
MIN_LONG = -(1 << 63)


@dataclass(frozen=True, slots=True)
class Vote:
    leader: int
    zxid: int
    election_epoch: int
    peer_epoch: int
    state: PeerState = PeerState.LOOKING
    version: int = 2

    def same(self, other: Vote) -> bool:
        """ZooKeeper's Vote.equals: votes out of an election agree on leader and peer epoch only."""
        if self.state == PeerState.LOOKING or other.state == PeerState.LOOKING:
            return (self.leader, self.zxid, self.election_epoch, self.peer_epoch) == (
                other.leader, other.zxid, other.election_epoch, other.peer_epoch)
        if (self.version > 0) != (other.version > 0):
            return self.leader == other.leader
        return self.leader == other.leader and self.peer_epoch == other.peer_epoch


@dataclass(frozen=True, slots=True)
class SendTo:
    sid: int
    notification: Notification


@dataclass(frozen=True, slots=True)
class Decided:
    vote: Vote  # the leader, its zxid and peer epoch, and the election epoch that chose it
    state: PeerState  # LEADING, FOLLOWING or OBSERVING


def total_order(new_id: int, new_zxid: int, new_epoch: int, cur_id: int, cur_zxid: int, cur_epoch: int,
                weight: int = 1) -> bool:
    """Is the vote (new_*) better than (cur_*)? FastLeaderElection.totalOrderPredicate."""
    if weight == 0:
        return False
    return new_epoch > cur_epoch or (new_epoch == cur_epoch and (
        new_zxid > cur_zxid or (new_zxid == cur_zxid and new_id > cur_id)))


@dataclass
class Election:
    my_id: int
    voters: frozenset[int]
    observer: bool = False
    config: bytes = b""  # the ensemble as quorum_config_text, sent with every notification
    state: PeerState = PeerState.LOOKING
    logical_clock: int = 0
    proposed_leader: int = 0
    proposed_zxid: int = 0
    proposed_epoch: int = 0
    current: Vote | None = None  # the vote settled on (answered to LOOKING peers once decided)
    recvset: dict[int, Vote] = field(default_factory=dict)
    outofelection: dict[int, Vote] = field(default_factory=dict)
    not_timeout_ms: int = MIN_NOTIFICATION_INTERVAL_MS
    next_resend_ms: int = 0
    finalize_at_ms: int | None = None
    last_zxid: int = 0
    current_epoch: int = 0
    started: bool = False  # a round is running (lookForLeader has been entered)
    pending: list = field(default_factory=list)  # notifications that came while LOOKING but not yet started

    def set_config(self, voters: frozenset[int], observer: bool, config: bytes) -> None:
        """A new configuration is active: who votes, whether we observe, what notifications carry."""
        self.voters, self.observer, self.config = voters, observer, config

    # ---- helpers ---------------------------------------------------------------------------------

    def weight(self, sid: int) -> int:
        return 1 if sid in self.voters else 0

    def has_quorum(self, acks: set[int]) -> bool:
        return len(acks & self.voters) * 2 > len(self.voters)

    def _voting(self) -> bool:
        """Observers and members outside the configuration (a removed member, a new one not yet added:
        ZooKeeper's non-voting participants) vote for nobody."""
        return self.my_id in self.voters and not self.observer

    def _init_id(self) -> int:
        return self.my_id if self._voting() else MIN_LONG

    def _init_zxid(self) -> int:
        return self.last_zxid if self._voting() else MIN_LONG

    def _init_epoch(self) -> int:
        return self.current_epoch if self._voting() else MIN_LONG

    def _update_proposal(self, leader: int, zxid: int, epoch: int) -> None:
        self.proposed_leader, self.proposed_zxid, self.proposed_epoch = leader, zxid, epoch

    def proposal(self) -> Vote:
        return Vote(self.proposed_leader, self.proposed_zxid, self.logical_clock, self.proposed_epoch)

    def _notification(self, vote_leader: int, zxid: int, election_epoch: int, peer_epoch: int,
                      state: PeerState) -> Notification:
        return Notification(state, vote_leader, zxid, election_epoch, peer_epoch, 2, self.config)

    def _send_all(self) -> list[SendTo]:
        n = self._notification(self.proposed_leader, self.proposed_zxid, self.logical_clock, self.proposed_epoch,
                               PeerState.LOOKING)
        return [SendTo(sid, n) for sid in sorted(self.voters)]

    def _vote_tracker(self, votes: dict[int, Vote], vote: Vote) -> set[int]:
        return {sid for sid, v in votes.items() if vote.same(v)}

    def _check_leader(self, votes: dict[int, Vote], leader: int, election_epoch: int) -> bool:
        if leader != self.my_id:
            v = votes.get(leader)
            return v is not None and v.state == PeerState.LEADING
        return self.logical_clock == election_epoch

    def _decide(self, leader: int, zxid: int, election_epoch: int, peer_epoch: int) -> list:
        if leader == self.my_id:
            self.state = PeerState.LEADING
        else:
            self.state = PeerState.OBSERVING if self.observer else PeerState.FOLLOWING
        self.current = Vote(leader, zxid, election_epoch, peer_epoch, self.state)
        self.finalize_at_ms = None
        return [Decided(self.current, self.state)]

    # ---- inputs ----------------------------------------------------------------------------------

    def start(self, now_ms: int, last_zxid: int, current_epoch: int) -> list:
        """Begin an election (lookForLeader): a new round, our own vote, sent to every voter."""
        self.state = PeerState.LOOKING
        self.started = True
        self.last_zxid, self.current_epoch = last_zxid, current_epoch
        self.recvset.clear()
        self.outofelection.clear()
        self.finalize_at_ms = None
        self.logical_clock += 1
        self._update_proposal(self._init_id(), self._init_zxid(), self._init_epoch())
        self.current = self.proposal()
        self.not_timeout_ms = MIN_NOTIFICATION_INTERVAL_MS
        self.next_resend_ms = now_ms + self.not_timeout_ms
        out: list = self._send_all()
        # What came between LOOKING and this start is taken now, in the new round (ZooKeeper's WorkerReceiver
        # queues it for lookForLeader, which has incremented its logical clock first). Taken at once instead,
        # a newer round's vote would be answered in the old round, and then start would move us past it:
        # the others decide without us, and we cannot join them.
        pending, self.pending = self.pending, []
        for sid, n in pending:
            out.extend(self.receive(sid, n, now_ms))
        return out

    def set_state(self, state: PeerState, vote: Vote | None = None) -> None:
        """The peer left the election some other way (a leader stepping down calls start instead). LOOKING
        here means a round is about to start: notifications wait for it."""
        self.state = state
        self.started = False
        if vote is not None:
            self.current = vote

    def tick(self, now_ms: int) -> list:
        if self.state != PeerState.LOOKING:
            return []
        if self.finalize_at_ms is not None and now_ms >= self.finalize_at_ms:
            return self._decide(self.proposed_leader, self.proposed_zxid, self.logical_clock, self.proposed_epoch)
        if now_ms >= self.next_resend_ms and self.finalize_at_ms is None:
            # Nothing decided within the interval: say our vote again, and back off (ZooKeeper's notTimeout).
            self.not_timeout_ms = min(self.not_timeout_ms * 2, MAX_NOTIFICATION_INTERVAL_MS)
            self.next_resend_ms = now_ms + self.not_timeout_ms
            return self._send_all()
        return []

    def receive(self, sid: int, n: Notification, now_ms: int) -> list:
        """A notification from `sid` (WorkerReceiver, then lookForLeader's handling of it)."""
        out: list = []
        if sid not in self.voters:
            if sid == self.my_id:
                return out  # our own, sent while we were a voter: answering it would answer ourselves forever
            # An observer or a stranger: tell it our current vote.
            cur = self.current or self.proposal()
            out.append(SendTo(sid, self._notification(cur.leader, cur.zxid, self.logical_clock, cur.peer_epoch,
                                                      self.state)))
            return out
        if self.state == PeerState.LOOKING and not self.started:
            if len(self.pending) < 10_000:
                self.pending.append((sid, n))
            return out
        if self.state == PeerState.LOOKING:
            self.next_resend_ms = now_ms + self.not_timeout_ms  # lookForLeader's poll(notTimeout) restarts
        else:
            if n.state == PeerState.LOOKING and self.current is not None:
                c = self.current
                out.append(SendTo(sid, self._notification(c.leader, c.zxid, c.election_epoch, c.peer_epoch,
                                                          self.state)))
            return out
        if n.state == PeerState.LOOKING and n.election_epoch < self.logical_clock:
            p = self.proposal()
            out.append(SendTo(sid, self._notification(p.leader, p.zxid, p.election_epoch, p.peer_epoch,
                                                      PeerState.LOOKING)))
        if n.leader not in self.voters:
            return out
        if self.finalize_at_ms is not None:
            # Waiting out finalizeWait: only a better vote reopens the election; others are dropped.
            if not total_order(n.leader, n.zxid, n.peer_epoch, self.proposed_leader, self.proposed_zxid,
                               self.proposed_epoch, self.weight(n.leader)):
                return out
            self.finalize_at_ms = None
        out.extend(self._handle(sid, n, now_ms))
        return out

    def _handle(self, sid: int, n: Notification, now_ms: int) -> list:
        if n.state == PeerState.LOOKING:
            return self._looking(sid, n, now_ms)
        if n.state in (PeerState.FOLLOWING, PeerState.LEADING):
            return self._following(sid, n)
        return []  # OBSERVING: observers do not vote

    def _looking(self, sid: int, n: Notification, now_ms: int) -> list:
        out: list = []
        if self._init_zxid() == -1 or n.zxid == -1:
            return out
        if n.election_epoch > self.logical_clock:
            self.logical_clock = n.election_epoch
            self.recvset.clear()
            if total_order(n.leader, n.zxid, n.peer_epoch, self._init_id(), self._init_zxid(), self._init_epoch(),
                           self.weight(n.leader)):
                self._update_proposal(n.leader, n.zxid, n.peer_epoch)
            else:
                self._update_proposal(self._init_id(), self._init_zxid(), self._init_epoch())
            out.extend(self._send_all())
        elif n.election_epoch < self.logical_clock:
            return out
        elif total_order(n.leader, n.zxid, n.peer_epoch, self.proposed_leader, self.proposed_zxid,
                         self.proposed_epoch, self.weight(n.leader)):
            self._update_proposal(n.leader, n.zxid, n.peer_epoch)
            out.extend(self._send_all())
        self.recvset[sid] = Vote(n.leader, n.zxid, n.election_epoch, n.peer_epoch)
        self.current = self.proposal()
        if self.has_quorum(self._vote_tracker(self.recvset, self.proposal())):
            self.finalize_at_ms = now_ms + FINALIZE_WAIT_MS
        return out

    def _following(self, sid: int, n: Notification) -> list:
        """receivedFollowingNotification / receivedLeadingNotification: join an ensemble that already runs."""
        vote = Vote(n.leader, n.zxid, n.election_epoch, n.peer_epoch, n.state, n.version)
        if n.election_epoch == self.logical_clock:
            self.recvset[sid] = vote
            if self.has_quorum(self._vote_tracker(self.recvset, vote)) and self._check_leader(
                    self.recvset, n.leader, n.election_epoch):
                return self._decide(n.leader, n.zxid, n.election_epoch, n.peer_epoch)
        self.outofelection[sid] = vote
        if self.has_quorum(self._vote_tracker(self.outofelection, vote)) and self._check_leader(
                self.outofelection, n.leader, n.election_epoch):
            self.logical_clock = n.election_epoch
            return self._decide(n.leader, n.zxid, n.election_epoch, n.peer_epoch)
        return []
