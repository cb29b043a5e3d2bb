"""Prometheus metrics (metricsProvider.className=...PrometheusMetricsProvider, metricsProvider.httpPort,
default 7000, path /metrics), with prometheus-client: every numeric mntr row under ZooKeeper's name without
the zk_ prefix (znode_count, watch_count, ephemerals_count, num_alive_connections, outstanding_requests,
learners, synced_followers, ...), the server's state as a labelled gauge, monotonic read / write /
notification counters, a request latency histogram, and what JConsole showed for the JVM: process memory, CPU, threads, open files,
garbage collection, and the event loop's lag."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

from aiohttp import web
from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from .. import timings
from ..core.server.stats import LATENCY_BUCKETS_MS
from ..core.tree import quota
from .commands import Context
from .fourlw import mntr_rows
from .http import serve_app

log = logging.getLogger("zoopark.metrics")


class LoopLag:
    """How late the event loop runs a timer: sampled every `interval_s`, the newest and the worst since the
    last scrape."""

    def __init__(self, interval_s: float = 0.25) -> None:
        self.interval_s = interval_s
        self.last_s = 0.0
        self.max_s = 0.0
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            t0 = time.monotonic()
            await asyncio.sleep(self.interval_s)
            self.last_s = max(0.0, time.monotonic() - t0 - self.interval_s)
            self.max_s = max(self.max_s, self.last_s)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


class ServerCollector:
    def __init__(self, context: Callable[[], Context], lag: LoopLag) -> None:
        self.context = context
        self.lag = lag

    def describe(self):  # no fixed list: the rows depend on the role
        return []

    def collect(self):
        ctx = self.context()
        lag = GaugeMetricFamily("event_loop_lag_seconds", "How late the server's event loop ran a timer",
                                labels=["which"])
        lag.add_metric(["last"], self.lag.last_s)
        lag.add_metric(["max"], self.lag.max_s)
        self.lag.max_s = self.lag.last_s
        yield lag
        yield GaugeMetricFamily("threads", "Threads in the server process", value=threading.active_count())
        for t in timings.ALL:
            yield HistogramMetricFamily(t.name.removesuffix("_seconds"), t.help, buckets=t.cumulative(),
                                        sum_value=t.total, unit="seconds")
        server = ctx.server
        state = GaugeMetricFamily("server_state", "1 for the role this server is in", labels=["state"])
        mode = getattr(server, "mode", None) if server is not None else None
        if mode is None:
            mode = (ctx.member.state.lower() if ctx.member is not None else "standalone")
        state.add_metric([mode], 1)
        yield state
        if server is None:
            return
        for key, value in mntr_rows(server, quotas=False):
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            name = key.removeprefix("zk_")
            yield GaugeMetricFamily(name, f"mntr's {key}", value=value)
        yield from quota_families(server.core)
        st = server.core.stats
        yield CounterMetricFamily("reads", "Read requests answered", value=st.reads)
        yield CounterMetricFamily("writes", "Txns applied (writes, sessions)", value=st.writes)
        yield CounterMetricFamily("notifications", "Watch notifications sent", value=st.notifications)
        buckets = timings.cumulative([b / 1000 for b in LATENCY_BUCKETS_MS], st.latency_hist)
        yield HistogramMetricFamily("request_latency", "Time from a request's arrival to its reply",
                                    buckets=buckets, sum_value=st.latency_sum_ms / 1000, unit="seconds")


def quota_families(core) -> list[Metric]:
    """ZooKeeper's quota gauge sets and its error counter set, labelled `key` by namespace as its Prometheus
    provider labels them (a counter without the `_total` suffix: its simpleclient 0.9 has none)."""
    families: list[Metric] = []
    for name, values in quota.namespace_metrics(core.tree).items():
        family = GaugeMetricFamily(name, name, labels=["key"])
        for ns, v in sorted(values.items()):
            family.add_metric([ns], v)
        families.append(family)
    exceeded = Metric(quota.EXCEEDED, quota.EXCEEDED, "counter")
    for ns, n in sorted(getattr(core, "quota_exceeded", {}).items()):
        exceeded.add_sample(quota.EXCEEDED, {"key": ns}, n)
    families.append(exceeded)
    return families


def registry_for(context: Callable[[], Context], lag: LoopLag) -> CollectorRegistry:
    reg = CollectorRegistry()
    ProcessCollector(registry=reg)
    PlatformCollector(registry=reg)
    GCCollector(registry=reg)
    reg.register(ServerCollector(context, lag))
    return reg


class MetricsServer:
    def __init__(self, cfg, context: Callable[[], Context]) -> None:
        self.cfg = cfg
        self.lag = LoopLag()
        self.registry = registry_for(context, self.lag)
        self.runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        async def metrics(request: web.Request) -> web.Response:
            body = generate_latest(self.registry)
            return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

        app = web.Application()
        app.add_routes([web.get("/metrics", metrics)])
        self.runner, self.port = await serve_app(app, self.cfg.metrics_http_host, self.cfg.metrics_http_port)
        self.lag.start()
        log.info("Prometheus metrics on http://%s:%d/metrics", self.cfg.metrics_http_host, self.port)

    async def stop(self) -> None:
        self.lag.stop()
        if self.runner is not None:
            await self.runner.cleanup()


def wanted(cfg) -> bool:
    """ZooKeeper exports Prometheus metrics when metricsProvider.className names its Prometheus provider."""
    name = cfg.metrics_provider_class or ""
    return "prometheus" in name.lower()
