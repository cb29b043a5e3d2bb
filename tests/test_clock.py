"""runtime/clock.py: the cores' milliseconds follow the wall clock but take its steps in slowly."""

from __future__ import annotations

from zoopark.runtime.clock import Clock

MS = 1_000_000
T0 = 1_700_000_000_000 * MS


class Fake:
    def __init__(self) -> None:
        self.mono = 5_000 * MS
        self.wall = T0

    def advance(self, ms: float) -> None:
        self.mono += int(ms * MS)
        self.wall += int(ms * MS)


def run(clock: Clock, fake: Fake, seconds: float, step_ms: float = 1.0) -> list[int]:
    out = []
    for _ in range(int(seconds * 1000 / step_ms)):
        fake.advance(step_ms)
        out.append(clock.ms())
    return out


def test_it_is_the_wall_clock_while_the_wall_clock_runs_smoothly() -> None:
    f = Fake()
    c = Clock(lambda: f.wall, lambda: f.mono)
    assert c.ms() == T0 // MS
    run(c, f, 2.0)
    f.wall += MS // 2  # NTP slewing: half a millisecond in a second is followed at once
    f.advance(1)
    assert c.ms() == f.wall // MS


def test_a_forward_step_of_a_minute_does_not_make_timers_jump() -> None:
    f = Fake()
    c = Clock(lambda: f.wall, lambda: f.mono)
    run(c, f, 1.0)
    f.wall += 60_000 * MS  # the system clock is set a minute ahead
    before = c.ms()
    after = run(c, f, 10.0, step_ms=0.1)[-1]  # many calls, as under load
    assert 10_000 <= after - before <= 10_100 + 1, "ten seconds took more than 1 % longer"
    run(c, f, 6_100.0, step_ms=100.0)  # taken in at 1 % of the time passing: a minute in 100 minutes
    assert c.ms() == f.wall // MS


def test_a_backward_step_never_makes_time_run_back() -> None:
    f = Fake()
    c = Clock(lambda: f.wall, lambda: f.mono)
    run(c, f, 1.0)
    last = c.ms()
    f.wall -= 30_000 * MS
    seen = run(c, f, 5.0)
    assert all(b >= a for a, b in zip([last, *seen], seen, strict=False)), "time ran back"
    assert seen[-1] - last >= 4_900, "it stood still instead of slowing by 1 %"
