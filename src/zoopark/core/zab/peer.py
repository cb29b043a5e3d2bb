"""One member of an ensemble: election, then leading or following, and back to electing when that fails.

`ZabPeer` composes the pure `Election`, `Leader` and `Learner` machines, keeps the view of its own log that
they need (the newest txns, the last delivered), and turns a role's failure into a new election, as
ZooKeeper's QuorumPeer main loop does. Inputs and actions are those of the three machines plus
`RoleChanged`; the adapter (or the simulator) moves election notifications, quorum packets and disk writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ..jute.election import Notification, PeerState
from ..jute.quorum import QuorumPacket
from . import verifier as qv
from .actions import (
    Activated,
    Append,
    Deliver,
    Entry,
    EpochPersisted,
    InstallSnapshot,
    Persistent,
    RoleChanged,
    SeenConfig,
    SnapshotInstalled,
    Synced,
    Truncate,
)
from .election import Decided, Election, Vote
from .leader import Leader, StepDown
from .learner import Learner, LeaveLeader


class ZabPeer:
    def __init__(self, my_id: int, voters: frozenset[int], disk: Persistent,
                 snapshot: Callable[[], tuple[int, bytes]], tick_ms: int = 2000, init_limit: int = 10,
                 sync_limit: int = 5, window_limit: int = 500, window_complete: bool = False,
                 observer: bool = False, reload_ms: int = 0, config: bytes = b"",
                 verifier: qv.QuorumVerifier | None = None, last_seen: qv.QuorumVerifier | None = None,
                 reconfig_enabled: bool = False) -> None:
        """`config`: the ensemble as quorumconfig.quorum_config_text writes it, sent with every notification
        (ZooKeeper 3.8 peers read it from version-2 notifications). `verifier`: the active configuration
        (default: `voters`, and us as an observer if `observer`); `last_seen`: the last one proposed (the
        `.next` file), newer while a reconfig is under way; `reconfig_enabled`: follow reconfigurations
        (without it the configuration never changes, as ZooKeeper's processReconfig does nothing)."""
        self.my_id = my_id
        self.config = verifier or qv.of_ids(voters, frozenset({my_id}) if observer else frozenset())
        self.last_seen = last_seen if last_seen is not None and last_seen.version > self.config.version \
            else self.config
        self.reconfig_enabled = reconfig_enabled
        if reconfig_enabled and not config:
            config = self.config.data()
        self.accepted_epoch = disk.accepted_epoch
        self.current_epoch = disk.current_epoch
        self.last_zxid = disk.last_zxid
        self.window: list[Entry] = list(disk.window)
        self.window_complete = window_complete and (not self.window or self.window[0][0] >> 32 <= 1)
        self.last_delivered = disk.last_zxid  # recovery applied the whole log
        self.snapshot = snapshot
        self.tick_ms, self.init_limit, self.sync_limit = tick_ms, init_limit, sync_limit
        self.window_limit = window_limit
        self.election = Election(my_id, self.config.voters, observer=self.observer, config=config)
        # How long the peer takes between going LOOKING and starting its round (a real member reloads its
        # log then); notifications in between wait for the round.
        self.reload_ms = reload_ms
        self.round_at_ms: int | None = None
        self.designated: int | None = None  # the leader a reconfig named, taken without an election
        self._next_leader: int | None = None
        self.role: Leader | Learner | None = None
        self.follow_since_ms = 0
        self.state = PeerState.LOOKING
        self.serving = False

    @property
    def voters(self) -> frozenset[int]:
        return self.config.voters

    @property
    def observer(self) -> bool:
        return self.my_id in self.config.observers

    # ---- lifecycle --------------------------------------------------------------------------------

    def start(self, now_ms: int) -> list:
        return self._look(now_ms, "starting")

    def _look(self, now_ms: int, reason: str) -> list:
        self.role = None
        self.state = PeerState.LOOKING
        self.serving = False
        out: list = [RoleChanged("LOOKING", reason=reason)]
        # The state is the whole log again (ZooKeeper reloads its database when it leaves a role): txns a
        # sync logged but never got to apply are applied now; a later TRUNC takes back any never committed.
        for zxid, txn in self.window:
            if zxid > self.last_delivered:
                out.append(Deliver(zxid, txn))
                self.last_delivered = zxid
        if self.reload_ms > 0:
            self.election.set_state(PeerState.LOOKING)
            self.round_at_ms = now_ms + self.reload_ms
            return out
        out += self._round(now_ms)
        return out

    def _round(self, now_ms: int) -> list:
        """Start an election round; or, right after a reconfig that named the leader, take the role it implies
        without one (QuorumPeer.updateServerState with the reconfig flag: LEADING if we are the one named,
        else FOLLOWING / OBSERVING it). If that leader does not lead after all, the role fails and the next
        round is an election."""
        named, self.designated = self.designated, None
        if named is None or (named == self.my_id and self.my_id not in self.voters):
            return self.election.start(now_ms, self.last_zxid, self.current_epoch)
        if named == self.my_id:
            state = PeerState.LEADING
        else:
            state = PeerState.OBSERVING if self.observer else PeerState.FOLLOWING
        e = self.election
        e.logical_clock += 1
        vote = Vote(named, self.last_zxid, e.logical_clock, self.current_epoch, state)
        e.set_state(state, vote)
        return self._decided(Decided(vote, state), now_ms)

    def _decided(self, d: Decided, now_ms: int) -> list:
        self.state = d.state
        if d.state == PeerState.LEADING:
            self.role = Leader(self.my_id, self.voters, self.accepted_epoch, self.current_epoch, self.last_zxid,
                               self.window, self.snapshot, self.last_delivered, self.tick_ms, self.init_limit,
                               self.sync_limit, window_complete=self.window_complete, config=self.config,
                               last_seen=self.last_seen, reconfig_enabled=self.reconfig_enabled)
            out: list = [RoleChanged("LEADING", self.my_id)]
            return out + self._track(self.role.start(now_ms), now_ms)
        self.follow_since_ms = now_ms
        return [RoleChanged("OBSERVING" if self.observer else "FOLLOWING", d.vote.leader)] + \
            self._follow(d.vote.leader, now_ms)

    def _follow(self, leader: int, now_ms: int) -> list:
        self.role = Learner(self.my_id, leader, self.accepted_epoch, self.current_epoch, self.last_zxid,
                            self.last_delivered, self.tick_ms, self.init_limit, self.sync_limit,
                            observer=self.observer, reconfig_enabled=self.reconfig_enabled)
        return self._track(self.role.start(now_ms), now_ms)

    # ---- inputs -----------------------------------------------------------------------------------

    def on_election(self, sid: int, n: Notification, now_ms: int) -> list:
        if self.reconfig_enabled and n.version > 1 and n.config and self.state == PeerState.LOOKING:
            adopted = self._newer_config(n.config)
            if adopted is not None:
                # FastLeaderElection's receiver: a LOOKING member that hears of a newer configuration takes
                # it and, if its members differ, starts its election again under it (the notification is
                # dropped).
                same = adopted.same_members(self.config)
                out = self._activate(adopted, None)[1]
                if same:
                    return out + self._guard(lambda: self.election.receive(sid, n, now_ms), now_ms)
                if self.election.started:
                    out += self._guard(lambda: self.election.start(now_ms, self.last_zxid, self.current_epoch),
                                       now_ms)
                return out
        return self._guard(lambda: self.election.receive(sid, n, now_ms), now_ms)

    def _newer_config(self, text: bytes) -> qv.QuorumVerifier | None:
        try:
            config = qv.parse(text.decode())
        except (qv.BadServer, UnicodeDecodeError):
            return None
        return config if config.version > self.config.version else None

    def _activate(self, config: qv.QuorumVerifier, designated: int | None) -> tuple[bool, list]:
        """QuorumPeer.processReconfig: `config` is active (an older or equal version changes nothing).
        Returns whether our role must end (we observe now and did not, or the other way round; or the leader
        we follow is not the one named, or not a voter any more) and the actions to pass on."""
        prev = self.config
        if config.version <= prev.version:
            return False, []
        was_observer = self.observer
        self.config = config
        if config.version > self.last_seen.version:
            self.last_seen = config
        self.election.set_config(config.voters, self.observer, config.data())
        role = self.role
        leader = self.my_id if isinstance(role, Leader) else role.leader if isinstance(role, Learner) else None
        if designated is not None:
            leader_change = leader != designated
        else:
            leader_change = leader is not None and leader not in config.voters
        major = was_observer != self.observer or leader_change
        # Where a role that ends goes next (updateServerState): the leader named, or without one the leader
        # we had if it stays a voter; else an election.
        self._next_leader = designated if designated is not None else None if leader_change else leader
        return major, [Activated(config, designated)]

    def on_packet(self, sid: int, p: QuorumPacket | tuple[str, bytes], now_ms: int) -> list:
        role = self.role
        try:  # as _guard, without a closure per packet
            if isinstance(role, Leader) and isinstance(p, QuorumPacket):
                return self._track(role.on_packet(sid, p, now_ms), now_ms)
            if isinstance(role, Learner) and sid == role.leader:
                return self._track(role.on_packet(p, now_ms), now_ms)
        except (StepDown, LeaveLeader) as e:
            return self._look(now_ms, str(e))
        return []

    def leave(self, reason: str, now_ms: int) -> list:
        """End the current role from outside (its log write failed): elect anew."""
        if self.role is None:
            return []
        return self._look(now_ms, reason)

    def on_disconnected(self, sid: int, now_ms: int) -> list:
        role = self.role
        if isinstance(role, Leader):
            return self._guard(lambda: role.on_disconnected(sid), now_ms)
        if isinstance(role, Learner) and sid == role.leader:
            if role.phase == "info" and now_ms - self.follow_since_ms < self.init_limit * self.tick_ms:
                # Closed before the leader said a word: it was not leading yet. Connect again, as ZooKeeper's
                # connectToLeader (and our member) do within initLimit, rather than electing anew: a new
                # incarnation of the role (a new connection; whatever the old one still carries is not ours).
                role_name = "OBSERVING" if self.observer else "FOLLOWING"
                return [RoleChanged(role_name, sid, reason="dialling the leader again")] + self._follow(sid, now_ms)
            return self._look(now_ms, f"lost the connection to leader {sid}")
        return []

    def on_event(self, event: object, now_ms: int) -> list:
        """Disk completions (`Synced`, `EpochPersisted`, `SnapshotInstalled`) and packets released after them."""
        if isinstance(event, EpochPersisted):
            if event.name == "acceptedEpoch":
                self.accepted_epoch = max(self.accepted_epoch, event.epoch)
            else:
                self.current_epoch = max(self.current_epoch, event.epoch)
        role = self.role
        if role is None:
            return []
        if isinstance(event, Synced):
            try:  # as _guard, without a closure per sync
                return self._track(role.on_synced(event.zxid), now_ms)
            except (StepDown, LeaveLeader) as e:
                return self._look(now_ms, str(e))
        if isinstance(event, EpochPersisted):
            if isinstance(role, Leader):
                return self._guard(lambda: role.on_epoch_persisted(event, now_ms), now_ms)
            return self._guard(lambda: role.on_epoch_persisted(event), now_ms)
        if isinstance(event, SnapshotInstalled) and isinstance(role, Learner):
            return self._guard(lambda: role.on_snapshot_installed(event), now_ms)
        return []

    def tick(self, now_ms: int) -> list:
        if self.round_at_ms is not None and now_ms >= self.round_at_ms and self.state == PeerState.LOOKING:
            self.round_at_ms = None
            return self._guard(lambda: self._round(now_ms), now_ms)
        out = self._guard(lambda: self.election.tick(now_ms), now_ms) if self.state == PeerState.LOOKING else []
        role = self.role
        if role is not None:
            out += self._guard(lambda: role.tick(now_ms), now_ms)
        return out

    def propose(self, txn_for: Callable[[int], bytes], now_ms: int) -> tuple[int | None, list]:
        role = self.role
        if not isinstance(role, Leader) or not role.established:
            return None, []
        zxid, actions = role.propose(txn_for)
        self.last_zxid = zxid
        return zxid, self._track(actions, now_ms)

    # ---- bookkeeping ------------------------------------------------------------------------------

    def _update_election_vote(self, epoch: int) -> None:
        """QuorumPeer.updateElectionVote (ZOOKEEPER-1732): once a role serves in `epoch`, the vote we show
        members that look for a leader carries that epoch. Otherwise members of one ensemble can show
        different peer epochs for the same leader (one that joined it by dialling the leader again, without
        an election, keeps the epoch of its last election), and no quorum of their votes agrees: a member
        that restarts can never join."""
        cur = self.election.current
        if cur is not None and cur.peer_epoch != epoch:
            self.election.current = replace(cur, peer_epoch=epoch)

    def _guard(self, fn: Callable[[], list], now_ms: int) -> list:
        try:
            return self._track(fn(), now_ms)
        except (StepDown, LeaveLeader) as e:
            return self._look(now_ms, str(e))

    def _track(self, actions: list, now_ms: int) -> list:
        """Follow what the role does to our log and state; hand decisions to `_decided`."""
        out: list = []
        leave = False
        named: int | None = None
        for a in actions:
            t = type(a)
            if t is Decided:
                out += self._decided(a, now_ms)
                continue
            if t is SeenConfig:
                if a.config.version > self.last_seen.version:
                    self.last_seen = a.config
                    out.append(a)
                continue
            if t is Activated:
                if isinstance(self.role, Leader):
                    # The leader already acts on it (Leader.allowed_to_commit); it leads until its quorum goes.
                    self.config = a.config
                    if a.config.version > self.last_seen.version:
                        self.last_seen = a.config
                    self.election.set_config(a.config.voters, self.observer, a.config.data())
                    out.append(a)
                    continue
                major, acts = self._activate(a.config, a.designated)
                leave = leave or major
                named = self._next_leader
                out += acts
                continue
            if t is Append and not isinstance(self.role, Leader):
                self.window.extend(a.entries)
                self.last_zxid = max(self.last_zxid, a.entries[-1][0])
            elif t is Truncate:
                self.window = [e for e in self.window if e[0] <= a.zxid]
                self.last_zxid = min(self.last_zxid, a.zxid)
                self.last_delivered = min(self.last_delivered, a.zxid)
            elif t is InstallSnapshot:
                self.window = []
                self.window_complete = False
                self.last_zxid = self.last_delivered = a.zxid
            elif t is Deliver:
                self.last_delivered = max(self.last_delivered, a.zxid)
            elif t is RoleChanged and a.serving:
                self.serving = True
                if a.epoch is not None:
                    self.current_epoch = max(self.current_epoch, a.epoch)
                    self._update_election_vote(a.epoch)
            out.append(a)
        if leave and isinstance(self.role, Learner):
            # "changes proposed in reconfig": the learner leaves its leader and looks for the one to follow.
            # The role ends with this step, so nothing else it decided here happens (the reload that starts
            # the election brings back whatever reached the disk); the configuration is kept all the same.
            out = [a for a in out if type(a) in (Activated, SeenConfig)]
            self.designated = named
            out += self._look(now_ms, "the reconfiguration changed our role or our leader")
        if len(self.window) > self.window_limit * 2:
            # Keep the newest window_limit txns, and every txn not yet applied (a later role applies them).
            keep_from = len(self.window) - self.window_limit
            for i in range(keep_from):
                if self.window[i][0] > self.last_delivered:
                    keep_from = i
                    break
            del self.window[:keep_from]
            self.window_complete = False
            if isinstance(self.role, Leader):
                self.role.window_complete = False
        return out
