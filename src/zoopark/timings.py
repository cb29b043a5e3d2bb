"""How long the slow things take, process-wide: fsync, election, snapshot, proposal (a write proposed by the
leader until a quorum has it). Histograms with fixed buckets, observed from any thread (plain adds under the
GIL), exported by the Prometheus endpoint (admin/metrics.py) under ZooKeeper's names where it has them."""

from __future__ import annotations

import bisect

_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Timing:
    __slots__ = ("name", "help", "buckets", "counts", "count", "total")

    def __init__(self, name: str, help: str, buckets: tuple[float, ...] = _BUCKETS) -> None:
        self.name, self.help, self.buckets = name, help, buckets
        self.counts = [0] * (len(buckets) + 1)
        self.count = 0
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, seconds)] += 1
        self.count += 1
        self.total += seconds

    def cumulative(self) -> list[tuple[str, int]]:
        return cumulative(self.buckets, self.counts)


def cumulative(bounds, counts: list[int]) -> list[tuple[str, int]]:
    """Prometheus buckets from per-bucket counts (one more count than bounds: the overflow): (upper bound,
    observations at or below it), +Inf last."""
    out, seen = [], 0
    for bound, n in zip((*(str(b) for b in bounds), "+Inf"), counts, strict=True):
        seen += n
        out.append((bound, seen))
    return out


FSYNC = Timing("fsynctime_seconds", "Time of each txn log fsync")
ELECTION = Timing("election_time_seconds", "Time from LOOKING to a decided leader")
SNAPSHOT = Timing("snapshottime_seconds", "Time to write a snapshot")
PROPOSAL = Timing("proposal_latency_seconds", "Time from a leader's proposal to its commit by a quorum")
ALL = (FSYNC, ELECTION, SNAPSHOT, PROPOSAL)
