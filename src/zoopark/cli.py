"""The `zoopark` command: `zoopark server [zoo.cfg]`, `zoopark version`, more to come."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from . import __version__
from .config import ConfigError, load_config

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def _server(args: argparse.Namespace) -> int:
    logging.basicConfig(level=getattr(logging, args.log_level.upper()), format=LOG_FORMAT)
    try:
        cfg = load_config(args.config)
    except ConfigError as e:
        print(f"zoopark: invalid configuration {args.config}: {e}", file=sys.stderr)
        return 2
    from .runtime.server import run_server

    run_server(cfg)
    return 0


def _version(args: argparse.Namespace) -> int:
    print(f"zoopark {__version__} (Apache ZooKeeper 3.8 protocol)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="zoopark", description="A coordination service speaking ZooKeeper 3.8.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("server", help="run a server")
    s.add_argument("config", nargs="?", default="conf/zoo.cfg", help="zoo.cfg (default: conf/zoo.cfg)")
    s.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    s.set_defaults(func=_server)
    v = sub.add_parser("version", help="print the version")
    v.set_defaults(func=_version)
    return p


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"server": _server, "version": _version}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
