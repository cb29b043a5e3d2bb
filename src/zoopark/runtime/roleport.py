"""The client port of one serving role of an ensemble member, for the member machine's executor: connections
in as `ClientConnect` / `ClientFrame` / `ClientGone` (the machine decides which it takes), the four-letter
words answered from the machine's core. A port is opened for a role (`OpenPort`) and stopped for good when it
ends (`ClosePort`); connection ids come from one counter for the member's whole life, so a connection of an
ended role is never taken for one of the next."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from ..admin import fourlw
from ..core.member.actions import ClientConnect, ClientFrame, ClientGone
from ..core.server.sasl import NONCE_BYTES
from ..net.client import ClientConnection, ClientHandler, ClientPort, ClientPortSettings
from .server import listen_clients

if TYPE_CHECKING:
    from .member import Member

log = logging.getLogger("zoopark.member")

MODES = {"LEADING": "leader", "FOLLOWING": "follower", "OBSERVING": "observer", "READ-ONLY": "read-only"}


class RolePort(ClientHandler):
    def __init__(self, member: Member) -> None:
        cfg = member.cfg
        self.m = member
        self.port = ClientPort(self, ClientPortSettings(
            max_client_cnxns=cfg.max_client_cnxns,
            jute_max_buffer_bytes=cfg.jute_max_buffer_bytes,
            handshake_timeout_s=cfg.sessionless_cnxn_timeout_ms / 1000,
        ), member.conn_ids)

    async def open(self, mode: str) -> None:
        await listen_clients(self.port, self.m.cfg, MODES.get(mode, mode))

    async def close(self) -> None:
        await self.port.stop()

    # ---- ClientHandler -----------------------------------------------------------------------------

    def connected(self, conn: ClientConnection) -> None:
        """Every connection goes to the machine, which decides whether its current role takes it (only an open
        port of the current role does; others are answered by a ClientClose)."""
        m = self.m
        if m.machine is None:
            conn.close("not started")
            return
        m.conns[conn.id] = conn
        core = m.machine.core
        nonce = os.urandom(NONCE_BYTES) if core is not None and core.sasl_enabled else b""
        m.feed(ClientConnect(conn.id, conn.remote_ip, conn.remote_port, nonce, conn.x509_subject))

    def frames(self, conn: ClientConnection, frames: list[bytes]) -> None:
        if conn.id in self.m.conns:
            self.m.feed_all([ClientFrame(conn.id, f) for f in frames])

    def disconnected(self, conn: ClientConnection) -> None:
        if self.m.conns.pop(conn.id, None) is not None:
            self.m.feed(ClientGone(conn.id))

    def four_letter(self, cmd: str, conn: ClientConnection) -> str | None:
        view = self.m.client_server()
        if view is None:
            return None if cmd not in fourlw.KNOWN else "This ZooKeeper instance is not currently serving requests\n"
        return fourlw.answer_on(cmd, view, conn.id, conn.remote_ip)


class ServingView:
    """What the four-letter words, the admin server and the metrics read of the role serving clients now."""

    def __init__(self, member: Member, core: Any, mode: str, port: ClientPort | None) -> None:
        self.cfg = member.cfg
        self.core = core
        self.mode = MODES.get(mode, mode.lower())
        self.port = port if port is not None else _NoPort()
        self.started_at = member.started_at
        self.ensemble_stats = member.stats
        machine = member.machine
        # The active configuration (conf's membership): the configured one until a reconfig changes it.
        self.quorum_config = machine.peer.config.text() if machine is not None else None
        if mode == "LEADING":
            self.proposal_sizes = member.proposal_sizes


class _NoPort:
    conns: dict = {}
