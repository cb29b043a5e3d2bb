"""The live dashboard, served by the admin server: /dashboard is the page (Chart.js, vendored into the package
at build time by `make`), /dashboard/data one server's sample as JSON. The page polls the data of every
server it is given (?servers=host:adminPort,...; by default its own), and charts read and write TPS,
latency percentiles, fsync time, connections, znodes, watches and follower lag over time, with a table of the roles."""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib import resources
from typing import Any

from aiohttp import web

from .. import timings
from ..core.server.stats import LATENCY_BUCKETS_MS
from .commands import Context

CHART_JS = "chart.umd.min.js"


def sample(ctx: Context) -> dict[str, Any]:
    """What the page needs from one server at one moment (counters only grow: the page takes rates)."""
    m = ctx.member
    out: dict[str, Any] = {"id": ctx.cfg.my_id or 0, "time_ms": int(time.time() * 1000),
                           "buckets_ms": list(LATENCY_BUCKETS_MS), "learners": []}
    server = ctx.server
    if server is None:
        out.update(mode=(m.state.lower() if m is not None else "starting"), serving=False)
        return out
    core = server.core
    st = core.stats
    out.update(
        serving=True, mode=getattr(server, "mode", "standalone"), zxid=core.tree.last_zxid,
        epoch=core.tree.last_zxid >> 32, reads=st.reads, writes=st.writes, latency_hist=list(st.latency_hist),
        connections=len(core.conns), znodes=core.tree.node_count() + 1, watches=core.tree.watch_count(),
        outstanding=st.outstanding, leader=(m.leader if m is not None else None),
        fsyncs=timings.FSYNC.count, fsync_seconds=timings.FSYNC.total,
    )
    run = m.leader_run if m is not None else None
    if run is not None:
        lags = run.learner_lags()
        out["learners"] = [{"sid": lr.sid, "observer": lr.observer, "phase": lr.phase, "lag": lags.get(lr.sid, 0)}
                           for lr in run.leader.learners.values()]
    return out


def routes(context: Callable[[], Context]) -> list[web.RouteDef]:
    static = resources.files("zoopark.admin") / "static"

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=(static / "dashboard.html").read_text(), content_type="text/html")

    async def chart_js(request: web.Request) -> web.Response:
        f = static / CHART_JS
        if not f.is_file():
            raise web.HTTPNotFound(text=f"{CHART_JS} was not vendored: run make (it fetches chart.js from npm)")
        return web.Response(body=f.read_bytes(), content_type="application/javascript")

    async def data(request: web.Request) -> web.Response:
        # The page may poll several servers' admin ports: let it read this from another origin.
        return web.json_response(sample(context()), headers={"Access-Control-Allow-Origin": "*"})

    return [web.get("/dashboard", page), web.get(f"/dashboard/{CHART_JS}", chart_js),
            web.get("/dashboard/data", data)]
