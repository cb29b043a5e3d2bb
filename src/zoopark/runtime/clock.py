"""The milliseconds the cores run on: the wall clock, without its steps.

A core takes one clock for everything: txn times (ctime, mtime) and session ids need the wall clock, its
timers (session expiry, syncLimit, initLimit, tickTime) need one that does not jump. ZooKeeper keeps two;
we keep one that is both: the monotonic clock plus an offset that follows the wall clock. A small
difference (NTP slewing, at most 0.5 ms a second) is followed at once; a step of the system clock (set by
hand, NTP stepping after a suspend) is taken in at `slew` of the elapsed time (1 %), so a forward step of a
minute does not expire every session at once and a backward one never makes time run back. While a step is
taken in, txn times are off the wall clock by what is left of it (ZooKeeper's would show the step).
"""

from __future__ import annotations

import time
from collections.abc import Callable

_FOLLOW_NS = 1_000_000  # differences up to 1 ms are followed at once


class Clock:
    def __init__(self, wall: Callable[[], int] = time.time_ns, mono: Callable[[], int] = time.monotonic_ns,
                 slew: float = 0.01) -> None:
        self._wall, self._mono, self.slew = wall, mono, slew
        m = mono()
        self._last_mono = m
        self._offset = wall() - m
        self._last_ms = 0

    def ms(self) -> int:
        m = self._mono()
        target = self._wall() - m
        elapsed = m - self._last_mono
        self._last_mono = m
        diff = target - self._offset
        if -_FOLLOW_NS <= diff <= _FOLLOW_NS:
            self._offset = target
        else:  # a step: take it in at `slew` of the time that passed
            move = min(abs(diff), int(elapsed * self.slew))
            self._offset += move if diff > 0 else -move
        now = (m + self._offset) // 1_000_000
        if now < self._last_ms:  # following a small step back: stand still instead
            now = self._last_ms
        self._last_ms = now
        return now


CLOCK = Clock()
now_ms = CLOCK.ms
