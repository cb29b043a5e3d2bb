"""The operator's endpoints beside the client port: the admin HTTP server (admin.enableServer, port 8080 by
default) and the Prometheus exporter (when metricsProvider.className names the Prometheus provider)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..admin.commands import Context
from ..admin.http import AdminServer
from ..admin.metrics import MetricsServer, wanted

log = logging.getLogger("zoopark.ops")


class Ops:
    def __init__(self, cfg, context: Callable[[], Context]) -> None:
        from ..admin.dashboard import routes

        self.admin = AdminServer(cfg, context, routes(context)) if cfg.admin_enable_server else None
        self.metrics = MetricsServer(cfg, context) if wanted(cfg) else None

    async def start(self) -> None:
        for part in (self.admin, self.metrics):
            if part is None:
                continue
            try:
                await part.start()
            except OSError as e:  # ZooKeeper goes on without its AdminServer too; say why
                log.error("cannot start %s: %s", type(part).__name__, e)

    async def stop(self) -> None:
        for part in (self.admin, self.metrics):
            if part is not None:
                await part.stop()
