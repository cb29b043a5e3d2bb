"""zkCli 3.8's `config` and `reconfig` on kazoo (GetConfigCommand, ReconfigCommand): the same options, the same
request, the same lines on the same streams (CliWrapperException's messages for the server's refusals)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TextIO

from kazoo.client import KazooClient
from kazoo.exceptions import (
    BadArgumentsError,
    BadVersionError,
    KazooException,
    NewConfigNoQuorumError,
    NoAuthError,
    ReconfigDisabledError,
    ReconfigInProcessError,
)

from .. import javaprops
from ..config import Config, ConfigError, check_participants, parse_servers
from ..quorumconfig import member_order, quorum_config_text
from .quota import CliError, _cli

USAGE = {
    "config": "config [-c] [-w] [-s]",
    "reconfig": "reconfig [-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | "
                "[-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]",
}
# CliWrapperException.getMessage for what a reconfig may be refused with (the request has no path: "")
_REFUSALS: list[tuple[type[KazooException], str]] = [
    (NoAuthError, "Insufficient permission : "),
    (BadArgumentsError, "Arguments are not valid : "),
    (BadVersionError, "version No is not valid : "),
    (ReconfigInProcessError, "Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)"),
    (NewConfigNoQuorumError, "No quorum of new config is connected and up-to-date with the leader of last "
                             "committed config - try invoking reconfiguration after new servers are connected "
                             "and synced"),
    (ReconfigDisabledError, "KeeperErrorCode = Reconfig is disabled"),
]


class Usage(Exception):
    """The command's usage line is the whole complaint (CliParseException(getUsageStr()))."""


def parse_options(args: list[str], flags: set[str], valued: set[str]) -> dict[str, str | bool]:
    """commons-cli's DefaultParser for single-dash options with whole-word names (-s, -file): the first value
    of a repeated option counts; words that are not options are ignored, as the commands ignore them."""
    opts: dict[str, str | bool] = {}
    it = iter(args)
    for a in it:
        if not a.startswith("-") or len(a) < 2:
            continue
        name = a.lstrip("-")
        if name in flags:
            opts.setdefault(name, True)
        elif name in valued:
            value = next(it, None)
            if value is None:
                raise _cli("MissingArgumentException", f"Missing argument for option: {name}")
            opts.setdefault(name, value)
        else:
            raise _cli("UnrecognizedOptionException", f"Unrecognized option: {a}")
    return opts


def client_config_str(config_text: str) -> str:
    """ConfigUtils.getClientConfigStr: `<version> host:port,host:port,...` of the members' client addresses,
    in java.util.Properties' order (a member without one leaves its place empty)."""
    version, hosts = "", []
    for key, value in javaprops.entries(config_text):
        key, value = key.strip(), value.strip()
        if key == "version":
            version = value
        if not key.startswith("server."):
            continue
        try:
            spec = parse_servers([(f"server.{len(hosts)}", value)]).popitem()[1]
        except ConfigError:
            continue
        hosts.append(f"{spec.client_address or '0.0.0.0'}:{spec.client_port}" if spec.client_port else "")
    return f"{version} {','.join(hosts)}"


def members_of_file(path: str) -> str:
    """ReconfigCommand's -file: the file's server lines checked as QuorumPeerConfig.parseDynamicConfig checks
    them, sent as QuorumMaj.toString prints them."""
    try:
        text = Path(path).read_text(encoding="latin-1")
    except OSError as e:
        raise CliError(f"Error processing {path}{path} ({e.strerror})") from None
    items = [(k.strip(), v.strip()) for k, v in javaprops.load(text)]
    try:
        for key, _ in items:
            if not key.startswith(("server.", "group", "weight")) and key != "version":
                raise ConfigError(f"Unrecognised parameter: {key}")
        servers = parse_servers([(k, v) for k, v in items if k.startswith("server.")])
        check_participants(servers, standalone_enabled=True, warnings=False)  # zkCli logs nowhere
        version = int(dict(items).get("version", "0"), 16)
    except (ConfigError, ValueError) as e:
        raise CliError(f"Error processing {path}{str(e).split(': ', 1)[-1]}") from None
    cfg = Config(data_dir=Path("."), data_log_dir=Path("."), servers=tuple(servers.values()),
                 member_order=member_order([k for k, _ in items]), config_version=version)
    return quorum_config_text(cfg)


class ReconfigCommands:
    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out, self.err = out, err

    def config(self, zk: KazooClient, args: list[str], watcher) -> None:
        opts = parse_options(args, {"s", "w", "c"}, set())
        data, st = zk.get("/zookeeper/config", watch=watcher if opts.get("w") else None)
        text = "null" if data is None else data.decode()
        self.out.write((client_config_str(text) if opts.get("c") else text) + "\n")
        if opts.get("s"):
            from .commands import format_stat

            self.out.write(format_stat(st))

    def reconfig(self, zk: KazooClient, args: list[str]) -> None:
        opts = parse_options(args, {"s"}, {"v", "file", "members", "add", "remove"})
        non_incremental = "file" in opts or "members" in opts
        if not non_incremental and "add" not in opts and "remove" not in opts:
            raise Usage()
        version = -1
        if "v" in opts:
            if not re.fullmatch(r"[+-]?[0-9a-fA-F]+", str(opts["v"])):
                raise CliError("-v must be followed by a long (configuration version)")
            version = int(str(opts["v"]), 16)
        if non_incremental and ("add" in opts or "remove" in opts):
            raise CliError("Can't use -file or -members together with -add or -remove (mixing incremental and "
                           "non-incremental modes is not allowed)")
        if "file" in opts and "members" in opts:
            raise CliError("Can't use -file and -members together (conflicting non-incremental modes)")
        joining, leaving, members = (str(opts[k]).lower() if k in opts else None for k in ("add", "remove", "members"))
        if "file" in opts:
            members = members_of_file(str(opts["file"]))
        try:
            data, st = zk.reconfig(joining, leaving, members, from_config=version)
        except KazooException as e:
            for kind, message in _REFUSALS:
                if isinstance(e, kind):
                    raise CliError(message) from None
            raise
        self.out.write(f"Committed new configuration:\n{data.decode()}\n")
        if opts.get("s"):
            from .commands import format_stat

            self.out.write(format_stat(st))


__all__ = ["USAGE", "ReconfigCommands", "Usage", "client_config_str", "members_of_file", "parse_options"]
