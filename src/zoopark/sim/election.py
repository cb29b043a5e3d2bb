"""Leader elections of several `Election` cores on the fake network: `python -m zoopark.sim.election`.

Each run is one seed: servers with random (epoch, zxid) histories elect on a network that delays and drops
messages, with late joiners. FastLeaderElection alone may settle different servers on different leaders
(a quorum can form before a better vote arrives); ZAB's discovery is what catches that, so the simulation
models its effect: a follower whose leader is not leading, and a leader without a quorum of followers, go
back to LOOKING after `sync_timeout_ms` (ZooKeeper's initLimit / syncLimit). Checked: every decision's state
matches its leader; the run settles, within a bounded time, on one leader followed by every running server;
and the leader's (epoch, zxid) is at least that of a quorum of voters (a voter only ever moves its vote up, so
the quorum that elects a leader is never ahead of it; a server that joins an established leader later may be
ahead, and ZAB's sync truncates what it holds beyond the leader, which was never committed).
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass, field

from ..core.jute.election import PeerState
from ..core.zab.election import Decided, Election, SendTo, total_order
from .network import SETTLE_MS, Faults, Network


class InvariantViolation(AssertionError):
    pass


@dataclass
class ElectionRun:
    seed: int
    voters: int = 3
    observers: int = 0
    faults: Faults = field(default_factory=Faults)
    now_ms: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.net = Network(self.rng, self.faults)
        ids = list(range(1, self.voters + self.observers + 1))
        self.voter_ids = frozenset(ids[: self.voters])
        self.nodes = {sid: Election(sid, self.voter_ids, observer=sid not in self.voter_ids) for sid in ids}
        # Histories: a few epochs, zxids within them; equal histories happen (the id breaks the tie).
        self.history = {}
        for sid in ids:
            epoch = self.rng.randint(0, 2)
            self.history[sid] = (epoch, (epoch << 32) | self.rng.randint(0, 3))
        self.decisions: dict[int, Decided] = {}
        self.decided_at: dict[int, int] = {}
        self.sync_timeout_ms = 1000
        self.restarts = 0

    def best_of(self, sids) -> int:
        best = None
        for sid in sids:
            if sid not in self.voter_ids:
                continue
            epoch, zxid = self.history[sid]
            if best is None or total_order(sid, zxid, epoch, best[0], best[2], best[1]):
                best = (sid, epoch, zxid)
        assert best is not None
        return best[0]

    def start(self, sid: int) -> None:
        epoch, zxid = self.history[sid]
        self.decisions.pop(sid, None)
        self._run_actions(sid, self.nodes[sid].start(self.now_ms, zxid, epoch))

    def _run_actions(self, sid: int, actions: list) -> None:
        for a in actions:
            if isinstance(a, SendTo):
                self.net.send(sid, a.sid, a.notification, self.now_ms)
            elif isinstance(a, Decided):
                self.decisions[sid] = a
                self.decided_at[sid] = self.now_ms
                self._check_decision(sid, a)

    def _check_decision(self, sid: int, d: Decided) -> None:
        expected = PeerState.LEADING if d.vote.leader == sid else (
            PeerState.OBSERVING if sid not in self.voter_ids else PeerState.FOLLOWING)
        if d.state != expected:
            raise InvariantViolation(f"seed {self.seed}: server {sid} decided {d.state.name} for leader "
                                     f"{d.vote.leader}")

    def _discovery(self) -> None:
        """What ZAB's discovery does to a wrong election result: back to LOOKING after the timeout."""
        for sid, d in list(self.decisions.items()):
            if sid in self.net.down or self.now_ms - self.decided_at[sid] < self.sync_timeout_ms:
                continue
            if d.state == PeerState.LEADING:
                followers = {s for s, o in self.decisions.items()
                             if o.vote.leader == sid and s in self.voter_ids}
                ok = len(followers) * 2 > len(self.voter_ids)
            else:
                lead = self.decisions.get(d.vote.leader)
                ok = lead is not None and lead.state == PeerState.LEADING
            if not ok:
                self.restarts += 1
                self.start(sid)
            else:
                self.decided_at[sid] = self.now_ms  # checked again a timeout later

    def step_until(self, end_ms: int, max_steps: int = 200_000) -> None:
        for _ in range(max_steps):
            nxt = self.net.next_at()
            t = min(nxt if nxt is not None else end_ms, self.now_ms + 50, end_ms)
            self.now_ms = max(self.now_ms, t)
            for src, dst, msg in self.net.due(self.now_ms):
                self._run_actions(dst, self.nodes[dst].receive(src, msg, self.now_ms))
            for sid, node in self.nodes.items():
                if sid not in self.net.down:
                    self._run_actions(sid, node.tick(self.now_ms))
            self._discovery()
            if self.now_ms >= end_ms:
                return
        raise InvariantViolation(f"seed {self.seed}: {max_steps} steps without reaching {end_ms} ms")


def _unsettled(r: ElectionRun, running: list[int], what: str) -> str | None:
    """Why the running servers have not settled on one leader that leads; None once they have (then nothing
    moves: the discovery model sends nobody back)."""
    missing = [s for s in running if s not in r.decisions]
    if missing:
        return f"seed {r.seed}: {what}: servers {missing} never settled"
    leaders = {r.decisions[s].vote.leader for s in running}
    if len(leaders) != 1:
        return f"seed {r.seed}: {what}: servers settled on leaders {sorted(leaders)}"
    leader = leaders.pop()
    d = r.decisions.get(leader)
    if d is None or d.state != PeerState.LEADING:
        return f"seed {r.seed}: {what}: {leader} is followed but not leading"
    return None


def _settle(r: ElectionRun, running: list[int]) -> None:
    """Run until the running servers have settled, or SETTLE_MS have passed."""
    deadline = r.now_ms + SETTLE_MS
    while r.now_ms < deadline and _unsettled(r, running, "") is not None:
        r.step_until(min(deadline, r.now_ms + 1000))


def _check_settled(r: ElectionRun, running: list[int], originals: list[int], what: str) -> None:
    why = _unsettled(r, running, what)
    if why is not None:
        raise InvariantViolation(why)
    leader = r.decisions[running[0]].vote.leader
    lead = r.history[leader]
    behind = [s for s in originals if r.history[s] <= lead]
    if len(behind) * 2 <= len(r.voter_ids):
        raise InvariantViolation(f"seed {r.seed}: {what}: leader {leader} at {lead} is not at least as far as a "
                                 f"quorum of voters: {[(s, r.history[s]) for s in originals]}")


def run_seed(seed: int) -> ElectionRun:
    """One randomised scenario; raises InvariantViolation on a broken rule."""
    rng = random.Random(seed)
    voters = rng.choice([3, 5])
    faults = Faults(drop=rng.choice([0.0, 0.05, 0.2]), min_delay_ms=1, max_delay_ms=rng.choice([5, 50, 300]))
    r = ElectionRun(seed, voters, rng.choice([0, 0, 1]), faults)
    ids = list(r.nodes)
    late = set(rng.sample(sorted(r.voter_ids), rng.randint(0, (voters - 1) // 2)))
    first = [s for s in ids if s not in late]
    originals = [s for s in first if s in r.voter_ids]
    r.net.down |= late  # not started yet: they neither hear nor speak
    for sid in first:
        r.start(sid)
    _settle(r, first)
    _check_settled(r, first, originals, "first election")
    r.net.down -= late
    for sid in sorted(late):  # late joiners find the running ensemble and follow its leader
        r.start(sid)
    _settle(r, ids)
    _check_settled(r, ids, originals, "after late joins")
    return r


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m zoopark.sim.election")
    ap.add_argument("--seed", type=int, help="replay one seed")
    ap.add_argument("--seeds", type=int, default=1000, help="run seeds 0..N-1")
    args = ap.parse_args(argv)
    seeds = [args.seed] if args.seed is not None else range(args.seeds)
    for s in seeds:
        run_seed(s)
    print(f"{len(seeds)} election seeds passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
