"""The `zoopark` command: server, purge, logdump, snapdump, status, shell, version."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from . import __version__
from .config import ConfigError, load_config
from .logs import TEXT_FORMAT


def _server(args: argparse.Namespace) -> int:
    from .logs import setup

    setup(args.log_level, args.log_format, args.log_file, args.log_max_mb, args.log_backups)
    try:
        cfg = load_config(args.config)
    except ConfigError as e:
        print(f"zoopark: invalid configuration {args.config}: {e}", file=sys.stderr)
        return 2
    from . import _build
    from .persist.recovery import RecoveryError
    from .persist.txnlog import CorruptLog
    from .runtime.server import run_server

    logging.getLogger("zoopark.server").info("core: %s", _build.RUNNING)  # compiled, or pure and why

    try:
        run_server(cfg)
    except (RecoveryError, CorruptLog) as e:
        logging.getLogger("zoopark.server").critical("cannot start: %s", e)
        return 3
    return 0


def _dirs(args: argparse.Namespace) -> tuple[Path, Path]:
    """(snapshot dir, log dir) from --config or from the positional directories (with or without version-2)."""
    if args.config:
        cfg = load_config(args.config)
        return cfg.snap_dir, cfg.log_dir

    def v2(d: str) -> Path:
        p = Path(d)
        return p if p.name == "version-2" else p / "version-2"
    if not args.dirs:
        raise ConfigError("give --config zoo.cfg, or dataLogDir [snapDir]")
    log_dir = v2(args.dirs[0])
    return (v2(args.dirs[1]) if len(args.dirs) > 1 else log_dir), log_dir


def _purge(args: argparse.Namespace) -> int:
    from .persist.purge import MIN_RETAIN, purge

    logging.basicConfig(level=logging.WARNING, format=TEXT_FORMAT)
    if args.n < MIN_RETAIN:
        print(f"zoopark purge: -n must be at least {MIN_RETAIN}", file=sys.stderr)
        return 2
    try:
        snap_dir, log_dir = _dirs(args)
    except ConfigError as e:
        print(f"zoopark purge: {e}", file=sys.stderr)
        return 2
    result = purge(snap_dir, log_dir, args.n, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    for p in result.removed:
        print(f"{verb} {p}")
    print(f"kept {len(result.kept_snapshots)} snapshots and {len(result.kept_logs)} txn logs; "
          f"{verb} {len(result.removed)} files")
    return 0


def _dump(command: str, path: str, run: Callable[[], object], errors: tuple[type[Exception], ...]) -> int:
    """A dump: its output, or one line naming the file and what is wrong with it (exit 1)."""
    try:
        run()
    except BrokenPipeError:
        raise  # `... | head`: main() handles it
    except (OSError, *errors) as e:
        print(f"zoopark {command}: {path}: {e}", file=sys.stderr)
        return 1
    return 0


def _logdump(args: argparse.Namespace) -> int:
    from .persist.txnlog import CorruptLog
    from .tools.dump import dump_log

    return _dump("logdump", args.file, lambda: dump_log(Path(args.file), args.json), (CorruptLog,))


def _snapdump(args: argparse.Namespace) -> int:
    from .core.tree.snapshot import SnapshotError
    from .tools.dump import dump_snapshot

    return _dump("snapdump", args.file, lambda: dump_snapshot(Path(args.file), args.json, args.data),
                 (SnapshotError,))


def _shell(args: argparse.Namespace) -> int:
    from .shell.main import main as shell_main

    return shell_main(args.rest)


def _status(args: argparse.Namespace) -> int:
    from .tools.status import main as status_main

    return status_main(args.servers, args.json, args.timeout)


def _version(args: argparse.Namespace) -> int:
    print(f"zoopark {__version__} (Apache ZooKeeper 3.8 protocol)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="zoopark", description="A coordination service speaking ZooKeeper 3.8.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("server", help="run a server")
    s.add_argument("config", nargs="?", default="conf/zoo.cfg", help="zoo.cfg (default: conf/zoo.cfg)")
    s.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    s.add_argument("--log-format", default="text", choices=["text", "json"], help="json: one object per line")
    s.add_argument("--log-file", help="log to this file, rotated by size (default: stderr)")
    s.add_argument("--log-max-mb", type=float, default=64, help="rotate the log file at this size")
    s.add_argument("--log-backups", type=int, default=10, help="rotated log files to keep")
    s.set_defaults(func=_server)
    pg = sub.add_parser("purge", help="keep the N newest snapshots and the txn logs they need (PurgeTxnLog)")
    pg.add_argument("dirs", nargs="*", metavar="dataLogDir [snapDir]")
    pg.add_argument("-c", "--config", help="take the directories from this zoo.cfg")
    pg.add_argument("-n", type=int, default=3, help="snapshots to keep (at least 3, the default)")
    pg.add_argument("--dry-run", action="store_true", help="only list what would be removed")
    pg.set_defaults(func=_purge)
    ld = sub.add_parser("logdump", help="print the txns of a txn log file")
    ld.add_argument("file")
    ld.add_argument("--json", action="store_true", help="one JSON object per txn")
    ld.set_defaults(func=_logdump)
    sd = sub.add_parser("snapdump", help="print the sessions and znodes of a snapshot file")
    sd.add_argument("file")
    sd.add_argument("--json", action="store_true", help="one JSON object per znode")
    sd.add_argument("--data", action="store_true", help="include each znode's data")
    sd.set_defaults(func=_snapdump)
    sh = sub.add_parser("shell", help="a zkCli-compatible shell (zoopark shell -server host:port [cmd args])",
                        add_help=False)
    sh.add_argument("rest", nargs=argparse.REMAINDER)
    sh.set_defaults(func=_shell)
    st = sub.add_parser("status", help="an ensemble at a glance: role, zxid, epoch, connections, lag")
    st.add_argument("servers", help="host:port,host:port,... (client ports)")
    st.add_argument("--json", action="store_true", help="one JSON object per server")
    st.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for each server")
    st.set_defaults(func=_status)
    v = sub.add_parser("version", help="print the version")
    v.set_defaults(func=_version)
    return p


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "server": _server, "purge": _purge, "logdump": _logdump, "snapdump": _snapdump, "status": _status,
    "shell": _shell,
    "version": _version,
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["shell"]:  # zkCli's single-dash options (-server, -timeout) are the shell's own
        from .shell.main import main as shell_main

        return shell_main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # `zoopark logdump ... | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
