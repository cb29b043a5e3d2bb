"""Four-letter words (ruok, srvr, stat, conf, cons, ...) in ZooKeeper 3.8's output formats.

Each command is a function of the running server (its core, client port and config); `answer` applies
4lw.commands.whitelist the way ZooKeeper does.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .. import __version__
from ..core.tree import quota
from ..quorumconfig import quorum_config_text

VERSION = f"3.8.0-zoopark-{__version__}, built on 2026-11-24 00:00 UTC"

KNOWN = frozenset({
    "ruok", "srvr", "stat", "conf", "cons", "crst", "dump", "envi", "mntr", "wchs", "wchc", "wchp", "isro",
    "srst", "dirs", "gtmk", "stmk",
})


# ZooKeeper writes a 4lw's answer through an 8 KB BufferedWriter, and counts each buffer it sends as a packet.
_ANSWER_CHUNK_CHARS = 8192


def answer_on(cmd: str, server: Any, conn_id: int, remote_ip: str) -> str | None:
    """`answer` for a command that arrived on client connection `conn_id`: ZooKeeper counts it as a packet
    received (on the connection and the server) before it answers."""
    if cmd not in KNOWN:
        return None
    c = server.core.conns.get(conn_id)
    if c is not None:
        c.stats.recved += 1
        server.core.stats.packets_received += 1
    return answer(cmd, server, remote_ip)


def answer(cmd: str, server: Any, remote_ip: str) -> str | None:
    """The reply to a four-letter word, or None if `cmd` is not one (then it is a normal frame). Its chunks
    count as packets sent, as ZooKeeper's (after the answer is made: an answer does not count itself)."""
    if cmd not in KNOWN:
        return None
    allowed = server.cfg.four_letter_words
    if "*" not in allowed and cmd not in allowed:
        text = f"{cmd} is not executed because it is not in the whitelist.\n"
    else:
        fn = _COMMANDS.get(cmd)
        text = fn(server) if fn else ""
    server.core.stats.packets_sent += -(-len(text) // _ANSWER_CHUNK_CHARS)
    return text


def java_avg(total: int, count: int) -> float:
    """AvgMinMaxCounter.getAvg: the mean rounded half-up to 4 places (of the exact double, as BigDecimal does)."""
    if not count:
        return 0.0
    return float(Decimal(total / count).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def java_double(x: float) -> str:
    """Double.toString: the shortest digits that read back as x, in scientific notation below 10^-3 and from
    10^7 (Java's "1.0E-4" where Python says "0.0001")."""
    if x == 0 or 1e-3 <= abs(x) < 1e7:
        r = repr(float(x))
        return r if "." in r or "e" in r or "n" in r else r + ".0"
    sign, digits, exp = Decimal(repr(float(x))).normalize().as_tuple()
    assert isinstance(exp, int)
    mantissa = f"{digits[0]}." + ("".join(map(str, digits[1:])) or "0")
    return f"{'-' if sign else ''}{mantissa}E{exp + len(digits) - 1}"


def java_date(ms: int) -> str:
    """java.util.Date.toString() in UTC: 'Tue Nov 24 23:52:25 UTC 2026'."""
    return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(ms / 1000))


def _hex(v: int) -> str:
    return f"{v & 0xFFFFFFFFFFFFFFFF:x}"


def _srvr_lines(server: Any) -> str:
    core = server.core
    st = core.stats
    lat = st.latency
    return (
        f"Latency min/avg/max: {lat.min_ms}/{java_double(java_avg(lat.total_ms, lat.count))}/{lat.max_ms}\n"
        f"Received: {st.packets_received}\n"
        f"Sent: {st.packets_sent}\n"
        f"Connections: {len(core.conns)}\n"
        f"Outstanding: {st.outstanding}\n"
        f"Zxid: 0x{_hex(core.tree.last_zxid)}\n"
        f"Mode: {getattr(server, 'mode', 'standalone')}\n"
        f"Node count: {core.tree.node_count() + 1}\n"  # ZooKeeper's map holds the root twice ("" and "/")
    ) + _proposal_sizes(server)


def _proposal_sizes(server: Any) -> str:
    sizes = getattr(server, "proposal_sizes", None)
    if sizes is None:
        return ""
    last, lo, hi = sizes()
    return f"Proposal sizes last/min/max: {last}/{lo}/{hi}\n"


def _version_lines(server: Any) -> str:
    ro = "READ-ONLY mode; serving only read-only clients\n" if getattr(server, "mode", "") == "read-only" else ""
    return f"Zookeeper version: {VERSION}\n{ro}"


def srvr(server: Any) -> str:
    return _version_lines(server) + _srvr_lines(server)


def conn_interest_and_queued(conn: Any, core: Any) -> tuple[int, int]:
    """A connection's interest ops (reads off for one serving a 4lw) and the requests it is owed."""
    if conn.session is None:
        return 0, 0
    return 1, len(core.queues.get(conn.session, ()))


def _conn_line(conn: Any, core: Any, brief: bool) -> str:
    """ServerCnxn.dumpConnectionInfo."""
    st = conn.stats
    interest, queued = conn_interest_and_queued(conn, core)
    line = f" /{conn.remote_ip}:{st.remote_port}[{interest}](queued={queued},recved={st.recved},sent={st.sent}"
    if not brief and conn.session is not None and conn.handshake_done:
        s = core.sessions.get(conn.session)
        lat = st.latency
        line += (f",sid=0x{_hex(conn.session)},lop={st.last_op},est={st.established_ms},"
                 f"to={s.timeout_ms if s else 0}")
        if st.last_cxid >= 0:
            line += f",lcxid=0x{_hex(st.last_cxid)}"
        line += (f",lzxid=0x{_hex(st.last_zxid)},lresp={st.last_resp_ms},llat={lat.last_ms},"
                 f"minlat={lat.min_ms},avglat={int(lat.avg())},maxlat={lat.max_ms}")
    return line + ")\n"


def stat(server: Any) -> str:
    core = server.core
    out = [_version_lines(server), "Clients:\n"]
    out.extend(_conn_line(c, core, brief=True) for c in core.conns.values())
    out.append("\n")
    out.append(_srvr_lines(server))
    return "".join(out)


def cons(server: Any) -> str:
    core = server.core
    return "".join(_conn_line(c, core, brief=False) for c in core.conns.values()) + "\n"


def ruok(server: Any) -> str:
    return "imok"


def isro(server: Any) -> str:
    return "ro" if getattr(server, "mode", "") == "read-only" else "rw"


def _dir_size(path) -> int:
    try:
        return sum(e.stat().st_size for e in os.scandir(path) if e.is_file())
    except OSError:
        return 0


def conf(server: Any) -> str:
    cfg = server.cfg
    lines = [
        f"clientPort={cfg.client_port or -1}",  # -1: no plain port (secureClientPort only)
        f"secureClientPort={cfg.secure_client_port or -1}",
        f"dataDir={cfg.snap_dir}",
        f"dataDirSize={_dir_size(cfg.snap_dir)}",
        f"dataLogDir={cfg.log_dir}",
        f"dataLogSize={_dir_size(cfg.log_dir)}",
        f"tickTime={cfg.tick_time_ms}",
        f"maxClientCnxns={cfg.max_client_cnxns}",
        f"minSessionTimeout={cfg.min_session_timeout_ms}",
        f"maxSessionTimeout={cfg.max_session_timeout_ms}",
        "clientPortListenBacklog=-1",
    ]
    mode = getattr(server, "mode", "standalone")
    me = next((s for s in cfg.servers if s.id == cfg.my_id), None)
    if mode == "standalone" or me is None:
        return "\n".join([*lines, "serverId=0"]) + "\n"
    # QuorumZooKeeperServer.dumpConf (ReadOnlyZooKeeperServer's stops before the membership)
    lines += [f"serverId={me.id}", f"initLimit={cfg.init_limit}", f"syncLimit={cfg.sync_limit}", "electionAlg=3",
              f"electionPort={me.election_port}", f"quorumPort={me.quorum_port}", f"peerType={int(me.observer)}"]
    text = "\n".join(lines) + "\n"
    if mode != "read-only":
        text += "membership: \n" + (getattr(server, "quorum_config", None) or quorum_config_text(cfg))
    return text


def environment() -> list[tuple[str, str]]:
    """ZooKeeper's Environment.list(), for this process (Python's where Java's would be)."""
    return [
        ("zookeeper.version", VERSION),
        ("host.name", platform.node()),
        ("python.version", sys.version.split()[0]),
        ("python.implementation", platform.python_implementation()),
        ("os.name", platform.system()),
        ("os.arch", platform.machine()),
        ("os.version", platform.release()),
        ("user.name", os.environ.get("USER", "")),
        ("user.dir", os.getcwd()),
        ("process.pid", str(os.getpid())),
    ]


def envi(server: Any) -> str:
    return "Environment:\n" + "".join(f"{k}={v}\n" for k, v in environment())


def mntr_rows(server: Any, quotas: bool = True) -> list[tuple[str, Any]]:
    """mntr's rows, ZooKeeper's names and order: the 4lw prints them, the admin server's monitor and the
    Prometheus exporter serve them too (the exporter labels the quota rows instead: `quotas=False`)."""
    core = server.core
    st = core.stats
    tree = core.tree
    rows: list[tuple[str, Any]] = [
        ("zk_version", VERSION),
        ("zk_server_state", getattr(server, "mode", "standalone")),
        ("zk_ephemerals_count", sum(len(v) for v in tree.ephemerals.values())),
        ("zk_num_alive_connections", len(core.conns)),
        ("zk_avg_latency", java_avg(st.latency.total_ms, st.latency.count)),
        ("zk_outstanding_requests", st.outstanding),
        ("zk_znode_count", tree.node_count() + 1),
        ("zk_global_sessions", len(core.sessions)),
        ("zk_local_sessions", 0),
        ("zk_packets_sent", st.packets_sent),
        ("zk_packets_received", st.packets_received),
        ("zk_watch_count", tree.watch_count()),
        ("zk_min_latency", st.latency.min_ms),
        ("zk_max_latency", st.latency.max_ms),
        ("zk_approximate_data_size", tree.approximate_data_size),
        ("zk_open_file_descriptor_count", _open_fds()),
        ("zk_max_file_descriptor_count", _max_fds()),
        ("zk_uptime", int((time.time() - server.started_at) * 1000)),
    ]
    ensemble = getattr(server, "ensemble_stats", None)
    if ensemble is not None:  # an ensemble member's rows: a leader's learners, a learner's counts
        rows += list(ensemble().items())
    if quotas:
        rows += quota_rows(core)
    return rows


def quota_rows(core: Any) -> list[tuple[str, int]]:
    """ZooKeeper's per-namespace quota gauge sets and error counter set as its metrics dump names them in
    mntr (`<namespace>_<metric>`, zk_ prefixed): one row per namespace with a quota, and one per namespace
    that had a write refused."""
    rows = [(f"zk_{ns}_{name}", v) for name, values in quota.namespace_metrics(core.tree).items()
            for ns, v in sorted(values.items())]
    exceeded = getattr(core, "quota_exceeded", {})
    rows += [(f"zk_{ns}_{quota.EXCEEDED}", n) for ns, n in sorted(exceeded.items())]
    return rows


def mntr(server: Any) -> str:
    return "".join(f"{k}\t{java_double(v)}\n" if isinstance(v, float) else f"{k}\t{v}\n" for k, v in mntr_rows(server))


def _open_fds() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return -1


def _max_fds() -> int:
    import resource

    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def srst(server: Any) -> str:
    server.core.stats.reset()
    return "Server stats reset.\n"


def crst(server: Any) -> str:
    for c in server.core.conns.values():
        c.stats.reset()
    return "Connection stats reset.\n"


def _watch_sessions(tree) -> dict[int, set[str]]:
    by_session: dict[int, set[str]] = {}
    for table in (tree.data_watches,):  # ZooKeeper's wchc / wchp / wchs report the data watch table
        for sid, paths in table.by_session.items():
            by_session.setdefault(sid, set()).update(paths)
    return by_session


def wchs(server: Any) -> str:
    tree = server.core.tree
    by_session = _watch_sessions(tree)
    paths = {p for ps in by_session.values() for p in ps}
    total = sum(len(ps) for ps in by_session.values())
    return f"{len(by_session)} connections watching {len(paths)} paths\nTotal watches:{total}\n"


def wchc(server: Any) -> str:
    out = []
    for sid, paths in sorted(_watch_sessions(server.core.tree).items()):
        out.append(f"0x{_hex(sid)}\n")
        out.extend(f"\t{p}\n" for p in sorted(paths))
    return "".join(out) + "\n"


def watchers_by_path(tree) -> dict[str, set[int]]:
    """wchp's table: each watched path and the sessions watching it."""
    by_path: dict[str, set[int]] = {}
    for sid, paths in _watch_sessions(tree).items():
        for p in paths:
            by_path.setdefault(p, set()).add(sid)
    return by_path


def wchp(server: Any) -> str:
    by_path = watchers_by_path(server.core.tree)
    out = []
    for p in sorted(by_path):
        out.append(f"{p}\n")
        out.extend(f"\t0x{_hex(sid)}\n" for sid in sorted(by_path[p]))
    return "".join(out) + "\n"


def dump(server: Any) -> str:
    core = server.core
    buckets: dict[int, list[int]] = {}
    for s in core.sessions.sessions.values():
        buckets.setdefault(s.expire_at_ms, []).append(s.id)
    out = ["SessionTracker dump:\n", f"Session Sets ({len(buckets)})/({len(core.sessions)}):\n"]
    for at in sorted(buckets):
        out.append(f"{len(buckets[at])} expire at {java_date(at)}:\n")
        out.extend(f"\t0x{_hex(sid)}\n" for sid in sorted(buckets[at]))
    out.append("ephemeral nodes dump:\n")
    out.append(f"Sessions with Ephemerals ({len(core.tree.ephemerals)}):\n")
    for sid, paths in sorted(core.tree.ephemerals.items()):
        out.append(f"0x{_hex(sid)}:\n")
        out.extend(f"\t{p}\n" for p in sorted(paths))
    # ZooKeeper's connection expiry queue: buckets of sessionlessCnxnTimeout, a connection due one
    # session timeout (or that timeout, before it has a session) after its last activity.
    conns: dict[int, list[str]] = {}
    interval = server.cfg.sessionless_cnxn_timeout_ms
    for c in core.conns.values():
        s = core.sessions.get(c.session) if c.session is not None else None
        timeout = s.timeout_ms if s is not None else interval
        at = ((max(c.stats.last_resp_ms, c.stats.established_ms) + timeout) // interval + 1) * interval
        conns.setdefault(at, []).append(f"\tip: /{c.remote_ip}:{c.stats.remote_port} sessionId: 0x{_hex(c.session or 0)}\n")
    out.append("Connections dump:\n")
    out.append(f"Connections Sets ({len(conns)})/({len(core.conns)}):\n")
    for at in sorted(conns):
        out.append(f"{len(conns[at])} expire at {java_date(at)}:\n")
        out.extend(conns[at])
    return "".join(out)


def dirs(server: Any) -> str:
    return f"datadir_size: {_dir_size(server.cfg.snap_dir)}\nlogdir_size: {_dir_size(server.cfg.log_dir)}\n"


_COMMANDS: dict[str, Callable[[Any], str]] = {
    "ruok": ruok, "srvr": srvr, "stat": stat, "conf": conf, "envi": envi, "mntr": mntr, "srst": srst,
    "crst": crst, "wchs": wchs, "wchc": wchc, "wchp": wchp, "dump": dump, "cons": cons, "isro": isro,
    "dirs": dirs,
}
