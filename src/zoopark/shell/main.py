"""`zoopark shell`: zkCli.sh's command line. Interactive (line editing, history kept in ~/.zoopark_history,
tab completion of commands and of znode paths, from the server) when stdin is a terminal; otherwise each line
of stdin is a command. `-c "cmd; cmd"` or a command after the options runs just that. The exit status is 0
when every command succeeded, 1 otherwise (zkCli's for a single command)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .commands import USAGE, Shell


class _Completer:
    """Commands first; then znode paths, the children of the typed path's parent, asked of the server."""

    def __init__(self, shell: Shell) -> None:
        self.shell = shell

    def get_completions(self, document, complete_event):
        from prompt_toolkit.completion import Completion

        text = document.text_before_cursor
        words = text.split()
        current = "" if text.endswith(" ") else (words[-1] if words else "")
        if len(words) <= 1 and not text.endswith(" "):
            for name in sorted(self.shell.commands):
                if name.startswith(current):
                    yield Completion(name, start_position=-len(current))
            return
        if not current.startswith("/") or self.shell.client is None or not self.shell.client.connected:
            return
        parent, _, prefix = current.rpartition("/")
        try:
            children = self.shell.client.get_children(parent or "/")
        except Exception:  # noqa: BLE001 - no completion when the server cannot say
            return
        for child in sorted(children):
            if child.startswith(prefix):
                yield Completion(f"{parent}/{child}", start_position=-len(current))

    async def get_completions_async(self, document, complete_event):
        for c in self.get_completions(document, complete_event):
            yield c


def _interactive(shell: Shell) -> int:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import Completer
    from prompt_toolkit.history import FileHistory

    class PathCompleter(_Completer, Completer):
        pass

    history = Path(os.environ.get("ZOOPARK_HISTORY", Path.home() / ".zoopark_history"))
    session: PromptSession = PromptSession(history=FileHistory(str(history)), completer=PathCompleter(shell),
                                           complete_while_typing=False)
    status = 0
    for n in range(10_000_000):
        state = "CONNECTED" if shell.client is not None and shell.client.connected else "CLOSED"
        try:
            line = session.prompt(f"[zk: {shell.server}({state}) {n}] ")
        except (EOFError, KeyboardInterrupt):
            break
        status = shell.run_line(line)
        if shell.done:
            break
    shell.close([])
    return status


def main(argv: list[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="zoopark shell", description="zkCli-compatible ZooKeeper shell")
    ap.add_argument("-server", default="127.0.0.1:2181", help="host:port[,host:port...] (default 127.0.0.1:2181)")
    ap.add_argument("-timeout", type=int, default=30000, help="session timeout in ms")
    ap.add_argument("-r", action="store_true", help="read-only: connect to a server in read-only mode too")
    ap.add_argument("-c", dest="commands", help='commands to run, separated by ";"')
    ap.add_argument("command", nargs=argparse.REMAINDER, help="one command and its arguments")
    args = ap.parse_args(argv)
    shell = Shell(sys.stdout, sys.stderr, timeout_s=args.timeout / 1000, read_only=args.r)
    try:
        shell.connect([args.server])
    except Exception as e:  # noqa: BLE001 - say it, as zkCli does, and let `connect` be typed
        sys.stderr.write(f"cannot connect to {args.server}: {e}\n")
        if args.commands or args.command or not sys.stdin.isatty():
            return 1
    if args.commands or args.command:
        import shlex

        lines = args.commands.split(";") if args.commands else [shlex.join(args.command)]
        status = max((shell.run_line(line) for line in lines), default=0)
        shell.close([])
        return status
    if not sys.stdin.isatty():
        status = 0
        for line in sys.stdin:
            status = max(status, shell.run_line(line))
            if shell.done:
                break
        shell.close([])
        return status
    return _interactive(shell)


__all__ = ["main", "USAGE"]
