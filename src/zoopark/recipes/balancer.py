"""Client-side load balancing over discovered instances (Curator's ServiceProvider and its strategies):
round-robin, random, sticky, weighted (the payload's "weight") and least-outstanding (calls in flight from
this client); instances reported down are skipped for `down_timeout` seconds (Curator's DownInstancePolicy),
and `call` retries on the next instance when one fails.

    provider = Provider(cache, RoundRobin(), down_timeout=30)
    result = provider.call(lambda inst: http_get(inst.address, inst.port, "/orders"), attempts=3)
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

from .discovery import ServiceCache, ServiceInstance


class NoInstances(Exception):
    """No instance is registered (or every one is down)."""


class Strategy:
    def choose(self, instances: list[ServiceInstance], provider: Provider) -> ServiceInstance:
        raise NotImplementedError


class RoundRobin(Strategy):
    def __init__(self) -> None:
        self.n = 0
        self._lock = threading.Lock()

    def choose(self, instances, provider):
        with self._lock:
            self.n += 1
            return instances[(self.n - 1) % len(instances)]


class Random(Strategy):
    def __init__(self, rng: random.Random | None = None) -> None:
        self.rng = rng or random.Random()

    def choose(self, instances, provider):
        return self.rng.choice(instances)


class Sticky(Strategy):
    """The same instance while it is there and up; then whatever `inner` picks."""

    def __init__(self, inner: Strategy | None = None) -> None:
        self.inner = inner or RoundRobin()
        self.current: str | None = None

    def choose(self, instances, provider):
        for inst in instances:
            if inst.id == self.current:
                return inst
        chosen = self.inner.choose(instances, provider)
        self.current = chosen.id
        return chosen


class Weighted(Strategy):
    """Random, in proportion to each instance's payload["weight"] (1 when absent; 0 never chosen)."""

    def __init__(self, rng: random.Random | None = None, key: str = "weight") -> None:
        self.rng = rng or random.Random()
        self.key = key

    def weight(self, inst: ServiceInstance) -> float:
        payload = inst.payload if isinstance(inst.payload, dict) else {}
        try:
            return max(0.0, float(payload.get(self.key, 1)))
        except (TypeError, ValueError):
            return 1.0

    def choose(self, instances, provider):
        weights = [self.weight(i) for i in instances]
        if not any(weights):
            raise NoInstances("every instance has weight 0")
        return self.rng.choices(instances, weights=weights)[0]


class LeastOutstanding(Strategy):
    """The instance with the fewest calls in flight through this provider (ties: the first, in id order)."""

    def choose(self, instances, provider):
        return min(instances, key=lambda i: (provider.outstanding.get(i.id, 0), i.id))


class Provider:
    def __init__(self, source: ServiceCache | Callable[[], list[ServiceInstance]], strategy: Strategy | None = None,
                 down_timeout: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.source = source.instances if isinstance(source, ServiceCache) else source
        self.strategy = strategy or RoundRobin()
        self.down_timeout = down_timeout
        self.clock = clock
        self.down: dict[str, float] = {}  # instance id -> when it may be tried again
        self.outstanding: dict[str, int] = {}
        self._lock = threading.Lock()

    def up(self) -> list[ServiceInstance]:
        now = self.clock()
        with self._lock:
            self.down = {i: t for i, t in self.down.items() if t > now}
            down = set(self.down)
        return [i for i in sorted(self.source(), key=lambda i: i.id) if i.enabled and i.id not in down]

    def get_instance(self) -> ServiceInstance:
        instances = self.up()
        if not instances:
            raise NoInstances("no instance is up")
        return self.strategy.choose(instances, self)

    def note_error(self, instance: ServiceInstance) -> None:
        """The instance failed a call: skip it for down_timeout seconds."""
        with self._lock:
            self.down[instance.id] = self.clock() + self.down_timeout

    def call(self, fn: Callable[[ServiceInstance], Any], attempts: int = 3,
             errors: tuple[type[BaseException], ...] = (OSError,)) -> Any:
        """fn(instance) on a chosen instance; on one of `errors` the instance is noted down and the next one
        is tried, up to `attempts` times; the last error is raised."""
        last: BaseException | None = None
        for _ in range(max(1, attempts)):
            try:
                inst = self.get_instance()
            except NoInstances:
                if last is not None:
                    raise last from None
                raise
            with self._lock:
                self.outstanding[inst.id] = self.outstanding.get(inst.id, 0) + 1
            try:
                return fn(inst)
            except errors as e:
                last = e
                self.note_error(inst)
            finally:
                with self._lock:
                    self.outstanding[inst.id] -= 1
        assert last is not None
        raise last
