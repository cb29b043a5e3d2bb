"""The AdminServer's commands (ZooKeeper 3.8's `/commands/<name>`): each is a function of the serving server
(and of the ensemble member, if any) returning the dict ZooKeeper's Jackson output would hold, with
ZooKeeper's names, aliases and snake_case keys. `run` adds "command" and "error" as CommandResponse does.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..config import redacted
from .fourlw import (
    VERSION,
    _dir_size,
    _watch_sessions,
    conn_interest_and_queued,
    environment,
    java_avg,
    mntr_rows,
    watchers_by_path,
)

# ZooTrace's default text trace mask (client requests, server packets, sessions, warnings); stmk sets it.
_trace_mask = 306


@dataclass
class Context:
    """What a command may look at: the server serving clients now (None between roles), the ensemble member
    (None when standalone) and the config."""

    server: Any
    member: Any
    cfg: Any


@dataclass(frozen=True)
class Command:
    names: tuple[str, ...]
    fn: Callable[[Context, dict[str, str]], dict[str, Any]]
    server_required: bool = True

    @property
    def primary(self) -> str:
        return self.names[0]


def _connection_info(conn: Any, core: Any, brief: bool) -> dict[str, Any]:
    """ServerCnxn.getConnectionInfo."""
    st = conn.stats
    interest, queued = conn_interest_and_queued(conn, core)
    info: dict[str, Any] = {
        "remote_socket_address": f"{conn.remote_ip}:{st.remote_port}",
        "interest_ops": interest,
        "outstanding_requests": queued,
        "packets_received": st.recved,
        "packets_sent": st.sent,
    }
    if not brief:
        s = core.sessions.get(conn.session) if conn.session is not None else None
        lat = st.latency
        info.update({
            "session_id": f"0x{(conn.session or 0) & 0xFFFFFFFFFFFFFFFF:x}",
            "last_operation": st.last_op,
            "established": st.established_ms,
            "session_timeout": s.timeout_ms if s else 0,
            "last_cxid": st.last_cxid,
            "last_zxid": st.last_zxid,
            "last_response_time": st.last_resp_ms,
            "last_latency": lat.last_ms,
            "min_latency": lat.min_ms,
            "avg_latency": int(lat.avg()),
            "max_latency": lat.max_ms,
        })
    return info


def _buffer_stats(sizes: tuple[int, int, int]) -> dict[str, int]:
    last, lo, hi = sizes
    return {"last_buffer_size": last, "min_buffer_size": lo, "max_buffer_size": hi}


def _server_stats(ctx: Context) -> dict[str, Any]:
    core = ctx.server.core
    st = core.stats
    return {
        "packets_sent": st.packets_sent,
        "packets_received": st.packets_received,
        "fsync_threshold_exceed_count": 0,
        "client_response_stats": _buffer_stats((-1, -1, -1)),
        "provider_null": False,
        "server_state": getattr(ctx.server, "mode", "standalone"),
        "outstanding_requests": st.outstanding,
        "min_latency": st.latency.min_ms,
        "avg_latency": java_avg(st.latency.total_ms, st.latency.count),
        "max_latency": st.latency.max_ms,
        "data_dir_size": _dir_size(ctx.cfg.snap_dir),
        "log_dir_size": _dir_size(ctx.cfg.log_dir),
        "last_processed_zxid": core.tree.last_zxid,
        "num_alive_client_connections": len(core.conns),
        "auth_failed_count": 0,
        "non_mtls_remote_conn_count": 0,
        "non_mtls_local_conn_count": 0,
        "uptime": int((time.time() - ctx.server.started_at) * 1000),
    }


def server_stats(ctx: Context, kw: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "version": VERSION,
        "read_only": getattr(ctx.server, "mode", "") == "read-only",
        "server_stats": _server_stats(ctx),
        "client_response": _buffer_stats((-1, -1, -1)),
    }
    sizes = getattr(ctx.server, "proposal_sizes", None)
    if sizes is not None:
        out["proposal_stats"] = _buffer_stats(sizes())
    out["node_count"] = ctx.server.core.tree.node_count() + 1
    return out


def stats(ctx: Context, kw: dict[str, str]) -> dict[str, Any]:
    out = server_stats(ctx, kw)
    core = ctx.server.core
    out["connections"] = [_connection_info(c, core, True) for c in core.conns.values()]
    return out


def connections(ctx: Context, kw: dict[str, str]) -> dict[str, Any]:
    core = ctx.server.core
    port_conns = ctx.server.port.conns  # ZooKeeper lists its secure factory's connections apart
    secure = {i for i, pc in port_conns.items() if pc.secure}
    return {"connections": [_connection_info(c, core, False) for c in core.conns.values() if c.id not in secure],
            "secure_connections": [_connection_info(c, core, False) for c in core.conns.values() if c.id in secure]}


def configuration(ctx: Context, kw: dict[str, str]) -> dict[str, Any]:
    cfg = ctx.cfg
    return {
        "client_port": cfg.client_port or -1,
        "data_dir": str(cfg.snap_dir),
        "data_log_dir": str(cfg.log_dir),
        "tick_time": cfg.tick_time_ms,
        "max_client_cnxns": cfg.max_client_cnxns,
        "min_session_timeout": cfg.min_session_timeout_ms,
        "max_session_timeout": cfg.max_session_timeout_ms,
        "server_id": cfg.my_id or 0,
        "client_port_listen_backlog": -1,
    }


def monitor(ctx: Context, kw: dict[str, str]) -> dict[str, Any]:
    if ctx.server is None:
        return {"server_state": ctx.member.state.lower() if ctx.member else "standalone"}
    return {k.removeprefix("zk_"): v for k, v in mntr_rows(ctx.server)}


def dirs(ctx: Context, kw: dict[str, str]) -> dict[str, Any]:
    return {"datadir_size": _dir_size(ctx.cfg.snap_dir), "logdir_size": _dir_size(ctx.cfg.log_dir)}


def dump(ctx: Context, kw: dict[str, str]) -> dict[str, Any]:
    core = ctx.server.core
    expiry: dict[str, list[int]] = {}
    for s in core.sessions.sessions.values():
        expiry.setdefault(str(s.expire_at_ms), []).append(s.id)
    ephemerals = {str(sid): sorted(paths) for sid, paths in core.tree.ephemerals.items()}
    return {"expiry_time_to_session_ids": expiry, "session_id_to_ephemeral_paths": ephemerals}


def env(ctx: Context, kw: dict[str, str]) -> dict[str, Any]:
    return dict(environment())


def system_properties(ctx: Context, kw: dict[str, str]) -> dict[str, Any]:
    return dict(sorted(environment()))


def digests(ctx: Context, kw: dict[str, str]) -> dict[str, Any]:
    tree = ctx.server.core.tree
    return {"digests": [{"zxid": tree.last_zxid, "digest": tree.recompute_digest()}]}


def get_trace_mask(ctx: Context, kw: dict[str, str]) -> dict[str, Any]:
    return {"tracemask": _trace_mask}


def set_trace_mask(ctx: Context, kw: dict[str, str]) -> dict[str, Any]:
    global _trace_mask
    if "traceMask" not in kw:
        return {"error": "setTraceMask requires long traceMask argument"}
    try:
        _trace_mask = int(kw["traceMask"])
    except ValueError:
        return {"error": f"setTraceMask requires long traceMask argument, got {kw['traceMask']}"}
    return {"tracemask": _trace_mask}


def initial_configuration(ctx: Context, kw: dict[str, str]) -> dict[str, Any]:
    return {"initial_configuration": redacted(ctx.cfg.source_text)}  # no keystore password leaves the server


def is_read_only(ctx: Context, kw: dict[str, str]) -> dict[str, Any]:
    return {"read_only": getattr(ctx.server, "mode", "") == "read-only"}


def last_snapshot(ctx: Context, kw: dict[str, str]) -> dict[str, Any]:
    best: tuple[int, int] | None = None
    try:
        for e in os.scandir(ctx.cfg.snap_dir):
            if e.name.startswith("snapshot.") and e.is_file():
                try:
                    zxid = int(e.name.split(".", 1)[1], 16)
                except ValueError:
                    continue
                if best is None or zxid > best[0]:
                    best = (zxid, int(e.stat().st_mtime))
    except OSError:
        pass
    zxid, ts = best if best is not None else (-1, -1)
    return {"zxid": f"{zxid & 0xFFFFFFFFFFFFFFFF:x}", "timestamp": ts}


def leader(ctx: Context, kw: dict[str, str]) -> dict[str, Any]:
    m = ctx.member
    if m is None:
        return {"error": "server is not initialized"}
    lid = m.leader if m.state != "LOOKING" else None
    spec = m.servers.get(lid) if lid is not None else None
    return {"is_leader": m.state == "LEADING", "leader_id": lid if lid is not None else -1,
            "leader_ip": spec.host if spec is not None else ""}


def voting_view(ctx: Context, kw: dict[str, str]) -> dict[str, Any]:
    m = ctx.member
    if m is None:
        return {"current_config": {}}
    view = {}
    for sid in sorted(m.servers):
        s = m.servers[sid]
        if not s.observer:
            view[str(sid)] = f"{s.host}:{s.quorum_port}:{s.election_port}:participant"
    return {"current_config": view}


def observers(ctx: Context, kw: dict[str, str]) -> dict[str, Any]:
    run = ctx.member.leader_run if ctx.member is not None else None
    if run is None:
        return {"synced_observers": 0, "observers": []}
    obs = [lr for lr in run.leader.learners.values() if lr.observer]
    return {"synced_observers": sum(1 for lr in obs if lr.phase == "uptodate"),
            "observers": [{"sid": lr.sid, "phase": lr.phase} for lr in obs]}


def zabstate(ctx: Context, kw: dict[str, str]) -> dict[str, Any]:
    m = ctx.member
    if m is None:
        return {"voting": False, "zabstate": ""}
    return {"voting": not m.observer, "zabstate": m.zab_state()}


def watches(ctx: Context, kw: dict[str, str]) -> dict[str, Any]:
    by_session = _watch_sessions(ctx.server.core.tree)
    return {"session_id_to_watched_paths": {str(sid): sorted(p) for sid, p in sorted(by_session.items())}}


def watches_by_path(ctx: Context, kw: dict[str, str]) -> dict[str, Any]:
    by_path = watchers_by_path(ctx.server.core.tree)
    return {"path_to_session_ids": {p: sorted(s) for p, s in sorted(by_path.items())}}


def watch_summary(ctx: Context, kw: dict[str, str]) -> dict[str, Any]:
    by_session = _watch_sessions(ctx.server.core.tree)
    return {"num_connections": len(by_session), "num_paths": len({p for ps in by_session.values() for p in ps}),
            "num_total_watches": sum(len(ps) for ps in by_session.values())}


def _reset_connections(ctx: Context, kw: dict[str, str]) -> dict[str, Any]:
    for c in ctx.server.core.conns.values():
        c.stats.reset()
    return {}


def _reset_stats(ctx: Context, kw: dict[str, str]) -> dict[str, Any]:
    ctx.server.core.stats.reset()
    return {}


COMMANDS: list[Command] = [
    Command(("connection_stat_reset", "crst"), _reset_connections),
    Command(("configuration", "conf", "config"), configuration),
    Command(("connections", "cons"), connections),
    Command(("hash",), digests),
    Command(("dirs",), dirs),
    Command(("dump",), dump),
    Command(("environment", "env", "envi"), env, server_required=False),
    Command(("get_trace_mask", "gtmk"), get_trace_mask, server_required=False),
    Command(("initial_configuration", "icfg"), initial_configuration),
    Command(("is_read_only", "isro"), is_read_only),
    Command(("last_snapshot", "lsnp"), last_snapshot),
    Command(("leader", "lead"), leader),
    Command(("monitor", "mntr"), monitor, server_required=False),
    Command(("observer_connection_stat_reset", "orst"), lambda ctx, kw: {}),
    Command(("ruok",), lambda ctx, kw: {}),
    Command(("set_trace_mask", "stmk"), set_trace_mask, server_required=False),
    Command(("server_stats", "srvr"), server_stats),
    Command(("stats", "stat"), stats),
    Command(("stat_reset", "srst"), _reset_stats),
    Command(("observers", "obsr"), observers),
    Command(("system_properties", "sysp"), system_properties, server_required=False),
    Command(("voting_view",), voting_view),
    Command(("watches", "wchc"), watches),
    Command(("watches_by_path", "wchp"), watches_by_path),
    Command(("watch_summary", "wchs"), watch_summary),
    Command(("zabstate",), zabstate, server_required=False),
]
BY_NAME: dict[str, Command] = {name: c for c in COMMANDS for name in c.names}


def run(name: str, ctx: Context, kwargs: dict[str, str]) -> dict[str, Any]:
    """Commands.runCommand: the response always holds "command" and "error"."""
    cmd = BY_NAME.get(name)
    if cmd is None:
        return {"command": name, "error": f"Unknown command: {name}"}
    if cmd.server_required and ctx.server is None:
        return {"command": cmd.primary, "error": "This ZooKeeper instance is not currently serving requests"}
    out: dict[str, Any] = {"command": cmd.primary, "error": None}
    out.update(cmd.fn(ctx, kwargs))
    return out
