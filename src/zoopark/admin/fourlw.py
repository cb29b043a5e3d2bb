"""Four-letter words (ruok, srvr, stat, conf, cons, ...) in ZooKeeper 3.8's output formats."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Callable
from typing import Any

VERSION = "3.8.0-zoopark-0.1.0, built on 2026-11-24 00:00 UTC"

KNOWN = frozenset({
    "ruok", "srvr", "stat", "conf", "cons", "crst", "dump", "envi", "mntr", "wchs", "wchc", "wchp", "isro",
    "srst", "dirs", "gtmk", "stmk",
})


def answer(cmd: str, server: Any, remote_ip: str) -> str | None:
    """The reply to a four-letter word, or None if `cmd` is not one (then it is a normal frame)."""
    if cmd not in KNOWN:
        return None
    allowed = server.cfg.four_letter_words
    if "*" not in allowed and cmd not in allowed:
        return f"{cmd} is not executed because it is not in the whitelist.\n"
    fn = _COMMANDS.get(cmd)
    return fn(server) if fn else ""


def _srvr_lines(server: Any) -> str:
    core = server.core
    c = core.stats
    return (
        f"Latency min/avg/max: {c.latency_min_ms}/{c.latency_avg_ms():.4f}/{c.latency_max_ms}\n"
        f"Received: {c.packets_received}\n"
        f"Sent: {c.packets_sent}\n"
        f"Connections: {len(server.port.conns)}\n"
        f"Outstanding: {core.stats.outstanding}\n"
        f"Zxid: 0x{core.tree.last_zxid:x}\n"
        f"Mode: standalone\n"
        f"Node count: {core.tree.node_count() + 1}\n"
    )


def srvr(server: Any) -> str:
    return f"Zookeeper version: {VERSION}\n" + _srvr_lines(server)


def stat(server: Any) -> str:
    out = [f"Zookeeper version: {VERSION}\n", "Clients:\n"]
    for conn in server.port.conns.values():
        out.append(f" /{conn.remote_ip}:0[1](queued=0,recved=0,sent=0)\n")
    out.append("\n")
    out.append(_srvr_lines(server))
    return "".join(out)


def ruok(server: Any) -> str:
    return "imok"


def isro(server: Any) -> str:
    return "rw"


def conf(server: Any) -> str:
    cfg = server.cfg
    lines = [
        f"clientPort={cfg.client_port}",
        "secureClientPort=-1",
        f"dataDir={cfg.data_dir}/version-2",
        f"dataDirSize={_dir_size(cfg.snap_dir)}",
        f"dataLogDir={cfg.data_log_dir}/version-2",
        f"dataLogSize={_dir_size(cfg.log_dir)}",
        f"tickTime={cfg.tick_time_ms}",
        f"maxClientCnxns={cfg.max_client_cnxns}",
        f"minSessionTimeout={cfg.min_session_timeout_ms}",
        f"maxSessionTimeout={cfg.max_session_timeout_ms}",
        "clientPortListenBacklog=-1",
        "serverId=0",
    ]
    return "\n".join(lines) + "\n"


def _dir_size(path) -> int:
    try:
        return sum(e.stat().st_size for e in os.scandir(path) if e.is_file())
    except OSError:
        return 0


def envi(server: Any) -> str:
    lines = [
        "Environment:",
        f"zookeeper.version={VERSION}",
        f"host.name={platform.node()}",
        f"python.version={sys.version.split()[0]}",
        f"os.name={platform.system()}",
        f"os.arch={platform.machine()}",
        f"os.version={platform.release()}",
        f"user.dir={os.getcwd()}",
    ]
    return "\n".join(lines) + "\n"


def mntr(server: Any) -> str:
    core = server.core
    c = core.stats
    rows = [
        ("zk_version", VERSION),
        ("zk_server_state", "standalone"),
        ("zk_avg_latency", f"{c.latency_avg_ms():.4f}"),
        ("zk_max_latency", c.latency_max_ms),
        ("zk_min_latency", c.latency_min_ms),
        ("zk_packets_received", core.stats.packets_received),
        ("zk_packets_sent", c.packets_sent),
        ("zk_num_alive_connections", len(server.port.conns)),
        ("zk_outstanding_requests", core.stats.outstanding),
        ("zk_znode_count", core.tree.node_count() + 1),
        ("zk_watch_count", core.tree.watch_count()),
        ("zk_ephemerals_count", sum(len(v) for v in core.tree.ephemerals.values())),
        ("zk_approximate_data_size", core.tree.approximate_data_size),
        ("zk_open_file_descriptor_count", _open_fds()),
    ]
    return "".join(f"{k}\t{v}\n" for k, v in rows)


def _open_fds() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return -1


def srst(server: Any) -> str:
    server.core.stats.reset()
    return "Server stats reset.\n"


def crst(server: Any) -> str:
    return "Connection stats reset.\n"


def wchs(server: Any) -> str:
    tree = server.core.tree
    paths = set(tree.data_watches.by_path) | set(tree.child_watches.by_path)
    sessions = set(tree.data_watches.by_session) | set(tree.child_watches.by_session)
    return f"{len(sessions)} connections watching {len(paths)} paths\nTotal watches:{tree.watch_count()}\n"


def wchc(server: Any) -> str:
    tree = server.core.tree
    out = []
    for sid in sorted(set(tree.data_watches.by_session) | set(tree.child_watches.by_session)):
        out.append(f"0x{sid & 0xFFFFFFFFFFFFFFFF:x}\n")
        for p in sorted(tree.data_watches.by_session.get(sid, set()) | tree.child_watches.by_session.get(sid, set())):
            out.append(f"\t{p}\n")
    return "".join(out)


def wchp(server: Any) -> str:
    tree = server.core.tree
    out = []
    for p in sorted(set(tree.data_watches.by_path) | set(tree.child_watches.by_path)):
        out.append(f"{p}\n")
        sids = set(tree.data_watches.by_path.get(p, {})) | set(tree.child_watches.by_path.get(p, {}))
        for sid in sorted(sids):
            out.append(f"\t0x{sid & 0xFFFFFFFFFFFFFFFF:x}\n")
    return "".join(out)


def dump(server: Any) -> str:
    core = server.core
    out = ["SessionTracker dump:\n", f"Session Sets ({len(core.sessions)})/{len(core.sessions)}:\n"]
    out.append("ephemeral nodes dump:\n")
    out.append(f"Sessions with Ephemerals ({len(core.tree.ephemerals)}):\n")
    for sid, paths in sorted(core.tree.ephemerals.items()):
        out.append(f"0x{sid & 0xFFFFFFFFFFFFFFFF:x}:\n")
        for p in sorted(paths):
            out.append(f"\t{p}\n")
    out.append("Connections dump:\n")
    return "".join(out)


def cons(server: Any) -> str:
    return "".join(f" /{c.remote_ip}:0[1](queued=0,recved=0,sent=0)\n" for c in server.port.conns.values()) + "\n"


def dirs(server: Any) -> str:
    return f"datadir_size: {_dir_size(server.cfg.snap_dir)}\nlogdir_size: {_dir_size(server.cfg.log_dir)}\n"


_COMMANDS: dict[str, Callable[[Any], str]] = {
    "ruok": ruok, "srvr": srvr, "stat": stat, "conf": conf, "envi": envi, "mntr": mntr, "srst": srst,
    "crst": crst, "wchs": wchs, "wchc": wchc, "wchp": wchp, "dump": dump, "cons": cons, "isro": isro,
    "dirs": dirs,
}
