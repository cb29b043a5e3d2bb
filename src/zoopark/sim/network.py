"""A seeded fake network: per-link FIFO or reordering delivery, delay, loss and partitions.

Messages go in with `send(src, dst, msg, now)` and come out of `due(now)` in delivery-time order. Every
random choice comes from the one `random.Random` the simulation was seeded with, so a run replays exactly.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from ..core.zab.election import MAX_NOTIFICATION_INTERVAL_MS

# How long a healed run may take to settle. Election messages here are lost one by one (Faults.drop), and a
# LOOKING server that hears nothing says its vote again at intervals that double up to ZooKeeper's
# maxNotificationInterval (60 s): a few losses in a row put its next try a minute away. A bound of one
# interval failed runs that settled a little later (the zab simulator's seed 680 at 71 s; an election seed with
# a fifth of messages lost after 100 s); five of them still catch a run that never settles.
SETTLE_MS = 5 * MAX_NOTIFICATION_INTERVAL_MS


@dataclass
class Faults:
    drop: float = 0.0  # probability a message is lost
    min_delay_ms: int = 1
    max_delay_ms: int = 5
    reorder: bool = False  # deliver a link's messages out of order (TCP never does; election links re-dial)
    stream_break: float = 0.0005  # probability that a message on a stream (TCP) link breaks the connection


@dataclass(order=True)
class _InFlight:
    at_ms: int
    seq: int
    src: int = field(compare=False)
    dst: int = field(compare=False)
    msg: object = field(compare=False)
    stream: bool = field(default=False, compare=False)


class Network:
    def __init__(self, rng: random.Random, faults: Faults | None = None,
                 on_lost: Callable[[int, int, object], None] | None = None) -> None:
        """`on_lost(src, dst, msg)` hears of every lost message sent with `stream=True`: on a TCP stream a
        loss is not a gap but a broken connection, and the caller breaks it."""
        self.on_lost = on_lost
        self.rng = rng
        self.faults = faults or Faults()
        self._heap: list[_InFlight] = []
        self._seq = itertools.count()
        self._last_on_link: dict[tuple[int, int], int] = {}
        self.cut: set[frozenset[int]] = set()  # links that lose everything
        self.down: set[int] = set()  # crashed nodes: they neither send nor receive
        self.sent = 0
        self.dropped = 0

    def partition(self, *groups: set[int]) -> None:
        """Cut every link between different groups."""
        self.cut.clear()
        for a, b in itertools.combinations(groups, 2):
            for x in a:
                for y in b:
                    self.cut.add(frozenset((x, y)))

    def heal(self) -> None:
        self.cut.clear()

    def connected(self, a: int, b: int) -> bool:
        return a not in self.down and b not in self.down and frozenset((a, b)) not in self.cut

    def send(self, src: int, dst: int, msg: object, now_ms: int, stream: bool = False) -> None:
        self.sent += 1
        loss = self.faults.stream_break if stream else self.faults.drop
        if src != dst and (not self.connected(src, dst) or self.rng.random() < loss):
            self.dropped += 1
            if stream and self.on_lost is not None:
                self.on_lost(src, dst, msg)
            return
        f = self.faults
        at = now_ms + (0 if src == dst else self.rng.randint(f.min_delay_ms, f.max_delay_ms))
        if not f.reorder:
            at = max(at, self._last_on_link.get((src, dst), 0))
            self._last_on_link[(src, dst)] = at
        heapq.heappush(self._heap, _InFlight(at, next(self._seq), src, dst, msg, stream))

    def next_at(self) -> int | None:
        return self._heap[0].at_ms if self._heap else None

    def due(self, now_ms: int) -> list[tuple[int, int, object]]:
        out = []
        while self._heap and self._heap[0].at_ms <= now_ms:
            m = heapq.heappop(self._heap)
            if m.dst in self.down or (m.src != m.dst and frozenset((m.src, m.dst)) in self.cut):
                self.dropped += 1
                if m.stream and self.on_lost is not None:
                    self.on_lost(m.src, m.dst, m.msg)
                continue
            out.append((m.src, m.dst, m.msg))
        return out
