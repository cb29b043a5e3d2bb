"""Ensembles with dynamic reconfiguration enabled, of ZooKeeper members, zoopark members or both, for the
reconfig tests: each member's zoo.cfg as an operator writes it (reconfigEnabled, the super user's digest, the
server lines in zoo.cfg or in a dynamicConfigFile), kazoo clients authenticated as super, zkCli scripts."""

from __future__ import annotations

import contextlib
import re
import subprocess
from collections.abc import Iterator

from kazoo.client import KazooClient
from kazoo.exceptions import ConnectionLoss, SessionExpiredError

from zoopark.core.tree.acl import digest_of

from procs import (
    ServerProcess,
    close_clients,
    ensemble_config,
    free_port,
    member,
    wait_settled,
    wait_until,
)
from references import ZKCLI

SUPER_AUTH = ("digest", "super:test")  # the user kazoo's own reconfig tests authenticate as
SUPER_DIGEST = digest_of("super:test")


def reconfig_settings(reconfig_enabled: bool = True) -> dict[str, str]:
    return {"reconfigEnabled": str(reconfig_enabled).lower(), "DigestAuthenticationProvider.superDigest": SUPER_DIGEST}


def server_line(sid: int, m: ServerProcess, role: str = "participant") -> str:
    """The member's line as reconfig -add takes it: quorum and election ports, role, client address."""
    qp, ep = m.quorum_ports
    return f"server.{sid}=127.0.0.1:{qp}:{ep}:{role};127.0.0.1:{m.port}"


def new_member(cls: type[ServerProcess], sid: int, others: dict[int, ServerProcess], extra: dict[str, str] | None = None,
               role: str = "participant", standalone_enabled: bool | None = None) -> ServerProcess:
    """A member (not started) whose dynamicConfigFile lists `others` and itself, each with its client address,
    as an operator prepares a server that is to join by reconfig -add (ZooKeeper's documented way)."""
    settings = {"tickTime": "500", "initLimit": "10", "syncLimit": "5", **reconfig_settings(), **(extra or {})}
    if standalone_enabled is not None:
        settings["standaloneEnabled"] = str(standalone_enabled).lower()
    m = member(cls, sid, settings)
    m.quorum_ports = (free_port(), free_port())
    m.sid = sid
    lines = [server_line(i, o) for i, o in sorted(others.items())] + [server_line(sid, m, role)]
    dynamic = m.tmp / "zoo.cfg.dynamic"
    dynamic.write_text("".join(line + "\n" for line in lines))
    m.extra["dynamicConfigFile"] = str(dynamic)
    for key in ("clientPort", "clientPortAddress"):  # the server line gives the client address
        m.extra[key] = None
    return m


def start_ensemble(kinds: dict[int, type[ServerProcess]], extra: dict[str, str] | None = None,
                   observers=(), reconfig_enabled: bool = True) -> list[ServerProcess]:
    """Members `kinds` ({id: ZooKeeperProcess or ZooParkProcess}) with their server lines in zoo.cfg (no client
    part: clientPort= gives it), started together and settled; each has .sid and .quorum_ports."""
    ports = {i: (free_port(), free_port()) for i in kinds}
    settings = {**ensemble_config(ports, observers=observers), **reconfig_settings(reconfig_enabled), **(extra or {})}
    members = []
    for i, cls in kinds.items():
        m = member(cls, i, settings)
        m.quorum_ports, m.sid = ports[i], i
        members.append(m)
    return start_together(members)


def dynamic_ensemble(kinds: dict[int, type[ServerProcess]]) -> list[ServerProcess]:
    """Members `kinds` (not started) whose zoo.cfg names a dynamic file listing them all with client addresses."""
    members = {sid: new_member(cls, sid, {}) for sid, cls in kinds.items()}
    text = "".join(server_line(i, o) + "\n" for i, o in members.items())
    for m in members.values():
        (m.tmp / "zoo.cfg.dynamic").write_text(text)
    return list(members.values())


def start_together(members: list[ServerProcess]) -> list[ServerProcess]:
    """Start the members at once, wait until each serves and one leads; on failure stop them all."""
    try:
        for m in members:
            m.start(wait=False)
        for m in members:
            m.wait_serving()
        wait_settled(members)
    except BaseException:
        stop_all(members)
        raise
    return members


def stop_all(members: list[ServerProcess]) -> None:
    for m in members:
        m.cleanup()


def hosts(members: list[ServerProcess]) -> str:
    return ",".join(m.hosts for m in members)


@contextlib.contextmanager
def super_client(members: list[ServerProcess], timeout: float = 30.0) -> Iterator[KazooClient]:
    """A kazoo client of the ensemble authenticated as super (only super may reconfig: /zookeeper/config is
    read-only to everyone else)."""
    zk = KazooClient(hosts=hosts(members), auth_data=[SUPER_AUTH], timeout=timeout)
    zk.start(timeout=60)
    try:
        yield zk
    finally:
        close_clients([zk])


def config_of(zk: KazooClient) -> tuple[dict[int, str], int]:
    """/zookeeper/config as {id: server line value} and its version, after a sync."""
    zk.sync("/zookeeper/config")
    text = zk.get("/zookeeper/config")[0].decode()
    servers, version = {}, -1
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.startswith("server."):
            servers[int(key[len("server."):])] = value
        elif key == "version":
            version = int(value, 16)
    return servers, version


def wait_members(zk: KazooClient, ids: set[int], timeout: float = 60.0) -> None:
    """Until /zookeeper/config lists exactly `ids` (asked again after a connection loss: the ensemble may be
    changing leaders)."""
    def listed() -> bool:
        try:
            return set(config_of(zk)[0]) == ids
        except (ConnectionLoss, SessionExpiredError):
            return False
    wait_until(f"/zookeeper/config lists {sorted(ids)}", listed, timeout)


def zkcli(port: int, script: str, auth: bool = True) -> tuple[str, str]:
    """zkCli.sh run on a script (after `addauth digest super:test` when auth), its output without the
    connection banner and watcher events, and its error output without the JVM's logging noise."""
    if auth:
        script = "addauth digest super:test\n" + script
    p = subprocess.run([ZKCLI, "-server", f"127.0.0.1:{port}"], input=script, capture_output=True, text=True,
                       timeout=180)
    out = re.sub(r"(?s)^.*?JLine support is (?:disabled|enabled)\n", "", p.stdout)
    out = re.sub(r"\nWATCHER::\n|\nWatchedEvent [^\n]*\n", "", out)
    err = "".join(ln + "\n" for ln in p.stderr.splitlines() if not ln.startswith("SLF4J"))
    return out, err


__all__ = ["SUPER_AUTH", "SUPER_DIGEST", "config_of", "dynamic_ensemble", "hosts", "new_member",
           "reconfig_settings", "server_line", "start_ensemble", "start_together", "stop_all", "super_client",
           "wait_members", "zkcli"]
