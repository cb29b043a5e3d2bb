"""The admin HTTP server (ZooKeeper's JettyAdminServer): GET <commandURL> lists the commands as links, GET
<commandURL>/<name>[?arg=value] runs one and answers its JSON (HTTP 200, errors in the "error" field, as
ZooKeeper 3.8 does). The live dashboard is served here too (admin/dashboard.py)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from aiohttp import web

from . import commands

log = logging.getLogger("zoopark.admin")


def _json(body: dict) -> web.Response:
    text = json.dumps(body, indent=2, separators=(",", " : "), default=str)
    return web.Response(text=text + "\n", content_type="application/json")


def make_app(context: Callable[[], commands.Context], command_url: str = "/commands",
             extra_routes: list[web.RouteDef] | None = None) -> web.Application:
    base = "/" + command_url.strip("/")

    async def index(request: web.Request) -> web.Response:
        links = "".join(f'<a href="{base}/{c.primary}">{c.primary}</a><br/>\n'
                        for c in sorted(commands.COMMANDS, key=lambda c: c.primary))
        return web.Response(text=links, content_type="text/html")

    async def run(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        kwargs = {k: v for k, v in request.query.items()}
        try:
            return _json(commands.run(name, context(), kwargs))
        except Exception as e:  # noqa: BLE001 - a command's failure is its answer, never the server's end
            log.exception("admin command %s failed", name)
            return _json({"command": name, "error": f"{type(e).__name__}: {e}"})

    app = web.Application()
    app.add_routes([web.get(base, index), web.get(base + "/", index), web.get(base + "/{name}", run)])
    if extra_routes:
        app.add_routes(extra_routes)
    return app


async def serve_app(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start `app` on host:port (0: any free port); returns its runner (to clean up) and the bound port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    sockets = site._server.sockets if site._server is not None else []
    return runner, (sockets[0].getsockname()[1] if sockets else port)


class AdminServer:
    """admin.enableServer / admin.serverAddress / admin.serverPort / admin.commandURL."""

    def __init__(self, cfg, context: Callable[[], commands.Context],
                 extra_routes: list[web.RouteDef] | None = None) -> None:
        self.cfg = cfg
        self.app = make_app(context, cfg.admin_command_url, extra_routes)
        self.runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        self.runner, self.port = await serve_app(self.app, self.cfg.admin_server_address,
                                                 self.cfg.admin_server_port)
        log.info("admin server on http://%s:%d%s", self.cfg.admin_server_address, self.port,
                 self.cfg.admin_command_url)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
